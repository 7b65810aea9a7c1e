//! `newsgraph push` against a real external SPARQL store: Oxigraph's own
//! server (the `oxigraph` binary of the PyPI package in
//! scripts/requirements-test.txt, installed into .venv by
//! `NEWSGRAPH_DEPS=test bash scripts/deps.sh`), started by the test on a
//! free loopback port and stopped at the end.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::Duration;

use crate::common::ok;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn newsgraph(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_newsgraph"))
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .expect("run newsgraph")
}

/// The `oxigraph` server binary: on PATH, else in .venv.
fn oxigraph_binary() -> PathBuf {
    let runs = |p: &Path| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if runs(Path::new("oxigraph")) {
        return PathBuf::from("oxigraph");
    }
    let venv = root().join(".venv/bin/oxigraph");
    if runs(&venv) {
        return venv;
    }
    panic!(
        "these tests need Oxigraph's server (`pip install oxigraph`, listed in \
         scripts/requirements-test.txt): run `NEWSGRAPH_DEPS=test bash scripts/deps.sh` \
         (scripts/test does)"
    );
}

/// A running Oxigraph server on loopback, killed when dropped.
struct External {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl External {
    fn start() -> External {
        let binary = oxigraph_binary();
        // A free port can be taken between the probe and the start: try a
        // few.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let dir = tempfile::tempdir().expect("tempdir");
            let mut child = Command::new(&binary)
                .arg("serve")
                .arg("--location")
                .arg(dir.path())
                .args(["--bind", &format!("127.0.0.1:{port}")])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start oxigraph serve");
            let base = format!("http://127.0.0.1:{port}");
            for _ in 0..200 {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                let probe = Command::new("curl")
                    .args([
                        "-s",
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code}",
                        "--max-time",
                        "2",
                    ])
                    .args(["--data-urlencode", "query=ASK {}"])
                    .arg(format!("{base}/query"))
                    .output();
                if probe.is_ok_and(|o| o.stdout == b"200") {
                    return External {
                        child,
                        base,
                        _dir: dir,
                    };
                }
                thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("could not start oxigraph serve on a loopback port");
    }

