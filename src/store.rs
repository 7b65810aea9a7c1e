//! The RDF mapping of [`DocumentGraph`]s and the embedded Oxigraph store.
//!
//! Every document lives in its own named graph, named by the document's IRI
//! ([`DocumentMeta::iri`](crate::model::DocumentMeta::iri)). Rebuilding a
//! document drops its graph and writes the new one in the same transaction,
//! so a document is never half written and never duplicated.
//!
//! The mapping (`ng:` is [`ONTOLOGY_NS`]):
//!
//! ```turtle
//! GRAPH <doc> {
//!   <doc> a ng:Document ; ng:documentId "id" ; ng:sourcePath "source" ;
//!         dcterms:title "…"@ko ; dcterms:date "2024-01-31"^^xsd:date .
//!   <E> a ng:Organization ; rdfs:label "…"@ko ; skos:altLabel "…"@ko ;
//!       ng:mentionedIn <doc> .
//!   <S> ng:signedMouWith <O> .
//!   <doc#f0> a rdf:Statement ; rdf:subject <S> ; rdf:predicate ng:signedMouWith ;
//!       rdf:object <O> ; prov:wasDerivedFrom <doc> ; ng:evidence <doc#s3> ;
//!       ng:rule "mou.signed" ; ng:confidence "0.9"^^xsd:decimal .
//!   <doc#s3> a ng:Sentence ; ng:text "…"@ko ; ng:startOffset 120 ;
//!       ng:endOffset 180 ; ng:inDocument <doc> .
//! }
//! ```

use rustc_hash::{FxHashMap, FxHashSet};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use oxigraph::model::vocab::{rdf, rdfs, xsd};
use oxigraph::model::{
    GraphNameRef, LiteralRef, NamedNode, NamedNodeRef, Quad, QuadRef, Term, TermRef,
};
use oxigraph::sparql::{QueryResults, QuerySolution, SparqlEvaluator};
use oxigraph::store::{StorageError, Store, StoreOptions};

use crate::model::{DocumentGraph, EntityType, Relation, ONTOLOGY_NS};
use crate::{Error, Result};

/// `http://www.w3.org/ns/prov#`
pub const PROV_NS: &str = "http://www.w3.org/ns/prov#";
/// `http://purl.org/dc/terms/`
pub const DCTERMS_NS: &str = "http://purl.org/dc/terms/";
/// `http://www.w3.org/2004/02/skos/core#`
pub const SKOS_NS: &str = "http://www.w3.org/2004/02/skos/core#";

/// The prefixes used in SPARQL queries and in Turtle / TriG output.
pub const PREFIXES: [(&str, &str); 10] = [
    ("ng", ONTOLOGY_NS),
    ("id", crate::model::RESOURCE_NS),
    ("doc", crate::model::DOCUMENT_NS),
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("skos", SKOS_NS),
    ("dcterms", DCTERMS_NS),
    ("prov", PROV_NS),
    ("owl", "http://www.w3.org/2002/07/owl#"),
];

/// The SPARQL `PREFIX` declarations of [`PREFIXES`].
pub fn sparql_prefixes() -> String {
    PREFIXES
        .iter()
        .map(|(p, iri)| format!("PREFIX {p}: <{iri}>\n"))
        .collect()
}

/// A named node: borrowed from an IRI string that is valid as it is (or
/// from another node), owned when the IRI had to be repaired.
enum Node<'a> {
    Borrowed(NamedNodeRef<'a>),
    Owned(NamedNode),
}

impl Node<'_> {
    fn as_ref(&self) -> NamedNodeRef<'_> {
        match self {
            Node::Borrowed(n) => *n,
            Node::Owned(n) => n.as_ref(),
        }
    }

    fn into_owned(self) -> NamedNode {
        match self {
            Node::Borrowed(n) => n.into_owned(),
            Node::Owned(n) => n,
        }
    }
}

