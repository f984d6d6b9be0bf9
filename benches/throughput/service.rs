//! The service binary as a child process and its observation: its hooks API, and `/proc`
//! sampling of its memory and CPU. It measures nothing else. (The private `redis-server`
//! is the integration tests' harness, `tests/support/redis_server.rs`.)

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::redis_server::free_port;

/// A child process killed and reaped when dropped.
pub struct Guard {
    name: &'static str,
    child: Child,
}

impl Guard {
    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Some(description)` when the child has already exited.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!("{} exited: {status}", self.name)),
            Ok(None) => None,
            Err(e) => Some(format!("{}: cannot query status: {e}", self.name)),
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How to configure the service.
pub struct ServiceConfig {
    pub redis_url: String,
    pub secret: String,
    pub workers: Option<usize>,
    pub request_timeout_ms: u64,
    /// The binary to run: this crate's own unless another build is to be compared.
    pub binary: String,
    /// Extra environment, set last (it may override the above).
    pub env: Vec<(String, String)>,
}

/// This crate's service binary, as Cargo built it for the bench profile.
pub const OWN_BINARY: &str = env!("CARGO_BIN_EXE_bbb-webhooks");

/// The service binary, running.
pub struct Service {
    pub guard: Guard,
    pub api: Api,
}

impl Service {
    /// Starts the binary and waits until `hooks/ping` answers.
    pub fn start(cfg: &ServiceConfig, deadline: Duration) -> Result<Service, String> {
        let bind = format!("127.0.0.1:{}", free_port());
        let mut cmd = Command::new(&cfg.binary);
        cmd.env("BBB_WEBHOOKS_REDIS_URL", &cfg.redis_url)
            .env("BBB_WEBHOOKS_API_BIND", &bind)
            .env("BBB_WEBHOOKS_SHARED_SECRET", &cfg.secret)
            .env("BBB_WEBHOOKS_SERVER_DOMAIN", "bench.localhost")
            .env("BBB_WEBHOOKS_LOG_LEVEL", "warn")
            .env(
                "BBB_WEBHOOKS_REQUEST_TIMEOUT_MS",
                cfg.request_timeout_ms.to_string(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(w) = cfg.workers {
            cmd.env("BBB_WEBHOOKS_DELIVERY_WORKERS", w.to_string());
        }
        cmd.envs(cfg.env.iter().map(|(k, v)| (k, v)));
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", cfg.binary))?;
        let mut guard = Guard {
            name: "bbb-webhooks",
            child,
        };
        let api = Api::new(format!("http://{bind}/bigbluebutton/api"), &cfg.secret);
        let until = Instant::now() + deadline;
        loop {
            if let Some(why) = guard.exited() {
                return Err(format!("{why} before its API answered"));
            }
            if let Ok(text) = api.ping() {
                if text.contains("bbb-webhooks API up!") {
                    return Ok(Service { guard, api });
                }
            }
            if Instant::now() >= until {
                return Err(format!("hooks/ping did not answer within {deadline:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A hooks API client (sha1 checksums).
#[derive(Clone)]
pub struct Api {
    base: String,
    secret: String,
    agent: ureq::Agent,
}

impl Api {
    pub fn new(base: String, secret: &str) -> Api {
        let agent = agent();
        Api {
            base,
            secret: secret.to_owned(),
            agent,
        }
    }

    fn get(&self, call: &str, query: &str) -> Result<String, String> {
        let checksum = checksum(call, query, &self.secret);
        let url = if query.is_empty() {
            format!("{}/{call}?checksum={checksum}", self.base)
        } else {
            format!("{}/{call}?{query}&checksum={checksum}", self.base)
        };
        self.fetch(&url)
    }

    fn fetch(&self, url: &str) -> Result<String, String> {
        // A server may close a kept-alive connection after some number of
        // requests (as this service does after 1,000): a GET is safe to send
        // again once, on a new connection.
        let mut resp = match self.agent.get(url).call() {
            Ok(r) => r,
            Err(ureq::Error::Io(_)) | Err(ureq::Error::Protocol(_)) => {
                self.agent.get(url).call().map_err(|e| e.to_string())?
            }
            Err(e) => return Err(e.to_string()),
        };
        let status = resp.status();
        let text = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(text)
        } else {
            Err(format!("HTTP {status}: {text}"))
        }
    }

    /// `hooks/ping`.
    pub fn ping(&self) -> Result<String, String> {
        self.fetch(&format!("{}/hooks/ping", self.base))
    }

    /// `hooks/list`; returns the number of hooks listed.
    pub fn list(&self) -> Result<usize, String> {
        let text = self.get("hooks/list", "")?;
        if !text.contains("<returncode>SUCCESS</returncode>") {
            return Err(format!("hooks/list failed: {text}"));
        }
        Ok(text.matches("<hook>").count())
    }

    /// `hooks/create` of a global hook; returns its hookID.
    pub fn create(&self, callback_url: &str) -> Result<String, String> {
        let query = format!("callbackURL={}", url_encode(callback_url));
        let text = self.get("hooks/create", &query)?;
        if !text.contains("<returncode>SUCCESS</returncode>") {
            return Err(format!("hooks/create failed: {text}"));
        }
        between(&text, "<hookID>", "</hookID>")
            .map(str::to_owned)
            .ok_or_else(|| format!("hooks/create answered without a hookID: {text}"))
    }
}

/// A keep-alive HTTP client with 5 s read/write timeouts. No global or per-call
/// timeout: with one, ureq resolves the host on a new thread for every request, which
/// would cost more than the request itself on 127.0.0.1.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(2)))
        .timeout_per_read(Some(Duration::from_secs(5)))
        .timeout_per_write(Some(Duration::from_secs(5)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// `sha1(call + query + secret)` in hex, BBB's checksum rule.
pub fn checksum(call: &str, query: &str, secret: &str) -> String {
    use sha2::Digest;
    let mut h = sha1::Sha1::new();
    h.update(call.as_bytes());
    h.update(query.as_bytes());
    h.update(secret.as_bytes());
    format!("{:x}", h.finalize())
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn url_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let from = s.find(open)? + open.len();
    let len = s[from..].find(close)?;
    Some(&s[from..from + len])
}

/// Clock ticks per second for `/proc/<pid>/stat` (`getconf CLK_TCK`, else 100).
pub fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// utime + stime of a process, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Context switches (voluntary and not) of a process's live threads, summed
/// over `/proc/<pid>/task/*/status`: each is a thread going to sleep or
/// being preempted, which on a small VM costs more than most of the code.
pub fn context_switches(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks.flatten() {
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        total += status
            .lines()
            .filter_map(|l| {
                l.strip_prefix("voluntary_ctxt_switches:")
                    .or_else(|| l.strip_prefix("nonvoluntary_ctxt_switches:"))
            })
            .filter_map(|v| v.trim().parse::<u64>().ok())
            .sum::<u64>();
    }
    Some(total)
}

/// A `VmRSS:`/`VmHWM:`-style field of `/proc/<pid>/status`, in kB.
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Samples VmRSS every few ms on its own thread and keeps the peak.
pub struct RssSampler {
    peak_kb: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<u64>>,
}

impl RssSampler {
    pub fn start(pid: u32, every: Duration) -> RssSampler {
        let peak_kb = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (Arc::clone(&peak_kb), Arc::clone(&stop));
        let handle = std::thread::Builder::new()
            .name("rss-sampler".into())
            .spawn(move || {
                let mut samples = 0;
                while !s.load(Ordering::Relaxed) {
                    match status_kb(pid, "VmRSS:") {
                        Some(kb) => {
                            p.fetch_max(kb, Ordering::Relaxed);
                            samples += 1;
                        }
                        None => break,
                    }
                    std::thread::sleep(every);
                }
                samples
            })
            .expect("spawn the RSS sampler");
        RssSampler {
            peak_kb,
            stop,
            handle: Some(handle),
        }
    }

    /// Stops sampling; returns (peak kB, samples taken).
    pub fn finish(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        let samples = self
            .handle
            .take()
            .map(|h| h.join().unwrap_or(0))
            .unwrap_or(0);
        (self.peak_kb.load(Ordering::Relaxed), samples)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
