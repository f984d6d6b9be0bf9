//! A small, bounded HTTP/1.1 server for the API and other local endpoints:
//! one accept thread, a fixed pool of connection threads, and every part of
//! a request bounded (head size, body size, time). It parses requests and
//! writes answers; what to answer is the handler's business.
//!
//! Why not a general HTTP library: the API only needs GET, and a server that
//! allocates or waits on whatever a client announces (a huge
//! `Content-Length`, a header line without end) can be taken down by one
//! request. Here an oversized part gets its 413, 414 or 431 and the
//! connection is closed without reading the rest.

mod wire;

use std::io::{self, BufReader, Read};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};

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
/// Connections accepted but not yet taken by a connection thread; more get 503.
const BACKLOG: usize = 1024;
/// Stack of a connection thread: parsing needs little.
const STACK_SIZE: usize = 256 * 1024;

/// Limits of one server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request line, header block and body, each, in bytes.
    pub max_request_bytes: usize,
    /// Connection threads.
    pub threads: usize,
}

/// Answers requests; called from the connection threads.
pub type Handler = Arc<dyn Fn(Request) -> Response + Send + Sync>;

/// A running server.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
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
        let (tx, rx) = bounded::<TcpStream>(BACKLOG);
        let mut threads = Vec::with_capacity(limits.threads + 1);
        for n in 0..limits.threads.max(1) {
            let rx: Receiver<TcpStream> = rx.clone();
            let handler = handler.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("http-{n}"))
                    .stack_size(STACK_SIZE)
                    .spawn(move || {
                        for stream in rx.iter() {
                            serve_connection(stream, limits, &handler);
                        }
                    })?,
            );
        }
        let accept_stop = stop.clone();
        threads.push(
            std::thread::Builder::new()
                .name("http-accept".into())
                .spawn(move || accept(listener, tx, &accept_stop))?,
        );
        Ok(Server {
            addr,
            stop,
            threads,
        })
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets the connection threads finish their current
    /// connection (bounded by the timeouts) and joins them.
    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept thread.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        for t in self.threads {
            let _ = t.join();
        }
    }
}

fn accept(listener: TcpListener, tx: Sender<TcpStream>, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                log::debug!("accept failed: {e}");
                continue;
            }
        };
        match tx.try_send(stream) {
            Ok(()) => {}
            Err(TrySendError::Full(mut s)) => {
                let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
                let _ = write_response(&mut s, &Response::new(503, "text/plain", "busy\n"), false);
            }
            Err(TrySendError::Disconnected(_)) => break,
        }
    }
}

/// A socket reader that fails once a deadline has passed, however the
/// bytes trickle in.
struct DeadlineReader {
    stream: TcpStream,
    deadline: Instant,
}

impl Read for DeadlineReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

fn serve_connection(stream: TcpStream, limits: Limits, handler: &Handler) {
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(DeadlineReader {
        stream: read_half,
        deadline: Instant::now() + REQUEST_DEADLINE,
    });
    let mut writer = stream;
    for _ in 0..MAX_REQUESTS_PER_CONNECTION {
        reader.get_mut().deadline = Instant::now() + REQUEST_DEADLINE;
        match read_request(&mut reader, limits.max_request_bytes) {
            Ok(req) => {
                let keep_alive = wants_keep_alive(&req);
                let head = req.method == "HEAD";
                let mut resp = handler(req);
                if head {
                    resp.body.clear();
                }
                if write_response(&mut writer, &resp, keep_alive).is_err() || !keep_alive {
                    break;
                }
            }
            Err(ReadError::Closed) => break,
            Err(ReadError::Status(status)) => {
                let text = match status {
                    413 => "request body too large\n",
                    414 => "request line too long\n",
                    431 => "request headers too large\n",
                    _ => "bad request\n",
                };
                let _ = write_response(
                    &mut writer,
                    &Response::new(status, "text/plain", text),
                    false,
                );
                break;
            }
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
}

fn wants_keep_alive(req: &Request) -> bool {
    let conn = req.header("connection").map(str::to_ascii_lowercase);
    match conn.as_deref() {
        Some(c) if c.contains("close") => false,
        Some(c) if c.contains("keep-alive") => true,
        _ => req.version == "HTTP/1.1",
    }
}
