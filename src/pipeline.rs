//! Strings the stages together: read → clean → segment → recognise →
//! relate (per document, in parallel over the cores) → resolve (over all
//! documents of the run).

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::clean::clean;
use crate::clean::find_date;
use crate::error::{Error, Result};
use crate::model::{DocumentGraph, DocumentMeta};
use crate::ontology::Ontology;
use crate::read::{
    collect_inputs, decode_file, read_file, InputFile, InputWalk, RawDocument, ReadOptions,
};
use crate::recognise::recognise;
use crate::relate::relate;
use crate::resolve::{resolve, DocumentExtraction, EntityIndex, ResolvableDocument};
use crate::segment::segment;
use crate::spill::{self, SpillReader, SpillWriter};

/// Options of an extraction run.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// Facts below this confidence are dropped.
    pub min_confidence: f32,
    /// How inputs are read (the CSV text column).
    pub read: ReadOptions,
    /// Bytes of input text up to which a two-pass streaming run keeps its
    /// documents in memory between the passes; past it they all go to the
    /// spill file (see [`extract_streaming`]). Zero spills every two-pass
    /// run.
    pub hold_in_memory: u64,
}

/// [`ExtractOptions::hold_in_memory`] by default: 32 MiB of text, some
/// 17 000 news pages, held as about twice that in memory.
pub const DEFAULT_HOLD_IN_MEMORY: u64 = 32 << 20;

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions {
            min_confidence: 0.0,
            read: ReadOptions::default(),
            hold_in_memory: DEFAULT_HOLD_IN_MEMORY,
        }
    }
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

/// Documents extracted in parallel between two hand-overs to the consumer:
/// bounds the memory of a streaming run.
pub const STREAM_CHUNK: usize = 256;

/// What a streaming run reports when it is done.
#[derive(Debug, Default)]
pub struct StreamSummary {
    /// Documents handed to the consumer.
    pub documents: usize,
    /// Inputs (or lines of inputs) that could not be read; the run went on.
    pub skipped: Vec<Error>,
    /// Bytes of text read.
    pub bytes: u64,
    /// Bytes of the spill file when the run had two passes and its
    /// documents did not fit in [`ExtractOptions::hold_in_memory`]: they
    /// were set aside there until the entities of all of them were indexed
    /// ([`crate::spill`]); `None` when nothing was spilled.
    pub spill_bytes: Option<u64>,
}

/// Where the first pass of a two-pass run sets its documents aside.
enum SetAside {
    /// In memory, while the text read stays within the budget.
    Held(Vec<ResolvableDocument>),
    /// In the spill file.
    Spilled(SpillWriter),
}

/// The documents set aside, read back in order by the second pass.
enum SetAsideReader {
    Held(std::vec::IntoIter<ResolvableDocument>),
    Spilled(SpillReader),
}

/// A document read back by [`SetAsideReader::next_chunk`]: as it was
/// held, or a spill record still to decode (on any thread).
// Each is moved once, into the second pass's parallel map: boxing the
// larger variant would only add an allocation per document.
#[allow(clippy::large_enum_variant)]
enum SetAsideDocument {
    Held(ResolvableDocument),
    Spilled(Vec<u8>),
}

impl SetAsideReader {
    /// The next [`STREAM_CHUNK`] documents (fewer at the end; none when
    /// all are read).
    fn next_chunk(&mut self) -> Result<Vec<SetAsideDocument>> {
        Ok(match self {
            SetAsideReader::Held(held) => held
                .by_ref()
                .take(STREAM_CHUNK)
                .map(SetAsideDocument::Held)
                .collect(),
            SetAsideReader::Spilled(spill) => spill
                .next_bodies(STREAM_CHUNK)?
                .into_iter()
                .map(SetAsideDocument::Spilled)
                .collect(),
        })
    }
}

