//! What comes back from the workers: acknowledged events leave their queue
//! (and the journal, and the ledger), a failure goes through the
//! [`retry::Policy`](super::retry::Policy): retry later, drop the head (an
//! LRS refused a statement for good) or give a hook up.

use std::cmp::Reverse;
use std::time::Instant;

use super::Scheduler;
use crate::delivery::outcome::Failure;
use crate::delivery::retry::Decision;
use crate::delivery::stall;
use crate::delivery::worker::Done;
use crate::delivery::Target;
use crate::metrics::Metrics;

impl Scheduler {
    pub(super) fn on_done(&mut self, done: Done) {
        if done.last {
            self.idle_workers += 1;
        }
        let id = done.hook_id;
        let Some(e) = self.entries.get_mut(&id) else {
            return;
        };
        self.changed.insert(id.clone());
        let f = match done.result {
            Ok(()) => {
                let acked = e.queue.ack(done.count, self.config.max_queue);
                if done.last {
                    e.queue.end_lease();
                }
                self.journal.ack(&e.list, acked.items.len());
                let per_request =
                    done.elapsed / u32::try_from(done.requests.max(1)).unwrap_or(u32::MAX);
                let waiting = e.queue.len().saturating_sub(e.queue.leased());
                if let Some(v) = e.stall.observe(per_request, done.requests, waiting) {
                    stall::log(&e.target, v);
                }
                Metrics::add(&self.metrics.deliveries_succeeded, done.requests as u64);
                Metrics::add(&self.metrics.events_delivered, acked.items.len() as u64);
                if let Target::Lrs(lrs) = &e.target {
                    let n = acked.items.len() as u64;
                    self.metrics.lrs(&lrs.id, |c| c.delivered += n);
                }
                if acked.recovered_after > 0 {
                    log::info!(
                        "{} works again after {} failed attempts",
                        e.target.logged(),
                        acked.recovered_after
                    );
                }
                if e.queue.is_idle() {
                    self.drop_entry(&id);
                } else {
                    self.mark_ready(&id);
                }
                self.release(&acked.items);
                return;
            }
            Err(f) => f,
        };
        self.on_failure(&id, f);
    }

    fn on_failure(&mut self, id: &str, f: Failure) {
        if let Some(c) = self.metrics.deliveries_failed.get(f.reason.index()) {
            Metrics::add(c, 1);
        }
        let Some(e) = self.entries.get_mut(id) else {
            return;
        };
        let lrs = match &e.target {
            Target::Lrs(lrs) => Some(lrs.clone()),
            Target::Hook(_) => None,
        };
        if let Some(lrs) = &lrs {
            self.metrics.lrs(&lrs.id, |c| c.failed += 1);
        }
        let (decision, at) = e
            .queue
            .fail(&f, &self.policy, e.target.permanent(), Instant::now());
        let (level, line) =
            self.policy
                .notice(&decision, &e.target, &f, e.queue.failures(), e.queue.len());
        log::log!(level, "{line}");
        match decision {
            Decision::GiveUp(_) => self.remove_hook(id),
            Decision::DropHead => {
                if let Some(item) = e.queue.drop_head() {
                    self.journal.ack(&e.list, 1);
                    Metrics::add(&self.metrics.events_dropped_refused, 1);
                    if let Some(lrs) = &lrs {
                        self.metrics.lrs(&lrs.id, |c| c.dropped += 1);
                    }
                    if e.queue.is_idle() {
                        self.drop_entry(id);
                    } else {
                        self.mark_ready(id);
                    }
                    self.release(&[item]);
                }
            }
            Decision::Retry { .. } => {
                Metrics::add(&self.metrics.deliveries_retried, 1);
                if let Some(at) = at {
                    self.timers.push(Reverse((at, e.id.clone())));
                }
            }
        }
    }

    /// Gives a hook up: removes it through the registry (Redis, then
    /// memory), then drops its queue. If Redis refuses, the hook stays and
    /// is retried on its schedule; the next failure tries again.
    fn remove_hook(&mut self, id: &str) {
        match self.hooks.remove(&mut self.conn, id) {
            Ok(removed) => {
                self.forget(id);
                if removed.is_some() {
                    Metrics::add(&self.metrics.hooks_removed_on_failure, 1);
                }
            }
            Err(err) => {
                log::error!("cannot remove hook {id} from Redis, keeping it for now: {err}");
                let wait = self.policy.intervals.last().copied().unwrap_or_default();
                let at = Instant::now() + wait;
                if let Some(e) = self.entries.get_mut(id) {
                    e.queue.defer(at);
                    self.timers.push(Reverse((at, e.id.clone())));
                }
            }
        }
    }

    /// A queue with nothing left is forgotten. (An LRS's destination
    /// record stays in Redis; the next start drops those without a queue.)
    pub(super) fn drop_entry(&mut self, id: &str) {
        self.entries.remove(id);
    }
}
