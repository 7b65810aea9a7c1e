//! Exports of the store, for people who look at the graph (Gephi,
//! Graphviz) and for people who analyse it (pandas, networkx, igraph, D3),
//! and RDF dumps.
//!
//! The graph formats — CSV, GraphML, GEXF, DOT (and SVG/PNG rendered from
//! it by Graphviz), node-link JSON — all write the same [`Graph`]: the
//! store's entities and merged relations, narrowed by a [`Selection`], with
//! the measures of [`crate::graph`] as node attributes. Node ids are entity
//! IRIs in every format, so the files join with each other and with SPARQL
//! results.
//!
//! - **CSV** (`nodes.csv`, `edges.csv`): SCHEMA.md's contract columns first,
//!   then the measures and the columns Gephi's spreadsheet import recognises
//!   (`Id`, `Label`; `Source`, `Target`, `Type` = `Directed`/`Undirected`,
//!   `Kind` = relation, `Label`, `Weight`).
//! - **GraphML**: typed `<key>`s (`int`, `double`, `boolean`, `string`),
//!   `for="node"` / `for="edge"`, colours as `r`/`g`/`b`, `size`.
//! - **GEXF 1.3**: typed attributes, `viz:color`, `viz:size` (by PageRank),
//!   node and edge `start` dates from the documents (Gephi's timeline).
//! - **DOT**: quoted and escaped labels, a Hangul font, shape and colour by
//!   type, edge labels and colours by relation; **SVG**/**PNG** through
//!   Graphviz's `dot`.
//! - **JSON**: node-link (`nodes`, `links`) as `networkx.node_link_graph(data,
//!   edges="links")` and D3's force layout read it.
//!
//! A symmetric relation (`signedMouWith`) is one edge per pair, written once
//! from the smaller IRI, and marked: `undirected` = true (GraphML, GEXF,
//! JSON), `Type` = `Undirected` (CSV), `dir=none` (DOT). Graph readers such
//! as networkx refuse mixed graphs, so the graph itself stays directed.

use std::fmt::{self, Write as _};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;

use oxigraph::io::{RdfFormat, RdfSerializer};
use oxigraph::sparql::{QueryResults, SparqlEvaluator};
use serde::Serialize;

use crate::graph::{Graph, GraphEdge, GraphNode, Selection};
use crate::store::{GraphStore, PREFIXES};
use crate::{Error, Result};

mod write_behind;
mod xml;

pub use write_behind::WriteBehind;

use xml::{XmlBuffer, XmlWriter, ELEMENTS_PER_BLOCK};

/// The font named in DOT output: it has Hangul glyphs (Debian/Ubuntu
/// package `fonts-noto-cjk`).
pub const DOT_FONT: &str = "Noto Sans CJK KR";

/// What Graphviz's absence is reported as.
pub const GRAPHVIZ_MISSING: &str = "svg and png are rendered by Graphviz, but its `dot` program \
     was not found on PATH: install graphviz (Debian/Ubuntu: `apt-get install graphviz`, \
     plus `fonts-noto-cjk` for Hangul; macOS: `brew install graphviz`), or export \
     --format dot and render it elsewhere";

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
    /// GraphML with typed keys (Gephi, networkx, igraph, yEd, Cytoscape).
    GraphMl,
    /// GEXF 1.3 with typed attributes, colours, sizes and dates (Gephi).
    Gexf,
    /// Graphviz DOT.
    Dot,
    /// SVG rendered by Graphviz's `dot` from the DOT export.
    Svg,
    /// PNG rendered by Graphviz's `dot` from the DOT export.
    Png,
    /// Node-link JSON (networkx, D3).
    Json,
}

impl ExportFormat {
    /// Every format.
    pub const ALL: [ExportFormat; 11] = [
        ExportFormat::Csv,
        ExportFormat::Turtle,
        ExportFormat::NTriples,
        ExportFormat::NQuads,
        ExportFormat::TriG,
        ExportFormat::GraphMl,
        ExportFormat::Gexf,
        ExportFormat::Dot,
        ExportFormat::Svg,
        ExportFormat::Png,
        ExportFormat::Json,
    ];

