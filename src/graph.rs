//! The knowledge graph as an in-memory network for export and analysis:
//! the store's node and edge rows ([`NodeRow`], [`EdgeRow`]), narrowed by a
//! [`Selection`], with graph measures per node ([`Measures`]).
//!
//! The measures are computed on the selected graph:
//!
//! - **degree**: edges touching the node (in + out; a symmetric relation
//!   such as `signedMouWith` is one edge per pair, so it counts once at each
//!   end);
//! - **weighted degree**: the same, summing edge weights (an edge's weight is
//!   the number of documents that state it);
//! - **PageRank**: weighted PageRank with damping 0.85 on the directed graph,
//!   a symmetric edge counting in both directions, parallel edges summed,
//!   dangling nodes spreading their rank uniformly (the definition of
//!   `networkx.pagerank`); computed by power iteration to a tolerance far
//!   below what any consumer prints;
//! - **component**: weakly connected component, numbered by size (0 is the
//!   largest; ties by the smallest node IRI);
//! - **community**: Louvain modularity communities (resolution 1) on the
//!   undirected weighted graph, deterministic: nodes are visited in IRI
//!   order, a node moves only for a strictly better modularity gain and ties
//!   go to the lowest community number; communities are numbered by size
//!   like components. Isolated nodes are communities of their own.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use oxigraph::model::Term;
use oxigraph::sparql::{QueryResults, SparqlEvaluator};
use petgraph::unionfind::UnionFind;

use crate::model::{EntityType, Relation};
use crate::store::{label_edges, sparql_prefixes, EdgeRow, GraphStore, NodeRow};
use crate::{Error, Result};

/// PageRank damping factor.
pub const DAMPING: f64 = 0.85;

/// What part of the graph to export. The default selects everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    /// Keep only edges of these relations (empty: all). Nodes left without
    /// any edge are dropped.
    pub relations: Vec<Relation>,
    /// Keep only nodes of these types (empty: all), and the edges between
    /// them.
    pub types: Vec<EntityType>,
    /// Keep only edges stated by at least this many documents, and drop the
    /// nodes left without any edge (0: no filter, isolated nodes stay; 1:
    /// every edge, isolated nodes go).
    pub min_weight: usize,
    /// Keep only what these documents (ids) state: nodes they mention, edges
    /// they state, with documents and weights counted over them alone
    /// (empty: all documents).
    pub documents: Vec<String>,
    /// Keep only the neighbourhood of the entity with this name (its label
    /// or any alias), after the other filters.
    pub around: Option<String>,
    /// How many steps from [`around`](Self::around) to go, following edges
    /// in either direction.
    pub depth: usize,
    /// Keep only edges found by a rule of at least this confidence (0: all).
    pub min_confidence: f32,
}

impl Selection {
    /// Whether the selection keeps the whole graph.
    pub fn is_everything(&self) -> bool {
        self.relations.is_empty()
            && self.types.is_empty()
            && self.min_weight == 0
            && self.documents.is_empty()
            && self.around.is_none()
            && self.min_confidence <= 0.0
    }

    /// Whether edge filters are set (which drop the nodes they isolate).
    fn filters_edges(&self) -> bool {
        !self.relations.is_empty() || self.min_weight > 0 || self.min_confidence > 0.0
    }
}

/// The graph measures of one node (see the module documentation).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Measures {
    /// Number of edges touching the node.
    pub degree: usize,
    /// Sum of the weights of the edges touching the node.
    pub weighted_degree: usize,
    /// Weighted PageRank (the values of all nodes sum to 1).
    pub pagerank: f64,
    /// Weakly connected component number (0 = the largest).
    pub component: usize,
    /// Louvain community number (0 = the largest).
    pub community: usize,
}

/// A node of the selected graph.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphNode {
    /// The store's row: IRI, label, type, aliases, documents.
    pub row: NodeRow,
    /// Earliest date of the documents that mention it.
    pub first_seen: Option<String>,
    /// Latest date of the documents that mention it.
    pub last_seen: Option<String>,
    /// Its measures in the selected graph.
    pub measures: Measures,
}

/// An edge of the selected graph.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphEdge {
    /// The store's row: ends, relation, documents, weight, dates, evidence.
    pub row: EdgeRow,
    /// Index of the source node in [`Graph::nodes`].
    pub source: usize,
    /// Index of the target node in [`Graph::nodes`].
    pub target: usize,
    /// Whether the relation is symmetric (`signedMouWith`): the edge stands
    /// for both directions and is written once.
    pub undirected: bool,
    /// The relation's Korean label (`업무협약 체결`, …).
    pub label: String,
}

