"""Escaping for the places output lands: GitHub workflow commands, markdown cells and fences."""

from __future__ import annotations

import re

from netpol_gitops.errors import printable


def fence(text: str, lang: str = "") -> str:
    """A code block no content can close early: the fence is longer than any backtick run."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text}{'' if text.endswith(chr(10)) else chr(10)}{ticks}\n"


def code_cell(text: str) -> str:
    return "`" + printable(text).replace("`", "'").replace("|", "\\|") + "`"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
