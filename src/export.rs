//! Exports of the store: `nodes.csv` / `edges.csv` per the CSV contract of
//! SCHEMA.md (for Gephi, notebooks …), and RDF dumps.

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use oxigraph::io::{RdfFormat, RdfSerializer};
use oxigraph::sparql::{QueryResults, SparqlEvaluator};

use crate::store::{EdgeRow, GraphStore, NodeRow, PREFIXES};
use crate::{Error, Result};

/// What [`export`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// `nodes.csv` and `edges.csv` in a directory.
    Csv,
    /// Turtle: the union of all graphs as triples.
    Turtle,
    /// N-Triples: the union of all graphs as triples.
    NTriples,
    /// N-Quads: every quad with its graph (one graph per document).
    NQuads,
    /// TriG: every graph.
    TriG,
}

impl ExportFormat {
    /// Every format.
    pub const ALL: [ExportFormat; 5] = [
        ExportFormat::Csv,
        ExportFormat::Turtle,
        ExportFormat::NTriples,
        ExportFormat::NQuads,
        ExportFormat::TriG,
    ];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Turtle => "turtle",
            ExportFormat::NTriples => "ntriples",
            ExportFormat::NQuads => "nquads",
            ExportFormat::TriG => "trig",
        }
    }

    /// The Oxigraph RDF format (`None` for CSV).
    pub fn rdf_format(self) -> Option<RdfFormat> {
        match self {
            ExportFormat::Csv => None,
            ExportFormat::Turtle => Some(RdfFormat::Turtle),
            ExportFormat::NTriples => Some(RdfFormat::NTriples),
            ExportFormat::NQuads => Some(RdfFormat::NQuads),
            ExportFormat::TriG => Some(RdfFormat::TriG),
        }
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let s = s.to_ascii_lowercase();
        let s = match s.as_str() {
            "ttl" => "turtle",
            "nt" | "n-triples" => "ntriples",
            "nq" | "n-quads" => "nquads",
            other => other,
        };
        ExportFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown export format `{s}` (expected csv, turtle, ntriples, nquads or trig)"
                )
            })
    }
}

/// Writes the store in `format` to `out_path`: for CSV a directory (created
/// if missing) that receives `nodes.csv` and `edges.csv`; otherwise a single
/// file, or standard output when `out_path` is `-`. Returns the files
/// written.
pub fn export(store: &GraphStore, format: ExportFormat, out_path: &Path) -> Result<Vec<PathBuf>> {
    match format.rdf_format() {
        None => write_csv_dir(store, out_path),
        Some(_) if out_path == Path::new("-") => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            write_rdf(store, format, &mut lock)?;
            lock.flush()
                .map_err(|e| Error::Export(format!("cannot write to standard output: {e}")))?;
            Ok(Vec::new())
        }
        Some(_) => {
            write_atomically(out_path, |w| write_rdf(store, format, w))?;
            Ok(vec![out_path.to_path_buf()])
        }
    }
}

/// Writes `nodes.csv` and `edges.csv` into the directory `dir`.
pub fn write_csv_dir(store: &GraphStore, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let nodes = store.entities()?;
    let labels = nodes
        .iter()
        .map(|n| (n.iri.clone(), n.label.clone()))
        .collect();
    let edges = store.edges_with_labels(&labels)?;
    let nodes_path = dir.join("nodes.csv");
    let edges_path = dir.join("edges.csv");
    write_atomically(&nodes_path, |w| write_nodes_csv(&nodes, w))?;
    write_atomically(&edges_path, |w| write_edges_csv(&edges, w))?;
    Ok(vec![nodes_path, edges_path])
}

fn csv_err(e: csv::Error) -> Error {
    Error::Export(format!("cannot write CSV: {e}"))
}

/// Writes node rows as CSV: `id,label,type,aliases,documents`.
pub fn write_nodes_csv(nodes: &[NodeRow], out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["id", "label", "type", "aliases", "documents"])
        .map_err(csv_err)?;
    for n in nodes {
        w.write_record([
            n.iri.as_str(),
            n.label.as_str(),
            n.kind.as_str(),
            &n.aliases.join("|"),
            &n.documents.join("|"),
        ])
        .map_err(csv_err)?;
    }
    w.flush()
        .map_err(|e| Error::Export(format!("cannot write CSV: {e}")))
}

/// Writes edge rows as CSV:
/// `source,target,relation,source_label,target_label,documents,weight,first_seen,last_seen`.
pub fn write_edges_csv(edges: &[EdgeRow], out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "source",
        "target",
        "relation",
        "source_label",
        "target_label",
        "documents",
        "weight",
        "first_seen",
        "last_seen",
    ])
    .map_err(csv_err)?;
    for e in edges {
        w.write_record([
            e.source.as_str(),
            e.target.as_str(),
            e.relation.as_str(),
            e.source_label.as_str(),
            e.target_label.as_str(),
            &e.documents.join("|"),
            &e.weight.to_string(),
            e.first_seen.as_deref().unwrap_or(""),
            e.last_seen.as_deref().unwrap_or(""),
        ])
        .map_err(csv_err)?;
    }
    w.flush()
        .map_err(|e| Error::Export(format!("cannot write CSV: {e}")))
}

/// Serialises the store in an RDF `format` (not CSV): Turtle and N-Triples
/// get the union of all graphs as distinct triples, N-Quads and TriG every
/// quad with its graph. Turtle and TriG use the project's prefixes.
pub fn write_rdf(store: &GraphStore, format: ExportFormat, out: &mut dyn Write) -> Result<()> {
    let Some(rdf_format) = format.rdf_format() else {
        return Err(Error::Export(
            "CSV is written to a directory, not a stream".into(),
        ));
    };
    let mut serializer = RdfSerializer::from_format(rdf_format);
    if matches!(rdf_format, RdfFormat::Turtle | RdfFormat::TriG) {
        for (prefix, iri) in PREFIXES {
            serializer = serializer
                .with_prefix(prefix, iri)
                .map_err(|e| Error::Export(format!("prefix {prefix}: {e}")))?;
        }
    }
    let write_err = |e: std::io::Error| Error::Export(format!("cannot write {format}: {e}"));
    if rdf_format.supports_datasets() {
        store
            .inner()
            .dump_to_writer(serializer, out)
            .map_err(|e| Error::Export(format!("cannot write {format}: {e}")))?;
        return Ok(());
    }
    let query = "CONSTRUCT { ?s ?p ?o } WHERE {
        { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?s ?p ?o }
    }";
    let results = SparqlEvaluator::new()
        .parse_query(query)
        .map_err(|e| Error::Export(format!("internal query: {e}")))?
        .on_store(store.inner())
        .execute()
        .map_err(|e| store.store_error(e))?;
    let QueryResults::Graph(triples) = results else {
        return Err(Error::Export("internal query is not a CONSTRUCT".into()));
    };
    let mut writer = serializer.for_writer(out);
    for triple in triples {
        writer
            .serialize_triple(&triple.map_err(|e| store.store_error(e))?)
            .map_err(write_err)?;
    }
    writer.finish().map_err(write_err)?;
    Ok(())
}

/// Writes `path` through a temporary file in the same directory that is
/// renamed into place once complete, so readers never see half a file.
fn write_atomically(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let mut tmp_name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "export".into());
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        let file = w
            .into_inner()
            .map_err(|e| Error::io(&tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
