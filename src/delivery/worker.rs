//! A delivery worker: takes one job (the head of one hook's queue), POSTs it
//! and reports how it went. It never waits for a retry; the scheduler does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use super::Item;
use crate::callback;
use crate::config::Config;
use crate::hooks::Hook;

/// The most of a response body that is read; the rest is discarded.
const MAX_RESPONSE_BODY: u64 = 64 * 1024;
/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// Successes of one job not yet reported are reported once the oldest is
/// this old: the journal trims a delivered event at most this much later
/// than it would one at a time.
pub const ACK_EVERY: Duration = Duration::from_millis(1);

/// Successes of a job not yet reported.
#[derive(Default)]
struct Acked {
    events: usize,
    requests: usize,
    since: Option<Instant>,
}

impl Acked {
    fn add(&mut self, events: usize) {
        self.events += events;
        self.requests += 1;
        self.since.get_or_insert_with(Instant::now);
    }

    fn due(&self) -> bool {
        self.since.is_some_and(|t| t.elapsed() >= ACK_EVERY)
    }

    fn take(&mut self, hook_id: &str, last: bool) -> Done {
        let done = Done {
            hook_id: hook_id.to_owned(),
            count: self.events,
            requests: self.requests,
            result: Ok(()),
            last,
        };
        *self = Acked::default();
        done
    }
}

/// Deliver these events to this hook, in one request.
#[derive(Debug)]
pub struct Job {
    pub hook: Arc<Hook>,
    /// The head of the hook's queue, posted in order, `per_post` events a
    /// request, one request at a time.
    pub items: Vec<Item>,
    pub per_post: usize,
    /// Set when the hook is removed: the job ends after its current request.
    pub cancelled: Arc<AtomicBool>,
}

/// How a job went.
#[derive(Debug)]
pub struct Done {
    pub hook_id: String,
    /// Number of events the requests carried.
    pub count: usize,
    /// Number of requests reported: several successes can come in one
    /// `Done`; a failure comes alone.
    pub requests: usize,
    pub result: Result<(), Failure>,
    /// The job is over: the worker is free and the hook's lease ends.
    pub last: bool,
}

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// For logs and `hooks/list`; never contains the secret or checksum.
    pub message: String,
    /// The endpoint asked to wait this long (429/503 with `Retry-After`).
    pub retry_after: Option<Duration>,
    /// The endpoint answered 410 Gone: it wants no more events.
    pub gone: bool,
}

/// The HTTP client shared by the workers: one connection pool, the request
/// timeout, redirects as configured, HTTPS checked against the system's
/// trust store.
pub fn agent(config: &Config) -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(config.request_timeout))
        .http_status_as_error(false)
        .max_redirects(config.max_redirects)
        .max_redirects_will_error(false)
        .max_idle_connections_per_host(64)
        .user_agent(concat!("bbb-webhooks/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls)
        .build();
    ureq::Agent::with_parts(config, DefaultConnector::default(), InlineResolver)
}

/// Looks host names up on the calling thread. ureq's own resolver starts a
/// thread per request to bound the lookup by the request timeout; at
/// thousands of callbacks a second that thread costs more than the request.
/// The lookup is then bounded by the system resolver's own timeout instead,
/// and an address literal needs no lookup at all.
#[derive(Debug)]
struct InlineResolver;

impl Resolver for InlineResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        DefaultResolver::default().resolve(uri, config, NextTimeout::default())
    }
}

pub struct Worker {
    pub config: Arc<Config>,
    /// Set when the service stops: a job ends after its current request.
    pub closing: Arc<AtomicBool>,
    pub agent: ureq::Agent,
    pub jobs: Receiver<Job>,
    pub done: Sender<Done>,
}

impl Worker {
    /// Runs jobs until the scheduler drops its sender.
    pub fn run(self) {
        for job in self.jobs.iter() {
            if !self.run_job(&job) {
                break;
            }
        }
    }

