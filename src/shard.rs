//! When one machine is not enough: deterministic shards of a corpus and
//! bulk loading of their N-Quads.
//!
//! `newsgraph extract --shard K/N` keeps the input files whose document id
//! falls into shard `K` of `N` ([`Shard::contains`]: a stable FNV-1a hash of
//! the id, the same on every machine and every run), so `N` workers given
//! the same inputs split them without talking to each other. Each writes
//! N-Quads, one named graph per document; `newsgraph load FILES…`
//! ([`load_files`]) bulk-loads them into one store, replacing the named
//! graphs they contain, as `build` replaces a rebuilt document.
//!
//! Entity resolution runs within a shard: an entity's IRI comes from its
//! type and label, and the label is the gazetteer's canonical name or the
//! fullest name *seen in that shard*. Entities named by the gazetteer, and
//! names that one document spells out in full, get the same IRI whatever
//! the sharding; a name known only in a short form in one shard and in full
//! in another can give two nodes where a one-go build gives one.

use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use oxigraph::io::{RdfFormat, RdfParseError, RdfParser};
use oxigraph::model::{GraphName, NamedNode};

use crate::store::GraphStore;
use crate::{Error, Result};

/// Shard `index` of `count` (both from 1): `--shard 2/3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 1 to `count`.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

impl Shard {
    /// Whether the document `id` belongs to this shard.
    pub fn contains(&self, id: &str) -> bool {
        stable_hash(id) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}`: expected K/N, e.g. 2/8"))?;
        let k: u32 = k
            .trim()
            .parse()
            .map_err(|_| format!("`{s}`: K is not a number"))?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{s}`: N is not a number"))?;
        if n == 0 {
            return Err(format!("`{s}`: there must be at least one shard"));
        }
        if k == 0 || k > n {
            return Err(format!("`{s}`: shards are numbered from 1 to {n}"));
        }
        Ok(Shard { index: k, count: n })
    }
}

/// 64-bit FNV-1a of the bytes of `text`: stable across platforms, Rust
/// versions and runs (unlike `std`'s hasher).
pub fn stable_hash(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// What [`load_files`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadSummary {
    /// Files loaded.
    pub files: usize,
    /// Quads read from them (a quad in two files counts twice).
    pub quads: u64,
    /// Named graphs (documents) they hold, each replacing any earlier
    /// version in the store.
    pub graphs: usize,
    /// Quads in the store after loading.
    pub store_quads: usize,
}

/// The syntax of a file to load, from its extension (`-`: N-Quads).
fn format_of(path: &Path) -> Result<RdfFormat> {
    if path == Path::new("-") {
        return Ok(RdfFormat::NQuads);
    }
    path.extension()
        .and_then(|e| e.to_str())
        .and_then(RdfFormat::from_extension)
        .ok_or_else(|| Error::Input {
            path: path.to_path_buf(),
            line: 0,
            message: "unknown RDF syntax: give an .nq (N-Quads) or .trig file, \
                      or .nt / .ttl for triples into the default graph"
                .into(),
        })
}

fn parse_error(path: &Path, e: RdfParseError) -> Error {
    match e {
        RdfParseError::Io(e) => Error::io(path, e),
        RdfParseError::Syntax(e) => Error::Input {
            path: path.to_path_buf(),
            line: e
                .location()
                .map(|l| usize::try_from(l.start.line + 1).unwrap_or(usize::MAX))
                .unwrap_or(0),
            message: e.to_string(),
        },
    }
}

/// The bytes of `-` (standard input), read once; files are streamed.
enum Source {
    Stdin(Vec<u8>),
    File(PathBuf),
}

impl Source {
    fn reader(&self) -> Result<Box<dyn Read + '_>> {
        Ok(match self {
            Source::Stdin(bytes) => Box::new(bytes.as_slice()),
            Source::File(path) => Box::new(BufReader::new(
                File::open(path).map_err(|e| Error::io(path, e))?,
            )),
        })
    }
}