/// Makes a named node of `iri`; an IRI that does not parse is repaired by
/// percent-encoding the characters IRIs forbid, so that the store never
/// holds an IRI that its own serialisers would write out broken. Entity and
/// document IRIs made by [`crate::model::entity_iri`] and
/// [`crate::model::document_iri`] are valid by construction: a cheap check
/// of their shape replaces the parse. A valid IRI is borrowed, not copied.
fn node(iri: &str) -> Node<'_> {
    let ours = iri
        .strip_prefix(crate::model::RESOURCE_NS)
        .or_else(|| iri.strip_prefix(crate::model::DOCUMENT_NS))
        .is_some_and(crate::model::is_escaped_path);
    if ours {
        return Node::Borrowed(NamedNodeRef::new_unchecked(iri));
    }
    if let Ok(valid) = NamedNodeRef::new(iri) {
        return Node::Borrowed(valid);
    }
    let mut out = String::with_capacity(iri.len());
    for c in iri.chars() {
        if c.is_control()
            || c.is_whitespace()
            || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`')
        {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    Node::Owned(NamedNode::new(&out).unwrap_or_else(|_| {
        NamedNode::new_unchecked(format!(
            "{}invalid/{}",
            crate::model::RESOURCE_NS,
            crate::model::iri_escape(iri)
        ))
    }))
}

fn ko(text: &str) -> LiteralRef<'_> {
    LiteralRef::new_language_tagged_literal_unchecked(text, "ko")
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

thread_local! {
    /// [`decimal`] of the confidences this thread has written (rules and
    /// cues have a few dozen), by their bits.
    static DECIMALS: RefCell<FxHashMap<u32, Rc<str>>> =
        RefCell::default();
}

/// [`decimal`], formatted once per thread and value (up to 1024 values).
fn shared_decimal(value: f32) -> Rc<str> {
    DECIMALS.with_borrow_mut(|known| {
        if let Some(text) = known.get(&value.to_bits()) {
            return text.clone();
        }
        let text: Rc<str> = decimal(value).into();
        if known.len() < 1024 {
            known.insert(value.to_bits(), text.clone());
        }
        text
    })
}

/// The decimal lexical form of a confidence (`0.9`, `1.0`).
fn decimal(value: f32) -> String {
    let v = if value.is_finite() {
        value.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let s = format!("{v}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// The quads of one document, all in the named graph `<doc.meta.iri()>`,
/// without duplicates and in a stable order.
pub fn document_quads(doc: &DocumentGraph) -> Vec<Quad> {
    let mut quads = Vec::with_capacity(16 + doc.entities.len() * 4 + doc.facts.len() * 16);
    for_each_document_quad(doc, &mut |quad| quads.push(quad.into_owned()));
    quads
}

/// The IRIs of our vocabulary that a document's quads use, made once.
struct VocabularyTerms {
    document: NamedNode,
    document_id: NamedNode,
    source_path: NamedNode,
    title: NamedNode,
    date: NamedNode,
    publisher: NamedNode,
    source: NamedNode,
    alt_label: NamedNode,
    mentioned_in: NamedNode,
    evidence: NamedNode,
    rule: NamedNode,
    confidence: NamedNode,
    derived: NamedNode,
    sentence: NamedNode,
    text: NamedNode,
    start_offset: NamedNode,
    end_offset: NamedNode,
    in_document: NamedNode,
    article_index: NamedNode,
    article_title: NamedNode,
    /// The class of each entity type, in [`EntityType::ALL`] order.
    classes: Vec<NamedNode>,
    /// The property of each relation, in [`Relation::ALL`] order.
    properties: Vec<NamedNode>,
}

fn vocabulary() -> &'static VocabularyTerms {
    static TERMS: std::sync::OnceLock<VocabularyTerms> = std::sync::OnceLock::new();
    TERMS.get_or_init(|| {
        // Our own vocabulary: valid IRIs by construction.
        let ng = |local: &str| NamedNode::new_unchecked(format!("{ONTOLOGY_NS}{local}"));
        let dcterms = |local: &str| NamedNode::new_unchecked(format!("{DCTERMS_NS}{local}"));
        VocabularyTerms {
            document: ng("Document"),
            document_id: ng("documentId"),
            source_path: ng("sourcePath"),
            title: dcterms("title"),
            date: dcterms("date"),
            publisher: dcterms("publisher"),
            source: dcterms("source"),
            alt_label: NamedNode::new_unchecked(format!("{SKOS_NS}altLabel")),
            mentioned_in: ng("mentionedIn"),
            evidence: ng("evidence"),
            rule: ng("rule"),
            confidence: ng("confidence"),
            derived: NamedNode::new_unchecked(format!("{PROV_NS}wasDerivedFrom")),
            sentence: ng("Sentence"),
            text: ng("text"),
            start_offset: ng("startOffset"),
            end_offset: ng("endOffset"),
            in_document: ng("inDocument"),
            article_index: ng("articleIndex"),
            article_title: ng("articleTitle"),
            classes: EntityType::ALL
                .iter()
                .map(|k| node(&k.class_iri()).into_owned())
                .collect(),
            properties: Relation::ALL
                .iter()
                .map(|r| NamedNode::new_unchecked(r.property_iri()))
                .collect(),
        }
    })
}

/// Makes `iri` the document IRI `doc` with the fragment `tag` and
/// `number` (`…#f3`, `…#s12`), reusing its buffer.
fn set_fragment_iri(iri: &mut String, doc: &str, tag: &str, number: &str) {
    iri.clear();
    iri.push_str(doc);
    iri.push_str(tag);
    iri.push_str(number);
}

/// Hands the quads of [`document_quads`], in the same order, to `emit`
/// one at a time as borrowed [`QuadRef`]s, without building owned terms
/// for each (what the N-Quads output of `extract` needs).
pub fn for_each_document_quad(doc: &DocumentGraph, emit: &mut dyn FnMut(QuadRef<'_>)) {
    let doc_iri = doc.meta.iri();
    let d_node = node(&doc_iri);
    let d = d_node.as_ref();
    let graph = GraphNameRef::NamedNode(d);
    let mut push = |s: NamedNodeRef<'_>, p: NamedNodeRef<'_>, o: TermRef<'_>| {
        emit(QuadRef::new(s, p, o, graph));
    };
    let v = vocabulary();

    // The document.
    push(d, rdf::TYPE, v.document.as_ref().into());
    push(
        d,
        v.document_id.as_ref(),
        LiteralRef::new_simple_literal(&doc.meta.id).into(),
    );
    push(
        d,
        v.source_path.as_ref(),
        LiteralRef::new_simple_literal(&doc.meta.source).into(),
    );
    if let Some(title) = doc.meta.title.as_deref().filter(|t| !t.trim().is_empty()) {
        push(d, v.title.as_ref(), ko(title).into());
    }
    if let Some(date) = doc.meta.date.as_deref().filter(|t| !t.trim().is_empty()) {
        let lit = if is_iso_date(date) {
            LiteralRef::new_typed_literal(date, xsd::DATE)
        } else {
            LiteralRef::new_simple_literal(date)
        };
        push(d, v.date.as_ref(), lit.into());
    }
    if let Some(outlet) = doc.meta.outlet.as_deref().filter(|t| !t.trim().is_empty()) {
        push(
            d,
            v.publisher.as_ref(),
            LiteralRef::new_simple_literal(outlet).into(),
        );
    }
    if let Some(url) = doc.meta.url.as_deref().filter(|t| !t.trim().is_empty()) {
        push(
            d,
            v.source.as_ref(),
            LiteralRef::new_simple_literal(url).into(),
        );
    }

    // Entities (each IRI once, even if a caller's graph lists it twice).
    let alt_label = &v.alt_label;
    let mentioned_in = &v.mentioned_in;
    let mut entity_nodes: FxHashMap<&str, Node<'_>> =
        FxHashMap::with_capacity_and_hasher(doc.entities.len(), Default::default());
    let mut labels_written: FxHashSet<(&str, &str)> = FxHashSet::default();
    for e in &doc.entities {
        let first = !entity_nodes.contains_key(&*e.iri);
        let s = entity_nodes
            .entry(&*e.iri)
            .or_insert_with(|| node(&e.iri))
            .as_ref();
        if first {
            push(s, rdf::TYPE, v.classes[class_slot(e.kind)].as_ref().into());
            push(s, rdfs::LABEL, ko(&e.label).into());
        }
        for alias in &e.aliases {
            if **alias != *e.label && labels_written.insert((&*e.iri, alias.as_str())) {
                push(s, alt_label.as_ref(), ko(alias).into());
            }
        }
        if first {
            push(s, mentioned_in.as_ref(), d.into());
        }
    }

    // Facts, their reification and their sentences.
    let VocabularyTerms {
        evidence,
        rule,
        confidence,
        derived,
        sentence: sentence_class,
        text,
        start_offset,
        end_offset,
        in_document,
        article_index,
        article_title,
        properties,
        ..
    } = v;
    let mut stated: FxHashSet<(&str, Relation, &str)> =
        FxHashSet::with_capacity_and_hasher(doc.facts.len(), Default::default());
    let mut sentences: FxHashSet<usize> = FxHashSet::default();
    // (`iri` is not annotated `&str`: the closure would then be generic
    // over its lifetime, and the node could not borrow from `entity_nodes`.)
    let entity = |iri| match entity_nodes.get(iri) {
        Some(n) => Node::Borrowed(n.as_ref()),
        None => node(iri),
    };
    // The document's IRI and a fragment of a few digits.
    let mut fact_iri = String::with_capacity(d.as_str().len() + 24);
    let mut sentence_iri = String::with_capacity(d.as_str().len() + 24);
    // Numbers in IRIs and literals, formatted without `fmt`.
    let mut digits = itoa::Buffer::new();
    for (n, fact) in doc.facts.iter().enumerate() {
        let s = entity(&fact.subject);
        let o = entity(&fact.object);
        let p = properties[relation_slot(fact.relation)].as_ref();
        if stated.insert((&fact.subject, fact.relation, &fact.object)) {
            push(s.as_ref(), p, o.as_ref().into());
        }

        // The document IRI parsed (or was repaired) above: a fragment of
        // ASCII letters and digits keeps it valid.
        let ev = &fact.evidence;
        set_fragment_iri(&mut fact_iri, d.as_str(), "#f", digits.format(n));
        set_fragment_iri(
            &mut sentence_iri,
            d.as_str(),
            "#s",
            digits.format(ev.sentence),
        );
        let f = NamedNodeRef::new_unchecked(&fact_iri);
        let sent = NamedNodeRef::new_unchecked(&sentence_iri);
        push(f, rdf::TYPE, rdf::STATEMENT.into());
        push(f, rdf::SUBJECT, s.as_ref().into());
        push(f, rdf::PREDICATE, p.into());
        push(f, rdf::OBJECT, o.as_ref().into());
        push(f, derived.as_ref(), d.into());
        push(f, evidence.as_ref(), sent.into());
        push(
            f,
            rule.as_ref(),
            LiteralRef::new_simple_literal(&ev.rule).into(),
        );
        let confidence_text = shared_decimal(ev.confidence);
        push(
            f,
            confidence.as_ref(),
            LiteralRef::new_typed_literal(&confidence_text, xsd::DECIMAL).into(),
        );
        if sentences.insert(ev.sentence) {
            push(sent, rdf::TYPE, sentence_class.as_ref().into());
            push(sent, text.as_ref(), ko(&ev.text).into());
            for (property, value) in [
                (start_offset.as_ref(), ev.start),
                (end_offset.as_ref(), ev.end),
            ] {
                push(
                    sent,
                    property,
                    LiteralRef::new_typed_literal(digits.format(value), xsd::INTEGER).into(),
                );
            }
            push(sent, in_document.as_ref(), d.into());
            push(
                sent,
                article_index.as_ref(),
                LiteralRef::new_typed_literal(digits.format(ev.article), xsd::INTEGER).into(),
            );
            if let Some(title) = ev.article_title.as_deref().filter(|t| !t.trim().is_empty()) {
                push(sent, article_title.as_ref(), ko(title).into());
            }
        }
    }
}

/// The position of an entity type in [`EntityType::ALL`].
fn class_slot(kind: EntityType) -> usize {
    EntityType::ALL
        .iter()
        .position(|&k| k == kind)
        .unwrap_or_default()
}

/// The position of a relation in [`Relation::ALL`].
fn relation_slot(relation: Relation) -> usize {
    Relation::ALL
        .iter()
        .position(|&r| r == relation)
        .unwrap_or_default()
}

/// What a [`DocumentWriter`] (or [`GraphStore::replace_documents`]) wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// Documents written (each replacing any earlier version).
    pub documents: usize,
    /// Quads written.
    pub quads: usize,
}

