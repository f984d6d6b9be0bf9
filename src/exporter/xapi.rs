//! The xAPI families of `GET /metrics`: statements built, events that gave
//! none (by why), and per LRS (by destination id, never its URL or
//! credentials) what it took, failed, dropped and has pending. Pure, as
//! the rest of the rendering.

use std::collections::HashMap;

use super::{counter, gauge, Sample};
use crate::delivery::{HookStatus, Target};
use crate::metrics::{LrsCounts, Metrics};
use crate::xapi::Skip;

/// Appends the xAPI families to `out`.
pub(super) fn render(out: &mut String, m: &Metrics, status: &HashMap<String, HookStatus>) {
    counter(
        out,
        "xapi_statements_total",
        "xAPI statements built and queued for their LRS.",
        &[(None, Metrics::get(&m.xapi_statements))],
    );
    let skipped: Vec<Sample<'_>> = Skip::REASONS
        .iter()
        .zip(&m.xapi_skipped)
        .map(|(r, n)| (Some(("reason", *r)), Metrics::get(n)))
        .collect();
    counter(
        out,
        "xapi_skipped_total",
        "Mapped events that gave no xAPI statement, by why (ignored: not an event xAPI reports; see docs/xapi.md for the others).",
        &skipped,
    );
    let counts: Vec<(String, LrsCounts)> = crate::locks::lock(&m.xapi_lrs)
        .iter()
        .map(|(id, c)| (id.clone(), *c))
        .collect();
    let per_lrs = |f: fn(&LrsCounts) -> u64| -> Vec<Sample<'_>> {
        counts
            .iter()
            .map(|(id, c)| (Some(("lrs", id.as_str())), f(c)))
            .collect()
    };
    counter(
        out,
        "xapi_statements_delivered_total",
        "xAPI statements an LRS took (2xx), by LRS id.",
        &per_lrs(|c| c.delivered),
    );
    counter(
        out,
        "xapi_statement_attempts_failed_total",
        "Attempts at sending an xAPI statement that failed, each retry counted, by LRS id.",
        &per_lrs(|c| c.failed),
    );
    counter(
        out,
        "xapi_statements_dropped_total",
        "xAPI statements an LRS refused for good (400, 401, 403, 404 or 413, three times), dropped so the next could go, by LRS id.",
        &per_lrs(|c| c.dropped),
    );
    let mut pending: Vec<(&str, u64)> = status
        .iter()
        .filter_map(|(id, s)| Some((Target::lrs_id(id)?, s.pending as u64)))
        .collect();
    pending.sort_unstable();
    let pending: Vec<Sample<'_>> = pending
        .into_iter()
        .map(|(id, n)| (Some(("lrs", id)), n))
        .collect();
    gauge(
        out,
        "xapi_pending_statements",
        "xAPI statements waiting for their LRS (including the one in flight), by LRS id.",
        &pending,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lrs_queues_are_xapi_s_not_hooks() {
        let m = Metrics::default();
        Metrics::add(&m.xapi_statements, 3);
        Metrics::add(&m.xapi_skipped[Skip::UserUnknown.index()], 2);
        m.lrs("ab12", |c| {
            c.delivered += 5;
            c.failed += 1;
        });
        let mut status = HashMap::new();
        let queued = |pending, failing| HookStatus {
            pending,
            failing,
            ..HookStatus::default()
        };
        status.insert("lrs:ab12".to_owned(), queued(4, true));
        status.insert("h1".to_owned(), queued(1, false));
        let text = super::super::render(&m, &crate::http::Stats::default(), 1, &status);
        for line in [
            "bbb_webhooks_xapi_statements_total 3",
            "bbb_webhooks_xapi_skipped_total{reason=\"user_unknown\"} 2",
            "bbb_webhooks_xapi_skipped_total{reason=\"ignored\"} 0",
            "bbb_webhooks_xapi_statements_delivered_total{lrs=\"ab12\"} 5",
            "bbb_webhooks_xapi_statement_attempts_failed_total{lrs=\"ab12\"} 1",
            "bbb_webhooks_xapi_statements_dropped_total{lrs=\"ab12\"} 0",
            "bbb_webhooks_xapi_pending_statements{lrs=\"ab12\"} 4",
            "bbb_webhooks_pending_events{hook=\"h1\"} 1",
            "bbb_webhooks_hooks_failing 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
        }
        assert!(!text.contains("hook=\"lrs:"), "{text}");
    }
}
