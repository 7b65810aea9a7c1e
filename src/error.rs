//! The library's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the library, with the file (and line,
/// where there is one) it concerns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An input could not be parsed (bad JSON line, undecodable bytes …).
    #[error("{path}:{line}: {message}")]
    Input {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when the whole file is concerned).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// An ontology or lexicon file is malformed.
    #[error("ontology {path}:{line}: {message}")]
    Ontology {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when the whole file is concerned).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A gold annotation file is malformed.
    #[error("gold file {path}: {message}")]
    Gold {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The store could not be opened, read or written.
    #[error("store {path}: {message}")]
    Store {
        /// The store directory (or `<memory>`).
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A SPARQL query could not be parsed or evaluated.
    #[error("SPARQL query: {0}")]
    Query(String),
    /// An export could not be written.
    #[error("export: {0}")]
    Export(String),
    /// The SPARQL server could not start or stopped on an error.
    #[error("SPARQL server: {0}")]
    Server(String),
    /// Sending the graph to an external SPARQL store failed.
    #[error("push: {0}")]
    Push(String),
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error about `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
