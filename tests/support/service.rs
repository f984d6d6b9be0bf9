//! The service running as a child process, for a test to talk to: API and
//! metrics ports chosen here (again on fresh ones if one was taken
//! meanwhile), readiness learnt from the service itself (its listening
//! sockets, `hooks/ping`, `GET /metrics`), its log captured line by line,
//! signed API calls, metrics samples, and SIGTERM or SIGKILL.
//!
//! ```ignore
//! let svc = Service::start(&redis, &[("BBB_WEBHOOKS_MAX_QUEUE", "5")]);
//! let svc = Service::launch(&redis).without_metrics().ready(Ready::Api).start();
//! ```

use std::net::SocketAddr;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bbb_webhooks::checksum::Algorithm;

use super::{
    base_env, between, command, free_port, http_get, listening_ports, proc_status_kb, signed_url,
    sigterm, try_request, wait_for, with, Redis, TempDir, WAIT,
};

/// Fresh ports tried when the service exits because a port chosen here was
/// taken meanwhile.
const ATTEMPTS: usize = 5;

/// What [`Launch::start`] waits for; each stage includes the ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ready {
    /// The process holds its listening sockets (API, and metrics when on):
    /// its configuration loaded and its ports bound. A service waiting for
    /// Redis at start gets this far and no further.
    Listening,
    /// `hooks/ping` answers: the stored hooks are loaded and the API serves.
    Api,
    /// `GET /metrics` shows `bbb_webhooks_redis_subscribed 1`: messages
    /// published now reach it. The default; it needs the metrics endpoint.
    Subscribed,
}

/// How to start a service: settings on top of [`base_env`], and what to
/// wait for. From [`Service::launch`].
pub struct Launch {
    env: Vec<(String, String)>,
    ready: Ready,
    metrics_off: bool,
}

impl Launch {
    /// Sets `key` (replacing an earlier value). A test that sets
    /// `BBB_WEBHOOKS_API_BIND` or `BBB_WEBHOOKS_METRICS_BIND` itself gets
    /// that address and no retry on another port; port 0 for the metrics
    /// leaves their address unknown here (no [`Ready::Subscribed`]).
    pub fn env(mut self, key: &str, value: &str) -> Launch {
        self.env = with(self.env, key, value);
        self
    }

    /// Sets each of `pairs`, as [`Launch::env`].
    pub fn envs(self, pairs: &[(&str, &str)]) -> Launch {
        pairs.iter().fold(self, |l, (k, v)| l.env(k, v))
    }

    /// No metrics endpoint: `BBB_WEBHOOKS_METRICS_BIND` is not set, the
    /// service's default. Then wait for [`Ready::Api`] at most, and for the
    /// subscription on Redis itself ([`Redis::subscribers`]).
    pub fn without_metrics(mut self) -> Launch {
        self.env.retain(|(k, _)| k != "BBB_WEBHOOKS_METRICS_BIND");
        self.metrics_off = true;
        self
    }

    /// Waits for `ready` instead of [`Ready::Subscribed`].
    pub fn ready(mut self, ready: Ready) -> Launch {
        self.ready = ready;
        self
    }

    /// Starts the binary and waits until it is ready; panics with its log
    /// if it exits or is not ready in time. When it exits because a port
    /// chosen here was taken meanwhile, it starts again on fresh ports.
    pub fn start(self) -> Service {
        let get = |key: &str| {
            self.env
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_owned())
        };
        let api_bind = match get(API_BIND) {
            None => Bind::Chosen,
            Some(v) => {
                let addr = parse_bind(API_BIND, &v);
                assert_ne!(addr.port(), 0, "the harness must know the API port");
                Bind::Given(addr)
            }
        };
        let metrics_bind = match get(METRICS_BIND) {
            _ if self.metrics_off => Bind::Unknown,
            None => Bind::Chosen,
            Some(v) if v.is_empty() => Bind::Unknown,
            Some(v) => match parse_bind(METRICS_BIND, &v) {
                addr if addr.port() == 0 => Bind::Unknown,
                addr => Bind::Given(addr),
            },
        };
        let api_path = get("BBB_WEBHOOKS_API_PATH")
            .map(|p| p.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| "/bigbluebutton/api".to_owned());
        let mut taken = Vec::new();
        for _ in 0..ATTEMPTS {
            let api = api_bind.pick().expect("an API address");
            let metrics = metrics_bind.pick();
            let mut env = with(self.env.clone(), API_BIND, &api.to_string());
            if let (Bind::Chosen, Some(addr)) = (metrics_bind, metrics) {
                env = with(env, METRICS_BIND, &addr.to_string());
            }
            let mut svc = Service::spawn(env, api, &api_path, metrics);
            match svc.wait(self.ready) {
                Ok(()) => return svc,
                Err(NotReady::PortTaken { key, log })
                    if (key == API_BIND && api_bind == Bind::Chosen)
                        || (key == METRICS_BIND && metrics_bind == Bind::Chosen) =>
                {
                    taken.push(log);
                }
                Err(NotReady::PortTaken { log, .. } | NotReady::Other(log)) => {
                    panic!("the service did not start: {log}")
                }
            }
        }
        panic!(
            "the service found its ports taken {ATTEMPTS} times:\n{}",
            taken.join("\n")
        );
    }
}

