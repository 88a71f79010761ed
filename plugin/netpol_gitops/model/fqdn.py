"""DNS names and Cilium name patterns of ``fqdn`` flow ends: what is valid, what matches.

A name is lowercase labels joined by dots (``api.stripe.com``). A pattern is a name with
wildcards, as Cilium's ``toFQDNs.matchPattern`` defines them: ``*`` matches zero or more DNS
characters inside one label (``*.example.com`` matches ``www.example.com``, not
``example.com`` nor ``a.b.example.com``; ``sub*.example.com`` matches ``subdomain.example.com``),
and a leading ``**.`` matches one or more labels (``**.example.com`` matches ``a.b.example.com``).
"""

from __future__ import annotations

import re

MAX_NAME = 253
_LABEL = re.compile(r"[a-z0-9_*]([-a-z0-9_*]{0,61}[a-z0-9_*])?")
_CHARS = "[-a-z0-9_]"


def is_pattern(text: str) -> bool:
    return "*" in text


def problem(text: str) -> str | None:
    """Why ``text`` is not a name or pattern an ``fqdn`` end accepts (None: it is one)."""
    if text != text.lower():
        return f"'{text}': DNS names are case-insensitive; write it in lowercase ('{text.lower()}')"
    if text.endswith("."):
        return f"'{text}': write the name without the trailing dot ('{text.rstrip('.')}')"
    if text in ("*", "**"):
        return (
            f"'{text}' matches every name: to allow all egress use {{anywhere: true}}, "
            "to the public internet {internet: true}"
        )
    if len(text) > MAX_NAME:
        return f"'{text[:40]}...' is longer than {MAX_NAME} characters"
    labels = text.removeprefix("**.").split(".")
    if "**" in text.removeprefix("**."):
        return f"'{text}': '**' may only start a pattern, as '**.' (any number of labels)"
    if len(labels) < 2:
        return (
            f"'{text}' is not a fully qualified name: expected two labels or more (api.example.com)"
        )
    for label in labels:
        if not _LABEL.fullmatch(label):
            return (
                f"'{text}': label '{label}' is not a DNS label (1 to 63 of a-z 0-9 '-' '_', "
                "not starting or ending with '-'; '*' as a wildcard)"
            )
    if "*" in labels[-1]:
        return f"'{text}': a wildcard in the top-level domain would match names of any owner"
    return None


def _regex(pattern: str) -> re.Pattern[str]:
    multi = pattern.startswith("**.")
    body = re.escape(pattern.removeprefix("**.")).replace(r"\*", _CHARS + "*")
    return re.compile((rf"(?:{_CHARS}+\.)+" if multi else "") + body)


def matches(peer: str, name: str) -> bool:
    """Whether a rule's ``peer`` (a name or pattern) admits the destination ``name`` (a name or
    a pattern: a pattern is admitted only by itself, since the names it stands for are not
    known)."""
    if peer == name:
        return True
    if is_pattern(name) or not is_pattern(peer):
        return False
    return _regex(peer).fullmatch(name) is not None
