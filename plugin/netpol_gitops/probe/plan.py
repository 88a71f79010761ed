"""Which probes prove the analysis in a live cluster. Pure: an Analysis and an Inventory in, a
Plan out.

- allow: one per (source class, destination) pair that a NetworkPolicy rule admits (the source's
  egress or the destination's ingress is isolated, and the analysis allows the pair): the
  declared connections, generated or hand-written alike. Pairs nobody isolates are the
  cluster's default, not a declaration, and are not probed.
- deny: one per protected namespace (a policy isolates one of its workloads): a pair the
  analysis denies on a port the destination declares, and the namespace's own isolation is
  what denies it.
- canary: one pair the policies deny, preferring one only the destination's ingress denies (the
  plainest enforcement there is); if it connects, the CNI does not enforce NetworkPolicy.

A probe connects over TCP only: UDP has no handshake (a dropped datagram and a silent server look
the same) and agnhost's SCTP check needs an echo server; those ports are listed as not probed.
A probe's source is a Job labelled like a workload of a class, so every policy treats it as that
class; sources in system namespaces are never imitated.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum

from netpol_gitops.analysis.model import Workload
from netpol_gitops.analysis.reach import Analysis, WorkloadClass
from netpol_gitops.model.connection import ip_span
from netpol_gitops.model.kube import SYSTEM_NAMESPACES
from netpol_gitops.model.portsets import FULL, Conns
from netpol_gitops.probe.inventory import Inventory, Service

DEFAULT_EXTERNAL = "1.1.1.1"  # a public address that answers on TCP 443 (and 80)
EXTERNAL_PORT = 443


class Role(StrEnum):
    CANARY = "canary"
    ALLOW = "allow"
    DENY = "deny"


@dataclass(frozen=True)
class Probe:
    role: Role
    source: Workload  # the workload whose labels and namespace the probe Job takes
    dst: Workload | None  # a workload, or None for an external address
    address: str | None  # the external address (dst None)
    ports: tuple[int, ...]  # TCP container ports (or external ports)
    service: Service | None = None  # a Service of the input to go through; None: our own
    dial: tuple[int, ...] = ()  # the port to dial for each of ``ports`` (a Service's port)

    @property
    def expect_connect(self) -> bool:
        return self.role is Role.ALLOW

    @property
    def what(self) -> str:
        return f"{self.source.peer} => {self.dst.peer if self.dst else self.address}"


@dataclass
class Plan:
    probes: list[Probe] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what is not probed, and why


def _tcp(conns: Conns) -> tuple[tuple[int, int], ...]:
    return conns.ports[1]


def _in(port: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= port <= hi for lo, hi in ranges)


class _Planner:
    def __init__(self, analysis: Analysis, inv: Inventory, external: str) -> None:
        self.analysis = analysis
        self.inv = inv
        self.external = external
        self.external_int = int(ipaddress.IPv4Address(external))
        self.classes = analysis.classes
        self.rep = {c.members[0].peer: i for i, c in enumerate(self.classes) if c.members}
        self.rows: dict[int, dict[str, Conns]] = {}
        for fanout in analysis.iter_fanouts():
            i = self.rep.get(fanout.src)
            if i is not None:
                self.rows[i] = dict(fanout.dsts)
        self.plan = Plan()
        self.listening = [self._listening(i) for i in range(len(self.classes))]
        self.candidates = self.denied()

    def _listening(self, d: int) -> tuple[int, ...]:
        """TCP ports a destination class listens on: its declared container ports; when it
        declares none, the first port of each TCP range some policy allows to it (someone
        wrote that rule for a listener)."""
        if self.inv.declared(self.classes[d].members[0]):
            return self.declared_tcp(self.classes[d])
        peer = self.classes[d].members[0].peer
        found = {
            lo
            for row in self.rows.values()
            if peer in row
            for lo, hi in _tcp(row[peer])
            if (lo, hi) != FULL[0]
        }
        return tuple(sorted(found))

    def declared_tcp(self, c: WorkloadClass) -> tuple[int, ...]:
        return tuple(
            sorted({n for n, proto, _ in self.inv.declared(c.members[0]) if proto == "TCP"})
        )

    def allowed(self, s: int, d: int) -> Conns:
        """What the representative of ``s`` may open to the representative of ``d``."""
        return self.rows.get(s, {}).get(self.classes[d].members[0].peer, Conns())

    def imitable(self, c: WorkloadClass) -> bool:
        return c.namespace not in SYSTEM_NAMESPACES and bool(c.labels)

    def allow_probes(self) -> Iterator[Probe]:
        for s, src in enumerate(self.classes):
            row = self.rows.get(s, {})
            for d, dst in enumerate(self.classes):
                if d == s:
                    continue
                conns = row.get(dst.members[0].peer)
                if not conns or (src.egress is None and dst.ingress is None):
                    continue
                probe = self.allow_to_workload(src, dst, conns)
                if probe is not None:
                    yield probe
            if src.egress is not None:
                probe = self.allow_external(src, row)
                if probe is not None:
                    yield probe

    def allow_to_workload(
        self, src: WorkloadClass, dst: WorkloadClass, conns: Conns
    ) -> Probe | None:
        what = f"{src.members[0].peer} => {dst.members[0].peer} : {conns.text()}"
        if not self.imitable(src):
            self.note(what, "the source is in a system namespace or has no labels")
            return None
        if not dst.labels:
            self.note(what, "no Service can select the destination: its pods have no labels")
            return None
        tcp = _tcp(conns)
        ports = tuple(p for p in self.declared_tcp(dst) if _in(p, tcp))
        if not ports and tcp and tcp != FULL and not self.inv.declared(dst.members[0]):
            ports = tuple(lo for lo, _ in tcp[:3])  # nothing declared: the allowed ports
        if not ports:
            self.note(what, "no declared TCP container port of the destination is allowed")
            return None
        rest = Conns((conns.ports[0], (), conns.ports[2]))
        if rest:
            self.plan.notes.append(
                f"not probed: {src.members[0].peer} => {dst.members[0].peer} : {rest.text()} "
                "(UDP has no handshake to check; agnhost's SCTP check needs an echo server)"
            )
        return Probe(Role.ALLOW, src.members[0], dst.members[0], None, ports)

    def allow_external(self, src: WorkloadClass, row: dict[str, Conns]) -> Probe | None:
        for peer, conns in row.items():
            span = ip_span(peer)
            if span is None or not span[0] <= self.external_int <= span[1]:
                continue
            tcp = _tcp(conns)
            what = f"{src.members[0].peer} => {self.external} : {conns.text()}"
            if not self.imitable(src):
                self.note(what, "the source is in a system namespace or has no labels")
                return None
            ports = (EXTERNAL_PORT,) if _in(EXTERNAL_PORT, tcp) else tuple(lo for lo, _ in tcp[:1])
            if not ports:
                self.note(what, "no TCP port allowed")
                return None
            return Probe(Role.ALLOW, src.members[0], None, self.external, ports)
        return None

    def denied(self) -> list[tuple[int, int, int]]:
        """(source, destination, port) the analysis denies, every imitable source to every
        TCP port a labelled destination listens on."""
        out = []
        for d, dst in enumerate(self.classes):
            if not dst.labels:
                continue
            for port in self.listening[d]:
                for s, src in enumerate(self.classes):
                    if s != d and self.imitable(src) and not _in(port, _tcp(self.allowed(s, d))):
                        out.append((s, d, port))
        return out

    def deny_probes(self, namespaces: list[str]) -> dict[str, Probe]:
        """Per namespace, the first denied pair its own isolation denies: both ends in it
        first, then into it, then out of it."""
        best: dict[str, tuple[int, str, str, int]] = {}
        for s, d, port in self.candidates:
            src, dst = self.classes[s], self.classes[d]
            for namespace, by in (
                (dst.namespace, dst.ingress is not None),
                (src.namespace, src.egress is not None),
            ):
                if not by:
                    continue
                rank = (
                    0 if src.namespace == dst.namespace else 1 if namespace == dst.namespace else 2
                )
                key = (rank, src.members[0].peer, dst.members[0].peer, port)
                if namespace not in best or key < best[namespace]:
                    best[namespace] = key
        peers = {c.members[0].peer: c.members[0] for c in self.classes}
        return {
            ns: Probe(Role.DENY, peers[key[1]], peers[key[2]], None, (key[3],))
            for ns, key in best.items()
            if ns in namespaces
        }

    def canary(self) -> Probe | None:
        """A denied pair, preferring one that only the destination's ingress denies."""
        keys = [
            (
                0 if self.classes[s].egress is None else 1,
                self.classes[s].members[0].peer,
                self.classes[d].members[0].peer,
                port,
                s,
                d,
            )
            for s, d, port in self.candidates
        ]
        if not keys:
            return None
        *_, port, s, d = min(keys)
        return Probe(
            Role.CANARY, self.classes[s].members[0], self.classes[d].members[0], None, (port,)
        )

    def selected(self, namespace: str, selector: tuple[tuple[str, str], ...]) -> list[int]:
        """The classes a Service selector picks in its namespace."""
        return [
            i
            for i in self.analysis.by_ns.get(namespace, ())
            if set(selector) <= set(self.classes[i].labels)
        ]

    def agree(self, s: int, dsts: list[int], ports: tuple[int, ...], connect: bool) -> bool:
        """Whether every class behind a Service gives the probe from ``s`` the same verdict."""
        return all(
            _in(p, _tcp(self.allowed(s, d))) == connect for d in dsts for p in ports if d != s
        ) and all(d != s for d in dsts)

    def route(self, probe: Probe) -> Probe | None:
        """The probe with the way to its destination: the first Service of the input that
        selects it, carries every port and selects only pods with the same verdict; else a
        probe-only headless Service on the destination's labels, if that selects only pods
        with the same verdict. None (and a note) when neither does."""
        dst = probe.dst
        if dst is None:
            return replace(probe, dial=probe.ports)
        s = self.rep[probe.source.peer]
        named = {n: num for num, proto, n in self.inv.declared(dst) if proto == "TCP" and n}
        for svc in self.inv.services:
            if not svc.selects(dst):
                continue
            dial = probe.ports if svc.headless else _service_ports(svc, probe.ports, named)
            picked = self.selected(svc.namespace, svc.selector)
            if dial and self.agree(s, picked, probe.ports, probe.expect_connect):
                return replace(probe, service=svc, dial=dial)
        if self.agree(
            s, self.selected(dst.namespace, dst.labels), probe.ports, probe.expect_connect
        ):
            return replace(probe, dial=probe.ports)
        self.note(
            probe.what,
            "pods of other workloads carry the destination's labels and would answer the probe "
            "differently",
        )
        return None

    def note(self, what: str, why: str) -> None:
        self.plan.notes.append(f"not probed: {what}: {why}")


