//! The service binary as a process, for tests that run it themselves (to
//! completion within a deadline, or to see it fail): a clean environment,
//! an empty config file, the settings every test gives it, SIGTERM, and
//! `/proc` figures.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{free_port, Redis, DOMAIN, SECRET, WAIT};

/// Settings every service gets, before the test's own. The API is on port 0
/// so that a binary started with [`command`] never takes a fixed port;
/// [`Service::launch`] chooses the API and metrics ports itself.
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

/// `env` with `key` set to `value`, replacing an earlier value.
pub fn with(mut env: Vec<(String, String)>, key: &str, value: &str) -> Vec<(String, String)> {
    env.retain(|(k, _)| k != key);
    env.push((key.to_owned(), value.to_owned()));
    env
}

/// A temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The service binary with a clean environment (no `BBB_WEBHOOKS_*` of the
/// caller) plus `env`, and an empty config file, so the machine's config is
/// not read.
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

/// Runs `bbb-webhooks --config <empty file> ARGS` with `env` (see
/// [`command`]) until it exits, as [`Command::output`] does: stdin closed,
/// stdout and stderr captured. A run still going after `within` is killed
/// and fails the test with what it printed so far, so a binary that starts
/// serving instead of exiting cannot hang the test.
pub fn run_within(env: &[(String, String)], args: &[&str], within: Duration) -> Output {
    let (mut cmd, _dir) = command(env);
    let mut child = cmd
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    // Drained as it runs, so a full pipe never blocks the process.
    let out = drain(child.stdout.take().expect("stdout piped"));
    let err = drain(child.stderr.take().expect("stderr piped"));
    let status = exit_within(&mut child, within);
    let output = |status| Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    };
    match status {
        Some(status) => output(status),
        None => {
            let killed = child.wait().expect("the killed process is reaped");
            let o = output(killed);
            panic!(
                "bbb-webhooks {args:?} still ran after {within:?} and was killed\n\
                 stdout: {}\nstderr: {}",
                stdout(&o),
                stderr(&o)
            )
        }
    }
}

/// Reads `pipe` to its end on a thread of its own.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// What a finished command printed on stdout, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What a finished command printed on stderr, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Sends SIGTERM to `child` and waits for it to exit; returns its status.
pub fn sigterm(child: &mut Child) -> ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    exit_within(child, WAIT).expect("the process exits after SIGTERM")
}

/// Waits up to `within` for `child` to exit and returns its status; if it
/// is still running then, kills it and returns `None`.
pub fn exit_within(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let until = Instant::now() + within;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= until {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends signal `sig` (`STOP`, `CONT`, `TERM`, ...) to process `pid`.
pub fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{sig} {pid}");
}

/// CPU time process `pid` has used (user + system), from `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// A `VmRSS:`/`VmHWM:`-style field of `/proc/<pid>/status`, in kB.
pub fn proc_status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("proc status")
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("a {field} line in /proc/{pid}/status"))
}
