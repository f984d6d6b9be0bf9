//! What comes into the scheduler's queues and what leaves them other than
//! by delivery: events routed by ingest or the relay, the backlog read at
//! start, and the queues of removed hooks, each checked against the queue
//! cap and the [`Ledger`](super::Ledger) of all queues' memory and
//! journalled (inline for one target, else the payload once in the hash
//! and an id per target).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{Entry, Scheduler};
use crate::delivery::journal::destinations;
use crate::delivery::journal::load::Backlog;
use crate::delivery::ledger::Taken;
use crate::delivery::queue::{Pushed, Queue};
use crate::delivery::{Batch, Input, Item, Lrs, Target};
use crate::metrics::Metrics;

impl Scheduler {
    /// Takes up the queues read back at start (their events are in the
    /// ledger already), and says what loading cut.
    pub fn take_up(&mut self, backlog: Backlog) {
        let total: usize = backlog.queues.iter().map(|(_, items)| items.len()).sum();
        for (target, items) in backlog.queues {
            if let Target::Lrs(lrs) = &target {
                self.described.insert(lrs.id.clone());
            }
            let e = Entry::new(target, Queue::with_items(items));
            let id = e.id.clone();
            self.entries.insert(id.clone(), e);
            self.changed.insert(id.clone());
            self.mark_ready(&id);
        }
        if total > 0 {
            log::info!("resuming delivery of {total} queued events");
        }
        if backlog.unreadable > 0 {
            log::warn!(
                "skipped {} queued events that could not be read",
                backlog.unreadable
            );
        }
        if backlog.over_cap > 0 {
            Metrics::add(
                &self.metrics.events_dropped_queue_full,
                backlog.over_cap as u64,
            );
            log::error!(
                "dropped {} queued events over BBB_WEBHOOKS_MAX_QUEUE={} (the newest of each hook over it)",
                backlog.over_cap,
                self.config.max_queue
            );
        }
        if backlog.over_memory > 0 {
            Metrics::add(
                &self.metrics.events_dropped_memory_full,
                backlog.over_memory as u64,
            );
            log::error!(
                "dropped {} queued events over BBB_WEBHOOKS_MAX_QUEUED_BYTES={}",
                backlog.over_memory,
                self.config.max_queued_bytes
            );
        }
        self.publish_memory();
        self.publish_status();
    }

    pub(super) fn on_input(&mut self, input: Input) {
        match input {
            Input::Events(events) => self.enqueue_all(events),
            Input::Durable(events, written) => {
                self.enqueue_all(events);
                self.journal.notify(written);
            }
            Input::HookRemoved(id) => self.forget(&id),
        }
    }

    fn enqueue_all(&mut self, events: Batch) {
        for (item, targets) in events {
            let shared = targets.len() > 1;
            for target in targets {
                self.enqueue(target, &item, shared);
            }
        }
        self.publish_memory();
    }

    /// Drops a removed hook's queue: its job ends after the request under
    /// way, its journal list goes, and so do the payloads only it held.
    pub(super) fn forget(&mut self, id: &str) {
        if let Some(mut e) = self.entries.remove(id) {
            e.cancel.store(true, Ordering::Relaxed);
            self.journal.remove(&e.list);
            let items = e.queue.take_all();
            self.release(&items);
            self.changed.insert(e.id);
        } else {
            self.changed.insert(id.into());
        }
    }

    /// Queue entries that are gone: the payloads no queue holds any more
    /// are deleted from the journal.
    pub(super) fn release(&mut self, items: &[Item]) {
        for item in items {
            if self.ledger.release(&item.id) {
                self.journal.drop_event(&item.id);
            }
        }
        if self.memory_full && self.ledger.bytes() < self.config.max_queued_bytes / 2 {
            self.memory_full = false;
        }
        self.publish_memory();
    }

    /// Queues `item` for `target`; `shared`: it goes to other targets too.
    fn enqueue(&mut self, target: Target, item: &Item, shared: bool) {
        let e = match self.entries.get_mut(&*target.queue_key()) {
            Some(e) => e,
            None => {
                match &target {
                    // The hook may have been destroyed after ingest matched it.
                    Target::Hook(h) => {
                        if self.hooks.read().get(&h.id).is_none() {
                            return;
                        }
                    }
                    Target::Lrs(lrs) => self.describe(lrs),
                }
                let e = Entry::new(target, Queue::default());
                self.entries.entry(e.id.clone()).or_insert(e)
            }
        };
        self.changed.insert(e.id.clone());
        let cap = self.config.max_queue;
        if !e.queue.is_full(cap) {
            match self.ledger.take(&item.id, item.payload.len(), shared) {
                Taken::Full => {
                    e.queue.refuse();
                    Metrics::add(&self.metrics.events_dropped_memory_full, 1);
                    if !self.memory_full {
                        self.memory_full = true;
                        log::error!(
                            "the delivery queues hold {} bytes, BBB_WEBHOOKS_MAX_QUEUED_BYTES; newer events are dropped until they drain below half",
                            self.ledger.bytes()
                        );
                    }
                    return;
                }
                Taken::First if shared => self.journal.store(item),
                Taken::First | Taken::Again => {}
            }
        }
        match e.queue.push(item.clone(), cap) {
            Pushed::Queued => {
                self.journal
                    .push(&e.list, item, self.ledger.is_shared(&item.id));
                Metrics::add(&self.metrics.events_queued, 1);
                e.mark_ready(&mut self.ready);
            }
            Pushed::Dropped { first } => {
                Metrics::add(&self.metrics.events_dropped_queue_full, 1);
                if first {
                    log::error!(
                        "queue of {} is full with {} events; newer events are dropped until it drains",
                        e.target.logged(),
                        e.queue.len()
                    );
                }
            }
        }
    }

    /// Keeps an LRS destination in Redis (once per process), so its queue
    /// can be delivered after a restart.
    fn describe(&mut self, lrs: &Arc<Lrs>) {
        if self.described.contains(&lrs.id) {
            return;
        }
        match destinations::encode(lrs, &self.config.secret) {
            Ok(text) => {
                self.journal.destination(&lrs.id, Some(text));
                self.described.insert(lrs.id.clone());
            }
            Err(e) => log::error!("cannot encrypt LRS destination {}: {e}", lrs.id),
        }
    }

    /// Copies what the queues hold into the metrics.
    pub(super) fn publish_memory(&self) {
        Metrics::set(&self.metrics.queued_bytes, self.ledger.bytes() as u64);
        Metrics::set(&self.metrics.queued_events, self.ledger.events() as u64);
    }
}
