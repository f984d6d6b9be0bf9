//! The delivery journal: every event queued for a hook is kept in Redis
//! until its endpoint acknowledged it, so a restart or a crash loses none.
//! Each hook has a LIST of event ids ([`keys::queue`]); each event's payload
//! is stored once, in a HASH ([`keys::EVENTS`]), however many hooks it is
//! queued for, and deleted when the last of them is done with it.
//!
//! A thread of its own writes, so the scheduler never waits for Redis:
//! whatever was recorded while one write was under way goes out in the next
//! (group commit), merged by hook, in one MULTI/EXEC. When a write fails,
//! the lists it touched are rewritten whole from the scheduler's queues
//! once Redis is back, and the payloads it stored or deleted are stored or
//! deleted again, which stays correct however much of the failed write
//! Redis applied. [`load`] reads it all back at start.

pub mod load;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, unbounded, Receiver, RecvTimeoutError, Sender};

use super::Item;
use crate::metrics::Metrics;
use crate::store::{keys, Conn};

/// Batches of records waiting for the writer (one batch per scheduler turn).
/// When full, the scheduler waits: the journal never falls further behind.
const BACKLOG: usize = 16;
/// How long after a failed write the next one is tried.
const RETRY_WRITES_AFTER: Duration = Duration::from_secs(1);
/// Most values per command in a write.
const CHUNK: usize = 1000;

/// What the scheduler records.
enum Record {
    /// A new event: store its payload (its first hook took it).
    Store(Item),
    /// An event's last hook is done with it: delete its payload.
    Drop(Arc<str>),
    /// An event id at the end of a hook's list.
    Push(Arc<str>, Arc<str>),
    /// The first n events of a hook's list were delivered.
    Ack(Arc<str>, usize),
    /// A hook's list goes away.
    Remove(Arc<str>),
    /// A hook's whole list, answering a [`Journal::wanted`] request.
    Snapshot(Arc<str>, Vec<Arc<str>>),
}

/// The scheduler's side of the journal.
pub struct Journal {
    tx: Sender<Vec<Record>>,
    /// Records of this scheduler turn, sent together by [`Journal::commit`].
    turn: Vec<Record>,
    wanted: Receiver<Arc<str>>,
    writer: JoinHandle<()>,
}

impl Journal {
    /// Starts the writer thread.
    pub fn start(conn: Conn, metrics: Arc<Metrics>) -> std::io::Result<Journal> {
        let (tx, rx) = bounded(BACKLOG);
        // At most one request per hook is outstanding (its list stays
        // `Waiting` until the snapshot comes), so this holds at most one
        // entry per registered hook.
        let (want_tx, wanted) = unbounded();
        let writer = Writer {
            conn,
            rx,
            want: want_tx,
            batch: Vec::new(),
            index: HashMap::new(),
            mirrors: HashMap::new(),
            stores: HashMap::new(),
            drops: HashSet::new(),
            down: false,
            retry_at: None,
            metrics,
        };
        let writer = std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || writer.run())?;
        Ok(Journal {
            tx,
            turn: Vec::new(),
            wanted,
            writer,
        })
    }

    /// Hands this turn's records to the writer. The scheduler calls it after
    /// starting the turn's requests, so they do not wait for it.
    pub fn commit(&mut self) {
        if self.turn.is_empty() {
            return;
        }
        let turn = std::mem::take(&mut self.turn);
        if self.tx.send(turn).is_err() {
            log::error!("the delivery journal has stopped");
        }
    }

    /// A new event, queued for its first hook: its payload is stored.
    pub fn store(&mut self, item: &Item) {
        self.turn.push(Record::Store(item.clone()));
    }

    /// No hook holds event `id` any more: its payload goes.
    pub fn drop_event(&mut self, id: &Arc<str>) {
        self.turn.push(Record::Drop(id.clone()));
    }

    /// Event `item` at the end of `hook`'s list.
    pub fn push(&mut self, hook: &Arc<str>, item: &Item) {
        self.turn.push(Record::Push(hook.clone(), item.id.clone()));
    }

    /// The first `count` events of `hook` were delivered.
    pub fn ack(&mut self, hook: &Arc<str>, count: usize) {
        if count > 0 {
            self.turn.push(Record::Ack(hook.clone(), count));
        }
    }

    /// `hook`'s list goes away.
    pub fn remove(&mut self, hook: &Arc<str>) {
        self.turn.push(Record::Remove(hook.clone()));
    }

    /// Hooks whose whole list the writer needs (after a failed write); the
    /// scheduler answers each with [`Journal::snapshot`].
    pub fn wanted(&self) -> &Receiver<Arc<str>> {
        &self.wanted
    }

    /// The whole queue of `hook` as it is now (empty if it has none).
    pub fn snapshot<'a>(&mut self, hook: &Arc<str>, items: impl Iterator<Item = &'a Item>) {
        let ids = items.map(|i| i.id.clone()).collect();
        self.turn.push(Record::Snapshot(hook.clone(), ids));
    }

    /// Lets the writer write what it has (one more try if Redis is away)
    /// and waits for it until `deadline`.
    pub fn finish(mut self, deadline: Instant) {
        self.commit();
        drop(self.tx);
        crate::http::join_until(vec![self.writer], deadline);
    }
}

