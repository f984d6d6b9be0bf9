//! A small, bounded HTTP/1.1 server for the API and other local endpoints:
//! one accept thread, a fixed pool of connection threads, and every part of
//! a request bounded (head size, body size, time; a larger body only under
//! the one path [`Limits::large_bodies`] names). When every thread is busy,
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
mod connection;
mod slots;
mod waiting;
mod wire;

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Sender};

use accept::{Accept, Warden};
use connection::Connection;
use slots::Slots;
pub use slots::Stats;
use waiting::Waiting;
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
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request line, header block and body, each, in bytes.
    pub max_request_bytes: usize,
    /// Requests under one path that may carry a larger body; `None`: none.
    pub large_bodies: Option<LargeBodies>,
    /// Connection threads.
    pub threads: usize,
    /// The answer when a request cannot be read (400, 411, 413, 414, 431)
    /// or no thread is free (503), by status.
    pub refusal: fn(u16) -> Response,
}

/// The requests whose body may be larger than `max_request_bytes` (cluster
/// mode's relay POSTs), so that every other request stays small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LargeBodies {
    /// A path: requests to `<under>/...` (the query aside) take the larger bound.
    pub under: Arc<str>,
    /// Their largest body, in bytes.
    pub max: usize,
}

impl Limits {
    /// A server's limits: `max_request_bytes` for every part of every
    /// request, and no larger bodies.
    pub fn new(max_request_bytes: usize, threads: usize, refusal: fn(u16) -> Response) -> Limits {
        Limits {
            max_request_bytes,
            large_bodies: None,
            threads,
            refusal,
        }
    }

    /// The largest body a request to `target` may carry.
    pub fn max_body(&self, target: &str) -> usize {
        let path = target.split('?').next().unwrap_or(target);
        match &self.large_bodies {
            Some(l)
                if path
                    .strip_prefix(&*l.under)
                    .is_some_and(|r| r.starts_with('/')) =>
            {
                l.max.max(self.max_request_bytes)
            }
            _ => self.max_request_bytes,
        }
    }
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
            let limits = limits.clone();
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
                            conn.serve(stream, accepted, &limits, &handler);
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