    /// The formats that write the selected [`Graph`] (all but RDF).
    pub const GRAPH: [ExportFormat; 7] = [
        ExportFormat::Csv,
        ExportFormat::GraphMl,
        ExportFormat::Gexf,
        ExportFormat::Dot,
        ExportFormat::Svg,
        ExportFormat::Png,
        ExportFormat::Json,
    ];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Turtle => "turtle",
            ExportFormat::NTriples => "ntriples",
            ExportFormat::NQuads => "nquads",
            ExportFormat::TriG => "trig",
            ExportFormat::GraphMl => "graphml",
            ExportFormat::Gexf => "gexf",
            ExportFormat::Dot => "dot",
            ExportFormat::Svg => "svg",
            ExportFormat::Png => "png",
            ExportFormat::Json => "json",
        }
    }

    /// The usual file extension (`None` for CSV, which is a directory).
    pub fn extension(self) -> Option<&'static str> {
        match self {
            ExportFormat::Csv => None,
            ExportFormat::Turtle => Some("ttl"),
            ExportFormat::NTriples => Some("nt"),
            ExportFormat::NQuads => Some("nq"),
            ExportFormat::TriG => Some("trig"),
            ExportFormat::GraphMl => Some("graphml"),
            ExportFormat::Gexf => Some("gexf"),
            ExportFormat::Dot => Some("dot"),
            ExportFormat::Svg => Some("svg"),
            ExportFormat::Png => Some("png"),
            ExportFormat::Json => Some("json"),
        }
    }

    /// The Oxigraph RDF format (`None` for the graph formats).
    pub fn rdf_format(self) -> Option<RdfFormat> {
        match self {
            ExportFormat::Turtle => Some(RdfFormat::Turtle),
            ExportFormat::NTriples => Some(RdfFormat::NTriples),
            ExportFormat::NQuads => Some(RdfFormat::NQuads),
            ExportFormat::TriG => Some(RdfFormat::TriG),
            _ => None,
        }
    }

    /// Whether the format writes the selected graph (not an RDF dump), so
    /// that a [`Selection`] applies.
    pub fn is_graph(self) -> bool {
        self.rdf_format().is_none()
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
            "gv" | "graphviz" => "dot",
            "node-link" | "nodelink" => "json",
            other => other,
        };
        ExportFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown export format `{s}` (expected {})",
                    ExportFormat::ALL.map(|f| f.as_str()).join(", ")
                )
            })
    }
}

/// Writes the whole store in `format` to `out_path`: for CSV a directory
/// (created if missing) that receives `nodes.csv` and `edges.csv`;
/// otherwise a single file, or standard output when `out_path` is `-`.
/// Returns the files written.
pub fn export(store: &GraphStore, format: ExportFormat, out_path: &Path) -> Result<Vec<PathBuf>> {
    export_selected(store, format, out_path, &Selection::default())
}

/// [`export`] of the part of the graph that `selection` keeps (graph
/// formats only: a selection other than everything is an error for RDF).
pub fn export_selected(
    store: &GraphStore,
    format: ExportFormat,
    out_path: &Path,
    selection: &Selection,
) -> Result<Vec<PathBuf>> {
    if !format.is_graph() {
        if !selection.is_everything() {
            return Err(Error::Export(format!(
                "--relations, --types, --min-weight, --documents and --around select part of \
                 the graph for {}; {format} is a dump of every RDF statement",
                ExportFormat::GRAPH.map(|f| f.as_str()).join(", ")
            )));
        }
        return write_to_path(out_path, |w| write_rdf(store, format, w));
    }
    let graph = Graph::from_store(store, selection)?;
    write_graph_to_path(&graph, format, out_path)
}

/// Writes `graph` in a graph `format` to `out_path` (a directory for CSV;
/// a file or `-` for standard output otherwise). Returns the files written.
pub fn write_graph_to_path(
    graph: &Graph,
    format: ExportFormat,
    out_path: &Path,
) -> Result<Vec<PathBuf>> {
    if format == ExportFormat::Csv {
        if out_path == Path::new("-") {
            return Err(Error::Export(
                "csv export writes two files (nodes.csv, edges.csv): give a directory".into(),
            ));
        }
        return write_graph_csv_dir(graph, out_path);
    }
    write_to_path(out_path, |w| write_graph(graph, format, w))
}

