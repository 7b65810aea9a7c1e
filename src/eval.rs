//! Scores extracted graphs against gold annotations with SCHEMA.md's rule:
//! a node matches a gold entity when they share a name and a type; an edge
//! matches a gold relation when both ends match, the relation is the same
//! (`signedMouWith` in either direction) and the edge comes from that
//! document. Precision, recall and F1 are micro-averaged over documents.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::model::{DocumentGraph, EntityType, Relation};

/// A gold entity.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldEntity {
    /// Local id used by relations.
    pub id: String,
    /// `Person`, `Organization` or `Sector`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The label.
    pub name: String,
    /// Other names.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// A gold relation.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldRelation {
    /// Subject entity id.
    pub subject: String,
    /// Relation name.
    pub predicate: String,
    /// Object entity id.
    pub object: String,
    /// The sentence that states it.
    #[serde(default)]
    pub evidence: String,
}

/// The gold annotation of one document.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldDocument {
    /// Document id (file name).
    pub doc: String,
    /// Scored entities.
    pub entities: Vec<GoldEntity>,
    /// Scored relations.
    pub relations: Vec<GoldRelation>,
}

/// Counts for one row of the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// System items that match gold.
    pub matched_system: usize,
    /// All system items.
    pub system: usize,
    /// Gold items matched by the system.
    pub matched_gold: usize,
    /// All gold items.
    pub gold: usize,
}

impl Counts {
    /// Precision (1 when the system produced nothing).
    pub fn precision(&self) -> f64 {
        if self.system == 0 {
            1.0
        } else {
            self.matched_system as f64 / self.system as f64
        }
    }
    /// Recall (1 when there is no gold).
    pub fn recall(&self) -> f64 {
        if self.gold == 0 {
            1.0
        } else {
            self.matched_gold as f64 / self.gold as f64
        }
    }
    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    fn add(&mut self, other: Counts) {
        self.matched_system += other.matched_system;
        self.system += other.system;
        self.matched_gold += other.matched_gold;
        self.gold += other.gold;
    }
}

/// The evaluation of a run against gold files.
#[derive(Debug, Clone, Default)]
pub struct EvalReport {
    /// Documents scored.
    pub documents: usize,
    /// Per entity type.
    pub entities: BTreeMap<String, Counts>,
    /// Per relation.
    pub relations: BTreeMap<String, Counts>,
    /// Gold relations the system missed: (document, description).
    pub missed: Vec<(String, String)>,
    /// System relations not in gold: (document, description).
    pub spurious: Vec<(String, String)>,
    /// Entities missed and spurious: (document, description).
    pub entity_errors: Vec<(String, String)>,
    /// Extracted documents without a gold file.
    pub without_gold: Vec<String>,
}

impl EvalReport {
    /// All relations together.
    pub fn relations_overall(&self) -> Counts {
        let mut c = Counts::default();
        for v in self.relations.values() {
            c.add(*v);
        }
        c
    }

    /// All scored entity types together.
    pub fn entities_overall(&self) -> Counts {
        let mut c = Counts::default();
        for v in self.entities.values() {
            c.add(*v);
        }
        c
    }

