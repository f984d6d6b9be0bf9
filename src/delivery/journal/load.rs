//! Reading the journal back at start, so that memory and Redis hold the
//! same queues: each target's list is read whole, its events' payloads looked
//! up, and the queue cut where `BBB_WEBHOOKS_MAX_QUEUE` or
//! `BBB_WEBHOOKS_MAX_QUEUED_BYTES` (both may have been lowered since) says,
//! dropping the newer events as a full queue does, counted and logged. A
//! list that lost entries (cut, or unreadable) is rewritten to match, and
//! payloads no list refers to any more are deleted. Entries inline
//! (`<id>\n<payload>`) are those of events for one target, and what earlier
//! versions wrote for every event: both load the same way.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use redis::Commands;

use super::{Item, ListEntry, CHUNK};
use crate::delivery::ledger::{Ledger, Taken};
use crate::delivery::Target;
use crate::store::keys;

/// What [`load`] found.
#[derive(Debug, Default)]
pub struct Backlog {
    /// Each target's pending events, oldest first, for the targets that
    /// have some.
    pub queues: Vec<(Target, Vec<Item>)>,
    /// Events cut because a target's queue was over its cap.
    pub over_cap: usize,
    /// Events cut because all queues together were over the memory bound.
    pub over_memory: usize,
    /// Entries that could not be read (no payload, not UTF-8).
    pub unreadable: usize,
}

/// A list entry as read.
enum Entry {
    /// The event id; the payload is in the events hash.
    Id(Arc<str>),
    /// Id and stored value inline.
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

/// Reads every target's queue back (see the module doc), with the ledger of
/// what the kept events cost (at most `max_bytes`), and writes what must
/// change for Redis to match. Safe to call again after a failure.
pub fn load(
    c: &mut redis::Connection,
    targets: &[Target],
    max_queue: usize,
    max_bytes: usize,
) -> redis::RedisResult<(Backlog, Ledger)> {
    let mut ledger = Ledger::new(max_bytes);
    let mut lists: Vec<(&Target, Vec<Option<Entry>>)> = Vec::new();
    for chunk in targets.chunks(CHUNK) {
        let mut read = redis::pipe();
        for target in chunk {
            read.lrange(target.list_key(), 0, -1);
        }
        let raw: Vec<Vec<Vec<u8>>> = read.query(c)?;
        for (target, raw) in chunk.iter().zip(raw) {
            if !raw.is_empty() {
                lists.push((target, raw.into_iter().map(parse).collect()));
            }
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
                events.insert(id.clone(), super::from_stored(id.clone(), &p));
            }
        }
    }
    let mut backlog = Backlog::default();
    let mut pipe = redis::pipe();
    pipe.atomic();
    // Ids of the kept events whose payload is in the hash.
    let mut in_hash: HashSet<Arc<str>> = HashSet::new();
    for (target, entries) in lists {
        let read = entries.len();
        let mut items: Vec<Item> = Vec::with_capacity(read.min(max_queue));
        let mut kept: Vec<ListEntry> = Vec::with_capacity(read.min(max_queue));
        let mut rewrite = false;
        for entry in entries {
            let item = match entry {
                Some(Entry::Id(id)) => events.get(&id).cloned().map(|i| (i, true)),
                Some(Entry::Inline(id, value)) => {
                    let item = events
                        .entry(id.clone())
                        .or_insert_with(|| super::from_stored(id, &value))
                        .clone();
                    Some((item, false))
                }
                None => None,
            };
            let Some((item, shared)) = item else {
                backlog.unreadable += 1;
                rewrite = true;
                continue;
            };
            if items.len() >= max_queue {
                backlog.over_cap += 1;
                rewrite = true;
                continue;
            }
            if ledger.take(&item.id, item.payload.len(), shared) == Taken::Full {
                backlog.over_memory += 1;
                rewrite = true;
                continue;
            }
            if shared {
                in_hash.insert(item.id.clone());
            }
            kept.push(ListEntry::of(&item, shared));
            items.push(item);
        }
        if rewrite {
            super::rewrite(&mut pipe, &target.list_key(), &kept);
        }
        if !items.is_empty() {
            backlog.queues.push((target.clone(), items));
        }
    }
    // An LRS destination is kept only while it has statements queued.
    let queued: HashSet<&str> = backlog
        .queues
        .iter()
        .filter_map(|(t, _)| match t {
            Target::Lrs(lrs) => Some(lrs.id.as_str()),
            Target::Hook(_) => None,
        })
        .collect();
    for target in targets {
        if let Target::Lrs(lrs) = target {
            if !queued.contains(lrs.id.as_str()) {
                pipe.hdel(keys::XAPI_DESTINATIONS, &lrs.id).ignore();
            }
        }
    }
    let stored: Vec<String> = c.hkeys(keys::EVENTS)?;
    let orphans: Vec<&str> = stored
        .iter()
        .map(String::as_str)
        .filter(|id| !in_hash.contains(*id))
        .collect();
    for chunk in orphans.chunks(CHUNK) {
        pipe.hdel(keys::EVENTS, chunk).ignore();
    }
    pipe.query::<()>(c)?;
    Ok((backlog, ledger))
}
