//! The delivery journal: every event queued for a target (a hook or an LRS)
//! is kept in Redis until its endpoint acknowledged it, so a restart or a
//! crash loses none. Each target has a LIST of event ids (its
//! `Target::list_key`); each event's payload is stored once, in a HASH
//! ([`keys::EVENTS`]), however many targets it is queued for, and deleted
//! when the last of them is done with it. An LRS's destination is kept
//! while it has a queue ([`destinations`]).
//!
//! A thread of its own writes, so the scheduler never waits for Redis:
//! whatever was recorded while one write was under way goes out in the next
//! (group commit), merged by hook, in one MULTI/EXEC. When a write fails,
//! the lists it touched are rewritten whole from the scheduler's queues
//! once Redis is back, and the payloads it stored or deleted are stored or
//! deleted again, which stays correct however much of the failed write
//! Redis applied. [`load`] reads it all back at start.

pub mod destinations;
pub mod load;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, unbounded, Receiver, RecvTimeoutError, Sender};

use super::{Event, Item};
use crate::metrics::Metrics;
use crate::store::{keys, Conn};

/// Batches of records waiting for the writer (one batch per scheduler turn).
/// When full, the scheduler waits: the journal never falls further behind.
const BACKLOG: usize = 16;
/// How long after a failed write the next one is tried.
const RETRY_WRITES_AFTER: Duration = Duration::from_secs(1);
/// Most values per command in a write.
const CHUNK: usize = 1000;

/// The value an event has in [`keys::EVENTS`]: its payload, after the
/// callbacks' domain when it has its own (`d:<domain>\n<payload>`; a payload
/// is a JSON object, so it never starts with `d:`).
pub fn stored_value(item: &Item) -> String {
    match &item.domain {
        Some(d) => format!("d:{d}\n{}", item.payload),
        None => item.payload.to_string(),
    }
}

/// The event stored under `id` with `value` (see [`stored_value`]).
pub fn from_stored(id: Arc<str>, value: &str) -> Item {
    match value.strip_prefix("d:").and_then(|v| v.split_once('\n')) {
        Some((domain, payload)) => Event::from_domain(id, payload, Some(domain.into())),
        None => Event::new(id, value),
    }
}

/// One entry of a list: an event's id when its payload is in the hash (it
/// is shared by several lists), or id and payload inline
/// (`<id>\n<stored value>`) when only this list has it.
#[derive(Clone, Debug)]
pub enum ListEntry {
    Id(Arc<str>),
    Inline(Item),
}

impl ListEntry {
    /// The entry for `item`, as the ledger keeps it.
    pub fn of(item: &Item, shared: bool) -> ListEntry {
        if shared {
            ListEntry::Id(item.id.clone())
        } else {
            ListEntry::Inline(item.clone())
        }
    }

    fn text(&self) -> String {
        match self {
            ListEntry::Id(id) => id.to_string(),
            ListEntry::Inline(item) => format!("{}\n{}", item.id, stored_value(item)),
        }
    }
}

/// What the scheduler records. Lists are named by their Redis key.
enum Record {
    /// A new event: store its payload (its first target took it).
    Store(Item),
    /// An event's last target is done with it: delete its payload.
    Drop(Arc<str>),
    /// An entry at the end of a list.
    Push(Arc<str>, ListEntry),
    /// The first n events of a list were delivered (or dropped).
    Ack(Arc<str>, usize),
    /// A list goes away.
    Remove(Arc<str>),
    /// A whole list, answering a [`Journal::wanted`] request.
    Snapshot(Arc<str>, Vec<ListEntry>),
    /// An LRS destination (id, encrypted) is kept, or (`None`) no more.
    Destination(String, Option<String>),
    /// Say whether everything recorded before this is written.
    Notify(crossbeam_channel::Sender<bool>),
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
            destinations: HashMap::new(),
            notify: Vec::new(),
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

    /// An LRS destination with statements queued, `encoded` by
    /// [`destinations::encode`], is kept; with `None`, no more.
    pub fn destination(&mut self, id: &str, encoded: Option<String>) {
        self.turn.push(Record::Destination(id.to_owned(), encoded));
    }

    /// `tx` hears `true` once everything recorded so far is written to
    /// Redis, or `false` if the write failed (it is tried again later).
    pub fn notify(&mut self, tx: crossbeam_channel::Sender<bool>) {
        self.turn.push(Record::Notify(tx));
    }

    /// A new event, queued for its first target: its payload is stored.
    pub fn store(&mut self, item: &Item) {
        self.turn.push(Record::Store(item.clone()));
    }

    /// No hook holds event `id` any more: its payload goes.
    pub fn drop_event(&mut self, id: &Arc<str>) {
        self.turn.push(Record::Drop(id.clone()));
    }

    /// Event `item` at the end of list `list`; `shared`: its payload is in
    /// the hash (see [`ListEntry`]).
    pub fn push(&mut self, list: &Arc<str>, item: &Item, shared: bool) {
        self.turn
            .push(Record::Push(list.clone(), ListEntry::of(item, shared)));
    }

    /// The first `count` events of list `list` were delivered.
    pub fn ack(&mut self, list: &Arc<str>, count: usize) {
        if count > 0 {
            self.turn.push(Record::Ack(list.clone(), count));
        }
    }

    /// List `list` goes away.
    pub fn remove(&mut self, list: &Arc<str>) {
        self.turn.push(Record::Remove(list.clone()));
    }

    /// Lists whose whole content the writer needs (after a failed write); the
    /// scheduler answers each with [`Journal::snapshot`].
    pub fn wanted(&self) -> &Receiver<Arc<str>> {
        &self.wanted
    }

    /// The whole list `list` as it is now (empty if it has none).
    pub fn snapshot(&mut self, list: &Arc<str>, entries: Vec<ListEntry>) {
        self.turn.push(Record::Snapshot(list.clone(), entries));
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
    /// LRS destinations to store (`Some`) or delete, kept until written.
    destinations: HashMap<String, Option<String>>,
    /// Callers to tell how the next write went.
    notify: Vec<crossbeam_channel::Sender<bool>>,
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
        for key in ready {
            if let Some(Mirror::Ready(list)) = self.mirrors.get(key) {
                pipe.del(&**key).ignore();
                let entries: Vec<String> = list.iter().map(ListEntry::text).collect();
                for chunk in entries.chunks(CHUNK) {
                    pipe.rpush(&**key, chunk).ignore();
                }
            }
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
