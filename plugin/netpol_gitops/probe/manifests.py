"""Probes -> Kubernetes objects: one Job per probe (in the source's namespace, its pods labelled
like the source workload) and a probe-only headless Service per destination that no Service of
the input selects. Pure and deterministic: the same plan gives the same bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from netpol_gitops.analysis.model import Workload
from netpol_gitops.model.kube import MANAGED_BY_LABEL, MANAGED_BY_VALUE, PREFIX
from netpol_gitops.probe.inventory import Service
from netpol_gitops.probe.plan import Probe, Role

DEFAULT_IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.53"
PROBE_LABEL = PREFIX + "probe"  # canary, allow, deny (Jobs and their pods); service
TIMEOUT_SECONDS = 5
MAX_NAME = 63

# The command every probe Job runs. agnhost's `connect` (what the Kubernetes e2e network policy
# tests use) when /agnhost is there, else `nc -z -w` (netcat: busybox, alpine, the agnhost
# image's own netcat-openbsd): the documented fallback for --image without agnhost. Both exit 0
# only on an established TCP connection. One line: PASS or FAIL per target, exit 1 on a FAIL.
SCRIPT = (
    "status=0; "
    "for target in $PROBE_TARGETS; do "
    'address="${target%/*}"; protocol="${target##*/}"; '
    'if [ -x "${AGNHOST:-/agnhost}" ]; then '
    'result=$("${AGNHOST:-/agnhost}" connect --timeout="${PROBE_TIMEOUT}s" '
    '--protocol="$protocol" "$address" 2>&1); '
    'else result=$(nc -z -w "$PROBE_TIMEOUT" "${address%:*}" "${address##*:}" 2>&1); fi; '
    "code=$?; "
    'if [ "$code" -eq 0 ] && [ "$PROBE_EXPECT" = connect ]; then '
    'echo "PASS $PROBE_WHAT: connected to $target"; '
    'elif [ "$code" -eq 0 ]; then '
    'echo "FAIL $PROBE_WHAT: connected to $target: $PROBE_FAILURE"; status=1; '
    'elif [ "$PROBE_EXPECT" = connect ]; then '
    'echo "FAIL $PROBE_WHAT: no connection to $target (${result:-exit $code}): $PROBE_FAILURE"; '
    "status=1; "
    'else echo "PASS $PROBE_WHAT: no connection to $target (${result:-exit $code})"; fi; '
    "done; "
    'exit "$status"'
)

CNI_MESSAGE = (
    "this cluster does not enforce NetworkPolicy: every generated deny is silently ignored. "
    "The usual cause is a CNI without a policy engine: Flannel alone (add Calico as Canal, or "
    "use Cilium or Calico), or kindnet before kube-network-policies (kindnet v1.0+ on kind "
    "0.24+, or install kube-network-policies)"
)

HOOK = "argocd.argoproj.io/hook"
HOOK_DELETE = "argocd.argoproj.io/hook-delete-policy"
WAVE = "argocd.argoproj.io/sync-wave"
_WAVES = {"service": "-2", Role.CANARY: "-1", Role.ALLOW: "0", Role.DENY: "0"}


def is_probe(obj: Any) -> bool:
    """Whether an object is one this module makes (a probe Job or a probe-only Service)."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return (
        isinstance(labels, dict)
        and obj.get("kind") in ("Job", "Service")
        and labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE
        and PROBE_LABEL in labels
    )


@dataclass(frozen=True)
class Options:
    image: str = DEFAULT_IMAGE
    hook: str | None = None  # "argocd": Argo CD PostSync hooks


def name(*parts: str) -> str:
    """``np-probe-<parts>``, cut to 63 characters with a stable hash suffix when longer."""
    full = "-".join(("np-probe", *parts)).replace(".", "-")
    if len(full) <= MAX_NAME:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    return full[: MAX_NAME - 9].rstrip("-.") + "-" + digest


def _hook(annotations: dict[str, str], options: Options, wave: str, delete: str) -> None:
    if options.hook == "argocd":
        annotations[HOOK] = "PostSync"
        annotations[HOOK_DELETE] = delete
        annotations[WAVE] = wave


def _managed(role: str) -> dict[str, str]:
    return {MANAGED_BY_LABEL: MANAGED_BY_VALUE, PROBE_LABEL: role}


def _host(svc: Service) -> str:
    return f"{svc.name}.{svc.namespace}.svc"