/// Bulk-loads N-Quads (or TriG; N-Triples and Turtle go into the default
/// graph) into the store.
///
/// Every file is parsed first, so a syntax error (reported with file and
/// line) changes nothing. Then the named graphs the files hold are dropped
/// from the store — a document that is loaded again replaces its earlier
/// version, as `build` does — and the files go through Oxigraph's bulk
/// loader, committed once at the end. Loading the same files twice leaves
/// the store as after the first time.
pub fn load_files(store: &GraphStore, paths: &[PathBuf]) -> Result<LoadSummary> {
    let mut sources = Vec::with_capacity(paths.len());
    for path in paths {
        let format = format_of(path)?;
        let source = if path == Path::new("-") {
            let mut bytes = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut bytes)
                .map_err(|e| Error::io("<stdin>", e))?;
            Source::Stdin(bytes)
        } else {
            Source::File(path.clone())
        };
        sources.push((path.clone(), format, source));
    }

    // 1. Parse everything: syntax errors stop the load before any change.
    let mut summary = LoadSummary::default();
    let mut graphs: HashSet<NamedNode> = HashSet::new();
    for (path, format, source) in &sources {
        for quad in RdfParser::from_format(*format).for_reader(source.reader()?) {
            let quad = quad.map_err(|e| parse_error(path, e))?;
            // Blank-node graphs are renamed apart on loading: nothing to
            // replace.
            if let GraphName::NamedNode(n) = quad.graph_name {
                graphs.insert(n);
            }
            summary.quads += 1;
        }
        summary.files += 1;
    }
    summary.graphs = graphs.len();

    // 2. Drop the documents being replaced.
    let inner = store.inner();
    let mut tx = inner
        .start_transaction()
        .map_err(|e| store.store_error(e))?;
    for g in &graphs {
        tx.remove_named_graph(g.as_ref())
            .map_err(|e| store.store_error(e))?;
    }
    tx.commit().map_err(|e| store.store_error(e))?;

    // 3. Bulk-load, one commit at the end.
    let mut loader = inner.bulk_loader();
    for (path, format, source) in &sources {
        loader
            .load_from_reader(RdfParser::from_format(*format), source.reader()?)
            .map_err(|e| match e {
                oxigraph::store::LoaderError::Parsing(e) => parse_error(path, e),
                other => store.store_error(format!("{}: {other}", path.display())),
            })?;
    }
    loader.commit().map_err(|e| store.store_error(e))?;
    summary.store_quads = inner.len().map_err(|e| store.store_error(e))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_partition() {
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("1/0".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
        let shards: Vec<Shard> = (1..=4).map(|k| Shard { index: k, count: 4 }).collect();
        for i in 0..200 {
            let id = format!("dir/{i:03}.txt");
            assert_eq!(shards.iter().filter(|s| s.contains(&id)).count(), 1);
        }
    }

    #[test]
    fn the_hash_is_stable() {
        // FNV-1a test vectors: the same on every machine, forever.
        assert_eq!(stable_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(stable_hash("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn a_load_replaces_graphs_and_is_idempotent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.nq");
        std::fs::write(
            &a,
            "<http://e/s> <http://e/p> \"1\" <http://e/g1> .\n\
             <http://e/s> <http://e/p> \"2\" <http://e/g2> .\n",
        )
        .expect("write");
        let store = GraphStore::in_memory().expect("store");
        let first = load_files(&store, std::slice::from_ref(&a)).expect("load");
        assert_eq!((first.quads, first.graphs, first.store_quads), (2, 2, 2));
        let again = load_files(&store, std::slice::from_ref(&a)).expect("load again");
        assert_eq!(again.store_quads, 2);
        // A new version of g1 replaces the old one; g2 stays.
        let b = dir.path().join("b.nq");
        std::fs::write(&b, "<http://e/s> <http://e/p> \"3\" <http://e/g1> .\n").expect("write");
        assert_eq!(load_files(&store, &[b]).expect("load").store_quads, 2);

        let bad = dir.path().join("bad.nq");
        std::fs::write(
            &bad,
            "<http://e/s> <http://e/p> \"9\" <http://e/g2> .\n<oops\n",
        )
        .expect("write");
        let err = load_files(&store, &[bad]).expect_err("syntax error");
        assert!(err.to_string().contains("bad.nq:2"), "{err}");
        // Nothing changed.
        assert_eq!(store.inner().len().expect("len"), 2);
    }
}
