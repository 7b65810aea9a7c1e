//! The `newsgraph` command line: a thin layer over the library.

use std::collections::HashSet;
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
use newsgraph::ontology::Ontology;
use newsgraph::pipeline::{self, ExtractOptions, Extracted};
use newsgraph::query::{self, ResultsFormat};
use newsgraph::store::{self, GraphStore, PREFIXES};

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
    /// Ontology directory (default: the ontology built into the binary).
    #[arg(long, global = true, value_name = "DIR")]
    ontology: Option<PathBuf>,
    /// No progress bar and no summary line.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// The CSV column that holds the article text (default: `text`, else `body`).
    #[arg(long, global = true, value_name = "COLUMN")]
    text_column: Option<String>,
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
        /// edges are dropped.
        #[arg(long, value_name = "N", default_value_t = 0)]
        min_weight: usize,
        /// Only what these documents state (comma-separated document ids);
        /// weights count these documents alone.
        #[arg(long, value_name = "ID,...", value_delimiter = ',')]
        documents: Vec<String>,
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
        } => build(cli, inputs, *min_confidence, export.as_deref()),
        Command::Extract {
            inputs,
            format,
            min_confidence,
        } => extract(cli, inputs, *format, *min_confidence),
        Command::Query {
            sparql,
            file,
            results,
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
            query::run_query(&store, &text, *results, &mut out)?;
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
            let extracted = run_extraction(cli, inputs, *min_confidence, false)?;
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
    }
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
    Ok(GraphStore::open_existing(&cli.store)?)
}

fn open_for_write(cli: &Cli) -> Result<GraphStore> {
    if cli.in_memory {
        Ok(GraphStore::in_memory()?)
    } else {
        Ok(GraphStore::open(&cli.store)?)
    }
}

fn exit_for(extracted: &Extracted) -> ExitCode {
    if extracted.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Checks the inputs, loads the ontology and runs the pipeline with a
/// progress bar; prints every skipped input.
fn run_extraction(
    cli: &Cli,
    inputs: &[PathBuf],
    min_confidence: Option<f32>,
    show_progress: bool,
) -> Result<Extracted> {
    for input in inputs {
        if input != Path::new("-") && std::fs::symlink_metadata(input).is_err() {
            bail!("input {} not found", input.display());
        }
    }
    let ontology =
        Ontology::load(cli.ontology.as_deref()).with_context(|| match &cli.ontology {
            Some(dir) => format!("cannot load the ontology from {}", dir.display()),
            None => "cannot load the built-in ontology".to_string(),
        })?;
    let mut options = ExtractOptions::default();
    options.read.text_column = cli.text_column.clone();
    if let Some(m) = min_confidence {
        options.min_confidence = m;
    }
    let bar = if show_progress && !cli.quiet && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} documents  {elapsed}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        ProgressBar::hidden()
    };
    let result = pipeline::extract_inputs(inputs, &ontology, &options, &|n: usize| {
        bar.set_position(n as u64)
    });
    bar.finish_and_clear();
    let extracted = result.context("extraction failed")?;
    for skipped in &extracted.skipped {
        eprintln!("newsgraph: skipped {skipped}");
    }
    Ok(extracted)
}

fn build(
    cli: &Cli,
    inputs: &[PathBuf],
    min_confidence: Option<f32>,
    export_dir: Option<&Path>,
) -> Result<ExitCode> {
    let started = Instant::now();
    // Open the store first: a bad store should fail before a long extraction.
    let store = open_for_write(cli)?;
    let extracted = run_extraction(cli, inputs, min_confidence, true)?;
    store
        .replace_documents(&extracted.documents)
        .context("cannot write the documents into the store")?;
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
        let (entities, relations) = count_graph(&extracted.documents);
        eprintln!(
            "built {} documents: {} entities, {} relations in {:.2}s (store {})",
            extracted.documents.len(),
            entities,
            relations,
            started.elapsed().as_secs_f64(),
            store.display_path().display()
        );
    }
    Ok(exit_for(&extracted))
}

/// Distinct entities and distinct relation triples (a symmetric relation
/// counted once per unordered pair) of the documents.
fn count_graph(docs: &[DocumentGraph]) -> (usize, usize) {
    let entities: HashSet<&str> = docs
        .iter()
        .flat_map(|d| d.entities.iter().map(|e| e.iri.as_str()))
        .collect();
    let relations: HashSet<(&str, &str, &str)> = docs
        .iter()
        .flat_map(|d| d.facts.iter())
        .map(|f| {
            let (s, o) = (f.subject.as_str(), f.object.as_str());
            let (s, o) = if f.relation.is_symmetric() && o < s {
                (o, s)
            } else {
                (s, o)
            };
            (s, f.relation.as_str(), o)
        })
        .collect();
    (entities.len(), relations.len())
}

fn extract(
    cli: &Cli,
    inputs: &[PathBuf],
    format: ExtractFormat,
    min_confidence: Option<f32>,
) -> Result<ExitCode> {
    let extracted = run_extraction(cli, inputs, min_confidence, true)?;
    let (rdf_format, with_prefixes) = match format {
        ExtractFormat::Nquads => (RdfFormat::NQuads, false),
        ExtractFormat::Turtle => (RdfFormat::Turtle, true),
        ExtractFormat::Trig => (RdfFormat::TriG, true),
    };
    let mut serializer = RdfSerializer::from_format(rdf_format);
    if with_prefixes {
        for (prefix, iri) in PREFIXES {
            serializer = serializer.with_prefix(prefix, iri)?;
        }
    }
    let stdout = std::io::stdout();
    let mut writer = serializer.for_writer(BufWriter::new(stdout.lock()));
    for doc in &extracted.documents {
        for quad in store::document_quads(doc) {
            if rdf_format.supports_datasets() {
                writer.serialize_quad(&quad)
            } else {
                writer.serialize_triple(quad.as_ref())
            }
            .context("cannot write to standard output")?;
        }
    }
    writer
        .finish()
        .and_then(|mut w| w.flush())
        .context("cannot write to standard output")?;
    Ok(exit_for(&extracted))
}
