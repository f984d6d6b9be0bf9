//! Real parts for the cluster tests: a private `redis-server` on a free
//! port, without persistence, killed on drop.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private `redis-server`.
pub struct TestRedis {
    child: Child,
    pub url: String,
}

impl TestRedis {
    pub fn start() -> TestRedis {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        assert_ne!(port, 6379, "never the system redis");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed to run these tests");
        let server = TestRedis {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let pong: Option<String> = redis::Client::open(server.url.as_str())
                .and_then(|c| c.get_connection())
                .and_then(|mut c| redis::cmd("PING").query(&mut c))
                .ok();
            if pong.as_deref() == Some("PONG") {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url.as_str())
            .and_then(|c| c.get_connection())
            .expect("connect to the test redis")
    }

    /// Runs `args` as one command, panicking on error.
    pub fn cmd(&self, c: &mut redis::Connection, args: &[&str]) {
        let (name, rest) = args.split_first().expect("a command");
        let mut cmd = redis::cmd(name);
        for a in rest {
            cmd.arg(*a);
        }
        cmd.query::<redis::Value>(c)
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fake BBB server's hooks API on port 0: checks each call's checksum
/// (BBB's rule, algorithms in `allowed`) against `secret`, records it, and
/// answers what `answer` gives for the call and its decoded parameters.
/// A refused checksum gets the reference's `checksumError`.
pub struct FakeBbb {
    server: Option<crate::http::Server>,
    seen: Seen,
}

/// `(call, algorithm)` of every call that reached a [`FakeBbb`], checksum
/// right or not.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, Option<Algorithm>)>>>;

use crate::checksum::{self, Algorithm};

pub type Answer = dyn Fn(&str, &[(String, String)]) -> (u16, String) + Send + Sync;

impl FakeBbb {
    pub fn start(secret: &str, allowed: &[Algorithm], answer: Box<Answer>) -> FakeBbb {
        let seen: Seen = std::sync::Arc::default();
        let record = seen.clone();
        let secret = secret.to_owned();
        let allowed = allowed.to_vec();
        let handler: crate::http::Handler = std::sync::Arc::new(move |req| {
            let (path, raw) = req.target.split_once('?').unwrap_or((&req.target, ""));
            let call = path.strip_prefix("/bigbluebutton/api/").unwrap_or(path);
            let (signed, sum) = crate::query::split_checksum(raw);
            let alg = sum.and_then(|s| Algorithm::from_hex_len(s.len()));
            crate::locks::lock(&record).push((call.to_owned(), alg));
            let ok = sum.is_some_and(|s| checksum::verify_api(call, &signed, &secret, s, &allowed));
            let (status, body) = if ok {
                answer(call, &crate::query::params(&signed))
            } else {
                (200, "<response> <returncode>FAILED</returncode> <messageKey>checksumError</messageKey> <message>You did not pass the checksum security check.</message> </response>".to_owned())
            };
            crate::http::Response::new(status, "text/xml", body)
        });
        let limits = crate::http::Limits {
            max_request_bytes: 64 * 1024,
            threads: 2,
            refusal: crate::http::text_refusal,
        };
        let server =
            crate::http::Server::start("127.0.0.1:0".parse().expect("address"), limits, handler)
                .expect("fake BBB listens");
        FakeBbb {
            server: Some(server),
            seen,
        }
    }

    /// Its API base, as a pool has it.
    pub fn url(&self) -> String {
        let addr = self.server.as_ref().map(|s| s.addr()).expect("running");
        format!("http://{addr}/bigbluebutton/api")
    }

    pub fn seen(&self) -> Vec<(String, Option<Algorithm>)> {
        crate::locks::lock(&self.seen).clone()
    }
}

impl Drop for FakeBbb {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop(std::time::Instant::now() + std::time::Duration::from_secs(2));
        }
    }
}

/// A pool server named `id` at `url` with `secret`, enabled and online.
pub fn pool_server(id: &str, url: &str, secret: &str) -> crate::cluster::Server {
    crate::cluster::Server {
        id: id.to_owned(),
        url: url.to_owned(),
        secret: crate::config::Secret::new(secret),
        state: crate::cluster::State::Enabled,
        online: true,
    }
}

/// This service in normal mode, in-process, on `redis` with `secret` and
/// `domain` (and `extra` settings), its API on a free port; returns once it
/// listens to BBB's main channel.
pub fn start_service(
    redis: &TestRedis,
    secret: &str,
    domain: &str,
    extra: &[(&str, &str)],
) -> crate::service::Service {
    let mut env: std::collections::HashMap<String, String> = [
        ("BBB_WEBHOOKS_REDIS_URL", redis.url.as_str()),
        ("BBB_WEBHOOKS_API_BIND", "127.0.0.1:0"),
        ("BBB_WEBHOOKS_SHARED_SECRET", secret),
        ("BBB_WEBHOOKS_SERVER_DOMAIN", domain),
        ("BBB_WEBHOOKS_BBB_PROPERTIES", ""),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in extra {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    let config =
        crate::config::Config::load(&env, Some(std::path::Path::new("/dev/null"))).expect("config");
    let (_stop_tx, stop) = crossbeam_channel::bounded(1);
    let service = crate::service::Service::start(config, &stop).expect("service starts");
    let mut c = redis.conn();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let subs: Vec<redis::Value> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(BBB_CHANNEL)
            .query(&mut c)
            .unwrap_or_default();
        if matches!(subs.get(1), Some(redis::Value::Int(n)) if *n > 0) {
            return service;
        }
        assert!(Instant::now() < deadline, "the service did not subscribe");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The channel akka-apps publishes meeting events on.
pub const BBB_CHANNEL: &str = "from-akka-apps-redis-channel";
