//! A small, bounded HTTP/1.1 server for the API and other local endpoints:
//! one accept thread, a fixed pool of connection threads, and every part of
//! a request bounded (head size, body size, time). When every thread is busy,
//! a new connection takes the place of the one that has waited longest for
//! its request ([`slots`]), so slow or idle clients cannot keep a prompt one
//! out; open connections never exceed the threads plus a short hand-over
//! queue. It parses requests and writes answers; what to answer is the
//! handler's business.
//!
//! Why not a general HTTP library: the API only needs GET, and a server that
//! allocates or waits on whatever a client announces (a huge
//! `Content-Length`, a header line without end) can be taken down by one
//! request. Here an oversized part gets its 413, 414 or 431 and the
//! connection is closed without reading the rest.

mod accept;
mod slots;
mod waiting;
mod wire;

use std::io::{self, BufReader, Read};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Sender};

use accept::{Accept, Warden};
pub use slots::Stats;
use slots::{Slots, State};
use waiting::Waiting;
use wire::{read_request, write_response, ReadError};
pub use wire::{Request, Response};

/// How long a connection may take to send one whole request (counted from
/// the end of the previous answer), so a client that trickles bytes cannot
/// hold a thread for longer.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// How long writing an answer may take.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests served on one connection before it is closed.
const MAX_REQUESTS_PER_CONNECTION: usize = 1000;
/// Connections accepted and waiting for a thread; more get 503. With the
/// threads, this bounds the connections open at once.
const QUEUE: usize = 256;
/// A connection that has waited this long for its request may be shed when
/// another one waits for a thread. Clients that send their request at once
/// are never that old; slow and idle ones are.
const SHED_AFTER: Duration = Duration::from_millis(250);
/// Waits after a failed `accept` (e.g. out of file descriptors), doubling.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Stack of a connection thread: parsing needs little.
const STACK_SIZE: usize = 256 * 1024;

/// Limits of one server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request line, header block and body, each, in bytes.
    pub max_request_bytes: usize,
    /// Connection threads.
    pub threads: usize,
    /// The answer when a request cannot be read (400, 411, 413, 414, 431)
    /// or no thread is free (503), by status.
    pub refusal: fn(u16) -> Response,
}

/// A plain-text refusal, for servers without a format of their own.
pub fn text_refusal(status: u16) -> Response {
    let text = match status {
        411 => "length required\n",
        413 => "request body too large\n",
        414 => "request line too long\n",
        431 => "request headers too large\n",
        503 => "busy\n",
        _ => "bad request\n",
    };
    Response::new(status, "text/plain", text)
}

/// Answers requests; called from the connection threads.
pub type Handler = Arc<dyn Fn(Request) -> Response + Send + Sync>;

/// A running server.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    /// Dropped to wake the accept thread out of a backoff.
    wake: Sender<()>,
    slots: Arc<Slots>,
    waiting: Arc<Waiting>,
    threads: Vec<JoinHandle<()>>,
}

impl Server {
    /// Listens on `addr` and serves with `handler`.
    pub fn start(addr: SocketAddr, limits: Limits, handler: Handler) -> io::Result<Server> {
        Server::from_listener(TcpListener::bind(addr)?, limits, handler)
    }

    pub fn from_listener(
        listener: TcpListener,
        limits: Limits,
        handler: Handler,
    ) -> io::Result<Server> {
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let threads_n = limits.threads.max(1);
        let slots = Arc::new(Slots::new(threads_n));
        let waiting = Arc::new(Waiting::new(QUEUE));
        let (wake, woken) = bounded::<()>(1);
        let (pressure_tx, pressure) = bounded::<()>(1);
        let mut threads = Vec::with_capacity(threads_n + 1);
        for n in 0..threads_n {
            let waiting = waiting.clone();
            let handler = handler.clone();
            let slots = slots.clone();
            let stop = stop.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("http-{n}"))
                    .stack_size(STACK_SIZE)
                    .spawn(move || {
                        while let Some((stream, accepted)) = waiting.pop() {
                            let conn = Connection {
                                n,
                                slots: &slots,
                                stop: &stop,
                            };
                            conn.serve(stream, accepted, limits, &handler);
                            slots.close(n);
                        }
                    })?,
            );
        }
        let warden = Warden {
            waiting: waiting.clone(),
            slots: slots.clone(),
            stop: stop.clone(),
            pressure,
        };
        threads.push(
            std::thread::Builder::new()
                .name("http-warden".into())
                .spawn(move || warden.run())?,
        );
        let accept = Accept {
            waiting: waiting.clone(),
            slots: slots.clone(),
            stop: stop.clone(),
            woken,
            pressure: pressure_tx,
            refusal: limits.refusal,
        };
        threads.push(
            std::thread::Builder::new()
                .name("http-accept".into())
                .spawn(move || accept.run(listener))?,
        );
        Ok(Server {
            addr,
            stop,
            wake,
            slots,
            waiting,
            threads,
        })
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's counters (connections shed, failed accepts).
    pub fn stats(&self) -> Arc<Stats> {
        self.slots.stats.clone()
    }

    /// Stops accepting, closes every connection (a request being answered is
    /// answered first) and waits for the threads until `deadline`.
    pub fn stop(self, deadline: Instant) {
        self.stop.store(true, Ordering::SeqCst);
        drop(self.wake);
        // Wake the accept thread out of accept().
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        self.waiting.close();
        self.slots.close_all();
        join_until(self.threads, deadline);
    }
}

/// Joins `threads`, giving up on those still running at `deadline` (the
/// process is about to exit; they end with it).
pub fn join_until(threads: Vec<JoinHandle<()>>, deadline: Instant) {
    for t in threads {
        while !t.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if t.is_finished() {
            let _ = t.join();
        }
    }
}

/// A socket reader that fails once a deadline has passed, however the
/// bytes trickle in.
struct DeadlineReader {
    stream: TcpStream,
    deadline: Instant,
    /// Bytes read, for [`slots::victim`].
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
struct Connection<'a> {
    n: usize,
    slots: &'a Slots,
    stop: &'a AtomicBool,
}

impl Connection<'_> {
    /// Serves requests on `stream` until the client closes, asks to close,
    /// errs, or the server stops.
    fn serve(&self, stream: TcpStream, accepted: Instant, limits: Limits, handler: &Handler) {
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
            match read_request(&mut reader, limits.max_request_bytes) {
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