/// Runs `write` on standard output (`-`) or atomically on the file.
fn write_to_path(
    out_path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<Vec<PathBuf>> {
    if out_path == Path::new("-") {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        write(&mut lock)?;
        lock.flush()
            .map_err(|e| Error::Export(format!("cannot write to standard output: {e}")))?;
        Ok(Vec::new())
    } else {
        write_atomically(out_path, write)?;
        Ok(vec![out_path.to_path_buf()])
    }
}

/// Writes `graph` in a single-stream graph format (GraphML, GEXF, DOT, SVG,
/// PNG, JSON) to `out`.
pub fn write_graph(graph: &Graph, format: ExportFormat, out: &mut dyn Write) -> Result<()> {
    match format {
        ExportFormat::GraphMl => write_graphml(graph, out),
        ExportFormat::Gexf => write_gexf(graph, out),
        ExportFormat::Dot => write_dot(graph, out),
        ExportFormat::Svg | ExportFormat::Png => render(graph, format, out),
        ExportFormat::Json => write_json(graph, out),
        ExportFormat::Csv => Err(Error::Export(
            "CSV is written to a directory, not a stream".into(),
        )),
        rdf => Err(Error::Export(format!(
            "{rdf} is an RDF dump of the store, not a graph format"
        ))),
    }
}

/// Writes `nodes.csv` and `edges.csv` of the whole store into the
/// directory `dir`.
pub fn write_csv_dir(store: &GraphStore, dir: &Path) -> Result<Vec<PathBuf>> {
    let graph = Graph::from_store(store, &Selection::default())?;
    write_graph_csv_dir(&graph, dir)
}

/// Writes `nodes.csv` and `edges.csv` of `graph` into the directory `dir`.
pub fn write_graph_csv_dir(graph: &Graph, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let nodes_path = dir.join("nodes.csv");
    let edges_path = dir.join("edges.csv");
    write_atomically(&nodes_path, |w| write_nodes_csv(graph, w))?;
    write_atomically(&edges_path, |w| write_edges_csv(graph, w))?;
    Ok(vec![nodes_path, edges_path])
}

fn csv_err(e: csv::Error) -> Error {
    Error::Export(format!("cannot write CSV: {e}"))
}

/// The columns of `nodes.csv`: SCHEMA.md's five, then dates and measures,
/// then Gephi's `Id` and `Label`.
pub const NODE_CSV_COLUMNS: [&str; 16] = [
    "id",
    "label",
    "type",
    "aliases",
    "documents",
    "document_count",
    "first_seen",
    "last_seen",
    "degree",
    "weighted_degree",
    "pagerank",
    "component",
    "community",
    "color",
    "Id",
    "Label",
];

/// The columns of `edges.csv`: SCHEMA.md's six, then weight and dates,
/// then Gephi's `Source`, `Target`, `Type`, `Kind`, `Label`, `Weight`.
pub const EDGE_CSV_COLUMNS: [&str; 15] = [
    "source",
    "target",
    "relation",
    "source_label",
    "target_label",
    "documents",
    "weight",
    "first_seen",
    "last_seen",
    "Source",
    "Target",
    "Type",
    "Kind",
    "Label",
    "Weight",
];

/// Writes the nodes of `graph` as CSV ([`NODE_CSV_COLUMNS`]).
pub fn write_nodes_csv(graph: &Graph, out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(NODE_CSV_COLUMNS).map_err(csv_err)?;
    for n in &graph.nodes {
        let m = &n.measures;
        w.write_record([
            n.row.iri.as_str(),
            n.row.label.as_str(),
            n.row.kind.as_str(),
            &n.row.aliases.join("|"),
            &n.row.documents.join("|"),
            &n.row.documents.len().to_string(),
            n.first_seen.as_deref().unwrap_or(""),
            n.last_seen.as_deref().unwrap_or(""),
            &m.degree.to_string(),
            &m.weighted_degree.to_string(),
            &number(m.pagerank),
            &m.component.to_string(),
            &m.community.to_string(),
            &hex(type_colour(&n.row.kind)),
            n.row.iri.as_str(),
            n.row.label.as_str(),
        ])
        .map_err(csv_err)?;
    }
    w.flush()
        .map_err(|e| Error::Export(format!("cannot write CSV: {e}")))
}

/// Writes the edges of `graph` as CSV ([`EDGE_CSV_COLUMNS`]).
pub fn write_edges_csv(graph: &Graph, out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(EDGE_CSV_COLUMNS).map_err(csv_err)?;
    for e in &graph.edges {
        let r = &e.row;
        let weight = r.weight.to_string();
        w.write_record([
            r.source.as_str(),
            r.target.as_str(),
            r.relation.as_str(),
            r.source_label.as_str(),
            r.target_label.as_str(),
            &r.documents.join("|"),
            &weight,
            r.first_seen.as_deref().unwrap_or(""),
            r.last_seen.as_deref().unwrap_or(""),
            r.source.as_str(),
            r.target.as_str(),
            if e.undirected {
                "Undirected"
            } else {
                "Directed"
            },
            r.relation.as_str(),
            e.label.as_str(),
            &weight,
        ])
        .map_err(csv_err)?;
    }
    w.flush()
        .map_err(|e| Error::Export(format!("cannot write CSV: {e}")))
}

// ---------------------------------------------------------------------------
// Presentation: colours and sizes.

/// The colour of an entity type, as `(r, g, b)`.
pub fn type_colour(kind: &str) -> (u8, u8, u8) {
    match kind {
        "Organization" => (76, 120, 168), // blue
        "Person" => (245, 133, 24),       // orange
        "Sector" => (84, 162, 75),        // green
        "Place" => (178, 121, 162),       // purple
        _ => (157, 157, 157),             // grey
    }
}

/// The lighter fill colour of an entity type in DOT drawings.
fn type_fill(kind: &str) -> &'static str {
    match kind {
        "Organization" => "#dbe6f2",
        "Person" => "#fde3c8",
        "Sector" => "#d8ecd4",
        "Place" => "#eddbe7",
        _ => "#eeeeee",
    }
}

/// The DOT node shape of an entity type.
fn type_shape(kind: &str) -> &'static str {
    match kind {
        "Organization" => "box",
        "Person" => "ellipse",
        "Sector" => "hexagon",
        "Place" => "house",
        _ => "ellipse",
    }
}

