//! The delivery journal: every event queued for a hook is kept in a Redis
//! LIST until its endpoint acknowledged it, so a restart or a crash loses
//! none. Writes are gathered and sent as one pipeline per scheduler turn.
//! When Redis is away, events stay in memory and the affected lists are
//! rewritten whole from memory once Redis is back.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::Commands;

use super::Item;
use crate::metrics::Metrics;
use crate::store::Conn;

/// LIST prefix of a hook's pending events: `QUEUE_PREFIX` + hook id. Each
/// entry is `<event id>\n<JSON payload>`.
pub const QUEUE_PREFIX: &str = "bigbluebutton:webhooks:out:queue:";

/// What one flush writes for one hook. Within a flush, a hook's new events
/// are appended before its delivered ones are trimmed: the result is the
/// same as in arrival order (a trim never reaches past what was appended
/// before it), in two commands instead of one per event.
#[derive(Default)]
struct HookOps {
    /// The list is deleted first (the hook was removed).
    removed: bool,
    pushes: Vec<String>,
    acks: usize,
}

pub struct Journal {
    conn: Conn,
    /// Writes gathered since the last flush, by hook, in first-touched order.
    ops: Vec<(String, HookOps)>,
    index: HashMap<String, usize>,
    /// Hooks whose Redis list may differ from memory; rewritten on next flush.
    dirty: HashSet<String>,
    down: bool,
    /// After a failed write, the next one waits until then.
    retry_at: Option<Instant>,
    metrics: Arc<Metrics>,
}

/// How long after a failed write the journal tries again.
const RETRY_WRITES_AFTER: Duration = Duration::from_secs(1);

fn key(hook: &str) -> String {
    format!("{QUEUE_PREFIX}{hook}")
}

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

impl Journal {
    pub fn new(conn: Conn, metrics: Arc<Metrics>) -> Journal {
        Journal {
            conn,
            ops: Vec::new(),
            index: HashMap::new(),
            dirty: HashSet::new(),
            down: false,
            retry_at: None,
            metrics,
        }
    }

    /// The Redis connection, for other writes the scheduler makes.
    pub fn conn(&mut self) -> &mut Conn {
        &mut self.conn
    }

    fn ops_of(&mut self, hook: &str) -> &mut HookOps {
        let i = match self.index.get(hook) {
            Some(i) => *i,
            None => {
                self.ops.push((hook.to_owned(), HookOps::default()));
                self.index.insert(hook.to_owned(), self.ops.len() - 1);
                self.ops.len() - 1
            }
        };
        &mut self.ops[i].1
    }

    /// Records a new event at the end of `hook`'s list. (A list that will be
    /// rewritten whole needs no separate record.)
    pub fn push(&mut self, hook: &str, item: &Item) {
        if !self.dirty.contains(hook) {
            self.ops_of(hook).pushes.push(encode(item));
        }
    }

    /// Records that the first `count` events of `hook` were delivered.
    pub fn ack(&mut self, hook: &str, count: usize) {
        if count > 0 && !self.dirty.contains(hook) {
            self.ops_of(hook).acks += count;
        }
    }

    /// Records that `hook`'s list goes away.
    pub fn remove(&mut self, hook: &str) {
        let ops = self.ops_of(hook);
        *ops = HookOps {
            removed: true,
            ..HookOps::default()
        };
    }

    /// Whether there is anything to write.
    pub fn has_work(&self) -> bool {
        !self.ops.is_empty() || !self.dirty.is_empty()
    }

    /// Writes what was gathered. `queues` is the in-memory truth used to
    /// rewrite lists that a failed write left out of step.
    pub fn flush<'a>(&mut self, queue_of: impl Fn(&str) -> Option<&'a VecDeque<Item>>) {
        if !self.has_work() || self.retry_at.is_some_and(|t| Instant::now() < t) {
            return;
        }
        let ops = std::mem::take(&mut self.ops);
        self.index.clear();
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (hook, op) in &ops {
            if self.dirty.contains(hook) {
                continue;
            }
            let key = key(hook);
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
        for hook in &self.dirty {
            pipe.del(key(hook)).ignore();
            if let Some(items) = queue_of(hook) {
                for chunk in items.iter().collect::<Vec<_>>().chunks(1000) {
                    let entries: Vec<String> = chunk.iter().map(|i| encode(i)).collect();
                    pipe.rpush(key(hook), entries).ignore();
                }
            }
        }
        match self.conn.run(|c| pipe.query::<()>(c)) {
            Ok(()) => {
                if self.down {
                    log::info!("delivery queues are written to Redis again");
                    self.down = false;
                }
                self.retry_at = None;
                self.dirty.clear();
            }
            Err(e) => {
                Metrics::add(&self.metrics.queue_write_errors, 1);
                if !self.down {
                    log::warn!("cannot write delivery queues to Redis, keeping them in memory until it is back: {e}");
                    self.down = true;
                }
                self.retry_at = Some(Instant::now() + RETRY_WRITES_AFTER);
                // Rewrite these lists whole from memory (or delete them, for
                // hooks that are gone) once Redis is back.
                for (hook, _) in ops {
                    self.dirty.insert(hook);
                }
            }
        }
    }

    /// Reads the pending events of `hook`, at most `max`. Entries that cannot
    /// be read are skipped and counted.
    pub fn load(&mut self, hook: &str, max: usize) -> crate::error::Result<(Vec<Item>, usize)> {
        let entries: Vec<String> = self
            .conn
            .run(|c| c.lrange(key(hook), 0, max.saturating_sub(1) as isize))?;
        let total = entries.len();
        let items: Vec<Item> = entries.iter().filter_map(|e| decode(e)).collect();
        let bad = total - items.len();
        Ok((items, bad))
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