    /// Posts the job's events request by request and stops at the first
    /// failure or when the service is closing. Successes are reported
    /// together, at the latest [`ACK_EVERY`] after the oldest unreported one
    /// and always before a failure or the job's end, so a fast endpoint does
    /// not wake the scheduler and the journal once per request. Returns
    /// false when the scheduler is gone.
    fn run_job(&self, job: &Job) -> bool {
        let mut acked = Acked::default();
        let mut chunks = job.items.chunks(job.per_post.max(1)).peekable();
        while let Some(chunk) = chunks.next() {
            let result = self.post(&job.hook, chunk);
            let stop = result.is_err()
                || self.closing.load(Ordering::Relaxed)
                || job.cancelled.load(Ordering::Relaxed);
            let last = stop || chunks.peek().is_none();
            let sent = match result {
                Ok(()) => {
                    acked.add(chunk.len());
                    let due = last || acked.due();
                    !due || self.report(acked.take(&job.hook.id, last))
                }
                Err(failure) => {
                    // The successes before it first, so they are trimmed
                    // before the failed request is retried.
                    let earlier =
                        acked.requests == 0 || self.report(acked.take(&job.hook.id, false));
                    earlier
                        && self.report(Done {
                            hook_id: job.hook.id.clone(),
                            count: chunk.len(),
                            requests: 1,
                            result: Err(failure),
                            last: true,
                        })
                }
            };
            if !sent {
                return false;
            }
            if last {
                break;
            }
        }
        true
    }

    /// Tells the scheduler; false when it is gone.
    fn report(&self, done: Done) -> bool {
        self.done.send(done).is_ok()
    }

    fn post(&self, hook: &Hook, items: &[Item]) -> Result<(), Failure> {
        let payloads: Vec<&str> = items.iter().map(|i| &*i.payload).collect();
        let ids: Vec<&str> = items.iter().map(|i| &*i.id).collect();
        let req = callback::build(
            &hook.callback_url,
            &payloads,
            &self.config.server_domain,
            now_ms(),
            self.config.callback_auth,
            &self.config.secret,
        );
        let mut builder = self
            .agent
            .post(&req.url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("X-Bbb-Webhooks-Event-Ids", ids.join(","));
        if let Some(auth) = &req.authorization {
            builder = builder.header("Authorization", auth);
        }
        let mut resp = builder.send(req.body).map_err(|e| Failure {
            message: describe(&e),
            retry_after: None,
            gone: false,
        })?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(|l| l.chars().take(200).collect::<String>());
        // Read (a bounded part of) the body so the connection can be reused.
        let _ = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BODY)
            .read_to_vec();
        classify(status, retry_after, location)
    }
}

/// What an HTTP status means for the delivery: 2xx is success; 410 means the
/// endpoint is gone; 3xx that was not followed, 401 and every other status are
/// failures to retry; `Retry-After` counts on 429 and 503.
pub fn classify(
    status: u16,
    retry_after: Option<Duration>,
    location: Option<String>,
) -> Result<(), Failure> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    let message = match (status, location) {
        (300..=399, Some(l)) => format!("HTTP {status}: redirected to {l} (redirects are not followed; see BBB_WEBHOOKS_MAX_REDIRECTS)"),
        _ => format!("HTTP {status}"),
    };
    Err(Failure {
        message,
        retry_after: retry_after.filter(|_| status == 429 || status == 503),
        gone: status == 410,
    })
}

fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".to_owned(),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => format!(
            "TLS error: {e} (the endpoint's certificate must verify against the system trust store)"
        ),
        ureq::Error::Io(io) if is_tls(&io.to_string()) => format!(
            "TLS error: {io} (the endpoint's certificate must verify against the system trust store)"
        ),
        ureq::Error::Io(io) => format!("connection error: {io}"),
        other => other.to_string(),
    }
}

