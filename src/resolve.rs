//! Stage 6 — resolve: gives every entity one identity across all the
//! documents of a run. Entities of the same type that share a name (other
//! than a generic one such as `정부` or `전담팀`) are one node; its label
//! is the gazetteer's canonical name, else the fullest name seen; its IRI
//! is derived from type and label, so two runs give the same IRIs.

use std::collections::{BTreeSet, HashMap};

use crate::model::{
    entity_iri, DocumentGraph, DocumentMeta, Entity, EntityType, Evidence, Fact, Sentence,
};
use crate::recognise::{LocalEntity, Recognised};
use crate::relate::LocalFact;

/// What extraction produced for one document, before global resolution.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DocumentExtraction {
    /// The document.
    pub meta: DocumentMeta,
    /// Its sentences.
    pub sentences: Vec<Sentence>,
    /// Recognised names and local entities.
    pub recognised: Recognised,
    /// Relations between local entities.
    pub facts: Vec<LocalFact>,
    /// Headline of each article of the page, by article index.
    pub article_titles: Vec<Option<String>>,
}

/// Union-find over name nodes.
#[derive(Debug, Default)]
struct UnionFind(Vec<usize>);

impl UnionFind {
    fn push(&mut self) -> usize {
        self.0.push(self.0.len());
        self.0.len() - 1
    }
    fn find(&mut self, x: usize) -> usize {
        let mut root = x;
        while self.0[root] != root {
            root = self.0[root];
        }
        let mut x = x;
        while self.0[x] != root {
            let next = self.0[x];
            self.0[x] = root;
            x = next;
        }
        root
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[rb.max(ra)] = rb.min(ra);
        }
    }
}

fn label_score(name: &str) -> (usize, usize) {
    let hangul = name.chars().filter(|c| ('가'..='힣').contains(c)).count();
    (hangul + name.chars().count(), hangul)
}

/// Whether `candidate` is a better label than `current`: fullest first,
/// equal ones by the smaller string, so the label does not depend on the
/// order documents come in.
fn better_label(candidate: &str, current: &str) -> bool {
    label_score(candidate)
        .cmp(&label_score(current))
        .then_with(|| current.cmp(candidate))
        .is_gt()
}

/// The names by which the entities of many documents are one: the first
/// half of resolution, fed one document at a time, so a run over a corpus
/// keeps only its distinct names in memory, never its documents.
#[derive(Debug, Default)]
pub struct EntityIndex {
    nodes: HashMap<(EntityType, String), usize>,
    union: UnionFind,
    /// The best label seen on entities whose first name is the node.
    best_label: Vec<Option<String>>,
    /// Canonical names voted for by entities whose first name is the node.
    canonical_votes: Vec<Vec<(String, usize)>>,
}

impl EntityIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    fn node(&mut self, kind: EntityType, name: &str) -> usize {
        if let Some(&n) = self.nodes.get(&(kind, name.to_string())) {
            return n;
        }
        let n = self.union.push();
        self.best_label.push(None);
        self.canonical_votes.push(Vec::new());
        self.nodes.insert((kind, name.to_string()), n);
        n
    }

    /// Adds the entities a document keeps (see [`DocumentExtraction`]).
    pub fn add(&mut self, recognised: &Recognised) {
        for (e, keep) in kept_entities(recognised).into_iter().enumerate() {
            if keep {
                self.add_entity(&recognised.entities[e]);
            }
        }
    }

    fn add_entity(&mut self, e: &LocalEntity) {
        let keys: Vec<&String> = entity_keys(e).collect();
        let Some(first) = keys.first() else { return };
        let first = self.node(e.kind, first);
        for name in &keys[1..] {
            let other = self.node(e.kind, name);
            self.union.union(first, other);
        }
        let best = e.label();
        match &mut self.best_label[first] {
            Some(current) if !better_label(best, current) => {}
            slot => *slot = Some(best.to_string()),
        }
        if let Some(c) = &e.canonical {
            let votes = &mut self.canonical_votes[first];
            match votes.iter_mut().find(|(name, _)| name == c) {
                Some((_, n)) => *n += 1,
                None => votes.push((c.clone(), 1)),
            }
        }
    }

    /// Chooses one label per group of names.
    pub fn finish(mut self) -> Resolution {
        let mut label_of_root: HashMap<usize, String> = HashMap::new();
        let mut votes_of_root: HashMap<usize, HashMap<String, usize>> = HashMap::new();
        for node in 0..self.best_label.len() {
            let root = self.union.find(node);
            if let Some(best) = self.best_label[node].take() {
                match label_of_root.get_mut(&root) {
                    Some(current) if !better_label(&best, current) => {}
                    Some(current) => *current = best,
                    None => {
                        label_of_root.insert(root, best);
                    }
                }
            }
            for (c, n) in std::mem::take(&mut self.canonical_votes[node]) {
                *votes_of_root.entry(root).or_default().entry(c).or_default() += n;
            }
        }
        for (root, votes) in votes_of_root {
            if let Some((c, _)) = votes
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
            {
                label_of_root.insert(root, c);
            }
        }
        let mut labels = HashMap::with_capacity(self.nodes.len());
        for (key, node) in self.nodes {
            let root = self.union.find(node);
            if let Some(label) = label_of_root.get(&root) {
                labels.insert(key, label.clone());
            }
        }
        Resolution { labels }
    }
}

