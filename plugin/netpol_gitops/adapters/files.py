"""Bytes in and out: files and stdin read bounded (per input and per run) and decoded, files
written whole or not at all."""

from __future__ import annotations

import codecs
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.model.location import Location

MAX_INPUT_BYTES = 512 << 20  # per file or stream

MAX_TOTAL_MB = 192  # per run: ~3 x that at peak keeps `argocd generate` inside a 1 GiB sidecar


_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)  # before UTF-16: FF FE 00 00
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode(data: bytes, source: str) -> str:
    """The text of a manifest, decoded as kubectl decodes it: UTF-8 (an optional BOM dropped),
    or UTF-16 when a byte order mark says so (kubectl's BOMOverride); its BOM-less UTF-16 and
    UTF-32 with or without a BOM it refuses, and so does this."""
    if len(data) > MAX_INPUT_BYTES:
        raise NetpolError(
            [Problem(Location(source), f"larger than {MAX_INPUT_BYTES >> 20} MiB; refused")]
        )
    if data.startswith(_UTF32_BOMS):
        raise NetpolError(
            [
                Problem(
                    Location(source, 1, 1),
                    "UTF-32 text (by its byte order mark); kubectl reads UTF-8 and UTF-16 only: "
                    "save it as UTF-8",
                )
            ]
        )
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")  # the BOM gives the byte order and is dropped
        except UnicodeDecodeError as exc:
            text = data[: exc.start].decode("utf-16", "replace")
            line = text.count("\n") + 1
            col = len(text) - (text.rfind("\n") + 1) + 1
            raise NetpolError(
                [Problem(Location(source, line, col), f"not UTF-16 text ({exc.reason})")]
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise NetpolError(
            [
                Problem(
                    Location(source, line, col),
                    f"not UTF-8 text (byte "
                    f"0x{data[exc.start]:02x}); Kubernetes manifests must be "
                    "UTF-8",
                )
            ]
        ) from None


def as_text(data: bytes, source: str) -> str | bytes:
    """``decode``, except that ASCII bytes are returned as they are: the YAML reader takes
    them without the UTF-8 copy it makes of a str, and documents are cut from them (issue 8:
    one copy of a large input fewer)."""
    if len(data) <= MAX_INPUT_BYTES and data.isascii():
        return data
    return decode(data, source)


def read_regular(
    path: Path, bound: int, check: Callable[[int], None] | None = None
) -> tuple[bytes, int] | None:
    """(bytes, size when opened) of a regular file, never a device or a fifo (``/dev/zero``
    has no end): at most ``bound`` + 1 bytes (a longer file is its caller's to refuse), read
    into a buffer of the file's size. None when it is not a regular file. ``check`` sees the
    size before anything is read (a Budget). Raises OSError."""
    # O_NONBLOCK: opening a fifo must not wait for a writer; regular files ignore it
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None
        if check is not None:
            check(info.st_size)
        return f.read(min(info.st_size, bound) + 1), info.st_size


def read_bytes(path: Path, label: str, budget: Budget | None = None) -> bytes:
    """A regular file's bytes, bounded (``read_regular``); a located error otherwise."""
    take = (lambda size: budget.take(size, label)) if budget is not None else None
    try:
        found = read_regular(path, MAX_INPUT_BYTES, take)
    except OSError as exc:
        raise NetpolError([Problem(Location(label), f"cannot read: {exc.strerror}")]) from None
    if found is None:
        raise NetpolError([Problem(Location(label), "not a regular file; refused")])
    return found[0]


def read_file(
    path: Path, name: str | None = None, budget: Budget | None = None
) -> tuple[str, str | bytes]:
    label = name or str(path)
    return label, as_text(read_bytes(path, label, budget), label)


@dataclass
class Budget:
    """Total input bytes of one run (kustomize output included)."""

    left: int = field(default_factory=lambda: max_total_bytes())  # noqa: PLW0108 - defined below

    def take(self, size: int, source: str) -> None:
        self.left -= size
        if self.left < 0:
            raise NetpolError(
                [
                    Problem(
                        Location(source),
                        f"the input passes {max_total_bytes() >> 20} MiB in total; refused "
                        "(NETPOL_GITOPS_MAX_INPUT_MB raises the bound; split the app)",
                    )
                ]
            )


def max_total_bytes() -> int:
    raw = os.environ.get("NETPOL_GITOPS_MAX_INPUT_MB", "")
    return (int(raw) if raw.isdigit() and int(raw) > 0 else MAX_TOTAL_MB) << 20


def read_stdin() -> bytes:
    data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    Budget().take(len(data), "<stdin>")
    return data


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, then rename: never half-written."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