/// Counts over the whole store, see [`GraphStore::stats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Number of documents.
    pub documents: usize,
    /// Distinct entity IRIs by type (`Person`, `Organization`, …).
    pub entities: BTreeMap<String, usize>,
    /// Distinct relation triples by relation; a symmetric relation counts
    /// each unordered pair once.
    pub relations: BTreeMap<String, usize>,
    /// Total number of quads.
    pub quads: usize,
    /// Size of the store directory on disk in bytes (`None` in memory).
    pub size_bytes: Option<u64>,
}

impl Stats {
    /// All entities, whatever their type.
    pub fn total_entities(&self) -> usize {
        self.entities.values().sum()
    }

    /// All relation triples, whatever their relation.
    pub fn total_relations(&self) -> usize {
        self.relations.values().sum()
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rows: Vec<(String, String)> = vec![
            ("documents".into(), self.documents.to_string()),
            ("entities".into(), self.total_entities().to_string()),
        ];
        for (t, n) in &self.entities {
            rows.push((format!("  {t}"), n.to_string()));
        }
        rows.push(("relations".into(), self.total_relations().to_string()));
        for (r, n) in &self.relations {
            rows.push((format!("  {r}"), n.to_string()));
        }
        rows.push(("quads".into(), self.quads.to_string()));
        if let Some(size) = self.size_bytes {
            rows.push(("size on disk".into(), human_bytes(size)));
        }
        let w1 = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
        let w2 = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
        for (k, v) in rows {
            writeln!(f, "{k:<w1$}  {v:>w2$}")?;
        }
        Ok(())
    }
}