/// The selected graph with its measures: nodes sorted by IRI, edges by
/// source, relation and target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    /// The nodes.
    pub nodes: Vec<GraphNode>,
    /// The edges; their ends are indices into `nodes`.
    pub edges: Vec<GraphEdge>,
}

/// The documents of the store: id → date (`YYYY-MM-DD`), when known.
pub fn document_dates(store: &GraphStore) -> Result<BTreeMap<String, Option<String>>> {
    let query = format!(
        "{}SELECT ?id ?date WHERE {{ GRAPH ?g {{ ?g ng:documentId ?id OPTIONAL {{ ?g dcterms:date ?date }} }} }}",
        sparql_prefixes()
    );
    let results = SparqlEvaluator::new()
        .parse_query(&query)
        .map_err(|e| Error::Query(format!("internal query: {e}")))?
        .on_store(store.inner())
        .execute()
        .map_err(|e| store.store_error(e))?;
    let QueryResults::Solutions(solutions) = results else {
        return Err(Error::Query("internal query is not a SELECT".into()));
    };
    let mut dates = BTreeMap::new();
    for solution in solutions {
        let solution = solution.map_err(|e| store.store_error(e))?;
        let Some(Term::Literal(id)) = solution.get("id") else {
            continue;
        };
        let date = match solution.get("date") {
            Some(Term::Literal(d)) if !d.value().trim().is_empty() => Some(d.value().to_string()),
            _ => None,
        };
        let entry = dates.entry(id.value().to_string()).or_insert(None);
        if entry.is_none() {
            *entry = date;
        }
    }
    Ok(dates)
}

impl Graph {
    /// Reads the store's nodes and edges and applies `selection`.
    pub fn from_store(store: &GraphStore, selection: &Selection) -> Result<Graph> {
        // The edges are the longest read: they go on a thread of their own
        // while the nodes and dates are read, and get their labels after.
        let (nodes, dates, edges) = std::thread::scope(|scope| {
            let edges = scope.spawn(|| store.unlabelled_edges());
            let nodes = store.entities();
            let dates = document_dates(store);
            let edges = edges
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (nodes, dates, edges)
        });
        let (nodes, dates, mut edges) = (nodes?, dates?, edges?);
        label_edges(&mut edges, &nodes);
        Graph::from_rows(nodes, edges, &dates, selection)
    }

