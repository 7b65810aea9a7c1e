//! The RDF mapping, the on-disk store, stats, node/edge rows, queries and
//! exports, on hand-built documents.

use std::collections::BTreeSet;
use std::path::Path;

use newsgraph::export::{self, ExportFormat};
use newsgraph::model::{
    document_iri, DocumentGraph, DocumentMeta, Entity, EntityType, Relation, ONTOLOGY_NS,
};
use newsgraph::query::{run_query, ResultsFormat};
use newsgraph::store::{document_quads, GraphStore};
use newsgraph::Error;
use oxigraph::io::{RdfFormat, RdfParser};
use oxigraph::model::GraphName;

use crate::common::{entity, fact};

fn gwangju() -> Entity {
    entity(EntityType::Organization, "광주광역시", &["광주시"])
}
fn aiia() -> Entity {
    entity(
        EntityType::Organization,
        "인공지능산업융합사업단",
        &["AI사업단"],
    )
}
fn kopia() -> Entity {
    entity(EntityType::Organization, "한국광산업진흥회", &[])
}
fn kang() -> Entity {
    entity(EntityType::Person, "강기정", &[])
}
fn ai() -> Entity {
    entity(EntityType::Sector, "인공지능", &["AI"])
}

const MOU: &str = "인공지능산업융합사업단과 한국광산업진흥회가 손을 맞잡았다.";

/// Document A: an MOU (AI사업단 ↔ 진흥회), a mayor, a sector.
fn doc_a() -> DocumentGraph {
    let (g, a, k, p, s) = (gwangju(), aiia(), kopia(), kang(), ai());
    DocumentGraph {
        meta: DocumentMeta {
            id: "a.txt".into(),
            source: "seeds/a.txt".into(),
            title: Some("광주시, AI 협약".into()),
            date: Some("2021-03-04".into()),
            ..DocumentMeta::default()
        },
        facts: vec![
            fact(&a, Relation::SignedMouWith, &k, 2, MOU),
            fact(&p, Relation::HeadOf, &g, 3, "강기정 광주시장은 말했다."),
            fact(
                &g,
                Relation::TargetsSector,
                &s,
                3,
                "강기정 광주시장은 말했다.",
            ),
        ],
        entities: vec![g, a, k, p, s],
    }
}

/// Document B: the same MOU stated the other way round, a later date, and
/// another alias of 광주광역시.
fn doc_b() -> DocumentGraph {
    let (mut g, a, k) = (gwangju(), aiia(), kopia());
    g.aliases.insert("광주".into());
    DocumentGraph {
        meta: DocumentMeta {
            id: "dir/b.txt".into(),
            source: "seeds/dir/b.txt".into(),
            title: None,
            date: Some("2021-05-06".into()),
            ..DocumentMeta::default()
        },
        facts: vec![
            fact(
                &k,
                Relation::SignedMouWith,
                &a,
                0,
                "진흥회와 AI사업단이 협약을 맺었다.",
            ),
            fact(&a, Relation::PartOf, &g, 1, "광주시 산하 AI사업단"),
        ],
        entities: vec![g, a, k],
    }
}

fn query_string(store: &GraphStore, q: &str, format: ResultsFormat) -> String {
    let mut out = Vec::new();
    run_query(store, q, format, &mut out).expect("query runs");
    String::from_utf8(out).expect("utf-8")
}

fn count(store: &GraphStore, pattern: &str) -> usize {
    let out = query_string(
        store,
        &format!("SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}"),
        ResultsFormat::Csv,
    );
    out.lines()
        .nth(1)
        .expect("one row")
        .trim()
        .parse()
        .expect("a number")
}

