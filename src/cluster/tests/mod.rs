//! The cluster parts' pure tests that span several modules: the reconciler
//! against a fake hooks API in memory, the relay receiver on callbacks built
//! as pool servers build them. No Redis, no sockets (those are in
//! `tests/cluster_core.rs` and `tests/cluster.rs`).

mod fake_api;
mod relay;
pub(crate) mod support;
mod sync;
mod sync_gone;
