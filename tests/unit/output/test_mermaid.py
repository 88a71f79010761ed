"""The one Mermaid renderer: names cannot add statements; past the cap, namespaces only."""

from __future__ import annotations

import re

from netpol_gitops.output.mermaid import MAX_EDGES, Edge, flowchart

HOSTILE = 'shop/web"] --> evil["x[Pod]'


def test_a_quote_in_a_name_or_label_adds_no_statement() -> None:
    text = flowchart([Edge(HOSTILE, "shop/api[Pod]", 'TCP "80"\nclick x')])
    for line in text.splitlines()[1:]:
        # every quoted string is one label: no raw quote, no newline, inside it
        assert line.count('"') in (0, 2), line
    outside = re.sub(r'"[^"]*"', "", text)  # what is not a label: ids and arrows only
    assert re.fullmatch(r"[A-Za-z0-9_ \n\[\]|>.-]*", outside.replace("flowchart LR", "")), outside
    assert "#quot;" in text and len(text.splitlines()) == 6  # two nodes, one edge: no more


def test_past_the_cap_workloads_collapse_into_counted_namespace_edges() -> None:
    edges = [Edge(f"a/w{i}[Pod]", f"b/w{i}[Pod]", "TCP 80") for i in range(MAX_EDGES + 1)]
    edges.append(Edge("a/x[Pod]", "1.2.3.4-1.2.3.4[External]", "All", True, "-"))
    text = flowchart(edges)
    assert 'n_a -->|"41 connections"| n_b' in text
    assert 'n_a -.->|"-1 connection"| n_external' in text
    assert "w0" not in text


def test_at_the_cap_every_workload_is_drawn_in_its_namespace() -> None:
    edges = [Edge(f"a/w{i}[Pod]", f"b/w{i}[Pod]", "TCP 80") for i in range(MAX_EDGES)]
    text = flowchart(edges)
    assert 'subgraph n_ns_a["a"]' in text and text.count(" -->|") == MAX_EDGES