/// The colour of a relation's edges in drawings.
pub fn relation_colour(relation: &str) -> &'static str {
    match relation {
        "signedMouWith" => "#d62728",
        "chairs" => "#17becf",
        "targetsSector" => "#2ca02c",
        "headOf" => "#1f77b4",
        "affiliatedWith" => "#8c564b",
        "memberOf" => "#9467bd",
        "partOf" => "#7f7f7f",
        _ => "#555555",
    }
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The nodes' drawing sizes, in node order: 10 to 50 by PageRank relative
/// to the largest.
pub fn node_sizes(graph: &Graph) -> Vec<f64> {
    let max = graph
        .nodes
        .iter()
        .map(|n| n.measures.pagerank)
        .filter(|r| r.is_finite())
        .fold(0.0, f64::max);
    graph
        .nodes
        .iter()
        .map(|n| {
            if max > 0.0 && n.measures.pagerank.is_finite() {
                let v = 10.0 + 40.0 * n.measures.pagerank / max;
                (v * 100.0).round() / 100.0
            } else {
                10.0
            }
        })
        .collect()
}

/// A number as every consumer reads it: finite, no exponent, shortest form.
fn number(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "0".into()
    }
}

// ---------------------------------------------------------------------------
// XML (GraphML, GEXF).

/// A typed attribute of nodes or edges, as GraphML keys and GEXF attributes
/// declare them.
struct Field {
    /// GraphML key id (unique in the file) and GEXF attribute id.
    id: &'static str,
    /// The attribute name (`attr.name`, GEXF `title`).
    name: &'static str,
    /// `string`, `int`, `double` or `boolean` (GraphML names).
    ty: &'static str,
}

const fn field(id: &'static str, name: &'static str, ty: &'static str) -> Field {
    Field { id, name, ty }
}

/// Node attributes of GraphML (`label`, `size`, `r`, `g`, `b` are the keys
/// Gephi maps).
const GRAPHML_NODE_FIELDS: [Field; 17] = [
    field("label", "label", "string"),
    field("type", "type", "string"),
    field("aliases", "aliases", "string"),
    field("documents", "documents", "int"),
    field("document_ids", "document_ids", "string"),
    field("first_seen", "first_seen", "string"),
    field("last_seen", "last_seen", "string"),
    field("degree", "degree", "int"),
    field("weighted_degree", "weighted_degree", "double"),
    field("pagerank", "pagerank", "double"),
    field("component", "component", "int"),
    field("community", "community", "int"),
    field("size", "size", "double"),
    field("r", "r", "int"),
    field("g", "g", "int"),
    field("b", "b", "int"),
    field("color", "color", "string"),
];

/// Edge attributes of GraphML (`label` and `weight` are the keys Gephi
/// maps).
const GRAPHML_EDGE_FIELDS: [Field; 8] = [
    field("relation", "relation", "string"),
    field("edge_label", "label", "string"),
    field("weight", "weight", "double"),
    field("edge_document_ids", "document_ids", "string"),
    field("edge_first_seen", "first_seen", "string"),
    field("edge_last_seen", "last_seen", "string"),
    field("undirected", "undirected", "boolean"),
    field("evidence", "evidence", "string"),
];

/// One attribute value of a node or an edge, borrowed from the graph and
/// written straight into the XML.
enum Value<'a> {
    /// Not known: left out.
    Missing,
    Text(&'a str),
    /// Items joined by `|`.
    List(&'a [String]),
    Count(usize),
    /// A number in [`number`]'s form.
    Number(f64),
    Flag(bool),
    /// `#rrggbb`.
    Colour((u8, u8, u8)),
    /// Evidence sentences, one line each: `document: sentence` (line breaks
    /// inside a sentence become spaces).
    Evidence(&'a [(String, String)]),
}

impl Value<'_> {
    /// Whether the value is an empty string.
    fn is_empty(&self) -> bool {
        match self {
            Value::Text(s) => s.is_empty(),
            Value::List(items) => match items {
                [] => true,
                [only] => only.is_empty(),
                _ => false,
            },
            Value::Evidence(items) => items.is_empty(),
            _ => false,
        }
    }

    /// Appends the value, escaped as element content or attribute value.
    fn write(&self, w: &mut XmlBuffer, attribute: bool) {
        match self {
            Value::Missing => {}
            Value::Text(s) => {
                w.escaped(s, attribute);
            }
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        w.raw("|");
                    }
                    w.escaped(item, attribute);
                }
            }
            Value::Count(n) => {
                w.display(n);
            }
            Value::Number(v) => {
                if v.is_finite() {
                    w.display(v);
                } else {
                    w.raw("0");
                }
            }
            Value::Flag(b) => {
                w.display(b);
            }
            Value::Colour((r, g, b)) => {
                w.display(format_args!("#{r:02x}{g:02x}{b:02x}"));
            }
            Value::Evidence(items) => {
                for (i, (document, sentence)) in items.iter().enumerate() {
                    if i > 0 {
                        w.escaped("\n", attribute);
                    }
                    w.escaped(document, attribute).raw(": ");
                    for (k, line) in sentence.split(['\n', '\r']).enumerate() {
                        if k > 0 {
                            w.raw(" ");
                        }
                        w.escaped(line, attribute);
                    }
                }
            }
        }
    }
}

/// How many edges ahead of the one being written [`prefetch_edge`] asks
/// for the strings (and twice as far for the lists that point to them).
const PREFETCH_AHEAD: usize = 8;

