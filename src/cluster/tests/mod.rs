//! Tests of the cluster parts against real services: a private
//! `redis-server` per test, HTTP servers on port 0.

mod end_to_end;
mod fake_api;
mod relay;
mod remote;
mod scalelite;
pub(crate) mod support;
mod sync;
mod sync_gone;