#[test]
fn mapping_of_a_document() {
    let doc = doc_a();
    let quads = document_quads(&doc);
    let doc_graph = document_iri("a.txt");
    assert!(quads.iter().all(|q| q.graph_name
        == GraphName::NamedNode(oxigraph::model::NamedNode::new(&doc_graph).unwrap())));
    let nt: BTreeSet<String> = quads
        .iter()
        .map(|q| format!("{} {} {}", q.subject, q.predicate, q.object))
        .collect();
    let d = format!("<{doc_graph}>");
    let ng = |l: &str| format!("<{ONTOLOGY_NS}{l}>");
    let rdf = |l: &str| format!("<http://www.w3.org/1999/02/22-rdf-syntax-ns#{l}>");
    let has = |s: &str| assert!(nt.contains(s), "missing `{s}` in\n{nt:#?}");
    has(&format!("{d} {} {}", rdf("type"), ng("Document")));
    has(&format!("{d} {} \"a.txt\"", ng("documentId")));
    has(&format!("{d} {} \"seeds/a.txt\"", ng("sourcePath")));
    has(&format!(
        "{d} <http://purl.org/dc/terms/title> \"광주시, AI 협약\"@ko"
    ));
    has(&format!(
        "{d} <http://purl.org/dc/terms/date> \"2021-03-04\"^^<http://www.w3.org/2001/XMLSchema#date>"
    ));
    let a = format!("<{}>", aiia().iri);
    let k = format!("<{}>", kopia().iri);
    has(&format!("{a} {} {}", rdf("type"), ng("Organization")));
    has(&format!(
        "{a} <http://www.w3.org/2000/01/rdf-schema#label> \"인공지능산업융합사업단\"@ko"
    ));
    has(&format!(
        "{a} <http://www.w3.org/2004/02/skos/core#altLabel> \"AI사업단\"@ko"
    ));
    has(&format!("{a} {} {d}", ng("mentionedIn")));
    has(&format!("{a} {} {k}", ng("signedMouWith")));
    let f0 = format!("<{doc_graph}#f0>");
    has(&format!("{f0} {} {}", rdf("type"), rdf("Statement")));
    has(&format!("{f0} {} {a}", rdf("subject")));
    has(&format!(
        "{f0} {} {}",
        rdf("predicate"),
        ng("signedMouWith")
    ));
    has(&format!("{f0} {} {k}", rdf("object")));
    has(&format!(
        "{f0} <http://www.w3.org/ns/prov#wasDerivedFrom> {d}"
    ));
    has(&format!("{f0} {} <{doc_graph}#s2>", ng("evidence")));
    has(&format!("{f0} {} \"test.signedMouWith\"", ng("rule")));
    has(&format!(
        "{f0} {} \"0.9\"^^<http://www.w3.org/2001/XMLSchema#decimal>",
        ng("confidence")
    ));
    let s2 = format!("<{doc_graph}#s2>");
    has(&format!("{s2} {} {}", rdf("type"), ng("Sentence")));
    has(&format!("{s2} {} \"{MOU}\"@ko", ng("text")));
    has(&format!(
        "{s2} {} \"200\"^^<http://www.w3.org/2001/XMLSchema#integer>",
        ng("startOffset")
    ));
    has(&format!("{s2} {} {d}", ng("inDocument")));
    // Facts 1 and 2 share sentence 3: it is written once.
    let s3_types = nt
        .iter()
        .filter(|t| t.starts_with(&format!("<{doc_graph}#s3> {}", ng("text"))))
        .count();
    assert_eq!(s3_types, 1);
    assert!(nt
        .iter()
        .any(|t| t.starts_with(&format!("<{doc_graph}#f2>"))));
    // No duplicates.
    assert_eq!(nt.len(), quads.len());
}

#[test]
fn replacing_documents_is_idempotent_and_persistent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let first;
    {
        let store = GraphStore::open(&path).unwrap();
        let summary = store.replace_documents(&[doc_a(), doc_b()]).unwrap();
        assert_eq!(summary.documents, 2);
        first = store.inner().len().unwrap();
        assert_eq!(summary.quads, first);
        let again = store.replace_documents(&[doc_a(), doc_b()]).unwrap();
        assert_eq!(again.quads, summary.quads);
        assert_eq!(
            store.inner().len().unwrap(),
            first,
            "rebuilding must not duplicate"
        );
        // The same document twice in one batch: the last one wins, once.
        store.replace_documents(&[doc_a(), doc_a()]).unwrap();
        assert_eq!(store.inner().len().unwrap(), first);
    }
    // Reopen: everything is still there.
    let store = GraphStore::open_existing(&path).unwrap();
    assert_eq!(store.inner().len().unwrap(), first);
    assert_eq!(store.stats().unwrap().documents, 2);
}

