#![forbid(unsafe_code)]
pub mod api;
pub mod callback;
pub mod checksum;
pub mod config;
pub mod delivery;
pub mod error;
pub mod hooks;
pub mod ingest;
pub mod mapping;
pub mod metrics;
pub mod query;
pub mod service;
pub mod store;
pub mod xml;
