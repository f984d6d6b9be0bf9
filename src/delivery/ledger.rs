//! What all queues together hold, against `BBB_WEBHOOKS_MAX_QUEUED_BYTES`:
//! an event queued for several hooks costs its payload once (the queues
//! share it, in memory and in the journal) plus a small cost per queue
//! entry. The ledger counts references per event, so the journal stores a
//! payload when its first hook takes it and deletes it when its last hook
//! is done with it. Pure; the scheduler owns it.

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

/// References and bytes held by all queues.
#[derive(Debug)]
pub struct Ledger {
    /// By event id: the event's own cost and its references.
    events: HashMap<Arc<str>, (usize, usize)>,
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
    /// unless that would pass the bound.
    pub fn take(&mut self, id: &Arc<str>, len: usize) -> Taken {
        match self.events.get_mut(id) {
            Some((_, refs)) => {
                if self.bytes + ENTRY_COST > self.max {
                    return Taken::Full;
                }
                *refs += 1;
                self.bytes += ENTRY_COST;
                Taken::Again
            }
            None => {
                let own = len + id.len() + EVENT_COST;
                if self.bytes + own + ENTRY_COST > self.max {
                    return Taken::Full;
                }
                self.events.insert(id.clone(), (own, 1));
                self.bytes += own + ENTRY_COST;
                Taken::First
            }
        }
    }

    /// One queue entry of event `id` is gone (delivered, cut or its hook
    /// removed); true when it was the last, so the payload can go too.
    pub fn release(&mut self, id: &str) -> bool {
        let Some((own, refs)) = self.events.get_mut(id) else {
            return false;
        };
        self.bytes = self.bytes.saturating_sub(ENTRY_COST);
        *refs -= 1;
        if *refs > 0 {
            return false;
        }
        let own = *own;
        self.events.remove(id);
        self.bytes = self.bytes.saturating_sub(own);
        true
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
        assert_eq!(l.take(&id("e1"), 1000), Taken::First);
        let one = l.bytes();
        assert_eq!(l.take(&id("e1"), 1000), Taken::Again);
        assert_eq!(l.take(&id("e1"), 1000), Taken::Again);
        assert_eq!(l.bytes(), one + 2 * ENTRY_COST);
        assert_eq!(l.events(), 1);
    }

    #[test]
    fn the_last_release_frees_the_payload() {
        let mut l = Ledger::new(1 << 20);
        l.take(&id("e1"), 10);
        l.take(&id("e1"), 10);
        assert!(!l.release("e1"));
        assert!(l.release("e1"));
        assert_eq!((l.bytes(), l.events()), (0, 0));
        assert!(!l.release("e1"), "unknown ids are ignored");
    }

    #[test]
    fn at_the_bound_nothing_more_is_taken() {
        let per = 100 + 2 + EVENT_COST + ENTRY_COST;
        let mut l = Ledger::new(2 * per);
        assert_eq!(l.take(&id("e1"), 100), Taken::First);
        assert_eq!(l.take(&id("e2"), 100), Taken::First);
        assert_eq!(l.take(&id("e3"), 100), Taken::Full);
        assert_eq!(
            l.take(&id("e1"), 100),
            Taken::Full,
            "even an entry needs room"
        );
        assert_eq!(l.bytes(), 2 * per);
        assert!(l.release("e2"));
        assert_eq!(
            l.take(&id("e3"), 100),
            Taken::First,
            "room again after a release"
        );
    }
}