/// Starts loading what writing edge `k + PREFETCH_AHEAD` will read: its
/// evidence sentences and document ids; and the lists of edge `k + 2 ×
/// PREFETCH_AHEAD`, whose items the next call will follow.
fn prefetch_edge(edges: &[GraphEdge], k: usize) {
    if let Some(e) = edges.get(k + 2 * PREFETCH_AHEAD) {
        xml::prefetch(&e.row.evidence, 256);
        xml::prefetch(&e.row.documents, 256);
    }
    if let Some(e) = edges.get(k + PREFETCH_AHEAD) {
        for (document, sentence) in &e.row.evidence {
            xml::prefetch(document.as_bytes(), 64);
            xml::prefetch(sentence.as_bytes(), 256);
        }
        for document in &e.row.documents {
            xml::prefetch(document.as_bytes(), 64);
        }
    }
}

/// A value that may be unknown.
fn optional(s: &Option<String>) -> Value<'_> {
    s.as_deref().map_or(Value::Missing, Value::Text)
}

/// The values of a node's attributes, in [`GRAPHML_NODE_FIELDS`] order.
fn node_values(n: &GraphNode, size: f64) -> [Value<'_>; 17] {
    let m = &n.measures;
    let (r, g, b) = type_colour(&n.row.kind);
    [
        Value::Text(&n.row.label),
        Value::Text(&n.row.kind),
        Value::List(&n.row.aliases),
        Value::Count(n.row.documents.len()),
        Value::List(&n.row.documents),
        optional(&n.first_seen),
        optional(&n.last_seen),
        Value::Count(m.degree),
        Value::Count(m.weighted_degree),
        Value::Number(m.pagerank),
        Value::Count(m.component),
        Value::Count(m.community),
        Value::Number(size),
        Value::Count(r.into()),
        Value::Count(g.into()),
        Value::Count(b.into()),
        Value::Colour((r, g, b)),
    ]
}

/// The values of an edge's attributes, in [`GRAPHML_EDGE_FIELDS`] order.
fn edge_values(e: &GraphEdge) -> [Value<'_>; 8] {
    [
        Value::Text(&e.row.relation),
        Value::Text(&e.label),
        Value::Count(e.row.weight),
        Value::List(&e.row.documents),
        optional(&e.row.first_seen),
        optional(&e.row.last_seen),
        Value::Flag(e.undirected),
        Value::Evidence(&e.row.evidence),
    ]
}

fn io_err(format: &str) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Export(format!("cannot write {format}: {e}"))
}

/// Writes `graph` as GraphML: directed, typed keys declared `for="node"`
/// or `for="edge"` with unique names per domain, node ids = IRIs. Edges
/// have no ids (igraph would read them into a wrong `id` attribute).
pub fn write_graphml(graph: &Graph, out: &mut dyn Write) -> Result<()> {
    let mut w = XmlWriter::new(out);
    w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n").raw(
        "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns \
         http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n",
    );
    for (domain, fields) in [
        ("node", &GRAPHML_NODE_FIELDS[..]),
        ("edge", &GRAPHML_EDGE_FIELDS[..]),
    ] {
        for f in fields {
            w.raw("  <key id=\"")
                .raw(f.id)
                .raw("\" for=\"")
                .raw(domain)
                .raw("\" attr.name=\"")
                .raw(f.name)
                .raw("\" attr.type=\"")
                .raw(f.ty)
                .raw("\"/>\n");
        }
    }
    w.raw("  <graph id=\"newsgraph\" edgedefault=\"directed\">\n");
    let write_data = |w: &mut XmlBuffer, fields: &[Field], values: &[Value<'_>]| {
        for (f, v) in fields.iter().zip(values) {
            if !matches!(v, Value::Missing) && !v.is_empty() {
                w.raw("      <data key=\"").raw(f.id).raw("\">");
                v.write(w, false);
                w.raw("</data>\n");
            }
        }
    };
    for (n, size) in graph.nodes.iter().zip(node_sizes(graph)) {
        w.raw("    <node id=\"").attribute(&n.row.iri).raw("\">\n");
        write_data(&mut w, &GRAPHML_NODE_FIELDS, &node_values(n, size));
        w.raw("    </node>\n");
        w.flush_if_full().map_err(io_err("GraphML"))?;
    }
    // Edges are most of a large graph's bytes: formatted on all cores.
    w.elements_in_parallel(&graph.edges, ELEMENTS_PER_BLOCK, |w, k, e| {
        prefetch_edge(&graph.edges, k);
        w.raw("    <edge source=\"")
            .attribute(&e.row.source)
            .raw("\" target=\"")
            .attribute(&e.row.target)
            .raw("\">\n");
        write_data(w, &GRAPHML_EDGE_FIELDS, &edge_values(e));
        w.raw("    </edge>\n");
    })
    .map_err(io_err("GraphML"))?;
    w.raw("  </graph>\n</graphml>\n");
    w.finish().map_err(io_err("GraphML"))
}

/// The GEXF type of a GraphML type name.
fn gexf_type(ty: &str) -> &str {
    match ty {
        "int" => "integer",
        other => other,
    }
}

