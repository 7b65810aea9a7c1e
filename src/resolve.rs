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

impl DocumentExtraction {
    /// Local entities that are kept: mentioned in a retained mention.
    fn kept(&self) -> Vec<bool> {
        let mut kept = vec![false; self.recognised.entities.len()];
        for m in self.recognised.sentences.iter().flat_map(|s| &s.mentions) {
            kept[m.entity] = true;
        }
        // The organisation a kept one is named after (더불어민주당 of
        // 더불어민주당 미래경제성장전략위원회) is mentioned too.
        for i in 0..kept.len() {
            if kept[i] {
                if let Some(p) = self.recognised.entities[i].parent {
                    kept[p] = true;
                }
            }
        }
        for (i, e) in self.recognised.entities.iter().enumerate() {
            if e.kind == EntityType::Organization && !e.strong {
                kept[i] = false;
            }
        }
        kept
    }
}

struct UnionFind(Vec<usize>);

impl UnionFind {
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

/// Resolves the entities of all documents and returns one graph per
/// document, with facts at or above `min_confidence`.
pub fn resolve(docs: Vec<DocumentExtraction>, min_confidence: f32) -> Vec<DocumentGraph> {
    // One slot per kept local entity.
    let mut slots: Vec<(usize, usize)> = Vec::new();
    let mut slot_of: Vec<Vec<Option<usize>>> = Vec::with_capacity(docs.len());
    for (d, doc) in docs.iter().enumerate() {
        let kept = doc.kept();
        let mut map = vec![None; doc.recognised.entities.len()];
        for (e, keep) in kept.into_iter().enumerate() {
            if keep {
                map[e] = Some(slots.len());
                slots.push((d, e));
            }
        }
        slot_of.push(map);
    }
    let entity = |slot: usize| -> &LocalEntity {
        let (d, e) = slots[slot];
        &docs[d].recognised.entities[e]
    };
    let mut uf = UnionFind((0..slots.len()).collect());
    let mut by_name: HashMap<(EntityType, String), usize> = HashMap::new();
    for slot in 0..slots.len() {
        let e = entity(slot);
        let keys = e
            .canonical
            .iter()
            .chain(e.names.iter().filter(|n| !e.generic_names.contains(n)));
        for name in keys {
            match by_name.get(&(e.kind, name.clone())) {
                Some(&other) => uf.union(slot, other),
                None => {
                    by_name.insert((e.kind, name.clone()), slot);
                }
            }
        }
    }
    // Label per cluster.
    let mut labels: HashMap<usize, String> = HashMap::new();
    let mut canonical_votes: HashMap<usize, HashMap<String, usize>> = HashMap::new();
    for slot in 0..slots.len() {
        let root = uf.find(slot);
        let e = entity(slot);
        if let Some(c) = &e.canonical {
            *canonical_votes
                .entry(root)
                .or_default()
                .entry(c.clone())
                .or_default() += 1;
        }
        let best = e.label().to_string();
        let current = labels.entry(root).or_insert_with(|| best.clone());
        // Fullest first; equal ones by the smaller string, so the label
        // does not depend on the order documents come in.
        let better = label_score(&best)
            .cmp(&label_score(current))
            .then_with(|| current.as_str().cmp(best.as_str()))
            .is_gt();
        if better {
            *current = best;
        }
    }
    for (root, votes) in canonical_votes {
        if let Some((c, _)) = votes
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        {
            labels.insert(root, c);
        }
    }

    let mut out = Vec::with_capacity(docs.len());
    for (d, doc) in docs.into_iter().enumerate() {
        let mut entities: Vec<Entity> = Vec::new();
        let mut iri_of: Vec<Option<String>> = vec![None; doc.recognised.entities.len()];
        for (e, local) in doc.recognised.entities.iter().enumerate() {
            let Some(slot) = slot_of[d][e] else { continue };
            let root = uf.find(slot);
            let label = labels
                .get(&root)
                .cloned()
                .unwrap_or_else(|| local.label().to_string());
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
        out.push(DocumentGraph {
            meta: doc.meta,
            entities,
            facts,
        });
    }
    out
}
