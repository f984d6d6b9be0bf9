//! The service binary as a child process: a clean environment and an empty
//! config file, its log captured line by line, signed API calls, and
//! SIGTERM or SIGKILL.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use bbb_webhooks::checksum::Algorithm;
use crossbeam_channel::unbounded;

use super::{between, free_port, http_get, signed_url, wait_for, Redis, DOMAIN, SECRET, WAIT};

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
        signed_url(&self.api, call, query, alg)
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