/// Writes `graph` as GEXF 1.3: typed attributes (no `date` or `anyURI`,
/// which Gephi refuses: dates and IRIs are strings), `viz:color` by type,
/// `viz:size` by PageRank, and a `start` date on every node and edge whose
/// documents are dated (the earliest), so that Gephi's timeline shows the
/// network growing. Label, weight and relation (as `kind`) are the
/// elements' own attributes.
pub fn write_gexf(graph: &Graph, out: &mut dyn Write) -> Result<()> {
    // label, size and r/g/b live in the element and viz:*, not attvalues.
    let node_fields: Vec<(&Field, usize)> = GRAPHML_NODE_FIELDS
        .iter()
        .enumerate()
        .filter(|(_, f)| !matches!(f.id, "label" | "size" | "r" | "g" | "b"))
        .map(|(i, f)| (f, i))
        .collect();
    let edge_fields: Vec<(&Field, usize)> = GRAPHML_EDGE_FIELDS
        .iter()
        .enumerate()
        .filter(|(_, f)| !matches!(f.name, "label" | "weight"))
        .map(|(i, f)| (f, i))
        .collect();
    let dated = graph.nodes.iter().any(|n| n.first_seen.is_some())
        || graph.edges.iter().any(|e| e.row.first_seen.is_some());

    let mut w = XmlWriter::new(out);
    w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n").raw(
        "<gexf xmlns=\"http://gexf.net/1.3\" xmlns:viz=\"http://gexf.net/1.3/viz\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd\" \
         version=\"1.3\">\n",
    );
    w.raw("  <meta>\n    <creator>newsgraph ")
        .raw(env!("CARGO_PKG_VERSION"))
        .raw("</creator>\n    <description>")
        .text("Knowledge graph of Korean news: entities, relations, measures")
        .raw("</description>\n  </meta>\n");
    if dated {
        w.raw(
            "  <graph defaultedgetype=\"directed\" mode=\"dynamic\" timeformat=\"date\" \
             timerepresentation=\"interval\">\n",
        );
    } else {
        w.raw("  <graph defaultedgetype=\"directed\" mode=\"static\">\n");
    }
    for (class, fields) in [("node", &node_fields), ("edge", &edge_fields)] {
        w.raw("    <attributes class=\"")
            .raw(class)
            .raw("\" mode=\"static\">\n");
        for (f, _) in fields.iter() {
            w.raw("      <attribute id=\"")
                .raw(f.name)
                .raw("\" title=\"")
                .raw(f.name)
                .raw("\" type=\"")
                .raw(gexf_type(f.ty))
                .raw("\"/>\n");
        }
        w.raw("    </attributes>\n");
    }
    let write_attvalues = |w: &mut XmlBuffer, fields: &[(&Field, usize)], values: &[Value]| {
        w.raw(">\n        <attvalues>\n");
        for (f, i) in fields {
            let value = &values[*i];
            if !matches!(value, Value::Missing) {
                w.raw("          <attvalue for=\"")
                    .raw(f.name)
                    .raw("\" value=\"");
                value.write(w, true);
                w.raw("\"/>\n");
            }
        }
        w.raw("        </attvalues>\n");
    };
    w.raw("    <nodes>\n");
    for (n, size) in graph.nodes.iter().zip(node_sizes(graph)) {
        w.raw("      <node id=\"")
            .attribute(&n.row.iri)
            .raw("\" label=\"")
            .attribute(&n.row.label)
            .raw("\"");
        if let Some(start) = n.first_seen.as_deref().filter(|_| dated) {
            w.raw(" start=\"").attribute(start).raw("\"");
        }
        write_attvalues(&mut w, &node_fields, &node_values(n, size));
        write_viz_color(&mut w, type_colour(&n.row.kind));
        w.raw("        <viz:size value=\"");
        Value::Number(size).write(&mut w, true);
        w.raw("\"/>\n      </node>\n");
        w.flush_if_full().map_err(io_err("GEXF"))?;
    }
    w.raw("    </nodes>\n    <edges>\n");
    w.elements_in_parallel(&graph.edges, ELEMENTS_PER_BLOCK, |w, k, e| {
        prefetch_edge(&graph.edges, k);
        w.raw("      <edge id=\"")
            .display(k)
            .raw("\" source=\"")
            .attribute(&e.row.source)
            .raw("\" target=\"")
            .attribute(&e.row.target)
            .raw("\" label=\"")
            .attribute(&e.label)
            .raw("\" kind=\"")
            .attribute(&e.row.relation)
            .raw("\" weight=\"")
            .display(e.row.weight)
            .raw("\"");
        if let Some(start) = e.row.first_seen.as_deref().filter(|_| dated) {
            w.raw(" start=\"").attribute(start).raw("\"");
        }
        write_attvalues(w, &edge_fields, &edge_values(e));
        write_viz_color(w, rgb(relation_colour(&e.row.relation)));
        w.raw("      </edge>\n");
    })
    .map_err(io_err("GEXF"))?;
    w.raw("    </edges>\n  </graph>\n</gexf>\n");
    w.finish().map_err(io_err("GEXF"))
}

