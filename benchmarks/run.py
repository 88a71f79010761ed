"""Every path, interleaved in one run, as ratios to libyaml in the same run; peak RSS.

    python benchmarks/run.py [--sizes 100,1000] [--rounds 3] [--big 5000] [--big-rounds 1]
                             [--kustomize 300] [--flows 1000,10000] [--only render,krm]
                             [--write]

--big N adds the reach --generate / render / krm / argocd rows at N namespaces (--big-rounds,
default one; slow).
--startup R adds the start-up group (R rounds): `render`, `krm` and `argocd generate` of the
bundled one-namespace example and `--help`, as ratios to a Python start plus a PyYAML load of
the same files.
--kustomize N adds `kubectl kustomize` with and without the transformer (a `docker` stand-in
runs the container function locally). --flows N,... adds krm against render of one Namespace
with N flows that match no workload (a warning per flow end). --write puts the table into
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import ROOT, WORK, corpus, with_admin_policies
from harness import BASELINE_LOAD, BASELINE_LOAD_DUMP, BASELINE_LOAD_FILES, machine, median

BIN = Path(sys.executable).parent
# the console script as pip writes it for pyproject's entry point (an editable install keeps the
# entry point of its install time: this one is always the current one)
EXE = str(WORK / "netpol-gitops")
SCRIPT = (
    f"#!{sys.executable}\nimport sys\nfrom netpol_gitops.launch import main\n"
    "if __name__ == '__main__':\n    sys.exit(main())\n"
)
BEGIN, END = "<!-- run.py:begin -->", "<!-- run.py:end -->"
STARTUP = "start-up (render of the bundled example)"
REACH_ROWS = "reach (output excluded: lines counted and not written)"
EXAMPLE = ROOT / "examples" / "three-tier"
BASELINE_STARTUP = "Python start + PyYAML load of the example's files"


@dataclass(frozen=True)
class Variant:
    name: str
    argv: list[str]
    baseline: str  # the variant this one is a ratio of
    stdin: str | None = None
    cwd: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    input_mb: float = 0.0


def run(v: Variant) -> tuple[float, float]:
    env = {**os.environ, **dict(v.env)}
    import time  # noqa: PLC0415

    with tempfile.TemporaryFile() as err:
        stdin = Path(v.stdin).open("rb") if v.stdin else None  # noqa: SIM115
        start = time.perf_counter()
        proc = subprocess.Popen(
            v.argv,
            stdin=stdin or subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=v.cwd,
            env=env,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        if stdin:
            stdin.close()
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            sys.exit(f"{v.name} failed: {err.read()[:2000]!r}")
    return elapsed, usage.ru_maxrss / 1024


def tree_without_kustomizations(n: int) -> Path:
    """The corpus tree as a plain directory of YAML (what argocd generate reads without a
    kustomization); kustomization.yaml files removed."""
    src = corpus(n, "--tree")
    out = WORK / f"{n}-plain-tree"
    if not out.exists():
        shutil.copytree(
            src, out, ignore=shutil.ignore_patterns("kustomization.yaml", ".translated")
        )
    return out


def stream_dir(n: int) -> Path:
    out = WORK / f"{n}-stream-only"
    if not out.exists():
        out.mkdir(parents=True)
        shutil.copy(corpus(n) / "stream.yaml", out / "stream.yaml")
    return out


def git_pair(n: int, changed: int = 20) -> tuple[Path, str, str]:
    """A git repo of the plain tree, and a second commit that changes ``changed`` namespaces."""
    name = f"{n}-git" if changed == 20 else f"{n}-git-{changed}"
    return _pair(WORK / name, tree_without_kustomizations(n), changed)


def variants(n: int, with_plain_reach: bool) -> list[Variant]:
    stream = corpus(n) / "stream.yaml"
    rl = corpus(n, "--resource-list") / "resource-list.yaml"
    s_mb, rl_mb = stream.stat().st_size / 1e6, rl.stat().st_size / 1e6
    py = sys.executable
    out = [
        Variant(
            "libyaml load+dump",
            [py, "-c", BASELINE_LOAD_DUMP, str(stream)],
            "",
            None,
            None,
            (),
            s_mb,
        ),
        Variant("libyaml load", [py, "-c", BASELINE_LOAD, str(stream)], "", None, None, (), s_mb),
        Variant(
            "libyaml load+dump (ResourceList)",
            [py, "-c", BASELINE_LOAD_DUMP, str(rl)],
            "",
            None,
            None,
            (),
            rl_mb,
        ),
        # what any run costs before its input: the interpreter and the imports
        Variant(STARTUP, [EXE, "render", str(ROOT / "examples" / "three-tier")], ""),
        Variant("render", [EXE, "render", str(stream)], "libyaml load+dump", input_mb=s_mb),
        Variant(
            "krm",
            [EXE, "krm"],
            "libyaml load+dump (ResourceList)",
            str(rl),
            str(rl.parent),
            input_mb=rl_mb,
        ),
        Variant(
            "argocd generate (tree)",
            [EXE, "argocd", "generate"],
            "libyaml load+dump",
            None,
            str(tree_without_kustomizations(n)),
            (("ARGOCD_APP_NAMESPACE", ""), ("NETPOL_GITOPS_DEADLINE", "3600")),
            s_mb,
        ),
        Variant(
            "argocd generate (stream)",
            [EXE, "argocd", "generate"],
            "libyaml load+dump",
            None,
            str(stream_dir(n)),
            (("ARGOCD_APP_NAMESPACE", ""), ("NETPOL_GITOPS_DEADLINE", "3600")),
            s_mb,
        ),
        Variant(
            "reach --generate",
            [EXE, "reach", "--generate", str(stream)],
            "libyaml load",
            input_mb=s_mb,
        ),
    ]
    if with_plain_reach:
        out.append(Variant("reach", [EXE, "reach", str(stream)], "libyaml load", input_mb=s_mb))
        out.append(
            Variant(
                REACH_ROWS,
                [py, str(ROOT / "benchmarks" / "reach_rows.py"), str(stream)],
                "libyaml load",
                input_mb=s_mb,
            )
        )
    if n == 1000:
        tiered = with_admin_policies(n)
        out.append(
            Variant(
                "reach --generate (+ 50 admin policies)",
                [EXE, "reach", "--generate", str(tiered)],
                "libyaml load",
                input_mb=s_mb,
            )
        )
    if n in (100, 1000, 3000, 5000):
        # issue 17: the cost of a PR against one libyaml load of one revision
        for changed in (1, 20):
            repo, base, head = git_pair(n, changed)
            out.append(
                Variant(
                    diff_row(changed),
                    [EXE, "diff", "--repo", str(repo), "--base", base, "--head", head],
                    "libyaml load",
                    input_mb=s_mb,
                )
            )
    return out


def diff_row(changed: int) -> str:
    return f"diff ({changed} namespace{'s' if changed > 1 else ''} changed)"


def startup_variants() -> list[Variant]:
    """The cold start of the commands Argo CD and kustomize run per app, on the bundled
    one-namespace example, against a Python start plus a PyYAML load of the same files."""
    files = sorted(str(p) for p in EXAMPLE.rglob("*.yaml"))
    mb = sum(Path(f).stat().st_size for f in files) / 1e6
    rl = WORK / "three-tier-resource-list.yaml"
    items = "".join(
        "- " + doc.strip().replace("\n", "\n  ") + "\n"
        for f in files
        for doc in Path(f).read_text().split("\n---\n")
        if doc.strip()
    )
    rl.write_text(f"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}")
    env = (("ARGOCD_APP_NAMESPACE", ""),)
    return [
        Variant(
            BASELINE_STARTUP, [sys.executable, "-c", BASELINE_LOAD_FILES, *files], "", input_mb=mb
        ),
        Variant("start-up: render", [EXE, "render", str(EXAMPLE)], BASELINE_STARTUP, input_mb=mb),
        Variant(
            "start-up: krm", [EXE, "krm"], BASELINE_STARTUP, str(rl), str(EXAMPLE), input_mb=mb
        ),
        Variant(
            "start-up: argocd generate",
            [EXE, "argocd", "generate"],
            BASELINE_STARTUP,
            None,
            str(EXAMPLE),
            env,
            mb,
        ),
        Variant("start-up: --help", [EXE, "--help"], BASELINE_STARTUP),
    ]


def chosen(vs: list[Variant], only: str) -> list[Variant]:
    """The variants named in ``only`` (all when empty), with their baselines and the start-up."""
    if not only:
        return vs
    names = set(only.split(","))
    wanted = {v.baseline for v in vs if v.name in names} | names | {STARTUP}
    return [v for v in vs if v.name in wanted]


def measure(vs: list[Variant], rounds: int) -> dict[str, list[tuple[float, float]]]:
    samples: dict[str, list[tuple[float, float]]] = {v.name: [] for v in vs}
    for r in range(rounds):
        order = vs[r % len(vs) :] + vs[: r % len(vs)]
        for v in order:
            samples[v.name].append(run(v))
            print(f"  round {r + 1} {v.name}: {samples[v.name][-1][0]:.2f}s", file=sys.stderr)
    return samples


def rows(n: int, vs: list[Variant], samples: dict[str, list[tuple[float, float]]]) -> list[str]:
    out = []
    startup = max((r for _, r in samples.get(STARTUP, [])), default=0.0)
    for v in vs:
        secs = [s for s, _ in samples[v.name]]
        rss = max(r for _, r in samples[v.name])
        per_input = f"{rss / v.input_mb:.1f}" if v.input_mb else ""
        ours = v.argv[0] == EXE  # the start-up is netpol-gitops's, not the baselines'
        above = f"{(rss - startup) / v.input_mb:.1f}" if ours and v.input_mb and startup else ""
        if v.baseline:
            base = [s for s, _ in samples[v.baseline]]
            ratio = f"{median([a / b for a, b in zip(secs, base, strict=True)]):.2f}"
        else:
            ratio = "1 (baseline)"
        out.append(
            f"| {n:,} | {v.name} | {v.input_mb:.1f} | {median(secs):.2f} | {ratio} | "
            f"{rss:.0f} | {per_input} | {above} |"
        )
    return out


def kustomize_rows(n: int, rounds: int) -> list[str]:
    """kubectl kustomize of the tree, with and without the transformer (container stand-in)."""
    tree = corpus(n, "--tree")
    with_fn = WORK / f"{n}-tree-fn"
    if not with_fn.exists():
        shutil.copytree(tree, with_fn)
        root = with_fn / "kustomization.yaml"
        root.write_text(root.read_text() + "transformers:\n- fn.yaml\n")
        (with_fn / "fn.yaml").write_text(
            "apiVersion: netpol-gitops.io/v1alpha1\nkind: NetworkPolicyGenerator\nmetadata:\n"
            "  name: fn\n  annotations:\n    config.kubernetes.io/function: |\n"
            "      container:\n        image: netpol-gitops:0.1.0\n"
        )
    with tempfile.TemporaryDirectory() as tmp:
        ours, identity = Path(tmp) / "ours", Path(tmp) / "identity"
        for d, body in ((ours, f"exec {EXE} krm"), (identity, "exec cat")):
            d.mkdir()
            (d / "docker").write_text(f"#!/bin/sh\n{body}\n")
            (d / "docker").chmod(0o755)
        mb = sum(f.stat().st_size for f in tree.rglob("*.yaml")) / 1e6
        build = ["kubectl", "kustomize", "--enable-alpha-plugins", str(with_fn)]
        vs = [
            Variant("kubectl kustomize", ["kubectl", "kustomize", str(tree)], "", input_mb=mb),
            Variant(
                "kubectl kustomize + identity transformer (cat)",
                build,
                "kubectl kustomize",
                env=(("PATH", f"{identity}:{os.environ['PATH']}"),),
                input_mb=mb,
            ),
            Variant(
                "kubectl kustomize + netpol-gitops transformer",
                build,
                "kubectl kustomize",
                env=(("PATH", f"{ours}:{os.environ['PATH']}"),),
                input_mb=mb,
            ),
        ]
        samples = measure(vs, rounds)
    return rows(n, vs, samples)


def many_flows(n: int) -> tuple[Path, Path]:
    """One Namespace with ``n`` flows whose pod selectors match no workload, and a Deployment:
    as a stream and as a ResourceList (issue 18: krm re-parsed the Namespace per warning)."""
    stream, rl = WORK / f"flows-{n}.yaml", WORK / f"flows-{n}-resource-list.yaml"
    if not rl.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        flows = "".join(
            f"      - name: f{i}\n        from: {{pods: {{app: a{i}}}}}\n"
            f"        to: {{pods: {{app: b{i}}}}}\n        ports: [8080/tcp]\n"
            for i in range(n)
        )
        ns = (
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  annotations:\n"
            "    netpol-gitops.io/default-deny: all\n    netpol-gitops.io/flows: |\n" + flows
        )
        dep = (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
            "spec:\n  selector: {matchLabels: {app: web}}\n  template:\n"
            "    metadata: {labels: {app: web}}\n"
            "    spec: {containers: [{name: web, image: nginx}]}\n"
        )
        stream.write_text(ns + "---\n" + dep)

        def item(text: str) -> str:
            lines = text.splitlines()
            return "".join(("  - " if i == 0 else "    ") + x + "\n" for i, x in enumerate(lines))

        rl.write_text(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
            + item(ns)
            + item(dep)
        )
    return stream, rl


def flows_rows(n: int, rounds: int) -> list[str]:
    """krm against render of the same one-Namespace input with ``n`` flows matching nothing."""
    stream, rl = many_flows(n)
    render_name = "render - (one Namespace, N flows matching no workload)"
    vs = [
        Variant(
            render_name,
            [EXE, "render", "-"],
            "",
            str(stream),
            input_mb=stream.stat().st_size / 1e6,
        ),
        Variant(
            "krm (the same, 2 N warnings)",
            [EXE, "krm"],
            render_name,
            str(rl),
            str(rl.parent),
            input_mb=rl.stat().st_size / 1e6,
        ),
    ]
    return rows(n, vs, measure(vs, rounds))


# ---------------------------------------------- issue 17: a repository of kustomizations (kcache)
KDIFF_PLAIN = "diff: plain YAML tree (1 namespace changed)"


def packed(repo: Path) -> None:
    """The repository's objects in a pack, as a clone (actions/checkout) holds them: `git
    cat-file` reads 4,600 loose objects 6 x slower than one pack (0.30 s against 0.05 s)."""
    count = subprocess.run(
        ["git", "-C", str(repo), "count-objects"], check=True, capture_output=True, text=True
    ).stdout
    if not count.startswith("0 objects"):
        subprocess.run(["git", "-C", str(repo), "gc", "--quiet"], check=True)


def _pair(repo: Path, tree: Path, changed: int) -> tuple[Path, str, str]:
    """A git repo of ``tree`` and a second commit that changes ``changed`` namespaces: the
    first ones, from the third, whose default deny is all or none."""
    if not (repo / ".git").exists():
        shutil.copytree(
            tree, repo, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".translated")
        )
        git = ["git", "-c", "user.email=b@example.com", "-c", "user.name=b", "-C", str(repo)]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-q", "-m", "base"], check=True)
        left = changed
        for f in sorted(repo.glob("*/namespace.yaml"))[2:]:
            old = f.read_text()
            new = old.replace("default-deny: all", "default-deny: ingress").replace(
                "default-deny: none", "default-deny: all"
            )
            left -= new != old
            f.write_text(new)
            if not left:
                break
        subprocess.run([*git, "commit", "-q", "-am", "head"], check=True)
    packed(repo)
    rev = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD~1", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return repo, rev[0], rev[1]


def kustomization_diff_rows(n: int, rounds: int, only: str = "") -> list[str]:
    """`diff` of a repository of kustomizations (one per namespace, a root that lists them: the
    corpus' --tree layout) with one namespace changed: without the build cache, with an empty
    one, and warm (the cache a run on the base filled, copied afresh each round: the copy is
    in the time), against `diff` of the same content as a plain YAML tree; and the cold render
    of the tree."""
    tree = corpus(n, "--tree")
    plain, p_base, p_head = _pair(WORK / f"{n}-kcache-plain-git", tree_without_kustomizations(n), 1)
    kust, k_base, k_head = _pair(WORK / f"{n}-kcache-kust-git", tree, 1)
    mb = (corpus(n) / "stream.yaml").stat().st_size / 1e6
    filled = WORK / f"{n}-kcache-filled"
    if not filled.exists():  # a run on the base: every root of the base built and kept
        subprocess.run(
            [
                EXE,
                "diff",
                "--repo",
                str(kust),
                "--base",
                k_base,
                "--head",
                k_base,
                "--build-cache",
                str(filled),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    warm = WORK / f"{n}-kcache-warm"
    empty = WORK / f"{n}-kcache-empty"
    kdiff = [EXE, "diff", "--repo", str(kust), "--base", k_base, "--head", k_head]
    vs = [
        Variant(
            KDIFF_PLAIN,
            [EXE, "diff", "--repo", str(plain), "--base", p_base, "--head", p_head],
            "",
            input_mb=mb,
        ),
        Variant(
            "diff: kustomization repo; warm (cache filled on the base)",
            [
                "sh",
                "-c",
                'rm -rf "$1" && cp -r "$2" "$1" && shift 2 && exec "$@"',
                "sh",
                str(warm),
                str(filled),
                *kdiff,
                "--build-cache",
                str(warm),
            ],
            KDIFF_PLAIN,
            input_mb=mb,
        ),
        Variant(
            "diff: kustomization repo; cold (empty cache)",
            [
                "sh",
                "-c",
                'rm -rf "$1" && shift && exec "$@"',
                "sh",
                str(empty),
                *kdiff,
                "--build-cache",
                str(empty),
            ],
            KDIFF_PLAIN,
            input_mb=mb,
        ),
        Variant("diff: kustomization repo; cold (no cache)", kdiff, KDIFF_PLAIN, input_mb=mb),
        Variant(
            "render: kustomization repo; cold (no cache)",
            [EXE, "render", str(tree)],
            KDIFF_PLAIN,
            input_mb=mb,
        ),
    ]
    vs = chosen(vs, only)
    return rows(n, vs, measure(vs, rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--big", type=int, default=0)
    parser.add_argument("--big-rounds", type=int, default=1)
    parser.add_argument("--startup", type=int, default=0, help="rounds of the start-up group")
    parser.add_argument("--kustomize", type=int, default=0)
    parser.add_argument(
        "--flows", default="", help="comma-separated flow counts: krm vs render, many warnings"
    )
    parser.add_argument(
        "--only", default="", help="comma-separated path names (e.g. render,krm); default all"
    )
    parser.add_argument("--write", action="store_true")
    parser.add_argument(
        "--kustomization-diff", type=int, default=0, help="N: diff of a kustomization repo (kcache)"
    )
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    script = Path(EXE)
    script.write_text(SCRIPT)
    script.chmod(0o755)
    # bytecode as an install writes it (PYTHONDONTWRITEBYTECODE would leave every child compiling
    # the package from source)
    compileall.compile_dir(ROOT / "plugin" / "netpol_gitops", quiet=1)
    table = [
        f"Machine: {machine()}, kubectl {_kubectl()}; {args.rounds} rounds"
        + (f" ({args.startup} for the start-up group)" if args.startup else "")
        + ", interleaved; "
        "ratio = median of per-round ratios to the baseline named in the row's group.",
        "",
        "| N | path | input MB | s (median) | ratio | peak RSS MB | RSS / input "
        "| (RSS - start-up) / input |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    if args.startup:
        vs = startup_variants()
        table += rows(1, vs, measure(vs, args.startup))
    for n in (int(s) for s in args.sizes.split(",") if s):
        vs = chosen(variants(n, with_plain_reach=True), args.only)
        table += rows(n, vs, measure(vs, args.rounds))
    if args.big:
        keep = {
            "libyaml load+dump",
            "libyaml load",
            "libyaml load+dump (ResourceList)",
            STARTUP,
            "render",
            "krm",
            "argocd generate (tree)",
            "argocd generate (stream)",
            "reach --generate",
            diff_row(1),
            diff_row(20),
        }
        vs = chosen(
            [v for v in variants(args.big, with_plain_reach=False) if v.name in keep], args.only
        )
        table += rows(args.big, vs, measure(vs, args.big_rounds))
    if args.kustomize:
        table += kustomize_rows(args.kustomize, max(1, args.rounds - 2))
    for n in (int(f) for f in args.flows.split(",") if f):
        table += flows_rows(n, args.rounds)
    if args.kustomization_diff:
        table += kustomization_diff_rows(args.kustomization_diff, args.rounds, args.only)
    text = "\n".join(table) + "\n"
    print(text)
    if args.write:
        readme = ROOT / "benchmarks" / "README.md"
        old = readme.read_text()
        a, b = old.index(BEGIN) + len(BEGIN), old.index(END)
        readme.write_text(old[:a] + "\n" + text + old[b:])


def _kubectl() -> str:
    try:
        out = subprocess.run(
            ["kubectl", "version", "--client"], capture_output=True, text=True, check=False
        ).stdout
    except OSError:
        return "absent"
    return out.splitlines()[0].split(":")[-1].strip() if out else "absent"


if __name__ == "__main__":
    main()
