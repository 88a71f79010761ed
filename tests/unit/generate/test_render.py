"""Rules that hold for every input: deterministic, order-independent, idempotent, valid."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import kubernetes_validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from netpol_gitops.generate.render import Rendered, render
from netpol_gitops.model.intent import Config
from netpol_gitops.yaml.stream import read_documents
from tests.helpers import EXAMPLE, ROOT, cli
from tests.strategies import streams


def generated(out: str) -> list[dict[str, object]]:
    return [d for d in YAML(typ="safe").load_all(out) if d and d["kind"] == "NetworkPolicy"]


def rendered(text: str) -> Rendered:
    return render(read_documents([("<stdin>", text)]), Config())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.randoms())
def test_any_valid_input_renders_valid_idempotent_order_independent_output(
    docs: list[str], rnd: random.Random
) -> None:
    """The pure pipeline (the CLI over it is tested once, in test_golden)."""
    first = rendered("\n---\n".join(docs))
    for policy in first.generated:
        kubernetes_validate.validate(policy, "1.32", strict=True)
    output = first.yaml()
    assert generated(output) == first.generated  # the YAML says what was built
    assert rendered(output).yaml() == output  # idempotent on its own output
    shuffled = docs[:]
    rnd.shuffle(shuffled)
    assert rendered("\n---\n".join(shuffled)).generated == first.generated


def test_output_is_byte_identical_across_hash_seeds() -> None:
    outs = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-m", "netpol_gitops", "render", str(EXAMPLE)],
            capture_output=True,
            env=env,
            check=True,
            cwd=ROOT,
        )
        outs.add(done.stdout)
    assert len(outs) == 1


def test_directory_output_does_not_depend_on_file_creation_order() -> None:
    files = sorted(EXAMPLE.iterdir())
    outputs = set()
    for order in (files, files[::-1]):
        with tempfile.TemporaryDirectory() as tmp:
            for f in order:
                shutil.copy(f, Path(tmp) / f.name)
            outputs.add(cli("render", tmp).stdout)
    assert len(outputs) == 1
