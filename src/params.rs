//! Query parameters: `newsgraph query --param name=value` binds `?name`.
//!
//! The value never becomes query text. It is parsed into one RDF term and
//! joined to the query's `WHERE` pattern in the parsed algebra as a
//! one-row `VALUES ?name { term }`, so no value can change the query's
//! shape (no injection, whatever quotes or braces it holds).
//!
//! A value is read as
//! - `<http://…>`: an IRI (also a bare absolute `http://…`, `https://…` or
//!   `urn:…`);
//! - `id:Organization/광주광역시`, `ng:Person`, …: an IRI with one of the
//!   predeclared prefixes of [`PREFIXES`];
//! - `"…"`, `"…"@ko`, `"…"^^xsd:date`, `"…"^^<…>`: a literal in SPARQL /
//!   N-Triples syntax;
//! - anything else: a plain string, verbatim (`인공지능산업융합사업단`,
//!   `2024-01-31`). Queries compare it with `STR(…)` or cast it
//!   (`xsd:date(?from)`), which also keeps them usable without parameters.
//!
//! The binding is placed under the query's solution modifiers (`LIMIT`,
//! `ORDER BY`, projection, `GROUP BY`, `HAVING`, top-level `FILTER`s and
//! `BIND`s), where it is visible to the whole `WHERE` clause. A parameter
//! the query never mentions, or one the query computes itself (`BIND(… AS
//! ?name)`, `(COUNT(…) AS ?name)`), is an error.

use std::str::FromStr;

use oxigraph::model::{Literal, NamedNode, Variable};
use spargebra::algebra::GraphPattern;
use spargebra::term::GroundTerm;
use spargebra::Query;

use crate::store::PREFIXES;
use crate::{Error, Result};

/// One `name=value` query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParam {
    /// The variable, without `?`.
    pub name: String,
    /// The term it is bound to.
    pub value: GroundTerm,
}

impl QueryParam {
    /// Parses `name=value` (see the [module documentation](self) for how the
    /// value is read).
    pub fn parse(text: &str) -> Result<Self> {
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| bad(format!("`{text}`: expected NAME=VALUE")))?;
        let name = name.trim().trim_start_matches(['?', '$']);
        Variable::new(name).map_err(|e| bad(format!("`{name}` is not a variable name: {e}")))?;
        Ok(QueryParam {
            name: name.to_string(),
            value: parse_value(value)?,
        })
    }
}

impl FromStr for QueryParam {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        QueryParam::parse(s)
    }
}

fn bad(message: String) -> Error {
    Error::Query(format!("parameter {message}"))
}

fn expand_prefixed(text: &str) -> Option<String> {
    let (prefix, local) = text.split_once(':')?;
    PREFIXES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, ns)| format!("{ns}{local}"))
}

fn iri(text: &str) -> Result<NamedNode> {
    NamedNode::new(text).map_err(|e| bad(format!("`{text}` is not a valid IRI: {e}")))
}

/// Parses a parameter value into a term (see the [module documentation](self)).
pub fn parse_value(text: &str) -> Result<GroundTerm> {
    if let Some(inner) = text.strip_prefix('<') {
        let inner = inner
            .strip_suffix('>')
            .ok_or_else(|| bad(format!("`{text}`: an IRI in <…> lacks its closing >")))?;
        return Ok(GroundTerm::NamedNode(iri(inner)?));
    }
    if text.starts_with('"') {
        // `"…"^^prefix:local`: expand the datatype's prefix first.
        let normalised = match text.rsplit_once("\"^^") {
            Some((lexical, datatype)) if !datatype.starts_with('<') => {
                let expanded = expand_prefixed(datatype).ok_or_else(|| {
                    bad(format!("`{text}`: unknown datatype prefix in `{datatype}`"))
                })?;
                format!("{lexical}\"^^<{expanded}>")
            }
            _ => text.to_string(),
        };
        let literal = Literal::from_str(&normalised)
            .map_err(|e| bad(format!("`{text}` is not a valid literal: {e}")))?;
        return Ok(GroundTerm::Literal(literal));
    }
    if !text.chars().any(char::is_whitespace) {
        if let Some(expanded) = expand_prefixed(text) {
            return Ok(GroundTerm::NamedNode(iri(&expanded)?));
        }
        if ["http://", "https://", "urn:"]
            .iter()
            .any(|scheme| text.starts_with(scheme))
        {
            return Ok(GroundTerm::NamedNode(iri(text)?));
        }
    }
    Ok(GroundTerm::Literal(Literal::new_simple_literal(text)))
}

