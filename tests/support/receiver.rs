//! An HTTP server on 127.0.0.1:0 that records every request it gets and
//! answers as the test scripts it (200 by default, or a status, a delay,
//! headers, or no answer at all), and what a receiving app checks of a
//! callback: its form fields, events and checksum.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bbb_webhooks::checksum::Algorithm;
use bbb_webhooks::query;
use crossbeam_channel::{unbounded, Receiver, Sender};

use super::{SECRET, WAIT};

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn form(&self) -> Vec<(String, String)> {
        query::params(&self.body)
    }

    pub fn field(&self, name: &str) -> String {
        query::get(&self.form(), name)
            .unwrap_or_else(|| panic!("callback has no {name}: {}", self.body))
            .to_owned()
    }

    /// The events of the callback, parsed.
    pub fn events(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.field("event")).expect("event is a JSON array")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// What the receiver answers to one request.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Keep the connection open and never answer.
    pub hang: bool,
}

impl Answer {
    pub fn status(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            delay: Duration::ZERO,
            hang: false,
        }
    }

    pub fn hang() -> Answer {
        Answer {
            hang: true,
            ..Answer::status(200)
        }
    }

    pub fn after(mut self, d: Duration) -> Answer {
        self.delay = d;
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Answer {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }
}

struct Answers {
    next: Vec<Answer>,
    default: Answer,
}

/// An HTTP server on 127.0.0.1:0 that records every request and answers as
/// told (200 by default).
pub struct HttpReceiver {
    pub port: u16,
    pub requests: Receiver<Received>,
    answers: Arc<Mutex<Answers>>,
}

impl HttpReceiver {
    pub fn start() -> HttpReceiver {
        HttpReceiver::listen(TcpListener::bind("127.0.0.1:0").expect("bind receiver"))
    }

    /// A receiver on `port` of 127.0.0.1, e.g. one a service was told of
    /// while nothing listened there (an endpoint that comes back).
    pub fn start_on(port: u16) -> HttpReceiver {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("bind a receiver on port {port}: {e}"));
        HttpReceiver::listen(listener)
    }

    fn listen(listener: TcpListener) -> HttpReceiver {
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = unbounded();
        let answers = Arc::new(Mutex::new(Answers {
            next: Vec::new(),
            default: Answer::status(200),
        }));
        let a = answers.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let tx = tx.clone();
                let a = a.clone();
                std::thread::spawn(move || serve(stream, tx, a));
            }
        });
        HttpReceiver {
            port,
            requests: rx,
            answers,
        }
    }

    /// The URL of `path` on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The next answers, in order; after them, 200.
    pub fn answer_next(&self, answers: Vec<Answer>) {
        let mut a = self.answers.lock().expect("answers lock");
        a.next.extend(answers);
    }

    /// The answer once the scripted ones are used up (200 at first).
    pub fn answer_always(&self, answer: Answer) {
        self.answers.lock().expect("answers lock").default = answer;
    }

    /// The next request, or a panic after `WAIT`.
    pub fn next(&self) -> Received {
        self.requests
            .recv_timeout(WAIT)
            .expect("a callback within the deadline")
    }

    /// The one event of the next request (a panic if it carries several).
    pub fn next_event(&self) -> serde_json::Value {
        let mut events = self.next().events();
        assert_eq!(events.len(), 1, "one event per callback");
        events.remove(0)
    }

    /// Discards requests until none arrives for `quiet`.
    pub fn drain(&self, quiet: Duration) {
        while self.requests.recv_timeout(quiet).is_ok() {}
    }

    /// Asserts that nothing arrives within `d`.
    pub fn assert_quiet(&self, d: Duration) {
        if let Ok(r) = self.requests.recv_timeout(d) {
            panic!("unexpected callback: {r:?}");
        }
    }
}

fn serve(stream: TcpStream, tx: Sender<Received>, answers: Arc<Mutex<Answers>>) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let target = parts.next().unwrap_or("").to_owned();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let answer = {
            let mut a = answers.lock().expect("answers lock");
            if a.next.is_empty() {
                a.default.clone()
            } else {
                a.next.remove(0)
            }
        };
        let _ = tx.send(Received {
            method,
            target,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        if answer.hang {
            // Hold the connection open and never answer; the peer times out.
            let mut sink = [0u8; 1];
            let _ = reader.read(&mut sink);
            return;
        }
        std::thread::sleep(answer.delay);
        let mut resp = format!("HTTP/1.1 {} X\r\nContent-Length: 2\r\n", answer.status);
        for (k, v) in answer.headers {
            resp.push_str(&format!("{k}: {v}\r\n"));
        }
        resp.push_str("\r\nok");
        if out.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

/// Checks a callback's checksum the way a receiving app does: SHA1 of the
/// registered URL, the raw body and the secret.
pub fn checksum_verifies(r: &Received, registered_url: &str) -> bool {
    let Some((_, sum)) = r.target.rsplit_once("checksum=") else {
        return false;
    };
    let alg = Algorithm::from_hex_len(sum.len()).expect("known checksum length");
    let expected = alg.hex_digest(&[
        registered_url.as_bytes(),
        r.body.as_bytes(),
        SECRET.as_bytes(),
    ]);
    expected == sum
}
