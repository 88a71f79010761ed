"""The KRM function: a ResourceList in, the same items plus the generated policies out.

Transformer: Namespaces are read from the items; every item is echoed unchanged; generated
policies already present are replaced. Generator: kustomize passes no items, so the Namespace
manifests come from the functionConfig's ``spec.sources`` (relative to the working directory,
which is the kustomization's; paths that leave it are refused).

Problems become ``results`` and stderr lines (kustomize never shows results) with exit 1, and
the items are returned unchanged. Warnings are results with exit 0.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path
from typing import Any

from netpol_gitops.adapters.files import MAX_INPUT_BYTES, decode, read_file
from netpol_gitops.adapters.inputs import manifest_files
from netpol_gitops.adapters.kustomization import real
from netpol_gitops.analysis.cluster import KINDS as CLUSTER_KINDS
from netpol_gitops.analysis.documents import reads, topology_of
from netpol_gitops.checks.rules import unmatched_selectors, unresolved_ports
from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.generate.config import parse_config
from netpol_gitops.generate.policies import PolicyObject
from netpol_gitops.generate.render import READ_KINDS, render
from netpol_gitops.model.intent import Config
from netpol_gitops.model.location import Location
from netpol_gitops.model.severity import Severity
from netpol_gitops.output.krm_results import krm_result, krm_stderr_line
from netpol_gitops.yaml.document import Document
from netpol_gitops.yaml.emit import dump_objects
from netpol_gitops.yaml.locate import locate
from netpol_gitops.yaml.resourcelist import SOURCE, read_resource_list
from netpol_gitops.yaml.stream import read_documents, split_stream


@dataclass
class KrmResult:
    """What the function writes: the ResourceList, stderr lines and the exit code."""

    chunks: Callable[[], Iterable[str]]  # the output ResourceList, in pieces to write
    stderr: list[str] = field(default_factory=list)
    exit_code: int = 0

    @property
    def output(self) -> str:
        return "".join(self.chunks())


def _item_views(rl: Document, items: list[Any]) -> list[Document]:
    views = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        kind = item.get("kind") if isinstance(item.get("kind"), str) else None
        node, _ = locate(rl.node(), ["items", i])
        views.append(
            Document(f"items[{i}]", "", 0, 0, kind, i, lined=False, _node=node, _data=item)
        )
    return views


def _config(rl: Document | None) -> Config:
    """The functionConfig of a ResourceList document: a NetworkPolicyGenerator or a ConfigMap."""
    fc = rl.data().get("functionConfig") if rl is not None else None
    if rl is None or not fc:
        return Config()
    if not isinstance(fc, dict):
        raise NetpolError(
            [
                Problem(
                    Location(SOURCE, 0, 0, "functionConfig"),
                    "expected a NetworkPolicyGenerator or a ConfigMap",
                )
            ]
        )
    if fc.get("kind") == "ConfigMap":
        return parse_config(_from_configmap(fc))
    return parse_config(rl, ["functionConfig"])


def _from_configmap(fc: dict[str, Any]) -> Document:
    """A ConfigMap's ``data`` (string values, YAML inside) as a NetworkPolicyGenerator."""
    spec: dict[str, Any] = {}
    for key, value in (fc.get("data") or {}).items():
        if key == "namePrefix":
            spec[key] = value
            continue
        docs = split_stream(
            f"v: {value}\n"
            if "\n" not in str(value)
            else "v:\n" + "".join(f"  {line}\n" for line in str(value).splitlines()),
            f"functionConfig.data.{key}",
        )
        spec[key] = docs[0].data()["v"] if docs else None
    config = {
        "apiVersion": "netpol-gitops.io/v1alpha1",
        "kind": "NetworkPolicyGenerator",
        "spec": spec,
    }
    text = dump_objects([config])
    return split_stream(text, "functionConfig (ConfigMap data)")[0]


def _sources(config: Config, cwd: Path) -> list[Document]:
    """Generator mode: the Namespace manifests named by ``spec.sources``."""
    top = real(cwd)
    files: list[tuple[str, str | bytes]] = []
    problems = []
    for entry in config.sources:
        path = cwd / entry
        if not real(path).is_relative_to(top):
            problems.append(
                Problem(
                    Location(SOURCE, 0, 0, "functionConfig.spec.sources"),
                    f"'{entry}' leaves the kustomization directory; refused",
                )
            )
            continue
        if path.is_dir():
            files += [read_file(f, str(f.relative_to(cwd))) for f in manifest_files(path)]
        elif path.is_file():
            files.append(read_file(path, entry))
        else:
            problems.append(
                Problem(
                    Location(SOURCE, 0, 0, "functionConfig.spec.sources"),
                    f"'{entry}': no such file or directory",
                )
            )
    if problems:
        raise NetpolError(problems)
    return [d for d in read_documents(files) if d.kind == "Namespace"]


@dataclass(frozen=True)
class _Outcome:
    """The pipeline's result over the items: what to drop, what to add, what to report."""

    dropped: set[int]  # indexes of items not echoed: generated policies of an earlier run
    generated: list[PolicyObject]
    problems: list[Problem]
    results: list[dict[str, Any]]
    stderr: list[str]

    @property
    def exit_code(self) -> int:
        return 1 if any(p.severity is Severity.ERROR for p in self.problems) else 0


@dataclass(frozen=True)
class _Items:
    """The items as the pipeline needs them, whichever way they were read."""

    count: int
    rendered: list[Document]  # the kinds render reads (Namespaces, NetworkPolicies, Lists)
    analysed: Callable[[], Iterable[Document]]  # the kinds the analysis reads, one at a time
    item_at: Callable[[int], Any]  # item ``index`` as an object, for a result's resourceRef
    probed: Callable[[], Iterable[Document]] | None = None  # what probes read (+ Services)