    /// Builds the graph from rows (as [`GraphStore::entities`] and
    /// [`GraphStore::edges`] give them) and the documents' dates, applying
    /// `selection` and computing the measures. Edges whose ends are not
    /// among the nodes are left out.
    pub fn from_rows(
        mut nodes: Vec<NodeRow>,
        mut edges: Vec<EdgeRow>,
        dates: &BTreeMap<String, Option<String>>,
        selection: &Selection,
    ) -> Result<Graph> {
        // Documents.
        if !selection.documents.is_empty() {
            let unknown: Vec<&str> = selection
                .documents
                .iter()
                .map(String::as_str)
                .filter(|d| !dates.contains_key(*d))
                .collect();
            if !unknown.is_empty() {
                let known: Vec<&str> = dates.keys().take(5).map(String::as_str).collect();
                return Err(Error::Export(format!(
                    "--documents: no document {} in the store (document ids are paths relative \
                     to the input given to `build`{})",
                    unknown
                        .iter()
                        .map(|d| format!("`{d}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if known.is_empty() {
                        String::new()
                    } else {
                        format!(", e.g. {}", known.join(", "))
                    }
                )));
            }
            let keep: BTreeSet<&str> = selection.documents.iter().map(String::as_str).collect();
            for n in &mut nodes {
                n.documents.retain(|d| keep.contains(d.as_str()));
            }
            nodes.retain(|n| !n.documents.is_empty());
            for e in &mut edges {
                e.documents.retain(|d| keep.contains(d.as_str()));
                e.evidence.retain(|(d, _)| keep.contains(d.as_str()));
                e.weight = e.documents.len();
            }
            edges.retain(|e| !e.documents.is_empty());
        }
        let span = |documents: &[String]| -> (Option<String>, Option<String>) {
            let seen: BTreeSet<&str> = documents
                .iter()
                .filter_map(|d| dates.get(d).and_then(|x| x.as_deref()))
                .collect();
            (
                seen.first().map(|s| s.to_string()),
                seen.last().map(|s| s.to_string()),
            )
        };
        for e in &mut edges {
            (e.first_seen, e.last_seen) = span(&e.documents);
        }

        // Types, relations, weights.
        if !selection.types.is_empty() {
            nodes.retain(|n| selection.types.iter().any(|t| t.as_str() == n.kind));
        }
        if !selection.relations.is_empty() {
            edges.retain(|e| selection.relations.iter().any(|r| r.as_str() == e.relation));
        }
        edges.retain(|e| {
            e.weight >= selection.min_weight && e.confidence >= selection.min_confidence
        });
        let present: BTreeSet<&str> = nodes.iter().map(|n| n.iri.as_str()).collect();
        edges
            .retain(|e| present.contains(e.source.as_str()) && present.contains(e.target.as_str()));
        if selection.filters_edges() {
            let touched: BTreeSet<String> = edges
                .iter()
                .flat_map(|e| [e.source.clone(), e.target.clone()])
                .collect();
            nodes.retain(|n| touched.contains(&n.iri));
        }

        // Neighbourhood.
        if let Some(name) = &selection.around {
            let centres = find_by_name(&nodes, name);
            if centres.is_empty() {
                return Err(Error::Export(no_such_name(&nodes, name, selection)));
            }
            let index: HashMap<&str, usize> = nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.iri.as_str(), i))
                .collect();
            let mut adjacent = vec![Vec::new(); nodes.len()];
            for e in &edges {
                if let (Some(&s), Some(&t)) =
                    (index.get(e.source.as_str()), index.get(e.target.as_str()))
                {
                    adjacent[s].push(t);
                    adjacent[t].push(s);
                }
            }
            let mut distance = vec![usize::MAX; nodes.len()];
            let mut queue = VecDeque::new();
            for c in centres {
                distance[c] = 0;
                queue.push_back(c);
            }
            while let Some(v) = queue.pop_front() {
                if distance[v] >= selection.depth {
                    continue;
                }
                for &w in &adjacent[v] {
                    if distance[w] == usize::MAX {
                        distance[w] = distance[v] + 1;
                        queue.push_back(w);
                    }
                }
            }
            let keep: BTreeSet<String> = nodes
                .iter()
                .zip(&distance)
                .filter(|(_, d)| **d != usize::MAX)
                .map(|(n, _)| n.iri.clone())
                .collect();
            nodes.retain(|n| keep.contains(&n.iri));
            edges.retain(|e| keep.contains(&e.source) && keep.contains(&e.target));
        }

        nodes.sort_by(|a, b| a.iri.cmp(&b.iri));
        edges.sort_by(|a, b| {
            (&a.source, &a.relation, &a.target).cmp(&(&b.source, &b.relation, &b.target))
        });
        let index: HashMap<String, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.iri.clone(), i))
            .collect();
        let graph_edges: Vec<GraphEdge> = edges
            .into_iter()
            .filter_map(|row| {
                let source = *index.get(&row.source)?;
                let target = *index.get(&row.target)?;
                let relation = row.relation.parse::<Relation>().ok();
                Some(GraphEdge {
                    undirected: relation.is_some_and(|r| r.is_symmetric()),
                    label: relation
                        .map(|r| r.korean_label().to_string())
                        .unwrap_or_else(|| row.relation.clone()),
                    source,
                    target,
                    row,
                })
            })
            .collect();
        let graph_nodes = nodes
            .into_iter()
            .map(|row| {
                let (first_seen, last_seen) = span(&row.documents);
                GraphNode {
                    row,
                    first_seen,
                    last_seen,
                    measures: Measures::default(),
                }
            })
            .collect();
        let mut graph = Graph {
            nodes: graph_nodes,
            edges: graph_edges,
        };
        graph.compute_measures();
        Ok(graph)
    }

    /// Number of edges written once for a symmetric relation.
    pub fn undirected_edges(&self) -> usize {
        self.edges.iter().filter(|e| e.undirected).count()
    }

    /// Fills in every node's [`Measures`].
    fn compute_measures(&mut self) {
        let n = self.nodes.len();
        let mut measures = vec![Measures::default(); n];
        let mut directed = Vec::with_capacity(self.edges.len() * 2);
        let mut undirected = Vec::with_capacity(self.edges.len());
        for e in &self.edges {
            let w = e.row.weight as f64;
            measures[e.source].degree += 1;
            measures[e.target].degree += 1;
            measures[e.source].weighted_degree += e.row.weight;
            measures[e.target].weighted_degree += e.row.weight;
            directed.push((e.source, e.target, w));
            if e.undirected {
                directed.push((e.target, e.source, w));
            }
            undirected.push((e.source, e.target, w));
        }
        let ranks = pagerank(n, &directed, DAMPING);
        let components = components(n, &undirected);
        let communities = louvain(n, &undirected);
        for (i, m) in measures.iter_mut().enumerate() {
            m.pagerank = ranks[i];
            m.component = components[i];
            m.community = communities[i];
        }
        for (node, m) in self.nodes.iter_mut().zip(measures) {
            node.measures = m;
        }
    }
}

