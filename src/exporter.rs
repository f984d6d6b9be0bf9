//! The optional Prometheus endpoint: `GET /metrics` in the text format 0.0.4,
//! on its own address (`BBB_WEBHOOKS_METRICS_BIND`). Rendering is a pure
//! function of the counters, the hook count and the delivery statuses.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::delivery::outcome::Reason;
use crate::delivery::{HookStatus, StatusMap, Target};
use crate::hooks::Hooks;
use crate::http;
use crate::locks;
use crate::metrics::Metrics;

mod xapi;

/// Content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the endpoint reads on each request.
pub struct Exporter {
    pub metrics: Arc<Metrics>,
    /// The API server's connection counters.
    pub api: Arc<http::Stats>,
    pub hooks: Hooks,
    pub status: StatusMap,
}

impl Exporter {
    /// The HTTP handler: `GET /metrics`, 405 for other methods there, 404
    /// elsewhere.
    pub fn handler(self) -> http::Handler {
        Arc::new(move |rq: http::Request| {
            let path = rq.target.split('?').next().unwrap_or("");
            match (rq.method.as_str(), path) {
                ("GET" | "HEAD", "/metrics") => {
                    http::Response::new(200, CONTENT_TYPE, self.render_now())
                }
                (_, "/metrics") => http::Response::new(405, "text/plain", "Method Not Allowed\n"),
                _ => http::Response::new(404, "text/plain", "Not Found\n"),
            }
        })
    }

    /// The current metrics, rendered.
    fn render_now(&self) -> String {
        let hooks = self.hooks.read().len();
        let status = locks::lock(&self.status).clone();
        render(&self.metrics, &self.api, hooks, &status)
    }
}