#[test]
fn replacing_one_document_leaves_the_others() {
    let store = GraphStore::in_memory().unwrap();
    store.replace_documents(&[doc_a(), doc_b()]).unwrap();
    assert_eq!(count(&store, "?s ng:headOf ?o"), 1);
    assert_eq!(count(&store, "?s ng:partOf ?o"), 1);

    // Document A is rebuilt without its headOf fact.
    let mut a = doc_a();
    a.facts.retain(|f| f.relation != Relation::HeadOf);
    store.replace_documents(&[a]).unwrap();
    assert_eq!(count(&store, "?s ng:headOf ?o"), 0, "A's old fact is gone");
    assert_eq!(
        count(&store, "?f rdf:predicate ng:headOf"),
        0,
        "with its reification"
    );
    assert_eq!(count(&store, "?s ng:partOf ?o"), 1, "B is untouched");
    assert_eq!(
        count(&store, "GRAPH ?g { ?s ng:signedMouWith ?o }"),
        2,
        "both documents state the MOU"
    );
}

#[test]
fn stats_count_distinct_things() {
    let store = GraphStore::in_memory().unwrap();
    store.replace_documents(&[doc_a(), doc_b()]).unwrap();
    let stats = store.stats().unwrap();
    assert_eq!(stats.documents, 2);
    assert_eq!(stats.entities.get("Organization"), Some(&3));
    assert_eq!(stats.entities.get("Person"), Some(&1));
    assert_eq!(stats.entities.get("Sector"), Some(&1));
    assert_eq!(stats.entities.get("Document"), None);
    assert_eq!(stats.entities.get("Sentence"), None);
    // A→B in one document and B→A in the other: one unordered pair.
    assert_eq!(stats.relations.get("signedMouWith"), Some(&1));
    assert_eq!(stats.relations.get("headOf"), Some(&1));
    assert_eq!(stats.relations.get("partOf"), Some(&1));
    assert_eq!(stats.relations.get("targetsSector"), Some(&1));
    assert_eq!(stats.total_relations(), 4);
    assert_eq!(stats.quads, store.inner().len().unwrap());
    assert_eq!(stats.size_bytes, None);
    let table = stats.to_string();
    assert!(table.contains("documents"), "{table}");
    assert!(table.contains("signedMouWith"), "{table}");

    let dir = tempfile::tempdir().unwrap();
    let disk = GraphStore::open(&dir.path().join("s")).unwrap();
    disk.replace_documents(&[doc_a()]).unwrap();
    assert!(disk.stats().unwrap().size_bytes.unwrap_or(0) > 0);
}

#[test]
fn a_corrupt_store_is_a_store_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt");
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("CURRENT"), "garbage\0\0\u{1}").unwrap();
    std::fs::write(path.join("MANIFEST-000001"), b"\xff\xfe junk").unwrap();
    match GraphStore::open(&path) {
        Err(Error::Store { path: p, message }) => {
            assert_eq!(p, path);
            assert!(message.contains("corrupt"), "{message}");
        }
        other => panic!("expected Error::Store, got {other:?}"),
    }
    match GraphStore::open_existing(&path) {
        Err(Error::Store { .. }) => {}
        other => panic!("expected Error::Store, got {other:?}"),
    }
}

#[test]
fn a_directory_that_is_not_a_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "my precious notes").unwrap();
    match GraphStore::open(dir.path()) {
        Err(Error::Store { message, .. }) => {
            assert!(message.contains("not a newsgraph store"), "{message}")
        }
        other => panic!("expected Error::Store, got {other:?}"),
    }
    // Nothing was written into it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    let file = dir.path().join("notes.txt");
    assert!(matches!(GraphStore::open(&file), Err(Error::Store { .. })));
}

#[test]
fn reading_commands_do_not_create_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing");
    match GraphStore::open_existing(&path) {
        Err(Error::Store { message, .. }) => {
            assert!(message.contains("newsgraph build"), "{message}")
        }
        other => panic!("expected Error::Store, got {other:?}"),
    }
    assert!(!path.exists());
}

