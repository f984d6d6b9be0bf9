//! Cluster mode's figures per pool server, for the metrics endpoint: relay
//! POSTs taken and refused (by why), relay hooks created, whether each
//! server's relay hook is in place, and the pool's source. Only servers of
//! the pool get a row, so a flood of POSTs naming made-up servers costs one
//! counter, not one row each. Rendering is `exporter`'s job.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::refusal::Refusal;
use crate::locks;

/// Why a relay POST from a pool server was not taken, for its counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trouble {
    /// 401: no valid proof (see [`Refusal::label`]).
    Refused(&'static str),
    /// 400: not a callback body.
    Malformed,
    /// 413: a body over the limit.
    TooLarge,
    /// 503: the pool is not known yet, or the events could not be written
    /// to Redis in time; the server sends them again.
    Unavailable,
}

/// One server's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerFigures {
    /// Relay POSTs taken (answered 200).
    pub posts: u64,
    /// Events in them.
    pub events: u64,
    /// POSTs refused with 401, by [`Refusal::label`].
    pub refused: BTreeMap<&'static str, u64>,
    pub malformed: u64,
    pub too_large: u64,
    pub unavailable: u64,
    /// Relay hooks this service created on the server.
    pub relay_hooks_created: u64,
    /// Whether its relay hook is in place now (as of the last sync).
    pub relay_in_place: bool,
    /// Whether it is in the pool now.
    pub in_pool: bool,
}

/// Everything the endpoint shows of cluster mode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub servers: BTreeMap<String, ServerFigures>,
    /// POSTs naming no server of the pool (answered 401).
    pub unknown_server: u64,
    /// Whether the pool's source answered at the last read.
    pub source_up: bool,
}

/// The figures, updated by the relay receiver and the sync thread.
#[derive(Debug, Default)]
pub struct Stats {
    /// Set when cluster mode starts: the endpoint shows these only then.
    enabled: AtomicBool,
    figures: Mutex<Figures>,
}

impl Stats {
    /// A copy, for rendering.
    pub fn snapshot(&self) -> Figures {
        locks::lock(&self.figures).clone()
    }

    fn server(&self, id: &str, f: impl FnOnce(&mut ServerFigures)) {
        let mut figures = locks::lock(&self.figures);
        match figures.servers.get_mut(id) {
            Some(s) => f(s),
            None => {
                let mut s = ServerFigures::default();
                f(&mut s);
                figures.servers.insert(id.to_owned(), s);
            }
        }
    }

    /// A POST of `events` events from server `id` was taken.
    pub fn taken(&self, id: &str, events: usize) {
        self.server(id, |s| {
            s.posts += 1;
            s.events += events as u64;
        });
    }

    /// A POST for pool server `id` was not taken.
    pub fn trouble(&self, id: &str, t: Trouble) {
        self.server(id, |s| match t {
            Trouble::Refused(label) => *s.refused.entry(label).or_default() += 1,
            Trouble::Malformed => s.malformed += 1,
            Trouble::TooLarge => s.too_large += 1,
            Trouble::Unavailable => s.unavailable += 1,
        });
    }

    /// A POST for server `id` refused for `why`: counted on that server,
    /// or, when it is not in the pool, as naming an unknown server.
    pub fn refused(&self, id: &str, why: &Refusal) {
        match why {
            Refusal::UnknownServer(_) => locks::lock(&self.figures).unknown_server += 1,
            r => self.trouble(id, Trouble::Refused(r.label())),
        }
    }

    /// A relay hook was created on server `id`.
    pub fn created(&self, id: &str) {
        self.server(id, |s| s.relay_hooks_created += 1);
    }

    /// After a sync: which servers are in the pool, which have their relay
    /// hook in place, and whether the source answered.
    pub fn synced(&self, in_place: &[(String, bool, bool)], source_up: bool) {
        let mut figures = locks::lock(&self.figures);
        figures.source_up = source_up;
        for s in figures.servers.values_mut() {
            s.in_pool = false;
            s.relay_in_place = false;
        }
        for (id, in_pool, relay) in in_place {
            let s = figures.servers.entry(id.clone()).or_default();
            s.in_pool = *in_pool;
            s.relay_in_place = *relay;
        }
    }

    pub fn enable(&self) {
        self.enabled.store(true, Ordering::Relaxed);
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::Algorithm;

    #[test]
    fn counts_per_server_and_unknown_ones_together() {
        let s = Stats::default();
        s.taken("bbb1", 3);
        s.taken("bbb1", 1);
        s.refused("bbb1", &Refusal::WrongChecksum(Algorithm::Sha1));
        s.refused("bbb1", &Refusal::WrongBearer);
        s.refused("zzz", &Refusal::UnknownServer("zzz".into()));
        s.refused("x", &Refusal::UnknownServer("x".into()));
        s.trouble("bbb2", Trouble::Unavailable);
        s.created("bbb2");
        s.synced(&[("bbb2".into(), true, true)], true);
        let f = s.snapshot();
        let b1 = &f.servers["bbb1"];
        assert_eq!((b1.posts, b1.events), (2, 4));
        assert_eq!(b1.refused["wrong_checksum"], 1);
        assert_eq!(b1.refused["wrong_bearer"], 1);
        assert!(!b1.in_pool && !b1.relay_in_place);
        let b2 = &f.servers["bbb2"];
        assert_eq!((b2.unavailable, b2.relay_hooks_created), (1, 1));
        assert!(b2.in_pool && b2.relay_in_place);
        assert_eq!(f.unknown_server, 2);
        assert!(!f.servers.contains_key("zzz"));
        assert!(f.source_up);
    }
}