def _service_ports(
    svc: Service, ports: tuple[int, ...], named: dict[str, int]
) -> tuple[int, ...] | None:
    """The Service's port for each container port, when it carries them all over TCP."""
    dial = []
    for p in ports:
        for sp in svc.ports:
            target = named.get(sp.target) if isinstance(sp.target, str) else sp.target
            if sp.protocol == "TCP" and target == p:
                dial.append(sp.port)
                break
        else:
            return None
    return tuple(dial)


def plan(analysis: Analysis, inv: Inventory, external: str = DEFAULT_EXTERNAL) -> Plan:
    """The canary first, then the allow probes, then one deny probe per protected namespace."""
    planner = _Planner(analysis, inv, external)
    out = planner.plan
    canary = planner.canary()
    protected = sorted(
        {c.namespace for c in analysis.classes if c.ingress is not None or c.egress is not None}
    )
    if canary is None and protected:
        out.notes.append(
            "no canary: no pair the policies deny has a TCP port known to listen "
            "(declare containerPorts on the protected workloads)"
        )
    if canary is not None:
        out.probes.append(canary)
    out.probes.extend(planner.allow_probes())
    found = planner.deny_probes(protected)
    for namespace in protected:
        probe = found.get(namespace)
        if probe is None:
            out.notes.append(
                f"no deny probe for namespace {namespace}: no pair its policies deny has a TCP "
                "port known to listen (declare containerPorts)"
            )
        else:
            out.probes.append(probe)
    out.probes = [r for r in map(planner.route, out.probes) if r is not None]
    return out
