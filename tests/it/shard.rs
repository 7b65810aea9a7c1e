//! When one machine is not enough: `extract --shard K/N` on each worker,
//! then `load` of the shards' N-Quads gives the store a one-go `build`
//! gives.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{ok, store_quads};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn newsgraph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_newsgraph"))
        .args(args)
        .output()
        .expect("run newsgraph")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every IRI of the quads (subjects, predicates, objects, graph names).
fn iris(quads: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for q in quads {
        let mut rest = q.as_str();
        while let Some(start) = rest.find('<') {
            // (A `<` inside a literal is cut the same way on both sides.)
            let tail = &rest[start + 1..];
            let Some(end) = tail.find('>') else { break };
            out.insert(tail[..end].to_string());
            rest = &tail[end + 1..];
        }
    }
    out
}

fn graphs_of(nquads: &str) -> BTreeSet<String> {
    nquads
        .lines()
        .filter_map(|l| {
            let l = l.trim_end().strip_suffix('.')?.trim_end();
            let start = l.rfind(" <")?;
            Some(l[start + 2..].trim_end_matches('>').to_string())
        })
        .collect()
}

fn stats_quads(store: &Path) -> usize {
    ok(newsgraph(&["--store", path(store), "stats"]))
        .lines()
        .find_map(|l| l.strip_prefix("quads")?.trim().parse().ok())
        .expect("quads line")
}

#[test]
fn three_shards_loaded_equal_the_one_go_build() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = root().join("seeds");

    // Three workers, one shard each.
    let mut files = Vec::new();
    let mut shard_graphs = Vec::new();
    for k in 1..=3 {
        let nquads = ok(newsgraph(&[
            "--quiet",
            "extract",
            "--shard",
            &format!("{k}/3"),
            path(&seeds),
        ]));
        shard_graphs.push(graphs_of(&nquads));
        let file = dir.path().join(format!("shard-{k}.nq"));
        std::fs::write(&file, nquads).expect("write shard");
        files.push(file);
    }
    // Every document is in exactly one shard.
    let all: BTreeSet<String> = shard_graphs.iter().flatten().cloned().collect();
    assert_eq!(all.len(), 5, "{shard_graphs:?}");
    assert_eq!(shard_graphs.iter().map(BTreeSet::len).sum::<usize>(), 5);
    // The same split every time (with five documents a shard may well be
    // empty; its empty file loads as well).
    let again = ok(newsgraph(&[
        "--quiet",
        "extract",
        "--shard",
        "1/3",
        path(&seeds),
    ]));
    assert_eq!(graphs_of(&again), shard_graphs[0]);
    assert!(!shard_graphs[0].is_empty());

    // Load them into one store.
    let merged = dir.path().join("merged");
    let mut args = vec!["--store", path(&merged), "load"];
    args.extend(files.iter().map(|f| path(f)));
    let out = newsgraph(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("loaded 3 files"));

    // The one-go build.
    let one_go = dir.path().join("one-go");
    ok(newsgraph(&[
        "--store",
        path(&one_go),
        "--quiet",
        "build",
        path(&seeds),
    ]));

    let (a, b) = (store_quads(&merged), store_quads(&one_go));
    assert_eq!(iris(&a), iris(&b), "same IRIs");
    assert_eq!(a.len(), b.len(), "same quad count");
    assert_eq!(a, b, "same quads");
    assert_eq!(stats_quads(&merged), stats_quads(&one_go));

    // Loading the shards again replaces their documents: nothing doubles.
    ok(newsgraph(&args));
    assert_eq!(store_quads(&merged), b);
}

#[test]
fn load_reports_syntax_errors_with_file_and_line_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = root().join("seeds");
    let good = dir.path().join("good.nq");
    std::fs::write(
        &good,
        ok(newsgraph(&[
            "--quiet",
            "extract",
            "--shard",
            "1/1",
            path(&seeds),
        ])),
    )
    .expect("write");
    let store = dir.path().join("db");
    ok(newsgraph(&[
        "--store",
        path(&store),
        "--quiet",
        "load",
        path(&good),
    ]));
    let before = store_quads(&store);

    let bad = dir.path().join("bad.nq");
    std::fs::write(
        &bad,
        "<urn:a> <urn:b> <urn:c> <urn:g> .\n<urn:a> <urn:b> \"unterminated <urn:g> .\n",
    )
    .expect("write");
    let out = newsgraph(&["--store", path(&store), "load", path(&good), path(&bad)]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.nq:2"), "{stderr}");
    assert_eq!(store_quads(&store), before);

    let unknown = dir.path().join("data.xyz");
    std::fs::write(&unknown, "").expect("write");
    let out = newsgraph(&["--store", path(&store), "load", path(&unknown)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown RDF syntax"));
}

#[test]
fn bad_shard_specifications_are_refused() {
    let seeds = root().join("seeds");
    for spec in ["0/3", "4/3", "1/0", "two/3", "3"] {
        let out = newsgraph(&["extract", "--shard", spec, path(&seeds)]);
        assert_eq!(out.status.code(), Some(2), "{spec}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--shard"),
            "{spec}"
        );
    }
}