/// Nodes whose label, else whose alias, is `name` (trimmed; ASCII case
/// ignored when nothing matches exactly).
fn find_by_name(nodes: &[NodeRow], name: &str) -> Vec<usize> {
    let name = name.trim();
    let by = |eq: &dyn Fn(&str) -> bool| -> Vec<usize> {
        let labels: Vec<usize> = (0..nodes.len()).filter(|&i| eq(&nodes[i].label)).collect();
        if !labels.is_empty() {
            return labels;
        }
        (0..nodes.len())
            .filter(|&i| nodes[i].aliases.iter().any(|a| eq(a)))
            .collect()
    };
    let exact = by(&|s: &str| s.trim() == name);
    if !exact.is_empty() {
        return exact;
    }
    by(&|s: &str| s.trim().eq_ignore_ascii_case(name))
}

fn no_such_name(nodes: &[NodeRow], name: &str, selection: &Selection) -> String {
    let name = name.trim();
    let mut similar: Vec<&str> = nodes
        .iter()
        .filter(|n| {
            !name.is_empty()
                && (n.label.contains(name) || n.aliases.iter().any(|a| a.contains(name)))
        })
        .map(|n| n.label.as_str())
        .collect();
    similar.sort_unstable();
    similar.dedup();
    similar.truncate(8);
    let filtered = !selection.relations.is_empty()
        || !selection.types.is_empty()
        || selection.min_weight > 0
        || !selection.documents.is_empty();
    let mut message = format!("--around: no entity named `{name}`");
    if filtered {
        message.push_str(" in the selection (--relations, --types, --min-weight, --documents)");
    }
    if !similar.is_empty() {
        message.push_str(&format!("; did you mean {}?", similar.join(", ")));
    }
    message
}

/// Weighted PageRank of `n` nodes over directed `edges` `(source, target,
/// weight)`: damping `damping`, uniform teleport, dangling nodes spreading
/// their rank uniformly, parallel edges summed. The ranks sum to 1.
pub fn pagerank(n: usize, edges: &[(usize, usize, f64)], damping: f64) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    let nf = n as f64;
    let mut out_weight = vec![0.0; n];
    for &(s, _, w) in edges {
        out_weight[s] += w;
    }
    let mut ranks = vec![1.0 / nf; n];
    for _ in 0..1000 {
        let dangling: f64 = (0..n)
            .filter(|&i| out_weight[i] <= 0.0)
            .map(|i| ranks[i])
            .sum();
        let base = (1.0 - damping) / nf + damping * dangling / nf;
        let mut next = vec![base; n];
        for &(s, t, w) in edges {
            if out_weight[s] > 0.0 {
                next[t] += damping * ranks[s] * w / out_weight[s];
            }
        }
        let err: f64 = next.iter().zip(&ranks).map(|(a, b)| (a - b).abs()).sum();
        ranks = next;
        if err < nf * 1e-13 {
            break;
        }
    }
    let sum: f64 = ranks.iter().sum();
    if sum > 0.0 {
        for r in &mut ranks {
            *r /= sum;
        }
    }
    ranks
}

/// Numbers groups `group[i]` (arbitrary ids) by size, largest first, ties
/// by smallest member index: the result is 0 for the largest group.
fn number_by_size(group: &[usize]) -> Vec<usize> {
    let mut members: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    for (i, &g) in group.iter().enumerate() {
        let e = members.entry(g).or_insert((0, i));
        e.0 += 1;
        e.1 = e.1.min(i);
    }
    let mut order: Vec<(usize, (usize, usize))> = members.into_iter().collect();
    order.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.1 .1.cmp(&b.1 .1)));
    let number: HashMap<usize, usize> = order
        .iter()
        .enumerate()
        .map(|(k, (g, _))| (*g, k))
        .collect();
    group.iter().map(|g| number[g]).collect()
}

