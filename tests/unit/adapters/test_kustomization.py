"""The walk of a repository's kustomizations: each read once, each refusal reported once."""

from __future__ import annotations

from pathlib import Path

import pytest

from netpol_gitops.adapters import kustomization
from netpol_gitops.adapters.inputs import plan
from netpol_gitops.errors import NetpolError


def test_a_base_named_by_many_overlays_is_read_once_and_reported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "kustomization.yaml").write_text(
        "resources:\n- https://example.com/x.yaml\n"
    )
    for i in range(20):
        overlay = tmp_path / f"overlay-{i}"
        overlay.mkdir()
        (overlay / "kustomization.yaml").write_text("resources:\n- ../base\n")
    reads: list[Path] = []
    original = kustomization._Walker._read_all

    def counted(self: kustomization._Walker, path: Path) -> list[object]:
        reads.append(path)
        return original(self, path)  # type: ignore[return-value]

    monkeypatch.setattr(kustomization._Walker, "_read_all", counted)
    with pytest.raises(NetpolError) as err:
        plan(tmp_path, tmp_path)
    assert len(reads) == 21  # the base once, each overlay once
    assert [p.location.line for p in err.value.problems] == [2]  # one problem, not 21


def test_a_walk_resolves_paths_as_realpath_does_in_any_order(tmp_path: Path) -> None:
    """``_Walker.real`` takes a shortcut for a plain name under a folder it resolved: the
    result must be ``realpath``'s for links to folders and files, dangling links, loops, ``..``
    and names that do not exist, whichever was asked first."""
    import random  # noqa: PLC0415

    from netpol_gitops.adapters.kustomization import _Walker, real  # noqa: PLC0415

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f.yaml").write_text("x: 1\n")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "to-b").symlink_to(tmp_path / "a" / "b")
    (tmp_path / "c" / "to-f").symlink_to(Path("..") / "a" / "b" / "f.yaml")
    (tmp_path / "c" / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "c" / "loop").symlink_to(tmp_path / "c" / "loop")
    names = ["a", "a/b", "a/b/f.yaml", "c", "c/to-b", "c/to-b/f.yaml", "c/to-f", "c/dangling"]
    names += ["c/dangling/x", "c/loop", "c/to-b/../b", "c/to-b/..", "a/missing", "c/to-b/new"]
    paths = [tmp_path / n for n in names]
    rng = random.Random(7)
    for _ in range(50):
        walker = _Walker(tmp_path, str)
        shuffled = list(paths)
        rng.shuffle(shuffled)
        for path in shuffled + shuffled:
            assert walker.real(path) == real(path), path