/// Renders every metric in the Prometheus text format 0.0.4. `hooks` is the
/// number of registered hooks, `status` the delivery status by hook id.
pub fn render(
    m: &Metrics,
    api: &http::Stats,
    hooks: usize,
    status: &HashMap<String, HookStatus>,
) -> String {
    let mut out = String::with_capacity(4096);
    let c = |counter: &std::sync::atomic::AtomicU64| Metrics::get(counter);
    counter(
        &mut out,
        "messages_received_total",
        "Messages read from Redis.",
        &[(None, c(&m.messages_received))],
    );
    counter(
        &mut out,
        "messages_skipped_total",
        "Messages that gave no event: not a JSON object (malformed) or not an event (unmapped).",
        &[
            (Some(("reason", "malformed")), c(&m.messages_malformed)),
            (Some(("reason", "unmapped")), c(&m.messages_unmapped)),
        ],
    );
    counter(
        &mut out,
        "events_mapped_total",
        "Events produced by the mapping.",
        &[(None, c(&m.events_mapped))],
    );
    counter(
        &mut out,
        "events_queued_total",
        "Events queued for a hook, one per event and hook.",
        &[(None, c(&m.events_queued))],
    );
    counter(
        &mut out,
        "events_dropped_total",
        "Events not delivered: excluded by the server-wide filters, the hook's queue was full, or all queues held BBB_WEBHOOKS_MAX_QUEUED_BYTES.",
        &[
            (Some(("reason", "filtered")), c(&m.events_filtered)),
            (
                Some(("reason", "queue_full")),
                c(&m.events_dropped_queue_full),
            ),
            (
                Some(("reason", "memory_full")),
                c(&m.events_dropped_memory_full),
            ),
            (Some(("reason", "refused")), c(&m.events_dropped_refused)),
        ],
    );
    counter(
        &mut out,
        "events_delivered_total",
        "Events delivered (a request may carry several).",
        &[(None, c(&m.events_delivered))],
    );
    counter(
        &mut out,
        "deliveries_succeeded_total",
        "Callback requests answered with success.",
        &[(None, c(&m.deliveries_succeeded))],
    );
    let failed: Vec<Sample<'_>> = Reason::ALL
        .iter()
        .zip(&m.deliveries_failed)
        .map(|(r, n)| (Some(("reason", r.name())), c(n)))
        .collect();
    counter(
        &mut out,
        "deliveries_failed_total",
        "Callback requests that failed, each attempt counted, by why: timeout, connect, tls, redirect, status_4xx, status_5xx, other.",
        &failed,
    );
    counter(
        &mut out,
        "deliveries_retried_total",
        "Failed callback requests that will be retried.",
        &[(None, c(&m.deliveries_retried))],
    );
    counter(
        &mut out,
        "hooks_removed_total",
        "Hooks removed because their endpoint failed too long or answered 410 Gone.",
        &[(None, c(&m.hooks_removed_on_failure))],
    );
    counter(
        &mut out,
        "redis_write_errors_total",
        "Writes to Redis that failed: mapping state or delivery queues.",
        &[
            (Some(("kind", "state")), c(&m.state_write_errors)),
            (Some(("kind", "queue")), c(&m.queue_write_errors)),
        ],
    );
    counter(
        &mut out,
        "redis_resubscriptions_total",
        "Redis subscriptions made again after one was lost: fell_behind when Redis closed it while running (client-output-buffer-limit pubsub; messages were lost), other for restarts and network failures.",
        &[
            (Some(("cause", "fell_behind")), c(&m.redis_resubscribed_fell_behind)),
            (Some(("cause", "other")), c(&m.redis_resubscribed_other)),
        ],
    );
    let ms = c(&m.redis_unsubscribed_ms);
    family(
        &mut out,
        "redis_unsubscribed_seconds_total",
        "counter",
        "Time without a Redis subscription: messages published then were not received.",
        [(&[][..], format_args!("{}.{:03}", ms / 1000, ms % 1000))],
    );
    counter(
        &mut out,
        "api_connections_shed_total",
        "API connections closed to make room for others: waiting longest for their request while all threads were busy, or refused with 503 at the queue's bound.",
        &[(None, api.shed.load(Ordering::Relaxed))],
    );
    counter(
        &mut out,
        "api_accept_errors_total",
        "API connections that could not be accepted (e.g. out of file descriptors).",
        &[(None, api.accept_errors.load(Ordering::Relaxed))],
    );
    gauge(
        &mut out,
        "hooks",
        "Registered hooks.",
        &[(None, hooks as u64)],
    );
    // The statuses of LRS queues (`lrs:<id>`) are xAPI's, rendered below.
    let hooks_only = || status.iter().filter(|(id, _)| !Target::is_lrs_queue(id));
    let failing = hooks_only().filter(|(_, s)| s.failing).count();
    gauge(
        &mut out,
        "hooks_failing",
        "Hooks whose retry schedule is exhausted and whose endpoint still fails.",
        &[(None, failing as u64)],
    );
    let mut pending: Vec<(&str, u64)> = hooks_only()
        .map(|(id, s)| (id.as_str(), s.pending as u64))
        .collect();
    pending.sort_unstable();
    let pending: Vec<(Option<(&str, &str)>, u64)> = pending
        .into_iter()
        .map(|(id, n)| (Some(("hook", id)), n))
        .collect();
    gauge(
        &mut out,
        "pending_events",
        "Events waiting for delivery, by hook id.",
        &pending,
    );
    gauge(
        &mut out,
        "queued_bytes",
        "Bytes the delivery queues hold together (bounded by BBB_WEBHOOKS_MAX_QUEUED_BYTES).",
        &[(None, c(&m.queued_bytes))],
    );
    gauge(
        &mut out,
        "queued_events",
        "Distinct events waiting for delivery (an event for several hooks counts once).",
        &[(None, c(&m.queued_events))],
    );
    gauge(
        &mut out,
        "meetings",
        "Meetings in the mapping state.",
        &[(None, c(&m.meetings))],
    );
    gauge(
        &mut out,
        "users",
        "Users in the mapping state.",
        &[(None, c(&m.users))],
    );
    gauge(
        &mut out,
        "redis_subscribed",
        "1 while the Redis subscription is up.",
        &[(None, u64::from(m.redis_subscribed.load(Ordering::Relaxed)))],
    );
    xapi::render(&mut out, m, status);
    if m.cluster.is_enabled() {
        crate::cluster::exposition::render(&mut out, &m.cluster.snapshot());
    }
    out
}

type Sample<'a> = (Option<(&'a str, &'a str)>, u64);

