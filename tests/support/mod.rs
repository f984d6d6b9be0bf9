//! Real parts for the integration tests, one topic per file:
//!
//! - [`redis_server`]: a private `redis-server` on a free port, checked to
//!   be the one listening there (the throughput benchmark includes this
//!   file too, with `#[path]`);
//! - [`receiver`]: an HTTP receiver on port 0 that records callbacks and
//!   answers as told;
//! - [`service`]: the service binary running, ready when it says so;
//! - [`process`]: the binary as a bare process (run to completion within a
//!   deadline, SIGTERM and other signals, `/proc` figures);
//! - [`api`]: plain HTTP requests and signed API URLs;
//! - [`events`]: messages to publish, and what callbacks carry back;
//! - [`layout`]: the Redis keys the service keeps;
//! - [`fake_bbb`]: a fake BBB server's hooks API, checking checksums and
//!   answering as a test tells it (the cluster tests);
//! - [`lrs`]: the xAPI side: the settings that turn it on, statements as
//!   an LRS receives them, UUID v5 computed apart from the crate, and the
//!   `openssl enc` command line that makes a meeting's LRS payload;
//! - [`proxy`]: a TCP proxy that holds a connection up once it sees given
//!   bytes (a Redis that stalls at a chosen command), and an HTTP receiver
//!   that writes each answer's head and body apart (a delayed-ACK stall).
//!
//! A new test file starts with `mod support; use support::*;` (from a
//! directory, `#[path = "../support/mod.rs"] mod support;`), then:
//!
//! ```ignore
//! let redis = Redis::start();                 // its own redis-server
//! let mut conn = redis.conn();                // a redis::Connection to it
//! let rx = HttpReceiver::start();             // rx.url("/cb"), rx.next()
//! let svc = Service::start(&redis, &[("BBB_WEBHOOKS_MAX_QUEUE", "5")]);
//! svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/cb"))));
//! ```
//!
//! `Service::start` returns once the service is subscribed to Redis
//! (`Ready::Subscribed`, read from its `GET /metrics`). For anything else,
//! `Service::launch(&redis)` takes settings (`.env(k, v)`, `.envs(..)`,
//! `.without_metrics()`) and what to wait for (`.ready(Ready::Api)`: the API
//! answers; `.ready(Ready::Listening)`: its ports are bound, e.g. while it
//! waits for Redis), then `.start()`; `svc.wait_until(Ready::..)` waits for
//! more later. Progress is waited for with `wait_for`, `svc.wait_metric`,
//! `wait_journal_len` or `rx.next()`, each with a deadline; `wait_logged`
//! is for tests about what the log says.

// Each test binary uses a part of it.
#![allow(dead_code, unused_imports)]

mod api;
mod events;
mod fake_bbb;
mod layout;
mod lrs;
mod process;
mod proxy;
mod receiver;
mod redis_server;
mod service;

use std::time::{Duration, Instant};

pub use api::*;
pub use events::*;
pub use fake_bbb::*;
pub use layout::*;
pub use lrs::*;
pub use process::*;
pub use proxy::*;
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
