//! Cluster mode's parts (Scalelite, issue 15), each pure where it can be:
//! the pool of BBB servers ([`pool`]) and reading it from Scalelite's Redis
//! ([`scalelite`]), the multi-tenant decision ([`tenancy`]), the client of
//! each server's hooks API ([`remote`], its answers parsed by [`answer`]),
//! the relay receiver ([`relay`], its bodies [`relay_body`], its refusals
//! [`refusal`]), and keeping one relay hook on each server: the plan for a
//! server ([`reconcile`]) and the state machine that carries it out
//! ([`sync`], reporting [`change`]s), with the relay URLs used before
//! remembered in this service's Redis ([`memory`]). In the running
//! service ([`running`]): the pool's source at each sync ([`source`]), the
//! sync thread ([`sync_thread`]), the relay endpoint ([`receiver`]), the
//! figures per server ([`stats`], on the metrics endpoint through
//! [`exposition`]) and the status record `check` reads
//! ([`status`]). This module only declares them; `service` starts
//! [`running`] in cluster mode.

pub mod answer;
pub mod change;
pub mod exposition;
pub mod memory;
pub mod pool;
pub mod receiver;
pub mod reconcile;
pub mod refusal;
pub mod relay;
pub mod relay_body;
pub mod remote;
pub mod running;
pub mod scalelite;
pub mod source;
pub mod stats;
pub mod status;
pub mod sync;
pub mod sync_thread;
pub mod tenancy;

#[cfg(test)]
pub(crate) mod tests;

pub use pool::{parse_static, Pool, Server, State};
pub use scalelite::{Scalelite, Snapshot};

/// The pool as the sync thread last read it, shared with the relay
/// endpoint; `None` until it was read once. A reader clones the inner `Arc`
/// and lets go of the lock before using it; the sync thread swaps in a new
/// one.
pub type SharedPool = std::sync::Arc<std::sync::RwLock<Option<std::sync::Arc<Pool>>>>;
