//! Callback receiver: a minimal multi-threaded HTTP/1.1 keep-alive server that parses
//! webhook POSTs and records each delivered bench event; also a "black hole" listener
//! that accepts connections and never answers. It does no statistics.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The largest request body accepted (a batch of events); bigger requests are answered 413.
const MAX_BODY: usize = 16 << 20;

/// One bench event that arrived at one hook.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Delivery {
    /// Hook index, from the request path `/h/<index>`.
    pub hook: usize,
    /// Sequence number from the chat text.
    pub seq: u64,
    /// Publish time, ns since the shared start instant, from the chat text.
    pub sent_ns: u64,
    /// Arrival time, ns since the shared start instant.
    pub arrived_ns: u64,
}

/// What the receiver has seen since the last [`Receiver::reset`].
#[derive(Debug, Default)]
pub struct Record {
    /// Bench events in arrival order (duplicates included).
    pub deliveries: Vec<Delivery>,
    /// Per hook: seen[hook][seq], to count unique deliveries as they arrive.
    seen: Vec<Vec<bool>>,
    /// Unique (hook, seq) pairs within the expected range.
    pub unique: u64,
    /// Arrival time (ns) of the last unique delivery.
    pub last_unique_ns: u64,
    /// Warm-up events received, per hook.
    pub warmups: HashMap<usize, u64>,
    /// HTTP requests answered.
    pub posts: u64,
    /// Events that were not bench chat events (e.g. meeting-created).
    pub other_events: u64,
    /// Requests or events that could not be parsed.
    pub malformed: u64,
    /// Requests without a `checksum` query parameter and without a bearer token.
    pub unsigned: u64,
    /// Requests whose `checksum` is not sha1/sha256(callback URL + body + secret).
    pub bad_checksum: u64,
}

impl Record {
    fn add(&mut self, d: Delivery) {
        if let Some(slot) = self
            .seen
            .get_mut(d.hook)
            .and_then(|v| v.get_mut(d.seq as usize))
        {
            if !*slot {
                *slot = true;
                self.unique += 1;
                self.last_unique_ns = d.arrived_ns;
            }
        }
        self.deliveries.push(d);
    }
}

struct Shared {
    /// `http://127.0.0.1:PORT`, to rebuild the callback URL a checksum covers.
    base: String,
    /// The shared secret checksums are verified with.
    secret: String,
    record: Mutex<Record>,
    changed: Condvar,
    stop: AtomicBool,
    start: Instant,
}

