//! One hook's queue as a state machine, without threads or I/O: events wait
//! in order; the head is leased to one worker at a time; acknowledged events
//! leave from the front; a failure ends the lease, keeps the events and
//! waits for the retry the [`retry::Policy`] decides. The scheduler owns one
//! per hook with something pending and does the I/O around it.

use std::collections::VecDeque;
use std::time::Instant;

use super::outcome::Failure;
use super::retry::{self, Decision};
use super::{HookStatus, Item};

/// What [`Queue::push`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// The queue is at its cap: the event was dropped and counted. `first`:
    /// the first drop since the queue last drained below half its cap (the
    /// one worth a log line).
    Dropped {
        first: bool,
    },
}

/// What [`Queue::ack`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Acked {
    /// Events that left the queue.
    pub delivered: usize,
    /// Failed attempts in a row before this success (0: none).
    pub recovered_after: usize,
}

/// One hook's pending events and delivery state.
#[derive(Debug, Default)]
pub struct Queue {
    items: VecDeque<Item>,
    /// Events at the head leased to a worker (0: no lease).
    leased: usize,
    /// Failed attempts in a row.
    failures: usize,
    /// While waiting for a retry: when it is due.
    retry_at: Option<Instant>,
    last_error: Option<String>,
    /// Events dropped because the queue was full, in all.
    dropped: u64,
    /// The queue hit its cap and has not drained below half since.
    overflowing: bool,
}

