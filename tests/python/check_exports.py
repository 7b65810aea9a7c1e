"""Reads newsgraph's exports with the tools people use and checks them.

Run from tests/exports.rs as

    python3 tests/python/check_exports.py DIR EXPECT.json

DIR holds nodes.csv, edges.csv, graph.graphml, graph.gexf, graph.json and
graph.svg (Graphviz's rendering of graph.dot). EXPECT.json says what the
graph must be: node and edge counts, how many edges stand for a symmetric
relation, and optionally a "probe" node whose label and aliases must come
through every format unchanged.

Every failure is collected and printed; the exit status is 1 if any check
failed, 2 if a consumer is missing.
"""

import json
import math
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

try:
    import igraph as ig
    import networkx as nx
    import pandas as pd
except ImportError as err:  # pragma: no cover - reported to the Rust test
    print(f"missing Python consumer: {err}", file=sys.stderr)
    sys.exit(2)

warnings.simplefilter("error", FutureWarning)
warnings.simplefilter("error", DeprecationWarning)

FAILURES = []

NUMBER = (int, float)

# attribute types as each reader gives them
GRAPHML_NODE = {
    "label": str,
    "type": str,
    "documents": int,
    "degree": int,
    "weighted_degree": float,
    "pagerank": float,
    "component": int,
    "community": int,
    "size": float,
    "r": int,
    "g": int,
    "b": int,
}
GRAPHML_EDGE = {"relation": str, "label": str, "weight": float, "undirected": bool}
GEXF_NODE = {
    k: v for k, v in GRAPHML_NODE.items() if k not in {"size", "r", "g", "b"}
} | {"viz": dict}
GEXF_EDGE = GRAPHML_EDGE
JSON_NODE = {
    "label": str,
    "type": str,
    "aliases": list,
    "documents": list,
    "document_count": int,
    "degree": int,
    "weighted_degree": int,
    "pagerank": float,
    "component": int,
    "community": int,
    "size": NUMBER,
    "color": str,
}
JSON_EDGE = {"relation": str, "label": str, "weight": int, "undirected": bool, "documents": list}
MEASURES = ["degree", "weighted_degree", "pagerank", "component", "community"]


def check(condition, message):
    if not condition:
        FAILURES.append(message)
    return condition


def check_types(where, data, types):
    for key, ty in types.items():
        if key not in data:
            check(False, f"{where}: attribute {key!r} missing ({sorted(data)})")
        elif not isinstance(data[key], ty) or (
            ty in (int, NUMBER) and isinstance(data[key], bool)
        ):
            check(
                False,
                f"{where}: {key!r} is {type(data[key]).__name__} {data[key]!r}, "
                f"expected {getattr(ty, '__name__', 'a number')}",
            )


def undirected_count(edges):
    return sum(1 for *_, d in edges if d.get("undirected") is True)


