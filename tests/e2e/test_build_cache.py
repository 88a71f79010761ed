"""--build-cache with the real kustomize: the same bytes out with and without it, cold and warm;
a changed file is built again; a damaged entry is built again; a cache in the repository is
refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from netpol_gitops.adapters import build_cache, kustomize_build
from tests.builders import Repo
from tests.e2e.test_kustomize_input import aggregate
from tests.helpers import cli, require_tool


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The folders kustomize builds (not the version asked for the key)."""
    monkeypatch.delenv(build_cache.ENV, raising=False)
    seen: list[str] = []
    original = kustomize_build.run_group

    def counted(argv: list[str], env: dict[str, str], timeout: float) -> tuple[int, bytes, bytes]:
        if "version" not in argv:
            seen.append(argv[-1])
        return original(argv, env, timeout)

    monkeypatch.setattr(kustomize_build, "run_group", counted)
    yield seen
    build_cache.configure(None)


def test_render_with_the_cache_is_the_render_without_it_cold_and_warm(
    tmp_path: Path, builds: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETPOL_GITOPS_SPLIT_AT", "2")  # the leaves are built (and kept) apart
    root = aggregate(tmp_path / "repo", ["a", "b", "c"])
    cache = str(tmp_path / "cache")
    plain = cli("render", str(root))
    assert plain.code == 0, plain.stderr
    builds.clear()
    cold = cli("render", str(root), "--build-cache", cache)
    assert len(builds) == 3
    builds.clear()
    warm = cli("render", str(root), "--build-cache", cache)
    assert builds == []  # every leaf from the cache
    assert plain.stdout == cold.stdout == warm.stdout and warm.stderr == ""
    # one leaf changes: that leaf alone is built again, and its change is in the output
    leaf = root / "b" / "all.yaml"
    leaf.write_text(leaf.read_text().replace("default-deny: all", "default-deny: ingress"))
    changed = cli("render", str(root), "--build-cache", cache)
    assert [Path(b).name for b in builds] == ["b"]
    assert changed.stdout == cli("render", str(root)).stdout != plain.stdout


def test_a_root_built_whole_is_kept_whole(tmp_path: Path, builds: list[str]) -> None:
    root = aggregate(tmp_path / "repo", ["a", "b"], "commonLabels: {env: prod}\n")
    cache = str(tmp_path / "cache")
    first = cli("render", str(root), "--build-cache", cache)
    second = cli("render", str(root), "--build-cache", cache)
    assert len(builds) == 1 and first.code == 0
    assert first.stdout == second.stdout == cli("render", str(root)).stdout
    assert "env: prod" in second.stdout


def test_a_damaged_entry_is_built_again_with_a_note(tmp_path: Path, builds: list[str]) -> None:
    root = aggregate(tmp_path / "repo", ["a"])
    cache = tmp_path / "cache"
    first = cli("check", str(root), "--build-cache", str(cache), "--fail-on", "never")
    [entry] = [p for p in cache.rglob("*") if p.is_file()]
    entry.write_bytes(entry.read_bytes()[:-10])
    builds.clear()
    again = cli("check", str(root), "--build-cache", str(cache), "--fail-on", "never")
    assert len(builds) == 1 and again.stdout == first.stdout and again.code == first.code
    assert f"build cache: {entry} is corrupt or truncated" in again.stderr


def test_the_environment_turns_it_on_for_every_command(
    tmp_path: Path, builds: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = aggregate(tmp_path / "repo", ["a"])
    monkeypatch.setenv(build_cache.ENV, str(tmp_path / "cache"))
    runs = [cli("reach", str(root), "--generate", "-o", "json") for _ in range(2)]
    assert [r.code for r in runs] == [0, 0] and len(builds) == 1
    monkeypatch.delenv(build_cache.ENV)
    assert (
        runs[0].stdout
        == runs[1].stdout
        == cli("reach", str(root), "--generate", "-o", "json").stdout
    )


def test_a_cache_inside_the_repository_is_refused(tmp_path: Path, builds: list[str]) -> None:
    root = aggregate(tmp_path / "repo", ["a"])
    run = cli("render", str(root), "--build-cache", str(root / ".cache"))
    assert run.code == 1 and run.stdout == ""
    assert run.stderr.startswith(
        f"--build-cache: error: {root / '.cache'} is inside the repository being read"
    )
    assert not (root / ".cache").exists()


def _kustomized_repo(path: Path) -> Repo:
    repo = Repo(path)
    names = [f"team-{i}" for i in range(3)]
    for n in names:
        repo.write(
            f"{n}/all.yaml",
            f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {n}\n"
            "  annotations: {netpol-gitops.io/default-deny: all}\n",
        )
        repo.write(f"{n}/kustomization.yaml", "resources:\n- all.yaml\n")
    repo.write("kustomization.yaml", "resources:\n" + "".join(f"- {n}\n" for n in names))
    repo.commit("base")
    return repo


def test_diff_with_the_cache_is_the_diff_without_it(
    tmp_path: Path, builds: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tool("git")
    require_tool("kubectl")
    monkeypatch.setenv("NETPOL_GITOPS_SPLIT_AT", "2")
    repo = _kustomized_repo(tmp_path / "repo")
    base = repo.git("rev-parse", "HEAD")
    repo.write(
        "team-1/all.yaml", (repo.path / "team-1/all.yaml").read_text().replace("all}", "ingress}")
    )
    repo.commit("head")
    args = ["diff", "--repo", str(repo.path), "--base", base, "-o", "json"]
    plain = cli(*args)
    assert plain.code == 0, plain.stderr
    builds.clear()
    cache = str(tmp_path / "cache")
    cold = cli(*args, "--build-cache", cache)
    assert len(builds) == 4  # the base's three leaves, the head's changed one
    builds.clear()
    warm = cli(*args, "--build-cache", cache)
    assert builds == []
    assert plain.stdout == cold.stdout == warm.stdout and '"team-1"' in warm.stdout
    inside = cli(*args, "--build-cache", str(repo.path / "cache"))
    assert inside.code == 1 and "inside the repository being read" in inside.stderr
