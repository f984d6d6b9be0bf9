//! Cluster mode's parts (Scalelite, issue 15), each pure where it can be:
//! the pool of BBB servers ([`pool`]) and reading it from Scalelite's Redis
//! ([`scalelite`]), the multi-tenant decision ([`tenancy`]). This module
//! only declares them; wiring them into the service is `service`'s job.

pub mod pool;
pub mod scalelite;
pub mod tenancy;

#[cfg(test)]
mod tests;

pub use pool::{parse_static, Pool, Server, State};
pub use scalelite::{Scalelite, Snapshot};
