"""Sets of allowed connections: per protocol, maximally merged port ranges."""

from __future__ import annotations

from dataclasses import dataclass

PROTOCOLS = ("SCTP", "TCP", "UDP")  # the canonical (string) order of the txt format
Ranges = tuple[tuple[int, int], ...]
FULL: Ranges = ((1, 65535),)
FULL3 = (FULL, FULL, FULL)  # every port of every protocol
EMPTY3: tuple[Ranges, Ranges, Ranges] = ((), (), ())  # no port at all


def merge(ranges: list[tuple[int, int]]) -> Ranges:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def intersect_ranges(a: Ranges, b: Ranges) -> Ranges:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def subtract_ranges(a: Ranges, b: Ranges) -> Ranges:
    """The ports of ``a`` not in ``b`` (both merged and sorted)."""
    out: list[tuple[int, int]] = []
    for first, hi in a:
        lo = first
        for blo, bhi in b:
            if bhi < lo or blo > hi:
                continue
            if blo > lo:
                out.append((lo, blo - 1))
            lo = bhi + 1
            if lo > hi:
                break
        if lo <= hi:
            out.append((lo, hi))
    return tuple(out)


@dataclass(frozen=True)
class Conns:
    """Allowed ports for SCTP, TCP and UDP (in that order)."""

    ports: tuple[Ranges, Ranges, Ranges] = EMPTY3

    @staticmethod
    def of(items: list[tuple[str, int, int]]) -> Conns:
        """From (protocol, first, last) triples."""
        by = {p: [(lo, hi) for proto, lo, hi in items if proto == p] for p in PROTOCOLS}
        return Conns((merge(by["SCTP"]), merge(by["TCP"]), merge(by["UDP"])))

    def __bool__(self) -> bool:
        return any(self.ports)

    def __or__(self, other: Conns) -> Conns:
        if self is other or other.ports == EMPTY3:  # (immutable: sharing is safe)
            return self
        if self.ports == EMPTY3:
            return other
        a, b, c = (merge([*x, *y]) for x, y in zip(self.ports, other.ports, strict=True))
        return Conns((a, b, c))

    def __and__(self, other: Conns) -> Conns:
        if self is other or other.ports == FULL3:
            return self
        if self.ports == FULL3:
            return other
        a, b, c = (intersect_ranges(x, y) for x, y in zip(self.ports, other.ports, strict=True))
        return Conns((a, b, c))

    def __sub__(self, other: Conns) -> Conns:
        if other.ports == EMPTY3:
            return self
        if self is other or self.ports == EMPTY3 or other.ports == FULL3:
            return NONE
        a, b, c = (subtract_ranges(x, y) for x, y in zip(self.ports, other.ports, strict=True))
        return Conns((a, b, c))

    def text(self) -> str:
        if self == ALL:
            return "All Connections"
        parts = []
        for proto, ranges in zip(PROTOCOLS, self.ports, strict=True):
            if ranges:
                text = ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)
                parts.append(f"{proto} {text}")
        return ",".join(parts)


ALL = Conns((FULL, FULL, FULL))
NONE = Conns()
