"""Test-suite configuration: hypothesis profiles, and permanent skips kept out of collection.

Profiles (HYPOTHESIS_PROFILE; default `ci` under CI=true, else `dev`): `ci` 150 examples for the
properties that take the profile's count, `dev` 50 (quick local runs), `fuzz` 5,000 (a long
local hunt: `HYPOTHESIS_PROFILE=fuzz .venv/bin/python -m pytest tests/unit/yaml/test_hostile.py`).
Tests that set their own count keep it in every profile.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=150, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("fuzz", max_examples=5000, deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") == "true" else "dev")
)
