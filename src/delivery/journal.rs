//! The delivery journal: every event queued for a hook is kept in a Redis
//! LIST until its endpoint acknowledged it, so a restart or a crash loses
//! none. A thread of its own writes, so the scheduler never waits for Redis:
//! whatever was recorded while one write was under way goes out in the next
//! (group commit), merged by hook. When a write fails, the lists it touched
//! are rewritten whole from the scheduler's queues once Redis is back, which
//! stays correct however much of the failed write Redis applied.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, unbounded, Receiver, RecvTimeoutError, Sender};
use redis::Commands;

use super::Item;
use crate::hooks::Hook;
use crate::metrics::Metrics;
use crate::store::{keys, Conn};

/// Batches of records waiting for the writer (one batch per scheduler turn).
/// When full, the scheduler waits: the journal never falls further behind.
const BACKLOG: usize = 16;
/// How long after a failed write the next one is tried.
const RETRY_WRITES_AFTER: Duration = Duration::from_secs(1);

/// A list entry: `<event id>\n<JSON payload>`.
fn encode(item: &Item) -> String {
    format!("{}\n{}", item.id, item.payload)
}

fn decode(entry: &str) -> Option<Item> {
    let (id, payload) = entry.split_once('\n')?;
    Some(Item {
        id: id.into(),
        payload: payload.into(),
    })
}

/// What the scheduler records.
enum Record {
    Push(String, String),
    Ack(String, usize),
    Remove(String),
    /// A hook's whole queue, answering a [`Journal::wanted`] request.
    Snapshot(String, Vec<String>),
}

/// The scheduler's side of the journal.
pub struct Journal {
    tx: Sender<Vec<Record>>,
    /// Records of this scheduler turn, sent together by [`Journal::commit`].
    turn: Vec<Record>,
    wanted: Receiver<String>,
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

    fn send(&mut self, r: Record) {
        self.turn.push(r);
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

    /// A new event at the end of `hook`'s list.
    pub fn push(&mut self, hook: &str, item: &Item) {
        self.send(Record::Push(hook.to_owned(), encode(item)));
    }

    /// The first `count` events of `hook` were delivered.
    pub fn ack(&mut self, hook: &str, count: usize) {
        if count > 0 {
            self.send(Record::Ack(hook.to_owned(), count));
        }
    }

    /// `hook`'s list goes away.
    pub fn remove(&mut self, hook: &str) {
        self.send(Record::Remove(hook.to_owned()));
    }

    /// Hooks whose whole queue the writer needs (after a failed write); the
    /// scheduler answers each with [`Journal::snapshot`].
    pub fn wanted(&self) -> &Receiver<String> {
        &self.wanted
    }

    /// The whole queue of `hook` as it is now (empty if it has none).
    pub fn snapshot<'a>(&mut self, hook: &str, items: impl Iterator<Item = &'a Item>) {
        self.send(Record::Snapshot(
            hook.to_owned(),
            items.map(encode).collect(),
        ));
    }

    /// Lets the writer write what it has (one more try if Redis is away)
    /// and waits for it.
    pub fn finish(mut self) {
        self.commit();
        drop(self.tx);
        let _ = self.writer.join();
    }
}

/// Reads the pending events of `hook`, at most `max`. Entries that cannot
/// be read are skipped and counted.
fn load(conn: &mut Conn, hook: &str, max: usize) -> crate::error::Result<(Vec<Item>, usize)> {
    let entries: Vec<String> =
        conn.run(|c| c.lrange(keys::queue(hook), 0, max.saturating_sub(1) as isize))?;
    let total = entries.len();
    let items: Vec<Item> = entries.iter().filter_map(|e| decode(e)).collect();
    let bad = total - items.len();
    Ok((items, bad))
}

