//! One connection thread serving one connection: requests read with a
//! deadline for each whole request, each bounded as [`Limits`] says (a
//! larger body only under the path it allows), answered by the handler and
//! written back, kept alive while the client wants and the server runs.
//! Accepting and shedding connections is [`super`]'s job.

use std::io::{self, BufReader, Read};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::slots::{Slots, State};
use super::wire::{read_request, write_response, ReadError};
use super::{
    Handler, Limits, Request, MAX_REQUESTS_PER_CONNECTION, REQUEST_DEADLINE, WRITE_TIMEOUT,
};

/// A socket reader that fails once a deadline has passed, however the
/// bytes trickle in.
struct DeadlineReader {
    stream: TcpStream,
    deadline: Instant,
    /// Bytes read, for [`super::slots::victim`].
    progress: Arc<AtomicUsize>,
}

impl Read for DeadlineReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        let n = self.stream.read(buf)?;
        self.progress.fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }
}

/// One connection thread serving one connection.
pub(super) struct Connection<'a> {
    pub n: usize,
    pub slots: &'a Slots,
    pub stop: &'a AtomicBool,
}

impl Connection<'_> {
    /// Serves requests on `stream` until the client closes, asks to close,
    /// errs, or the server stops.
    pub fn serve(&self, stream: TcpStream, accepted: Instant, limits: &Limits, handler: &Handler) {
        let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
        let _ = stream.set_nodelay(true);
        // A connection the slot cannot hold a handle on (out of file
        // descriptors) could not be shed or closed at a stop: it goes.
        let Some(progress) = self.slots.open(self.n, &stream, accepted) else {
            return;
        };
        // One descriptor for reading and writing: answers are written
        // through the reader's stream, which buffers only what it reads.
        let mut reader = BufReader::new(DeadlineReader {
            stream,
            deadline: accepted + REQUEST_DEADLINE,
            progress,
        });
        for i in 0..MAX_REQUESTS_PER_CONNECTION {
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            if i > 0 {
                let since = Instant::now();
                self.slots.set(self.n, State::Reading { since });
                reader.get_mut().deadline = since + REQUEST_DEADLINE;
            }
            match read_request(&mut reader, limits) {
                Ok(req) => {
                    self.slots.set(self.n, State::Answering);
                    // The last request a connection may carry is answered
                    // with `Connection: close`, so the client knows.
                    let keep_alive = wants_keep_alive(&req)
                        && i + 1 < MAX_REQUESTS_PER_CONNECTION
                        && !self.stop.load(Ordering::SeqCst);
                    let head = req.method == "HEAD";
                    let mut resp = handler(req);
                    if head {
                        resp.body.clear();
                    }
                    let writer = &mut reader.get_mut().stream;
                    if write_response(writer, &resp, keep_alive).is_err() || !keep_alive {
                        break;
                    }
                }
                Err(ReadError::Closed) => break,
                Err(ReadError::Status(status)) => {
                    let writer = &mut reader.get_mut().stream;
                    let _ = write_response(writer, &(limits.refusal)(status), false);
                    break;
                }
            }
        }
        let _ = reader.get_ref().stream.shutdown(Shutdown::Both);
    }
}

fn wants_keep_alive(req: &Request) -> bool {
    let conn = req.header("connection").map(str::to_ascii_lowercase);
    match conn.as_deref() {
        Some(c) if c.contains("close") => false,
        Some(c) if c.contains("keep-alive") => true,
        _ => req.version == "HTTP/1.1",
    }
}
