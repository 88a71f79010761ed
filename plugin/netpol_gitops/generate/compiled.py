"""The JSON Schemas of schemas/ compiled to Python closures that decide validity, once per process.

jsonschema's import alone (attrs, referencing, rpds, its format checkers) costs more than reading
a one-namespace app; every Namespace is validated, so start-up paid it whatever the input. The
closures here decide valid or invalid with Draft 2020-12 semantics for the keywords our schemas
use, read from the schemas themselves (they stay the source of truth); an invalid instance is
then explained by jsonschema itself (schemas.py), so every message stays jsonschema's. A schema
that uses a keyword or a reference this compiler does not implement raises Unsupported, and
jsonschema decides for it: nothing is ever skipped. tests/unit/generate/test_compiled.py proves
the closures agree with jsonschema on the golden and hostile inputs and on random instances.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable
from functools import cache
from typing import Any

Check = Callable[[Any], bool]

# Draft 2020-12 keywords jsonschema validates (Draft202012Validator.VALIDATORS; a test keeps the
# two in step) that are implemented below; any other keyword jsonschema ignores, as we do
IMPLEMENTED = frozenset(
    {
        "$ref",
        "additionalProperties",
        "allOf",
        "anyOf",
        "const",
        "enum",
        "if",
        "items",
        "maxItems",
        "maxLength",
        "maximum",
        "minItems",
        "minLength",
        "minimum",
        "not",
        "oneOf",
        "pattern",
        "properties",
        "propertyNames",
        "required",
        "type",
    }
)
NOT_IMPLEMENTED = frozenset(
    {
        "$dynamicRef",
        "contains",
        "dependentRequired",
        "dependentSchemas",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "format",
        "maxProperties",
        "minProperties",
        "multipleOf",
        "patternProperties",
        "prefixItems",
        "unevaluatedItems",
        "unevaluatedProperties",
        "uniqueItems",
        # change where references lead
        "$anchor",
        "$dynamicAnchor",
    }
)


class Unsupported(Exception):
    """A keyword or reference this compiler does not implement: jsonschema decides instead."""


@cache
def strict(pattern: str) -> re.Pattern[str]:
    """``pattern`` with a final ``$`` as ECMA-262 means it (the end of the string): Python's
    ``$`` also matches before a final newline, which let ``allow-web\n`` pass a name pattern."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Number) and not isinstance(x, bool)


TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "number": _is_number,
    "integer": lambda x: (
        (isinstance(x, int) and not isinstance(x, bool))
        or (isinstance(x, float) and x.is_integer())
    ),
}


