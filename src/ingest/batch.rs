//! What ingest and the cluster's relay endpoint both hand to delivery: the
//! events of one message (or one relayed POST), each with the hooks that
//! take it, and the ids those events are queued under.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::delivery::{Batch, Item, Target};
use crate::hooks::route::{self, route, Payload, Policy};
use crate::hooks::Hooks;
use crate::metrics::Metrics;

/// The events `refs` names, each with the hooks of `hooks` that take it
/// under `policy` (the events the policy keeps from every hook counted in
/// `metrics`). Each payload is made once, by `item`, however many hooks
/// share it, when a hook first takes it; `None` from `item` means the
/// payload goes to no hook.
pub(crate) fn batch(
    hooks: &Hooks,
    policy: &Policy,
    metrics: &Metrics,
    refs: &[route::Event<'_>],
    mut item: impl FnMut(Payload) -> Option<Item>,
) -> Batch {
    let routes = route(&hooks.read(), policy, refs);
    Metrics::add(&metrics.events_filtered, routes.filtered as u64);
    let mut batch: Batch = Vec::new();
    // Each payload made so far and its place in the batch.
    let mut slots: Vec<(Payload, usize)> = Vec::new();
    for (hook, payload) in routes.deliveries {
        let at = match slots.iter().find(|(p, _)| *p == payload) {
            Some((_, at)) => *at,
            None => {
                let Some(made) = item(payload) else {
                    continue;
                };
                batch.push((made, Vec::new()));
                slots.push((payload, batch.len() - 1));
                batch.len() - 1
            }
        };
        if let Some((_, targets)) = batch.get_mut(at) {
            targets.push(Target::Hook(hook));
        }
    }
    batch
}

/// Unique event ids: the start time in ms, a tag that tells the makers of
/// ids apart, and a counter (`<start>-<tag><n>`), so ids differ across
/// restarts too.
pub(crate) struct EventIds {
    start: u64,
    tag: &'static str,
    next: AtomicU64,
}

impl EventIds {
    /// Ids tagged `tag`, counted from 1.
    pub(crate) fn new(tag: &'static str) -> EventIds {
        EventIds {
            start: crate::clock::now_ms(),
            tag,
            next: AtomicU64::new(0),
        }
    }

    pub(crate) fn next(&self) -> Arc<str> {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{}-{}{n}", self.start, self.tag).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_count_from_one_after_the_start_and_tag() {
        let ids = EventIds::new("r");
        let start = ids.start;
        assert_eq!(&*ids.next(), format!("{start}-r1"));
        assert_eq!(&*ids.next(), format!("{start}-r2"));
        let untagged = EventIds::new("");
        assert_eq!(&*untagged.next(), format!("{}-1", untagged.start));
    }
}
