//! Accepted connections waiting for a connection thread, newest first: a
//! client that sends its request at once is served before those that have
//! waited (under a flood of slow connections, those are the slow ones),
//! and at the bound the one that has waited longest makes room.

use std::net::TcpStream;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use crate::locks;

struct State {
    /// Oldest first; taken from the end.
    stack: Vec<(TcpStream, Instant)>,
    closed: bool,
    /// Threads blocked in [`Waiting::pop`], for tests to wait for.
    #[cfg(test)]
    blocked: usize,
}

/// The waiting connections of one server.
pub struct Waiting {
    state: Mutex<State>,
    ready: Condvar,
    cap: usize,
}

impl Waiting {
    pub fn new(cap: usize) -> Waiting {
        Waiting {
            state: Mutex::new(State {
                stack: Vec::with_capacity(cap),
                closed: false,
                #[cfg(test)]
                blocked: 0,
            }),
            ready: Condvar::new(),
            cap: cap.max(1),
        }
    }

    /// Adds a connection accepted now. At the bound, the one that has waited
    /// longest leaves to make room and is returned, for a refusal.
    pub fn push(&self, stream: TcpStream) -> Option<TcpStream> {
        let mut st = locks::lock(&self.state);
        let out = if st.stack.len() >= self.cap {
            Some(st.stack.remove(0).0)
        } else {
            None
        };
        st.stack.push((stream, Instant::now()));
        drop(st);
        self.ready.notify_one();
        out
    }

    /// The newest waiting connection, with when it was accepted; waits for
    /// one. `None` once closed.
    pub fn pop(&self) -> Option<(TcpStream, Instant)> {
        let mut st = locks::lock(&self.state);
        loop {
            if st.closed {
                return None;
            }
            if let Some(c) = st.stack.pop() {
                return Some(c);
            }
            #[cfg(test)]
            {
                st.blocked += 1;
            }
            st = self
                .ready
                .wait(st)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            #[cfg(test)]
            {
                st.blocked -= 1;
            }
        }
    }

    /// Connections waiting.
    pub fn len(&self) -> usize {
        locks::lock(&self.state).stack.len()
    }

    /// Closes the queue: waiting connections are dropped, and every
    /// [`Waiting::pop`] returns `None`.
    pub fn close(&self) {
        let mut st = locks::lock(&self.state);
        st.closed = true;
        st.stack.clear();
        drop(st);
        self.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Duration;

    fn pair(l: &TcpListener) -> TcpStream {
        let c = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
        let _ = l.accept().expect("accept");
        c
    }

    fn port(s: &TcpStream) -> u16 {
        s.local_addr().expect("addr").port()
    }

    #[test]
    fn the_newest_connection_is_served_first() {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let w = Waiting::new(4);
        let (a, b) = (pair(&l), pair(&l));
        let (pa, pb) = (port(&a), port(&b));
        assert!(w.push(a).is_none() && w.push(b).is_none());
        assert_eq!(w.pop().map(|(s, _)| port(&s)), Some(pb));
        assert_eq!(w.pop().map(|(s, _)| port(&s)), Some(pa));
    }

    #[test]
    fn at_the_bound_the_longest_waiting_makes_room() {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let w = Waiting::new(2);
        let (a, b, c) = (pair(&l), pair(&l), pair(&l));
        let pa = port(&a);
        w.push(a);
        w.push(b);
        let out = w.push(c).expect("one makes room");
        assert_eq!(port(&out), pa);
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn closing_ends_every_wait() {
        let w = std::sync::Arc::new(Waiting::new(2));
        let (done_tx, done) = std::sync::mpsc::channel();
        for _ in 0..2 {
            let w = w.clone();
            let done_tx = done_tx.clone();
            std::thread::spawn(move || {
                let _ = done_tx.send(w.pop().is_none());
            });
        }
        // Both threads must be blocked in `pop` when the queue closes.
        let deadline = Instant::now() + Duration::from_secs(5);
        while locks::lock(&w.state).blocked < 2 {
            assert!(Instant::now() < deadline, "pop did not block");
            std::thread::sleep(Duration::from_millis(1));
        }
        w.close();
        for _ in 0..2 {
            let none = done
                .recv_timeout(Duration::from_secs(5))
                .expect("pop returns once closed");
            assert!(none, "pop returns None once closed");
        }
    }
}