/// A GEXF `viz:color` line.
fn write_viz_color(w: &mut XmlBuffer, (r, g, b): (u8, u8, u8)) {
    w.raw("        <viz:color r=\"")
        .display(r)
        .raw("\" g=\"")
        .display(g)
        .raw("\" b=\"")
        .display(b)
        .raw("\" a=\"1.0\"/>\n");
}

/// `#rrggbb` → `(r, g, b)` (grey when malformed).
fn rgb(hex: &str) -> (u8, u8, u8) {
    let h = hex.trim_start_matches('#');
    let part = |i: usize| {
        h.get(i..i + 2)
            .and_then(|p| u8::from_str_radix(p, 16).ok())
            .unwrap_or(128)
    };
    (part(0), part(2), part(4))
}

// ---------------------------------------------------------------------------
// DOT.

/// Quotes a string for DOT: `"` and `\` escaped, line breaks as `\n`,
/// other control characters as spaces.
pub fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Quotes a label for DOT: as [`dot_quote`], and `&` written `&amp;`
/// (Graphviz decodes HTML entities in labels, so a literal `&lt;` in a
/// name would otherwise be drawn as `<`).
pub fn dot_label(s: &str) -> String {
    dot_quote(&s.replace('&', "&amp;"))
}

/// Writes `graph` as a Graphviz digraph: a font with Hangul glyphs
/// ([`DOT_FONT`]), node shape and colour by type, edge label and colour by
/// relation (`dir=none` for a symmetric relation), pen width by weight,
/// and the measures as extra node attributes (which Graphviz ignores and
/// other DOT readers keep).
pub fn write_dot(graph: &Graph, out: &mut dyn Write) -> Result<()> {
    let font = dot_quote(DOT_FONT);
    let mut s = String::new();
    s.push_str("digraph \"newsgraph\" {\n");
    let _ = writeln!(
        s,
        "  graph [charset=\"UTF-8\", fontname={font}, rankdir=\"LR\", ranksep=\"1.0\", \
         nodesep=\"0.25\", bgcolor=\"white\", pad=\"0.3\"];"
    );
    let _ = writeln!(
        s,
        "  node [fontname={font}, fontsize=\"12\", style=\"filled\", penwidth=\"1.4\", \
         margin=\"0.12,0.06\"];"
    );
    let _ = writeln!(
        s,
        "  edge [fontname={font}, fontsize=\"10\", arrowsize=\"0.7\"];"
    );
    for n in &graph.nodes {
        let m = &n.measures;
        let kind = n.row.kind.as_str();
        let tooltip = if n.row.aliases.is_empty() {
            format!("{} ({kind})", n.row.label)
        } else {
            format!("{} ({kind}): {}", n.row.label, n.row.aliases.join(", "))
        };
        let _ = writeln!(
            s,
            "  {} [label={}, shape=\"{}\", color=\"{}\", fillcolor=\"{}\", tooltip={}, \
             type={}, documents=\"{}\", degree=\"{}\", weighted_degree=\"{}\", \
             pagerank=\"{}\", component=\"{}\", community=\"{}\"];",
            dot_quote(&n.row.iri),
            dot_label(&n.row.label),
            type_shape(kind),
            hex(type_colour(kind)),
            type_fill(kind),
            dot_label(&tooltip),
            dot_quote(kind),
            n.row.documents.len(),
            m.degree,
            m.weighted_degree,
            number(m.pagerank),
            m.component,
            m.community,
        );
    }
    for e in &graph.edges {
        let colour = relation_colour(&e.row.relation);
        let width = 1.0 + (e.row.weight.saturating_sub(1) as f64).min(4.0) * 0.6;
        let _ = write!(
            s,
            "  {} -> {} [label={}, color=\"{colour}\", fontcolor=\"{colour}\", \
             penwidth=\"{}\", weight=\"{}\", relation={}",
            dot_quote(&e.row.source),
            dot_quote(&e.row.target),
            dot_label(&e.label),
            number(width),
            e.row.weight,
            dot_quote(&e.row.relation),
        );
        if e.undirected {
            s.push_str(", dir=\"none\"");
        }
        s.push_str("];\n");
    }
    s.push_str("}\n");
    out.write_all(s.as_bytes()).map_err(io_err("DOT"))
}

/// Renders `graph` as SVG or PNG through Graphviz's `dot` (which must be on
/// PATH: [`GRAPHVIZ_MISSING`] otherwise). Warnings that `dot` prints are
/// passed on to standard error.
pub fn render(graph: &Graph, format: ExportFormat, out: &mut dyn Write) -> Result<()> {
    let target = match format {
        ExportFormat::Svg => "svg",
        ExportFormat::Png => "png",
        other => {
            return Err(Error::Export(format!(
                "{other} is not rendered by Graphviz (svg or png)"
            )))
        }
    };
    let mut source = Vec::new();
    write_dot(graph, &mut source)?;
    let (image, warnings) = run_dot(&source, target)?;
    if !warnings.trim().is_empty() {
        eprint!("{warnings}");
    }
    out.write_all(&image).map_err(io_err(target))
}

