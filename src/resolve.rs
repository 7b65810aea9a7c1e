//! Stage 6 — resolve: gives every entity one identity across all the
//! documents of a run. Entities of the same type that share a name (other
//! than a generic one such as `정부` or `전담팀`) are one node; its label
//! is the gazetteer's canonical name, else the fullest name seen; its IRI
//! is derived from type and label, so two runs give the same IRIs.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::model::{
    entity_iri, DocumentGraph, DocumentMeta, Entity, EntityType, Evidence, Fact, Relation, Sentence,
};
use crate::recognise::{fullest_name, Recognised};
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

impl DocumentExtraction {
    /// What resolution needs of the document: the entities it keeps, its
    /// facts between them and the sentences those cite. Tokens, mentions
    /// and the other sentences are dropped.
    pub fn into_resolvable(self) -> ResolvableDocument {
        let kept = kept_entities(&self.recognised);
        let mut new_index = vec![usize::MAX; kept.len()];
        let mut entities = Vec::with_capacity(kept.iter().filter(|k| **k).count());
        for (e, local) in self.recognised.entities.into_iter().enumerate() {
            if kept[e] {
                new_index[e] = entities.len();
                entities.push(NamedEntity {
                    kind: local.kind,
                    canonical: local.canonical,
                    names: local.names,
                    generic_names: local.generic_names,
                });
            }
        }
        let mut sentence_index = vec![usize::MAX; self.sentences.len()];
        let mut cited = Vec::with_capacity(self.facts.len());
        let mut facts = Vec::with_capacity(self.facts.len());
        for f in self.facts {
            let (subject, object) = (new_index[f.subject], new_index[f.object]);
            if subject == usize::MAX || object == usize::MAX {
                continue;
            }
            if sentence_index[f.sentence] == usize::MAX {
                sentence_index[f.sentence] = cited.len();
                cited.push(f.sentence);
            }
            facts.push(ResolvableFact {
                subject,
                relation: f.relation,
                object,
                sentence: sentence_index[f.sentence],
                rule: f.rule.to_string(),
                confidence: f.confidence,
            });
        }
        let mut sentences: Vec<Option<Sentence>> = self.sentences.into_iter().map(Some).collect();
        let sentences = cited
            .into_iter()
            .filter_map(|i| sentences[i].take())
            .collect();
        ResolvableDocument {
            meta: self.meta,
            entities,
            facts,
            sentences,
            article_titles: self.article_titles,
        }
    }
}

/// A document as resolution needs it ([`DocumentExtraction::into_resolvable`]):
/// small and serializable, so that a streaming run can set documents aside
/// on disk between indexing their names and resolving them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResolvableDocument {
    /// The document.
    pub meta: DocumentMeta,
    /// The entities the document keeps.
    pub entities: Vec<NamedEntity>,
    /// Relations between them.
    pub facts: Vec<ResolvableFact>,
    /// The sentences the facts cite.
    pub sentences: Vec<Sentence>,
    /// Headline of each article of the page, by article index.
    pub article_titles: Vec<Option<String>>,
}

/// An entity of one document, by its names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedEntity {
    /// Its type.
    pub kind: EntityType,
    /// The canonical name when the gazetteer or vocabulary gives one.
    pub canonical: Option<String>,
    /// Every surface name seen, in order of first appearance.
    pub names: Vec<String>,
    /// Names that only refer back (never used to merge entities).
    pub generic_names: Vec<String>,
}

impl NamedEntity {
    /// The fullest name (see [`crate::recognise::LocalEntity::label`]).
    pub fn label(&self) -> &str {
        fullest_name(self.canonical.as_deref(), &self.names, &self.generic_names)
    }

    /// The names the entity is merged by: its canonical name and every name
    /// that is not generic.
    fn keys(&self) -> impl Iterator<Item = &String> {
        self.canonical.iter().chain(
            self.names
                .iter()
                .filter(|n| !self.generic_names.contains(n)),
        )
    }
}