    /// Runs a query on the external store; CSV rows without the header,
    /// sorted.
    fn select(&self, query: &str) -> Vec<String> {
        let out = Command::new("curl")
            .args(["-sS", "--fail-with-body", "--max-time", "60"])
            .args(["-H", "Accept: text/csv"])
            .args(["--data-urlencode", &format!("query={query}")])
            .arg(format!("{}/query", self.base))
            .output()
            .expect("curl");
        assert!(
            out.status.success(),
            "external query failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        csv_rows(&String::from_utf8_lossy(&out.stdout))
    }

    fn update(&self, update: &str) {
        let out = Command::new("curl")
            .args(["-sS", "--fail-with-body", "--max-time", "60"])
            .args(["-H", "Content-Type: application/sparql-update"])
            .args(["--data-binary", update])
            .arg(format!("{}/update", self.base))
            .output()
            .expect("curl");
        assert!(
            out.status.success(),
            "external update failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

impl Drop for External {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn csv_rows(text: &str) -> Vec<String> {
    let mut rows: Vec<String> = text
        .lines()
        .skip(1)
        .map(|l| l.trim_end_matches('\r').to_string())
        .filter(|l| !l.is_empty())
        .collect();
    rows.sort();
    rows
}

fn local_select(store: &Path, query: &str) -> Vec<String> {
    csv_rows(&ok(newsgraph(store, &["query", query, "--results", "csv"])))
}

/// Quads and named graphs, asked the same way of both stores.
const COUNTS: &str = "SELECT (COUNT(*) AS ?quads) (COUNT(DISTINCT ?g) AS ?graphs) \
                      WHERE { GRAPH ?g { ?s ?p ?o } }";
const RELATIONS: &str = "SELECT ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } \
                         FILTER(STRSTARTS(STR(?p), \"https://w3id.org/newsgraph/ontology#\")) } \
                         GROUP BY ?p";

fn seed_store(dir: &Path) -> PathBuf {
    let store = dir.join("db");
    ok(newsgraph(
        &store,
        &[
            "--quiet",
            "build",
            root().join("seeds").to_str().expect("path"),
        ],
    ));
    store
}

#[test]
fn pushed_graph_equals_the_local_one_and_repushing_is_idempotent() {
    let external = External::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = seed_store(dir.path());
    let endpoint = format!("{}/update", external.base);

    let out = newsgraph(
        &store,
        &["push", "--endpoint", &endpoint, "--batch-quads", "500"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(summary.contains("pushed 5 documents"), "{summary}");

    let local_counts = local_select(&store, COUNTS);
    assert_eq!(local_counts.len(), 1);
    assert!(local_counts[0].ends_with(",5"), "{local_counts:?}");
    assert_eq!(external.select(COUNTS), local_counts);
    assert_eq!(external.select(RELATIONS), local_select(&store, RELATIONS));

    // A ready-made question gives the same answer on both stores (the
    // example files name their graphs, so they run on any store).
    let mou = std::fs::read_to_string(root().join("examples/queries/mou-partners.rq"))
        .expect("query file");
    let answer = external.select(&mou);
    assert!(
        answer
            .iter()
            .any(|r| r.starts_with("인공지능산업융합사업단,한국광산업진흥회,")),
        "{answer:?}"
    );
    assert_eq!(answer, local_select(&store, &mou));

    // Pushing again changes nothing.
    ok(newsgraph(
        &store,
        &["--quiet", "push", "--endpoint", &endpoint],
    ));
    assert_eq!(external.select(COUNTS), local_counts);

    // The Graph Store Protocol route gives the same store.
    let gsp = format!("{}/store", external.base);
    let out = newsgraph(&store, &["push", "--protocol", "gsp", "--endpoint", &gsp]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("in 5 requests"));
    assert_eq!(external.select(COUNTS), local_counts);
    assert_eq!(external.select(&mou), answer);
}

#[test]
fn a_document_graph_is_replaced_as_a_unit_and_nothing_else_is_touched() {
    let external = External::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = seed_store(dir.path());
    let endpoint = format!("{}/update", external.base);
    ok(newsgraph(
        &store,
        &["--quiet", "push", "--endpoint", &endpoint],
    ));
    let local_counts = local_select(&store, COUNTS);

    // Someone adds a stale fact to a document's graph, and a graph of
    // their own.
    let doc = "https://w3id.org/newsgraph/doc/000_d7f6930ecccab7f7.txt";
    external.update(&format!(
        "INSERT DATA {{ GRAPH <{doc}> {{ <urn:stale> <urn:p> \"old\" }} \
         GRAPH <urn:theirs> {{ <urn:x> <urn:p> \"keep\" }} }}"
    ));
    let only_docs = "SELECT (COUNT(*) AS ?quads) (COUNT(DISTINCT ?g) AS ?graphs) \
                     WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), \"https://w3id.org/\")) }";
    assert_ne!(external.select(only_docs), local_counts);

    // Pushing one document (built alone, it is the same graph) replaces its
    // graph, stale fact included; other documents and graphs stay.
    let one = dir.path().join("one");
    ok(newsgraph(
        &one,
        &[
            "--quiet",
            "build",
            root()
                .join("seeds/000_d7f6930ecccab7f7.txt")
                .to_str()
                .expect("path"),
        ],
    ));
    let out = newsgraph(
        &one,
        &["push", "--protocol", "update", "--endpoint", &endpoint],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("pushed 1 documents"));
    assert_eq!(external.select(only_docs), local_counts);
    assert_eq!(
        external.select("SELECT ?o WHERE { GRAPH <urn:theirs> { ?s ?p ?o } }"),
        ["keep"]
    );
}

#[test]
fn an_unreachable_or_refusing_endpoint_fails_with_a_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = seed_store(dir.path());
    // Nothing listens there: connection refused, retried, then an error.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let out = newsgraph(
        &store,
        &[
            "push",
            "--endpoint",
            &format!("http://127.0.0.1:{port}/update"),
            "--retries",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("after 2 tries"), "{stderr}");

    // The query endpoint refuses updates: a 4xx is not retried.
    let external = External::start();
    let out = newsgraph(
        &store,
        &["push", "--endpoint", &format!("{}/query", external.base)],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("answered 4"), "{stderr}");
    assert!(!stderr.contains("tries"), "{stderr}");

    // Bad options are refused before anything is sent.
    let out = newsgraph(&store, &["push", "--endpoint", "ftp://x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = newsgraph(
        &store,
        &[
            "push",
            "--endpoint",
            "http://127.0.0.1:9/u",
            "--header",
            "no colon",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Name: value"));
}
