//! What all queues together hold, against `BBB_WEBHOOKS_MAX_QUEUED_BYTES`:
//! an event queued for several targets costs its payload once (the queues
//! share it, in memory and in the journal) plus a small cost per queue
//! entry. The ledger counts references per event and remembers where the
//! journal keeps its payload: inline in the one list it is in (an event for
//! one target: one write, as cheap as it gets), or shared, once in the hash
//! of payloads, stored when the first target takes it and deleted when the
//! last is done with it. Pure; the scheduler owns it.

use std::collections::HashMap;
use std::sync::Arc;

/// What one queue entry costs besides the payload: the entry in the hook's
/// queue and in its Redis list, and the bookkeeping around them.
pub const ENTRY_COST: usize = 64;
/// What one event costs besides its payload and entries: its id, its
/// ledger record and its record in the Redis hash of payloads.
pub const EVENT_COST: usize = 96;

/// What [`Ledger::take`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Taken {
    /// The event's first reference: its payload must be stored.
    First,
    /// Another reference to an event already held.
    Again,
    /// Taking it would pass the bound: it was not taken.
    Full,
}

/// One event's record.
#[derive(Debug)]
struct Held {
    /// The event's own cost (payload, id, bookkeeping).
    own: usize,
    refs: usize,
    /// Its payload is in the hash of payloads, not inline in a list.
    shared: bool,
}

/// References and bytes held by all queues.
#[derive(Debug)]
pub struct Ledger {
    events: HashMap<Arc<str>, Held>,
    bytes: usize,
    max: usize,
}

impl Ledger {
    /// A ledger holding at most `max` bytes.
    pub fn new(max: usize) -> Ledger {
        Ledger {
            events: HashMap::new(),
            bytes: 0,
            max,
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Events held (each counted once, however many queues hold it).
    pub fn events(&self) -> usize {
        self.events.len()
    }

    /// One more queue entry for event `id` with a payload of `len` bytes,
    /// unless that would pass the bound. `shared`, for an event's first
    /// entry: it goes to several targets, so its payload is kept in the hash.
    pub fn take(&mut self, id: &Arc<str>, len: usize, shared: bool) -> Taken {
        match self.events.get_mut(id) {
            Some(held) => {
                if self.bytes + ENTRY_COST > self.max {
                    return Taken::Full;
                }
                held.refs += 1;
                self.bytes += ENTRY_COST;
                Taken::Again
            }
            None => {
                let own = len + id.len() + EVENT_COST;
                if self.bytes + own + ENTRY_COST > self.max {
                    return Taken::Full;
                }
                let held = Held {
                    own,
                    refs: 1,
                    shared,
                };
                self.events.insert(id.clone(), held);
                self.bytes += own + ENTRY_COST;
                Taken::First
            }
        }
    }

    /// Whether event `id`'s payload is in the hash of payloads (else inline).
    pub fn is_shared(&self, id: &str) -> bool {
        self.events.get(id).is_some_and(|h| h.shared)
    }

    /// One queue entry of event `id` is gone (delivered, cut or its target
    /// removed); true when it was the last of a shared event, so its
    /// payload goes from the hash too.
    pub fn release(&mut self, id: &str) -> bool {
        let Some(held) = self.events.get_mut(id) else {
            return false;
        };
        self.bytes = self.bytes.saturating_sub(ENTRY_COST);
        held.refs -= 1;
        if held.refs > 0 {
            return false;
        }
        let (own, shared) = (held.own, held.shared);
        self.events.remove(id);
        self.bytes = self.bytes.saturating_sub(own);
        shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Arc<str> {
        s.into()
    }

    #[test]
    fn an_event_for_many_hooks_costs_its_payload_once() {
        let mut l = Ledger::new(1 << 20);
        assert_eq!(l.take(&id("e1"), 1000, true), Taken::First);
        let one = l.bytes();
        assert_eq!(l.take(&id("e1"), 1000, true), Taken::Again);
        assert_eq!(l.take(&id("e1"), 1000, true), Taken::Again);
        assert_eq!(l.bytes(), one + 2 * ENTRY_COST);
        assert_eq!(l.events(), 1);
    }

    #[test]
    fn the_last_release_frees_the_payload() {
        let mut l = Ledger::new(1 << 20);
        l.take(&id("e1"), 10, true);
        l.take(&id("e1"), 10, true);
        assert!(!l.release("e1"));
        assert!(l.release("e1"));
        assert_eq!((l.bytes(), l.events()), (0, 0));
        assert!(!l.release("e1"), "unknown ids are ignored");
    }

    #[test]
    fn an_inline_event_leaves_nothing_to_delete() {
        let mut l = Ledger::new(1 << 20);
        assert_eq!(l.take(&id("e1"), 10, false), Taken::First);
        assert!(!l.is_shared("e1"));
        assert!(!l.release("e1"), "no payload in the hash to delete");
        assert_eq!((l.bytes(), l.events()), (0, 0));
    }

    #[test]
    fn at_the_bound_nothing_more_is_taken() {
        let per = 100 + 2 + EVENT_COST + ENTRY_COST;
        let mut l = Ledger::new(2 * per);
        assert_eq!(l.take(&id("e1"), 100, true), Taken::First);
        assert_eq!(l.take(&id("e2"), 100, true), Taken::First);
        assert_eq!(l.take(&id("e3"), 100, true), Taken::Full);
        assert_eq!(
            l.take(&id("e1"), 100, true),
            Taken::Full,
            "even an entry needs room"
        );
        assert_eq!(l.bytes(), 2 * per);
        assert!(l.release("e2"));
        assert_eq!(
            l.take(&id("e3"), 100, true),
            Taken::First,
            "room again after a release"
        );
    }
}