fn counter(out: &mut String, name: &str, help: &str, samples: &[Sample<'_>]) {
    let samples = samples
        .iter()
        .map(|(label, value)| (label.as_slice(), value));
    family(out, name, "counter", help, samples);
}

fn gauge(out: &mut String, name: &str, help: &str, samples: &[Sample<'_>]) {
    let samples = samples
        .iter()
        .map(|(label, value)| (label.as_slice(), value));
    family(out, name, "gauge", help, samples);
}

/// Writes the family `bbb_webhooks_<name>` of type `kind`: its HELP and
/// TYPE lines, then one line per sample, its labels (as `key`, `value`
/// pairs, in order; the values escaped) and its value.
pub(crate) fn family<'a, V: std::fmt::Display>(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    samples: impl IntoIterator<Item = (&'a [(&'a str, &'a str)], V)>,
) {
    let _ = writeln!(out, "# HELP bbb_webhooks_{name} {help}");
    let _ = writeln!(out, "# TYPE bbb_webhooks_{name} {kind}");
    for (labels, value) in samples {
        let _ = write!(out, "bbb_webhooks_{name}");
        for (i, (k, v)) in labels.iter().enumerate() {
            let open = if i == 0 { '{' } else { ',' };
            let _ = write!(out, "{open}{k}=\"{}\"", escape(v));
        }
        if !labels.is_empty() {
            out.push('}');
        }
        let _ = writeln!(out, " {value}");
    }
}

/// Escapes a label value: backslash, double quote and line feed.
pub(crate) fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_gauges_and_escaped_labels() {
        let m = Metrics::default();
        Metrics::add(&m.messages_received, 7);
        Metrics::add(&m.deliveries_succeeded, 3);
        Metrics::add(&m.deliveries_retried, 2);
        Metrics::add(&m.events_dropped_queue_full, 1);
        Metrics::add(&m.deliveries_failed[Reason::Status5xx.index()], 2);
        Metrics::set(&m.meetings, 4);
        m.redis_subscribed.store(true, Ordering::Relaxed);
        let mut status = HashMap::new();
        status.insert(
            "b\"x\\y\nz".to_owned(),
            HookStatus {
                pending: 5,
                failing: true,
                ..HookStatus::default()
            },
        );
        status.insert(
            "a".to_owned(),
            HookStatus {
                pending: 1,
                ..HookStatus::default()
            },
        );
        let api = http::Stats::default();
        api.shed.fetch_add(4, Ordering::Relaxed);
        let text = render(&m, &api, 9, &status);
        for line in [
            "# TYPE bbb_webhooks_messages_received_total counter",
            "bbb_webhooks_messages_received_total 7",
            "bbb_webhooks_deliveries_succeeded_total 3",
            "bbb_webhooks_deliveries_retried_total 2",
            "bbb_webhooks_deliveries_failed_total{reason=\"timeout\"} 0",
            "bbb_webhooks_deliveries_failed_total{reason=\"status_5xx\"} 2",
            "bbb_webhooks_events_dropped_total{reason=\"queue_full\"} 1",
            "# TYPE bbb_webhooks_hooks gauge",
            "bbb_webhooks_hooks 9",
            "bbb_webhooks_api_connections_shed_total 4",
            "bbb_webhooks_api_accept_errors_total 0",
            "bbb_webhooks_hooks_failing 1",
            "bbb_webhooks_meetings 4",
            "bbb_webhooks_users 0",
            "bbb_webhooks_redis_subscribed 1",
            "bbb_webhooks_pending_events{hook=\"a\"} 1",
            "bbb_webhooks_pending_events{hook=\"b\\\"x\\\\y\\nz\"} 5",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
        }
        // Every sample's family has HELP and TYPE; counters end in _total.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().expect("name");
            assert!(text.contains(&format!("# HELP {name} ")), "{name}");
            let typed = format!("# TYPE {name} counter");
            assert_eq!(text.contains(&typed), name.ends_with("_total"), "{name}");
        }
        assert!(
            !text.contains("cluster_"),
            "no cluster families off cluster mode"
        );
        // Labelled samples sort by hook id, so the output is stable.
        let a = text.find("{hook=\"a\"}").expect("a");
        let b = text.find("{hook=\"b").expect("b");
        assert!(a < b);
    }
}
