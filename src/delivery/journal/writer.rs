//! The journal's writer thread: applies the scheduler's records to a batch,
//! merged by list, and writes it in one MULTI/EXEC (group commit); after a
//! failed write, rewrites the lists it touched whole from the scheduler's
//! snapshots and stores or deletes the payloads again.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::{stored_value, ListEntry, Record, CHUNK, RETRY_WRITES_AFTER};
use crate::delivery::Item;
use crate::metrics::Metrics;
use crate::store::{keys, Conn};

/// What one write does to one hook's list. A hook's new events are appended
/// before its delivered ones are trimmed: the result is the same as in
/// arrival order (a trim never reaches past what was appended before it),
/// in two commands instead of one per event.
#[derive(Default)]
struct HookOps {
    /// The list is deleted first (the hook was removed).
    removed: bool,
    pushes: Vec<ListEntry>,
    acks: usize,
}

/// A list to be rewritten whole.
enum Mirror {
    /// Its snapshot has been asked for; records until then are in it.
    Waiting,
    /// The whole list, kept up to date until it is written.
    Ready(VecDeque<ListEntry>),
}

pub(super) struct Writer {
    conn: Conn,
    rx: Receiver<Vec<Record>>,
    want: Sender<Arc<str>>,
    /// List records since the last write, by hook, in first-touched order.
    batch: Vec<(Arc<str>, HookOps)>,
    index: HashMap<Arc<str>, usize>,
    mirrors: HashMap<Arc<str>, Mirror>,
    /// Payloads to store and to delete, kept until a write succeeds.
    stores: HashMap<Arc<str>, Item>,
    drops: HashSet<Arc<str>>,
    /// LRS destinations to store (`Some`) or delete, kept until written.
    destinations: HashMap<String, Option<String>>,
    /// Callers to tell how the next write went.
    notify: Vec<crossbeam_channel::Sender<bool>>,
    down: bool,
    retry_at: Option<Instant>,
    metrics: Arc<Metrics>,
}

impl Writer {
    pub(super) fn new(
        conn: Conn,
        rx: Receiver<Vec<Record>>,
        want: Sender<Arc<str>>,
        metrics: Arc<Metrics>,
    ) -> Writer {
        Writer {
            conn,
            rx,
            want,
            batch: Vec::new(),
            index: HashMap::new(),
            mirrors: HashMap::new(),
            stores: HashMap::new(),
            drops: HashSet::new(),
            destinations: HashMap::new(),
            notify: Vec::new(),
            down: false,
            retry_at: None,
            metrics,
        }
    }

