"""Locations from nodes and from ruamel.yaml errors: a path through a node tree, a YAML error
as a located problem."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from netpol_gitops.errors import Problem
from netpol_gitops.model.location import Location


def locate(root: Node, path: Sequence[str | int]) -> tuple[Node, Node | None]:
    """Walk ``path`` through a node tree; stops at the deepest node that exists."""
    node, key_node = root, None
    for part in path:
        if isinstance(node, MappingNode) and isinstance(part, str):
            for k, v in node.value:
                if isinstance(k, ScalarNode) and k.value == part:
                    node, key_node = v, k
                    break
            else:
                return node, key_node
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node, key_node = node.value[part], None
        else:
            break
    return node, key_node


def yaml_problem(
    exc: YAMLError, source: str, line0: int = 0, col0: int = 0, text: str | None = None
) -> Problem:
    """A ruamel.yaml error as a located problem (offset by where the text starts)."""
    position = getattr(exc, "position", None)
    if text is not None and isinstance(position, int):  # a ReaderError: a character position
        line = text.count("\n", 0, position)
        col = position - (text.rfind("\n", 0, position) + 1)
        char = getattr(exc, "character", 0)
        code = char if isinstance(char, int) else ord(str(char)[:1] or "?")
        return Problem(
            Location(source, line0 + line + 1, col + 1, ""),
            f"invalid YAML: {getattr(exc, 'reason', 'unacceptable character')} "
            f"(character #x{code:04x})",
            rule="invalid-yaml",
        )
    if isinstance(exc, MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        if isinstance(exc, DuplicateKeyError):
            key = str(exc.problem).split('"')[1] if '"' in str(exc.problem) else "?"
            first = exc.context_mark
            message = f"duplicate key '{key}' in the mapping at line {line0 + first.line + 1}"
            return Problem(
                Location(source, line0 + mark.line + 1, _col(mark, col0), ""),
                message + " (YAML keys must be unique)",
                rule="invalid-yaml",
            )
        problem = str(exc.problem or "invalid YAML")
        context = f" ({exc.context})" if exc.context else ""
        return Problem(
            Location(source, line0 + mark.line + 1, _col(mark, col0), ""),
            f"invalid YAML: {problem}{context}",
            rule="invalid-yaml",
        )
    return Problem(Location(source), f"invalid YAML: {exc}", rule="invalid-yaml")


def _col(mark: Any, col0: int) -> int:
    return int((col0 if mark.line == 0 else 0) + mark.column + 1)


def refusal(source: str, mark: Any, message: str) -> Problem:
    return Problem(
        Location(source, mark.line + 1, mark.column + 1, ""), message, rule="invalid-yaml"
    )
