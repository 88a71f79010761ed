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