    /// A plain-text table, with misses and spurious items when `verbose`.
    pub fn render(&self, verbose: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "documents scored: {}", self.documents);
        let row = |out: &mut String, name: &str, c: &Counts| {
            let _ = writeln!(
                out,
                "{name:<16} {:>6.3} {:>6.3} {:>6.3} {:>6} {:>6}",
                c.precision(),
                c.recall(),
                c.f1(),
                c.system,
                c.gold
            );
        };
        let _ = writeln!(
            out,
            "{:<16} {:>6} {:>6} {:>6} {:>6} {:>6}",
            "relation", "P", "R", "F1", "system", "gold"
        );
        for (name, c) in &self.relations {
            row(&mut out, name, c);
        }
        row(&mut out, "ALL relations", &self.relations_overall());
        let _ = writeln!(
            out,
            "{:<16} {:>6} {:>6} {:>6} {:>6} {:>6}",
            "entity type", "P", "R", "F1", "system", "gold"
        );
        for (name, c) in &self.entities {
            row(&mut out, name, c);
        }
        row(&mut out, "ALL entities", &self.entities_overall());
        if !self.without_gold.is_empty() {
            let _ = writeln!(out, "no gold file for: {}", self.without_gold.join(", "));
        }
        if verbose {
            for (title, items) in [
                ("missed", &self.missed),
                ("spurious", &self.spurious),
                ("entities", &self.entity_errors),
            ] {
                let _ = writeln!(out, "\n{title}:");
                for (doc, what) in items {
                    let _ = writeln!(out, "  {doc}: {what}");
                }
            }
        }
        out
    }

    /// The report as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let rows = |m: &BTreeMap<String, Counts>| -> serde_json::Value {
            m.iter()
                .map(|(k, c)| {
                    (
                        k.clone(),
                        serde_json::json!({"precision": c.precision(), "recall": c.recall(), "f1": c.f1(), "system": c.system, "gold": c.gold}),
                    )
                })
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let overall = |c: Counts| serde_json::json!({"precision": c.precision(), "recall": c.recall(), "f1": c.f1(), "system": c.system, "gold": c.gold});
        serde_json::json!({
            "documents": self.documents,
            "relations": rows(&self.relations),
            "relations_overall": overall(self.relations_overall()),
            "entities": rows(&self.entities),
            "entities_overall": overall(self.entities_overall()),
            "missed": self.missed,
            "spurious": self.spurious,
        })
    }
}

/// Reads a gold file.
pub fn read_gold(path: &Path) -> Result<GoldDocument> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Gold {
        path: path.to_path_buf(),
        message: format!("line {}, column {}: {e}", e.line(), e.column()),
    })
}

fn gold_path(dir: &Path, doc_id: &str) -> Option<PathBuf> {
    let direct = dir.join(format!("{doc_id}.json"));
    if direct.is_file() {
        return Some(direct);
    }
    let base = Path::new(doc_id)
        .file_name()?
        .to_string_lossy()
        .into_owned();
    let by_name = dir.join(format!("{base}.json"));
    by_name.is_file().then_some(by_name)
}

/// Scores `documents` against the gold files in `gold_dir`
/// (`<gold_dir>/<document id>.json`).
pub fn evaluate(gold_dir: &Path, documents: &[DocumentGraph]) -> Result<EvalReport> {
    if !gold_dir.is_dir() {
        return Err(Error::Gold {
            path: gold_dir.to_path_buf(),
            message: "not a directory".into(),
        });
    }
    let mut report = EvalReport::default();
    for t in [
        EntityType::Person,
        EntityType::Organization,
        EntityType::Sector,
    ] {
        report
            .entities
            .insert(t.as_str().to_string(), Counts::default());
    }
    for r in Relation::ALL {
        report
            .relations
            .insert(r.as_str().to_string(), Counts::default());
    }
    for doc in documents {
        let Some(path) = gold_path(gold_dir, &doc.meta.id) else {
            report.without_gold.push(doc.meta.id.clone());
            continue;
        };
        let gold = read_gold(&path)?;
        report.documents += 1;
        score_document(&mut report, doc, &gold, &path)?;
    }
    Ok(report)
}