def check_networkx(name, g, expect, node_types, edge_types):
    """Counts, attribute types and measures of a graph networkx read."""
    check(g.is_directed(), f"{name}: networkx read an undirected graph")
    check(
        g.number_of_nodes() == expect["nodes"],
        f"{name}: {g.number_of_nodes()} nodes, expected {expect['nodes']}",
    )
    check(
        g.number_of_edges() == expect["edges"],
        f"{name}: {g.number_of_edges()} edges, expected {expect['edges']}",
    )
    edges = list(g.edges(data=True))
    check(
        undirected_count(edges) == expect["undirected"],
        f"{name}: {undirected_count(edges)} edges marked undirected, "
        f"expected {expect['undirected']}",
    )
    for node, data in list(g.nodes(data=True))[:50]:
        check_types(f"{name} node {node}", data, node_types)
    for s, t, data in edges[:50]:
        check_types(f"{name} edge {s}->{t}", data, edge_types)
    if g.number_of_nodes() == 0:
        return
    # degree and weighted degree as networkx counts them
    for node, data in g.nodes(data=True):
        check(
            data.get("degree") == g.degree(node),
            f"{name}: degree of {node} is {data.get('degree')}, networkx says {g.degree(node)}",
        )
        wd = g.degree(node, weight="weight")
        check(
            math.isclose(data.get("weighted_degree", -1), wd),
            f"{name}: weighted degree of {node} is {data.get('weighted_degree')}, "
            f"networkx says {wd}",
        )
    # PageRank: a symmetric edge counts in both directions
    h = nx.MultiDiGraph()
    h.add_nodes_from(g.nodes)
    for s, t, data in edges:
        h.add_edge(s, t, weight=data["weight"])
        if data.get("undirected"):
            h.add_edge(t, s, weight=data["weight"])
    pr = nx.pagerank(h, alpha=0.85, weight="weight", tol=1e-13, max_iter=10000)
    worst = max(abs(pr[n] - d["pagerank"]) for n, d in g.nodes(data=True))
    check(worst < 1e-9, f"{name}: PageRank differs from networkx.pagerank by {worst}")
    # components: the same partition as networkx's weakly connected ones
    ours = {}
    for node, data in g.nodes(data=True):
        ours.setdefault(data["component"], set()).add(node)
    theirs = sorted(sorted(c) for c in nx.weakly_connected_components(g))
    check(
        sorted(sorted(c) for c in ours.values()) == theirs,
        f"{name}: components differ from networkx.weakly_connected_components",
    )
    sizes = [len(ours[k]) for k in sorted(ours)]
    check(sizes == sorted(sizes, reverse=True), f"{name}: components not numbered by size")
    # communities: a partition with modularity as good as networkx's Louvain
    u = nx.Graph()
    u.add_nodes_from(g.nodes)
    for s, t, data in edges:
        w = u.get_edge_data(s, t, {"weight": 0})["weight"]
        u.add_edge(s, t, weight=w + data["weight"])
    communities = {}
    for node, data in g.nodes(data=True):
        communities.setdefault(data["community"], set()).add(node)
    if u.number_of_edges() > 0:
        q = nx.community.modularity(u, communities.values(), weight="weight")
        best = max(
            nx.community.modularity(
                u, nx.community.louvain_communities(u, weight="weight", seed=seed), weight="weight"
            )
            for seed in range(5)
        )
        expect.setdefault("_modularity", q)
        check(
            q >= best - 0.02,
            f"{name}: modularity of our communities {q:.4f} is well below networkx Louvain's {best:.4f}",
        )


def by_id(nodes):
    return {n: d for n, d in nodes}


def check_probe(name, label, aliases, expect):
    probe = expect.get("probe")
    if not probe:
        return
    check(label == probe["label"], f"{name}: probe label {label!r} != {probe['label']!r}")
    if aliases is not None:
        check(
            aliases == probe["aliases"],
            f"{name}: probe aliases {aliases!r} != {probe['aliases']!r}",
        )


def measures_of(data):
    return {k: data.get(k) for k in MEASURES}


def same_measures(name, reference, data):
    for k in MEASURES:
        a, b = reference.get(k), data.get(k)
        if isinstance(a, float) or isinstance(b, float):
            ok = a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-15)
        else:
            ok = a == b
        if not ok:
            check(False, f"{name}: {k} is {b!r}, GraphML says {a!r}")
            return


