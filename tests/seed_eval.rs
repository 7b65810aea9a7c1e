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