/// A node of the exported graph: one entity with everything the documents
/// say about its names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    /// The entity IRI.
    pub iri: String,
    /// Its label (the one most documents use; ties go to the longest).
    pub label: String,
    /// Its type (`Person`, `Organization`, `Sector`, `Place`).
    pub kind: String,
    /// Every other name, over all documents, sorted.
    pub aliases: Vec<String>,
    /// Ids of the documents that mention it, sorted.
    pub documents: Vec<String>,
}

/// An edge of the exported graph: one relation between two entities, merged
/// over all documents that state it.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeRow {
    /// Subject IRI (for a symmetric relation, the smaller IRI).
    pub source: String,
    /// Object IRI.
    pub target: String,
    /// Relation name (`signedMouWith`, …).
    pub relation: String,
    /// Label of the source node.
    pub source_label: String,
    /// Label of the target node.
    pub target_label: String,
    /// Ids of the documents that state it, sorted.
    pub documents: Vec<String>,
    /// Number of documents that state it.
    pub weight: usize,
    /// Earliest date of those documents, when they have one.
    pub first_seen: Option<String>,
    /// Latest date of those documents.
    pub last_seen: Option<String>,
    /// `(document id, sentence)` pairs that state it, sorted, deduplicated.
    pub evidence: Vec<(String, String)>,
    /// The highest confidence of the rules that found it.
    pub confidence: f32,
}

/// Removes the sorted files a bulk load killed before its commit left in
/// the store directory (`bulk-*.sst`: never part of the database). Called
/// with the store open, so its lock keeps other writers out.
fn remove_stale_bulk_files(path: &Path) {
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("bulk-") && name.ends_with(".sst") {
            // Best effort: a file that stays is only wasted space.
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Quads handed to the bulk loader at a time (each batch becomes sorted
/// files, written by a thread of its own while the next batch fills).
const BULK_BATCH_QUADS: usize = 200_000;
/// The bulk loader commits (atomically) after this many quads.
const BULK_COMMIT_QUADS: usize = 1_000_000;

/// Writes documents into the store one at a time, as a streaming build
/// hands them over.
///
/// Documents new to the store go through Oxigraph's bulk loader, which
/// writes sorted files and adds them to the store in one atomic step every
/// [`BULK_COMMIT_QUADS`] quads and at [`finish`](Self::finish): a crash
/// loses the documents since the last commit, never part of one. A
/// document the store (or this run) holds already is replaced in a
/// transaction of its own: its graph is dropped and rewritten at once.
pub struct DocumentWriter<'a> {
    store: &'a GraphStore,
    loader: Option<oxigraph::store::BulkLoader<'a>>,
    /// Quads of new documents not yet handed to the loader.
    batch: Vec<Quad>,
    /// Quads handed to the loader (or batched) since its last commit.
    pending_quads: usize,
    /// New documents since the last commit.
    pending_documents: usize,
    /// Commit after this many new documents, if set.
    commit_documents: Option<usize>,
    was_empty: bool,
    /// Hashes of the document IRIs written by this writer.
    written: HashSet<u64>,
    summary: WriteSummary,
}

impl fmt::Debug for DocumentWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentWriter")
            .field("store", &self.store)
            .field("pending_quads", &self.pending_quads)
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

impl DocumentWriter<'_> {
    /// Writes one document (its quads from [`document_quads`]), replacing
    /// any earlier version of it.
    pub fn write(&mut self, doc_iri: &str, quads: Vec<Quad>) -> Result<()> {
        let store = self.store;
        let first_in_run = self.written.insert(crate::shard::stable_hash(doc_iri));
        let graph = node(doc_iri);
        let exists = !first_in_run
            || (!self.was_empty
                && store
                    .store
                    .contains_named_graph(graph.as_ref())
                    .map_err(|e| store.store_error(e))?);
        self.summary.documents += 1;
        self.summary.quads += quads.len();
        if exists {
            if !first_in_run {
                // An earlier version may still wait in the bulk loader.
                self.commit()?;
            }
            let mut tx = store
                .store
                .start_transaction()
                .map_err(|e| store.store_error(e))?;
            tx.remove_named_graph(graph.as_ref())
                .map_err(|e| store.store_error(e))?;
            tx.extend(quads.iter());
            return tx.commit().map_err(|e| store.store_error(e));
        }
        self.pending_quads += quads.len();
        self.pending_documents += 1;
        self.batch.extend(quads);
        if self.batch.len() >= BULK_BATCH_QUADS {
            self.flush_batch()?;
        }
        if self.pending_quads >= BULK_COMMIT_QUADS
            || self
                .commit_documents
                .is_some_and(|n| self.pending_documents >= n)
        {
            self.commit()?;
        }
        Ok(())
    }

    /// Hands the batched quads to the bulk loader.
    fn flush_batch(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let store = self.store;
        let loader = self.loader.get_or_insert_with(|| store.store.bulk_loader());
        loader
            .load_quads(std::mem::take(&mut self.batch))
            .map_err(|e| store.store_error(e))
    }

    /// Commits what the bulk loader holds.
    fn commit(&mut self) -> Result<()> {
        self.flush_batch()?;
        self.pending_quads = 0;
        self.pending_documents = 0;
        match self.loader.take() {
            Some(loader) => loader.commit().map_err(|e| self.store.store_error(e)),
            None => Ok(()),
        }
    }

    /// Commits the last documents and says what was written.
    pub fn finish(mut self) -> Result<WriteSummary> {
        self.commit()?;
        Ok(self.summary)
    }
}

/// The Oxigraph store of the knowledge graph, on disk (RocksDB) or in memory.
#[derive(Clone)]
pub struct GraphStore {
    store: Store,
    path: Option<PathBuf>,
}

impl fmt::Debug for GraphStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn describe_open_error(e: &StorageError) -> String {
    let raw = e.to_string();
    let lower = raw.to_lowercase();
    if lower.contains("lock") {
        format!("the store is in use by another process ({raw})")
    } else {
        format!("not a valid newsgraph store, or it is corrupt: {raw}")
    }
}

/// How many of the store's files RocksDB keeps open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OpenFiles {
    /// At most this many (RocksDB raises anything below 20 to 20): for
    /// systems with few file descriptors to spare. Files beyond it are
    /// reopened when read.
    Limit(u32),
    /// As many as the process's file-descriptor limit allows (Oxigraph's
    /// default; a store of a million pages has some 2 800 files).
    #[default]
    AsManyAsAllowed,
}

