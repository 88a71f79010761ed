"""The fast path agrees with a full parse on the 100-namespace benchmark corpus.

A fast path that disagrees with the full parse is a bug: documents split by the C event pass
and built by our constructor equal ruamel.yaml's full load; render's pass-through text reads
back as the same objects; normalised input gives the same policies; krm agrees with render."""

from __future__ import annotations

import importlib.util
import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from netpol_gitops.adapters.krm import run as krm_run
from netpol_gitops.adapters.krm import run_parsed
from netpol_gitops.analysis.documents import topology, topology_of
from netpol_gitops.yaml.resourcelist import read_resource_list
from netpol_gitops.yaml.stream import split_stream
from tests.helpers import ROOT, cli, require_shared

LOAD = YAML(typ="safe")


def _pair(line: str) -> tuple[str, str]:
    """(source, destination) of a txt line (peers hold neither " => " nor " : ")."""
    src, _, rest = line.partition(" => ")
    return src, rest.rpartition(" : ")[0]


def _translate() -> Any:
    spec = importlib.util.spec_from_file_location("corpus", ROOT / "benchmarks" / "corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.translate


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    make = require_shared("bench", "make_corpus.py")
    out = tmp_path_factory.mktemp("corpus")
    subprocess.run(
        [
            sys.executable,
            str(make),
            str(out),
            "--namespaces",
            "100",
            "--single-file",
            "--resource-list",
        ],
        check=True,
        capture_output=True,
    )
    translate = _translate()
    for name in ("stream.yaml", "resource-list.yaml"):
        (out / name).write_text(translate((out / name).read_text()))
    return out


def docs(text: str) -> list[Any]:
    return [d for d in LOAD.load_all(text) if d is not None]


def test_split_and_construct_equal_a_full_load(corpus: Path) -> None:
    text = (corpus / "stream.yaml").read_text()
    full = docs(text)
    assert [d.data() for d in split_stream(text, "stream.yaml")] == full
    assert len(full) == 1079


def test_pass_through_text_reads_back_as_the_same_objects(corpus: Path) -> None:
    text = (corpus / "stream.yaml").read_text()
    out = cli("render", str(corpus / "stream.yaml"))
    assert out.code == 0, out.stderr
    rendered = docs(out.stdout)
    full = docs(text)
    assert rendered[: len(full)] == full
    generated = rendered[len(full) :]
    assert generated and all(g["kind"] == "NetworkPolicy" for g in generated)


def test_normalised_input_gives_the_same_policies(corpus: Path, tmp_path: Path) -> None:
    normalised = tmp_path / "normalised.yaml"
    with normalised.open("w") as f:
        LOAD.dump_all(docs((corpus / "stream.yaml").read_text()), f)
    a = cli("render", str(corpus / "stream.yaml"), "--only-generated").stdout
    b = cli("render", str(normalised), "--only-generated").stdout
    assert a == b


def test_krm_and_render_agree_on_the_corpus(corpus: Path) -> None:
    result = krm_run((corpus / "resource-list.yaml").read_text(), corpus)
    assert result.exit_code == 0, result.stderr[:5]
    items = LOAD.load(result.output)["items"]
    managed = [
        i
        for i in items
        if (i["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by")
        == "netpol-gitops"
    ]
    rendered = docs(cli("render", str(corpus / "stream.yaml"), "--only-generated").stdout)
    assert managed == rendered


def test_krm_spans_and_the_full_parse_agree_on_the_corpus(corpus: Path) -> None:
    text = (corpus / "resource-list.yaml").read_text()
    assert read_resource_list(text) is not None  # the corpus takes the span path
    spans, parsed = krm_run(text, corpus), run_parsed(text, corpus)
    assert (spans.exit_code, spans.stderr) == (parsed.exit_code, parsed.stderr)
    assert LOAD.load(spans.output) == LOAD.load(parsed.output)
    again = krm_run(spans.output, corpus)
    assert again.output == spans.output  # its own output changes nothing


def test_reach_lines_come_in_the_order_the_pr_diff_merges_them(corpus: Path) -> None:
    out = cli("reach", "--generate", str(corpus / "stream.yaml"))
    keys = [_pair(line) for line in out.stdout.splitlines()]
    assert len(keys) > 1000
    assert any(k[0][0].isdigit() or k[1][0].isdigit() for k in keys)  # IP blocks among them
    assert all(a < b for a, b in itertools.pairwise(keys))


def test_pruned_workloads_equal_fully_built_ones(corpus: Path) -> None:
    docs_ = split_stream((corpus / "stream.yaml").read_text(), "stream.yaml")
    fast = topology_of(docs_)
    full = topology([o for d in docs_ for _, o in d.objects()])
    assert fast.workloads == full.workloads
    assert len(fast.workloads) == 300