/// What one write does to one hook's list. A hook's new events are appended
/// before its delivered ones are trimmed: the result is the same as in
/// arrival order (a trim never reaches past what was appended before it),
/// in two commands instead of one per event.
#[derive(Default)]
struct HookOps {
    /// The list is deleted first (the hook was removed).
    removed: bool,
    pushes: Vec<Arc<str>>,
    acks: usize,
}

/// A list to be rewritten whole.
enum Mirror {
    /// Its snapshot has been asked for; records until then are in it.
    Waiting,
    /// The whole list, kept up to date until it is written.
    Ready(VecDeque<Arc<str>>),
}

struct Writer {
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
    down: bool,
    retry_at: Option<Instant>,
    metrics: Arc<Metrics>,
}

impl Writer {
    fn run(mut self) {
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
        let ready: Vec<&Arc<str>> = self
            .mirrors
            .iter()
            .filter(|(_, m)| matches!(m, Mirror::Ready(_)))
            .map(|(h, _)| h)
            .collect();
        if self.batch.is_empty()
            && ready.is_empty()
            && self.stores.is_empty()
            && self.drops.is_empty()
        {
            return None;
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        // A payload stored and deleted before it was written needs neither.
        let stores: Vec<(&str, &str)> = self
            .stores
            .values()
            .filter(|i| !self.drops.contains(&i.id))
            .map(|i| (&*i.id, &*i.payload))
            .collect();
        for chunk in stores.chunks(CHUNK) {
            pipe.hset_multiple(keys::EVENTS, chunk).ignore();
        }
        for (hook, op) in &self.batch {
            let key = keys::queue(hook);
            if op.removed {
                pipe.del(&key).ignore();
            }
            for chunk in op.pushes.chunks(CHUNK) {
                let ids: Vec<&str> = chunk.iter().map(|i| &**i).collect();
                pipe.rpush(&key, ids).ignore();
            }
            if op.acks > 0 {
                pipe.ltrim(&key, op.acks as isize, -1).ignore();
            }
        }
        let mut rewritten = Vec::with_capacity(ready.len());
        for hook in ready {
            if let Some(Mirror::Ready(list)) = self.mirrors.get(hook) {
                let key = keys::queue(hook);
                pipe.del(&key).ignore();
                let ids: Vec<&str> = list.iter().map(|i| &**i).collect();
                for chunk in ids.chunks(CHUNK) {
                    pipe.rpush(&key, chunk).ignore();
                }
            }
            rewritten.push(hook.clone());
        }
        let drops: Vec<&str> = self.drops.iter().map(|i| &**i).collect();
        for chunk in drops.chunks(CHUNK) {
            pipe.hdel(keys::EVENTS, chunk).ignore();
        }
        Some((pipe, rewritten))
    }

    fn write(&mut self) {
        let Some((pipe, rewritten)) = self.pipeline() else {
            return;
        };
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
                if self.down {
                    log::info!("delivery queues are written to Redis again");
                    self.down = false;
                }
                self.retry_at = None;
            }
            Err(e) => {
                Metrics::add(&self.metrics.queue_write_errors, 1);
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
