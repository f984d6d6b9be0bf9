//! Cluster mode's parts (Scalelite, issue 15), each pure where it can be:
//! the pool of BBB servers ([`pool`]) and reading it from Scalelite's Redis
//! ([`scalelite`]), the multi-tenant decision ([`tenancy`]), the client of
//! each server's hooks API ([`remote`], its answers parsed by [`answer`]),
//! the relay receiver ([`relay`], its bodies [`relay_body`], its refusals
//! [`refusal`]), and keeping one relay hook on each server: the plan for a
//! server ([`reconcile`]) and the state machine that carries it out
//! ([`sync`], reporting [`change`]s), with the relay URLs used before
//! remembered in this service's Redis ([`memory`]). This module
//! only declares them; wiring them into the service is `service`'s job.

pub mod answer;
pub mod change;
pub mod memory;
pub mod pool;
pub mod reconcile;
pub mod refusal;
pub mod relay;
pub mod relay_body;
pub mod remote;
pub mod scalelite;
pub mod sync;
pub mod tenancy;

#[cfg(test)]
pub(crate) mod tests;

pub use pool::{parse_static, Pool, Server, State};
pub use scalelite::{Scalelite, Snapshot};
