//! The seed articles scored against their gold annotations: a regression in
//! the extraction rules fails here.

use std::path::PathBuf;

use newsgraph::eval::evaluate;
use newsgraph::ontology::Ontology;
use newsgraph::pipeline::{extract_inputs, ExtractOptions};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn seed_gold_scores_above_the_floors() {
    let ontology = Ontology::load(None).expect("built-in ontology");
    let extracted = extract_inputs(
        &[root().join("seeds")],
        &ontology,
        &ExtractOptions::default(),
        &|_| {},
    )
    .expect("extraction");
    assert!(extracted.skipped.is_empty(), "{:?}", extracted.skipped);
    let report =
        evaluate(&root().join("tests/gold/seeds"), &extracted.documents).expect("evaluation");
    println!(
        "{}",
        report.render(std::env::var_os("NEWSGRAPH_EVAL_VERBOSE").is_some())
    );
    assert_eq!(report.documents, 5);
    let relations = report.relations_overall();
    assert!(
        relations.precision() >= 0.90,
        "relation precision {:.3}",
        relations.precision()
    );
    assert!(
        relations.recall() >= 0.85,
        "relation recall {:.3}",
        relations.recall()
    );
    for (kind, counts) in &report.entities {
        assert!(counts.f1() >= 0.90, "{kind} entity F1 {:.3}", counts.f1());
    }
}

/// The held-out development set (`tests/fixtures/dev/`), written without
/// looking at the rules: floors that catch a regression on phrasings the
/// seeds do not have.
#[test]
fn dev_set_scores_above_the_floors() {
    let ontology = Ontology::load(None).expect("built-in ontology");
    let dev = root().join("tests/fixtures/dev");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dev)
        .expect("dev set")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 20, "{} dev articles", inputs.len());
    let extracted = extract_inputs(&inputs, &ontology, &ExtractOptions::default(), &|_| {})
        .expect("extraction");
    let report = evaluate(&dev.join("gold"), &extracted.documents).expect("evaluation");
    println!(
        "{}",
        report.render(std::env::var_os("NEWSGRAPH_EVAL_VERBOSE").is_some())
    );
    assert_eq!(report.documents, inputs.len());
    let relations = report.relations_overall();
    assert!(
        relations.precision() >= 0.88,
        "dev relation precision {:.3}",
        relations.precision()
    );
    assert!(
        relations.recall() >= 0.75,
        "dev relation recall {:.3}",
        relations.recall()
    );
    for (kind, counts) in &report.entities {
        assert!(
            counts.f1() >= 0.88,
            "dev {kind} entity F1 {:.3}",
            counts.f1()
        );
    }
}
