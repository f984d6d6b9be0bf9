//! A drop-in BigBlueButton webhooks service: BBB's Redis messages in, webhook
//! callbacks out. `main.rs` only wires [`service::Service`] and the [`admin`]
//! commands to the command line.
//!
//! The pieces are pure where they can be. A callback checksum, for example:
//!
//! ```
//! use bbb_webhooks::callback;
//! use bbb_webhooks::checksum::Algorithm;
//! use bbb_webhooks::config::{CallbackAuth, Secret};
//!
//! let secret = Secret::new("s");
//! let req = callback::build("http://app/cb", &["{}"], "bbb.example.com", 1,
//!     CallbackAuth::Checksum(Algorithm::Sha1), &secret);
//! let sum = Algorithm::Sha1.hex_digest(&[b"http://app/cb", req.body.as_bytes(), b"s"]);
//! assert_eq!(req.url, format!("http://app/cb?checksum={sum}"));
//! assert_eq!(req.body, "domain=bbb.example.com&event=%5B%7B%7D%5D&timestamp=1");
//! ```

#![forbid(unsafe_code)]
pub mod admin;
pub mod api;
pub mod callback;
pub mod checksum;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod delivery;
pub mod error;
pub mod exporter;
pub mod hooks;
pub mod http;
pub mod ingest;
pub mod locks;
pub mod mapping;
pub mod metrics;
pub mod query;
pub mod redact;
pub mod service;
pub mod store;
pub mod uuid;
pub mod xapi;
pub mod xml;

/// Compile-time check that the types the threads share can be shared.
#[allow(dead_code)]
fn shared_types_are_send_and_sync() {
    fn is<T: Send + Sync>() {}
    is::<hooks::Hooks>();
    is::<delivery::StatusMap>();
    is::<metrics::Metrics>();
    is::<config::Config>();
}
