//! The graph exports read back by the tools people use: networkx
//! (`read_graphml`, `read_gexf`, `node_link_graph`), python-igraph, pandas,
//! Graphviz's `dot` and Jupyter (nbclient). The Python consumers are the
//! ones `scripts/requirements-test.txt` lists, installed into `.venv` by
//! `scripts/deps.sh`; `scripts/test` puts `.venv/bin` first on PATH. When
//! `python3` on PATH lacks them, or Graphviz is missing, these tests fail
//! and say how to install them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use newsgraph::export::{self, ExportFormat};
use newsgraph::graph::{Graph, Selection};
use newsgraph::model::{DocumentGraph, DocumentMeta, Entity, EntityType, Relation};
use newsgraph::ontology::Ontology;
use newsgraph::pipeline::{self, ExtractOptions};
use newsgraph::store::GraphStore;
use serde_json::Value;

use crate::common::{entity, fact};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

const INSTALL: &str = "install the test consumers with `NEWSGRAPH_DEPS=test bash scripts/deps.sh` \
     and put .venv/bin first on PATH (`export PATH=$PWD/.venv/bin:$PATH`), or run \
     ./scripts/test, which does both";

/// `python3` from PATH, checked once to have every consumer the tests use.
fn python() -> Command {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    let check = CHECK.get_or_init(|| {
        match Command::new("python3")
            .args([
                "-c",
                "import networkx, igraph, pandas, scipy, matplotlib, nbformat, nbclient, ipykernel",
            ])
            .output()
        {
            Err(e) => Err(format!("cannot run python3: {e}")),
            Ok(o) if !o.status.success() => Err(String::from_utf8_lossy(&o.stderr).into_owned()),
            Ok(_) => Ok(()),
        }
    });
    if let Err(e) = check {
        panic!(
            "these tests read the exports with Python's networkx, igraph, pandas and nbclient, \
             but `python3` on PATH cannot import them:\n{e}\n{INSTALL}"
        );
    }
    Command::new("python3")
}

