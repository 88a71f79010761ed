"""Benchmark corpora from ../shared/bench/make_corpus.py, in netpol-gitops' vocabulary.

The corpus generator writes a working vocabulary that predates DESIGN.md; it is translated:
``allow-ingress-from-namespaces`` -> ``allow-from-namespaces``, ``tcp/443`` -> ``443/tcp``, and
``allow-egress-to-namespaces: X`` -> a ``flows`` entry from all pods to namespace X; the
ResourceList's functionConfig ``dnsNamespace`` -> ``dns.namespace``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAKE_CORPUS = ROOT.parent / "shared" / "bench" / "make_corpus.py"
WORK = ROOT / "bench-work"  # git-ignored

_EGRESS_NS = re.compile(r"^(\s*)netpol-gitops\.io/allow-egress-to-namespaces: (\S+)$", re.M)
_PROTO_PORT = re.compile(r"\b(tcp|udp|sctp)/(\d+)\b")


def translate(text: str) -> str:
    text = text.replace(
        "    annotationPrefix: netpol-gitops.io/\n    dnsNamespace: kube-system\n",
        "    dns:\n      namespace: kube-system\n",
    )
    text = text.replace(
        "netpol-gitops.io/allow-ingress-from-namespaces:", "netpol-gitops.io/allow-from-namespaces:"
    )
    text = _PROTO_PORT.sub(r"\2/\1", text)
    return _EGRESS_NS.sub(
        lambda m: (
            f"{m.group(1)}netpol-gitops.io/flows: '[{{from: {{pods: {{}}}}, to: "
            f"{{namespace: {m.group(2)}}}}}]'"
        ),
        text,
    )


def corpus(namespaces: int, form: str = "--single-file") -> Path:
    """The corpus directory for N namespaces (generated once, then reused)."""
    if not MAKE_CORPUS.exists():
        sys.exit(f"{MAKE_CORPUS} is absent: the benchmarks need ../shared beside the checkout")
    out = WORK / f"{namespaces}{form.replace('--', '-')}"
    marker = out / ".translated"
    if not marker.exists():
        subprocess.run(
            [sys.executable, str(MAKE_CORPUS), str(out), "--namespaces", str(namespaces), form],
            check=True,
            capture_output=True,
        )
        for path in sorted(out.rglob("*.yaml")):
            path.write_text(translate(path.read_text()))
        marker.write_text("ok\n")
    return out


ENVS = ("prod", "staging", "dev")


def admin_policy(k: int) -> str:
    """One Admin-tier ClusterNetworkPolicy of the benchmark: a realistic platform rule set on
    the namespaces of one env (Accept from monitoring, Deny dev to the databases' port, Pass the
    rest of the env's traffic to NetworkPolicy; egress Deny to one /16, Accept to the env)."""
    env, other = ENVS[k % 3], ENVS[(k + 1) % 3]
    return f"""apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: platform-{k:02d}
spec:
  tier: Admin
  priority: {k}
  subject:
    namespaces:
      matchLabels: {{env: {env}}}
  ingress:
  - name: monitoring
    action: Accept
    from: [{{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: monitoring}}}}}}]
  - name: no-{other}-databases
    action: Deny
    from: [{{namespaces: {{matchLabels: {{env: {other}}}}}}}]
    protocols: [{{tcp: {{destinationPort: {{number: {5432 + k}}}}}}}]
  - name: same-env
    action: Pass
    from: [{{namespaces: {{matchLabels: {{env: {env}}}}}}}]
  egress:
  - name: no-legacy-range
    action: Deny
    to: [{{networks: [10.{k}.0.0/16]}}]
  - name: same-env
    action: Accept
    to: [{{namespaces: {{matchLabels: {{env: {env}}}}}}}]
"""


BASELINE = """apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata:
  name: default
spec:
  subject:
    namespaces:
      matchLabels: {env: prod}
  ingress:
  - name: deny-all
    action: Deny
    from: [{namespaces: {}}]
"""


def with_admin_policies(namespaces: int, count: int = 50) -> Path:
    """The single-file corpus plus ``count`` Admin-tier ClusterNetworkPolicies and a Baseline
    (issue 20: the analysis stays linear in policies + output)."""
    out = WORK / f"{namespaces}-admin-{count}"
    if not (out / "tiers.yaml").exists():
        out.mkdir(parents=True, exist_ok=True)
        (out / "stream.yaml").write_text((corpus(namespaces) / "stream.yaml").read_text())
        tiers = [admin_policy(k) for k in range(count)]
        (out / "tiers.yaml").write_text("---\n".join([*tiers, BASELINE]))
    return out