/// The callback receiver; stops and joins its threads when dropped.
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Listens on 127.0.0.1 on a free port. `start` is the instant all times are measured
    /// from; `secret` verifies callback checksums.
    pub fn start(start: Instant, secret: &str) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver on 127.0.0.1:0");
        let addr = listener.local_addr().expect("receiver local address");
        let shared = Arc::new(Shared {
            base: format!("http://{addr}"),
            secret: secret.to_owned(),
            record: Mutex::new(Record::default()),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
            start,
        });
        let s = Arc::clone(&shared);
        let acceptor = std::thread::Builder::new()
            .name("receiver-accept".into())
            .spawn(move || accept_loop(listener, s))
            .expect("spawn the receiver's accept thread");
        Receiver {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// The callback URL of hook `index`.
    pub fn url(&self, index: usize) -> String {
        format!("http://{}/h/{index}", self.addr)
    }

    /// Forgets everything and expects `events` sequence numbers on each of `hooks` hooks.
    pub fn reset(&self, hooks: usize, events: usize) {
        let mut r = self.lock();
        *r = Record::default();
        r.seen = vec![vec![false; events]; hooks];
    }

    /// Locks the record (to read it).
    pub fn lock(&self) -> MutexGuard<'_, Record> {
        self.shared
            .record
            .lock()
            .expect("receiver record lock poisoned (a connection thread panicked)")
    }

    /// Waits until `done` holds or `deadline` passes; returns whether it holds.
    pub fn wait_until(&self, deadline: Instant, done: impl Fn(&Record) -> bool) -> bool {
        let mut r = self.lock();
        loop {
            if done(&r) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            r = self
                .shared
                .changed
                .wait_timeout(r, deadline - now)
                .expect("receiver record lock poisoned")
                .0;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() with a connection of our own.
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.acceptor.take() {
            let _ = h.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let s = Arc::clone(&shared);
        // Connection threads are detached: they end when the peer closes, or at the
        // next read timeout after stop.
        let _ = std::thread::Builder::new()
            .name("receiver-conn".into())
            .spawn(move || {
                let _ = serve(stream, &s);
            });
    }
}

/// A parsed request head.
struct Head {
    path: String,
    content_length: usize,
    chunked: bool,
    close: bool,
    bearer: bool,
}

fn serve(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    // Long enough that a sender stalled by a loaded host is not cut off mid-request.
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut line = String::new();
    let mut body = Vec::new();
    loop {
        let head = match read_head(&mut reader, &mut line, shared) {
            Ok(Some(h)) => h,
            Ok(None) => return Ok(()),
            Err(e) => {
                if e.kind() == std::io::ErrorKind::InvalidData {
                    let _ = writer.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                }
                return Err(e);
            }
        };
        body.clear();
        if head.chunked {
            read_chunked(&mut reader, &mut body, &mut line)?;
        } else if head.content_length > MAX_BODY {
            writer.write_all(
                b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )?;
            return Ok(());
        } else {
            body.resize(head.content_length, 0);
            reader.read_exact(&mut body)?;
        }
        let arrived_ns = shared.start.elapsed().as_nanos() as u64;
        record(shared, &head, &body, arrived_ns);
        writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")?;
        if head.close {
            let _ = writer.shutdown(Shutdown::Both);
            return Ok(());
        }
    }
}

/// Reads one request head; `None` when the peer closed the connection (or stop was asked).
fn read_head(
    reader: &mut BufReader<TcpStream>,
    line: &mut String,
    shared: &Shared,
) -> std::io::Result<Option<Head>> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    // Request line; idle keep-alive connections wake up on the read timeout to check
    // stop. What a timed-out read_line had read stays in `line`.
    line.clear();
    loop {
        match reader.read_line(line) {
            Ok(0) => return Ok(None),
            Ok(_) if line.trim().is_empty() => line.clear(),
            Ok(_) => break,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if shared.stop.load(Ordering::SeqCst) {
                    return Ok(None);
                }
            }
            Err(e) => return Err(e),
        }
    }
    let mut parts = line.split_whitespace();
    let _method = parts.next().ok_or_else(|| bad("empty request line"))?;
    let path = parts
        .next()
        .ok_or_else(|| bad("no request target"))?
        .to_owned();
    let version = parts.next().unwrap_or("HTTP/1.0");
    let mut head = Head {
        path,
        content_length: 0,
        chunked: false,
        close: version == "HTTP/1.0",
        bearer: false,
    };
    loop {
        line.clear();
        if reader.read_line(line)? == 0 {
            return Err(bad("connection closed inside the request head"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            return Ok(Some(head));
        }
        let Some((name, value)) = l.split_once(':') else {
            return Err(bad("header line without a colon"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            head.content_length = value.parse().map_err(|_| bad("bad Content-Length"))?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            head.close = value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("authorization") {
            head.bearer = value.starts_with("Bearer ");
        }
    }
}

fn read_chunked(
    reader: &mut BufReader<TcpStream>,
    body: &mut Vec<u8>,
    line: &mut String,
) -> std::io::Result<()> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    loop {
        line.clear();
        reader.read_line(line)?;
        let size_hex = line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| bad("bad chunk size"))?;
        if body.len() + size > MAX_BODY {
            return Err(bad("chunked body too large"));
        }
        if size == 0 {
            // Trailers, up to the blank line.
            loop {
                line.clear();
                if reader.read_line(line)? == 0 || line.trim().is_empty() {
                    return Ok(());
                }
            }
        }
        let at = body.len();
        body.resize(at + size, 0);
        reader.read_exact(&mut body[at..])?;
        line.clear();
        reader.read_line(line)?;
    }
}

fn record(shared: &Shared, head: &Head, body: &[u8], arrived_ns: u64) {
    let hook = head
        .path
        .strip_prefix("/h/")
        .map(|rest| rest.split(['?', '/']).next().unwrap_or(""))
        .and_then(|n| n.parse::<usize>().ok());
    let signature = signature(shared, head, body);
    // Parse outside the lock.
    let parsed = hook.and_then(|_| parse_body(body));
    {
        let mut r = shared.record.lock().expect("receiver record lock poisoned");
        r.posts += 1;
        match signature {
            Signature::Missing => r.unsigned += 1,
            Signature::Wrong => r.bad_checksum += 1,
            Signature::Valid | Signature::Bearer => {}
        }
        match (hook, parsed) {
            (Some(hook), Some(events)) => {
                for ev in events {
                    match ev {
                        Event::Bench { seq, sent_ns } => r.add(Delivery {
                            hook,
                            seq,
                            sent_ns,
                            arrived_ns,
                        }),
                        Event::Warmup => *r.warmups.entry(hook).or_default() += 1,
                        Event::Other => r.other_events += 1,
                        Event::Malformed => r.malformed += 1,
                    }
                }
            }
            _ => r.malformed += 1,
        }
    }
    shared.changed.notify_all();
}

enum Signature {
    Valid,
    Wrong,
    Missing,
    Bearer,
}

/// Checks the `checksum` the service appends to the callback URL: hex of
/// sha1 (40 digits) or sha256 (64) over callback URL + body + secret.
fn signature(shared: &Shared, head: &Head, body: &[u8]) -> Signature {
    let Some(at) = head
        .path
        .find("?checksum=")
        .or_else(|| head.path.find("&checksum="))
    else {
        return if head.bearer {
            Signature::Bearer
        } else {
            Signature::Missing
        };
    };
    let given = &head.path[at + "?checksum=".len()..];
    let url = format!("{}{}", shared.base, &head.path[..at]);
    let expected = match given.len() {
        40 => {
            use sha2::Digest;
            let mut h = sha1::Sha1::new();
            h.update(url.as_bytes());
            h.update(body);
            h.update(shared.secret.as_bytes());
            format!("{:x}", h.finalize())
        }
        64 => {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            h.update(url.as_bytes());
            h.update(body);
            h.update(shared.secret.as_bytes());
            format!("{:x}", h.finalize())
        }
        _ => return Signature::Wrong,
    };
    if given.eq_ignore_ascii_case(&expected) {
        Signature::Valid
    } else {
        Signature::Wrong
    }
}

/// One event of a callback body, as the benchmark sees it.
#[derive(Debug, PartialEq)]
pub enum Event {
    /// A bench chat message `bench seq=N sent=T`.
    Bench { seq: u64, sent_ns: u64 },
    /// A bench chat message `bench warmup`.
    Warmup,
    /// Any other event (meeting-created, a chat message not from the bench, ...).
    Other,
    /// An event whose shape is not a webhook event.
    Malformed,
}

/// Parses a callback body `domain=..&event=<urlencoded JSON array>&timestamp=..`.
/// `None` when there is no parsable `event` field.
pub fn parse_body(body: &[u8]) -> Option<Vec<Event>> {
    let value = body
        .split(|&b| b == b'&')
        .find_map(|pair| pair.strip_prefix(b"event="))?;
    let json = percent_decode(value);
    let parsed: Value = serde_json::from_slice(&json).ok()?;
    let list = match parsed {
        Value::Array(list) => list,
        one @ Value::Object(_) => vec![one],
        _ => return None,
    };
    Some(list.iter().map(classify).collect())
}

fn classify(ev: &Value) -> Event {
    let Some(id) = ev.pointer("/data/id").and_then(Value::as_str) else {
        return Event::Malformed;
    };
    if id != "chat-group-message-sent" {
        return Event::Other;
    }
    let Some(text) = ev
        .pointer("/data/attributes/chat-message/message")
        .and_then(Value::as_str)
    else {
        return Event::Malformed;
    };
    parse_text(text)
}

/// Reads `bench seq=N sent=T` (or `bench warmup`) from a chat text.
pub fn parse_text(text: &str) -> Event {
    let Some(rest) = text.strip_prefix("bench ") else {
        return Event::Other;
    };
    if rest == "warmup" {
        return Event::Warmup;
    }
    let mut seq = None;
    let mut sent = None;
    for word in rest.split(' ') {
        if let Some(v) = word.strip_prefix("seq=") {
            seq = v.parse().ok();
        } else if let Some(v) = word.strip_prefix("sent=") {
            sent = v.parse().ok();
        }
    }
    match (seq, sent) {
        (Some(seq), Some(sent_ns)) => Event::Bench { seq, sent_ns },
        _ => Event::Malformed,
    }
}

/// Decodes `application/x-www-form-urlencoded` bytes: `%XX` and `+` as space.
pub fn percent_decode(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < input.len() => match (hex(input[i + 1]), hex(input[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Black-hole endpoints: accept TCP connections, read nothing, never answer. The
/// connections stay open until the value is dropped.
pub struct BlackHole {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl BlackHole {
    /// Listens on 127.0.0.1 on a free port.
    pub fn start() -> BlackHole {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a black hole on 127.0.0.1:0");
        let addr = listener.local_addr().expect("black hole local address");
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let acceptor = std::thread::Builder::new()
            .name("black-hole".into())
            .spawn(move || {
                let mut held = Vec::new();
                for stream in listener.incoming() {
                    if s.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        held.push(stream);
                    }
                }
            })
            .expect("spawn a black hole's accept thread");
        BlackHole {
            addr,
            stop,
            acceptor: Some(acceptor),
        }
    }

    /// The callback URL of this black hole.
    pub fn url(&self) -> String {
        format!("http://{}/never", self.addr)
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.acceptor.take() {
            let _ = h.join();
        }
    }
}
