//! Cluster mode's families in the Prometheus text format, appended to the
//! metrics endpoint's by `exporter` once cluster mode runs: per pool server
//! (label `server`) the relay POSTs taken and refused, by why, and the
//! relay hooks created and in place; the pool's size and whether its source
//! answers. A pure function of the figures ([`super::stats`]).

use super::stats::{Figures, ServerFigures};
use crate::exporter::family;

/// Appends cluster mode's families to `out`.
pub fn render(out: &mut String, f: &Figures) {
    let per = |value: fn(&ServerFigures) -> u64| -> Vec<Labelled<'_>> {
        f.servers
            .iter()
            .map(|(id, s)| (vec![("server", id.as_str())], value(s)))
            .collect()
    };
    labelled(
        out,
        "cluster_relay_posts_total",
        "counter",
        "Relay POSTs from pool servers taken (answered 200 once their events were written to Redis), by server.",
        &per(|s| s.posts),
    );
    labelled(
        out,
        "cluster_relay_events_total",
        "counter",
        "Events in the relay POSTs taken, by server.",
        &per(|s| s.events),
    );
    let mut refused: Vec<Labelled<'_>> = Vec::new();
    for (id, s) in &f.servers {
        for (reason, n) in &s.refused {
            refused.push((vec![("server", id.as_str()), ("reason", reason)], *n));
        }
        for (reason, n) in [
            ("malformed", s.malformed),
            ("too_large", s.too_large),
            ("unavailable", s.unavailable),
        ] {
            refused.push((vec![("server", id.as_str()), ("reason", reason)], n));
        }
    }
    refused.push((vec![("reason", "unknown_server")], f.unknown_server));
    labelled(
        out,
        "cluster_relay_refused_total",
        "counter",
        "Relay POSTs not taken, by server and why: 401 for no_credentials, wrong_checksum, wrong_bearer or unknown_server (no server label), 400 malformed, 413 too_large, 503 unavailable (the server sends it again).",
        &refused,
    );
    labelled(
        out,
        "cluster_relay_hooks_created_total",
        "counter",
        "Relay hooks this service created on pool servers, by server.",
        &per(|s| s.relay_hooks_created),
    );
    labelled(
        out,
        "cluster_relay_hook_in_place",
        "gauge",
        "1 while the server's relay hook is in place (as of the last sync), by server.",
        &per(|s| u64::from(s.relay_in_place)),
    );
    let in_pool = f.servers.values().filter(|s| s.in_pool).count();
    labelled(
        out,
        "cluster_pool_servers",
        "gauge",
        "Servers in the pool.",
        &[(vec![], in_pool as u64)],
    );
    labelled(
        out,
        "cluster_pool_source_up",
        "gauge",
        "1 while the pool's source (Scalelite's Redis) answers; 0: the last known pool is used.",
        &[(vec![], u64::from(f.source_up))],
    );
}

type Labelled<'a> = (Vec<(&'a str, &'a str)>, u64);

/// A family whose samples have any number of labels.
fn labelled(out: &mut String, name: &str, kind: &str, help: &str, samples: &[Labelled<'_>]) {
    let samples = samples
        .iter()
        .map(|(labels, value)| (labels.as_slice(), value));
    family(out, name, kind, help, samples);
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::exporter::render;
    use crate::http;
    use crate::metrics::Metrics;

    #[test]
    fn cluster_families_per_server() {
        let m = Metrics::default();
        m.cluster.enable();
        m.cluster.taken("bbb1", 2);
        m.cluster
            .refused("bbb1", &crate::cluster::refusal::Refusal::WrongBearer);
        m.cluster.created("bbb1");
        m.cluster.synced(&[("bbb1".into(), true, true)], false);
        let text = render(&m, &http::Stats::default(), 0, &HashMap::new());
        for line in [
            "bbb_webhooks_cluster_relay_posts_total{server=\"bbb1\"} 1",
            "bbb_webhooks_cluster_relay_events_total{server=\"bbb1\"} 2",
            "bbb_webhooks_cluster_relay_refused_total{server=\"bbb1\",reason=\"wrong_bearer\"} 1",
            "bbb_webhooks_cluster_relay_refused_total{server=\"bbb1\",reason=\"unavailable\"} 0",
            "bbb_webhooks_cluster_relay_refused_total{reason=\"unknown_server\"} 0",
            "bbb_webhooks_cluster_relay_hooks_created_total{server=\"bbb1\"} 1",
            "bbb_webhooks_cluster_relay_hook_in_place{server=\"bbb1\"} 1",
            "bbb_webhooks_cluster_pool_servers 1",
            "bbb_webhooks_cluster_pool_source_up 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
        }
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().expect("name");
            let typed = format!("# TYPE {name} counter");
            assert_eq!(text.contains(&typed), name.ends_with("_total"), "{name}");
        }
    }
}