/// Graphviz's `dot`, checked once.
fn graphviz() -> Command {
    static CHECK: OnceLock<bool> = OnceLock::new();
    let ok = *CHECK.get_or_init(|| {
        Command::new("dot")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    assert!(
        ok,
        "Graphviz's `dot` is not on PATH: install graphviz and fonts-noto-cjk \
         (apt-get install graphviz fonts-noto-cjk), or run ./scripts/test"
    );
    Command::new("dot")
}

fn run_ok(mut command: Command, what: &str) -> Output {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The seed articles in an in-memory store.
fn seed_store() -> GraphStore {
    let ontology = Ontology::load(None).unwrap();
    let extracted = pipeline::extract_inputs(
        &[root().join("seeds")],
        &ontology,
        &ExtractOptions::default(),
        &|_| {},
    )
    .unwrap();
    assert!(extracted.skipped.is_empty(), "{:?}", extracted.skipped);
    let store = GraphStore::in_memory().unwrap();
    store.replace_documents(&extracted.documents).unwrap();
    store
}

/// A label with everything that breaks careless writers: quotes, `<`, `&`,
/// an entity reference, a backslash escape Graphviz would expand, a newline.
const TRICKY: &str = "광주 \"AI\" <R&D> &lt; \\N 연구소\n센터 & Co.";

fn tricky() -> Entity {
    entity(
        EntityType::Organization,
        TRICKY,
        &["R&D \"센터\"", "<광주>"],
    )
}

/// Two documents (one dated, ids with awkward characters) around the
/// tricky organisation, with a symmetric edge and two parallel edges.
fn tricky_docs() -> Vec<DocumentGraph> {
    let t = tricky();
    let other = entity(EntityType::Organization, "한국<광>산업진흥회", &[]);
    let person = entity(EntityType::Person, "홍길동", &[]);
    let ai = entity(EntityType::Sector, "인공지능", &["AI"]);
    let sentence = "광주 \"AI\" <R&D>와 한국<광>산업진흥회가\n협약을 맺었다 & 끝.";
    vec![
        DocumentGraph {
            meta: DocumentMeta {
                id: "기사 \"1\" <&>.txt".into(),
                source: "in/기사 \"1\" <&>.txt".into(),
                title: Some("제목 \"<&>\"".into()),
                date: Some("2024-05-01".into()),
                ..DocumentMeta::default()
            },
            entities: vec![t.clone(), other.clone(), person.clone(), ai.clone()],
            facts: vec![
                fact(&t, Relation::SignedMouWith, &other, 1, sentence),
                fact(&t, Relation::MemberOf, &other, 2, "참여했다."),
                fact(&t, Relation::PartOf, &other, 3, "산하 기관이다."),
                fact(&person, Relation::HeadOf, &t, 4, "홍길동 센터장"),
                fact(&t, Relation::TargetsSector, &ai, 5, "AI를 육성한다."),
            ],
        },
        DocumentGraph {
            meta: DocumentMeta {
                id: "plain.txt".into(),
                source: "in/plain.txt".into(),
                ..DocumentMeta::default()
            },
            entities: vec![t.clone(), person.clone()],
            facts: vec![fact(&person, Relation::HeadOf, &t, 0, "홍길동 센터장은")],
        },
    ]
}

/// Writes every graph format of `store` (narrowed by `selection`) into
/// `dir`, renders the DOT with Graphviz (which must print nothing on
/// standard error) and returns the graph the files hold.
fn export_all(store: &GraphStore, dir: &Path, selection: &Selection) -> Graph {
    for format in [
        ExportFormat::GraphMl,
        ExportFormat::Gexf,
        ExportFormat::Json,
        ExportFormat::Dot,
    ] {
        let path = dir.join(format!("graph.{}", format.extension().unwrap()));
        let written = export::export_selected(store, format, &path, selection).unwrap();
        assert_eq!(written, vec![path]);
    }
    let written = export::export_selected(store, ExportFormat::Csv, dir, selection).unwrap();
    assert_eq!(written.len(), 2);
    let mut dot = graphviz();
    dot.arg("-Tsvg")
        .arg("-o")
        .arg(dir.join("graph.svg"))
        .arg(dir.join("graph.dot"));
    let out = run_ok(dot, "dot -Tsvg graph.dot");
    assert!(
        out.stderr.is_empty(),
        "Graphviz warned about our DOT:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Graph::from_store(store, selection).unwrap()
}

/// Runs tests/python/check_exports.py on `dir`; returns its summary.
fn check_with_python(dir: &Path, graph: &Graph, probe: Option<Value>) -> Value {
    let mut expect = serde_json::json!({
        "nodes": graph.nodes.len(),
        "edges": graph.edges.len(),
        "undirected": graph.undirected_edges(),
    });
    if let Some(p) = probe {
        expect["probe"] = p;
    }
    let expect_path = dir.join("expect.json");
    std::fs::write(&expect_path, expect.to_string()).unwrap();
    let mut py = python();
    py.arg(root().join("tests/python/check_exports.py"))
        .arg(dir)
        .arg(&expect_path);
    let out = run_ok(py, "tests/python/check_exports.py");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check_exports.py printed no summary ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn the_seed_graph_opens_in_every_consumer() {
    let store = seed_store();
    let tmp = tempfile::tempdir().unwrap();
    let graph = export_all(&store, tmp.path(), &Selection::default());
    assert!(graph.nodes.len() > 50, "{} nodes", graph.nodes.len());
    assert!(graph.edges.len() > 50, "{} edges", graph.edges.len());
    assert!(graph.undirected_edges() > 0, "the seeds have MOUs");
    let summary = check_with_python(tmp.path(), &graph, None);
    let q = summary["modularity"].as_f64().unwrap();
    assert!(q > 0.3, "modularity of the seed communities: {q}");

    // The SCHEMA.md contract columns come first, Gephi's columns follow.
    let nodes = std::fs::read_to_string(tmp.path().join("nodes.csv")).unwrap();
    let header = nodes.lines().next().unwrap();
    assert!(
        header.starts_with("id,label,type,aliases,documents,"),
        "{header}"
    );
    assert!(header.ends_with(",Id,Label"), "{header}");
    let edges = std::fs::read_to_string(tmp.path().join("edges.csv")).unwrap();
    let header = edges.lines().next().unwrap();
    assert!(
        header.starts_with("source,target,relation,source_label,target_label,documents,weight,"),
        "{header}"
    );
    assert!(
        header.ends_with(",Source,Target,Type,Kind,Label,Weight"),
        "{header}"
    );

    // GraphML keys: typed, per domain, unique names per domain.
    let graphml = std::fs::read_to_string(tmp.path().join("graph.graphml")).unwrap();
    let mut names: BTreeSet<(String, String)> = BTreeSet::new();
    for line in graphml
        .lines()
        .filter(|l| l.trim_start().starts_with("<key "))
    {
        let get = |attr: &str| {
            let start = line.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
            line[start..start + line[start..].find('"').unwrap()].to_string()
        };
        let ty = get("attr.type");
        assert!(
            ["boolean", "int", "long", "float", "double", "string"].contains(&ty.as_str()),
            "{line}"
        );
        let domain = get("for");
        assert!(domain == "node" || domain == "edge", "{line}");
        assert!(
            names.insert((domain, get("attr.name"))),
            "duplicate: {line}"
        );
    }
    for key in ["pagerank", "community", "degree", "r", "g", "b", "size"] {
        assert!(names.contains(&("node".into(), key.into())), "{key}");
    }
    for key in ["weight", "label", "relation", "undirected"] {
        assert!(names.contains(&("edge".into(), key.into())), "{key}");
    }
    // A symmetric relation is one element per pair.
    let mou = graph
        .edges
        .iter()
        .filter(|e| e.row.relation == "signedMouWith")
        .count();
    let mut pairs = BTreeSet::new();
    for e in graph.edges.iter().filter(|e| e.undirected) {
        let (a, b) = (e.source.min(e.target), e.source.max(e.target));
        assert!(pairs.insert((a, b)), "an MOU pair written twice");
    }
    assert_eq!(pairs.len(), mou);

    // DOT names a Hangul font and quotes Korean labels.
    let dot = std::fs::read_to_string(tmp.path().join("graph.dot")).unwrap();
    assert!(dot.contains("fontname=\"Noto Sans CJK KR\""));
    assert!(dot.contains("label=\"광주광역시\""), "seed label quoted");
    assert!(dot.contains("dir=\"none\""), "MOUs undirected");
}

#[test]
fn a_korean_label_with_quotes_brackets_ampersands_and_newlines_survives_every_format() {
    let store = GraphStore::in_memory().unwrap();
    store.replace_documents(&tricky_docs()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let graph = export_all(&store, tmp.path(), &Selection::default());
    assert_eq!(graph.nodes.len(), 4);
    assert_eq!(graph.edges.len(), 5, "parallel edges kept apart");
    assert_eq!(graph.undirected_edges(), 1);
    let node = graph
        .nodes
        .iter()
        .find(|n| *n.row.iri == *tricky().iri)
        .expect("the tricky node");
    assert_eq!(node.row.label, TRICKY);
    assert_eq!(node.first_seen.as_deref(), Some("2024-05-01"));
    let probe = serde_json::json!({
        "id": node.row.iri,
        "label": TRICKY,
        "aliases": node.row.aliases.join("|"),
    });
    check_with_python(tmp.path(), &graph, Some(probe));

    // The raw files escape rather than break.
    let dot = std::fs::read_to_string(tmp.path().join("graph.dot")).unwrap();
    assert!(
        dot.contains(r#"label="광주 \"AI\" <R&amp;D> &amp;lt; \\N 연구소\n센터 &amp; Co.""#),
        "{dot}"
    );
    let graphml = std::fs::read_to_string(tmp.path().join("graph.graphml")).unwrap();
    assert!(graphml.contains("광주 \"AI\" &lt;R&amp;D&gt; &amp;lt; \\N 연구소\n센터 &amp; Co."));
    let gexf = std::fs::read_to_string(tmp.path().join("graph.gexf")).unwrap();
    assert!(gexf.contains(
        "label=\"광주 &quot;AI&quot; &lt;R&amp;D&gt; &amp;lt; \\N 연구소&#10;센터 &amp; Co.\""
    ));
    // Document ids with quotes and brackets come through the CSV intact.
    let mut reader = csv::Reader::from_path(tmp.path().join("edges.csv")).unwrap();
    let documents: BTreeSet<String> = reader
        .records()
        .flat_map(|r| {
            r.unwrap()[5]
                .split('|')
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(documents.contains("기사 \"1\" <&>.txt"), "{documents:?}");
}

#[test]
fn an_empty_graph_exports_valid_files() {
    let store = GraphStore::in_memory().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let graph = export_all(&store, tmp.path(), &Selection::default());
    assert!(graph.nodes.is_empty() && graph.edges.is_empty());
    check_with_python(tmp.path(), &graph, None);
    let mut png = Vec::new();
    export::write_graph(&graph, ExportFormat::Png, &mut png).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
}

#[test]
fn selections_narrow_the_graph_and_measure_what_is_left() {
    let store = GraphStore::in_memory().unwrap();
    store.replace_documents(&tricky_docs()).unwrap();
    let all = Graph::from_store(&store, &Selection::default()).unwrap();
    let hong = all.nodes.iter().find(|n| n.row.label == "홍길동").unwrap();
    let head = all
        .edges
        .iter()
        .find(|e| e.row.relation == "headOf")
        .unwrap();
    assert_eq!(head.row.weight, 2, "stated by both documents");
    assert_eq!(hong.row.documents.len(), 2);

    // --documents: what those documents state, weights counted over them.
    let only = |ids: &[&str]| Selection {
        documents: ids.iter().map(|s| s.to_string()).collect(),
        ..Selection::default()
    };
    let plain = Graph::from_store(&store, &only(&["plain.txt"])).unwrap();
    assert_eq!(plain.nodes.len(), 2);
    assert_eq!(plain.edges.len(), 1);
    assert_eq!(plain.edges[0].row.weight, 1);
    assert_eq!(plain.edges[0].row.first_seen, None, "plain.txt has no date");
    assert!(plain.nodes.iter().all(|n| n.measures.degree == 1));
    let err = Graph::from_store(&store, &only(&["nope.txt"])).unwrap_err();
    assert!(err.to_string().contains("`nope.txt`"), "{err}");

    // --relations, --types, --min-weight.
    let mou = Graph::from_store(
        &store,
        &Selection {
            relations: vec![Relation::SignedMouWith],
            ..Selection::default()
        },
    )
    .unwrap();
    assert_eq!((mou.nodes.len(), mou.edges.len()), (2, 1));
    let orgs = Graph::from_store(
        &store,
        &Selection {
            types: vec![EntityType::Organization],
            ..Selection::default()
        },
    )
    .unwrap();
    assert_eq!((orgs.nodes.len(), orgs.edges.len()), (2, 3));
    let heavy = Graph::from_store(
        &store,
        &Selection {
            min_weight: 2,
            ..Selection::default()
        },
    )
    .unwrap();
    assert_eq!((heavy.nodes.len(), heavy.edges.len()), (2, 1));
    assert_eq!(heavy.edges[0].row.relation, "headOf");
    // --min-confidence: the test facts are found with confidence 0.9.
    let sure = |min: f32| Selection {
        min_confidence: min,
        ..Selection::default()
    };
    let all = Graph::from_store(&store, &sure(0.9)).unwrap();
    assert!(all
        .edges
        .iter()
        .all(|e| (e.row.confidence - 0.9).abs() < 1e-6));
    assert_eq!(
        all.edges.len(),
        Graph::from_store(&store, &Selection::default())
            .unwrap()
            .edges
            .len()
    );
    assert!(Graph::from_store(&store, &sure(0.95))
        .unwrap()
        .edges
        .is_empty());

    // --around by alias, --depth.
    let around = |name: &str, depth: usize| Selection {
        around: Some(name.into()),
        depth,
        ..Selection::default()
    };
    let g = Graph::from_store(&store, &around("홍길동", 1)).unwrap();
    assert_eq!(g.nodes.len(), 2);
    let g = Graph::from_store(&store, &around("홍길동", 2)).unwrap();
    assert_eq!(g.nodes.len(), 4);
    let g = Graph::from_store(&store, &around("<광주>", 0)).unwrap();
    assert_eq!(g.nodes.len(), 1, "an alias finds the node");
    assert_eq!(g.nodes[0].row.label, TRICKY);
    let g = Graph::from_store(&store, &around("ai", 1)).unwrap();
    assert_eq!(g.nodes.len(), 2, "ASCII case is ignored");
    let err = Graph::from_store(&store, &around("한국", 1)).unwrap_err();
    assert!(err.to_string().contains("no entity named `한국`"), "{err}");
    assert!(err.to_string().contains("한국<광>산업진흥회"), "{err}");

    // Measures are those of the selected graph.
    let sum: f64 = mou.nodes.iter().map(|n| n.measures.pagerank).sum();
    assert!((sum - 1.0).abs() < 1e-9);
    assert!(mou
        .nodes
        .iter()
        .all(|n| n.measures.degree == 1 && n.measures.component == 0 && n.measures.community == 0));
    assert!((mou.nodes[0].measures.pagerank - 0.5).abs() < 1e-9);

    // RDF dumps refuse a selection.
    let err = export::export_selected(
        &store,
        ExportFormat::Turtle,
        Path::new("-"),
        &around("홍길동", 1),
    )
    .unwrap_err();
    assert!(err.to_string().contains("turtle"), "{err}");
}

#[test]
fn measures_find_the_two_communities_of_two_joined_cliques() {
    // Two groups of organisations that signed MOUs among themselves, one
    // MOU between the groups: Louvain gives exactly the two groups.
    let group = |prefix: &str, n: usize| -> Vec<Entity> {
        (0..n)
            .map(|i| entity(EntityType::Organization, &format!("{prefix}{i}"), &[]))
            .collect()
    };
    let a = group("가", 5);
    let b = group("나", 4);
    let mut facts = Vec::new();
    for g in [&a, &b] {
        for (i, x) in g.iter().enumerate() {
            for y in &g[i + 1..] {
                facts.push(fact(x, Relation::SignedMouWith, y, 0, "협약"));
            }
        }
    }
    facts.push(fact(&a[0], Relation::SignedMouWith, &b[0], 0, "협약"));
    let doc = DocumentGraph {
        meta: DocumentMeta {
            id: "cliques.txt".into(),
            source: "cliques.txt".into(),
            ..DocumentMeta::default()
        },
        entities: a.iter().chain(&b).cloned().collect(),
        facts,
    };
    let store = GraphStore::in_memory().unwrap();
    store.replace_documents(&[doc]).unwrap();
    let graph = Graph::from_store(&store, &Selection::default()).unwrap();
    let community: BTreeMap<&str, usize> = graph
        .nodes
        .iter()
        .map(|n| (n.row.label.as_str(), n.measures.community))
        .collect();
    for x in &a {
        assert_eq!(community[&*x.label], 0, "{community:?}");
    }
    for y in &b {
        assert_eq!(community[&*y.label], 1, "{community:?}");
    }
    assert!(graph.nodes.iter().all(|n| n.measures.component == 0));
    let bridge = graph.nodes.iter().find(|n| n.row.label == "가0").unwrap();
    assert_eq!(bridge.measures.degree, 5);
    // The same in every format: networkx agrees on degree, PageRank and
    // components, and the communities' modularity is as good as its Louvain.
    let tmp = tempfile::tempdir().unwrap();
    export_all(&store, tmp.path(), &Selection::default());
    let summary = check_with_python(tmp.path(), &graph, None);
    assert!(summary["modularity"].as_f64().unwrap() > 0.35, "{summary}");
}

#[test]
fn the_notebook_runs_end_to_end() {
    let store = seed_store();
    let tmp = tempfile::tempdir().unwrap();
    export::export(&store, ExportFormat::Csv, tmp.path()).unwrap();
    export::export(
        &store,
        ExportFormat::GraphMl,
        &tmp.path().join("graph.graphml"),
    )
    .unwrap();
    let mut py = python();
    py.arg(root().join("tests/python/run_notebook.py"))
        .arg(root().join("examples/notebook.ipynb"))
        .arg(tmp.path())
        .arg(tmp.path().join("executed.ipynb"));
    run_ok(py, "examples/notebook.ipynb");
    let plot = std::fs::read(tmp.path().join("sectors.png")).expect("the notebook's plot");
    assert!(plot.starts_with(b"\x89PNG\r\n\x1a\n"));
    let executed = std::fs::read_to_string(tmp.path().join("executed.ipynb")).unwrap();
    assert!(
        executed.contains("광주광역시"),
        "the analyses name the seeds' city"
    );
}

// ---------------------------------------------------------------------------
// The command line.

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

fn newsgraph(args: &[&str], path_env: Option<&Path>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_newsgraph"));
    command.args(args);
    if let Some(p) = path_env {
        command.env("PATH", p);
    }
    let out = command.output().expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json_of(run: &Run) -> Value {
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_slice(&run.stdout).unwrap()
}

fn labels(graph: &Value) -> BTreeSet<String> {
    graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_cli_selects_renders_and_explains_missing_graphviz() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let db = s(&db);
    let seeds = root().join("seeds");
    let built = newsgraph(&["-q", "--store", db, "build", s(&seeds)], None);
    assert_eq!(built.code, 0, "{}", built.stderr);
    let export = |extra: &[&str]| {
        let mut args = vec![
            "-q", "--store", db, "export", "--format", "json", "--out", "-",
        ];
        args.extend_from_slice(extra);
        newsgraph(&args, None)
    };
    let all = json_of(&export(&[]));
    let links = |g: &Value| g["links"].as_array().unwrap().clone();
    let nodes = |g: &Value| g["nodes"].as_array().unwrap().clone();
    assert!(links(&all).len() > 50);

    let targets = json_of(&export(&["--relations", "targetsSector"]));
    assert!(!links(&targets).is_empty());
    assert!(links(&targets)
        .iter()
        .all(|l| l["relation"] == "targetsSector"));
    assert!(nodes(&targets)
        .iter()
        .all(|n| n["degree"].as_u64() >= Some(1)));

    let typed = json_of(&export(&["--types", "Organization,Sector"]));
    assert!(nodes(&typed)
        .iter()
        .all(|n| n["type"] == "Organization" || n["type"] == "Sector"));
    assert!(links(&typed).len() < links(&all).len());

    let heavy = json_of(&export(&["--min-weight", "2"]));
    assert!(!links(&heavy).is_empty());
    assert!(links(&heavy)
        .iter()
        .all(|l| l["weight"].as_u64() >= Some(2)));

    // --min-weight 1 keeps every edge and drops the isolated nodes.
    let connected = json_of(&export(&["--min-weight", "1"]));
    assert_eq!(links(&connected).len(), links(&all).len());
    assert!(nodes(&connected).len() < nodes(&all).len());
    assert!(nodes(&connected)
        .iter()
        .all(|n| n["degree"].as_u64() >= Some(1)));

    let doc = "002_4ae2f070b7fbc9b8.txt";
    let one = json_of(&export(&["--documents", doc]));
    assert!(!nodes(&one).is_empty());
    assert!(nodes(&one)
        .iter()
        .all(|n| n["documents"] == serde_json::json!([doc])));

    // --around by an alias: the centre and its neighbours, then further.
    let near = json_of(&export(&["--around", "광주시"]));
    let centre = "광주광역시";
    let mut expected: BTreeSet<String> = BTreeSet::from([centre.to_string()]);
    for l in links(&all) {
        if l["source"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{centre}"))
        {
            expected.insert(target_label(&all, &l, "target"));
        }
        if l["target"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{centre}"))
        {
            expected.insert(target_label(&all, &l, "source"));
        }
    }
    assert_eq!(labels(&near), expected);
    let far = json_of(&export(&["--around", "광주시", "--depth", "2"]));
    assert!(labels(&far).is_superset(&labels(&near)));
    assert!(labels(&far).len() > labels(&near).len());

    // Mistakes are explained.
    for (args, message) in [
        (vec!["--around", "없는기관"], "no entity named `없는기관`"),
        (vec!["--depth", "2"], "--around"),
        (vec!["--relations", "likes"], "signedMouWith"),
        (vec!["--types", "Animal"], "Organization"),
        (vec!["--documents", "nope.txt"], "`nope.txt`"),
    ] {
        let run = export(&args);
        assert_ne!(run.code, 0, "{args:?}");
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
    let rdf = newsgraph(
        &[
            "--store", db, "export", "--format", "turtle", "--out", "-", "--types", "Person",
        ],
        None,
    );
    assert_ne!(rdf.code, 0);
    assert!(rdf.stderr.contains("graph formats"), "{}", rdf.stderr);

    // GraphML and DOT to standard output; SVG and PNG through Graphviz.
    for (format, start) in [
        ("graphml", &b"<?xml"[..]),
        ("gexf", b"<?xml"),
        ("dot", b"digraph"),
        ("svg", b"<?xml"),
    ] {
        let run = newsgraph(
            &[
                "-q", "--store", db, "export", "--format", format, "--out", "-",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        assert!(run.stdout.starts_with(start), "{format}");
    }
    graphviz();
    let png = tmp.path().join("seeds.png");
    let run = newsgraph(
        &[
            "--store",
            db,
            "export",
            "--format",
            "png",
            "--out",
            s(&png),
            "--around",
            "광주광역시",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("wrote"), "{}", run.stderr);
    assert!(std::fs::read(&png)
        .unwrap()
        .starts_with(b"\x89PNG\r\n\x1a\n"));

    // Without Graphviz, svg and png say how to install it.
    let empty = tmp.path().join("empty-path");
    std::fs::create_dir(&empty).unwrap();
    for format in ["svg", "png"] {
        let out = tmp.path().join(format!("x.{format}"));
        let run = newsgraph(
            &[
                "--store",
                db,
                "export",
                "--format",
                format,
                "--out",
                s(&out),
            ],
            Some(&empty),
        );
        assert_eq!(run.code, 2, "{format}: {}", run.stderr);
        assert!(
            run.stderr.contains("apt-get install graphviz"),
            "{format}: {}",
            run.stderr
        );
        assert!(!out.exists(), "no half-written {format}");
    }
    // … while dot itself needs no Graphviz.
    let run = newsgraph(
        &[
            "-q", "--store", db, "export", "--format", "dot", "--out", "-",
        ],
        Some(&empty),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

fn target_label(graph: &Value, link: &Value, end: &str) -> String {
    let id = link[end].as_str().unwrap();
    graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == id)
        .map(|n| n["label"].as_str().unwrap().to_string())
        .unwrap()
}