impl OpenFiles {
    /// What `newsgraph build` and `load` keep open by default: 128 files.
    /// Each open file holds its index in memory (about half a megabyte
    /// for a full 64 MB file), so a bulk build that keeps every file open
    /// grows with the store; 128 files bound that part to some 60 MB.
    pub const fn for_bulk_writing() -> OpenFiles {
        OpenFiles::Limit(128)
    }
}

impl GraphStore {
    /// Opens the on-disk store at `path`, creating the directory and an empty
    /// store if it does not exist. A directory that exists but holds
    /// something else, or a corrupt store, gives [`Error::Store`].
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, OpenFiles::default())
    }

    /// [`GraphStore::open`] with a limit on the files kept open.
    pub fn open_with(path: &Path, open_files: OpenFiles) -> Result<Self> {
        let err = |message: String| Error::Store {
            path: path.to_path_buf(),
            message,
        };
        if path.exists() {
            if !path.is_dir() {
                return Err(err("exists but is not a directory".into()));
            }
            let non_empty = std::fs::read_dir(path)
                .map_err(|e| err(format!("cannot read the directory: {e}")))?
                .next()
                .is_some();
            if non_empty && !path.join("CURRENT").is_file() {
                return Err(err(
                    "the directory exists but is not a newsgraph store (no RocksDB CURRENT file); \
                     choose another --store directory or remove it"
                        .into(),
                ));
            }
        } else {
            std::fs::create_dir_all(path)
                .map_err(|e| err(format!("cannot create the directory: {e}")))?;
        }
        let options = match open_files {
            OpenFiles::Limit(n) => StoreOptions::default().with_max_open_files(n),
            OpenFiles::AsManyAsAllowed => StoreOptions::default(),
        };
        let store =
            Store::open_with_options(path, options).map_err(|e| err(describe_open_error(&e)))?;
        remove_stale_bulk_files(path);
        Ok(GraphStore {
            store,
            path: Some(path.to_path_buf()),
        })
    }

    /// Opens the on-disk store at `path`, which must exist already (for
    /// reading commands: they should not create an empty store by mistake).
    pub fn open_existing(path: &Path) -> Result<Self> {
        Self::open_existing_with(path, OpenFiles::default())
    }

    /// [`GraphStore::open_existing`] with a limit on the files kept open.
    pub fn open_existing_with(path: &Path, open_files: OpenFiles) -> Result<Self> {
        if !path.exists() {
            return Err(Error::Store {
                path: path.to_path_buf(),
                message: "no store here; run `newsgraph build` first".into(),
            });
        }
        if path.is_dir() && !path.join("CURRENT").is_file() {
            let empty = std::fs::read_dir(path)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if empty {
                return Err(Error::Store {
                    path: path.to_path_buf(),
                    message: "the directory is empty, not a store; run `newsgraph build` first"
                        .into(),
                });
            }
        }
        Self::open_with(path, open_files)
    }

    /// A fresh, empty store in memory.
    pub fn in_memory() -> Result<Self> {
        let store = Store::new().map_err(|e| Error::Store {
            path: PathBuf::from("<memory>"),
            message: e.to_string(),
        })?;
        Ok(GraphStore { store, path: None })
    }

    /// The store directory (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The underlying Oxigraph store.
    pub fn inner(&self) -> &Store {
        &self.store
    }

    /// The path shown in messages (`<memory>` for an in-memory store).
    pub fn display_path(&self) -> PathBuf {
        self.path
            .clone()
            .unwrap_or_else(|| PathBuf::from("<memory>"))
    }

    pub(crate) fn store_error(&self, e: impl fmt::Display) -> Error {
        let message = e.to_string();
        let message = if message.contains("No space left on device") {
            format!(
                "the disk is full; documents committed before stay whole, free some space \
                 and run the build again to finish ({message})"
            )
        } else if message.contains("File too large") {
            format!(
                "a file of the store hit the size limit; documents committed before stay \
                 whole ({message})"
            )
        } else {
            message
        };
        Error::Store {
            path: self.display_path(),
            message,
        }
    }

    /// Removes what an interrupted bulk load left in the store directory
    /// (its unfinished sorted files). Safe while this process holds the
    /// store: the files are never part of the database.
    pub fn remove_unfinished_bulk_files(&self) {
        if let Some(path) = &self.path {
            remove_stale_bulk_files(path);
        }
    }

    /// Writes the documents, each replacing any earlier version of the same
    /// document (same id); other documents are untouched. The same
    /// [`DocumentWriter`] a streaming build uses: no document is ever half
    /// written.
    pub fn replace_documents(&self, docs: &[DocumentGraph]) -> Result<WriteSummary> {
        let mut writer = self.writer()?;
        for doc in docs {
            writer.write(&doc.meta.iri(), document_quads(doc))?;
        }
        writer.finish()
    }

    /// A writer that takes documents one at a time (see [`DocumentWriter`]),
    /// committing every [`BULK_COMMIT_QUADS`] quads.
    pub fn writer(&self) -> Result<DocumentWriter<'_>> {
        self.writer_committing_every(None)
    }

    /// A writer that also commits after every `documents` new documents
    /// (smaller commits: less to redo after a crash, a slower build).
    pub fn writer_committing_every(&self, documents: Option<usize>) -> Result<DocumentWriter<'_>> {
        let was_empty = self.store.is_empty().map_err(|e| self.store_error(e))?;
        Ok(DocumentWriter {
            store: self,
            loader: None,
            batch: Vec::new(),
            pending_quads: 0,
            pending_documents: 0,
            commit_documents: documents.map(|n| n.max(1)),
            was_empty,
            written: HashSet::new(),
            summary: WriteSummary::default(),
        })
    }

    /// Runs a SELECT query (with [`sparql_prefixes`] prepended) over the
    /// union of the named graphs and returns its solutions.
    fn select(&self, body: &str) -> Result<Vec<QuerySolution>> {
        let mut all = Vec::new();
        self.select_each(body, |s| all.push(s))?;
        Ok(all)
    }

    /// [`select`](Self::select), handing each solution to `each` as it
    /// comes instead of collecting them (the export reads 10^5 of them).
    fn select_each(&self, body: &str, mut each: impl FnMut(QuerySolution)) -> Result<()> {
        let text = format!("{}{body}", sparql_prefixes());
        let mut prepared = SparqlEvaluator::new()
            .parse_query(&text)
            .map_err(|e| Error::Query(format!("internal query: {e}")))?;
        prepared.dataset_mut().set_default_graph_as_union();
        match prepared
            .on_store(&self.store)
            .execute()
            .map_err(|e| self.store_error(e))?
        {
            QueryResults::Solutions(solutions) => {
                for solution in solutions {
                    each(solution.map_err(|e| self.store_error(e))?);
                }
                Ok(())
            }
            _ => Err(Error::Query("internal query is not a SELECT".into())),
        }
    }

    /// Compacts the store's files into their final levels, as the store
    /// would in the background over the next reads and writes.
    ///
    /// A bulk build ends with many freshly ingested files still waiting to
    /// be compacted; the next commands pay for that debt (look-ups in every
    /// waiting file, compactions competing for the cores). Compacting
    /// reads and rewrites the whole store once. In memory it does nothing.
    pub fn optimize(&self) -> Result<()> {
        if self.path.is_none() {
            return Ok(());
        }
        self.store.optimize().map_err(|e| self.store_error(e))
    }

    /// Counts documents, entities, relations and quads.
    pub fn stats(&self) -> Result<Stats> {
        let mut stats = Stats::default();
        let docs = self
            .select("SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { GRAPH ?g { ?d a ng:Document } }")?;
        stats.documents = docs
            .first()
            .and_then(|s| s.get("n"))
            .and_then(term_usize)
            .unwrap_or(0);
        for s in self.select(
            "SELECT ?t (COUNT(DISTINCT ?e) AS ?n) WHERE {
               GRAPH ?g { ?e a ?t }
               FILTER(STRSTARTS(STR(?t), STR(ng:)) && ?t != ng:Document && ?t != ng:Sentence)
             } GROUP BY ?t",
        )? {
            if let (Some(Term::NamedNode(t)), Some(n)) = (s.get("t"), s.get("n")) {
                let name = t.as_str().trim_start_matches(ONTOLOGY_NS).to_string();
                stats.entities.insert(name, term_usize(n).unwrap_or(0));
            }
        }
        let mut triples: HashSet<(String, String, String)> = HashSet::new();
        for s in self.select(&format!(
            "SELECT DISTINCT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} VALUES ?p {{ {} }} }}",
            relation_values()
        ))? {
            if let (Some(su), Some(p), Some(o)) = (s.get("s"), s.get("p"), s.get("o")) {
                let rel = local_name(p);
                let (a, b) = (iri_of(su), iri_of(o));
                let symmetric = rel.parse::<Relation>().is_ok_and(|r| r.is_symmetric());
                let (a, b) = if symmetric && b < a { (b, a) } else { (a, b) };
                triples.insert((rel, a, b));
            }
        }
        for (rel, _, _) in triples {
            *stats.relations.entry(rel).or_default() += 1;
        }
        stats.quads = self.store.len().map_err(|e| self.store_error(e))?;
        stats.size_bytes = self.path.as_deref().map(dir_size);
        Ok(stats)
    }

    /// The graph's nodes: every entity of a scored type or `Place`, merged
    /// over all documents, sorted by IRI.
    ///
    /// One query per type; its parts are sub-queries, so that Oxigraph
    /// joins them by hash on the encoded terms (one scan of each predicate)
    /// instead of one index lookup per row. It gives the solutions of
    /// `GRAPH ?g { ?e a ?t . ?g ng:documentId ?id . OPTIONAL { ?e
    /// rdfs:label ?label } }`, each label counted once per solution.
    pub fn entities(&self) -> Result<Vec<NodeRow>> {
        struct Acc {
            /// Index in [`EntityType::ALL`] (the first one if an IRI has
            /// several types; its rows are merged).
            kind: usize,
            labels: BTreeMap<String, usize>,
            aliases: BTreeSet<String>,
            documents: BTreeSet<String>,
        }
        let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
        let class_iris = EntityType::ALL.map(EntityType::class_iri);
        let classes: String = class_iris.iter().map(|c| format!("<{c}> ")).collect();
        // One query for every type: each predicate is scanned once.
        let query = format!(
            "SELECT ?e ?class ?id ?label WHERE {{
               {{ SELECT ?g ?e ?class WHERE {{ VALUES ?class {{ {classes} }} GRAPH ?g {{ ?e a ?class }} }} }}
               {{ SELECT ?g ?id WHERE {{ GRAPH ?g {{ ?g ng:documentId ?id }} }} }}
               OPTIONAL {{ SELECT ?g ?e ?label WHERE {{ GRAPH ?g {{ ?e rdfs:label ?label }} }} }}
             }}"
        );
        self.select_each(&query, |s| {
            let (Some(e), Some(Term::NamedNode(class)), Some(id)) =
                (s.get("e"), s.get("class"), s.get("id"))
            else {
                return;
            };
            let Some(kind) = class_iris.iter().position(|c| c == class.as_str()) else {
                return;
            };
            let a = acc.entry(iri_of(e)).or_insert_with(|| Acc {
                kind,
                labels: BTreeMap::new(),
                aliases: BTreeSet::new(),
                documents: BTreeSet::new(),
            });
            a.kind = a.kind.min(kind);
            a.documents.insert(literal_value(id));
            if let Some(l) = s.get("label") {
                *a.labels.entry(literal_value(l)).or_default() += 1;
            }
        })?;
        for s in
            self.select("SELECT DISTINCT ?e ?alias WHERE { GRAPH ?g { ?e skos:altLabel ?alias } }")?
        {
            if let (Some(e), Some(alias)) = (s.get("e"), s.get("alias")) {
                if let Some(a) = acc.get_mut(&iri_of(e)) {
                    a.aliases.insert(literal_value(alias));
                }
            }
        }
        Ok(acc
            .into_iter()
            .map(|(iri, a)| {
                let label = a
                    .labels
                    .iter()
                    .max_by(|x, y| {
                        x.1.cmp(y.1)
                            .then(x.0.chars().count().cmp(&y.0.chars().count()))
                            .then(y.0.cmp(x.0))
                    })
                    .map(|(l, _)| l.clone())
                    .unwrap_or_default();
                let mut aliases = a.aliases;
                aliases.extend(a.labels.into_keys());
                aliases.remove(&label);
                NodeRow {
                    iri,
                    label,
                    kind: EntityType::ALL[a.kind].as_str().to_string(),
                    aliases: aliases.into_iter().collect(),
                    documents: a.documents.into_iter().collect(),
                }
            })
            .collect())
    }

    /// The graph's edges: every relation triple merged over the documents
    /// that state it (a symmetric relation gives one row per unordered pair,
    /// source = the smaller IRI), sorted by source, relation, target.
    pub fn edges(&self) -> Result<Vec<EdgeRow>> {
        let mut edges = self.unlabelled_edges()?;
        label_edges(&mut edges, &self.entities()?);
        Ok(edges)
    }

    /// [`edges`](Self::edges) with empty `source_label` and `target_label`
    /// (see [`label_edges`]), so that the nodes can be read at the same
    /// time.
    ///
    /// A triple's evidence and confidence come from the reification
    /// statements about it in the same document graph whose evidence
    /// sentence has a text. Every part of the query is a sub-query, so that
    /// Oxigraph joins the parts by hash on the encoded terms (one scan of
    /// each predicate) rather than by one index lookup per row, which made
    /// the read grow faster than the store.
    pub fn unlabelled_edges(&self) -> Result<Vec<EdgeRow>> {
        struct Acc {
            documents: BTreeSet<String>,
            dates: BTreeSet<String>,
            evidence: BTreeSet<(String, String)>,
            confidence: f32,
        }
        let mut acc: BTreeMap<(String, String, String), Acc> = BTreeMap::new();
        let query = format!(
            "SELECT ?s ?r ?o ?id ?date ?text ?conf WHERE {{
               {{ SELECT ?g ?s ?p ?r ?o WHERE {{ VALUES (?p ?r) {{ {} }} GRAPH ?g {{ ?s ?p ?o }} }} }}
               {{ SELECT ?g ?id WHERE {{ GRAPH ?g {{ ?g ng:documentId ?id }} }} }}
               OPTIONAL {{ SELECT ?g ?date WHERE {{ GRAPH ?g {{ ?g dcterms:date ?date }} }} }}
               OPTIONAL {{
                 SELECT ?g ?s ?p ?o ?text ?conf WHERE {{
                   {{ SELECT ?g ?f ?s WHERE {{ GRAPH ?g {{ ?f rdf:subject ?s }} }} }}
                   {{ SELECT ?g ?f ?p WHERE {{ GRAPH ?g {{ ?f rdf:predicate ?p }} }} }}
                   {{ SELECT ?g ?f ?o WHERE {{ GRAPH ?g {{ ?f rdf:object ?o }} }} }}
                   {{ SELECT ?g ?f ?sent WHERE {{ GRAPH ?g {{ ?f ng:evidence ?sent }} }} }}
                   {{ SELECT ?g ?sent ?text WHERE {{ GRAPH ?g {{ ?sent ng:text ?text }} }} }}
                   OPTIONAL {{ SELECT ?g ?f ?conf WHERE {{ GRAPH ?g {{ ?f ng:confidence ?conf }} }} }}
                 }}
               }}
             }}",
            // The relation comes out as its index in Relation::ALL, a number
            // stored in the term itself, rather than as an IRI that would be
            // looked up in the store's string table for every row.
            Relation::ALL
                .iter()
                .enumerate()
                .map(|(i, r)| format!("(<{}> {i}) ", r.property_iri()))
                .collect::<String>()
        );
        self.select_each(&query, |s| {
            let (Some(su), Some(relation), Some(o), Some(id)) = (
                s.get("s"),
                s.get("r")
                    .and_then(term_usize)
                    .and_then(|i| Relation::ALL.get(i)),
                s.get("o"),
                s.get("id"),
            ) else {
                return;
            };
            let (a, b) = (iri_of(su), iri_of(o));
            let (a, b) = if relation.is_symmetric() && b < a {
                (b, a)
            } else {
                (a, b)
            };
            let rel = relation.as_str().to_string();
            let e = acc.entry((a, rel, b)).or_insert_with(|| Acc {
                documents: BTreeSet::new(),
                dates: BTreeSet::new(),
                evidence: BTreeSet::new(),
                confidence: 0.0,
            });
            if let Some(c) = s
                .get("conf")
                .and_then(|c| literal_value(c).parse::<f32>().ok())
            {
                e.confidence = e.confidence.max(c);
            }
            let id = literal_value(id);
            if let Some(d) = s.get("date") {
                e.dates.insert(literal_value(d));
            }
            if let Some(t) = s.get("text") {
                e.evidence.insert((id.clone(), literal_value(t)));
            }
            e.documents.insert(id);
        })?;
        Ok(acc
            .into_iter()
            .map(|((source, relation, target), a)| EdgeRow {
                source_label: String::new(),
                target_label: String::new(),
                source,
                target,
                relation,
                weight: a.documents.len(),
                documents: a.documents.into_iter().collect(),
                first_seen: a.dates.first().cloned(),
                last_seen: a.dates.last().cloned(),
                evidence: a.evidence.into_iter().collect(),
                confidence: a.confidence,
            })
            .collect())
    }
}

