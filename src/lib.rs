//! newsgraph: a knowledge-graph builder for Korean news about regional
//! industrial policy.
//!
//! The pipeline runs one way — [`read`] → [`clean`] → [`segment`] →
//! [`recognise`] → [`relate`] → [`resolve`] → [`store`] → [`query`] /
//! [`export`] — and [`pipeline`] strings the stages together.
//! Linguistic knowledge lives in `ontology/` and is loaded by [`ontology`].

pub mod clean;
pub mod error;
pub mod eval;
pub mod export;
pub mod graph;
pub mod html;
pub mod model;
mod needle;
pub mod nquads;
pub mod ontology;
pub mod params;
pub mod pipeline;
pub mod push;
pub mod query;
pub mod read;
pub mod recognise;
pub mod relate;
pub mod resolve;
pub mod segment;
pub mod serve;
pub mod shard;
pub mod spill;
pub mod store;
mod swar;
#[cfg(test)]
mod test_support;

pub use error::{Error, Result};
