//! Reading the journal back at start, so that memory and Redis hold the
//! same queues: each hook's list is read whole, its events' payloads looked
//! up, and the queue cut where `BBB_WEBHOOKS_MAX_QUEUE` or
//! `BBB_WEBHOOKS_MAX_QUEUED_BYTES` (both may have been lowered since) says,
//! dropping the newer events as a full queue does, counted and logged. A
//! list that lost entries (cut, or unreadable) or that still has entries of
//! the older layout (`<id>\n<payload>` inline) is rewritten to match, and
//! payloads no list refers to any more are deleted.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use redis::Commands;

use super::{Item, CHUNK};
use crate::delivery::ledger::{Ledger, Taken};
use crate::delivery::Event;
use crate::hooks::Hook;
use crate::store::keys;

/// What [`load`] found.
#[derive(Debug, Default)]
pub struct Backlog {
    /// Each hook's pending events, oldest first, for the hooks that have some.
    pub queues: Vec<(Arc<Hook>, Vec<Item>)>,
    /// Events cut because a hook's queue was over its cap.
    pub over_cap: usize,
    /// Events cut because all queues together were over the memory bound.
    pub over_memory: usize,
    /// Entries that could not be read (no payload, not UTF-8).
    pub unreadable: usize,
}

/// A list entry as read.
enum Entry {
    /// This layout: the event id; the payload is in the events hash.
    Id(Arc<str>),
    /// The older layout: id and payload inline.
    Inline(Arc<str>, Box<str>),
}

fn parse(entry: Vec<u8>) -> Option<Entry> {
    let text = String::from_utf8(entry).ok()?;
    match text.split_once('\n') {
        Some((id, payload)) if !id.is_empty() => Some(Entry::Inline(id.into(), payload.into())),
        Some(_) => None,
        None if !text.is_empty() => Some(Entry::Id(text.into())),
        None => None,
    }
}

/// Reads every hook's queue back (see the module doc), with the ledger of
/// what the kept events cost (at most `max_bytes`), and writes what must
/// change for Redis to match. Safe to call again after a failure.
pub fn load(
    c: &mut redis::Connection,
    hooks: &[Arc<Hook>],
    max_queue: usize,
    max_bytes: usize,
) -> redis::RedisResult<(Backlog, Ledger)> {
    let mut ledger = Ledger::new(max_bytes);
    let mut lists: Vec<(&Arc<Hook>, Vec<Option<Entry>>)> = Vec::new();
    for hook in hooks {
        let raw: Vec<Vec<u8>> = c.lrange(keys::queue(&hook.id), 0, -1)?;
        if !raw.is_empty() {
            lists.push((hook, raw.into_iter().map(parse).collect()));
        }
    }
    // The payloads of this layout's entries, each looked up once.
    let mut wanted: Vec<Arc<str>> = Vec::new();
    let mut seen: HashSet<Arc<str>> = HashSet::new();
    for (_, entries) in &lists {
        for e in entries.iter().flatten() {
            if let Entry::Id(id) = e {
                if seen.insert(id.clone()) {
                    wanted.push(id.clone());
                }
            }
        }
    }
    let mut events: HashMap<Arc<str>, Item> = HashMap::new();
    for chunk in wanted.chunks(CHUNK) {
        let payloads: Vec<Option<Vec<u8>>> = redis::cmd("HMGET")
            .arg(keys::EVENTS)
            .arg(chunk.iter().map(|i| &**i).collect::<Vec<&str>>())
            .query(c)?;
        for (id, payload) in chunk.iter().zip(payloads) {
            if let Some(p) = payload.and_then(|p| String::from_utf8(p).ok()) {
                events.insert(id.clone(), Event::new(id.clone(), p));
            }
        }
    }
    let mut backlog = Backlog::default();
    let mut inline_kept: Vec<Item> = Vec::new();
    let mut pipe = redis::pipe();
    pipe.atomic();
    for (hook, entries) in lists {
        let read = entries.len();
        let mut items: Vec<Item> = Vec::with_capacity(read.min(max_queue));
        let mut rewrite = false;
        for entry in entries {
            let item = match entry {
                Some(Entry::Id(id)) => events.get(&id).cloned(),
                Some(Entry::Inline(id, payload)) => {
                    rewrite = true;
                    let item = events
                        .entry(id.clone())
                        .or_insert_with(|| Event::new(id, payload))
                        .clone();
                    inline_kept.push(item.clone());
                    Some(item)
                }
                None => None,
            };
            let Some(item) = item else {
                backlog.unreadable += 1;
                rewrite = true;
                continue;
            };
            if items.len() >= max_queue {
                backlog.over_cap += 1;
                rewrite = true;
                continue;
            }
            if ledger.take(&item.id, item.payload.len()) == Taken::Full {
                backlog.over_memory += 1;
                rewrite = true;
                continue;
            }
            items.push(item);
        }
        if rewrite {
            let key = keys::queue(&hook.id);
            pipe.del(&key).ignore();
            let ids: Vec<&str> = items.iter().map(|i| &*i.id).collect();
            for chunk in ids.chunks(CHUNK) {
                pipe.rpush(&key, chunk).ignore();
            }
        }
        if !items.is_empty() {
            backlog.queues.push((hook.clone(), items));
        }
    }
    // Payloads of the older layout that were kept move to the hash; those
    // no kept entry refers to go.
    let mut kept: HashSet<&str> = HashSet::new();
    for (_, items) in &backlog.queues {
        kept.extend(items.iter().map(|i| &*i.id));
    }
    let moved: Vec<(&str, &str)> = inline_kept
        .iter()
        .filter(|i| kept.contains(&*i.id))
        .map(|i| (&*i.id, &*i.payload))
        .collect();
    for chunk in moved.chunks(CHUNK) {
        pipe.hset_multiple(keys::EVENTS, chunk).ignore();
    }
    let stored: Vec<String> = c.hkeys(keys::EVENTS)?;
    let orphans: Vec<&str> = stored
        .iter()
        .map(String::as_str)
        .filter(|id| !kept.contains(id))
        .collect();
    for chunk in orphans.chunks(CHUNK) {
        pipe.hdel(keys::EVENTS, chunk).ignore();
    }
    pipe.query::<()>(c)?;
    Ok((backlog, ledger))
}