/// Whether `?name` or `$name` occurs in `sparql` as a whole variable name.
fn mentions_variable(sparql: &str, name: &str) -> bool {
    let is_name_char = |c: char| c.is_alphanumeric() || c == '_' || c == '\u{B7}';
    ["?", "$"].iter().any(|sigil| {
        let needle = format!("{sigil}{name}");
        sparql.match_indices(&needle).any(|(i, _)| {
            !sparql[i + needle.len()..]
                .chars()
                .next()
                .is_some_and(is_name_char)
        })
    })
}

/// Binds the parameters in a parsed query (see the [module
/// documentation](self)); `sparql` is the query text, used to check that
/// every parameter names a variable of the query.
pub fn bind_parameters(query: Query, sparql: &str, params: &[QueryParam]) -> Result<Query> {
    if params.is_empty() {
        return Ok(query);
    }
    for p in params {
        if !mentions_variable(sparql, &p.name) {
            return Err(bad(format!(
                "`{}`: the query has no variable ?{}",
                p.name, p.name
            )));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for p in params {
        if !seen.insert(&p.name) {
            return Err(bad(format!("`{}` is given twice", p.name)));
        }
    }
    let variables = params
        .iter()
        .map(|p| Variable::new_unchecked(p.name.clone()))
        .collect::<Vec<_>>();
    let values = GraphPattern::Values {
        variables: variables.clone(),
        bindings: vec![params.iter().map(|p| Some(p.value.clone())).collect()],
    };
    let inject = |pattern: GraphPattern| inject(pattern, &variables, values.clone(), false);
    Ok(match query {
        Query::Select {
            dataset,
            pattern,
            base_iri,
        } => Query::Select {
            dataset,
            pattern: inject(pattern)?,
            base_iri,
        },
        Query::Construct {
            template,
            dataset,
            pattern,
            base_iri,
        } => Query::Construct {
            template,
            dataset,
            pattern: inject(pattern)?,
            base_iri,
        },
        Query::Describe {
            dataset,
            pattern,
            base_iri,
        } => Query::Describe {
            dataset,
            pattern: inject(pattern)?,
            base_iri,
        },
        Query::Ask {
            dataset,
            pattern,
            base_iri,
        } => Query::Ask {
            dataset,
            pattern: inject(pattern)?,
            base_iri,
        },
    })
}

fn computed(variable: &Variable) -> Error {
    bad(format!(
        "`{}`: the query computes ?{} itself (BIND or AS), it cannot be given",
        variable.as_str(),
        variable.as_str()
    ))
}

/// Walks down the solution modifiers (and the top-level filters and binds
/// of the `WHERE` clause) and joins `values` to the pattern below them.
fn inject(
    pattern: GraphPattern,
    params: &[Variable],
    values: GraphPattern,
    below_projection: bool,
) -> Result<GraphPattern> {
    let down = |inner: Box<GraphPattern>, below: bool| -> Result<Box<GraphPattern>> {
        Ok(Box::new(inject(*inner, params, values.clone(), below)?))
    };
    Ok(match pattern {
        GraphPattern::Slice {
            inner,
            start,
            length,
        } => GraphPattern::Slice {
            inner: down(inner, below_projection)?,
            start,
            length,
        },
        GraphPattern::Distinct { inner } => GraphPattern::Distinct {
            inner: down(inner, below_projection)?,
        },
        GraphPattern::Reduced { inner } => GraphPattern::Reduced {
            inner: down(inner, below_projection)?,
        },
        GraphPattern::OrderBy { inner, expression } => GraphPattern::OrderBy {
            inner: down(inner, below_projection)?,
            expression,
        },
        // The query's own projection; a second one is a sub-query, which
        // the binding joins from outside.
        GraphPattern::Project { inner, variables } if !below_projection => GraphPattern::Project {
            inner: down(inner, true)?,
            variables,
        },
        GraphPattern::Filter { expr, inner } => GraphPattern::Filter {
            expr,
            inner: down(inner, below_projection)?,
        },
        GraphPattern::Extend {
            inner,
            variable,
            expression,
        } => {
            if params.contains(&variable) {
                return Err(computed(&variable));
            }
            GraphPattern::Extend {
                inner: down(inner, below_projection)?,
                variable,
                expression,
            }
        }
        GraphPattern::Group {
            inner,
            variables,
            aggregates,
        } => {
            if let Some((v, _)) = aggregates.iter().find(|(v, _)| params.contains(v)) {
                return Err(computed(v));
            }
            GraphPattern::Group {
                inner: down(inner, below_projection)?,
                variables,
                aggregates,
            }
        }
        other => GraphPattern::Join {
            left: Box::new(values),
            right: Box::new(other),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(text: &str) -> String {
        parse_value(text).map(|t| t.to_string()).unwrap_or_default()
    }

    #[test]
    fn values_are_read_as_terms() {
        assert_eq!(term("광주광역시"), "\"광주광역시\"");
        assert_eq!(term("2024-01-31"), "\"2024-01-31\"");
        assert_eq!(term("<http://ex.org/a>"), "<http://ex.org/a>");
        assert_eq!(term("https://ex.org/a"), "<https://ex.org/a>");
        assert_eq!(
            term("id:Organization/광주광역시"),
            "<https://w3id.org/newsgraph/id/Organization/광주광역시>"
        );
        assert_eq!(term("\"AI\"@ko"), "\"AI\"@ko");
        assert_eq!(
            term("\"2024-01-31\"^^xsd:date"),
            "\"2024-01-31\"^^<http://www.w3.org/2001/XMLSchema#date>"
        );
        // Quotes, braces and query text stay inside one literal.
        assert_eq!(
            term("x\" } DROP ALL; #"),
            "\"x\\\" } DROP ALL; #\"".to_string()
        );
    }

    #[test]
    fn malformed_values_are_rejected() {
        assert!(parse_value("<http://ex.org/a b>").is_err());
        assert!(parse_value("<http://ex.org/a").is_err());
        assert!(parse_value("\"unterminated").is_err());
        assert!(parse_value("\"x\"^^nope:date").is_err());
        assert!(QueryParam::parse("no-equals-sign").is_err());
        assert!(QueryParam::parse("bad name=x").is_err());
        assert_eq!(
            QueryParam::parse("?org=광주광역시").map(|p| p.name).ok(),
            Some("org".to_string())
        );
    }

    #[test]
    fn variables_are_found_whole() {
        assert!(mentions_variable("SELECT ?org WHERE {}", "org"));
        assert!(mentions_variable("SELECT $org WHERE {}", "org"));
        assert!(!mentions_variable("SELECT ?orgLabel WHERE {}", "org"));
    }

    fn bound(sparql: &str, params: &[&str]) -> Result<String> {
        let query = spargebra::SparqlParser::new()
            .parse_query(sparql)
            .map_err(|e| Error::Query(e.to_string()))?;
        let params = params
            .iter()
            .map(|p| QueryParam::parse(p))
            .collect::<Result<Vec<_>>>()?;
        Ok(bind_parameters(query, sparql, &params)?.to_string())
    }

    #[test]
    fn the_binding_goes_under_the_modifiers() {
        let q = bound(
            "SELECT ?b (COUNT(*) AS ?n) WHERE { ?a ?p ?b FILTER(?b != ?x) } GROUP BY ?b ORDER BY ?b LIMIT 3",
            &["x=1"],
        )
        .unwrap_or_default();
        assert!(q.contains("VALUES ( ?x ) { ( \"1\" )"), "{q}");
        // Under the grouping, so the filter and the grouping see it.
        assert!(q.find("VALUES") < q.find("GROUP BY"), "{q}");
        assert!(q.contains("LIMIT 3"), "{q}");
        assert!(bound("SELECT ?n WHERE { BIND(1 AS ?n) }", &["n=2"]).is_err());
        assert!(bound("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c }", &["n=2"]).is_err());
        assert!(bound("SELECT ?a WHERE { ?a ?b ?c }", &["zzz=2"]).is_err());
        assert!(bound("ASK { ?a ?b ?c }", &["a=<http://ex.org/a>"]).is_ok());
    }
}
