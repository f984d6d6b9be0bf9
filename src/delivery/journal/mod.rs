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
mod writer;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};

use super::{Event, Item};
use crate::metrics::Metrics;
use crate::store::Conn;
use writer::Writer;

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

/// Adds to `pipe` the commands that make list `key` hold `entries`, in
/// order: the list is deleted, then filled [`CHUNK`] entries a command.
fn rewrite<'a>(
    pipe: &mut redis::Pipeline,
    key: &str,
    entries: impl IntoIterator<Item = &'a ListEntry>,
) {
    pipe.del(key).ignore();
    let mut chunk: Vec<String> = Vec::new();
    for entry in entries {
        chunk.push(entry.text());
        if chunk.len() == CHUNK {
            pipe.rpush(key, std::mem::take(&mut chunk)).ignore();
        }
    }
    if !chunk.is_empty() {
        pipe.rpush(key, chunk).ignore();
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
        let writer = Writer::new(conn, rx, want_tx, metrics);
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