/// Fills the edges' `source_label` and `target_label` from `nodes` (empty
/// for an end that is not among them).
pub fn label_edges(edges: &mut [EdgeRow], nodes: &[NodeRow]) {
    let labels: HashMap<&str, &str> = nodes
        .iter()
        .map(|n| (n.iri.as_str(), n.label.as_str()))
        .collect();
    let label = |iri: &str| labels.get(iri).copied().unwrap_or_default().to_string();
    for e in edges {
        e.source_label = label(&e.source);
        e.target_label = label(&e.target);
    }
}

fn relation_values() -> String {
    Relation::ALL
        .iter()
        .map(|r| format!("<{}> ", r.property_iri()))
        .collect()
}

fn term_usize(t: &Term) -> Option<usize> {
    match t {
        Term::Literal(l) => l.value().parse().ok(),
        _ => None,
    }
}

fn iri_of(t: &Term) -> String {
    match t {
        Term::NamedNode(n) => n.as_str().to_string(),
        other => other.to_string(),
    }
}

fn local_name(t: &Term) -> String {
    let iri = iri_of(t);
    match iri.rfind(['#', '/']) {
        Some(i) => iri[i + 1..].to_string(),
        None => iri,
    }
}

fn literal_value(t: &Term) -> String {
    match t {
        Term::Literal(l) => l.value().to_string(),
        Term::NamedNode(n) => n.as_str().to_string(),
        other => other.to_string(),
    }
}

