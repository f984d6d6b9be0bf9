//! Real parts for the integration tests: a private `redis-server` on a free
//! port, an HTTP receiver on port 0 that records callbacks, the service
//! binary as a child process, and signed API URLs.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bbb_webhooks::checksum::Algorithm;
use bbb_webhooks::query;
use crossbeam_channel::{unbounded, Receiver, Sender};

pub const SECRET: &str = "test-secret-0123456789";
pub const DOMAIN: &str = "bbb.test.example";
/// How long a test waits for something that should happen.
pub const WAIT: Duration = Duration::from_secs(15);

/// A free TCP port on 127.0.0.1 (free when asked; the OS may reuse it later).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Polls `f` until it returns `Some`, or panics with `what` after `WAIT`.
pub fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A private Redis server, killed on drop.
pub struct Redis {
    pub port: u16,
    child: Option<Child>,
    /// With a data directory, it keeps its data across restarts.
    dir: Option<PathBuf>,
}

impl Redis {
    pub fn start() -> Redis {
        let mut r = Redis {
            port: free_port(),
            child: None,
            dir: None,
        };
        r.restart();
        r
    }

    /// A server that writes every change to an append-only file, so a
    /// restart keeps the data.
    pub fn start_persistent() -> Redis {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("bbbwh-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("redis dir");
        let mut r = Redis {
            port,
            child: None,
            dir: Some(dir),
        };
        r.restart();
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on the same port and waits until it answers.
    pub fn restart(&mut self) {
        self.stop();
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--protected-mode", "no"]);
        match &self.dir {
            Some(dir) => {
                cmd.args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
                    .arg(dir);
            }
            None => {
                cmd.args(["--appendonly", "no"]);
            }
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (install it: apt-get install redis-server)");
        self.child = Some(child);
        let url = self.url();
        wait_for("redis-server to answer PING", || {
            let client = redis::Client::open(url.as_str()).ok()?;
            let mut c = client
                .get_connection_with_timeout(Duration::from_millis(200))
                .ok()?;
            redis::cmd("PING").query::<String>(&mut c).ok()
        });
    }

    /// Kills the server (its data is lost: it keeps nothing on disk).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url().as_str())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(2)))
            .expect("connects to the test redis")
    }

    pub fn publish(&self, channel: &str, message: &str) {
        let n: i64 = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(message)
            .query(&mut self.conn())
            .expect("publish");
        assert!(n >= 1, "nobody subscribed to {channel}");
    }

    /// Number of subscribers of `channel`.
    pub fn subscribers(&self, channel: &str) -> i64 {
        let r: Vec<redis::Value> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query(&mut self.conn())
            .unwrap_or_default();
        match r.get(1) {
            Some(redis::Value::Int(n)) => *n,
            _ => 0,
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

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
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
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

/// The service binary as a child process, killed on drop.
pub struct Service {
    child: Child,
    pub api: String,
    pub log: Arc<Mutex<Vec<String>>>,
    _dir: TempDir,
}

/// Settings every test service gets, before the test's own.
pub fn base_env(redis: &Redis) -> Vec<(String, String)> {
    [
        ("BBB_WEBHOOKS_REDIS_URL", redis.url()),
        ("BBB_WEBHOOKS_API_BIND", "127.0.0.1:0".to_owned()),
        ("BBB_WEBHOOKS_SHARED_SECRET", SECRET.to_owned()),
        ("BBB_WEBHOOKS_SERVER_DOMAIN", DOMAIN.to_owned()),
        ("BBB_WEBHOOKS_BBB_PROPERTIES", String::new()),
        ("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "50,100,200".to_owned()),
        ("BBB_WEBHOOKS_REQUEST_TIMEOUT_MS", "2000".to_owned()),
        ("BBB_WEBHOOKS_LOG_LEVEL", "debug".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The service binary with a clean environment (no `BBB_WEBHOOKS_*` of the
/// caller) and an empty config file, so the machine's config is not read.
/// A temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn command(env: &[(String, String)]) -> (Command, TempDir) {
    let dir =
        std::env::temp_dir().join(format!("bbbwh-test-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("empty.conf");
    std::fs::write(&file, "").expect("write config");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bbb-webhooks"));
    for (k, _) in std::env::vars() {
        if k.starts_with("BBB_WEBHOOKS_") {
            cmd.env_remove(k);
        }
    }
    cmd.arg("--config").arg(&file);
    for (k, v) in env {
        cmd.env(k, v);
    }
    (cmd, TempDir(dir))
}

impl Service {
    /// Starts the service with `base_env(redis)` plus `extra`, and waits until
    /// its API answers and it is subscribed.
    pub fn start(redis: &Redis, extra: &[(&str, &str)]) -> Service {
        let mut env = base_env(redis);
        for (k, v) in extra {
            env.retain(|(ek, _)| ek != k);
            env.push(((*k).to_owned(), (*v).to_owned()));
        }
        Service::start_env(&env, redis)
    }

    pub fn start_env(env: &[(String, String)], redis: &Redis) -> Service {
        let (mut cmd, dir) = command(env);
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("service starts");
        let stderr = child.stderr.take().expect("stderr piped");
        // From here on the process is killed on drop, even if starting fails.
        let mut svc = Service {
            child,
            api: String::new(),
            log: Arc::default(),
            _dir: dir,
        };
        let (addr_tx, addr_rx) = unbounded();
        let l = svc.log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("service: {line}");
                if let Some(rest) = line.split("API listening on ").nth(1) {
                    let _ = addr_tx.send(rest.trim().to_owned());
                }
                l.lock().expect("log lock").push(line);
            }
        });
        svc.api = addr_rx
            .recv_timeout(WAIT)
            .expect("the service logs its API address");
        let _ = redis;
        wait_for("the service to subscribe", || {
            svc.logged("subscribed to ").then_some(())
        });
        svc
    }

    /// A signed API URL for `call` with `query` (already encoded).
    pub fn url(&self, call: &str, query: &str) -> String {
        self.url_with(call, query, Algorithm::Sha1)
    }

    pub fn url_with(&self, call: &str, query: &str, alg: Algorithm) -> String {
        let sum = alg.hex_digest(&[call.as_bytes(), query.as_bytes(), SECRET.as_bytes()]);
        let sep = if query.is_empty() { "" } else { "&" };
        format!("{}/{call}?{query}{sep}checksum={sum}", self.api)
    }

    /// GETs a full URL; returns status and body.
    pub fn get(&self, url: &str) -> (u16, String) {
        http_get(url)
    }

    /// Calls a signed API call and returns the body.
    pub fn call(&self, call: &str, query: &str) -> String {
        let (status, body) = http_get(&self.url(call, query));
        assert_eq!(status, 200, "{call}: {body}");
        body
    }

    /// Creates a hook and returns its id.
    pub fn create_hook(&self, query: &str) -> String {
        let body = self.call("hooks/create", query);
        assert!(body.contains("<returncode>SUCCESS</returncode>"), "{body}");
        between(&body, "<hookID>", "</hookID>")
    }

    /// Sends SIGTERM and waits for the process to exit; returns its status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        wait_for("the service to exit", || {
            self.child.try_wait().ok().flatten()
        })
    }

    /// Kills the process at once (SIGKILL).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether a log line contains `s`.
    pub fn logged(&self, s: &str) -> bool {
        self.log
            .lock()
            .expect("log lock")
            .iter()
            .any(|l| l.contains(s))
    }

    /// Waits until a log line contains `s`.
    pub fn wait_logged(&self, s: &str) {
        wait_for(&format!("a log line with {s:?}"), || {
            self.logged(s).then_some(())
        });
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP GET with std only: returns status and body.
pub fn http_get(url: &str) -> (u16, String) {
    request("GET", url)
}

/// Sends `method url` and returns status and body.
pub fn request(method: &str, url: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = TcpStream::connect(host).expect("connect to the API");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    .expect("send request");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read response");
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad HTTP response: {resp:?}"));
    let body = resp
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// The text between `a` and the next `b` in `s`.
pub fn between(s: &str, a: &str, b: &str) -> String {
    let start = s.find(a).unwrap_or_else(|| panic!("{a} not in {s}")) + a.len();
    let len = s[start..]
        .find(b)
        .unwrap_or_else(|| panic!("{b} not in {s}"));
    s[start..start + len].to_owned()
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

/// Publishes already-mapped `user-joined` events numbered by `range`.
pub fn publish_n(redis: &Redis, range: std::ops::Range<u64>) {
    for n in range {
        redis.publish(
            "from-akka-apps-redis-channel",
            &mapped_event("user-joined", "i", "e", n),
        );
    }
}

/// The numbers of the events a callback carried (see [`publish_n`]).
pub fn numbers(r: &Received) -> Vec<u64> {
    r.events()
        .iter()
        .map(|e| e["data"]["attributes"]["n"].as_u64().expect("n"))
        .collect()
}

/// A mapped-format event for meeting `internal`/`external` with id `id`.
pub fn mapped_event(id: &str, internal: &str, external: &str, n: u64) -> String {
    serde_json::json!({
        "data": {
            "type": "event",
            "id": id,
            "attributes": {
                "meeting": {"internal-meeting-id": internal, "external-meeting-id": external},
                "n": n
            },
            "event": {"ts": 1}
        }
    })
    .to_string()
}