#[test]
fn nodes_and_edges_merge_documents() {
    let store = GraphStore::in_memory().unwrap();
    store.replace_documents(&[doc_a(), doc_b()]).unwrap();
    let nodes = store.entities().unwrap();
    assert_eq!(nodes.len(), 5);
    let g = nodes.iter().find(|n| *n.iri == *gwangju().iri).unwrap();
    assert_eq!(g.label, "광주광역시");
    assert_eq!(g.kind, "Organization");
    assert_eq!(g.aliases, vec!["광주".to_string(), "광주시".to_string()]);
    assert_eq!(
        g.documents,
        vec!["a.txt".to_string(), "dir/b.txt".to_string()]
    );
    let p = nodes.iter().find(|n| *n.iri == *kang().iri).unwrap();
    assert_eq!(p.documents, vec!["a.txt".to_string()]);
    assert!(p.aliases.is_empty());

    let edges = store.edges().unwrap();
    let mou: Vec<_> = edges
        .iter()
        .filter(|e| e.relation == "signedMouWith")
        .collect();
    assert_eq!(mou.len(), 1, "one row per unordered pair: {mou:#?}");
    let m = mou[0];
    assert!(m.source < m.target);
    assert_eq!(
        m.documents,
        vec!["a.txt".to_string(), "dir/b.txt".to_string()]
    );
    assert_eq!(m.weight, 2);
    assert_eq!(m.first_seen.as_deref(), Some("2021-03-04"));
    assert_eq!(m.last_seen.as_deref(), Some("2021-05-06"));
    assert_eq!(m.evidence.len(), 2);
    assert!(m.evidence.contains(&("a.txt".to_string(), MOU.to_string())));
    let labels = BTreeSet::from([m.source_label.as_str(), m.target_label.as_str()]);
    assert_eq!(
        labels,
        BTreeSet::from(["인공지능산업융합사업단", "한국광산업진흥회"])
    );

    let head = edges.iter().find(|e| e.relation == "headOf").unwrap();
    assert_eq!(*head.source, *kang().iri);
    assert_eq!(*head.target, *gwangju().iri);
    assert_eq!(head.source_label, "강기정");
    assert_eq!(head.weight, 1);
    assert_eq!(edges.len(), 4);
}

#[test]
fn query_formats() {
    let store = GraphStore::in_memory().unwrap();
    store.replace_documents(&[doc_a(), doc_b()]).unwrap();
    let q = "SELECT ?label ?type WHERE { ?e a ?type ; rdfs:label ?label FILTER(?type IN (ng:Person, ng:Sector)) } ORDER BY ?label";

    let table = query_string(&store, q, ResultsFormat::Table);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["label", "type"]
    );
    assert!(lines[1].starts_with("---"));
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["강기정", "ng:Person"]
    );
    assert_eq!(
        lines[3].split_whitespace().collect::<Vec<_>>(),
        ["인공지능", "ng:Sector"]
    );
    assert_eq!(lines[4], "2 rows");
    // Hangul is two columns wide: the second column starts at the same
    // display column on every line.
    use unicode_width::UnicodeWidthStr;
    let col = |l: &str| l[..l.find("ng:").unwrap()].width();
    assert_eq!(col(lines[2]), col(lines[3]));
    assert_eq!(
        col(lines[2]),
        lines[0][..lines[0].find("type").unwrap()].width()
    );

    let csv = query_string(&store, q, ResultsFormat::Csv);
    assert_eq!(csv.lines().next(), Some("label,type"));
    assert!(
        csv.contains("강기정,https://w3id.org/newsgraph/ontology#Person"),
        "{csv}"
    );

    let tsv = query_string(&store, q, ResultsFormat::Tsv);
    assert!(tsv.starts_with("?label\t?type"), "{tsv}");

    let json: serde_json::Value =
        serde_json::from_str(&query_string(&store, q, ResultsFormat::Json)).unwrap();
    assert_eq!(json["results"]["bindings"].as_array().unwrap().len(), 2);

    let xml = query_string(&store, q, ResultsFormat::Xml);
    assert!(xml.contains("<sparql"), "{xml}");

    // The default graph is the union of the documents' graphs.
    let ask = query_string(
        &store,
        "ASK { ?s ng:partOf ?o . ?x ng:headOf ?y }",
        ResultsFormat::Table,
    );
    assert_eq!(ask.trim(), "true");
    let ask_json = query_string(&store, "ASK { ?s ng:chairs ?o }", ResultsFormat::Json);
    assert!(ask_json.contains("false"), "{ask_json}");

    let construct = "CONSTRUCT { ?s ng:signedMouWith ?o } WHERE { ?s ng:signedMouWith ?o }";
    let ttl = query_string(&store, construct, ResultsFormat::Table);
    let n = RdfParser::from_format(RdfFormat::Turtle)
        .for_reader(ttl.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
        .len();
    assert_eq!(n, 2, "{ttl}");
    let nt = query_string(&store, construct, ResultsFormat::NTriples);
    assert_eq!(nt.lines().count(), 2, "{nt}");

    // A graph format for a SELECT is a clear error, not garbage.
    let mut out = Vec::new();
    assert!(matches!(
        run_query(&store, q, ResultsFormat::NTriples, &mut out),
        Err(Error::Query(_))
    ));
}

