//! The ontology parses with Oxigraph, and every class and predicate the
//! store holds after building the seeds is declared in it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use newsgraph::ontology::Ontology;
use newsgraph::pipeline::{extract_inputs, ExtractOptions};
use newsgraph::store::{document_quads, GraphStore};
use oxigraph::io::{RdfFormat, RdfParser};
use oxigraph::model::{NamedOrBlankNode, Term};

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

fn declared_terms(ontology: &Ontology) -> BTreeSet<String> {
    let mut declared = BTreeSet::new();
    for ttl in [ontology.model_ttl(), ontology.sectors_ttl()] {
        for quad in RdfParser::from_format(RdfFormat::Turtle).for_slice(ttl.as_bytes()) {
            let quad = quad.expect("the ontology parses with Oxigraph");
            if quad.predicate.as_str() == RDF_TYPE {
                if let NamedOrBlankNode::NamedNode(s) = &quad.subject {
                    declared.insert(s.as_str().to_string());
                }
            }
        }
    }
    declared
}

#[test]
fn every_class_and_predicate_in_the_seed_graph_is_declared() {
    let ontology = Ontology::load(None).expect("ontology");
    let declared = declared_terms(&ontology);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let extracted = extract_inputs(
        &[root.join("seeds")],
        &ontology,
        &ExtractOptions::default(),
        &|_| {},
    )
    .expect("extract");
    let store = GraphStore::in_memory().expect("store");
    store
        .replace_documents(&extracted.documents)
        .expect("write");
    let mut used = BTreeSet::new();
    for doc in &extracted.documents {
        for quad in document_quads(doc) {
            used.insert(quad.predicate.as_str().to_string());
            if quad.predicate.as_str() == RDF_TYPE {
                if let Term::NamedNode(class) = &quad.object {
                    used.insert(class.as_str().to_string());
                }
            }
        }
    }
    assert!(used.len() > 10, "{used:?}");
    // rdf:type is RDF itself; everything else must be declared.
    let undeclared: Vec<&String> = used
        .iter()
        .filter(|t| *t != RDF_TYPE && !declared.contains(*t))
        .collect();
    assert!(
        undeclared.is_empty(),
        "not declared in ontology/: {undeclared:?}"
    );
    // Sector nodes are the SKOS concepts themselves.
    let sectors: Vec<String> = extracted
        .documents
        .iter()
        .flat_map(|d| &d.entities)
        .filter(|e| {
            e.kind == newsgraph::model::EntityType::Sector && ontology.sector(&e.label).is_some()
        })
        .map(|e| e.iri.to_string())
        .collect();
    assert!(!sectors.is_empty());
    for iri in sectors {
        assert!(
            declared.contains(&iri),
            "sector {iri} is not a concept of sectors.ttl"
        );
    }
}