def _process(items: _Items, config_of: Callable[[], Config], cwd: Path) -> _Outcome:
    """Both layouts' one pipeline: the items that matter (as documents) in, what to emit out.
    On an error nothing is dropped and nothing is generated."""
    dropped: set[int] = set()
    generated: list[PolicyObject] = []
    try:
        config = config_of()
        sources = _sources(config, cwd) if config.sources else []
        result = render([*items.rendered, *sources], config)
        kept = {id(d) for d in result.documents}
        dropped = {d.index for d in items.rendered if id(d) not in kept}
        generated = result.generated
        if config.probe:  # the probe Jobs, as Argo CD PostSync hooks
            from netpol_gitops.adapters.probes import (  # noqa: PLC0415 - start-up: only here
                PROBE_HOOKS,
                earlier_probes,
                probe_objects,
            )

            docs = [d for d in (items.probed or items.analysed)() if d.index not in dropped]
            earlier = earlier_probes(docs)  # an earlier run's probes: replaced (kpt in place)
            dropped |= {d.index for d in docs if id(d) in earlier}
            found = probe_objects([*sources, *docs], generated, PROBE_HOOKS)
            generated = [*generated, *found.objects]
        problems = []
        if items.count:  # a generator's flows name workloads built elsewhere
            topo = topology_of(items.analysed())
            problems = unmatched_selectors(result.intents, topo.workloads) + [
                replace(p, severity=Severity.WARNING)  # a warning, as in render
                for p in unresolved_ports(result.intents, topo.workloads, topo.namespaces)
            ]
    except NetpolError as exc:
        problems, dropped, generated = list(exc.problems), set(), []

    def item_at(index: int) -> Any:
        try:
            return items.item_at(index)
        except (IndexError, NetpolError):
            return None

    results = [krm_result(p, item_at) for p in problems]
    stderr = [krm_stderr_line(p, r) for p, r in zip(problems, results, strict=True)]
    return _Outcome(dropped, generated, problems, results, stderr)


def run(data: str | bytes, cwd: Path) -> KrmResult:
    """The whole function: ResourceList text in, ResourceList text + stderr + exit code out.

    The plain YAML layout kustomize and kpt write is read as spans (resourcelist.py), straight
    from the bytes when they are ASCII; JSON and anything unusual is parsed whole
    (``run_parsed``). Both give the same objects."""
    if isinstance(data, bytes) and (len(data) > MAX_INPUT_BYTES or not data.isascii()):
        try:
            data = decode(data, "<stdin>")
        except NetpolError as exc:
            return KrmResult(lambda: (), [p.line() for p in exc.problems], 1)
    layout = None if _is_json(data) else read_resource_list(data)
    if layout is None:
        return run_parsed(data if isinstance(data, str) else data.decode("ascii"), cwd)
    spans = layout.items
    rendered = [layout.document(i) for i, span in enumerate(spans) if span.kind in READ_KINDS]
    # items that results name, each parsed once however many results name it (a Namespace
    # with thousands of flows can have thousands of warnings)
    named = {d.index: d for d in rendered}

    def item_at(index: int) -> Any:
        if index not in named:
            named[index] = layout.document(index)
        return named[index].data()

    items = _Items(
        len(spans),
        rendered,
        # workloads are parsed one at a time and dropped (only their analysis is kept)
        lambda: chain(
            rendered,
            (layout.document(i) for i, s in enumerate(spans) if _workload(s.kind)),
        ),
        item_at,
        lambda: chain(
            rendered,
            (
                layout.document(i)
                for i, s in enumerate(spans)
                if _workload(s.kind) or s.kind in ("Service", "Job")
            ),
        ),
    )
    config_doc = layout.config_document()
    out = _process(items, lambda: _config(config_doc), cwd)

    def chunks() -> Iterable[str]:
        kept = (i for i in range(len(layout.items)) if i not in out.dropped)
        return layout.output(kept, out.generated, out.results)

    return KrmResult(chunks, out.stderr, out.exit_code)


def _is_json(data: str | bytes) -> bool:
    """Whether the input is a JSON object (its first non-blank character), without copying it."""
    head = data[:4096].lstrip()
    return head[:1] in ("{", b"{")


def _workload(kind: str | None) -> bool:
    """A kind read only for its workloads (the flows' selectors): not the cluster policies,
    which the analysis reads but the KRM function, which analyses no connection, does not."""
    return kind not in READ_KINDS and kind not in CLUSTER_KINDS and reads(kind)


def run_parsed(text: str, cwd: Path) -> KrmResult:
    """The function over the whole ResourceList parsed as objects (JSON, unusual layouts)."""
    as_json = _is_json(text)
    try:
        docs = split_stream(text, SOURCE)
        if len(docs) != 1 or docs[0].kind != "ResourceList":
            raise NetpolError([Problem(Location(SOURCE), "expected one ResourceList on stdin")])
        rl = docs[0]
        data = rl.data()
    except NetpolError as exc:
        return KrmResult(lambda: (), [p.line() for p in exc.problems], 1)
    items = data.get("items") or []
    if not isinstance(items, list):
        items = []
    views = _item_views(rl, items)
    parsed = _Items(len(items), views, lambda: views, items.__getitem__)
    out = _process(parsed, lambda: _config(rl), cwd)
    kept = [item for i, item in enumerate(items) if i not in out.dropped]
    rl_out: dict[str, Any] = {
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": kept + out.generated,
    }
    if out.results:
        rl_out["results"] = out.results
    body = json.dumps(rl_out, indent=2) + "\n" if as_json else dump_objects([rl_out])
    return KrmResult(lambda: (body,), out.stderr, out.exit_code)