/// Whether an I/O error's text is about the TLS handshake or certificate.
fn is_tls(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    ["certificate", "tls", "handshake", "peer sent"]
        .iter()
        .any(|k| t.contains(k))
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// An HTTP/1.1 keep-alive endpoint on port 0 that answers 200 to the
    /// first `ok` requests and 500 after that.
    fn endpoint(ok: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
        let addr = listener.local_addr().expect("has an address");
        std::thread::spawn(move || {
            let mut served = 0;
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let mut reader = BufReader::new(conn);
                loop {
                    let mut length = 0;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => break,
                            Ok(_) if line == "\r\n" => break,
                            Ok(_) => {
                                let lower = line.to_ascii_lowercase();
                                if let Some(v) = lower.strip_prefix("content-length:") {
                                    length = v.trim().parse().unwrap_or(0);
                                }
                            }
                        }
                    }
                    if line != "\r\n" {
                        break;
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        break;
                    }
                    served += 1;
                    let status = if served <= ok { "200 OK" } else { "500 Oops" };
                    let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
                    if reader.get_mut().write_all(answer.as_bytes()).is_err() {
                        break;
                    }
                }
            }
        });
        format!("http://{addr}/hook")
    }

    /// Runs one job of `n` events against an endpoint that accepts `ok`
    /// requests, and returns what the worker reported.
    fn run(n: usize, ok: usize) -> Vec<Done> {
        let env: HashMap<String, String> = [
            ("BBB_WEBHOOKS_SHARED_SECRET", "secret"),
            ("BBB_WEBHOOKS_SERVER_DOMAIN", "example.org"),
            ("BBB_WEBHOOKS_BBB_PROPERTIES", ""),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let config = Arc::new(
            Config::load(&env, Some(std::path::Path::new("/dev/null"))).expect("config loads"),
        );
        let (_jobs_tx, jobs) = crossbeam_channel::bounded(1);
        let (done, done_rx) = crossbeam_channel::unbounded();
        let worker = Worker {
            agent: agent(&config),
            config,
            closing: Arc::new(AtomicBool::new(false)),
            jobs,
            done,
        };
        let hook = Hook::new(endpoint(ok), None, None, false, false);
        let items = (0..n)
            .map(|i| Item {
                id: format!("1-{i}").into(),
                payload: format!(r#"{{"seq":{i}}}"#).into(),
            })
            .collect();
        let job = Job {
            hook: Arc::new(hook),
            items,
            per_post: 1,
            cancelled: Arc::new(AtomicBool::new(false)),
        };
        assert!(worker.run_job(&job), "the scheduler's side is open");
        drop(worker);
        done_rx.iter().collect()
    }

    #[test]
    fn successes_are_reported_together_and_before_a_failure() {
        let all = run(8, 100);
        assert!(!all.is_empty() && all.len() <= 8, "{all:?}");
        assert!(all.iter().all(|d| d.result.is_ok()), "{all:?}");
        assert_eq!(all.iter().map(|d| d.count).sum::<usize>(), 8);
        assert_eq!(all.iter().map(|d| d.requests).sum::<usize>(), 8);
        assert_eq!(all.iter().filter(|d| d.last).count(), 1, "{all:?}");
        assert!(all.last().is_some_and(|d| d.last));

        let failed = run(8, 5);
        let (last, before) = failed.split_last().expect("reports");
        assert!(last.last && last.result.is_err(), "{last:?}");
        assert_eq!((last.count, last.requests), (1, 1));
        assert!(
            before.iter().all(|d| d.result.is_ok() && !d.last),
            "{before:?}"
        );
        assert_eq!(before.iter().map(|d| d.count).sum::<usize>(), 5);
        assert_eq!(before.iter().map(|d| d.requests).sum::<usize>(), 5);
    }

    #[test]
    fn statuses() {
        assert!(classify(200, None, None).is_ok());
        assert!(classify(204, None, None).is_ok());
        let f = classify(401, None, None).expect_err("401 retried");
        assert!(!f.gone);
        let f = classify(410, None, None).expect_err("410 is gone");
        assert!(f.gone);
        let f = classify(503, Some(Duration::from_secs(3)), None).expect_err("503");
        assert_eq!(f.retry_after, Some(Duration::from_secs(3)));
        let f = classify(500, Some(Duration::from_secs(3)), None).expect_err("500");
        assert_eq!(f.retry_after, None);
        let f = classify(302, None, Some("http://x/".into())).expect_err("302");
        assert!(f.message.contains("redirected to http://x/"));
    }
}
