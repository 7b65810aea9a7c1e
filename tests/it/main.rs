//! The integration tests, in one binary: each module below tests one
//! area end to end (the CLI, the store, the exports read by their real
//! consumers, the SPARQL endpoint, pushes to a real external store …).
//! One binary links the store once instead of once per area.

mod common;

mod bench;
mod cli;
mod durability;
mod exports;
mod ontology;
mod push;
mod queries;
mod relations;
mod robustness;
mod seed_eval;
mod serve;
mod shard;
mod store;
mod streaming;