/// Runs `dot -T{target}` on `source`; returns its output and standard error.
pub fn run_dot(source: &[u8], target: &str) -> Result<(Vec<u8>, String)> {
    let mut child = Command::new("dot")
        .arg(format!("-T{target}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::Export(GRAPHVIZ_MISSING.into())
            } else {
                Error::Export(format!("cannot run Graphviz's `dot`: {e}"))
            }
        })?;
    let stdin = child.stdin.take();
    let output = std::thread::scope(|scope| {
        let feeder = scope.spawn(move || match stdin {
            Some(mut stdin) => stdin.write_all(source),
            None => Ok(()),
        });
        let output = child.wait_with_output();
        let fed = feeder
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the writer thread panicked")));
        (output, fed)
    });
    let (output, fed) = output;
    let output = output.map_err(|e| Error::Export(format!("Graphviz's `dot` failed: {e}")))?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        return Err(Error::Export(format!(
            "Graphviz's `dot -T{target}` failed ({}): {}",
            output.status,
            stderr.trim()
        )));
    }
    fed.map_err(|e| Error::Export(format!("cannot send the graph to Graphviz's `dot`: {e}")))?;
    Ok((output.stdout, stderr))
}

// ---------------------------------------------------------------------------
// JSON.

#[derive(Serialize)]
struct NodeLink<'a> {
    directed: bool,
    multigraph: bool,
    graph: GraphInfo,
    nodes: Vec<JsonNode<'a>>,
    links: Vec<JsonLink<'a>>,
}

#[derive(Serialize)]
struct GraphInfo {
    name: &'static str,
    generator: String,
}

#[derive(Serialize)]
struct JsonNode<'a> {
    id: &'a str,
    label: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    aliases: &'a [String],
    documents: &'a [String],
    document_count: usize,
    first_seen: Option<&'a str>,
    last_seen: Option<&'a str>,
    degree: usize,
    weighted_degree: usize,
    pagerank: f64,
    component: usize,
    community: usize,
    color: String,
    size: f64,
}

#[derive(Serialize)]
struct JsonEvidence<'a> {
    document: &'a str,
    sentence: &'a str,
}

#[derive(Serialize)]
struct JsonLink<'a> {
    source: &'a str,
    target: &'a str,
    key: &'a str,
    relation: &'a str,
    label: &'a str,
    weight: usize,
    documents: &'a [String],
    first_seen: Option<&'a str>,
    last_seen: Option<&'a str>,
    undirected: bool,
    evidence: Vec<JsonEvidence<'a>>,
}

/// Writes `graph` as node-link JSON: `{"directed": true, "multigraph":
/// true, "graph": {…}, "nodes": [{"id": IRI, …}], "links": [{"source",
/// "target", "key" = relation, …}]}`. networkx reads it with
/// `node_link_graph(data, edges="links")`; D3's `forceLink().id(d => d.id)`
/// takes `links` as they are.
pub fn write_json(graph: &Graph, out: &mut dyn Write) -> Result<()> {
    let doc = NodeLink {
        directed: true,
        multigraph: true,
        graph: GraphInfo {
            name: "newsgraph",
            generator: format!("newsgraph {}", env!("CARGO_PKG_VERSION")),
        },
        nodes: graph
            .nodes
            .iter()
            .zip(node_sizes(graph))
            .map(|(n, size)| JsonNode {
                id: &n.row.iri,
                label: &n.row.label,
                kind: &n.row.kind,
                aliases: &n.row.aliases,
                documents: &n.row.documents,
                document_count: n.row.documents.len(),
                first_seen: n.first_seen.as_deref(),
                last_seen: n.last_seen.as_deref(),
                degree: n.measures.degree,
                weighted_degree: n.measures.weighted_degree,
                pagerank: if n.measures.pagerank.is_finite() {
                    n.measures.pagerank
                } else {
                    0.0
                },
                component: n.measures.component,
                community: n.measures.community,
                color: hex(type_colour(&n.row.kind)),
                size,
            })
            .collect(),
        links: graph
            .edges
            .iter()
            .map(|e| JsonLink {
                source: &e.row.source,
                target: &e.row.target,
                key: &e.row.relation,
                relation: &e.row.relation,
                label: &e.label,
                weight: e.row.weight,
                documents: &e.row.documents,
                first_seen: e.row.first_seen.as_deref(),
                last_seen: e.row.last_seen.as_deref(),
                undirected: e.undirected,
                evidence: e
                    .row
                    .evidence
                    .iter()
                    .map(|(d, t)| JsonEvidence {
                        document: d,
                        sentence: t,
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut w = BufWriter::new(out);
    serde_json::to_writer_pretty(&mut w, &doc)
        .map_err(|e| Error::Export(format!("cannot write JSON: {e}")))?;
    w.write_all(b"\n")
        .and_then(|_| w.flush())
        .map_err(io_err("JSON"))
}

// ---------------------------------------------------------------------------
// RDF.

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
        // The kernel's write of a large file runs beside the formatting.
        let mut w = WriteBehind::new(file).map_err(|e| Error::io(&tmp, e))?;
        write(&mut w)?;
        let file = w.into_inner().map_err(|e| Error::io(&tmp, e))?;
        file.sync_all().map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
