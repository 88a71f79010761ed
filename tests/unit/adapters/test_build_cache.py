"""The build cache: what its key covers, how entries are written, read back and pruned."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from netpol_gitops.adapters import build_cache
from netpol_gitops.adapters.kustomization import Kustomizations
from netpol_gitops.errors import NetpolError

COMMAND = ["kubectl", "kustomize"]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "cache"
    monkeypatch.delenv(build_cache.ENV, raising=False)
    build_cache.configure(str(folder))
    yield folder
    build_cache.configure(None)
    build_cache._size.pop(folder, None)


def repo(root: Path) -> Path:
    """overlay -> base (a resource and a patch file)."""
    (root / "base").mkdir(parents=True)
    (root / "base" / "kustomization.yaml").write_text("resources:\n- ns.yaml\n")
    (root / "base" / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    (root / "overlay").mkdir()
    (root / "overlay" / "kustomization.yaml").write_text(
        "resources:\n- ../base\npatches:\n- path: p.yaml\n"
    )
    (root / "overlay" / "p.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
    )
    (root / "README.md").write_text("not read by the build\n")
    return root


def key_of(root: Path, version: bytes = b"v5.5.0") -> str | None:
    found = Kustomizations(root).closure(root / "overlay")
    return build_cache.key(root / "overlay", root, found, COMMAND, version)


def test_the_key_covers_every_file_the_build_reads_and_nothing_else(tmp_path: Path) -> None:
    root = repo(tmp_path / "r")
    first = key_of(root)
    assert first is not None and first == key_of(root)
    (root / "README.md").write_text("changed\n")  # not in the build: the same key
    assert key_of(root) == first
    keys: set[str | None] = {first}
    for path, text in [
        ("base/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n"),  # a base
        ("overlay/p.yaml", "# a comment\n"),  # a patch
        ("base/kustomization.yaml", "resources:\n- ns.yaml\nnamePrefix: x-\n"),  # a kustomization
    ]:
        (root / path).write_text(text)
        keys.add(key_of(root))
    assert len(keys) == 4 and None not in keys


def test_the_key_covers_kustomizes_version_the_command_and_where_the_root_is(
    tmp_path: Path,
) -> None:
    root = repo(tmp_path / "r")
    found = Kustomizations(root).closure(root / "overlay")
    keys = {
        build_cache.key(root / "overlay", root, found, COMMAND, b"v5.5.0"),
        build_cache.key(root / "overlay", root, found, COMMAND, b"v5.6.0"),
        build_cache.key(root / "overlay", root, found, ["kustomize", "build"], b"v5.5.0"),
    }
    assert len(keys) == 3
    # the same files under another folder: another key (paths are part of what kustomize reads)
    moved = repo(tmp_path / "m" / "deeper")
    (tmp_path / "m" / ".git").mkdir()
    found = Kustomizations(tmp_path / "m").closure(moved / "overlay")
    assert build_cache.key(moved / "overlay", tmp_path / "m", found, COMMAND, b"v5.5.0") not in keys
    # and the same tree elsewhere on disk (another checkout, a temporary revision): the same key
    again = repo(tmp_path / "again")
    assert key_of(again) == key_of(root)


def test_a_second_kustomization_file_in_a_folder_changes_the_key(tmp_path: Path) -> None:
    root = repo(tmp_path / "r")
    first = key_of(root)
    (root / "base" / "Kustomization").write_text("resources: []\n")  # kustomize refuses two
    assert key_of(root) not in (first, None)


def test_a_root_reached_through_a_symlink_is_not_cached(tmp_path: Path) -> None:
    root = repo(tmp_path / "r")
    (root / "overlay" / "p.yaml").unlink()
    (root / "real-p.yaml").write_text("# patch\n")
    (root / "overlay" / "p.yaml").symlink_to(root / "real-p.yaml")
    assert key_of(root) is None
    (root / "overlay" / "p.yaml").unlink()
    (root / "overlay" / "p.yaml").write_text("# patch\n")
    (root / "overlay" / "kustomization.yaml").write_text("resources:\n- ../linked\n")
    (root / "linked").symlink_to(root / "base")
    assert key_of(root) is None


def test_an_entry_reads_back_what_was_stored(cache: Path) -> None:
    entry = "ab" + "0" * 62
    assert build_cache.lookup(entry) is None  # absent: a miss
    build_cache.store(entry, b"kind: Namespace\n")
    assert build_cache.lookup(entry) == b"kind: Namespace\n"
    path = cache / "ab" / entry
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [entry]  # no temporary file left


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-3],  # truncated
        lambda data: data.replace(b"Namespace", b"Namespacf"),  # a body the digest refutes
        lambda data: data.replace(b"key ab", b"key cd", 1),  # another entry's header
        lambda data: b"",  # empty
        lambda data: b"\xff\xfe garbage",  # not an entry at all
    ],
)
def test_a_damaged_entry_is_a_miss_said_on_stderr(
    cache: Path, damage: object, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = "ab" + "1" * 62
    build_cache.store(entry, b"kind: Namespace\n")
    path = cache / "ab" / entry
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert build_cache.lookup(entry) is None
    err = capsys.readouterr().err
    assert f"netpol-gitops: warning: build cache: {path}" in err and "built again" in err
    build_cache.store(entry, b"kind: Namespace\n")  # rebuilt: kept again
    assert build_cache.lookup(entry) == b"kind: Namespace\n"


def test_an_entry_that_is_not_a_regular_file_is_a_miss(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = "ab" + "2" * 62
    (cache / "ab").mkdir(parents=True)
    os.mkfifo(cache / "ab" / entry)  # reading it must not wait for a writer
    assert build_cache.lookup(entry) is None
    assert "cannot be read as a regular file" in capsys.readouterr().err


def test_a_folder_that_cannot_be_written_is_said_never_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    build_cache.configure(str(tmp_path / "file"))  # a file where the folder should be
    try:
        build_cache.store("ab" + "3" * 62, b"x")
        assert build_cache.lookup("ab" + "3" * 62) is None
    finally:
        build_cache.configure(None)
    assert "netpol-gitops: warning: build cache: cannot write" in capsys.readouterr().err


def test_past_its_bound_the_entries_used_least_recently_go(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(build_cache.ENV_MB, "1")
    body = b"x" * (300 << 10)
    names = [f"{i:02d}" + "4" * 62 for i in range(3)]
    for i, name in enumerate(names):
        build_cache.store(name, body)
        os.utime(cache / name[:2] / name, (1000 + i, 1000 + i))
    assert build_cache.lookup(names[0]) == body  # used now: the newest
    build_cache.store("99" + "4" * 62, body)  # 1.2 MiB: past the bound
    kept = {n for n in [*names, "99" + "4" * 62] if (cache / n[:2] / n).exists()}
    assert kept == {names[0], names[2], "99" + "4" * 62}


def test_a_cache_inside_the_repository_is_refused(tmp_path: Path, cache: Path) -> None:
    build_cache.refuse_inside(tmp_path / "elsewhere")  # outside: fine
    with pytest.raises(NetpolError) as err:
        build_cache.refuse_inside(tmp_path)
    assert err.value.problems[0].location.source == "--build-cache"
    assert "inside the repository being read" in err.value.problems[0].message


def test_the_option_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(build_cache.ENV, str(tmp_path / "env"))
    assert build_cache.location() == tmp_path / "env"
    build_cache.configure(str(tmp_path / "opt"))
    try:
        assert build_cache.location() == tmp_path / "opt"
    finally:
        build_cache.configure(None)
    monkeypatch.setenv(build_cache.ENV, "")
    assert build_cache.location() is None