/// Weakly connected components of `n` nodes (edge directions ignored),
/// numbered by size: 0 is the largest, ties by the smallest node index.
pub fn components(n: usize, edges: &[(usize, usize, f64)]) -> Vec<usize> {
    let mut uf = UnionFind::<usize>::new(n);
    for &(s, t, _) in edges {
        uf.union(s, t);
    }
    let roots: Vec<usize> = (0..n).map(|i| uf.find(i)).collect();
    number_by_size(&roots)
}

/// Louvain communities of `n` nodes over undirected weighted `edges`
/// (parallel edges summed), deterministic for a given input: nodes are
/// visited in index order, a node moves only for a strictly positive gain
/// over staying, ties go to the lowest community number. Returns each
/// node's community, numbered by size (0 = the largest, ties by smallest
/// node index).
pub fn louvain(n: usize, edges: &[(usize, usize, f64)]) -> Vec<usize> {
    // adjacency of the current level: symmetric, self-loops once with the
    // full internal weight counted twice (A_ii).
    let mut adjacency: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); n];
    for &(s, t, w) in edges {
        if w <= 0.0 || s >= n || t >= n {
            continue;
        }
        if s == t {
            *adjacency[s].entry(s).or_default() += 2.0 * w;
        } else {
            *adjacency[s].entry(t).or_default() += w;
            *adjacency[t].entry(s).or_default() += w;
        }
    }
    // membership of original nodes in the current level's nodes
    let mut membership: Vec<usize> = (0..n).collect();
    loop {
        let level_n = adjacency.len();
        let (community, moved) = louvain_level(&adjacency);
        if !moved {
            break;
        }
        // renumber communities densely in order of first appearance
        let mut renumber: HashMap<usize, usize> = HashMap::new();
        for &c in &community {
            let next = renumber.len();
            renumber.entry(c).or_insert(next);
        }
        let community: Vec<usize> = community.iter().map(|c| renumber[c]).collect();
        let count = renumber.len();
        for m in &mut membership {
            *m = community[*m];
        }
        if count == level_n {
            break;
        }
        let mut next: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); count];
        for (i, row) in adjacency.iter().enumerate() {
            for (&j, &w) in row {
                *next[community[i]].entry(community[j]).or_default() += w;
            }
        }
        adjacency = next;
    }
    number_by_size(&membership)
}

/// One Louvain level: local moves until no node moves. Returns each node's
/// community and whether any node moved.
fn louvain_level(adjacency: &[BTreeMap<usize, f64>]) -> (Vec<usize>, bool) {
    let n = adjacency.len();
    let degree: Vec<f64> = adjacency.iter().map(|row| row.values().sum()).collect();
    let m2: f64 = degree.iter().sum();
    let mut community: Vec<usize> = (0..n).collect();
    if m2 <= 0.0 {
        return (community, false);
    }
    let mut total: Vec<f64> = degree.clone();
    let mut moved_any = false;
    for _pass in 0..1000 {
        let mut moved = false;
        for i in 0..n {
            if degree[i] <= 0.0 {
                continue;
            }
            let own = community[i];
            let mut links: BTreeMap<usize, f64> = BTreeMap::new();
            for (&j, &w) in &adjacency[i] {
                if j != i {
                    *links.entry(community[j]).or_default() += w;
                }
            }
            total[own] -= degree[i];
            let gain = |c: usize, links: &BTreeMap<usize, f64>| {
                links.get(&c).copied().unwrap_or(0.0) - total[c] * degree[i] / m2
            };
            // strictly better than staying; among equals the lowest number
            // (keys are visited in ascending order)
            let mut best = own;
            let mut best_gain = gain(own, &links);
            for &c in links.keys() {
                let g = gain(c, &links);
                if g > best_gain + 1e-12 {
                    best = c;
                    best_gain = g;
                }
            }
            total[best] += degree[i];
            if best != own {
                community[i] = best;
                moved = true;
                moved_any = true;
            }
        }
        if !moved {
            break;
        }
    }
    (community, moved_any)
}