#[test]
fn bad_sparql_is_a_query_error_with_position() {
    let store = GraphStore::in_memory().unwrap();
    let mut out = Vec::new();
    match run_query(
        &store,
        "SELECT ?x WHERE { ?x ?y }",
        ResultsFormat::Table,
        &mut out,
    ) {
        Err(Error::Query(message)) => {
            assert!(
                message.contains("line 1, column 26"),
                "position expected: {message}"
            );
            assert!(message.contains("SELECT ?x WHERE { ?x ?y }\n"), "{message}");
        }
        other => panic!("expected Error::Query, got {other:?}"),
    }
    match run_query(
        &store,
        "SELECT * WHERE {\n  ?s nope:p ?o\n}",
        ResultsFormat::Csv,
        &mut out,
    ) {
        Err(Error::Query(message)) => {
            assert!(message.contains("line 2"), "{message}");
            assert!(message.contains("undeclared prefix `nope:`"), "{message}");
        }
        other => panic!("expected Error::Query, got {other:?}"),
    }
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn exports_follow_the_csv_contract_and_round_trip() {
    let store = GraphStore::in_memory().unwrap();
    store.replace_documents(&[doc_a(), doc_b()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("csv");
    let files = export::export(&store, ExportFormat::Csv, &out).unwrap();
    assert_eq!(files.len(), 2);

    let (header, nodes) = read_csv(&out.join("nodes.csv"));
    assert_eq!(header[..5], ["id", "label", "type", "aliases", "documents"]);
    assert_eq!(nodes.len(), 5);
    let g = nodes.iter().find(|r| r[1] == "광주광역시").unwrap();
    assert_eq!(g[0], *gwangju().iri);
    assert_eq!(g[2], "Organization");
    assert_eq!(g[3], "광주|광주시");
    assert_eq!(g[4], "a.txt|dir/b.txt");

    let (header, edges) = read_csv(&out.join("edges.csv"));
    assert_eq!(
        header[..7],
        [
            "source",
            "target",
            "relation",
            "source_label",
            "target_label",
            "documents",
            "weight"
        ]
    );
    assert_eq!(edges.len(), 4);
    let mou = edges.iter().find(|r| r[2] == "signedMouWith").unwrap();
    assert_eq!(mou[5], "a.txt|dir/b.txt");
    assert_eq!(mou[6], "2");
    // Every edge end is a node.
    let ids: BTreeSet<&str> = nodes.iter().map(|r| r[0].as_str()).collect();
    assert!(edges
        .iter()
        .all(|r| ids.contains(r[0].as_str()) && ids.contains(r[1].as_str())));

    // RDF: triples are the distinct union, quads everything.
    let parse = |format: RdfFormat, path: &Path| {
        RdfParser::from_format(format)
            .for_reader(std::fs::File::open(path).unwrap())
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    };
    let distinct = count(
        &store,
        "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }",
    );
    let quads = store.inner().len().unwrap();
    assert!(distinct < quads, "types and labels repeat across documents");
    for (format, rdf, expected) in [
        (ExportFormat::Turtle, RdfFormat::Turtle, distinct),
        (ExportFormat::NTriples, RdfFormat::NTriples, distinct),
        (ExportFormat::NQuads, RdfFormat::NQuads, quads),
        (ExportFormat::TriG, RdfFormat::TriG, quads),
    ] {
        let path = dir.path().join(format!("graph.{format}"));
        export::export(&store, format, &path).unwrap();
        assert_eq!(parse(rdf, &path).len(), expected, "{format}");
    }
    let ttl = std::fs::read_to_string(dir.path().join("graph.turtle")).unwrap();
    assert!(
        ttl.contains("@prefix ng:") || ttl.contains("PREFIX ng:"),
        "{ttl}"
    );
}

#[test]
fn a_store_in_use_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let _first = GraphStore::open(&path).unwrap();
    match GraphStore::open(&path) {
        Err(Error::Store { message, .. }) => assert!(message.contains("in use"), "{message}"),
        other => panic!("expected Error::Store, got {other:?}"),
    }
}
