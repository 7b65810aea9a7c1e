//! The `newsgraph` command line: a thin layer over the library.

use std::io::{BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use oxigraph::io::{RdfFormat, RdfSerializer};

use newsgraph::export::{self, ExportFormat};
use newsgraph::graph::Selection;
use newsgraph::model::{DocumentGraph, EntityType, Relation};
use newsgraph::nquads;
use newsgraph::ontology::Ontology;
use newsgraph::params::QueryParam;
use newsgraph::pipeline::{ExtractOptions, Extracted, StreamStage, StreamSummary};
use newsgraph::query::{self, ResultsFormat};
use newsgraph::shard::Shard;
use newsgraph::store::{self, GraphStore, OpenFiles, PREFIXES};

/// The pipeline makes and drops many small values per sentence; mimalloc
/// serves them with a fraction of the system allocator's instructions. It
/// also replaces `malloc` (the `override` feature), so that RocksDB's C++
/// and our Rust share one allocator: with two, the store's error paths
/// crashed, freeing in one what the other allocated.
#[global_allocator]
static ALLOCATOR: Mimalloc = Mimalloc;

/// mimalloc, asked the way the standard library asks `malloc`: plainly
/// when the alignment is one `malloc` gives anyway, else for the alignment.
/// (The `mimalloc` crate always asks for the alignment: about 20 more
/// instructions per allocation, 2 % of an extract.)
struct Mimalloc;

/// The alignment of every block of mimalloc (and `malloc`) of at least
/// this many bytes. Smaller blocks are aligned to 8 bytes at least:
/// enough for any alignment up to their size, all that
/// [`plain_is_aligned`] lets through for them.
const MALLOC_ALIGNMENT: usize = 16;

/// Whether a plain `mi_malloc(size)` is aligned enough for `align`.
fn plain_is_aligned(align: usize, size: usize) -> bool {
    align <= MALLOC_ALIGNMENT && align <= size
}

// SAFETY: every block comes from mimalloc and goes back to it. A plain
// allocation is used only when its alignment suffices (`plain_is_aligned`,
// the standard library's own rule for `malloc`), else the aligned calls;
// `mi_free` frees either kind.
unsafe impl std::alloc::GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if plain_is_aligned(layout.align(), layout.size()) {
            libmimalloc_sys::mi_malloc(layout.size()).cast()
        } else {
            libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if plain_is_aligned(layout.align(), layout.size()) {
            libmimalloc_sys::mi_zalloc(layout.size()).cast()
        } else {
            libmimalloc_sys::mi_zalloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        libmimalloc_sys::mi_free(ptr.cast());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        if plain_is_aligned(layout.align(), new_size) {
            libmimalloc_sys::mi_realloc(ptr.cast(), new_size).cast()
        } else {
            libmimalloc_sys::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
        }
    }
}

const EXIT_HELP: &str = "\
Exit status: 0 on success; 1 when some inputs were skipped (the rest was \
processed and stored); 2 on an error (nothing or only part was done).";

/// Turns Korean news articles into a knowledge graph (RDF, SPARQL, CSV).
#[derive(Parser, Debug)]
#[command(name = "newsgraph", version, about, after_help = EXIT_HELP)]
struct Cli {
    /// The store directory (an embedded Oxigraph / RocksDB database).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "newsgraph.db"
    )]
    store: PathBuf,
    /// Use a temporary in-memory store instead of --store (nothing is kept).
    #[arg(long, global = true)]
    in_memory: bool,
    /// At most this many files of the store stay open; files beyond it are
    /// reopened when read. 0: as many as the file-descriptor limit allows.
    /// Default: 128 for build and load (each open file holds its index in
    /// memory, so keeping all open makes a build's memory grow with the
    /// store), 0 for the other commands.
    #[arg(long, global = true, value_name = "N")]
    max_open_files: Option<u32>,
    /// Ontology directory (default: the ontology built into the binary).
    #[arg(long, global = true, value_name = "DIR")]
    ontology: Option<PathBuf>,
    /// No progress bar and no summary line.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// The CSV column that holds the article text (default: `text`, else `body`).
    #[arg(long, global = true, value_name = "COLUMN")]
    text_column: Option<String>,
    /// A run of more than 256 documents has two passes: up to this many MiB
    /// of input text, its documents wait for the second pass in memory
    /// (about twice that); past it, all of them wait in an unnamed file in
    /// TMPDIR. 0: always in the file.
    #[arg(long, global = true, value_name = "MIB", default_value_t = newsgraph::pipeline::DEFAULT_HOLD_IN_MEMORY >> 20)]
    hold_in_memory: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Extract the inputs and write them into the store (replacing earlier
    /// versions of the same documents).
    Build {
        /// Files, directories (read recursively) or `-` for standard input.
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<PathBuf>,
        /// Drop facts whose rule confidence is below this value (0 to 1).
        #[arg(long, value_name = "F", value_parser = parse_confidence)]
        min_confidence: Option<f32>,
        /// Also write nodes.csv, edges.csv, graph.graphml and graph.ttl into
        /// this directory.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
        /// Commit new documents to the store every N documents (default:
        /// every million quads). A build that is killed keeps what was
        /// committed; smaller commits lose less and build more slowly.
        #[arg(long, value_name = "N")]
        commit_every: Option<usize>,
    },
    /// Extract the inputs and print their RDF (no store).
    Extract {
        /// Files, directories (read recursively) or `-` for standard input.
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<PathBuf>,
        /// Output syntax; turtle writes the triples without graph names.
        #[arg(long, value_enum, default_value_t = ExtractFormat::Nquads)]
        format: ExtractFormat,
        /// Drop facts whose rule confidence is below this value (0 to 1).
        #[arg(long, value_name = "F", value_parser = parse_confidence)]
        min_confidence: Option<f32>,
        /// Only the K-th of N deterministic slices of the documents (by a
        /// stable hash of the document id; K from 1 to N): run one shard per
        /// worker, then `newsgraph load` the outputs into one store.
        #[arg(long, value_name = "K/N", value_parser = parse_shard)]
        shard: Option<Shard>,
    },
    /// Run a SPARQL query over all documents of the store.
    ///
    /// The prefixes ng:, id:, doc:, rdf:, rdfs:, xsd:, skos:, dcterms:,
    /// prov: and owl: are predeclared; the default graph is the union of the
    /// documents' graphs.
    Query {
        /// The query text.
        #[arg(
            value_name = "SPARQL",
            required_unless_present = "file",
            conflicts_with = "file"
        )]
        sparql: Option<String>,
        /// Read the query from this file (`-` for standard input).
        #[arg(long, short = 'f', value_name = "FILE")]
        file: Option<PathBuf>,
        /// Result format: table, csv, tsv, json, xml (SELECT/ASK);
        /// turtle, ntriples (CONSTRUCT/DESCRIBE; table means turtle).
        #[arg(long, value_name = "FORMAT", default_value = "table", value_parser = parse_results_format)]
        results: ResultsFormat,
        /// Bind the query variable ?NAME to VALUE (repeatable). VALUE is a
        /// plain string (광주광역시, 2024-01-31), an IRI (<http://…>,
        /// id:Organization/광주광역시) or a literal ("AI"@ko,
        /// "2024-01-31"^^xsd:date); it never becomes query text.
        #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<QueryParam>,
    },
    /// Write the graph for Gephi, Graphviz and notebooks (csv, graphml,
    /// gexf, dot, svg, png, json), or the store as RDF.
    ///
    /// Graph formats carry degree, weighted degree, PageRank, connected
    /// component and Louvain community per node, computed on the selected
    /// graph; --relations, --types, --min-weight, --documents and --around
    /// select part of it.
    Export {
        /// csv (nodes.csv + edges.csv), graphml, gexf, dot, svg, png
        /// (rendered by Graphviz), json (node-link); turtle, ntriples,
        /// nquads or trig (RDF dump).
        #[arg(long, value_name = "FORMAT", default_value = "csv", value_parser = parse_export_format)]
        format: ExportFormat,
        /// A directory for csv; a file (or `-` for standard output) otherwise.
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
        /// Only edges of these relations (comma-separated, e.g.
        /// signedMouWith,targetsSector); nodes left without edges are dropped.
        #[arg(long, value_name = "REL,...", value_delimiter = ',', value_parser = parse_relation)]
        relations: Vec<Relation>,
        /// Only nodes of these types (comma-separated: Person, Organization,
        /// Sector, Place).
        #[arg(long, value_name = "TYPE,...", value_delimiter = ',', value_parser = parse_entity_type)]
        types: Vec<EntityType>,
        /// Only edges stated by at least N documents; nodes left without
        /// edges are dropped (so 1 drops just the isolated nodes).
        #[arg(long, value_name = "N", default_value_t = 0)]
        min_weight: usize,
        /// Only what these documents state (comma-separated document ids);
        /// weights count these documents alone.
        #[arg(long, value_name = "ID,...", value_delimiter = ',')]
        documents: Vec<String>,
        /// Only edges found by a rule of at least this confidence (0 to 1).
        #[arg(long, value_name = "F", value_parser = parse_confidence)]
        min_confidence: Option<f32>,
        /// Only the neighbourhood of the entity with this name (its label or
        /// any alias), e.g. --around 광주광역시.
        #[arg(long, value_name = "NAME")]
        around: Option<String>,
        /// How many steps from --around, following edges either way.
        #[arg(long, value_name = "N", default_value_t = 1, requires = "around")]
        depth: usize,
    },
    /// Extract the inputs (no store) and score them against gold annotations.
    Eval {
        /// Directory of gold files (`<document file name>.json`).
        #[arg(long, value_name = "DIR")]
        gold: PathBuf,
        /// Files or directories to extract.
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<PathBuf>,
        /// List every missed and spurious entity and relation.
        #[arg(long)]
        verbose: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Drop facts whose rule confidence is below this value (0 to 1).
        #[arg(long, value_name = "F", value_parser = parse_confidence)]
        min_confidence: Option<f32>,
    },
    /// Count documents, entities, relations and quads in the store.
    Stats,
    /// Compact the store (after a large build or load, so that queries and
    /// rebuilds read settled files): rewrites the whole store once.
    Optimize,
    /// Serve the store as a SPARQL 1.1 Protocol endpoint (/sparql; a query
    /// page at /). Ctrl-C or SIGTERM stops it after the requests in hand.
    Serve(ServeArgs),
    /// Send every document of the store to an external SPARQL store, each
    /// document's named graph replaced as a unit (re-pushing is idempotent).
    Push(PushArgs),
    /// Bulk-load N-Quads (e.g. the outputs of `extract --shard K/N`) into
    /// the store; documents already there are replaced.
    Load {
        /// .nq or .trig files (.nt / .ttl go into the default graph); `-`
        /// reads N-Quads from standard input.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the endpoint URL is
    /// printed on standard output).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:7878")]
    bind: String,
    /// Accept SPARQL updates (update= or application/sparql-update);
    /// otherwise they are refused with 403.
    #[arg(long)]
    allow_update: bool,
    /// Cancel a query after this many seconds (answered 503).
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, value_parser = parse_seconds)]
    timeout: f64,
    /// Refuse results larger than this many bytes (answered 413).
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    max_result_bytes: usize,
    /// Refuse request bodies larger than this many bytes (answered 413).
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    max_request_bytes: usize,
    /// Requests answered at the same time.
    #[arg(long, value_name = "N", default_value_t = 8)]
    threads: usize,
}