/// Modularity (resolution 1) of a partition of `n` nodes over undirected
/// weighted `edges`.
pub fn modularity(n: usize, edges: &[(usize, usize, f64)], community: &[usize]) -> f64 {
    let mut degree = vec![0.0; n];
    let mut m = 0.0;
    for &(s, t, w) in edges {
        degree[s] += w;
        degree[t] += w;
        m += w;
    }
    if m <= 0.0 {
        return 0.0;
    }
    let mut inside: BTreeMap<usize, f64> = BTreeMap::new();
    let mut total: BTreeMap<usize, f64> = BTreeMap::new();
    for &(s, t, w) in edges {
        if community[s] == community[t] {
            *inside.entry(community[s]).or_default() += w;
        }
    }
    for i in 0..n {
        *total.entry(community[i]).or_default() += degree[i];
    }
    total
        .iter()
        .map(|(c, tot)| inside.get(c).copied().unwrap_or(0.0) / m - (tot / (2.0 * m)).powi(2))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clique(nodes: std::ops::Range<usize>) -> Vec<(usize, usize, f64)> {
        let v: Vec<usize> = nodes.collect();
        let mut edges = Vec::new();
        for (k, &a) in v.iter().enumerate() {
            for &b in &v[k + 1..] {
                edges.push((a, b, 1.0));
            }
        }
        edges
    }

    #[test]
    fn louvain_finds_two_cliques_joined_by_a_bridge() {
        let mut edges = clique(0..5);
        edges.extend(clique(5..11));
        edges.push((4, 5, 1.0));
        let c = louvain(11, &edges);
        // the larger clique is community 0
        assert!(c[5..11].iter().all(|&x| x == 0), "{c:?}");
        assert!(c[0..5].iter().all(|&x| x == 1), "{c:?}");
        assert!(modularity(11, &edges, &c) > 0.4);
        // interleaved node order gives the same partition
        let perm: Vec<usize> = vec![3, 9, 0, 6, 10, 1, 5, 8, 2, 7, 4];
        let shuffled: Vec<(usize, usize, f64)> = edges
            .iter()
            .map(|&(s, t, w)| (perm[s], perm[t], w))
            .collect();
        let d = louvain(11, &shuffled);
        for a in 0..11 {
            for b in 0..11 {
                assert_eq!(c[a] == c[b], d[perm[a]] == d[perm[b]], "{a} {b}");
            }
        }
        assert_eq!(louvain(11, &edges), c, "deterministic");
    }

    #[test]
    fn louvain_on_a_ring_of_cliques_and_edge_cases() {
        // four triangles in a ring: four communities
        let mut edges = Vec::new();
        for k in 0..4 {
            edges.extend(clique(3 * k..3 * k + 3));
            edges.push((3 * k + 2, (3 * k + 3) % 12, 1.0));
        }
        let c = louvain(12, &edges);
        let distinct: BTreeSet<usize> = c.iter().copied().collect();
        assert_eq!(distinct.len(), 4, "{c:?}");
        for k in 0..4 {
            assert!(c[3 * k] == c[3 * k + 1] && c[3 * k + 1] == c[3 * k + 2]);
        }
        assert!(louvain(0, &[]).is_empty());
        assert_eq!(louvain(3, &[]), vec![0, 1, 2], "isolated nodes stay alone");
        assert_eq!(louvain(2, &[(0, 1, 1.0)]), vec![0, 0]);
    }

    #[test]
    fn pagerank_matches_known_values() {
        assert!(pagerank(0, &[], DAMPING).is_empty());
        let cycle = pagerank(3, &[(0, 1, 1.0), (1, 2, 1.0), (2, 0, 1.0)], DAMPING);
        assert!(cycle.iter().all(|r| (r - 1.0 / 3.0).abs() < 1e-12));
        // a star pointing at its centre; values from networkx.pagerank
        let star = pagerank(4, &[(1, 0, 1.0), (2, 0, 1.0), (3, 0, 1.0)], DAMPING);
        assert!((star[0] - 0.541_984_73).abs() < 1e-7, "{star:?}");
        assert!((star[1] - 0.152_671_76).abs() < 1e-7, "{star:?}");
        assert!((star.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // weights shift rank
        let w = pagerank(3, &[(0, 1, 3.0), (0, 2, 1.0)], DAMPING);
        assert!(w[1] > w[2]);
    }

    #[test]
    fn components_are_numbered_by_size() {
        let c = components(6, &[(4, 5, 1.0), (5, 3, 1.0), (0, 1, 1.0)]);
        assert_eq!(c, vec![1, 1, 2, 0, 0, 0]);
    }
}
