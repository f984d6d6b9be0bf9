//! The server's accept side: the accept thread, which queues connections
//! for the connection threads and backs off when `accept` fails (out of
//! file descriptors, say), and the warden, which sheds the connection that
//! has waited longest for its request when every thread is busy.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::slots::Slots;
use super::waiting::Waiting;
use super::wire::write_response;
use super::{Response, ACCEPT_BACKOFF_MAX, ACCEPT_BACKOFF_MIN, SHED_AFTER};

/// The accept thread's parts.
pub(super) struct Accept {
    pub(super) waiting: Arc<Waiting>,
    pub(super) slots: Arc<Slots>,
    pub(super) stop: Arc<AtomicBool>,
    /// Disconnected when the server stops: ends a backoff early.
    pub(super) woken: Receiver<()>,
    /// Tells the warden a connection waits for a thread.
    pub(super) pressure: Sender<()>,
    pub(super) refusal: fn(u16) -> Response,
}

impl Accept {
    pub(super) fn run(self, listener: TcpListener) {
        let mut backoff = ACCEPT_BACKOFF_MIN;
        let mut failing = false;
        loop {
            let accepted = listener.accept();
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            match accepted {
                Ok((stream, _)) => {
                    if failing {
                        log::info!("accepting connections again");
                        failing = false;
                    }
                    backoff = ACCEPT_BACKOFF_MIN;
                    if !self.hand_over(stream) {
                        break;
                    }
                }
                Err(e) => {
                    self.slots
                        .stats
                        .accept_errors
                        .fetch_add(1, Ordering::Relaxed);
                    if !failing {
                        log::warn!("cannot accept connections ({e}); closing the oldest idle ones and retrying");
                        failing = true;
                    }
                    // Out of descriptors: free one held by a waiting client.
                    self.slots.shed_one(SHED_AFTER);
                    match self.woken.recv_timeout(backoff) {
                        Err(RecvTimeoutError::Timeout) => {}
                        _ => break,
                    }
                    backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                }
            }
        }
    }

    /// Queues `stream` for a connection thread (at the bound, the one that
    /// has waited longest gets 503) and wakes the warden if no thread is
    /// free; false when the server is stopping.
    fn hand_over(&self, stream: TcpStream) -> bool {
        if let Some(mut s) = self.waiting.push(stream) {
            self.slots.stats.shed.fetch_add(1, Ordering::Relaxed);
            let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
            let _ = write_response(&mut s, &(self.refusal)(503), false);
        }
        if self.slots.idle() < self.waiting.len() {
            let _ = self.pressure.try_send(());
        }
        !self.stop.load(Ordering::SeqCst)
    }
}

/// The thread that makes room: while connections wait for a thread and
/// none is free, it sheds the connection that has waited longest for its
/// request, once that one has waited [`SHED_AFTER`].
pub(super) struct Warden {
    pub(super) waiting: Arc<Waiting>,
    pub(super) slots: Arc<Slots>,
    pub(super) stop: Arc<AtomicBool>,
    /// Signalled by the accept thread; disconnected when it ends.
    pub(super) pressure: Receiver<()>,
}

impl Warden {
    pub(super) fn run(self) {
        while self.pressure.recv().is_ok() {
            while !self.stop.load(Ordering::SeqCst) {
                let waiting = self.waiting.len();
                if waiting == 0 || self.slots.idle() >= waiting {
                    break;
                }
                let now = Instant::now();
                // After a shed, give the freed thread a moment to take the
                // next connection before counting again.
                let wait = if self.slots.shed_one(SHED_AFTER) {
                    Duration::from_millis(1)
                } else {
                    match self.slots.oldest_reader() {
                        Some(since) => (since + SHED_AFTER).saturating_duration_since(now),
                        None => Duration::from_millis(10),
                    }
                    .clamp(Duration::from_millis(1), Duration::from_millis(10))
                };
                if let Err(RecvTimeoutError::Disconnected) = self.pressure.recv_timeout(wait) {
                    return;
                }
            }
        }
    }
}
