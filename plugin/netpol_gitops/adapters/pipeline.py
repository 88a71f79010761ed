"""What the commands run over PATH: read and render, check, analyse. Each returns data or an
iterator; the CLI writes it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from netpol_gitops.adapters.inputs import configured_units, read_manifests, read_units
from netpol_gitops.analysis.documents import topology_of
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.checks.gate import findings
from netpol_gitops.checks.rules import unresolved_ports
from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.generate import render as render_pipeline
from netpol_gitops.generate.config import parse_config
from netpol_gitops.generate.render import Rendered
from netpol_gitops.model.connection import Connection
from netpol_gitops.model.severity import Severity


def rendered(path: str, config: str | None) -> Rendered:
    """PATH read and rendered, each unit under the config that applies to it; every problem is
    found before anything is returned."""
    return render_pipeline.render_units(configured_units(path, config))


def render_warnings(result: Rendered) -> list[Problem]:
    """What render warns about and still renders: a flow's named port that no container of its
    destination pods declares (the flow would connect nothing on it, silently). The workloads
    are read only when some flow names a port."""
    if not any(p.named for i in result.intents for f in i.flows for p in f.ports):
        return []
    try:
        topo = topology_of(result.documents)
    except NetpolError:  # a workload too malformed to analyse: check reports it
        return []
    found = unresolved_ports(result.intents, topo.workloads, topo.namespaces)
    return [dataclasses.replace(p, severity=Severity.WARNING) for p in found]


def checked(path: str, config: str | None) -> list[Problem]:
    """Every finding of PATH: a problem of the input is a finding too, so every format prints a
    whole document. Each part is checked under the config that applies to it."""
    try:
        units = read_units(path, config)
    except NetpolError as exc:
        return list(exc.problems)
    found: set[Problem] = set()
    for config_doc, docs in units:
        try:
            found.update(findings(docs, parse_config(config_doc)))
        except NetpolError as exc:
            found.update(exc.problems)
    return sorted(found)


def analysis(path: str, config: str | None, *, generate: bool) -> Analysis:
    """PATH (plus the generated policies with ``generate``) read and ready to analyse."""
    extra: list[dict[str, Any]] = []
    if generate:
        result = rendered(path, config)
        docs, extra = result.documents, result.generated
    else:
        docs = read_manifests(path)
    return Analysis(topology_of(docs, extra))


def focused(conns: Iterable[Connection], focus: str) -> Iterator[Connection]:
    """The connections from or to the workload ``focus`` (NS/NAME)."""
    return (c for c in conns if any(p.startswith(focus + "[") for p in (c.src, c.dst)))
