//! One hook's queue as a state machine, without threads or I/O: events wait
//! in order; the head is leased to one worker at a time; acknowledged events
//! leave from the front; a failure ends the lease, keeps the events and
//! waits for the retry the [`retry::Policy`] decides. The scheduler owns one
//! per hook with something pending and does the I/O around it.

use std::collections::VecDeque;
use std::time::Instant;

use super::outcome::{Failure, Reason};
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acked {
    /// The events that left the queue, oldest first.
    pub items: Vec<Item>,
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
    last_error: Option<(Reason, String)>,
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

    /// The pending events, oldest first.
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.items.iter()
    }

    /// Nothing pending and nothing leased: the queue can be forgotten.
    pub fn is_idle(&self) -> bool {
        self.items.is_empty() && self.leased == 0
    }

    /// Whether `cap` events are pending: a push would be dropped.
    pub fn is_full(&self, cap: usize) -> bool {
        self.items.len() >= cap
    }

    /// Counts an event that could not be queued for another reason (the
    /// memory bound), as a full queue counts its drops.
    pub fn refuse(&mut self) {
        self.dropped += 1;
    }

    /// Takes every pending event out (the hook is gone).
    pub fn take_all(&mut self) -> Vec<Item> {
        self.leased = 0;
        self.items.drain(..).collect()
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
        let items: Vec<Item> = self.items.drain(..n).collect();
        self.leased = self.leased.saturating_sub(n);
        let recovered_after = std::mem::take(&mut self.failures);
        self.last_error = None;
        if self.items.len() < cap / 2 {
            self.overflowing = false;
        }
        Acked {
            items,
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
        self.last_error = Some((failure.reason, failure.message.clone()));
        let decision = policy.decide(self.failures, failure, permanent);
        let at = match decision {
            Decision::Retry { wait, .. } => {
                let at = now + wait;
                self.retry_at = Some(at);
                Some(at)
            }
            Decision::GiveUp(_) | Decision::DropHead => None,
        };
        (decision, at)
    }

    /// Drops the event at the head (the destination refused it for good):
    /// the next one is ready at once, with a new failure streak.
    pub fn drop_head(&mut self) -> Option<Item> {
        self.leased = 0;
        self.failures = 0;
        self.retry_at = None;
        self.dropped += 1;
        self.items.pop_front()
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
            last_error: self.last_error.as_ref().map(|(_, m)| m.clone()),
            last_reason: self.last_error.as_ref().map(|(r, _)| *r),
            dropped: self.dropped,
        }
    }
}

#[cfg(test)]
mod tests;