const API_BIND: &str = "BBB_WEBHOOKS_API_BIND";
const METRICS_BIND: &str = "BBB_WEBHOOKS_METRICS_BIND";

/// A listening address of the service, as the test left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bind {
    /// Not set: a free port chosen here, a fresh one on each attempt.
    Chosen,
    /// Set by the test: that address, and no retry elsewhere.
    Given(SocketAddr),
    /// Off, or port 0: the harness does not know it.
    Unknown,
}

impl Bind {
    /// The address for one attempt at starting.
    fn pick(self) -> Option<SocketAddr> {
        match self {
            Bind::Chosen => Some(local(free_port())),
            Bind::Given(addr) => Some(addr),
            Bind::Unknown => None,
        }
    }
}

/// Why a service did not become ready.
enum NotReady {
    /// It exited because the port of `key` was taken.
    PortTaken { key: &'static str, log: String },
    /// It exited for another reason, or was not ready in time.
    Other(String),
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn parse_bind(key: &str, value: &str) -> SocketAddr {
    value
        .parse()
        .unwrap_or_else(|e| panic!("{key}={value} is not an address the harness can use: {e}"))
}

/// The service binary as a child process, killed on drop.
pub struct Service {
    child: Child,
    /// `http://127.0.0.1:PORT/bigbluebutton/api`
    pub api: String,
    /// Where the API listens, for raw connections to it.
    pub api_addr: SocketAddr,
    api_path: String,
    /// The metrics endpoint, when it is on at an address known here.
    pub metrics_addr: Option<SocketAddr>,
    /// Every line the service logged so far.
    pub log: Arc<Mutex<Vec<String>>>,
    log_reader: Option<JoinHandle<()>>,
    env: Vec<(String, String)>,
    _dir: TempDir,
}

impl Service {
    /// A service on `redis` with the settings of [`base_env`]; add settings
    /// and choose what to wait for, then [`Launch::start`].
    pub fn launch(redis: &Redis) -> Launch {
        let mut env = base_env(redis);
        env.retain(|(k, _)| k != "BBB_WEBHOOKS_API_BIND");
        Launch {
            env,
            ready: Ready::Subscribed,
            metrics_off: false,
        }
    }

    /// Starts a service on `redis` with `extra` settings and waits until it
    /// is subscribed ([`Ready::Subscribed`]).
    pub fn start(redis: &Redis, extra: &[(&str, &str)]) -> Service {
        Service::launch(redis).envs(extra).start()
    }

    fn spawn(
        env: Vec<(String, String)>,
        api_addr: SocketAddr,
        api_path: &str,
        metrics_addr: Option<SocketAddr>,
    ) -> Service {
        let (mut cmd, dir) = command(&env);
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("service starts");
        let stderr = child.stderr.take().expect("stderr piped");
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let lines = log.clone();
        let log_reader = std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                eprintln!("service: {line}");
                lines.lock().expect("log lock").push(line);
            }
        });
        // From here on the process is killed on drop, even if starting fails.
        Service {
            child,
            api: format!("http://{api_addr}{api_path}"),
            api_addr,
            api_path: api_path.to_owned(),
            metrics_addr,
            log,
            log_reader: Some(log_reader),
            env,
            _dir: dir,
        }
    }

    /// Waits until the service reaches `ready`; panics with its log if it
    /// exits first or does not get there in time.
    pub fn wait_until(&mut self, ready: Ready) {
        if let Err(NotReady::PortTaken { log, .. } | NotReady::Other(log)) = self.wait(ready) {
            panic!("the service did not get to {ready:?}: {log}");
        }
    }

    fn wait(&mut self, ready: Ready) -> Result<(), NotReady> {
        assert!(
            ready < Ready::Subscribed || self.metrics_addr.is_some(),
            "Ready::Subscribed reads GET /metrics, and this service's metrics endpoint is off \
             or on a port unknown to the harness: wait for Ready::Api and Redis::subscribers"
        );
        let until = Instant::now() + WAIT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = format!("it exited ({status}); its log:\n{}", self.full_log());
                // The service's own message: "cannot listen on ADDR (KEY): why".
                let taken = [API_BIND, METRICS_BIND].into_iter().find(|key| {
                    log.contains(&format!("cannot listen on {} ({key})", self.bind_of(key)))
                });
                return Err(match taken {
                    Some(key) => NotReady::PortTaken { key, log },
                    None => NotReady::Other(log),
                });
            }
            let Some(missing) = self.missing_for(ready) else {
                return Ok(());
            };
            if Instant::now() >= until {
                return Err(NotReady::Other(format!(
                    "after {WAIT:?}, {missing}; its log:\n{}",
                    self.log.lock().expect("log lock").join("\n")
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What is still missing for `ready`, if anything. The sockets are
    /// looked at last: reading the system's TCP table is slow when it is
    /// long, and what matters is that whatever answered is this process.
    fn missing_for(&self, ready: Ready) -> Option<&'static str> {
        if ready >= Ready::Api {
            let ping = try_request("GET", &format!("{}/hooks/ping", self.api), POLL_TIMEOUT);
            if !matches!(&ping, Ok((200, body)) if body == "bbb-webhooks API up!") {
                return Some("hooks/ping does not answer");
            }
        }
        if ready >= Ready::Subscribed {
            let metrics = try_request("GET", &self.metrics_url(), POLL_TIMEOUT);
            let subscribed = metrics.is_ok_and(|(status, body)| {
                status == 200 && body.lines().any(|l| l == "bbb_webhooks_redis_subscribed 1")
            });
            if !subscribed {
                return Some("GET /metrics does not show bbb_webhooks_redis_subscribed 1");
            }
        }
        let ports = listening_ports(self.pid());
        if !ports.contains(&self.api_addr.port()) {
            return Some("it does not listen on its API port");
        }
        if self
            .metrics_addr
            .is_some_and(|m| !ports.contains(&m.port()))
        {
            return Some("it does not listen on its metrics port");
        }
        None
    }

    /// The bind address given for `key`.
    fn bind_of(&self, key: &str) -> String {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map_or_else(String::new, |(_, v)| v.clone())
    }

    /// The whole log of a service that exited: waits for the reader to
    /// reach the end of its output.
    fn full_log(&mut self) -> String {
        if let Some(reader) = self.log_reader.take() {
            let _ = reader.join();
        }
        self.log.lock().expect("log lock").join("\n")
    }

    /// The settings the service runs with, its API and metrics addresses
    /// included: what an admin command needs to talk to it.
    pub fn env(&self) -> Vec<(String, String)> {
        self.env.clone()
    }

    /// The API's path, `/bigbluebutton/api` unless the test set
    /// `BBB_WEBHOOKS_API_PATH`: what a raw request line starts with.
    pub fn api_path(&self) -> &str {
        &self.api_path
    }

    /// `http://ADDR/metrics`; panics when the endpoint is off.
    pub fn metrics_url(&self) -> String {
        let addr = self
            .metrics_addr
            .expect("the metrics endpoint is on at a known address");
        format!("http://{addr}/metrics")
    }

    /// The value of the metrics sample named exactly `sample` (with its
    /// labels, if any), e.g. `bbb_webhooks_events_queued_total`.
    pub fn metric(&self, sample: &str) -> u64 {
        let (status, body) = http_get(&self.metrics_url());
        assert_eq!(status, 200, "GET /metrics: {body}");
        body.lines()
            .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no sample {sample} in\n{body}"))
            .parse()
            .unwrap_or_else(|e| panic!("{sample}: {e}"))
    }

    /// Waits until the metrics sample `sample` is `value`.
    pub fn wait_metric(&self, sample: &str, value: u64) {
        self.wait_metric_by(sample, &format!("{value}"), |v| v == value);
    }

    /// Waits until the metrics sample `sample` is at least `min`.
    pub fn wait_metric_at_least(&self, sample: &str, min: u64) {
        self.wait_metric_by(sample, &format!("at least {min}"), |v| v >= min);
    }

    fn wait_metric_by(&self, sample: &str, wanted: &str, ok: impl Fn(u64) -> bool) {
        let until = Instant::now() + WAIT;
        loop {
            let now = self.metric(sample);
            if ok(now) {
                return;
            }
            assert!(
                Instant::now() < until,
                "timed out waiting for {sample} to be {wanted}: it is {now}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A signed API URL for `call` with `query` (already encoded).
    pub fn url(&self, call: &str, query: &str) -> String {
        self.url_with(call, query, Algorithm::Sha1)
    }

    pub fn url_with(&self, call: &str, query: &str, alg: Algorithm) -> String {
        signed_url(&self.api, call, query, alg)
    }

    /// `hooks/ping`'s status and body.
    pub fn ping(&self) -> (u16, String) {
        http_get(&format!("{}/hooks/ping", self.api))
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
    pub fn terminate(&mut self) -> ExitStatus {
        sigterm(&mut self.child)
    }

    /// Waits up to `within` for the process to exit (after a signal sent
    /// otherwise); `None` if it is still running then (it is then killed).
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        super::exit_within(&mut self.child, within)
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

    /// Waits until a log line contains `s`. For tests about what the log
    /// says; progress is better seen in metrics, the API or Redis.
    pub fn wait_logged(&self, s: &str) {
        wait_for(&format!("a log line with {s:?}"), || {
            self.logged(s).then_some(())
        });
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The most memory the process has held (VmHWM), in kB.
    pub fn peak_rss_kb(&self) -> u64 {
        proc_status_kb(self.pid(), "VmHWM:")
    }
}

/// How long one readiness probe may wait for an answer.
const POLL_TIMEOUT: Duration = Duration::from_secs(1);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