/// The names an entity is merged by: its canonical name and every name
/// that is not generic.
fn entity_keys(e: &LocalEntity) -> impl Iterator<Item = &String> {
    e.canonical
        .iter()
        .chain(e.names.iter().filter(|n| !e.generic_names.contains(n)))
}

/// Local entities that are kept: mentioned in a retained mention.
fn kept_entities(recognised: &Recognised) -> Vec<bool> {
    let mut kept = vec![false; recognised.entities.len()];
    for m in recognised.sentences.iter().flat_map(|s| &s.mentions) {
        kept[m.entity] = true;
    }
    // The organisation a kept one is named after (더불어민주당 of
    // 더불어민주당 미래경제성장전략위원회) is mentioned too.
    for i in 0..kept.len() {
        if kept[i] {
            if let Some(p) = recognised.entities[i].parent {
                kept[p] = true;
            }
        }
    }
    for (i, e) in recognised.entities.iter().enumerate() {
        if e.kind == EntityType::Organization && !e.strong {
            kept[i] = false;
        }
    }
    kept
}

/// The label of every name of a run: the second half of resolution.
#[derive(Debug, Default)]
pub struct Resolution {
    labels: HashMap<(EntityType, String), String>,
}

impl Resolution {
    /// How many distinct names the run resolved.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether no name was resolved.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    fn label_of(&self, e: &LocalEntity) -> String {
        entity_keys(e)
            .next()
            .and_then(|k| self.labels.get(&(e.kind, k.clone())))
            .cloned()
            .unwrap_or_else(|| e.label().to_string())
    }

    /// The graph of one document of the run, with facts at or above
    /// `min_confidence`.
    pub fn document_graph(&self, doc: DocumentExtraction, min_confidence: f32) -> DocumentGraph {
        let kept = kept_entities(&doc.recognised);
        let mut entities: Vec<Entity> = Vec::new();
        let mut iri_of: Vec<Option<String>> = vec![None; doc.recognised.entities.len()];
        for (e, local) in doc.recognised.entities.iter().enumerate() {
            if !kept[e] {
                continue;
            }
            let label = self.label_of(local);
            let iri = entity_iri(local.kind, &label);
            let aliases: BTreeSet<String> = local
                .names
                .iter()
                .filter(|n| **n != label)
                .cloned()
                .collect();
            iri_of[e] = Some(iri.clone());
            match entities.iter_mut().find(|x| x.iri == iri) {
                Some(existing) => existing.aliases.extend(aliases),
                None => entities.push(Entity {
                    iri,
                    kind: local.kind,
                    label,
                    aliases,
                }),
            }
        }
        let mut facts = Vec::new();
        for f in &doc.facts {
            if f.confidence < min_confidence {
                continue;
            }
            let (Some(subject), Some(object)) =
                (iri_of[f.subject].clone(), iri_of[f.object].clone())
            else {
                continue;
            };
            if subject == object {
                continue;
            }
            let sentence = &doc.sentences[f.sentence];
            let (subject, object) = if f.relation.is_symmetric() && object < subject {
                (object, subject)
            } else {
                (subject, object)
            };
            if facts.iter().any(|x: &Fact| {
                x.subject == subject && x.object == object && x.relation == f.relation
            }) {
                continue;
            }
            facts.push(Fact {
                subject,
                relation: f.relation,
                object,
                evidence: Evidence {
                    sentence: sentence.index,
                    text: sentence.text.clone(),
                    start: sentence.start,
                    end: sentence.end,
                    rule: f.rule.to_string(),
                    confidence: f.confidence,
                    article: sentence.article,
                    article_title: doc.article_titles.get(sentence.article).cloned().flatten(),
                },
            });
        }
        DocumentGraph {
            meta: doc.meta,
            entities,
            facts,
        }
    }
}

/// Resolves the entities of all documents and returns one graph per
/// document, with facts at or above `min_confidence`.
pub fn resolve(docs: Vec<DocumentExtraction>, min_confidence: f32) -> Vec<DocumentGraph> {
    let mut index = EntityIndex::new();
    for doc in &docs {
        index.add(&doc.recognised);
    }
    let resolution = index.finish();
    docs.into_iter()
        .map(|doc| resolution.document_graph(doc, min_confidence))
        .collect()
}
