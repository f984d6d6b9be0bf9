//! Tests of the cluster parts against real services: a private
//! `redis-server` per test, HTTP servers on port 0.

mod relay;
mod remote;
mod scalelite;
mod support;