    pub(super) fn run(mut self) {
        loop {
            let wait = match self.retry_at {
                Some(t) => t.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            match self.rx.recv_timeout(wait) {
                Ok(turn) => turn.into_iter().for_each(|r| self.apply(r)),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            // Everything that arrived meanwhile goes in the same write.
            while let Ok(turn) = self.rx.try_recv() {
                turn.into_iter().for_each(|r| self.apply(r));
            }
            if self.retry_at.is_none_or(|t| Instant::now() >= t) {
                self.write();
            }
        }
        self.write();
        if self.down {
            log::error!("stopping with delivery queues not written to Redis");
        }
    }

    fn ops_of(&mut self, hook: &Arc<str>) -> &mut HookOps {
        let i = match self.index.get(hook) {
            Some(i) => *i,
            None => {
                self.batch.push((hook.clone(), HookOps::default()));
                self.index.insert(hook.clone(), self.batch.len() - 1);
                self.batch.len() - 1
            }
        };
        &mut self.batch[i].1
    }

    fn apply(&mut self, r: Record) {
        match r {
            Record::Store(item) => {
                self.stores.insert(item.id.clone(), item);
            }
            Record::Drop(id) => {
                self.drops.insert(id);
            }
            Record::Destination(id, encoded) => {
                self.destinations.insert(id, encoded);
            }
            Record::Notify(tx) => self.notify.push(tx),
            Record::Push(h, id) => match self.mirrors.get_mut(&h) {
                Some(Mirror::Waiting) => {}
                Some(Mirror::Ready(list)) => list.push_back(id),
                None => self.ops_of(&h).pushes.push(id),
            },
            Record::Ack(h, n) => match self.mirrors.get_mut(&h) {
                Some(Mirror::Waiting) => {}
                Some(Mirror::Ready(list)) => {
                    list.drain(..n.min(list.len()));
                }
                None => self.ops_of(&h).acks += n,
            },
            Record::Remove(h) => match self.mirrors.get_mut(&h) {
                Some(m) => *m = Mirror::Ready(VecDeque::new()),
                None => {
                    *self.ops_of(&h) = HookOps {
                        removed: true,
                        ..HookOps::default()
                    }
                }
            },
            Record::Snapshot(h, ids) => {
                if let Some(m @ Mirror::Waiting) = self.mirrors.get_mut(&h) {
                    *m = Mirror::Ready(ids.into());
                }
            }
        }
    }

    /// The write of everything recorded: payloads stored, lists changed,
    /// payloads deleted, in one transaction. `None` when there is nothing.
    fn pipeline(&self) -> Option<(redis::Pipeline, Vec<Arc<str>>)> {
        let ready: Vec<(&Arc<str>, &VecDeque<ListEntry>)> = self
            .mirrors
            .iter()
            .filter_map(|(key, m)| match m {
                Mirror::Ready(list) => Some((key, list)),
                Mirror::Waiting => None,
            })
            .collect();
        if self.batch.is_empty()
            && ready.is_empty()
            && self.stores.is_empty()
            && self.drops.is_empty()
            && self.destinations.is_empty()
        {
            return None;
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        // A payload stored and deleted before it was written needs neither.
        let stores: Vec<(&str, String)> = self
            .stores
            .values()
            .filter(|i| !self.drops.contains(&i.id))
            .map(|i| (&*i.id, stored_value(i)))
            .collect();
        for chunk in stores.chunks(CHUNK) {
            pipe.hset_multiple(keys::EVENTS, chunk).ignore();
        }
        for (id, encoded) in &self.destinations {
            match encoded {
                Some(text) => pipe.hset(keys::XAPI_DESTINATIONS, id, text).ignore(),
                None => pipe.hdel(keys::XAPI_DESTINATIONS, id).ignore(),
            };
        }
        for (key, op) in &self.batch {
            let key: &str = key;
            if op.removed {
                pipe.del(key).ignore();
            }
            for chunk in op.pushes.chunks(CHUNK) {
                let entries: Vec<String> = chunk.iter().map(ListEntry::text).collect();
                pipe.rpush(key, entries).ignore();
            }
            if op.acks > 0 {
                pipe.ltrim(key, op.acks as isize, -1).ignore();
            }
        }
        let mut rewritten = Vec::with_capacity(ready.len());
        for (key, list) in ready {
            super::rewrite(&mut pipe, key, list);
            rewritten.push(key.clone());
        }
        let drops: Vec<&str> = self.drops.iter().map(|i| &**i).collect();
        for chunk in drops.chunks(CHUNK) {
            pipe.hdel(keys::EVENTS, chunk).ignore();
        }
        Some((pipe, rewritten))
    }

    fn write(&mut self) {
        let Some((pipe, rewritten)) = self.pipeline() else {
            for tx in self.notify.drain(..) {
                let _ = tx.send(true);
            }
            return;
        };
        let notify = std::mem::take(&mut self.notify);
        let result = self.conn.run(|c| pipe.query::<()>(c));
        let batch = std::mem::take(&mut self.batch);
        self.index.clear();
        match result {
            Ok(()) => {
                for hook in rewritten {
                    self.mirrors.remove(&hook);
                }
                self.stores.clear();
                self.drops.clear();
                self.destinations.clear();
                for tx in notify {
                    let _ = tx.send(true);
                }
                if self.down {
                    log::info!("delivery queues are written to Redis again");
                    self.down = false;
                }
                self.retry_at = None;
            }
            Err(e) => {
                Metrics::add(&self.metrics.queue_write_errors, 1);
                for tx in notify {
                    let _ = tx.send(false);
                }
                if !self.down {
                    log::warn!("cannot write delivery queues to Redis, keeping them in memory until it is back: {e}");
                    self.down = true;
                }
                self.retry_at = Some(Instant::now() + RETRY_WRITES_AFTER);
                // Whatever part of the write Redis took, rewriting these lists
                // whole from the scheduler's queues makes them right; the
                // payloads are stored and deleted again with the next write.
                for (hook, _) in batch {
                    self.mirrors.insert(hook.clone(), Mirror::Waiting);
                    if self.want.try_send(hook).is_err() {
                        log::error!("cannot ask for a delivery queue to rewrite");
                    }
                }
            }
        }
    }
}