impl SetAsideDocument {
    /// The document, decoded if it was spilled; `dir` is the spill file's
    /// directory, for the error.
    fn into_document(self, dir: &std::path::Path) -> Result<ResolvableDocument> {
        match self {
            SetAsideDocument::Held(doc) => Ok(doc),
            SetAsideDocument::Spilled(body) => spill::decode(&body, dir),
        }
    }
}

/// The first pass's state: the entity index of the documents extracted so
/// far, and the documents themselves, set aside for the second pass.
struct PassOne<'a> {
    index: EntityIndex,
    aside: SetAside,
    /// Bytes of text read.
    bytes: u64,
    /// Documents that could not be read or set aside; the run went on.
    skipped: Vec<Error>,
    /// See [`ExtractOptions::hold_in_memory`].
    hold_in_memory: u64,
    /// Where the spill file goes.
    spill_dir: &'a std::path::Path,
}

impl<'a> PassOne<'a> {
    fn new(hold_in_memory: u64, spill_dir: &'a std::path::Path) -> Self {
        PassOne {
            index: EntityIndex::new(),
            aside: SetAside::Held(Vec::new()),
            bytes: 0,
            skipped: Vec::new(),
            hold_in_memory,
            spill_dir,
        }
    }

    /// Takes one extracted chunk, in input order: each document's entities
    /// go into the index, and the document is set aside — held in memory
    /// while the text read stays within the budget, else (with everything
    /// held so far) in the spill file.
    fn take(
        &mut self,
        chunk: Vec<std::result::Result<(ResolvableDocument, u64), Error>>,
    ) -> Result<()> {
        let mut docs = Vec::with_capacity(chunk.len());
        for r in chunk {
            match r {
                Ok((doc, b)) => {
                    self.index.add(&doc);
                    self.bytes += b;
                    docs.push(doc);
                }
                Err(e) => self.skipped.push(e),
            }
        }
        if let SetAside::Held(held) = &mut self.aside {
            if self.bytes <= self.hold_in_memory {
                held.append(&mut docs);
                return Ok(());
            }
            // Over the budget: what is held goes to the spill file first.
            let held = std::mem::take(held);
            let mut spill = SpillWriter::new_in(self.spill_dir)?;
            spill_all(&mut spill, held, self.spill_dir, &mut self.skipped)?;
            self.aside = SetAside::Spilled(spill);
        }
        if let SetAside::Spilled(spill) = &mut self.aside {
            spill_all(spill, docs, self.spill_dir, &mut self.skipped)?;
        }
        Ok(())
    }
}

/// Appends `docs` to the spill file in order, encoded in parallel. A
/// document that cannot be encoded (over 4 GiB) is reported in `skipped`;
/// an error of the file stops the run.
fn spill_all(
    spill: &mut SpillWriter,
    docs: Vec<ResolvableDocument>,
    dir: &std::path::Path,
    skipped: &mut Vec<Error>,
) -> Result<()> {
    for chunk in docs.chunks(STREAM_CHUNK) {
        let records: Vec<_> = chunk
            .par_iter()
            .map(|doc| spill::encode(doc, dir))
            .collect();
        for record in records {
            match record {
                Ok(record) => spill.write(&record)?,
                Err(e) => skipped.push(e),
            }
        }
    }
    Ok(())
}

/// The documents of the inputs, a group of files at a time, in input order:
/// each group is read in parallel, then cut into chunks of at most
/// [`STREAM_CHUNK`] documents. Files are found as the walk goes, so a corpus
/// of a million files is never listed in memory at once.
struct DocumentChunks<'a> {
    files: InputWalk,
    stdin: Option<&'a [u8]>,
    options: &'a ReadOptions,
    keep: &'a (dyn Fn(&str) -> bool + Sync),
    pending: std::collections::VecDeque<std::result::Result<RawDocument, Error>>,
}