/// A relation between two entities of a [`ResolvableDocument`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvableFact {
    /// Subject (index into [`ResolvableDocument::entities`]).
    pub subject: usize,
    /// The relation.
    pub relation: Relation,
    /// Object (index into [`ResolvableDocument::entities`]).
    pub object: usize,
    /// The sentence that states it (index into [`ResolvableDocument::sentences`]).
    pub sentence: usize,
    /// The rule that fired.
    pub rule: String,
    /// Confidence in `0.0..=1.0`.
    pub confidence: f32,
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
    /// Per entity type (by [`EntityType`] discriminant), name → node.
    nodes: [FxHashMap<String, usize>; EntityType::ALL.len()],
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
        let nodes = &mut self.nodes[kind as usize];
        if let Some(&n) = nodes.get(name) {
            return n;
        }
        let n = self.union.push();
        self.best_label.push(None);
        self.canonical_votes.push(Vec::new());
        nodes.insert(name.to_string(), n);
        n
    }

    /// Adds the entities a document keeps.
    pub fn add(&mut self, doc: &ResolvableDocument) {
        for e in &doc.entities {
            self.add_entity(e);
        }
    }

    fn add_entity(&mut self, e: &NamedEntity) {
        let mut keys = e.keys();
        let Some(first) = keys.next() else { return };
        let first = self.node(e.kind, first);
        for name in keys {
            let other = self.node(e.kind, name);
            self.union.union(first, other);
        }
        let best = e.label();
        match &mut self.best_label[first] {
            // The same label again, as most documents give it.
            Some(current) if current == best || !better_label(best, current) => {}
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
        // Each label once, names pointing at it.
        let mut texts = Vec::with_capacity(label_of_root.len());
        let mut text_of_root: HashMap<usize, u32> = HashMap::with_capacity(label_of_root.len());
        for (root, label) in label_of_root {
            text_of_root.insert(root, texts.len() as u32);
            texts.push(Arc::<str>::from(label));
        }
        let mut labels: [FxHashMap<String, u32>; EntityType::ALL.len()] = Default::default();
        // The type of each label's entity: the names of one entity are all
        // of its type.
        let mut kind_of_text: Vec<Option<EntityType>> = vec![None; texts.len()];
        for (slot, nodes) in self.nodes.into_iter().enumerate() {
            let kind = EntityType::ALL.into_iter().find(|k| *k as usize == slot);
            labels[slot].reserve(nodes.len());
            for (name, node) in nodes {
                let root = self.union.find(node);
                if let Some(&text) = text_of_root.get(&root) {
                    labels[slot].insert(name, text);
                    debug_assert!(kind_of_text[text as usize].is_none_or(|k| Some(k) == kind));
                    kind_of_text[text as usize] = kind;
                }
            }
        }
        // Each entity's IRI made once for the run, not once per document
        // that names it. (A label no name points to has no type, and is
        // never looked up: it gets no IRI.)
        let iris = texts
            .iter()
            .zip(kind_of_text)
            .map(|(label, kind)| {
                kind.map_or_else(|| "".into(), |kind| entity_iri(kind, label).into())
            })
            .collect();
        Resolution {
            labels,
            texts,
            iris,
        }
    }
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
    /// Per entity type (by [`EntityType`] discriminant), name → label (in
    /// `texts`).
    labels: [FxHashMap<String, u32>; EntityType::ALL.len()],
    /// The labels, each once.
    texts: Vec<Arc<str>>,
    /// The IRI of each label's entity, by the label's index in `texts`.
    iris: Vec<Arc<str>>,
}

impl Resolution {
    /// How many distinct names the run resolved.
    pub fn len(&self) -> usize {
        self.labels.iter().map(FxHashMap::len).sum()
    }

    /// Whether no name was resolved.
    pub fn is_empty(&self) -> bool {
        self.labels.iter().all(FxHashMap::is_empty)
    }

    /// The label and IRI of an entity of a document.
    fn label_and_iri_of(&self, e: &NamedEntity) -> (Arc<str>, Arc<str>) {
        match e
            .keys()
            .next()
            .and_then(|k| self.labels[e.kind as usize].get(k.as_str()))
        {
            Some(&text) => (
                self.texts[text as usize].clone(),
                self.iris[text as usize].clone(),
            ),
            None => {
                let label = e.label();
                (label.into(), entity_iri(e.kind, label).into())
            }
        }
    }

