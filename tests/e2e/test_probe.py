"""`netpol-gitops probe` (issue 16): golden probe sets, the Kubernetes 1.32 strict schema, the
reach test (probes open nothing else and imitate their source faithfully), the Argo CD hooks and
`probe: true` in the KRM function and the Argo CD plugin, and each Job's own command line run
against listeners on 127.0.0.1.

What the command-line test exercises and what it does not: the Job's real argv
(``/bin/sh -c SCRIPT``) and its real environment run under this machine's /bin/sh, with only
PROBE_TARGETS (the address) and PROBE_TIMEOUT changed. agnhost is not installed here, so its
branch runs tests/e2e/fake_agnhost.py (Python sockets, written from agnhost's connect.go: the
same messages and exit codes for TCP); the fallback branch runs the real `nc` when there is one
on PATH, else tests/e2e/fake_nc.py. Neither binary of the real image runs here, nor any CNI.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from ruamel.yaml import YAML

from netpol_gitops.adapters.inputs import read_manifests
from netpol_gitops.adapters.pipeline import rendered
from netpol_gitops.analysis.documents import topology_of
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.model.connection import ip_span
from netpol_gitops.model.portsets import Conns
from netpol_gitops.probe.manifests import HOOK, HOOK_DELETE, WAVE
from netpol_gitops.yaml.emit import dump_objects
from tests.helpers import EXAMPLE, ROOT, SHARED, cli, require_shared

EXPECT_KEY = "netpol-gitops.io/probe-expect"
GOLDEN_PROBE = ROOT / "tests" / "golden-probe"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
LOAD = YAML(typ="safe")
HERE = Path(__file__).parent
CONFORMANCE = SHARED / "conformance" / "netpol-analyzer"
GROUPS = ("core", "core-exposure-derived")  # the groups reach passes in full (README)


def conformance_cases() -> list[str]:
    index = CONFORMANCE / "INDEX.tsv"
    if not index.exists():
        return []
    rows = [line.split("\t") for line in index.read_text().splitlines()[1:] if line]
    return sorted(r[0] for r in rows if r[1] in GROUPS)


def objects(stream: str) -> list[dict[str, Any]]:
    return [d for d in LOAD.load_all(stream) if d]


def jobs(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == "Job"]


def three_tier(*extra: str) -> tuple[str, str]:
    run = cli("probe", str(EXAMPLE), "--generate", *extra)
    assert run.code == 0, run.stderr
    return run.stdout, run.stderr


def golden(path: Path, actual: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
    assert actual == path.read_text()


# ------------------------------------------------------------------------------ golden sets
def test_three_tier_golden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    run = cli("probe", "examples/three-tier/", "--generate")
    assert run.code == 0, run.stderr
    golden(GOLDEN_PROBE / "three-tier.yaml", run.stdout)
    golden(GOLDEN_PROBE / "three-tier.err", run.stderr)


def test_three_tier_probes_what_the_example_declares() -> None:
    out, err = three_tier()
    expect = [
        j["metadata"]["annotations"]["netpol-gitops.io/probe-expect"] for j in jobs(objects(out))
    ]
    assert expect[0].endswith("is blocked")  # the canary comes first
    assert jobs(objects(out))[0]["metadata"]["labels"]["netpol-gitops.io/probe"] == "canary"
    for flow in (
        "ingress-nginx/ingress-nginx-controller[Deployment] => my-app/frontend[Deployment] : "
        "TCP 8080 connects",
        "my-app/frontend[Deployment] => my-app/backend[Deployment] : TCP 8080 connects",
        "my-app/backend[Deployment] => my-app/database[Deployment] : TCP 5432 connects",
        "my-app/backend[Deployment] => 1.1.1.1 : TCP 443 connects",
        "my-app/frontend[Deployment] => kube-system/coredns[Deployment] : TCP 53 connects",
    ):
        assert flow in expect
    assert [e for e in expect if e.endswith("is blocked")][1:] == [
        "my-app/backend[Deployment] => my-app/frontend[Deployment] : TCP 8080 is blocked"
    ]  # one deny probe: my-app is the one protected namespace
    assert "UDP 53 (UDP has no handshake to check" in err


@pytest.mark.parametrize("case", conformance_cases())
def test_conformance_golden(case: str) -> None:
    root = require_shared("conformance", "netpol-analyzer")
    run = cli("probe", str(root / case / "input"))
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr
    golden(GOLDEN_PROBE / "conformance" / f"{case}.yaml", run.stdout)


def test_the_golden_cases_are_all_there() -> None:
    require_shared("conformance", "netpol-analyzer")
    stored = sorted(p.stem for p in (GOLDEN_PROBE / "conformance").glob("*.yaml"))
    assert stored == conformance_cases()


# ------------------------------------------------------------------------- schema, bytes
def all_outputs() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    yield "three-tier", objects(three_tier()[0])
    yield "three-tier --hook argocd", objects(three_tier("--hook", "argocd")[0])
    yield "three-tier --image busybox", objects(three_tier("--image", "busybox:1.36")[0])
    for case in conformance_cases():
        yield case, objects((GOLDEN_PROBE / "conformance" / f"{case}.yaml").read_text())


def test_every_emitted_object_passes_the_kubernetes_1_32_strict_schema() -> None:
    count = 0
    for where, objs in all_outputs():
        for obj in objs:
            try:
                kubernetes_validate.validate(obj, "1.32", strict=True)
            except kubernetes_validate.ValidationError as exc:  # pragma: no cover - reported
                pytest.fail(f"{where}: {obj['kind']} {obj['metadata']['name']}: {exc}")
            count += 1
    assert count > 100


def test_probe_jobs_are_locked_down() -> None:
    for where, objs in all_outputs():
        for job in jobs(objs):
            spec = job["spec"]
            pod = spec["template"]["spec"]
            (container,) = pod["containers"]
            assert spec["ttlSecondsAfterFinished"] > 0, where
            assert pod["automountServiceAccountToken"] is False
            assert pod["securityContext"]["runAsNonRoot"] is True
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["resources"]["limits"] == {"cpu": "100m", "memory": "32Mi"}


def test_output_is_the_same_bytes_under_any_hash_seed() -> None:
    outs = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT / "plugin")}
        args = [sys.executable, "-m", "netpol_gitops", "probe", str(EXAMPLE), "--generate"]
        run = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
        outs.add(run.stdout)
    assert len(outs) == 1


def test_image_and_external_address_are_options() -> None:
    out, _ = three_tier("--image", "busybox:1.36", "--external-address", "9.9.9.9")
    objs = jobs(objects(out))
    assert {j["spec"]["template"]["spec"]["containers"][0]["image"] for j in objs} == {
        "busybox:1.36"
    }
    assert any(env(j)["PROBE_TARGETS"] == "9.9.9.9:443/tcp" for j in objs)


def test_a_bad_external_address_is_a_usage_error() -> None:
    run = cli("probe", str(EXAMPLE), "--external-address", "example.com")
    assert run.code == 2
    assert "expected an IPv4 address; got 'example.com'" in run.stderr


def test_bad_input_is_a_located_error_and_nothing_is_printed(tmp_path: Path) -> None:
    bad = tmp_path / "ns.yaml"
    bad.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  annotations:\n"
        "    netpol-gitops.io/default-deny: al\n"
    )
    run = cli("probe", str(bad), "--generate")
    assert run.code == 1
    assert run.stdout == ""
    assert f"{bad}:6:36: error: " in run.stderr
    assert "Traceback" not in run.stderr


def test_nothing_to_probe_says_so(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text((EXAMPLE / "deployments.yaml").read_text())
    run = cli("probe", str(tmp_path))
    assert (run.code, run.stdout) == (0, "")
    assert run.stderr == (
        "netpol-gitops: probe: nothing to probe: no NetworkPolicy isolates a workload of the "
        "input\n"
    )


# ------------------------------------------------------------------------------ Argo CD hooks
def test_hook_argocd_adds_only_the_hook_annotations() -> None:
    plain = objects(three_tier()[0])
    hooked = objects(three_tier("--hook", "argocd")[0])
    for obj in hooked:
        ann = obj["metadata"]["annotations"]
        assert ann.pop(HOOK) == "PostSync"
        if obj["kind"] == "Job":
            assert ann.pop(HOOK_DELETE) == "BeforeHookCreation,HookSucceeded"
            role = obj["metadata"]["labels"]["netpol-gitops.io/probe"]
            assert ann.pop(WAVE) == ("-1" if role == "canary" else "0")
        else:  # the Services stay until the next sync: the Jobs of later waves use them
            assert ann.pop(HOOK_DELETE) == "BeforeHookCreation"
            assert ann.pop(WAVE) == "-2"
    assert hooked == plain


CONFIG = (
    "apiVersion: netpol-gitops.io/v1alpha1\nkind: NetworkPolicyGenerator\nspec:\n  probe: true\n"
)


def test_krm_function_emits_the_hooks_when_the_config_says_probe() -> None:
    items = [d for f in sorted(EXAMPLE.glob("*.yaml")) for d in objects(f.read_text())]
    rl = {
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": items,
        "functionConfig": LOAD.load(CONFIG),
    }
    run = cli("krm", stdin=json.dumps(rl))
    assert run.code == 0, run.stderr
    out = json.loads(run.stdout)["items"]
    probes = [o for o in out if "netpol-gitops.io/probe" in o["metadata"].get("labels", {})]
    assert probes == objects(three_tier("--hook", "argocd")[0])
    without = cli("krm", stdin=json.dumps({**rl, "functionConfig": None}))
    assert "netpol-gitops.io/probe" not in without.stdout


def test_krm_function_in_the_yaml_layout_emits_the_same() -> None:
    items = [d for f in sorted(EXAMPLE.glob("*.yaml")) for d in objects(f.read_text())]
    rl = {
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": items,
        "functionConfig": LOAD.load(CONFIG),
    }
    run = cli("krm", stdin=dump_objects([rl]))
    assert run.code == 0, run.stderr
    out = LOAD.load(run.stdout)["items"]
    probes = [o for o in out if "netpol-gitops.io/probe" in o["metadata"].get("labels", {})]
    assert probes == objects(three_tier("--hook", "argocd")[0])


def test_argocd_plugin_emits_the_hooks_when_the_repo_config_says_probe(tmp_path: Path) -> None:
    from tests.e2e.cmp import cmp_generate  # noqa: PLC0415

    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo / "apps" / "three-tier")
    (repo / ".netpol-gitops.yaml").write_text(CONFIG)
    run = cmp_generate(repo, "apps/three-tier", app_namespace="my-app")
    assert run.matched and run.code == 0, run.stderr
    probes = [o for o in run.objects if "netpol-gitops.io/probe" in o["metadata"].get("labels", {})]
    assert probes == objects(three_tier("--hook", "argocd")[0])


def test_the_config_schema_knows_probe(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG.replace("true", '"yes"'))
    run = cli("render", str(EXAMPLE), "--config", str(config))
    assert run.code == 1
    assert f"{config}:4:10: error: spec.probe: " in run.stderr


# ------------------------------------------------------------------------------- reach test
def probe_peer(job: dict[str, Any]) -> str:
    return f"{job['metadata']['namespace']}/{job['metadata']['name']}[Job]"


EXPECT = re.compile(r"(?P<src>\S+) => (?P<dst>\S+) : TCP (?P<ports>[0-9,]+) (?P<verb>.+)")


def reach_test(
    docs: list[Any], generated: list[dict[str, Any]], probes: list[dict[str, Any]]
) -> int:
    """Reach with the probes equals reach without them for every pair without a probe, and
    each probe Job reaches (or not) what its expectation says, on every probed port."""
    before = Analysis(topology_of(docs, generated))
    after = Analysis(topology_of(docs, [*generated, *probes]))
    peers = {probe_peer(j) for j in jobs(probes)}
    without = [c for c in after.iter_connections(before.cuts()) if not {c.src, c.dst} & peers]
    assert without == list(before.iter_connections(before.cuts()))
    rows = {f.src: dict(f.dsts) for f in after.iter_fanouts() if f.src in peers}
    for job in jobs(probes):
        m = EXPECT.fullmatch(job["metadata"]["annotations"][EXPECT_KEY])
        assert m is not None
        row = rows.get(probe_peer(job), {})
        if "[" in m["dst"]:
            conns = row.get(m["dst"], Conns())
        else:  # an external address: the range that holds it
            ip = sum(int(x) << s for x, s in zip(m["dst"].split("."), (24, 16, 8, 0), strict=True))
            spans = [(ip_span(p), c) for p, c in row.items()]
            conns = next((c for s, c in spans if s and s[0] <= ip <= s[1]), Conns())
        tcp = conns.ports[1]
        for port in map(int, m["ports"].split(",")):
            allowed = any(lo <= port <= hi for lo, hi in tcp)
            assert allowed == (m["verb"] == "connects"), (job["metadata"]["name"], port)
    return len(peers)


def test_probes_open_nothing_else_three_tier() -> None:
    result = rendered(str(EXAMPLE), None)
    probes = objects(three_tier()[0])
    assert reach_test(result.documents, result.generated, probes) == len(jobs(probes))


@pytest.mark.parametrize("case", conformance_cases())
def test_probes_open_nothing_else_conformance(case: str) -> None:
    root = require_shared("conformance", "netpol-analyzer")
    docs = read_manifests(str(root / case / "input"))  # probe without --generate
    probes = objects((GOLDEN_PROBE / "conformance" / f"{case}.yaml").read_text())
    reach_test(docs, [], probes)


# ------------------------------------------------------------- each Job's command, for real
def env(job: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}


@contextlib.contextmanager
def listeners() -> Iterator[dict[str, int | None]]:
    """Ports on 127.0.0.1: open (accepts), closed (refuses), filtered (its SYNs are dropped: a
    full accept queue, Linux drops the SYN; None when this machine does not)."""
    opened: list[socket.socket] = []
    try:
        open_ = socket.create_server(("127.0.0.1", 0), backlog=64)
        opened.append(open_)
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))  # bound, never listening: refuses
        opened.append(closed)
        full = socket.socket()
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        opened.append(full)
        port = full.getsockname()[1]
        filtered: int | None = None
        for _ in range(4):  # fill the accept queue
            c = socket.socket()
            c.settimeout(0.5)
            opened.append(c)
            try:
                c.connect(("127.0.0.1", port))
            except TimeoutError:
                filtered = port
                break
        yield {
            "open": open_.getsockname()[1],
            "closed": closed.getsockname()[1],
            "filtered": filtered,
        }
    finally:
        for s in opened:
            s.close()


def fake(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\n" + (HERE / f"fake_{name}.py").read_text())
    path.chmod(0o755)
    return path


def run_job(job: dict[str, Any], target: str, extra: dict[str, str]) -> tuple[int, str, float]:
    container = job["spec"]["template"]["spec"]["containers"][0]
    environ = {**env(job), "PROBE_TARGETS": target, "PROBE_TIMEOUT": "1", **extra}
    start = time.monotonic()
    run = subprocess.run(
        container["command"], env=environ, capture_output=True, text=True, timeout=30, check=False
    )
    return run.returncode, run.stdout + run.stderr, time.monotonic() - start


def branches(tmp_path: Path) -> list[tuple[str, dict[str, str]]]:
    agnhost = fake(tmp_path, "agnhost")
    nc = shutil.which("nc")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if nc is None:
        (bin_dir / "nc").symlink_to(fake(tmp_path, "nc"))
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    return [
        ("agnhost", {"AGNHOST": str(agnhost), "PATH": path}),
        ("nc", {"AGNHOST": str(tmp_path / "no-agnhost"), "PATH": path}),
    ]


@pytest.mark.parametrize("state", ["open", "closed", "filtered"])
def test_each_job_command_against_a_listener(state: str, tmp_path: Path) -> None:
    probe_jobs = jobs(objects(three_tier()[0]))
    with listeners() as ports:
        port = ports[state]
        if port is None:
            pytest.skip("this kernel does not drop SYNs to a full accept queue")
        target = f"127.0.0.1:{port}/tcp"
        for branch, extra in branches(tmp_path):
            for job in probe_jobs:
                code, out, took = run_job(job, target, extra)
                e = env(job)
                connects = e["PROBE_EXPECT"] == "connect"
                what = e["PROBE_WHAT"]
                if state == "open":
                    assert code == (0 if connects else 1), (branch, out)
                    line = (
                        f"PASS {what}: connected to {target}\n"
                        if connects
                        else f"FAIL {what}: connected to {target}: {e['PROBE_FAILURE']}\n"
                    )
                    assert out == line
                else:
                    assert code == (1 if connects else 0), (branch, out)
                    verdict = "FAIL" if connects else "PASS"
                    assert out.startswith(f"{verdict} {what}: no connection to {target} (")
                    if branch == "agnhost":  # agnhost's own words
                        word = "REFUSED" if state == "closed" else "TIMEOUT"
                        assert f"({word})" in out, out
                    if connects:
                        assert out.endswith(f": {e['PROBE_FAILURE']}\n")
                if state == "filtered":
                    assert took >= 0.9  # waited for the timeout: the SYN went unanswered


def test_the_canary_names_the_cni_when_it_connects(tmp_path: Path) -> None:
    canary = jobs(objects(three_tier()[0]))[0]
    with listeners() as ports:
        code, out, _ = run_job(canary, f"127.0.0.1:{ports['open']}/tcp", branches(tmp_path)[0][1])
    assert code == 1
    assert "does not enforce NetworkPolicy" in out
    assert "Flannel" in out and "kindnet" in out


def test_one_failing_target_fails_the_job_and_every_target_is_reported(tmp_path: Path) -> None:
    allow = next(j for j in jobs(objects(three_tier()[0])) if env(j)["PROBE_EXPECT"] == "connect")
    with listeners() as ports:
        targets = f"127.0.0.1:{ports['open']}/tcp 127.0.0.1:{ports['closed']}/tcp"
        code, out, _ = run_job(allow, targets, branches(tmp_path)[0][1])
    assert code == 1
    assert [line.split(" ", 1)[0] for line in out.splitlines()] == ["PASS", "FAIL"]


def test_an_unresolvable_name_is_not_a_connection(tmp_path: Path) -> None:
    probe_jobs = jobs(objects(three_tier()[0]))
    allow = next(j for j in probe_jobs if env(j)["PROBE_EXPECT"] == "connect")
    deny = next(j for j in probe_jobs if env(j)["PROBE_EXPECT"] == "blocked")
    extra = branches(tmp_path)[0][1]
    code, out, _ = run_job(allow, "no-such-service.invalid:80/tcp", extra)
    assert code == 1
    assert "(DNS: " in out
    code, out, _ = run_job(deny, "no-such-service.invalid:80/tcp", extra)
    assert code == 0  # a deny probe cannot tell a failed lookup from a drop: README says so
    assert "(DNS: " in out


# ---------------------------------------------------------------- an earlier run's output
def test_probes_in_the_input_are_not_probed_again(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "app")
    first, _ = three_tier("--hook", "argocd")
    (tmp_path / "app" / "probes.yaml").write_text(first)
    again = cli("probe", str(tmp_path / "app"), "--generate", "--hook", "argocd")
    assert again.code == 0, again.stderr
    assert again.stdout == first


def test_the_krm_function_replaces_its_earlier_probes() -> None:
    items = [d for f in sorted(EXAMPLE.glob("*.yaml")) for d in objects(f.read_text())]
    rl = {
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": items,
        "functionConfig": LOAD.load(CONFIG),
    }
    first = cli("krm", stdin=dump_objects([rl]))
    assert first.code == 0, first.stderr
    fed_back = {**rl, "items": LOAD.load(first.stdout)["items"]}  # kpt in place
    second = cli("krm", stdin=dump_objects([fed_back]))
    assert second.code == 0, second.stderr
    assert second.stdout == first.stdout