fn score_document(
    report: &mut EvalReport,
    doc: &DocumentGraph,
    gold: &GoldDocument,
    path: &Path,
) -> Result<()> {
    let id = doc.meta.id.clone();
    let names_of_gold = |g: &GoldEntity| -> HashSet<String> {
        std::iter::once(&g.name)
            .chain(&g.aliases)
            .map(|n| n.trim().to_string())
            .collect()
    };
    // Which gold entities each system node matches.
    let mut node_matches: Vec<(usize, Vec<usize>)> = Vec::new();
    for (ni, node) in doc.entities.iter().enumerate() {
        if !node.kind.is_scored() {
            continue;
        }
        let names: HashSet<String> = std::iter::once(&*node.label)
            .chain(node.aliases.iter().map(String::as_str))
            .map(|n| n.trim().to_string())
            .collect();
        let matches: Vec<usize> = gold
            .entities
            .iter()
            .enumerate()
            .filter(|(_, g)| g.kind == node.kind.as_str() && !names.is_disjoint(&names_of_gold(g)))
            .map(|(gi, _)| gi)
            .collect();
        node_matches.push((ni, matches));
    }
    for t in [
        EntityType::Person,
        EntityType::Organization,
        EntityType::Sector,
    ] {
        let mut c = Counts::default();
        let mut matched_gold: HashSet<usize> = HashSet::new();
        for (ni, matches) in &node_matches {
            let node = &doc.entities[*ni];
            if node.kind != t {
                continue;
            }
            c.system += 1;
            if matches.is_empty() {
                report
                    .entity_errors
                    .push((id.clone(), format!("spurious {t} {}", node.label)));
            } else {
                c.matched_system += 1;
            }
            matched_gold.extend(matches);
        }
        for (gi, g) in gold.entities.iter().enumerate() {
            if g.kind == t.as_str() {
                c.gold += 1;
                if matched_gold.contains(&gi) {
                    c.matched_gold += 1;
                } else {
                    report
                        .entity_errors
                        .push((id.clone(), format!("missed {t} {}", g.name)));
                }
            }
        }
        if let Some(total) = report.entities.get_mut(t.as_str()) {
            total.add(c);
        }
    }
    // Gold entity ids matched by each system IRI.
    let gold_index: BTreeMap<&str, usize> = gold
        .entities
        .iter()
        .enumerate()
        .map(|(i, g)| (g.id.as_str(), i))
        .collect();
    let matches_of = |iri: &str| -> Vec<usize> {
        node_matches
            .iter()
            .find(|(ni, _)| *doc.entities[*ni].iri == *iri)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    };
    let label_of = |iri: &str| {
        doc.entities
            .iter()
            .find(|e| *e.iri == *iri)
            .map(|e| e.label.to_string())
            .unwrap_or_else(|| iri.to_string())
    };
    let mut gold_matched = vec![false; gold.relations.len()];
    let mut per_relation: BTreeMap<String, Counts> = BTreeMap::new();
    for g in &gold.relations {
        if !gold_index.contains_key(g.subject.as_str())
            || !gold_index.contains_key(g.object.as_str())
        {
            return Err(Error::Gold {
                path: path.to_path_buf(),
                message: format!(
                    "relation refers to unknown entity id ({} or {})",
                    g.subject, g.object
                ),
            });
        }
        per_relation.entry(g.predicate.clone()).or_default().gold += 1;
    }
    for f in &doc.facts {
        let (sm, om) = (matches_of(&f.subject), matches_of(&f.object));
        let mut hit = false;
        for (gi, g) in gold.relations.iter().enumerate() {
            if g.predicate != f.relation.as_str() {
                continue;
            }
            let (gs, go) = (
                gold_index[g.subject.as_str()],
                gold_index[g.object.as_str()],
            );
            let forward = sm.contains(&gs) && om.contains(&go);
            let backward = f.relation.is_symmetric() && sm.contains(&go) && om.contains(&gs);
            if forward || backward {
                hit = true;
                gold_matched[gi] = true;
            }
        }
        let c = per_relation
            .entry(f.relation.as_str().to_string())
            .or_default();
        c.system += 1;
        if hit {
            c.matched_system += 1;
        } else {
            report.spurious.push((
                id.clone(),
                format!(
                    "{} {} {}  [{}] {}",
                    label_of(&f.subject),
                    f.relation,
                    label_of(&f.object),
                    f.evidence.rule,
                    f.evidence.text
                ),
            ));
        }
    }
    for (gi, g) in gold.relations.iter().enumerate() {
        if gold_matched[gi] {
            per_relation
                .entry(g.predicate.clone())
                .or_default()
                .matched_gold += 1;
        } else {
            let name = |id: &str| gold.entities[gold_index[id]].name.clone();
            report.missed.push((
                id.clone(),
                format!(
                    "{} {} {}  | {}",
                    name(&g.subject),
                    g.predicate,
                    name(&g.object),
                    g.evidence
                ),
            ));
        }
    }
    for (k, c) in per_relation {
        report.relations.entry(k).or_default().add(c);
    }
    Ok(())
}