def _probe_service(dst: Workload, ports: Iterable[int], options: Options) -> dict[str, Any]:
    annotations = {
        PREFIX + "probe-for": dst.peer,
    }
    _hook(annotations, options, _WAVES["service"], "BeforeHookCreation")
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name(dst.kind.lower(), dst.name),
            "namespace": dst.namespace,
            "labels": _managed("service"),
            "annotations": annotations,
        },
        "spec": {
            "clusterIP": "None",
            "selector": dict(dst.labels),
            "ports": [
                {"name": f"tcp-{p}", "port": p, "protocol": "TCP", "targetPort": p}
                for p in sorted(set(ports))
            ],
        },
    }


def _failure(probe: Probe) -> str:
    if probe.role is Role.CANARY:
        return "the NetworkPolicies deny this pair, yet it connected: " + CNI_MESSAGE
    if probe.role is Role.DENY:
        return "the NetworkPolicies deny this pair, yet it connected: a deny is not enforced"
    return "the NetworkPolicies allow this connection, yet it did not connect"


def job(probe: Probe, targets: list[str], options: Options) -> dict[str, Any]:
    src = probe.source
    dst = probe.dst.name if probe.dst else (probe.address or "external")
    dst_ns = [probe.dst.namespace] if probe.dst and probe.dst.namespace != src.namespace else []
    annotations = {PREFIX + "probe-expect": f"{probe.what} : {_expect(probe)}"}
    _hook(annotations, options, _WAVES[probe.role], "BeforeHookCreation,HookSucceeded")
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name(probe.role.value, src.name, "to", *dst_ns, dst),
            "namespace": src.namespace,
            "labels": _managed(probe.role.value),
            "annotations": annotations,
        },
        "spec": {
            "backoffLimit": 1,
            "activeDeadlineSeconds": 120,
            "ttlSecondsAfterFinished": 600,
            "template": {
                "metadata": {
                    # like the source workload: every policy treats the probe as that workload
                    "labels": {**dict(src.labels), PROBE_LABEL: probe.role.value},
                },
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65534,
                        "runAsGroup": 65534,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "probe",
                            "image": options.image,
                            "command": ["/bin/sh", "-c", SCRIPT],
                            "env": [
                                {"name": "PROBE_EXPECT", "value": _mode(probe)},
                                {"name": "PROBE_TARGETS", "value": " ".join(targets)},
                                {"name": "PROBE_WHAT", "value": probe.what},
                                {"name": "PROBE_FAILURE", "value": _failure(probe)},
                                {"name": "PROBE_TIMEOUT", "value": str(TIMEOUT_SECONDS)},
                            ],
                            # never Ready: a Service that selects the source workload's labels
                            # never sends traffic to the probe (nothing listens on port 1)
                            "readinessProbe": {"tcpSocket": {"port": 1}, "periodSeconds": 60},
                            "resources": {
                                "requests": {"cpu": "10m", "memory": "16Mi"},
                                "limits": {"cpu": "100m", "memory": "32Mi"},
                            },
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "runAsNonRoot": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "terminationMessagePolicy": "FallbackToLogsOnError",
                        }
                    ],
                },
            },
        },
    }


def _mode(probe: Probe) -> str:
    return "connect" if probe.expect_connect else "blocked"


def _expect(probe: Probe) -> str:
    ports = ",".join(str(p) for p in probe.ports)
    return f"TCP {ports} {'connects' if probe.expect_connect else 'is blocked'}"


def manifests(probes: list[Probe], options: Options) -> list[dict[str, Any]]:
    """The probe-only Services (sorted by namespace and name), then the Jobs in plan order."""
    wanted: dict[Workload, set[int]] = {}
    for probe in probes:
        if probe.dst is not None and probe.service is None:
            wanted.setdefault(probe.dst, set()).update(probe.ports)
    services = {dst: _probe_service(dst, ports, options) for dst, ports in wanted.items()}
    jobs = []
    for probe in probes:
        if probe.dst is None:
            host = probe.address or ""
        elif probe.service is not None:
            host = _host(probe.service)
        else:
            meta = services[probe.dst]["metadata"]
            host = f"{meta['name']}.{meta['namespace']}.svc"
        jobs.append(job(probe, [f"{host}:{p}/tcp" for p in probe.dial], options))
    out = sorted(
        services.values(), key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"])
    )
    return [*out, *_unique(jobs)]


def _unique(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Two probes whose names cut to the same one get a hash of what they probe appended."""
    seen: dict[tuple[str, str], int] = {}
    for j in jobs:
        key = (j["metadata"]["namespace"], j["metadata"]["name"])
        seen[key] = seen.get(key, 0) + 1
    for j in jobs:
        meta = j["metadata"]
        if seen[(meta["namespace"], meta["name"])] > 1:
            what = meta["annotations"][PREFIX + "probe-expect"]
            meta["name"] = name(meta["name"].removeprefix("np-probe-"), _digest(what))
    return jobs


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:6]
