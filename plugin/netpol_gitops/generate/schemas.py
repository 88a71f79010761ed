"""The packaged JSON Schemas (the wheel ships schemas/ as netpol_gitops/schemas)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netpol_gitops.errors import Problem, did_you_mean
from netpol_gitops.generate.compiled import Check, Compiler, Unsupported, strict
from netpol_gitops.model.location import Locator

if TYPE_CHECKING:  # jsonschema is imported only to explain an invalid instance (see Validator)
    from jsonschema import Draft202012Validator, ValidationError

NAMES = ("annotations", "flows", "config")
_BASE = "https://netpol-gitops.io/schemas/"


def _schema_dir() -> Path:
    packaged = Path(__file__).parent.parent / "schemas"  # the package's folder, as resources.files
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "schemas"  # a source checkout


@cache
def load(name: str) -> dict[str, Any]:
    """The schema ``name`` (one of NAMES) as a dict."""
    if name not in NAMES:
        raise KeyError(name)
    data: dict[str, Any] = json.loads((_schema_dir() / f"{name}.json").read_text("utf-8"))
    return data


@cache
def _compiler() -> Compiler:
    return Compiler({_BASE + f"{name}.json": load(name) for name in NAMES})


@cache
def _strict_validator() -> Any:
    """Draft 2020-12 with ``pattern`` as ECMA-262 reads it (compiled.strict)."""
    from jsonschema import Draft202012Validator, ValidationError, validators  # noqa: PLC0415

    def pattern(
        _validator: Any, pattern: str, instance: Any, _schema: Any
    ) -> Iterator[ValidationError]:
        if isinstance(instance, str) and not strict(pattern).search(instance):
            yield ValidationError(f"{instance!r} does not match {pattern!r}")

    return validators.extend(  # type: ignore[no-untyped-call]  # jsonschema's own API
        Draft202012Validator, {"pattern": pattern}
    )


class Validator:
    """The schema ``name``, or its sub-schema at a JSON pointer: validity decided by the schema
    compiled to Python once (compiled.py), or by jsonschema where that compiler does not reach;
    an invalid instance is explained by jsonschema, so every message is the one it gives."""

    def __init__(self, name: str, pointer: str) -> None:
        self.name, self.pointer = name, pointer
        try:
            self._check: Check | None = _compiler().check(_BASE + f"{name}.json", pointer)
        except Unsupported:
            self._check = None

    @property
    def compiled(self) -> bool:
        """Whether validity is decided by the compiled form (else by jsonschema alone)."""
        return self._check is not None

    def is_valid(self, instance: Any) -> bool:
        if self._check is not None:
            return self._check(instance)
        return bool(self.jsonschema().is_valid(instance))

    @cache  # noqa: B019 - validators live as long as the process (one per schema and pointer)
    def jsonschema(self) -> Draft202012Validator:
        """jsonschema's validator of the same schema: the reference, and the explanations."""
        from referencing import Registry, Resource  # noqa: PLC0415

        registry: Registry[Any] = Registry().with_resources(
            (_BASE + f"{name}.json", Resource.from_contents(load(name))) for name in NAMES
        )
        schema: dict[str, Any] = load(self.name)
        if self.pointer:
            schema = {"$ref": f"{_BASE}{self.name}.json#{self.pointer}"}
        made: Draft202012Validator = _strict_validator()(schema, registry=registry)
        return made


@cache
def validator(name: str, pointer: str = "") -> Validator:
    """A validator for the schema ``name``, or for a sub-schema at a JSON pointer in it."""
    return Validator(name, pointer)


def text(name: str) -> str:
    """The schema as printed by ``netpol-gitops schema NAME``."""
    return json.dumps(load(name), indent=2) + "\n"


def problems(validator: Validator, instance: Any, locate: Locator, what: str = "") -> list[Problem]:
    """Every schema violation of ``instance`` as a located problem with a readable message."""
    if validator.is_valid(instance):
        return []
    found = []
    typed: set[tuple[str | int, ...]] = set()
    errors = sorted(
        validator.jsonschema().iter_errors(instance), key=lambda e: e.validator != "type"
    )
    for error in errors:
        path = list(error.absolute_path)
        if tuple(path) in typed:
            continue  # a value of the wrong type: one message, not one per keyword
        if error.validator == "type":
            typed.add(tuple(path))
        message, key = _message(error)
        if key is not None:
            path.append(key)
        found.append(Problem(locate(path, key is not None), message, rule=what or "invalid-input"))
    return sorted(set(found))


def _expected(schema: Any) -> str | None:
    return schema.get("x-expected") if isinstance(schema, dict) else None


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping with keys " + ", ".join(map(str, value)) if value else "{}"
    if isinstance(value, list):
        return "a list"
    return repr(value)


_TYPES = {
    "string": "a string",
    "integer": "an integer",
    "object": "a mapping",
    "array": "a list",
    "boolean": "true or false",
}


def _message(error: ValidationError) -> tuple[str, str | None]:
    """(message, offending key when the problem is a key) for one jsonschema error."""
    v = error.validator
    inst: Any = error.instance
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    value: Any = error.validator_value
    expected = _expected(schema)
    if v == "enum":
        choices = [str(c) for c in value]
        hint = did_you_mean(str(inst), choices)
        return f"expected one of {', '.join(choices)}; got {_show(inst)}{hint}", None
    if v == "const":
        return f"expected {_show(value)}; got {_show(inst)}", None
    if v == "type":
        kinds = value if isinstance(value, list) else [value]
        want = " or ".join(_TYPES.get(str(k), str(k)) for k in kinds)
        quote = (
            f' (quote it: "{_show(inst)}")'
            if want == "a string" and isinstance(inst, bool | int | float)
            else ""
        )
        return f"expected {want}; got {_show(inst)}{quote}", None
    if v == "additionalProperties" and isinstance(inst, dict):
        known = list(schema.get("properties", {}))
        extra = sorted(k for k in inst if k not in known)
        if extra:
            return (
                f"unknown key '{extra[0]}'{did_you_mean(extra[0], known)}; expected one of "
                f"{', '.join(known)}",
                extra[0],
            )
    if v == "required":
        missing = [k for k in value if k not in inst]
        return f"missing required key '{missing[0]}'", None
    if v == "propertyNames":
        bad = error.instance
        return f"'{bad}' is not allowed here: " + (_expected(value) or "invalid key"), None
    if v in ("pattern", "oneOf", "anyOf") and expected:
        return f"expected {expected}; got {_show(inst)}", None
    if v == "minItems":
        return f"expected at least {value} item(s)", None
    if v == "maxItems" and expected:
        return f"expected {expected}; got {_show(inst)}", None
    if v == "maxLength":
        return f"longer than {value} characters", None
    if v in ("minimum", "maximum"):
        return f"expected {expected or 'a value in range'}; got {_show(inst)}", None
    return error.message, None