/// Total size in bytes of the files below `path` (0 if unreadable).
pub fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

/// The number of RocksDB table files (`*.sst`) of the store at `path`
/// (0 if unreadable).
pub fn table_files(path: &Path) -> usize {
    std::fs::read_dir(path).map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "sst"))
            .count()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_and_dates() {
        assert_eq!(decimal(0.9), "0.9");
        assert_eq!(decimal(1.0), "1.0");
        assert_eq!(decimal(f32::NAN), "0.0");
        for value in [0.9, 1.0, 0.85, f32::NAN, 2.5, 0.9, 0.1 + 0.2] {
            assert_eq!(&*shared_decimal(value), decimal(value), "{value}");
        }
        assert!(is_iso_date("2024-01-31"));
        assert!(!is_iso_date("2024.01.31"));
    }

    #[test]
    fn broken_iris_are_repaired_and_valid_ones_borrowed() {
        let n = node("https://example.org/a b<c>");
        assert!(matches!(n, Node::Owned(_)));
        assert_eq!(n.as_ref().as_str(), "https://example.org/a%20b%3Cc%3E");
        let ours = crate::model::entity_iri(crate::model::EntityType::Organization, "광주 시");
        assert!(matches!(node(&ours), Node::Borrowed(_)));
        assert_eq!(node(&ours).as_ref().as_str(), ours);
        let valid = "https://example.org/a?b=c#d";
        assert!(matches!(node(valid), Node::Borrowed(_)));
    }
}
