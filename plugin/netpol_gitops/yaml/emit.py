"""YAML and JSON out: documents as they came, generated objects in kustomize's block layout."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from netpol_gitops.yaml.document import Document


def document_text(doc: Document) -> str:
    """The document as it came, ready to follow a ``---`` line."""
    body = doc.text
    if body.startswith((" ", "\t")):
        body = body.lstrip(" \t")
        head = "--- "
    else:
        head = "---\n"
        body = body.lstrip("\n")
    if not body.endswith("\n"):
        body += "\n"
    return head + body


_PLAIN = re.compile(r"[A-Za-z0-9_/](?:[-A-Za-z0-9_./:]*[-A-Za-z0-9_./])?")


_NOT_PLAIN = re.compile(  # what a YAML 1.1 or 1.2 reader would take for a non-string
    r"^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|0[xXoObB][0-9a-fA-F_]+|"
    r"[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)|~|null|Null|NULL|true|True|TRUE|false|False|FALSE|"
    r"yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N|[0-9][0-9:_.]*|"
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*)$"  # timestamps (and anything that starts like one)
)


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    text = str(value)
    if _PLAIN.fullmatch(text) and not _NOT_PLAIN.fullmatch(text):
        return text
    return '"' + _ESCAPE.sub(_escape, text) + '"'


# YAML double-quoted escapes for what YAML may not hold raw (outside its printable set)
_ESCAPE = re.compile(r'["\\]|[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]')


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in '"\\':
        return "\\" + char
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _emit(value: Any, indent: str, out: list[str]) -> None:
    """Block-style YAML of plain data (dict, list, str, int, bool) in kustomize's layout."""
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{indent}{scalar(key)}:"
            if isinstance(item, dict | list) and item:
                out.append(head + "\n")
                _emit(item, indent + "  " if isinstance(item, dict) else indent, out)
            else:
                out.append(f"{head} {_flow_empty(item)}\n")
    else:
        for item in value:
            if isinstance(item, dict | list) and item:
                sub: list[str] = []
                _emit(item, indent + "  ", sub)
                first = sub[0]
                out.append(f"{indent}- {first[len(indent) + 2 :]}")
                out.extend(sub[1:])
            else:
                out.append(f"{indent}- {_flow_empty(item)}\n")


def _flow_empty(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)


def dump_objects(objects: Sequence[Any]) -> str:
    """Generated objects as a YAML stream, every document after a ``---`` line."""
    out: list[str] = []
    for obj in objects:
        out.append("---\n")
        if obj:
            _emit(obj, "", out)
        else:
            out.append("{}\n")
    return "".join(out)


def dump_block(value: Any, indent: str = "") -> str:
    """Block-style YAML of a mapping, or of a non-empty list whose "-" sit at ``indent``."""
    out: list[str] = []
    _emit(value, indent, out)
    return "".join(out)


def dump_json(objects: Sequence[Any]) -> str:
    return json.dumps(list(objects), indent=2, ensure_ascii=False) + "\n"