def equal(one: Any, two: Any) -> bool:
    """jsonschema's equality: true and 1 differ, also inside lists and mappings."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list | tuple) and isinstance(two, list | tuple):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return len(one) == len(two) and all(k in two and equal(v, two[k]) for k, v in one.items())
    if isinstance(one, bool) or isinstance(two, bool):
        return False  # one is not two, and a bool equals only itself
    return bool(one == two)


def _all(checks: list[Check]) -> Check:
    if not checks:
        return lambda _x: True
    if len(checks) == 1:
        return checks[0]
    fixed = tuple(checks)

    def run(x: Any) -> bool:
        return all(c(x) for c in fixed)

    return run


class Compiler:
    """Compiles the schemas ``documents`` (URI -> schema) into checks, references included."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents
        self._memo: dict[tuple[str, str], Check] = {}

    def check(self, uri: str, pointer: str = "") -> Check:
        """The check of the sub-schema at ``pointer`` (a JSON pointer) of document ``uri``."""
        key = (uri, pointer)
        found = self._memo.get(key)
        if found is not None:
            return found
        made: list[Check] = []
        self._memo[key] = lambda x: made[0](x)  # noqa: PLW0108 - made[0] exists only later: a reference back to itself
        try:
            made.append(self._schema(uri, self._resolve(uri, pointer), root=not pointer))
        except Unsupported:
            del self._memo[key]
            raise
        self._memo[key] = made[0]
        return made[0]

    def _resolve(self, uri: str, pointer: str) -> Any:
        if uri not in self.documents:
            raise Unsupported(f"reference to {uri}")
        node = self.documents[uri]
        if not pointer:
            return node
        if not pointer.startswith("/") or "%" in pointer:
            raise Unsupported(f"pointer {pointer}")
        for part in pointer[1:].split("/"):
            step = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and step in node:
                node = node[step]
            elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
                node = node[int(step)]
            else:
                raise Unsupported(f"pointer {pointer} in {uri}")
        return node

    def _ref(self, uri: str, ref: str) -> Check:
        target, _, fragment = ref.partition("#")
        if target:
            if ":" in target or target.startswith("/"):
                raise Unsupported(f"reference {ref}")
            uri = uri.rsplit("/", 1)[0] + "/" + target
        return self.check(uri, fragment)

    def _schema(self, uri: str, schema: Any, root: bool = False) -> Check:
        if schema is True:
            return lambda _x: True
        if schema is False:
            return lambda _x: False
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        unknown = NOT_IMPLEMENTED.intersection(schema)
        if unknown or ("$id" in schema and not root):
            raise Unsupported(", ".join(sorted(unknown)) or "$id")
        return _all(
            [
                self._keyword(uri, schema, key, value)
                for key, value in schema.items()
                if key in IMPLEMENTED
            ]
        )

    def _keyword(self, uri: str, schema: dict[str, Any], key: str, value: Any) -> Check:  # noqa: PLR0912 - one branch per keyword
        sub = self._schema
        if key == "type":
            kinds = value if isinstance(value, list) else [value]
            if not all(isinstance(k, str) and k in TYPES for k in kinds):
                raise Unsupported(f"type {value!r}")
            preds = tuple(TYPES[k] for k in kinds)
            return preds[0] if len(preds) == 1 else lambda x: any(p(x) for p in preds)
        if key == "enum":
            if all(isinstance(v, str) for v in value):
                names = frozenset(value)
                return lambda x: isinstance(x, str) and x in names
            return lambda x: any(equal(v, x) for v in value)
        if key == "const":
            return lambda x: equal(x, value)
        if key == "properties":
            props = tuple((k, sub(uri, s)) for k, s in value.items())
            return lambda x: not isinstance(x, dict) or all(c(x[k]) for k, c in props if k in x)
        if key == "additionalProperties":
            known = frozenset(schema.get("properties", {}))
            if value is False:
                return lambda x: not isinstance(x, dict) or all(k in known for k in x)
            extra = sub(uri, value)
            return lambda x: (
                not isinstance(x, dict) or all(extra(v) for k, v in x.items() if k not in known)
            )
        if key == "required":
            names_ = tuple(value)
            return lambda x: not isinstance(x, dict) or all(k in x for k in names_)
        if key == "items":
            each = sub(uri, value)
            return lambda x: not isinstance(x, list) or all(each(i) for i in x)
        if key == "propertyNames":
            name = sub(uri, value)
            return lambda x: not isinstance(x, dict) or all(name(k) for k in x)
        if key in ("minItems", "maxItems", "minLength", "maxLength"):
            kind = list if key.endswith("Items") else str
            n = value
            if key.startswith("min"):
                return lambda x: not isinstance(x, kind) or len(x) >= n
            return lambda x: not isinstance(x, kind) or len(x) <= n
        if key in ("minimum", "maximum"):
            bound = value
            if key == "minimum":
                return lambda x: not _is_number(x) or not x < bound
            return lambda x: not _is_number(x) or not x > bound
        if key == "pattern":
            rx = strict(value)
            return lambda x: not isinstance(x, str) or rx.search(x) is not None
        if key in ("anyOf", "oneOf", "allOf"):
            subs = tuple(sub(uri, s) for s in value)
            if key == "anyOf":
                return lambda x: any(c(x) for c in subs)
            if key == "allOf":
                return lambda x: all(c(x) for c in subs)
            return lambda x: sum(1 for c in subs if c(x)) == 1
        if key == "not":
            negated = sub(uri, value)
            return lambda x: not negated(x)
        if key == "if":
            cond = sub(uri, value)
            then = sub(uri, schema["then"]) if "then" in schema else None
            other = sub(uri, schema["else"]) if "else" in schema else None
            return lambda x: (then is None or then(x)) if cond(x) else (other is None or other(x))
        if key == "$ref":
            if not isinstance(value, str):
                raise Unsupported(f"$ref {value!r}")
            return self._ref(uri, value)
        raise Unsupported(key)  # pragma: no cover - IMPLEMENTED lists only the keys above