    /// The graph of one document of the run, with facts at or above
    /// `min_confidence`.
    pub fn document_graph(&self, doc: ResolvableDocument, min_confidence: f32) -> DocumentGraph {
        let ResolvableDocument {
            meta,
            entities: named,
            facts: resolvable,
            mut sentences,
            article_titles,
        } = doc;
        let mut entities: Vec<Entity> = Vec::with_capacity(named.len());
        // Per entity of the document, where its resolved entity is in
        // `entities` (two may resolve to one).
        let mut entity_of: Vec<usize> = Vec::with_capacity(named.len());
        for local in named {
            let (label, iri) = self.label_and_iri_of(&local);
            let aliases: BTreeSet<String> =
                local.names.into_iter().filter(|n| **n != *label).collect();
            match entities.iter().position(|x| x.iri == iri) {
                Some(at) => {
                    entities[at].aliases.extend(aliases);
                    entity_of.push(at);
                }
                None => {
                    entity_of.push(entities.len());
                    entities.push(Entity {
                        iri,
                        kind: local.kind,
                        label,
                        aliases,
                    });
                }
            }
        }
        let article_titles: Vec<Option<Arc<str>>> = article_titles
            .into_iter()
            .map(|t| t.map(Arc::from))
            .collect();
        let mut facts = Vec::with_capacity(resolvable.len());
        // Per fact kept, the sentence it cites; the texts are put in below.
        let mut cited: Vec<usize> = Vec::with_capacity(resolvable.len());
        for f in resolvable {
            if f.confidence < min_confidence {
                continue;
            }
            let subject = &entities[entity_of[f.subject]].iri;
            let object = &entities[entity_of[f.object]].iri;
            if subject == object {
                continue;
            }
            let sentence = &sentences[f.sentence];
            let (subject, object) = if f.relation.is_symmetric() && object < subject {
                (object, subject)
            } else {
                (subject, object)
            };
            if facts.iter().any(|x: &Fact| {
                x.subject == *subject && x.object == *object && x.relation == f.relation
            }) {
                continue;
            }
            facts.push(Fact {
                subject: subject.clone(),
                relation: f.relation,
                object: object.clone(),
                evidence: Evidence {
                    sentence: sentence.index,
                    text: String::new(),
                    start: sentence.start,
                    end: sentence.end,
                    rule: f.rule,
                    confidence: f.confidence,
                    article: sentence.article,
                    article_title: article_titles.get(sentence.article).cloned().flatten(),
                },
            });
            cited.push(f.sentence);
        }
        // A sentence's text moves into the last fact that cites it; the
        // facts before get a copy.
        let mut holder: Vec<Option<usize>> = vec![None; sentences.len()];
        for (at, &s) in cited.iter().enumerate().rev() {
            let text = match holder[s] {
                Some(last) => facts[last].evidence.text.clone(),
                None => {
                    holder[s] = Some(at);
                    std::mem::take(&mut sentences[s].text)
                }
            };
            facts[at].evidence.text = text;
        }
        DocumentGraph {
            meta,
            entities,
            facts,
        }
    }
}

/// Resolves the entities of all documents and returns one graph per
/// document, with facts at or above `min_confidence`.
pub fn resolve(docs: Vec<DocumentExtraction>, min_confidence: f32) -> Vec<DocumentGraph> {
    let docs: Vec<ResolvableDocument> = docs
        .into_iter()
        .map(DocumentExtraction::into_resolvable)
        .collect();
    let mut index = EntityIndex::new();
    for doc in &docs {
        index.add(doc);
    }
    let resolution = index.finish();
    docs.into_iter()
        .map(|doc| resolution.document_graph(doc, min_confidence))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ontology::Ontology;
    use crate::pipeline::extract_document;
    use crate::read::RawDocument;

    fn extraction(id: &str, text: &str) -> DocumentExtraction {
        let ontology = Ontology::load(None).expect("built-in ontology");
        let raw = RawDocument {
            id: id.to_string(),
            source: id.into(),
            text: text.to_string(),
            encoding: "UTF-8",
            title: None,
            date: None,
            outlet: None,
            url: None,
        };
        extract_document(&raw, &ontology)
    }

    #[test]
    fn a_resolvable_document_survives_the_spill_and_resolves_as_before() {
        let docs = vec![
            extraction(
                "a",
                "광주광역시와 한국전력공사는 에너지 신산업 육성을 위한 업무협약을 체결했다.\n\
                 날씨가 맑았다.\n\
                 강기정 광주시장은 인공지능 산업을 키우겠다고 밝혔다.",
            ),
            extraction("b", "한전은 광주시와 에너지 산업 협력을 논의했다."),
        ];
        let direct = resolve(docs.clone(), 0.0);
        assert!(direct.iter().map(|d| d.facts.len()).sum::<usize>() >= 3);

        let resolvable: Vec<ResolvableDocument> = docs
            .into_iter()
            .map(DocumentExtraction::into_resolvable)
            .collect();
        // Only the sentences facts cite are kept, renumbered for the facts
        // but with their place in the document.
        assert!(resolvable[0]
            .sentences
            .iter()
            .all(|s| !s.text.contains("날씨")));
        assert!(resolvable[0]
            .facts
            .iter()
            .all(|f| f.sentence < resolvable[0].sentences.len()));
        let mut index = EntityIndex::new();
        let mut spilled = Vec::new();
        for doc in &resolvable {
            index.add(doc);
            let bytes = postcard::to_stdvec(doc).expect("serializable");
            let back: ResolvableDocument = postcard::from_bytes(&bytes).expect("readable");
            assert_eq!(&back, doc);
            spilled.push(back);
        }
        let resolution = index.finish();
        let through_spill: Vec<DocumentGraph> = spilled
            .into_iter()
            .map(|d| resolution.document_graph(d, 0.0))
            .collect();
        assert_eq!(through_spill, direct);
    }
}