impl<'a> DocumentChunks<'a> {
    fn new(
        files: InputWalk,
        stdin: Option<&'a [u8]>,
        options: &'a ReadOptions,
        keep: &'a (dyn Fn(&str) -> bool + Sync),
    ) -> Self {
        DocumentChunks {
            files,
            stdin,
            options,
            keep,
            pending: std::collections::VecDeque::new(),
        }
    }

    fn read(&self, file: &InputFile) -> Vec<std::result::Result<RawDocument, Error>> {
        let read = match (file.path.as_os_str() == "-", self.stdin) {
            (true, Some(bytes)) => decode_file(file, bytes, self.options),
            _ => read_file(file, self.options),
        };
        match read {
            Err(e) => vec![Err(e)],
            Ok(docs) => docs
                .into_iter()
                .filter(|doc| doc.as_ref().map_or(true, |raw| (self.keep)(&raw.id)))
                .collect(),
        }
    }
}

impl Iterator for DocumentChunks<'_> {
    type Item = Vec<std::result::Result<RawDocument, Error>>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.pending.len() < STREAM_CHUNK {
            // A path that cannot be listed or read keeps its place as an error.
            let group: Vec<Result<InputFile>> = self.files.by_ref().take(STREAM_CHUNK).collect();
            if group.is_empty() {
                break;
            }
            let read: Vec<_> = group
                .into_par_iter()
                .map(|f| match f {
                    Ok(file) => self.read(&file),
                    Err(e) => vec![Err(e)],
                })
                .collect();
            self.pending.extend(read.into_iter().flatten());
        }
        if self.pending.is_empty() {
            return None;
        }
        let n = self.pending.len().min(STREAM_CHUNK);
        Some(self.pending.drain(..n).collect())
    }
}

/// What a streaming run is doing, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStage {
    /// Extracting documents (the count is of documents extracted).
    Extracting,
    /// Handing documents to the consumer, e.g. writing them to the store
    /// (the count is of documents handed over).
    Writing,
}

