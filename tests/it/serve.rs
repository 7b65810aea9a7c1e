//! `newsgraph serve`: the real binary on an ephemeral loopback port, asked
//! by real HTTP clients — curl, and Python's SPARQLWrapper / rdflib (the
//! versions in scripts/requirements-test.txt, installed into .venv by
//! `NEWSGRAPH_DEPS=test bash scripts/deps.sh`; scripts/test puts .venv/bin
//! first on PATH).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::Value;

use crate::common;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the seed graph into `dir/db` with the binary.
fn build_seeds(dir: &Path) -> PathBuf {
    let db = dir.join("db");
    common::build_seed_store(&db);
    db
}

/// A running `newsgraph serve`; stopped with SIGTERM when dropped.
struct Server {
    child: Option<Child>,
    url: String,
    stderr: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = build_seeds(dir.path());
        let mut child = Command::new(env!("CARGO_BIN_EXE_newsgraph"))
            .arg("--store")
            .arg(&db)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start newsgraph serve");
        // Drain stderr so that the server never blocks on it.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("stderr");
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_str(&text);
        });
        // The first line of standard output is the endpoint URL.
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the endpoint URL");
        let url = line.trim().to_string();
        if !url.starts_with("http://127.0.0.1:") {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "newsgraph serve did not start: {url:?}\n{}",
                stderr.lock().unwrap_or_else(|e| e.into_inner())
            );
        }
        Server {
            child: Some(child),
            url,
            stderr,
            _dir: dir,
        }
    }

    /// The page URL (`/`) next to the endpoint (`/sparql`).
    fn base(&self) -> &str {
        self.url.trim_end_matches("sparql")
    }

    /// Sends `signal`, waits (bounded) for the exit; returns the exit
    /// status and everything the server wrote on stderr.
    fn stop_with(&mut self, signal: &str) -> (std::process::ExitStatus, String) {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status();
        for _ in 0..200 {
            if let Ok(Some(status)) = child.try_wait() {
                // Let the stderr reader finish.
                thread::sleep(Duration::from_millis(50));
                let text = self
                    .stderr
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                return (status, text);
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("newsgraph serve did not stop on SIG{signal} within 10 s");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            for _ in 0..100 {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An HTTP answer as curl saw it.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: String,
    body: String,
}

/// Runs curl with `args` (plus `-sS -i`, a time limit) and splits its
/// output into status, headers and body.
fn curl(args: &[&str]) -> Answer {
    let out = Command::new("curl")
        .args(["-sS", "-i", "--max-time", "60"])
        .args(args)
        .output()
        .expect("curl is needed for these tests (apt-get install curl; scripts/deps.sh does)");
    assert!(
        out.status.success(),
        "curl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (headers, body) = text
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_string(), b.to_string()))
        .unwrap_or((text.clone(), String::new()));
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        headers,
        body,
    }
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// A query POSTed as a form, with an `Accept` header.
fn post_query(url: &str, query: &str, accept: &str) -> Answer {
    curl(&[
        "-H",
        &format!("Accept: {accept}"),
        "--data-urlencode",
        &format!("query={query}"),
        url,
    ])
}

const CHAIRS: &str = "SELECT ?chair WHERE { ?p ng:chairs ?c ; rdfs:label ?chair } ORDER BY ?chair";

fn chairs_of(json: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(json).expect("SPARQL JSON");
    v["results"]["bindings"]
        .as_array()
        .expect("bindings")
        .iter()
        .map(|b| b["chair"]["value"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn queries_by_get_and_post_with_content_negotiation() {
    let server = Server::start(&[]);
    let url = server.url.as_str();

    // GET, URL-encoded, default JSON.
    let a = curl(&["-G", "--data-urlencode", &format!("query={CHAIRS}"), url]);
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(
        a.header("Content-Type").as_deref(),
        Some("application/sparql-results+json")
    );
    assert_eq!(
        a.header("Access-Control-Allow-Origin").as_deref(),
        Some("*")
    );
    let chairs = chairs_of(&a.body);
    assert!(chairs.contains(&"김영문".to_string()), "{chairs:?}");

    // POST form, CSV / TSV / XML.
    let a = post_query(url, CHAIRS, "text/csv");
    assert_eq!(a.status, 200);
    assert!(a
        .header("Content-Type")
        .unwrap_or_default()
        .starts_with("text/csv"));
    assert!(a.body.starts_with("chair\r\n"), "{:?}", a.body);
    assert!(a.body.contains("이언주"));
    let a = post_query(url, CHAIRS, "text/tab-separated-values");
    assert!(
        a.body.starts_with("?chair\n") && a.body.contains("\"김영문\"@ko"),
        "{:?}",
        a.body
    );
    let a = post_query(url, CHAIRS, "application/sparql-results+xml");
    assert!(a.body.contains("<sparql") && a.body.contains("김영문"));
    // q-values: the preferred one wins.
    let a = post_query(
        url,
        CHAIRS,
        "text/csv;q=0.4, application/sparql-results+xml",
    );
    assert!(a.body.contains("<sparql"));

    // POST application/sparql-query body.
    let a = curl(&[
        "-H",
        "Content-Type: application/sparql-query",
        "--data-binary",
        "ASK { ?p ng:chairs ?c }",
        url,
    ]);
    assert_eq!(a.status, 200);
    let v: Value = serde_json::from_str(&a.body).expect("json");
    assert_eq!(v["boolean"], Value::Bool(true));

    // CONSTRUCT in Turtle, N-Triples, JSON-LD and RDF/XML.
    let construct = "CONSTRUCT { ?p ng:chairs ?c } WHERE { ?p ng:chairs ?c }";
    let a = post_query(url, construct, "text/turtle");
    assert_eq!(a.header("Content-Type").as_deref(), Some("text/turtle"));
    assert!(a.body.contains("ng:chairs"), "{}", a.body);
    let a = post_query(url, construct, "application/n-triples");
    assert_eq!(
        a.body.lines().filter(|l| l.ends_with(" .")).count(),
        3,
        "{}",
        a.body
    );
    let a = post_query(url, construct, "application/ld+json");
    assert_eq!(
        a.header("Content-Type").as_deref(),
        Some("application/ld+json")
    );
    let v: Value = serde_json::from_str(&a.body).expect("JSON-LD");
    assert!(v
        .to_string()
        .contains("https://w3id.org/newsgraph/ontology#chairs"));
    let a = post_query(url, construct, "application/rdf+xml");
    assert!(a.body.contains("rdf:RDF"), "{}", a.body);
    // DESCRIBE by a format parameter.
    let a = curl(&[
        "-G",
        "--data-urlencode",
        "query=DESCRIBE <https://w3id.org/newsgraph/id/Person/김영문>",
        "--data-urlencode",
        "format=ntriples",
        url,
    ]);
    assert_eq!(a.status, 200);
    assert!(a
        .body
        .contains("<https://w3id.org/newsgraph/id/Person/김영문>"));

    // The dataset from the protocol: one document's graph.
    let a = curl(&[
        "-H",
        "Accept: text/csv",
        "--data-urlencode",
        "query=SELECT ?chair WHERE { ?p ng:chairs ?c ; rdfs:label ?chair }",
        "--data-urlencode",
        "default-graph-uri=https://w3id.org/newsgraph/doc/000_d7f6930ecccab7f7.txt",
        url,
    ]);
    assert_eq!(a.body.trim().replace("\r\n", "\n"), "chair\n김영문");

    // The query page.
    let a = curl(&[server.base()]);
    assert_eq!(a.status, 200);
    assert!(a
        .header("Content-Type")
        .unwrap_or_default()
        .starts_with("text/html"));
    assert!(a.body.contains("<textarea") && a.body.contains("mou-partners"));
}

#[test]
fn errors_have_clear_status_codes() {
    let server = Server::start(&[]);
    let url = server.url.as_str();

    // A query that does not parse: 400 with the parser's message.
    let a = post_query(url, "SELECT ?x WHERE { ?x ?y }", "*/*");
    assert_eq!(a.status, 400);
    assert!(
        a.body.contains("syntax error at line 1, column"),
        "{}",
        a.body
    );
    let a = post_query(url, "SELECT ?x WHERE { ?x nope:p ?y }", "*/*");
    assert_eq!(a.status, 400);
    assert!(a.body.contains("undeclared prefix `nope:`"), "{}", a.body);

    // Read-only: updates are refused, in both forms.
    let a = curl(&[
        "--data-urlencode",
        "update=INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        url,
    ]);
    assert_eq!(a.status, 403);
    assert!(a.body.contains("--allow-update"));
    let a = curl(&[
        "-H",
        "Content-Type: application/sparql-update",
        "--data-binary",
        "DROP ALL",
        url,
    ]);
    assert_eq!(a.status, 403);
    let a = post_query(url, "ASK { <urn:a> <urn:b> <urn:c> }", "application/json");
    assert!(a.body.contains("false"));

    // Nothing acceptable, unsupported media, unknown path, wrong method.
    assert_eq!(post_query(url, CHAIRS, "image/png").status, 406);
    let a = curl(&["-H", "Content-Type: text/plain", "--data-binary", "x", url]);
    assert_eq!(a.status, 415);
    assert_eq!(curl(&[&format!("{}nope", server.base())]).status, 404);
    assert_eq!(curl(&["-X", "DELETE", url]).status, 405);
    assert_eq!(curl(&[url]).status, 400);

    // CORS pre-flight.
    let a = curl(&[
        "-X",
        "OPTIONS",
        "-H",
        "Origin: http://yasgui.example",
        "-H",
        "Access-Control-Request-Method: POST",
        "-H",
        "Access-Control-Request-Headers: content-type",
        url,
    ]);
    assert_eq!(a.status, 204);
    assert_eq!(
        a.header("Access-Control-Allow-Origin").as_deref(),
        Some("*")
    );
    assert!(a
        .header("Access-Control-Allow-Methods")
        .unwrap_or_default()
        .contains("POST"));
    assert_eq!(
        a.header("Access-Control-Allow-Headers").as_deref(),
        Some("content-type")
    );
}

#[test]
fn timeouts_and_sizes_are_limited() {
    let server = Server::start(&[
        "--timeout",
        "1",
        "--max-result-bytes",
        "2000",
        "--max-request-bytes",
        "1000",
    ]);
    let url = server.url.as_str();
    // Billions of rows: cancelled at the time limit.
    let a = post_query(
        url,
        "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
        "*/*",
    );
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.body.contains("cancelled"), "{}", a.body);
    // Every quad: more than 2000 bytes.
    let a = post_query(url, "SELECT * WHERE { ?s ?p ?o }", "*/*");
    assert_eq!(a.status, 413);
    assert!(a.body.contains("larger than 2000 bytes"), "{}", a.body);
    // A body over the request limit.
    let long = format!("SELECT * WHERE {{ ?s ?p ?o }} # {}", "x".repeat(1500));
    let a = curl(&[
        "-H",
        "Content-Type: application/sparql-query",
        "--data-binary",
        &long,
        url,
    ]);
    assert_eq!(a.status, 413);
    // Small answers still go through.
    assert_eq!(post_query(url, CHAIRS, "text/csv").status, 200);
}

#[test]
fn updates_when_allowed() {
    let server = Server::start(&["--allow-update"]);
    let url = server.url.as_str();
    let a = curl(&[
        "--data-urlencode",
        "update=INSERT DATA { GRAPH <urn:notes> { <urn:a> rdfs:label \"메모\" } }",
        url,
    ]);
    assert_eq!(a.status, 204, "{a:?}");
    let a = curl(&[
        "-H",
        "Content-Type: application/sparql-update",
        "--data-binary",
        "INSERT DATA { GRAPH <urn:notes> { <urn:b> rdfs:label \"둘\" } }",
        &format!("{}update", server.base()),
    ]);
    assert_eq!(a.status, 204, "{a:?}");
    let a = post_query(
        url,
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:notes> { ?s ?p ?o } }",
        "text/csv",
    );
    assert!(a.body.contains("\r\n2"), "{}", a.body);
    let a = curl(&["--data-urlencode", "update=INSERT DATA { oops", url]);
    assert_eq!(a.status, 400);
    assert!(a.body.contains("syntax error"), "{}", a.body);
}

#[test]
fn concurrent_queries_while_another_client_reads() {
    let server = Server::start(&["--threads", "4"]);
    let url = server.url.clone();
    let expected = chairs_of(&post_query(&url, CHAIRS, "application/json").body);
    assert!(!expected.is_empty());
    let all_quads = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }";
    let full = post_query(&url, all_quads, "text/csv").body;

    let mut workers = Vec::new();
    for _ in 0..4 {
        let url = url.clone();
        let expected = expected.clone();
        workers.push(thread::spawn(move || {
            for _ in 0..10 {
                let a = post_query(&url, CHAIRS, "application/json");
                assert_eq!(a.status, 200);
                assert_eq!(chairs_of(&a.body), expected);
            }
        }));
    }
    // Meanwhile another client reads the whole graph, again and again.
    let reader = {
        let url = url.clone();
        let full = full.clone();
        thread::spawn(move || {
            for _ in 0..5 {
                let a = post_query(&url, all_quads, "text/csv");
                assert_eq!(a.status, 200);
                assert_eq!(a.body.len(), full.len());
            }
        })
    };
    for w in workers {
        w.join().expect("query thread");
    }
    reader.join().expect("reader thread");
}

/// `python3` from PATH (scripts/test puts .venv/bin first), else .venv's.
fn python() -> Command {
    let venv = root().join(".venv/bin/python");
    let has_clients = |python: &Path| {
        Command::new(python)
            .args(["-c", "import SPARQLWrapper, rdflib"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if has_clients(Path::new("python3")) {
        Command::new("python3")
    } else if has_clients(&venv) {
        Command::new(venv)
    } else {
        panic!(
            "these tests need Python's SPARQLWrapper and rdflib: run \
             `NEWSGRAPH_DEPS=test bash scripts/deps.sh` and put .venv/bin first on PATH \
             (scripts/test does both)"
        );
    }
}

const PYTHON_CLIENT: &str = r#"
import json, sys
from SPARQLWrapper import SPARQLWrapper, JSON, TURTLE, CSV, POST
import rdflib

endpoint, query_file = sys.argv[1], sys.argv[2]

# A SELECT of a ready-made question, results as JSON.
w = SPARQLWrapper(endpoint)
w.setQuery(open(query_file, encoding="utf-8").read())
w.setReturnFormat(JSON)
rows = w.query().convert()["results"]["bindings"]
partners = sorted({r["partner"]["value"] for r in rows
                   if r["organisation"]["value"] == "인공지능산업융합사업단"})

# The same by POST, as CSV.
w.setMethod(POST)
w.setReturnFormat(CSV)
csv_text = w.query().convert().decode("utf-8")

# A CONSTRUCT, parsed by rdflib.
w = SPARQLWrapper(endpoint)
w.setQuery("CONSTRUCT { ?p ng:chairs ?c } WHERE { ?p ng:chairs ?c }")
w.setReturnFormat(TURTLE)
g = rdflib.Graph()
g.parse(data=w.query().convert(), format="turtle")
chairs = len(set(g.triples((None, rdflib.URIRef("https://w3id.org/newsgraph/ontology#chairs"), None))))

# A bad query: SPARQLWrapper raises QueryBadFormed on 400.
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed
w = SPARQLWrapper(endpoint)
w.setQuery("SELECT ?x WHERE { ?x ?y }")
try:
    w.query()
    bad = "accepted"
except QueryBadFormed as e:
    bad = "400"

print(json.dumps({"partners": partners, "csv_lines": len(csv_text.strip().splitlines()),
                  "chairs": chairs, "bad": bad}, ensure_ascii=False))
"#;

#[test]
fn python_clients_query_the_endpoint() {
    let server = Server::start(&[]);
    let out: Output = python()
        .args(["-c", PYTHON_CLIENT, &server.url])
        .arg(root().join("examples/queries/mou-partners.rq"))
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("python output");
    assert_eq!(
        v["partners"],
        serde_json::json!(["한국광산업진흥회", "한국인공지능협회"])
    );
    assert_eq!(v["csv_lines"], 5); // header + 4 rows (both directions)
    assert_eq!(v["chairs"], 3);
    assert_eq!(v["bad"], "400");
}

#[test]
fn stops_gracefully_on_sigterm_and_sigint() {
    for signal in ["TERM", "INT"] {
        let mut server = Server::start(&[]);
        assert_eq!(post_query(&server.url, CHAIRS, "text/csv").status, 200);
        let (status, stderr) = server.stop_with(signal);
        assert!(status.success(), "SIG{signal}: {status:?}\n{stderr}");
        assert!(
            stderr.contains("stopped after 1 requests (1 queries, 0 updates)"),
            "SIG{signal}: {stderr}"
        );
    }
}
