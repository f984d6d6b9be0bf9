//! Real parts for the integration tests, one topic per file:
//!
//! - [`redis_server`]: a private `redis-server` on a free port (the
//!   throughput benchmark includes this file too);
//! - [`receiver`]: an HTTP receiver that records callbacks and answers as told;
//! - [`service`]: the service binary as a child process;
//! - [`api`]: plain HTTP requests and signed API URLs;
//! - [`events`]: messages to publish, and what callbacks carry back.
//!
//! A test file starts with `mod support; use support::*;`.

// Each test binary uses a part of it.
#![allow(dead_code, unused_imports)]

mod api;
mod events;
mod layout;
mod process;
mod receiver;
mod redis_server;
mod service;

use std::time::{Duration, Instant};

pub use api::*;
pub use events::*;
pub use layout::*;
pub use process::*;
pub use receiver::*;
pub use redis_server::*;
pub use service::*;

pub const SECRET: &str = "test-secret-0123456789";
pub const DOMAIN: &str = "bbb.test.example";
/// How long a test waits for something that should happen.
pub const WAIT: Duration = Duration::from_secs(15);

/// Polls `f` until it returns `Some`, or panics with `what` after `WAIT`.
pub fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `s` encoded for a query string or form, as clients of the API encode
/// callback URLs.
pub fn enc(s: &str) -> String {
    bbb_webhooks::query::form_encode(s)
}