impl Queue {
    /// A queue holding `items` (events loaded back from Redis).
    pub fn with_items(items: impl IntoIterator<Item = Item>) -> Queue {
        Queue {
            items: items.into_iter().collect(),
            ..Queue::default()
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The pending events, oldest first.
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.items.iter()
    }

    /// Nothing pending and nothing leased: the queue can be forgotten.
    pub fn is_idle(&self) -> bool {
        self.items.is_empty() && self.leased == 0
    }

    /// Appends `item` unless `cap` events are pending.
    pub fn push(&mut self, item: Item, cap: usize) -> Pushed {
        if self.items.len() >= cap {
            self.dropped += 1;
            let first = !self.overflowing;
            self.overflowing = true;
            return Pushed::Dropped { first };
        }
        self.items.push_back(item);
        Pushed::Queued
    }

    /// Whether a worker can take the head now: something is pending, no
    /// lease is out and no retry is awaited.
    pub fn is_ready(&self) -> bool {
        self.leased == 0 && self.retry_at.is_none() && !self.items.is_empty()
    }

    /// Leases up to `max` events from the head, in order; `None` when not
    /// ready. Until [`Queue::ack`] (for all of them), [`Queue::end_lease`] or
    /// [`Queue::fail`], nothing else is leased.
    pub fn lease(&mut self, max: usize) -> Option<Vec<Item>> {
        if !self.is_ready() || max == 0 {
            return None;
        }
        let n = self.items.len().min(max);
        self.leased = n;
        Some(self.items.iter().take(n).cloned().collect())
    }

    /// Events leased and not yet acknowledged.
    pub fn leased(&self) -> usize {
        self.leased
    }

    /// The first `n` events were delivered: they leave the queue, and the
    /// failure streak ends. The lease goes on for the rest of its events.
    pub fn ack(&mut self, n: usize, cap: usize) -> Acked {
        let n = n.min(self.items.len());
        self.items.drain(..n);
        self.leased = self.leased.saturating_sub(n);
        let recovered_after = std::mem::take(&mut self.failures);
        self.last_error = None;
        if self.items.len() < cap / 2 {
            self.overflowing = false;
        }
        Acked {
            delivered: n,
            recovered_after,
        }
    }

    /// The lease is over (the worker posted what it took or stopped early);
    /// what was not acknowledged is leased again next time, first.
    pub fn end_lease(&mut self) {
        self.leased = 0;
    }

    /// An attempt failed: the lease ends, the events stay in order, and the
    /// policy decides. On a retry, the queue is not ready until
    /// [`Queue::retry_due`] at the returned time; the caller arms a timer.
    pub fn fail(
        &mut self,
        failure: &Failure,
        policy: &retry::Policy,
        permanent: bool,
        now: Instant,
    ) -> (Decision, Option<Instant>) {
        self.leased = 0;
        self.failures += 1;
        self.last_error = Some(failure.message.clone());
        let decision = policy.decide(self.failures, failure, permanent);
        let at = match decision {
            Decision::Retry { wait, .. } => {
                let at = now + wait;
                self.retry_at = Some(at);
                Some(at)
            }
            Decision::GiveUp(_) => None,
        };
        (decision, at)
    }

    /// Waits until `at` before the next lease without counting a failure
    /// (the caller could not carry out a decision and tries again then).
    pub fn defer(&mut self, at: Instant) {
        self.leased = 0;
        self.retry_at = Some(at);
    }

    /// A retry timer set for `at` fired: whether it was this queue's current
    /// one (the queue is ready again). Stale timers are ignored.
    pub fn retry_due(&mut self, at: Instant) -> bool {
        if self.retry_at == Some(at) {
            self.retry_at = None;
            true
        } else {
            false
        }
    }

    /// Failed attempts in a row.
    pub fn failures(&self) -> usize {
        self.failures
    }

    /// The status `hooks/list` shows; `attempts` is the policy's
    /// [`retry::Policy::attempts`].
    pub fn status(&self, attempts: usize) -> HookStatus {
        HookStatus {
            pending: self.items.len(),
            failing: self.failures >= attempts,
            failures: self.failures,
            last_error: self.last_error.clone(),
            dropped: self.dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::outcome::classify;
    use crate::delivery::retry::{GiveUp, Policy};
    use std::time::Duration;

    fn item(n: u32) -> Item {
        Item {
            id: format!("e-{n}").into(),
            payload: format!("{{\"n\":{n}}}").into(),
        }
    }

    fn queue(n: u32) -> Queue {
        Queue::with_items((0..n).map(item))
    }

    fn ids(items: &[Item]) -> Vec<String> {
        items.iter().map(|i| i.id.to_string()).collect()
    }

    fn policy() -> Policy {
        Policy {
            intervals: vec![Duration::from_millis(100), Duration::from_millis(500)],
            remove_failed: false,
        }
    }

    fn http(status: u16) -> Failure {
        classify(status, None, None).expect_err("a failure")
    }

    #[test]
    fn push_below_the_cap_queues_in_order() {
        let mut q = Queue::default();
        assert_eq!(q.push(item(1), 2), Pushed::Queued);
        assert_eq!(q.push(item(2), 2), Pushed::Queued);
        assert_eq!(ids(&q.lease(10).expect("ready")), ["e-1", "e-2"]);
    }

    #[test]
    fn push_at_the_cap_drops_and_says_first_once_until_drained() {
        let mut q = queue(4);
        assert_eq!(q.push(item(9), 4), Pushed::Dropped { first: true });
        assert_eq!(q.push(item(9), 4), Pushed::Dropped { first: false });
        assert_eq!(q.status(3).dropped, 2);
        q.lease(1);
        q.ack(1, 4);
        assert_eq!(q.push(item(9), 4), Pushed::Queued);
        assert_eq!(
            q.push(item(9), 4),
            Pushed::Dropped { first: false },
            "not below half yet"
        );
        q.lease(3);
        q.ack(3, 4);
        q.push(item(9), 4);
        q.push(item(9), 4);
        q.push(item(9), 4);
        assert_eq!(
            q.push(item(9), 4),
            Pushed::Dropped { first: true },
            "drained below half"
        );
    }

    #[test]
    fn lease_takes_up_to_n_from_the_head_and_only_one_lease_at_a_time() {
        let mut q = queue(5);
        assert_eq!(ids(&q.lease(3).expect("ready")), ["e-0", "e-1", "e-2"]);
        assert_eq!(q.leased(), 3);
        assert!(!q.is_ready());
        assert!(q.lease(3).is_none());
        assert!(Queue::default().lease(3).is_none(), "nothing pending");
    }

    #[test]
    fn acks_remove_from_the_front_as_the_lease_goes_on() {
        let mut q = queue(5);
        q.lease(3);
        assert_eq!(q.ack(2, 100).delivered, 2);
        assert_eq!(q.leased(), 1);
        assert!(!q.is_ready(), "still leased");
        q.ack(1, 100);
        assert_eq!(q.leased(), 0);
        assert_eq!(ids(&q.lease(10).expect("ready")), ["e-3", "e-4"]);
    }

    #[test]
    fn an_ended_lease_leases_the_unacknowledged_events_again_first() {
        let mut q = queue(4);
        q.lease(3);
        q.ack(1, 100);
        q.end_lease();
        assert_eq!(ids(&q.lease(10).expect("ready")), ["e-1", "e-2", "e-3"]);
    }

    #[test]
    fn after_a_failure_the_same_events_come_again_in_order_once_the_retry_is_due() {
        let mut q = queue(4);
        q.lease(4);
        q.ack(1, 100);
        let now = Instant::now();
        let (d, at) = q.fail(&http(500), &policy(), false, now);
        assert!(matches!(
            d,
            Decision::Retry {
                exhausted: false,
                ..
            }
        ));
        let at = at.expect("a retry time");
        assert_eq!(at, now + Duration::from_millis(100));
        assert!(!q.is_ready(), "waits for the retry");
        assert!(!q.retry_due(now), "a stale timer is ignored");
        assert!(q.retry_due(at));
        assert_eq!(ids(&q.lease(10).expect("ready")), ["e-1", "e-2", "e-3"]);
        let s = q.status(policy().attempts());
        assert_eq!((s.failures, s.last_error.as_deref()), (1, Some("HTTP 500")));
    }

    #[test]
    fn a_success_ends_the_failure_streak() {
        let mut q = queue(2);
        q.lease(1);
        let (_, at) = q.fail(&http(500), &policy(), false, Instant::now());
        q.retry_due(at.expect("retry"));
        q.lease(1);
        let a = q.ack(1, 100);
        assert_eq!(a.recovered_after, 1);
        assert_eq!(q.failures(), 0);
        assert_eq!(q.status(3).last_error, None);
    }

    #[test]
    fn an_exhausted_schedule_shows_as_failing() {
        let mut q = queue(1);
        let p = policy();
        for _ in 0..p.attempts() {
            q.lease(1);
            let (d, at) = q.fail(&http(503), &p, false, Instant::now());
            assert!(matches!(d, Decision::Retry { .. }));
            q.retry_due(at.expect("retry"));
        }
        let s = q.status(p.attempts());
        assert!(s.failing);
        assert_eq!(s.pending, 1);
    }

    #[test]
    fn a_410_gives_the_hook_up_and_arms_no_timer() {
        let mut q = queue(2);
        q.lease(2);
        let (d, at) = q.fail(&http(410), &policy(), false, Instant::now());
        assert_eq!(d, Decision::GiveUp(GiveUp::Gone));
        assert_eq!(at, None);
    }

    #[test]
    fn a_permanent_hook_is_retried_even_after_410() {
        let mut q = queue(1);
        q.lease(1);
        let (d, at) = q.fail(&http(410), &policy(), true, Instant::now());
        assert!(matches!(d, Decision::Retry { .. }));
        assert!(at.is_some());
    }

    #[test]
    fn retry_after_sets_the_retry_time() {
        let mut q = queue(1);
        q.lease(1);
        let f = classify(429, Some("7"), None).expect_err("429");
        let now = Instant::now();
        let (_, at) = q.fail(&f, &policy(), false, now);
        assert_eq!(at, Some(now + Duration::from_secs(7)));
    }

    #[test]
    fn a_deferred_queue_waits_without_counting_a_failure() {
        let mut q = queue(1);
        q.lease(1);
        let at = Instant::now() + Duration::from_secs(1);
        q.defer(at);
        assert!(!q.is_ready());
        assert_eq!(q.failures(), 0);
        assert!(q.retry_due(at));
        assert!(q.is_ready());
    }

    #[test]
    fn a_queue_with_nothing_pending_or_leased_is_idle() {
        let mut q = queue(1);
        assert!(!q.is_idle());
        q.lease(1);
        q.ack(1, 10);
        assert!(q.is_idle());
    }
}
