//! Strings the stages together: read → clean → segment → recognise →
//! relate (per document, in parallel over the cores) → resolve (over all
//! documents of the run).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::clean::clean;
use crate::clean::find_date;
use crate::error::{Error, Result};
use crate::model::{DocumentGraph, DocumentMeta};
use crate::ontology::Ontology;
use crate::read::{collect_inputs, read_file, RawDocument, ReadOptions};
use crate::recognise::recognise;
use crate::relate::relate;
use crate::resolve::{resolve, DocumentExtraction};
use crate::segment::segment;

/// Options of an extraction run.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// Facts below this confidence are dropped.
    pub min_confidence: f32,
    /// How inputs are read (the CSV text column).
    pub read: ReadOptions,
}

/// The result of extracting a set of inputs.
#[derive(Debug, Default)]
pub struct Extracted {
    /// One graph per document, entities resolved across all of them.
    pub documents: Vec<DocumentGraph>,
    /// Inputs that could not be read, with file and reason; the run went on.
    pub skipped: Vec<Error>,
    /// Bytes of text read.
    pub bytes: u64,
}

/// Runs the per-document stages on one decoded document.
pub fn extract_document(raw: &RawDocument, ontology: &Ontology) -> DocumentExtraction {
    let cleaned = clean(&raw.text);
    let segmented = segment(&cleaned);
    let recognised = recognise(&segmented.sentences, ontology);
    let facts = relate(&segmented.sentences, &recognised, ontology);
    DocumentExtraction {
        meta: DocumentMeta {
            id: raw.id.clone(),
            source: raw.source.to_string_lossy().into_owned(),
            // What the source says (HTML meta, JSONL fields) first.
            title: raw
                .title
                .clone()
                .or_else(|| cleaned.title().map(str::to_string)),
            date: raw
                .date
                .as_deref()
                .and_then(find_date)
                .or_else(|| cleaned.date().map(str::to_string)),
            outlet: raw.outlet.clone(),
            url: raw.url.clone(),
        },
        sentences: segmented.sentences,
        recognised,
        facts,
        article_titles: cleaned.articles.iter().map(|a| a.title.clone()).collect(),
    }
}

/// Extracts and resolves already decoded documents.
pub fn extract_texts(
    raws: &[RawDocument],
    ontology: &Ontology,
    options: &ExtractOptions,
) -> Vec<DocumentGraph> {
    let extractions: Vec<DocumentExtraction> = raws
        .par_iter()
        .map(|raw| extract_document(raw, ontology))
        .collect();
    resolve(extractions, options.min_confidence)
}

/// Reads every input (file, directory recursively, or `-` for stdin),
/// extracts and resolves. Bad inputs are reported in `skipped` (file and
/// reason) and the run goes on.
pub fn extract_inputs(
    inputs: &[PathBuf],
    ontology: &Ontology,
    options: &ExtractOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Extracted> {
    extract_inputs_where(inputs, ontology, options, progress, &|_| true)
}

/// [`extract_inputs`] for the documents whose id `keep` accepts (one shard
/// of a corpus, see [`crate::shard`]); the others are read but neither
/// extracted nor counted. Entities are resolved across the kept documents.
pub fn extract_inputs_where(
    inputs: &[PathBuf],
    ontology: &Ontology,
    options: &ExtractOptions,
    progress: &(dyn Fn(usize) + Sync),
    keep: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Extracted> {
    let (files, mut skipped) = collect_inputs(inputs);
    let done = AtomicUsize::new(0);
    // Files in parallel; a file's documents (JSONL lines) in parallel too.
    let results: Vec<Vec<std::result::Result<(DocumentExtraction, u64), Error>>> = files
        .par_iter()
        .map(|file| match read_file(file, &options.read) {
            Err(e) => vec![Err(e)],
            Ok(docs) => docs
                .into_par_iter()
                .filter(|doc| doc.as_ref().map_or(true, |raw| keep(&raw.id)))
                .map(|doc| {
                    let raw = doc?;
                    let bytes = raw.text.len() as u64;
                    let extraction = extract_document(&raw, ontology);
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                    Ok((extraction, bytes))
                })
                .collect(),
        })
        .collect();
    let mut extractions = Vec::with_capacity(results.len());
    let mut bytes = 0;
    for r in results.into_iter().flatten() {
        match r {
            Ok((e, b)) => {
                bytes += b;
                extractions.push(e);
            }
            Err(e) => skipped.push(e),
        }
    }
    Ok(Extracted {
        documents: resolve(extractions, options.min_confidence),
        skipped,
        bytes,
    })
}
