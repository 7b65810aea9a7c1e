//! Helpers shared by the integration test modules.
#![allow(dead_code)]

use std::process::Output;

use newsgraph::model::{entity_iri, Entity, EntityType, Evidence, Fact, Relation};

/// An entity with its deterministic IRI.
pub fn entity(kind: EntityType, label: &str, aliases: &[&str]) -> Entity {
    Entity {
        iri: entity_iri(kind, label).into(),
        kind,
        label: label.into(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
    }
}

/// A fact found by a test rule with confidence 0.9 in sentence `sentence`
/// (offsets 100 characters apart).
pub fn fact(s: &Entity, relation: Relation, o: &Entity, sentence: usize, text: &str) -> Fact {
    Fact {
        subject: s.iri.clone(),
        relation,
        object: o.iri.clone(),
        evidence: Evidence {
            sentence,
            text: text.to_string(),
            start: sentence * 100,
            end: sentence * 100 + text.chars().count(),
            rule: format!("test.{relation}"),
            confidence: 0.9,
            ..Evidence::default()
        },
    }
}

/// The standard output of a command that must have succeeded.
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "newsgraph failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every quad of the on-disk store at `store`, as N-Quads lines (`newsgraph
/// export --format nquads`).
pub fn store_quads(store: &std::path::Path) -> std::collections::BTreeSet<String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_newsgraph"))
        .arg("--store")
        .arg(store)
        .args(["export", "--format", "nquads", "--out", "-"])
        .output()
        .expect("run newsgraph export");
    ok(out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Builds the seed articles into an on-disk store at `db` with the real binary.
pub fn build_seed_store(db: &std::path::Path) {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_newsgraph"))
        .arg("--store")
        .arg(db)
        .args(["--quiet", "build"])
        .arg(seeds)
        .output()
        .expect("run newsgraph build");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Extracts `input` with the built-in ontology (every document must read)
/// into a fresh in-memory store.
pub fn in_memory_store(input: &std::path::Path) -> newsgraph::store::GraphStore {
    let ontology = newsgraph::ontology::Ontology::load(None).expect("built-in ontology");
    let extracted = newsgraph::pipeline::extract_inputs(
        &[input.to_path_buf()],
        &ontology,
        &newsgraph::pipeline::ExtractOptions::default(),
        &|_| {},
    )
    .expect("extraction");
    assert!(extracted.skipped.is_empty(), "{:?}", extracted.skipped);
    let store = newsgraph::store::GraphStore::in_memory().expect("store");
    store
        .replace_documents(&extracted.documents)
        .expect("write");
    store
}
