//! Misbehaving network parts: a TCP proxy that stalls once, and an HTTP
//! receiver whose answers stall kept-alive connections on a delayed ACK.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A proxy on 127.0.0.1:0 to `target` that, the first time a client sends
/// bytes containing `pattern`, holds them back for `stall` before passing
/// them on (a Redis that freezes at one command, say).
pub struct StallingProxy {
    pub port: u16,
    /// Whether the stall happened.
    pub stalled: Arc<AtomicBool>,
}

impl StallingProxy {
    pub fn start(target: u16, pattern: &'static [u8], stall: Duration) -> StallingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let stalled = Arc::new(AtomicBool::new(false));
        let s = stalled.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let (c2, s2) = match (client.try_clone(), server.try_clone()) {
                    (Ok(c), Ok(s)) => (c, s),
                    _ => continue,
                };
                let once = s.clone();
                std::thread::spawn(move || pump(client, server, Some((pattern, stall, once))));
                std::thread::spawn(move || pump(s2, c2, None));
            }
        });
        StallingProxy { port, stalled }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

type Stall = (&'static [u8], Duration, Arc<AtomicBool>);

fn pump(mut from: TcpStream, mut to: TcpStream, stall: Option<Stall>) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some((pattern, d, done)) = &stall {
            let hit = buf[..n].windows(pattern.len()).any(|w| w == *pattern);
            if hit && !done.swap(true, Ordering::SeqCst) {
                std::thread::sleep(*d);
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// An HTTP/1.1 keep-alive receiver on 127.0.0.1:0 that answers 200 and
/// writes the head and the body of each answer in two writes, with Nagle's
/// algorithm on, as Python's `http.server` does: on a kept-alive
/// connection every answer then waits for the client's delayed ACK.
pub struct NagleReceiver {
    pub port: u16,
    /// Events received (the `n` of each [`super::mapped_event`]), by path.
    pub received: Arc<std::sync::Mutex<Vec<(String, u64)>>>,
    pub connections: Arc<AtomicUsize>,
}

impl NagleReceiver {
    pub fn start() -> NagleReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let port = listener.local_addr().expect("addr").port();
        let received = Arc::new(std::sync::Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (r, c) = (received.clone(), connections.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                c.fetch_add(1, Ordering::Relaxed);
                let r = r.clone();
                std::thread::spawn(move || serve_split(stream, &r));
            }
        });
        NagleReceiver {
            port,
            received,
            connections,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Events received on `path`, in order.
    pub fn numbers(&self, path: &str) -> Vec<u64> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, n)| *n)
            .collect()
    }
}

fn serve_split(stream: TcpStream, received: &std::sync::Mutex<Vec<(String, u64)>>) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .split('?')
            .next()
            .unwrap_or("")
            .to_owned();
        let mut len = 0;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h.trim().is_empty() {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        let event = bbb_webhooks::query::params(&body)
            .into_iter()
            .find(|(k, _)| k == "event")
            .map(|(_, v)| v)
            .unwrap_or_default();
        if let Ok(serde_json::Value::Array(events)) = serde_json::from_str(&event) {
            let mut r = received.lock().expect("lock");
            for e in events {
                if let Some(n) = e["data"]["attributes"]["n"].as_u64() {
                    r.push((path.clone(), n));
                }
            }
        }
        // Head, then body: two small writes.
        if out
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
            .is_err()
            || out.write_all(b"ok").is_err()
        {
            return;
        }
    }
}
