//! SPARQL queries over the store, with results written as a table or in
//! the standard result formats.

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use oxigraph::io::{RdfFormat, RdfSerializer};
use oxigraph::model::Term;
use oxigraph::sparql::results::{QueryResultsFormat, QueryResultsSerializer};
use oxigraph::sparql::{QueryResults, SparqlEvaluator};
use unicode_width::UnicodeWidthStr;

use crate::params::QueryParam;
use crate::store::{GraphStore, PREFIXES};
use crate::{Error, Result};

/// How query results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResultsFormat {
    /// Aligned columns for people (SELECT/ASK); Turtle for graphs.
    #[default]
    Table,
    /// SPARQL 1.1 CSV results.
    Csv,
    /// SPARQL 1.1 TSV results.
    Tsv,
    /// SPARQL 1.1 JSON results.
    Json,
    /// SPARQL XML results.
    Xml,
    /// N-Triples (CONSTRUCT / DESCRIBE only).
    NTriples,
    /// Turtle (CONSTRUCT / DESCRIBE only).
    Turtle,
}

impl ResultsFormat {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [ResultsFormat; 7] = [
        ResultsFormat::Table,
        ResultsFormat::Csv,
        ResultsFormat::Tsv,
        ResultsFormat::Json,
        ResultsFormat::Xml,
        ResultsFormat::NTriples,
        ResultsFormat::Turtle,
    ];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultsFormat::Table => "table",
            ResultsFormat::Csv => "csv",
            ResultsFormat::Tsv => "tsv",
            ResultsFormat::Json => "json",
            ResultsFormat::Xml => "xml",
            ResultsFormat::NTriples => "ntriples",
            ResultsFormat::Turtle => "turtle",
        }
    }

    fn solutions_format(self) -> Option<QueryResultsFormat> {
        match self {
            ResultsFormat::Csv => Some(QueryResultsFormat::Csv),
            ResultsFormat::Tsv => Some(QueryResultsFormat::Tsv),
            ResultsFormat::Json => Some(QueryResultsFormat::Json),
            ResultsFormat::Xml => Some(QueryResultsFormat::Xml),
            _ => None,
        }
    }
}

impl fmt::Display for ResultsFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResultsFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let s = s.to_ascii_lowercase();
        match s.as_str() {
            "nt" | "n-triples" => return Ok(ResultsFormat::NTriples),
            "ttl" => return Ok(ResultsFormat::Turtle),
            _ => {}
        }
        ResultsFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = ResultsFormat::ALL.iter().map(|f| f.as_str()).collect();
                format!(
                    "unknown results format `{s}` (expected {})",
                    names.join(", ")
                )
            })
    }
}

fn io_err(e: std::io::Error) -> Error {
    Error::Query(format!("cannot write the results: {e}"))
}

/// Parses `sparql` and runs it over the union of all named graphs (one per
/// document), writing the results to `out` in `format`.
///
/// SELECT and ASK results go out as a table or as SPARQL CSV/TSV/JSON/XML;
/// CONSTRUCT and DESCRIBE results as Turtle (also for `Table`) or N-Triples.
/// A query that does not parse gives [`Error::Query`] with the parser's
/// message (line and column included).
pub fn run_query(
    store: &GraphStore,
    sparql: &str,
    format: ResultsFormat,
    out: &mut dyn Write,
) -> Result<()> {
    run_query_with_params(store, sparql, &[], format, out)
}

/// Parses `sparql` with the prefixes of [`PREFIXES`] predeclared (a query's
/// own `PREFIX` declarations take precedence) and binds the parameters
/// (see [`crate::params`]). A query that does not parse gives
/// [`Error::Query`] with the parser's message, line and column.
pub fn parse_query(sparql: &str, params: &[QueryParam]) -> Result<spargebra::Query> {
    let mut parser = spargebra::SparqlParser::new();
    for (prefix, iri) in PREFIXES {
        parser = parser
            .with_prefix(prefix, iri)
            .map_err(|e| Error::Query(format!("prefix {prefix}: {e}")))?;
    }
    let query = parser
        .parse_query(sparql)
        .map_err(|e| Error::Query(describe_syntax_error(sparql, &e.to_string())))?;
    crate::params::bind_parameters(query, sparql, params)
}