def main():
    directory = Path(sys.argv[1])
    expect = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
    probe = expect.get("probe")

    # --- GraphML: networkx and igraph --------------------------------------
    gml = nx.read_graphml(directory / "graph.graphml")
    check_networkx("networkx.read_graphml", gml, expect, GRAPHML_NODE, GRAPHML_EDGE)
    reference = {n: measures_of(d) for n, d in gml.nodes(data=True)}
    if probe:
        d = gml.nodes.get(probe["id"])
        if check(d is not None, "networkx.read_graphml: probe node missing"):
            check_probe("networkx.read_graphml", d.get("label"), d.get("aliases"), expect)

    ig_gml = ig.Graph.Read_GraphML(str(directory / "graph.graphml"))
    check(ig_gml.is_directed(), "igraph GraphML: not directed")
    check(ig_gml.vcount() == expect["nodes"], f"igraph GraphML: {ig_gml.vcount()} vertices")
    check(ig_gml.ecount() == expect["edges"], f"igraph GraphML: {ig_gml.ecount()} edges")
    if ig_gml.vcount() > 0:
        v = ig_gml.vs[0]
        # igraph keeps numbers as floats and booleans as bools
        for key in ["pagerank", "degree", "weighted_degree", "component", "community", "r"]:
            check(isinstance(v[key], float), f"igraph GraphML: {key} is {type(v[key]).__name__}")
        for key in ["label", "type", "aliases"]:
            check(isinstance(v[key], str), f"igraph GraphML: {key} is {type(v[key]).__name__}")
        for vertex in ig_gml.vs:
            ref = reference.get(vertex["id"])
            if check(ref is not None, f"igraph GraphML: unknown vertex {vertex['id']}"):
                check(
                    vertex["degree"] == ref["degree"] and vertex["community"] == ref["community"],
                    f"igraph GraphML: measures of {vertex['id']} differ",
                )
    if ig_gml.ecount() > 0:
        e = ig_gml.es[0]
        check(isinstance(e["weight"], float), "igraph GraphML: weight is not a number")
        check(isinstance(e["undirected"], bool), "igraph GraphML: undirected is not a boolean")
        check(
            sum(1 for e in ig_gml.es if e["undirected"]) == expect["undirected"],
            "igraph GraphML: undirected edges",
        )
        check(
            ig_gml.es.attributes().count("label") == 1,
            "igraph GraphML: edge label attribute",
        )
    if probe:
        found = [v for v in ig_gml.vs if v["id"] == probe["id"]]
        if check(len(found) == 1, "igraph GraphML: probe vertex missing"):
            check_probe("igraph GraphML", found[0]["label"], found[0]["aliases"], expect)

    # --- GEXF: networkx ----------------------------------------------------
    gexf = nx.read_gexf(directory / "graph.gexf")
    check_networkx("networkx.read_gexf", gexf, expect, GEXF_NODE, GEXF_EDGE)
    root = ET.parse(directory / "graph.gexf").getroot()
    check(root.get("version") == "1.3", "GEXF: version is not 1.3")
    ns = {"g": "http://gexf.net/1.3"}
    for a in root.iterfind(".//g:attribute", ns):
        check(
            a.get("type") in {"string", "integer", "long", "double", "float", "boolean"},
            f"GEXF: attribute {a.get('id')} has type {a.get('type')} (Gephi rejects it)",
        )
    for node, data in gexf.nodes(data=True):
        viz = data.get("viz", {})
        check("color" in viz and "size" in viz, f"GEXF: node {node} without viz:color/viz:size")
        ref = reference.get(node)
        if check(ref is not None, f"GEXF: node {node} not in GraphML"):
            same_measures(f"GEXF node {node}", ref, data)
            gml_first = gml.nodes[node].get("first_seen")
            check(
                data.get("start") == gml_first,
                f"GEXF: node {node} starts {data.get('start')!r}, first seen {gml_first!r}",
            )
    dated = any("start" in d for _, d in gexf.nodes(data=True))
    check(
        gexf.graph.get("mode") == ("dynamic" if dated else "static"),
        f"GEXF: mode {gexf.graph.get('mode')} with dated={dated}",
    )
    if probe and check(probe["id"] in gexf, "GEXF: probe node missing"):
        d = gexf.nodes[probe["id"]]
        check_probe("networkx.read_gexf", d.get("label"), d.get("aliases"), expect)

    # --- node-link JSON: networkx, igraph, D3 conventions --------------------
    data = json.loads((directory / "graph.json").read_text(encoding="utf-8"))
    nl = nx.node_link_graph(data, edges="links")
    check(nl.is_multigraph(), "node-link: not a multigraph")
    check_networkx("networkx.node_link_graph", nl, expect, JSON_NODE, JSON_EDGE)
    ids = [n["id"] for n in data["nodes"]]
    check(len(set(ids)) == len(ids), "node-link: duplicate node ids")
    check(
        all(l["source"] in set(ids) and l["target"] in set(ids) for l in data["links"]),
        "node-link: a link end is not a node id (D3 forceLink().id(d => d.id) needs it)",
    )
    for node, d in nl.nodes(data=True):
        if node in reference:
            same_measures(f"node-link node {node}", reference[node], d)
    ig_json = ig.Graph.DictList(
        vertices=data["nodes"],
        edges=data["links"],
        directed=True,
        vertex_name_attr="id",
        edge_foreign_keys=("source", "target"),
    )
    check(ig_json.vcount() == expect["nodes"], f"igraph JSON: {ig_json.vcount()} vertices")
    check(ig_json.ecount() == expect["edges"], f"igraph JSON: {ig_json.ecount()} edges")
    if probe and check(probe["id"] in nl, "node-link: probe node missing"):
        d = nl.nodes[probe["id"]]
        check_probe("networkx.node_link_graph", d["label"], "|".join(d["aliases"]), expect)

    # --- CSV: pandas and igraph ----------------------------------------------
    nodes = pd.read_csv(directory / "nodes.csv", keep_default_na=False, dtype={"first_seen": str, "last_seen": str})
    edges = pd.read_csv(directory / "edges.csv", keep_default_na=False, dtype={"first_seen": str, "last_seen": str})
    check(
        list(nodes.columns[:5]) == ["id", "label", "type", "aliases", "documents"],
        f"nodes.csv: columns {list(nodes.columns)}",
    )
    check(
        list(edges.columns[:6])
        == ["source", "target", "relation", "source_label", "target_label", "documents"],
        f"edges.csv: columns {list(edges.columns)}",
    )
    for col in ["Id", "Label"]:
        check(col in nodes.columns, f"nodes.csv: Gephi column {col} missing")
    for col in ["Source", "Target", "Type", "Kind", "Weight"]:
        check(col in edges.columns, f"edges.csv: Gephi column {col} missing")
    check(len(nodes) == expect["nodes"], f"nodes.csv: {len(nodes)} rows")
    check(len(edges) == expect["edges"], f"edges.csv: {len(edges)} rows")
    if len(nodes):
        check((nodes["Id"] == nodes["id"]).all(), "nodes.csv: Id != id")
        check((nodes["Label"] == nodes["label"]).all(), "nodes.csv: Label != label")
        for col in ["degree", "weighted_degree", "component", "community", "document_count"]:
            check(pd.api.types.is_integer_dtype(nodes[col]), f"nodes.csv: {col} is {nodes[col].dtype}")
        check(pd.api.types.is_float_dtype(nodes["pagerank"]), f"nodes.csv: pagerank is {nodes['pagerank'].dtype}")
        for row in nodes.itertuples():
            ref = reference.get(row.id)
            if check(ref is not None, f"nodes.csv: {row.id} not in GraphML"):
                same_measures(f"nodes.csv {row.id}", ref, row._asdict())
    if len(edges):
        check((edges["Source"] == edges["source"]).all(), "edges.csv: Source != source")
        check((edges["Target"] == edges["target"]).all(), "edges.csv: Target != target")
        check((edges["Kind"] == edges["relation"]).all(), "edges.csv: Kind != relation")
        check((edges["Weight"] == edges["weight"]).all(), "edges.csv: Weight != weight")
        check(pd.api.types.is_integer_dtype(edges["weight"]), f"edges.csv: weight is {edges['weight'].dtype}")
        check(set(edges["Type"]) <= {"Directed", "Undirected"}, f"edges.csv: Type {set(edges['Type'])}")
        check(
            int((edges["Type"] == "Undirected").sum()) == expect["undirected"],
            "edges.csv: Undirected rows",
        )
        ids = set(nodes["id"])
        check(
            edges["source"].isin(ids).all() and edges["target"].isin(ids).all(),
            "edges.csv: an edge end is not in nodes.csv",
        )
    ig_csv = ig.Graph.DataFrame(
        edges[["source", "target", "relation", "weight"]],
        directed=True,
        vertices=nodes[["id", "label", "type", "pagerank"]],
        use_vids=False,
    )
    check(ig_csv.vcount() == expect["nodes"], f"igraph CSV: {ig_csv.vcount()} vertices")
    check(ig_csv.ecount() == expect["edges"], f"igraph CSV: {ig_csv.ecount()} edges")
    if probe:
        rows = nodes[nodes["id"] == probe["id"]]
        if check(len(rows) == 1, "nodes.csv: probe row missing"):
            check_probe("pandas nodes.csv", rows.iloc[0]["label"], rows.iloc[0]["aliases"], expect)

    # --- SVG rendered by Graphviz from our DOT --------------------------------
    svg = ET.parse(directory / "graph.svg").getroot()
    sns = {"s": "http://www.w3.org/2000/svg"}
    groups = svg.findall(".//s:g", sns)
    svg_nodes = [g for g in groups if g.get("class") == "node"]
    svg_edges = [g for g in groups if g.get("class") == "edge"]
    check(len(svg_nodes) == expect["nodes"], f"Graphviz SVG: {len(svg_nodes)} nodes")
    check(len(svg_edges) == expect["edges"], f"Graphviz SVG: {len(svg_edges)} edges")
    if probe:
        drawn = [
            g for g in svg_nodes if (g.find("s:title", sns).text or "") == probe["id"]
        ]
        if check(len(drawn) == 1, "Graphviz SVG: probe node missing"):
            lines = [t.text or "" for t in drawn[0].iterfind(".//s:text", sns)]
            check_probe("Graphviz SVG", "\n".join(lines), None, expect)

    summary = {
        "modularity": expect.get("_modularity"),
        "nodes": expect["nodes"],
        "edges": expect["edges"],
    }
    if FAILURES:
        for f in FAILURES[:40]:
            print(f"FAIL {f}", file=sys.stderr)
        print(f"{len(FAILURES)} checks failed", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
