//! The connection threads' slots: which thread serves which connection and
//! what it is doing, so that when every thread is busy the accept thread can
//! shed the connection that is costing the most for the least (the one that
//! has been reading its request the longest), and a stop can close them all.
//! The choice of that connection is a pure function of the slots' states.

use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::locks;

/// What a connection thread is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No connection.
    Idle,
    /// Waiting for (the rest of) a request since the instant given: a new
    /// connection, or one kept alive between requests.
    Reading { since: Instant },
    /// A whole request was read; it is being answered.
    Answering,
}

struct Slot {
    state: State,
    /// A handle on the connection, to close it from another thread.
    stream: Option<TcpStream>,
    /// Bytes read of the current request.
    progress: Arc<AtomicUsize>,
}

/// Counters of one server, for the metrics.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections closed to make room for a new one.
    pub shed: AtomicU64,
    /// `accept` calls that failed (e.g. out of file descriptors).
    pub accept_errors: AtomicU64,
}

/// The slots of every connection thread of one server.
pub struct Slots {
    slots: Mutex<Vec<Slot>>,
    pub stats: Arc<Stats>,
}

impl Slots {
    pub fn new(threads: usize) -> Slots {
        let slots = (0..threads)
            .map(|_| Slot {
                state: State::Idle,
                stream: None,
                progress: Arc::default(),
            })
            .collect();
        Slots {
            slots: Mutex::new(slots),
            stats: Arc::default(),
        }
    }

    /// Thread `n` took `stream`, accepted at `accepted`: it starts reading
    /// (the wait counts from the accept). Returns the counter its reader
    /// adds the bytes read to; `None` when no handle on the connection can
    /// be kept (out of file descriptors).
    pub fn open(
        &self,
        n: usize,
        stream: &TcpStream,
        accepted: Instant,
    ) -> Option<Arc<AtomicUsize>> {
        let handle = stream.try_clone().ok()?;
        let mut slots = locks::lock(&self.slots);
        let slot = slots.get_mut(n)?;
        slot.stream = Some(handle);
        slot.state = State::Reading { since: accepted };
        slot.progress.store(0, Ordering::Relaxed);
        Some(slot.progress.clone())
    }

    /// Thread `n` is now in `state` (reading again resets its progress).
    pub fn set(&self, n: usize, state: State) {
        let mut slots = locks::lock(&self.slots);
        if let Some(slot) = slots.get_mut(n) {
            if matches!(state, State::Reading { .. }) {
                slot.progress.store(0, Ordering::Relaxed);
            }
            slot.state = state;
        }
    }

    /// Thread `n` is done with its connection.
    pub fn close(&self, n: usize) {
        let mut slots = locks::lock(&self.slots);
        if let Some(slot) = slots.get_mut(n) {
            slot.state = State::Idle;
            slot.stream = None;
        }
    }

    /// Threads without a connection.
    pub fn idle(&self) -> usize {
        locks::lock(&self.slots)
            .iter()
            .filter(|s| s.state == State::Idle)
            .count()
    }

    /// Closes the connection [`victim`] picks among those that have waited
    /// for a request for `age` or longer, so its thread takes another; false
    /// when none may be shed.
    pub fn shed_one(&self, age: Duration) -> bool {
        let Some(before) = Instant::now().checked_sub(age) else {
            return false;
        };
        let slots = locks::lock(&self.slots);
        let views: Vec<(State, usize)> = slots
            .iter()
            .map(|s| (s.state, s.progress.load(Ordering::Relaxed)))
            .collect();
        let Some(i) = victim(&views, before) else {
            return false;
        };
        if let Some(stream) = slots.get(i).and_then(|s| s.stream.as_ref()) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        self.stats.shed.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// When the connection waiting longest for its request started waiting.
    pub fn oldest_reader(&self) -> Option<Instant> {
        locks::lock(&self.slots)
            .iter()
            .filter_map(|s| match s.state {
                State::Reading { since } => Some(since),
                _ => None,
            })
            .min()
    }

    /// Closes every connection (the server is stopping).
    pub fn close_all(&self) {
        for slot in locks::lock(&self.slots).iter() {
            if let Some(stream) = &slot.stream {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }
}

/// The slot whose connection to shed, from each slot's state and bytes read
/// of its request: among the connections waiting for a request since
/// `before` or earlier, the one waiting the longest, and of those equally old
/// the one that sent the least. Connections being answered, or that have
/// waited less, are never shed: a well-behaved client sends its request at
/// once, so it is never an old reader.
pub fn victim(slots: &[(State, usize)], before: Instant) -> Option<usize> {
    slots
        .iter()
        .enumerate()
        .filter_map(|(i, (state, progress))| match state {
            State::Reading { since } if *since <= before => Some((i, *since, *progress)),
            _ => None,
        })
        .min_by_key(|(_, since, progress)| (*since, *progress))
        .map(|(i, _, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_reader_is_shed() {
        let t = Instant::now();
        let slots = [
            (
                State::Reading {
                    since: t + Duration::from_secs(2),
                },
                0,
            ),
            (State::Reading { since: t }, 50),
            (
                State::Reading {
                    since: t + Duration::from_secs(1),
                },
                0,
            ),
        ];
        assert_eq!(victim(&slots, t + Duration::from_secs(5)), Some(1));
    }

    #[test]
    fn connections_that_waited_less_than_the_limit_are_not_shed() {
        let t = Instant::now();
        let slots = [
            (
                State::Reading {
                    since: t + Duration::from_secs(2),
                },
                0,
            ),
            (State::Reading { since: t }, 50),
        ];
        assert_eq!(victim(&slots, t + Duration::from_secs(1)), Some(1));
        assert_eq!(victim(&slots, t - Duration::from_millis(1)), None);
    }

    #[test]
    fn of_equally_old_readers_the_one_that_sent_least_is_shed() {
        let t = Instant::now();
        let slots = [
            (State::Reading { since: t }, 30),
            (State::Reading { since: t }, 3),
        ];
        assert_eq!(victim(&slots, t), Some(1));
    }

    #[test]
    fn connections_being_answered_or_idle_threads_are_never_shed() {
        let t = Instant::now();
        let slots = [(State::Answering, 0), (State::Idle, 0)];
        assert_eq!(victim(&slots, t), None);
        let slots = [(State::Answering, 0), (State::Reading { since: t }, 10)];
        assert_eq!(victim(&slots, t), Some(1));
    }
}
