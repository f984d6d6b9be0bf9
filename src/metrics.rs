//! Counters and gauges the threads update and the logs, tests and the metrics
//! endpoint read. Plain atomics: no locks on hot paths.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// The service's counters. Each is a running total since start unless noted.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Messages read from Redis.
    pub messages_received: AtomicU64,
    /// Messages that were not JSON (or not an object), skipped.
    pub messages_malformed: AtomicU64,
    /// Messages that mapped to no event, skipped.
    pub messages_unmapped: AtomicU64,
    /// Events produced by the mapping.
    pub events_mapped: AtomicU64,
    /// Events dropped by the server-wide include/exclude filters.
    pub events_filtered: AtomicU64,
    /// Events queued for a hook (one per event and hook).
    pub events_queued: AtomicU64,
    /// Events not queued because the hook's queue was full.
    pub events_dropped_queue_full: AtomicU64,
    /// Events not queued because all queues together held
    /// `BBB_WEBHOOKS_MAX_QUEUED_BYTES`.
    pub events_dropped_memory_full: AtomicU64,
    /// Events a destination refused for good (an LRS's 400, 401, 403, 404
    /// or 413, a few times), dropped so the next could go.
    pub events_dropped_refused: AtomicU64,
    /// Bytes the delivery queues hold together (gauge).
    pub queued_bytes: AtomicU64,
    /// Distinct events the delivery queues hold (gauge).
    pub queued_events: AtomicU64,
    /// Callback requests answered with success.
    pub deliveries_succeeded: AtomicU64,
    /// Callback requests that failed (each failed attempt).
    /// By the failure's kind, in the order of `delivery::outcome::Reason::ALL`.
    pub deliveries_failed: [AtomicU64; crate::delivery::outcome::Reason::ALL.len()],
    /// Failed attempts that will be retried (the hook was kept).
    pub deliveries_retried: AtomicU64,
    /// Events delivered (a request may carry several).
    pub events_delivered: AtomicU64,
    /// Hooks removed because their endpoint failed for too long or said 410.
    pub hooks_removed_on_failure: AtomicU64,
    /// Mapping state writes to Redis that failed.
    pub state_write_errors: AtomicU64,
    /// Queue writes to Redis that failed (the events stay in memory).
    pub queue_write_errors: AtomicU64,
    /// Subscriptions made again after Redis closed one while running: the
    /// service fell behind (`client-output-buffer-limit pubsub`).
    pub redis_resubscribed_fell_behind: AtomicU64,
    /// Subscriptions made again after any other loss (restart, network).
    pub redis_resubscribed_other: AtomicU64,
    /// Time without a subscription, in ms, in all.
    pub redis_unsubscribed_ms: AtomicU64,
    /// Whether the Redis subscription is up (gauge).
    pub redis_subscribed: AtomicBool,
    /// Meetings in the mapping state (gauge, published by ingest).
    pub meetings: AtomicU64,
    /// Users in the mapping state (gauge, published by ingest).
    pub users: AtomicU64,
    /// xAPI statements built and handed to delivery.
    pub xapi_statements: AtomicU64,
    /// Mapped events that gave no xAPI statement, by why, in the order of
    /// `xapi::Skip::REASONS`.
    pub xapi_skipped: [AtomicU64; crate::xapi::Skip::REASONS.len()],
    /// What each LRS (by destination id) did with its statements. Behind a
    /// lock taken once per LRS answer, never on the callbacks' path.
    pub xapi_lrs: Mutex<BTreeMap<String, LrsCounts>>,
    /// Cluster mode's figures per pool server: relay POSTs taken and
    /// refused, relay hooks created and in place.
    pub cluster: crate::cluster::stats::Stats,
}

/// One LRS's statement counts since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LrsCounts {
    /// Statements the LRS took (2xx).
    pub delivered: u64,
    /// Attempts that failed (each retry counted).
    pub failed: u64,
    /// Statements it refused for good (400, 401, 403, 404, 413), dropped.
    pub dropped: u64,
}

impl Metrics {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Sets a gauge.
    pub fn set(gauge: &AtomicU64, n: u64) {
        gauge.store(n, Ordering::Relaxed);
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Updates the counts of LRS `id`.
    pub fn lrs(&self, id: &str, f: impl FnOnce(&mut LrsCounts)) {
        let mut counts = crate::locks::lock(&self.xapi_lrs);
        match counts.get_mut(id) {
            Some(c) => f(c),
            None => f(counts.entry(id.to_owned()).or_default()),
        }
    }
}
