"""What the probes need from the input beyond the analysis: every declared container port of a
workload (named or not) and the Services that could carry a probe to it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from netpol_gitops.analysis.model import Workload
from netpol_gitops.analysis.objects import Malformed, workload
from netpol_gitops.analysis.topology import is_workload

Key = tuple[str, str, str]  # (namespace, name, kind) as the analysis names a workload


@dataclass(frozen=True)
class ServicePort:
    port: int
    protocol: str
    target: int | str  # targetPort: a number or a container port's name (default: port)


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    selector: tuple[tuple[str, str], ...]
    headless: bool
    ports: tuple[ServicePort, ...]

    def selects(self, w: Workload) -> bool:
        labels = dict(w.labels)
        return (
            bool(self.selector)
            and w.namespace == self.namespace
            and all(labels.get(k) == v for k, v in self.selector)
        )


@dataclass
class Inventory:
    """Declared container ports per workload and the input's Services (with a selector)."""

    ports: dict[Key, tuple[tuple[int, str, str], ...]]  # (number, protocol, name or "")
    services: list[Service]

    def declared(self, w: Workload) -> tuple[tuple[int, str, str], ...]:
        return self.ports.get((w.namespace, w.name, w.kind), ())


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    kind = obj.get("kind")
    if kind == "Pod":
        return spec if isinstance(spec, dict) else {}
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec") or {}) if isinstance(spec, dict) else {}
    template = spec.get("template") if isinstance(spec, dict) else None
    inner = template.get("spec") if isinstance(template, dict) else None
    return inner if isinstance(inner, dict) else {}


def _container_ports(obj: dict[str, Any]) -> tuple[tuple[int, str, str], ...]:
    found: set[tuple[int, str, str]] = set()
    containers = _pod_spec(obj).get("containers")
    for c in containers if isinstance(containers, list) else ():
        ports = c.get("ports") if isinstance(c, dict) else None
        for p in ports if isinstance(ports, list) else ():
            number = p.get("containerPort") if isinstance(p, dict) else None
            if isinstance(number, int) and not isinstance(number, bool):
                found.add((number, str(p.get("protocol") or "TCP"), str(p.get("name") or "")))
    return tuple(sorted(found))


def _service(obj: dict[str, Any]) -> Service | None:
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    selector = spec.get("selector") if isinstance(spec, dict) else None
    if not isinstance(meta, dict) or not isinstance(selector, dict) or not selector:
        return None
    if spec.get("type") == "ExternalName":
        return None
    ports = []
    for p in spec.get("ports") or ():
        if isinstance(p, dict) and isinstance(p.get("port"), int):
            target = p.get("targetPort", p["port"])
            ports.append(
                ServicePort(
                    p["port"],
                    str(p.get("protocol") or "TCP"),
                    target if isinstance(target, int | str) else p["port"],
                )
            )
    return Service(
        str(meta.get("namespace") or "default"),
        str(meta.get("name")),
        tuple(sorted((str(k), str(v)) for k, v in selector.items())),
        spec.get("clusterIP") == "None",
        tuple(ports),
    )


def inventory(objects: Iterable[dict[str, Any]]) -> Inventory:
    """Ports and Services of the objects (items of Lists already flattened by the caller)."""
    ports: dict[Key, tuple[tuple[int, str, str], ...]] = {}
    services: list[Service] = []
    for obj in objects:
        if obj.get("kind") == "Service" and obj.get("apiVersion") == "v1":
            svc = _service(obj)
            if svc is not None:
                services.append(svc)
        elif is_workload(obj):
            try:
                w = workload(obj)
            except (Malformed, TypeError, ValueError, AttributeError, KeyError):  # analysis says
                continue
            if w is not None:
                key = (w.namespace, w.name, w.kind)
                ports[key] = tuple(sorted({*ports.get(key, ()), *_container_ports(obj)}))
    services.sort(key=lambda s: (s.namespace, s.name))
    return Inventory(ports, services)