#[derive(clap::Args, Debug)]
struct PushArgs {
    /// The SPARQL update endpoint (http://host:7878/update); with
    /// --protocol gsp, the graph store (http://host:7878/store).
    #[arg(long, value_name = "URL")]
    endpoint: String,
    /// update: SPARQL Update DROP + INSERT DATA, several documents per
    /// request; gsp: Graph Store Protocol PUT, one request per document.
    #[arg(long, value_enum, default_value_t = PushProtocolArg::Update)]
    protocol: PushProtocolArg,
    /// Basic authentication user (the password from --password or the
    /// NEWSGRAPH_PUSH_PASSWORD environment variable).
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// Basic authentication password.
    #[arg(long, value_name = "PASSWORD", requires = "user")]
    password: Option<String>,
    /// An extra request header, `Name: value` (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// Close an update request once it holds this many quads (a document
    /// is never split).
    #[arg(long, value_name = "QUADS", default_value_t = 50_000)]
    batch_quads: usize,
    /// Retries after a transient failure (connection error, timeout, 408,
    /// 429, 5xx), waiting 0.5 s, 1 s, 2 s, … in between.
    #[arg(long, value_name = "N", default_value_t = 5)]
    retries: u32,
    /// Time limit of one request in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0, value_parser = parse_seconds)]
    timeout: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum PushProtocolArg {
    Update,
    Gsp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ExtractFormat {
    Nquads,
    Turtle,
    Trig,
}

fn parse_confidence(s: &str) -> Result<f32, String> {
    let v: f32 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not between 0 and 1"))
    }
}

fn parse_results_format(s: &str) -> Result<ResultsFormat, String> {
    s.parse()
}

fn parse_param(s: &str) -> Result<QueryParam, String> {
    QueryParam::parse(s).map_err(|e| e.to_string())
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

fn parse_header(s: &str) -> Result<(String, String), String> {
    newsgraph::push::parse_header(s).map_err(|e| e.to_string())
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if v.is_finite() && v > 0.0 && v < 1e9 {
        Ok(v)
    } else {
        Err(format!("{s} is not a positive number of seconds"))
    }
}

fn parse_export_format(s: &str) -> Result<ExportFormat, String> {
    s.parse()
}

fn parse_relation(s: &str) -> Result<Relation, String> {
    s.trim().parse().map_err(|e| {
        format!(
            "{e} (expected {})",
            Relation::ALL.map(|r| r.as_str()).join(", ")
        )
    })
}

fn parse_entity_type(s: &str) -> Result<EntityType, String> {
    s.trim().parse().map_err(|e| {
        format!(
            "{e} (expected {})",
            EntityType::ALL.map(|t| t.as_str()).join(", ")
        )
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(err) => {
            // `newsgraph … | head` closes the pipe early: not an error.
            let broken_pipe = err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
                    || c.to_string().contains("Broken pipe")
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("newsgraph: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Build {
            inputs,
            min_confidence,
            export,
            commit_every,
        } => build(
            cli,
            inputs,
            *min_confidence,
            export.as_deref(),
            *commit_every,
        ),
        Command::Extract {
            inputs,
            format,
            min_confidence,
            shard,
        } => extract(cli, inputs, *format, *min_confidence, *shard),
        Command::Query {
            sparql,
            file,
            results,
            params,
        } => {
            let text = match (sparql, file) {
                (Some(q), _) => q.clone(),
                (None, Some(f)) if f == Path::new("-") => {
                    let mut q = String::new();
                    std::io::stdin()
                        .read_to_string(&mut q)
                        .context("cannot read the query from standard input")?;
                    q
                }
                (None, Some(f)) => std::fs::read_to_string(f)
                    .with_context(|| format!("cannot read the query file {}", f.display()))?,
                (None, None) => bail!("give a query, or --file FILE"),
            };
            let store = open_existing(cli)?;
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            query::run_query_with_params(&store, &text, params, *results, &mut out)?;
            out.flush().context("cannot write to standard output")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            format,
            out,
            relations,
            types,
            min_weight,
            documents,
            min_confidence,
            around,
            depth,
        } => {
            let selection = Selection {
                relations: relations.clone(),
                types: types.clone(),
                min_weight: *min_weight,
                documents: documents.clone(),
                around: around.clone(),
                depth: *depth,
                min_confidence: min_confidence.unwrap_or(0.0),
            };
            if !format.is_graph() && !selection.is_everything() {
                bail!(
                    "--relations, --types, --min-weight, --documents and --around apply to the \
                     graph formats (csv, graphml, gexf, dot, svg, png, json), not to {format}"
                );
            }
            if *format == ExportFormat::Csv && out == Path::new("-") {
                bail!("csv export writes two files (nodes.csv, edges.csv): give a directory with --out");
            }
            let store = open_existing(cli)?;
            let written = export::export_selected(&store, *format, out, &selection)
                .with_context(|| format!("cannot export {format} to {}", out.display()))?;
            if !cli.quiet {
                for f in written {
                    eprintln!("wrote {}", f.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            gold,
            inputs,
            verbose,
            json,
            min_confidence,
        } => {
            if !gold.is_dir() {
                bail!("gold directory {} not found", gold.display());
            }
            let extracted = run_extraction(cli, inputs, *min_confidence)?;
            let report = newsgraph::eval::evaluate(gold, &extracted.documents)
                .with_context(|| format!("cannot evaluate against {}", gold.display()))?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let text = if *json {
                let mut text = serde_json::to_string_pretty(&report.to_json())
                    .context("cannot serialise the report")?;
                text.push('\n');
                text
            } else {
                report.render(*verbose)
            };
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .context("cannot write to standard output")?;
            Ok(exit_for(&extracted))
        }
        Command::Stats => {
            let store = open_existing(cli)?;
            let stats = store.stats()?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            writeln!(out, "store {}", store.display_path().display())
                .and_then(|_| write!(out, "{stats}"))
                .context("cannot write to standard output")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Optimize => {
            let store = open_existing(cli)?;
            let before = store_files(&store);
            let started = std::time::Instant::now();
            store.optimize()?;
            if !cli.quiet {
                eprintln!(
                    "optimized {} in {:.1} s: {} files before, {} after",
                    store.display_path().display(),
                    started.elapsed().as_secs_f64(),
                    before,
                    store_files(&store)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => serve(cli, args),
        Command::Push(args) => push(cli, args),
        Command::Load { files } => load(cli, files),
    }
}

/// The number of table files of an on-disk store (0 in memory).
fn store_files(store: &GraphStore) -> usize {
    store.path().map_or(0, newsgraph::store::table_files)
}

/// Opens the store for a reading command: it must exist already.
fn open_existing(cli: &Cli) -> Result<GraphStore> {
    if cli.in_memory {
        return Ok(GraphStore::in_memory()?);
    }
    if !cli.store.exists() {
        bail!(
            "no store at {}; run `newsgraph build` first (or give --store DIR)",
            cli.store.display()
        );
    }
    Ok(GraphStore::open_existing_with(
        &cli.store,
        open_files(cli, OpenFiles::AsManyAsAllowed),
    )?)
}

/// The `--max-open-files` of the command line, else `default`.
fn open_files(cli: &Cli, default: OpenFiles) -> OpenFiles {
    match cli.max_open_files {
        None => default,
        Some(0) => OpenFiles::AsManyAsAllowed,
        Some(n) => OpenFiles::Limit(n),
    }
}

/// Opens (or creates) the store for a writing command, keeping
/// `open_files_by_default` of its files open unless `--max-open-files`
/// says otherwise.
fn open_for_write(cli: &Cli, open_files_by_default: OpenFiles) -> Result<GraphStore> {
    if cli.in_memory {
        Ok(GraphStore::in_memory()?)
    } else {
        Ok(GraphStore::open_with(
            &cli.store,
            open_files(cli, open_files_by_default),
        )?)
    }
}

fn exit_for(extracted: &Extracted) -> ExitCode {
    exit_code(&extracted.skipped)
}

/// 0 when every input was read, 1 when some were skipped.
fn exit_code(skipped: &[newsgraph::Error]) -> ExitCode {
    if skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Checks the inputs, loads the ontology and extracts every document into
/// memory (for `eval`); prints every skipped input.
fn run_extraction(cli: &Cli, inputs: &[PathBuf], min_confidence: Option<f32>) -> Result<Extracted> {
    let (ontology, options) = prepare_extraction(cli, inputs, min_confidence)?;
    let extracted = newsgraph::pipeline::extract_inputs(inputs, &ontology, &options, &|_| {})
        .context("extraction failed")?;
    for skipped in &extracted.skipped {
        eprintln!("newsgraph: skipped {skipped}");
    }
    Ok(extracted)
}

/// Checks that the inputs exist, loads the ontology and sets the options
/// of an extraction run from the command line.
fn prepare_extraction(
    cli: &Cli,
    inputs: &[PathBuf],
    min_confidence: Option<f32>,
) -> Result<(Ontology, ExtractOptions)> {
    for input in inputs {
        if input != Path::new("-") && std::fs::symlink_metadata(input).is_err() {
            bail!("input {} not found", input.display());
        }
    }
    let ontology = load_ontology(cli)?;
    let mut options = ExtractOptions::default();
    options.read.text_column = cli.text_column.clone();
    options.hold_in_memory = cli.hold_in_memory.saturating_mul(1 << 20);
    if let Some(m) = min_confidence {
        options.min_confidence = m;
    }
    Ok((ontology, options))
}

/// Loads the ontology named on the command line (or the built-in one).
fn load_ontology(cli: &Cli) -> Result<Ontology> {
    Ontology::load(cli.ontology.as_deref()).with_context(|| match &cli.ontology {
        Some(dir) => format!("cannot load the ontology from {}", dir.display()),
        None => "cannot load the built-in ontology".to_string(),
    })
}

/// Runs the streaming pipeline with a progress spinner: `prepare` runs in
/// parallel on each document graph, `consume` gets the results in input
/// order. Prints every skipped input.
fn stream_extraction<T: Send>(
    cli: &Cli,
    inputs: &[PathBuf],
    min_confidence: Option<f32>,
    shard: Option<Shard>,
    prepare: &(dyn Fn(DocumentGraph) -> T + Sync),
    consume: &mut dyn FnMut(T) -> newsgraph::Result<()>,
) -> Result<StreamSummary> {
    let (ontology, options) = prepare_extraction(cli, inputs, min_confidence)?;
    let bar = progress_bar(cli, true);
    let keep = |id: &str| shard.is_none_or(|s| s.contains(id));
    let result = newsgraph::pipeline::extract_streaming(
        inputs,
        &ontology,
        &options,
        &keep,
        &|stage, n| {
            let message = match stage {
                StreamStage::Extracting => "extracted",
                StreamStage::Writing => "written",
            };
            // Each stage counts from one.
            if n == 1 {
                bar.set_message(message);
            }
            bar.set_position(n as u64);
        },
        prepare,
        consume,
    );
    bar.finish_and_clear();
    let summary = result?;
    for skipped in &summary.skipped {
        eprintln!("newsgraph: skipped {skipped}");
    }
    Ok(summary)
}

fn progress_bar(cli: &Cli, show: bool) -> ProgressBar {
    if show && !cli.quiet && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {pos} documents {msg}  {elapsed}")
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        ProgressBar::hidden()
    }
}

/// Distinct entities and relation triples seen by a build, entities
/// numbered by IRI (a symmetric relation counted once per unordered pair).
#[derive(Default)]
struct GraphCounts {
    /// Entity IRIs, each with a number.
    entities: rustc_hash::FxHashMap<String, u32>,
    /// Distinct relations as (subject, relation, object) numbers.
    relations: rustc_hash::FxHashSet<(u32, Relation, u32)>,
}

impl GraphCounts {
    fn add(&mut self, doc: &DocumentGraph) {
        for e in &doc.entities {
            self.number(&e.iri);
        }
        for f in &doc.facts {
            let (s, o) = (self.number(&f.subject), self.number(&f.object));
            let (s, o) = if f.relation.is_symmetric() && f.object < f.subject {
                (o, s)
            } else {
                (s, o)
            };
            self.relations.insert((s, f.relation, o));
        }
    }

    /// The number of an entity IRI, given on first sight.
    fn number(&mut self, iri: &str) -> u32 {
        if let Some(&n) = self.entities.get(iri) {
            return n;
        }
        let n = self.entities.len() as u32;
        self.entities.insert(iri.to_string(), n);
        n
    }
}

fn build(
    cli: &Cli,
    inputs: &[PathBuf],
    min_confidence: Option<f32>,
    export_dir: Option<&Path>,
    commit_every: Option<usize>,
) -> Result<ExitCode> {
    let started = Instant::now();
    // Open the store first: a bad store should fail before a long extraction.
    let store = open_for_write(cli, OpenFiles::for_bulk_writing())?;
    let mut writer = store
        .writer_committing_every(commit_every)
        .context("cannot write the documents into the store")?;
    let mut counts = GraphCounts::default();
    let prepare = |doc: DocumentGraph| {
        let quads = store::document_quads(&doc);
        (doc, quads)
    };
    let mut write = |(doc, quads): (DocumentGraph, Vec<oxigraph::model::Quad>)| {
        counts.add(&doc);
        writer.write(&doc.meta.iri(), quads)
    };
    let summary = stream_extraction(cli, inputs, min_confidence, None, &prepare, &mut write)
        .and_then(|summary| {
            writer.finish()?;
            Ok(summary)
        });
    let summary = match summary {
        Ok(summary) => summary,
        Err(e) => {
            store.remove_unfinished_bulk_files();
            return Err(e).context("cannot write the documents into the store");
        }
    };
    if let Some(dir) = export_dir {
        export::write_csv_dir(&store, dir)
            .with_context(|| format!("cannot export CSV to {}", dir.display()))?;
        let graphml = dir.join("graph.graphml");
        export::export(&store, ExportFormat::GraphMl, &graphml)
            .with_context(|| format!("cannot export GraphML to {}", graphml.display()))?;
        let ttl = dir.join("graph.ttl");
        export::export(&store, ExportFormat::Turtle, &ttl)
            .with_context(|| format!("cannot export Turtle to {}", ttl.display()))?;
    }
    if !cli.quiet {
        let skipped = match summary.skipped.len() {
            0 => String::new(),
            n => format!(", {n} skipped"),
        };
        eprintln!(
            "built {} documents: {} entities, {} relations in {:.2}s (store {}){}",
            summary.documents,
            counts.entities.len(),
            counts.relations.len(),
            started.elapsed().as_secs_f64(),
            store.display_path().display(),
            skipped
        );
    }
    Ok(exit_code(&summary.skipped))
}

fn extract(
    cli: &Cli,
    inputs: &[PathBuf],
    format: ExtractFormat,
    min_confidence: Option<f32>,
    shard: Option<Shard>,
) -> Result<ExitCode> {
    let (rdf_format, with_prefixes) = match format {
        ExtractFormat::Nquads => (RdfFormat::NQuads, false),
        ExtractFormat::Turtle => (RdfFormat::Turtle, true),
        ExtractFormat::Trig => (RdfFormat::TriG, true),
    };
    let stdout = std::io::stdout();
    if rdf_format == RdfFormat::NQuads {
        // N-Quads needs no prefixes or state: each document is serialised
        // in parallel, then written in input order. A document's text is
        // usually larger than the small buffer, so it goes to standard
        // output without being copied; small ones are gathered.
        let mut out = BufWriter::with_capacity(8 * 1024, stdout.lock());
        let prepare = |doc: DocumentGraph| -> Vec<u8> {
            // About 3.4 KB of N-Quads per fact (its reification, sentence
            // and entities): room for all of it, usually, so that the buffer
            // is not copied as it grows.
            let mut buf = Vec::with_capacity(8 * 1024 + 4 * 1024 * doc.facts.len());
            store::for_each_document_quad(&doc, &mut |quad| nquads::write_quad(&mut buf, quad));
            buf
        };
        let summary = stream_extraction(cli, inputs, min_confidence, shard, &prepare, &mut |buf| {
            out.write_all(&buf)
                .map_err(|e| newsgraph::Error::io("<stdout>", e))
        })
        .context("cannot write to standard output")?;
        out.flush().context("cannot write to standard output")?;
        return Ok(exit_code(&summary.skipped));
    }
    let mut serializer = RdfSerializer::from_format(rdf_format);
    if with_prefixes {
        for (prefix, iri) in PREFIXES {
            serializer = serializer.with_prefix(prefix, iri)?;
        }
    }
    let mut writer = serializer.for_writer(BufWriter::with_capacity(1 << 16, stdout.lock()));
    let prepare = |doc: DocumentGraph| store::document_quads(&doc);
    let summary = stream_extraction(cli, inputs, min_confidence, shard, &prepare, &mut |quads| {
        for quad in quads {
            if rdf_format.supports_datasets() {
                writer.serialize_quad(&quad)
            } else {
                writer.serialize_triple(quad.as_ref())
            }
            .map_err(|e| newsgraph::Error::io("<stdout>", e))?;
        }
        Ok(())
    })
    .context("cannot write to standard output")?;
    writer
        .finish()
        .and_then(|mut w| w.flush())
        .context("cannot write to standard output")?;
    Ok(exit_code(&summary.skipped))
}

/// `newsgraph serve`: binds, prints the endpoint URL on standard output,
/// answers until Ctrl-C / SIGTERM, then finishes the requests in hand.
fn serve(cli: &Cli, args: &ServeArgs) -> Result<ExitCode> {
    use newsgraph::serve::{ServeOptions, SparqlServer};
    let store = if args.allow_update {
        open_for_write(cli, OpenFiles::AsManyAsAllowed)?
    } else {
        open_existing(cli)?
    };
    let path = store.display_path();
    let options = ServeOptions {
        bind: args.bind.clone(),
        allow_update: args.allow_update,
        timeout: Duration::from_secs_f64(args.timeout),
        max_result_bytes: args.max_result_bytes,
        max_request_bytes: args.max_request_bytes,
        threads: args.threads,
    };
    let server = SparqlServer::bind(store, options)?;
    let handle = server.shutdown_handle();
    ctrlc::set_handler(move || {
        if handle.is_shutting_down() {
            // A second Ctrl-C: stop now.
            std::process::exit(130);
        }
        handle.shutdown();
    })
    .context("cannot install the Ctrl-C / SIGTERM handler")?;
    let addr = server
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|| args.bind.clone());
    {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        writeln!(out, "http://{addr}/sparql")
            .and_then(|_| out.flush())
            .context("cannot write to standard output")?;
    }
    if !cli.quiet {
        eprintln!(
            "newsgraph: SPARQL endpoint http://{addr}/sparql, query page http://{addr}/ \
             (store {}, {}); Ctrl-C stops",
            path.display(),
            if args.allow_update {
                "updates allowed"
            } else {
                "read-only"
            }
        );
    }
    let summary = server.run()?;
    if !cli.quiet {
        eprintln!(
            "newsgraph: stopped after {} requests ({} queries, {} updates)",
            summary.requests, summary.queries, summary.updates
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `newsgraph push`: sends every document to the external store.
fn push(cli: &Cli, args: &PushArgs) -> Result<ExitCode> {
    use newsgraph::push::{PushOptions, PushProtocol};
    let store = open_existing(cli)?;
    let password = args
        .password
        .clone()
        .or_else(|| std::env::var("NEWSGRAPH_PUSH_PASSWORD").ok());
    let options = PushOptions {
        endpoint: args.endpoint.clone(),
        protocol: match args.protocol {
            PushProtocolArg::Update => PushProtocol::Update,
            PushProtocolArg::Gsp => PushProtocol::GraphStore,
        },
        user: args.user.clone(),
        password,
        headers: args.headers.clone(),
        batch_quads: args.batch_quads,
        retries: args.retries,
        timeout: Duration::from_secs_f64(args.timeout),
        ..PushOptions::default()
    };
    let started = Instant::now();
    let bar = if !cli.quiet && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} documents sent  {elapsed}")
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        ProgressBar::hidden()
    };
    let result = newsgraph::push::push(&store, &options, &|n| bar.set_position(n as u64));
    bar.finish_and_clear();
    let summary = result.with_context(|| format!("cannot push to {}", args.endpoint))?;
    if !cli.quiet {
        eprintln!(
            "pushed {} documents ({} quads, {} bytes) to {} in {} requests, {} retries, {:.2}s",
            summary.documents,
            summary.quads,
            summary.bytes,
            args.endpoint,
            summary.requests,
            summary.retries,
            started.elapsed().as_secs_f64()
        );
        if summary.skipped_default_graph_quads > 0 || summary.skipped_blank_graphs > 0 {
            eprintln!(
                "not sent: {} quads of the default graph, {} graphs named by blank nodes",
                summary.skipped_default_graph_quads, summary.skipped_blank_graphs
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `newsgraph load`: bulk-loads N-Quads files into the store.
fn load(cli: &Cli, files: &[PathBuf]) -> Result<ExitCode> {
    let started = Instant::now();
    let store = open_for_write(cli, OpenFiles::for_bulk_writing())?;
    let summary = newsgraph::shard::load_files(&store, files)
        .context("cannot load the files (the store is unchanged when a file does not parse)")?;
    if !cli.quiet {
        eprintln!(
            "loaded {} files: {} quads, {} documents in {:.2}s; the store holds {} quads ({})",
            summary.files,
            summary.quads,
            summary.graphs,
            started.elapsed().as_secs_f64(),
            summary.store_quads,
            store.display_path().display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use std::alloc::{GlobalAlloc, Layout};

    use super::ALLOCATOR;

    /// Fills a block with a pattern of its offsets.
    ///
    /// # Safety
    /// `p` is valid for writes of `size` bytes.
    unsafe fn fill(p: *mut u8, size: usize) {
        for i in 0..size {
            *p.add(i) = i as u8;
        }
    }

    /// Whether a block holds that pattern and is aligned.
    ///
    /// # Safety
    /// `p` is valid for reads of `size` bytes.
    unsafe fn holds_pattern(p: *mut u8, size: usize, align: usize) -> bool {
        !p.is_null() && p as usize % align == 0 && (0..size).all(|i| *p.add(i) == i as u8)
    }

    /// Every size up to a few blocks, every alignment up to a page: each
    /// block is aligned and keeps its bytes when it grows and shrinks.
    #[test]
    fn allocations_are_aligned_and_kept() {
        let mut plain = 0;
        for align in (0..13).map(|shift| 1usize << shift) {
            for size in 1..=300 {
                let layout = Layout::from_size_align(size, align).expect("layout");
                let grown = Layout::from_size_align(size * 3 + 17, align).expect("layout");
                let shrunk = Layout::from_size_align(size / 2 + 1, align).expect("layout");
                plain += usize::from(super::plain_is_aligned(align, size));
                for zeroed in [false, true] {
                    // SAFETY: each block is used within its current size
                    // and freed once, with the layout it has then.
                    unsafe {
                        let p = if zeroed {
                            ALLOCATOR.alloc_zeroed(layout)
                        } else {
                            ALLOCATOR.alloc(layout)
                        };
                        assert!(holds_pattern(p, 0, align), "{layout:?}");
                        if zeroed {
                            assert!((0..size).all(|i| *p.add(i) == 0), "{layout:?}");
                        }
                        fill(p, size);
                        let p = ALLOCATOR.realloc(p, layout, grown.size());
                        assert!(holds_pattern(p, size, align), "{layout:?} grown");
                        fill(p, grown.size());
                        let p = ALLOCATOR.realloc(p, grown, shrunk.size());
                        assert!(holds_pattern(p, shrunk.size(), align), "{layout:?} shrunk");
                        ALLOCATOR.dealloc(p, shrunk);
                    }
                }
            }
        }
        // Both ways were taken.
        assert!(plain > 100 && plain < 13 * 300, "{plain}");
    }
}