/// The pending events of each of `hooks` (at most `max` each), for the
/// hooks that have some; what cannot be read is logged and skipped.
pub fn load_backlog(
    conn: &mut Conn,
    hooks: Vec<Arc<Hook>>,
    max: usize,
) -> Vec<(Arc<Hook>, Vec<Item>)> {
    let mut backlog = Vec::new();
    let mut total = 0;
    for hook in hooks {
        match load(conn, &hook.id, max) {
            Ok((items, bad)) => {
                if bad > 0 {
                    log::warn!("skipped {bad} unreadable queued events of hook {}", hook.id);
                }
                if !items.is_empty() {
                    total += items.len();
                    backlog.push((hook, items));
                }
            }
            Err(e) => log::warn!("cannot load queued events of hook {}: {e}", hook.id),
        }
    }
    if total > 0 {
        log::info!("resuming delivery of {total} queued events");
    }
    backlog
}

/// What one write does to one hook's list. A hook's new events are appended
/// before its delivered ones are trimmed: the result is the same as in
/// arrival order (a trim never reaches past what was appended before it),
/// in two commands instead of one per event.
#[derive(Default)]
struct HookOps {
    /// The list is deleted first (the hook was removed).
    removed: bool,
    pushes: Vec<String>,
    acks: usize,
}

/// A list to be rewritten whole.
enum Mirror {
    /// Its snapshot has been asked for; records until then are in it.
    Waiting,
    /// The whole list, kept up to date until it is written.
    Ready(VecDeque<String>),
}

struct Writer {
    conn: Conn,
    rx: Receiver<Vec<Record>>,
    want: Sender<String>,
    /// Records since the last write, by hook, in first-touched order.
    batch: Vec<(String, HookOps)>,
    index: HashMap<String, usize>,
    mirrors: HashMap<String, Mirror>,
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

    fn ops_of(&mut self, hook: &str) -> &mut HookOps {
        let i = match self.index.get(hook) {
            Some(i) => *i,
            None => {
                self.batch.push((hook.to_owned(), HookOps::default()));
                self.index.insert(hook.to_owned(), self.batch.len() - 1);
                self.batch.len() - 1
            }
        };
        &mut self.batch[i].1
    }

    fn apply(&mut self, r: Record) {
        match r {
            Record::Push(h, entry) => match self.mirrors.get_mut(&h) {
                Some(Mirror::Waiting) => {}
                Some(Mirror::Ready(list)) => list.push_back(entry),
                None => self.ops_of(&h).pushes.push(entry),
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
            Record::Snapshot(h, entries) => {
                if let Some(m @ Mirror::Waiting) = self.mirrors.get_mut(&h) {
                    *m = Mirror::Ready(entries.into());
                }
            }
        }
    }

    fn write(&mut self) {
        let ready: Vec<&String> = self
            .mirrors
            .iter()
            .filter(|(_, m)| matches!(m, Mirror::Ready(_)))
            .map(|(h, _)| h)
            .collect();
        if self.batch.is_empty() && ready.is_empty() {
            return;
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (hook, op) in &self.batch {
            let key = keys::queue(hook);
            if op.removed {
                pipe.del(&key).ignore();
            }
            if !op.pushes.is_empty() {
                pipe.rpush(&key, &op.pushes).ignore();
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
                for chunk in list.iter().collect::<Vec<_>>().chunks(1000) {
                    pipe.rpush(&key, chunk).ignore();
                }
            }
            rewritten.push(hook.clone());
        }
        let result = self.conn.run(|c| pipe.query::<()>(c));
        let batch = std::mem::take(&mut self.batch);
        self.index.clear();
        match result {
            Ok(()) => {
                for hook in rewritten {
                    self.mirrors.remove(&hook);
                }
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
                // whole from the scheduler's queues makes them right.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip() {
        let item = Item {
            id: "1-2".into(),
            payload: r#"{"a":"b\nc"}"#.into(),
        };
        let back = decode(&encode(&item)).expect("decodes");
        assert_eq!(&*back.id, "1-2");
        assert_eq!(&*back.payload, &*item.payload);
        assert!(decode("no newline").is_none());
    }
}
