"""What enforcing the namespaces in ``mode: audit`` would block: the preview the PR report shows
(``check`` says the same as ``audit-would-block``). Pure."""

from __future__ import annotations

from collections import defaultdict

from netpol_gitops.analysis.changes import compared
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.analysis.topology import Topology
from netpol_gitops.generate.render import Rendered
from netpol_gitops.model.connection import Change
from netpol_gitops.model.intent import Mode

MAX_KEPT = 10  # connections kept per namespace as examples


def audit_blocked(
    topo: Topology, now: Analysis, result: Rendered
) -> dict[str, tuple[int, list[Change]]]:
    """Namespace in audit mode -> (how many, the first few) connections that enforcing it would
    block or narrow: ``now`` (the input plus the generated policies, which for an audited
    namespace enforce nothing) against the same with its enforce-mode policies added. Only the
    pairs with an end in an audited namespace are compared."""
    audited = frozenset(i.name for i in result.intents if i.mode is Mode.AUDIT)
    if not audited:
        return {}
    then = Analysis(topo.with_policies([*result.generated, *result.audited]))
    counts: dict[str, int] = defaultdict(int)
    examples: dict[str, list[Change]] = defaultdict(list)
    for change in compared(now, then, audited):
        if not change.lost:
            continue
        for ns in sorted(change.namespaces & audited):
            counts[ns] += 1
            if len(examples[ns]) < MAX_KEPT:
                examples[ns].append(change)
    return {ns: (counts[ns], examples[ns]) for ns in sorted(audited)}