/// Streams the inputs through every stage and hands each document, in input
/// order, to `consume` after `prepare` (run in parallel, e.g. to turn the
/// graph into quads or text). Memory stays bounded whatever the corpus size:
/// at most a few chunks of [`STREAM_CHUNK`] documents are in flight, and
/// resolution keeps only the distinct names. When the documents do not fit
/// in one chunk, the run has two passes: the first extracts every document,
/// indexes its entities and sets what resolution needs of it (a
/// [`ResolvableDocument`], without tokens or uncited sentences) aside — in
/// memory while the text read stays within
/// [`ExtractOptions::hold_in_memory`], else all of them in an unnamed spill
/// file in the temporary directory (`TMPDIR`, see [`crate::spill`]); the
/// second reads them back, resolves them and hands them over. The inputs
/// are read once.
///
/// Documents whose id `keep` rejects are read but neither extracted nor
/// counted. `progress` hears how many documents each stage has done. A
/// consumer error stops the run and is returned.
pub fn extract_streaming<T: Send>(
    inputs: &[PathBuf],
    ontology: &Ontology,
    options: &ExtractOptions,
    keep: &(dyn Fn(&str) -> bool + Sync),
    progress: &(dyn Fn(StreamStage, usize) + Sync),
    prepare: &(dyn Fn(DocumentGraph) -> T + Sync),
    consume: &mut dyn FnMut(T) -> Result<()>,
) -> Result<StreamSummary> {
    let mut skipped = Vec::new();
    let stdin = if inputs.iter().any(|p| p.as_os_str() == "-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .map_err(|e| Error::io("<stdin>", e))?;
        Some(buf)
    } else {
        None
    };
    let mut summary = StreamSummary::default();
    let mut chunks = DocumentChunks::new(
        InputWalk::new(inputs),
        stdin.as_deref(),
        &options.read,
        keep,
    );
    let first = chunks.next().unwrap_or_default();
    let second = chunks.next();
    let done = AtomicUsize::new(0);
    let extract = |raw: RawDocument| {
        let bytes = raw.text.len() as u64;
        let extraction = extract_document(&raw, ontology);
        progress(
            StreamStage::Extracting,
            done.fetch_add(1, Ordering::Relaxed) + 1,
        );
        (extraction, bytes)
    };

    let Some(second) = second else {
        // One chunk: extract once, resolve in memory.
        let mut extractions = Vec::with_capacity(first.len());
        for r in first
            .into_par_iter()
            .map(|r| r.map(extract))
            .collect::<Vec<_>>()
        {
            match r {
                Ok((e, b)) => {
                    summary.bytes += b;
                    extractions.push(e);
                }
                Err(e) => skipped.push(e),
            }
        }
        let prepared: Vec<T> = resolve(extractions, options.min_confidence)
            .into_par_iter()
            .map(prepare)
            .collect();
        for item in prepared {
            consume(item)?;
            summary.documents += 1;
            progress(StreamStage::Writing, summary.documents);
        }
        summary.skipped = skipped;
        return Ok(summary);
    };

    // Pass 1: extract every document, index its entities and set what
    // resolution needs of it aside, in memory while the text read stays
    // within the budget, else all of it in the spill file.
    let spill_dir = std::env::temp_dir();
    let mut pass_one = PassOne::new(options.hold_in_memory, &spill_dir);
    pass_one.skipped = skipped;
    let mut chunks = [first, second].into_iter().chain(chunks);
    // Each chunk is set aside (indexed, held or spilled, on this thread)
    // while the next one is read and extracted on the pool.
    let mut extracted: Option<Vec<_>> = None;
    loop {
        let (next, set_aside) = rayon::join(
            || {
                chunks.next().map(|chunk| {
                    chunk
                        .into_par_iter()
                        .map(|r| {
                            r.map(|raw| {
                                let (extraction, b) = extract(raw);
                                (extraction.into_resolvable(), b)
                            })
                        })
                        .collect::<Vec<_>>()
                })
            },
            || match extracted.take() {
                Some(chunk) => pass_one.take(chunk),
                None => Ok(()),
            },
        );
        set_aside?;
        match next {
            Some(chunk) => extracted = Some(chunk),
            None => break,
        }
    }
    let PassOne {
        index,
        aside,
        bytes,
        skipped,
        ..
    } = pass_one;
    summary.bytes = bytes;
    let mut aside = match aside {
        SetAside::Held(held) => SetAsideReader::Held(held.into_iter()),
        SetAside::Spilled(spill) => {
            summary.spill_bytes = Some(spill.bytes());
            SetAsideReader::Spilled(spill.finish()?)
        }
    };
    let resolution = index.finish();
    summary.skipped = skipped;

    // Pass 2: read the documents back, resolve and prepare them in
    // parallel; consume in order while the next chunk is being prepared.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Result<Vec<T>>>(1);
    let min_confidence = options.min_confidence;
    let consumed = std::thread::scope(|scope| -> Result<()> {
        let resolution = &resolution;
        let producer = scope.spawn(move || loop {
            let chunk = match aside.next_chunk() {
                Ok(chunk) if chunk.is_empty() => return,
                Ok(chunk) => chunk,
                Err(e) => {
                    let _ = sender.send(Err(e));
                    return;
                }
            };
            let items = chunk
                .into_par_iter()
                .map(|doc| {
                    let doc = doc.into_document(&spill_dir)?;
                    Ok(prepare(resolution.document_graph(doc, min_confidence)))
                })
                .collect::<Result<Vec<T>>>();
            // A send fails when the consumer stopped on an error.
            if sender.send(items).is_err() {
                return;
            }
        });
        let outcome = receiver.iter().try_for_each(|items| {
            for item in items? {
                consume(item)?;
                summary.documents += 1;
                progress(StreamStage::Writing, summary.documents);
            }
            Ok(())
        });
        drop(receiver);
        if let Err(panic) = producer.join() {
            std::panic::resume_unwind(panic);
        }
        outcome
    });
    consumed?;
    Ok(summary)
}