/// [`run_query`] with `?name` bound to a term for every parameter (see
/// [`crate::params`]): `newsgraph query --param name=value`.
pub fn run_query_with_params(
    store: &GraphStore,
    sparql: &str,
    params: &[QueryParam],
    format: ResultsFormat,
    out: &mut dyn Write,
) -> Result<()> {
    let mut prepared = SparqlEvaluator::new().for_query(parse_query(sparql, params)?);
    if prepared.dataset().is_default_dataset() {
        prepared.dataset_mut().set_default_graph_as_union();
    }
    let results = prepared
        .on_store(store.inner())
        .execute()
        .map_err(|e| Error::Query(format!("evaluation failed: {e}")))?;
    let eval_err =
        |e: oxigraph::sparql::QueryEvaluationError| Error::Query(format!("evaluation failed: {e}"));
    match results {
        QueryResults::Boolean(value) => match format.solutions_format() {
            Some(f) => {
                QueryResultsSerializer::from_format(f)
                    .serialize_boolean_to_writer(&mut *out, value)
                    .map_err(io_err)?;
                if matches!(f, QueryResultsFormat::Csv | QueryResultsFormat::Tsv) {
                    writeln!(out).map_err(io_err)?;
                }
                Ok(())
            }
            None if format == ResultsFormat::Table => writeln!(out, "{value}").map_err(io_err),
            None => Err(Error::Query(format!(
                "an ASK query gives a boolean: use --results table, csv, tsv, json or xml, not {format}"
            ))),
        },
        QueryResults::Solutions(solutions) => {
            let variables = solutions.variables().to_vec();
            if format == ResultsFormat::Table {
                let mut rows = Vec::new();
                for solution in solutions {
                    let solution = solution.map_err(eval_err)?;
                    rows.push(
                        variables
                            .iter()
                            .map(|v| solution.get(v).map(display_term).unwrap_or_default())
                            .collect::<Vec<_>>(),
                    );
                }
                let header: Vec<String> = variables.iter().map(|v| v.as_str().to_string()).collect();
                write_table(out, &header, &rows).map_err(io_err)
            } else if let Some(f) = format.solutions_format() {
                let mut serializer = QueryResultsSerializer::from_format(f)
                    .serialize_solutions_to_writer(&mut *out, variables)
                    .map_err(io_err)?;
                for solution in solutions {
                    serializer
                        .serialize(&solution.map_err(eval_err)?)
                        .map_err(io_err)?;
                }
                serializer.finish().map_err(io_err)?;
                Ok(())
            } else {
                Err(Error::Query(format!(
                    "a SELECT query gives a table: use --results table, csv, tsv, json or xml, not {format}"
                )))
            }
        }
        QueryResults::Graph(triples) => {
            let rdf_format = match format {
                ResultsFormat::NTriples => RdfFormat::NTriples,
                ResultsFormat::Table | ResultsFormat::Turtle => RdfFormat::Turtle,
                other => {
                    return Err(Error::Query(format!(
                        "a CONSTRUCT or DESCRIBE query gives a graph: use --results turtle or ntriples, not {other}"
                    )))
                }
            };
            let mut serializer = RdfSerializer::from_format(rdf_format);
            if rdf_format == RdfFormat::Turtle {
                for (prefix, iri) in PREFIXES {
                    serializer = serializer
                        .with_prefix(prefix, iri)
                        .map_err(|e| Error::Query(format!("prefix {prefix}: {e}")))?;
                }
            }
            let mut writer = serializer.for_writer(&mut *out);
            for triple in triples {
                writer
                    .serialize_triple(&triple.map_err(eval_err)?)
                    .map_err(io_err)?;
            }
            writer.finish().map_err(io_err)?;
            Ok(())
        }
    }
}

/// Makes the parser's message readable: `syntax error at line L, column C`,
/// undeclared prefixes named as such, endless lists of expected characters
/// cut short, and the query line shown with a caret under the position.
pub(crate) fn describe_syntax_error(query: &str, message: &str) -> String {
    let Some(rest) = message.strip_prefix("error at ") else {
        return message.to_string();
    };
    let Some((pos, expected)) = rest.split_once(": ") else {
        return message.to_string();
    };
    let Some((line, column)) = pos
        .split_once(':')
        .and_then(|(l, c)| Some((l.parse::<usize>().ok()?, c.parse::<usize>().ok()?)))
    else {
        return message.to_string();
    };
    let text = query.lines().nth(line.saturating_sub(1)).unwrap_or("");
    let before: String = text.chars().take(column.saturating_sub(1)).collect();
    let what = if expected.contains("Prefix not found") {
        let token = before
            .rsplit(|c: char| c.is_whitespace() || "{}()[];,.".contains(c))
            .next()
            .unwrap_or("");
        match token.split_once(':') {
            Some((prefix, _)) => {
                format!("undeclared prefix `{prefix}:` (declare it with PREFIX {prefix}: <…>)")
            }
            None => "undeclared prefix".to_string(),
        }
    } else {
        let expected = expected.replace('\n', " ");
        if expected.chars().count() > 160 {
            let cut: String = expected.chars().take(160).collect();
            format!("{cut}…")
        } else {
            expected
        }
    };
    let mut out = format!("syntax error at line {line}, column {column}: {what}");
    if !text.trim().is_empty() && text.chars().count() <= 300 {
        out.push_str(&format!("\n  {text}\n  {}^", " ".repeat(before.width())));
    }
    out
}

/// A term as a person wants to read it in a table: IRIs shortened with the
/// known prefixes (`ng:Person`, `id:Person/강기정` — for reading only: in a
/// query, write entity IRIs in full), literals as their plain text.
pub fn display_term(term: &Term) -> String {
    match term {
        Term::NamedNode(n) => {
            let iri = n.as_str();
            for (prefix, ns) in PREFIXES {
                if let Some(local) = iri.strip_prefix(ns) {
                    if !local.is_empty()
                        && local.chars().all(|c| {
                            c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '%' | '/')
                        })
                        && !local.ends_with('.')
                    {
                        return format!("{prefix}:{local}");
                    }
                }
            }
            format!("<{iri}>")
        }
        Term::Literal(l) => l.value().to_string(),
        other => other.to_string(),
    }
}

/// Writes an aligned table (display width aware, so Hangul lines up) with a
/// header row, a rule, the rows and a `N rows` line.
pub fn write_table(
    out: &mut dyn Write,
    header: &[String],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let clean = |s: &str| s.replace(['\n', '\r', '\t'], " ");
    let header: Vec<String> = header.iter().map(|h| clean(h)).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| clean(c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.width());
            }
        }
    }
    let line = |out: &mut dyn Write, cells: &[String]| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(cell);
            if i + 1 < cells.len() {
                let pad = widths
                    .get(i)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(cell.width());
                text.push_str(&" ".repeat(pad));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(out, &header)?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat((*w).max(1))).collect();
    line(out, &rule)?;
    for row in &rows {
        line(out, row)?;
    }
    let n = rows.len();
    writeln!(out, "{n} row{}", if n == 1 { "" } else { "s" })
}
