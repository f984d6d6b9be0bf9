//! Callback endpoints that misbehave: huge, slow, malformed and redirecting
//! answers, TLS errors and dropped connections. None may block a worker past
//! the request timeout, grow memory, or hold up a healthy hook.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use support::*;

#[derive(Clone, Copy, Debug)]
enum Misbehaviour {
    /// 200 with a 100 MB body, sent as fast as the peer reads.
    Huge,
    /// A status line, then one byte every 200 ms, forever.
    Trickle,
    /// Not HTTP at all.
    Garbage,
    /// A redirect to itself.
    RedirectLoop,
    /// Reads the request and closes without answering.
    Drop,
}

/// A raw TCP server on 127.0.0.1:0 that misbehaves in one way; returns its port.
fn bad_server(how: Misbehaviour) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || misbehave(stream, how, port));
        }
    });
    port
}

fn read_head(stream: &TcpStream) -> Option<()> {
    let mut r = BufReader::new(stream.try_clone().ok()?);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().ok()?;
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()
}

fn misbehave(mut s: TcpStream, how: Misbehaviour, port: u16) {
    let _ = s.set_write_timeout(Some(Duration::from_secs(30)));
    while read_head(&s).is_some() {
        match how {
            Misbehaviour::Huge => {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n");
                let chunk = vec![b'x'; 64 * 1024];
                for _ in 0..(100_000_000 / chunk.len()) {
                    if s.write_all(&chunk).is_err() {
                        return;
                    }
                }
            }
            Misbehaviour::Trickle => {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
                // The endpoint under test is this slow: one byte at a time.
                while s.write_all(b"X").is_ok() {
                    std::thread::sleep(Duration::from_millis(200));
                }
                return;
            }
            Misbehaviour::Garbage => {
                let _ = s.write_all(b"garbage\r\n\r\n");
                return;
            }
            Misbehaviour::RedirectLoop => {
                let resp = format!("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{port}/loop\r\nContent-Length: 0\r\n\r\n");
                if s.write_all(resp.as_bytes()).is_err() {
                    return;
                }
            }
            Misbehaviour::Drop => return,
        }
    }
}

#[test]
fn misbehaving_endpoints_fail_cleanly_and_hold_up_nobody() {
    let redis = Redis::start();
    let healthy = HttpReceiver::start();
    let svc = Service::start(
        &redis,
        &[
            ("BBB_WEBHOOKS_REQUEST_TIMEOUT_MS", "1000"),
            ("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "200"),
            ("BBB_WEBHOOKS_MAX_REDIRECTS", "3"),
            ("BBB_WEBHOOKS_DELIVERY_WORKERS", "8"),
        ],
    );
    let mut bad = Vec::new();
    for how in [
        Misbehaviour::Huge,
        Misbehaviour::Trickle,
        Misbehaviour::Garbage,
        Misbehaviour::RedirectLoop,
        Misbehaviour::Drop,
    ] {
        let url = format!("http://127.0.0.1:{}/{how:?}", bad_server(how));
        let id = svc.create_hook(&format!("callbackURL={}", enc(&url)));
        bad.push((how, id));
    }
    // TLS to a server that speaks plain HTTP: the handshake fails.
    let tls_id = svc.create_hook(&format!(
        "callbackURL={}",
        enc(&format!("https://127.0.0.1:{}/tls", healthy.port))
    ));
    svc.create_hook(&format!("callbackURL={}", enc(&healthy.url("/ok"))));

    let started = Instant::now();
    publish_n(&redis, 0..20);
    let mut got = Vec::new();
    while got.len() < 20 {
        let r = healthy.next();
        if r.target.starts_with("/ok") {
            got.extend(numbers(&r));
        }
    }
    assert_eq!(got, (0..20).collect::<Vec<u64>>());
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "the healthy hook took {took:?}"
    );

    // Each bad hook fails with a clear error and keeps its events.
    let expect = |how: Misbehaviour| match how {
        Misbehaviour::Trickle => "<lastError reason=\"timeout\">timed out",
        Misbehaviour::RedirectLoop => {
            "<lastError reason=\"redirect\">HTTP 302: redirected to http://127.0.0.1:"
        }
        Misbehaviour::Garbage | Misbehaviour::Drop => "<lastError reason=",
        Misbehaviour::Huge => "",
    };
    let list = wait_for("every bad hook to have failed", || {
        let list = svc.call("hooks/list", "");
        let all = bad.iter().all(|(how, id)| {
            let Some(entry) = list.split("<hook>").find(|h| h.contains(id.as_str())) else {
                return false;
            };
            match how {
                // A 200 is a delivery, however large the body that follows.
                Misbehaviour::Huge => !entry.contains("<lastError"),
                _ => entry.contains(expect(*how)),
            }
        });
        let tls = list
            .split("<hook>")
            .find(|h| h.contains(tls_id.as_str()))
            .is_some_and(|h| h.contains("<lastError"));
        (all && tls).then_some(list)
    });
    assert!(list.contains("<pending>20</pending>"), "{list}");
    // The 100 MB answer was not read into memory.
    let peak = svc.peak_rss_kb();
    assert!(peak < 80 * 1024, "peak RSS {peak} kB");
    assert_eq!(svc.ping().0, 200);
}

/// A TLS server whose certificate no trust store knows (`openssl s_server`).
struct UntrustedTls {
    child: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl UntrustedTls {
    fn start() -> UntrustedTls {
        let dir =
            std::env::temp_dir().join(format!("bbbwh-tls-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let ok = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
            ])
            .arg("-keyout")
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("cert.pem"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl runs (install it: apt-get install openssl)");
        assert!(ok.success(), "openssl made a certificate");
        let port = free_port();
        let child = std::process::Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept", &port.to_string()])
            .arg("-cert")
            .arg(dir.join("cert.pem"))
            .arg("-key")
            .arg(dir.join("key.pem"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("openssl s_server runs");
        let pid = child.id();
        wait_for("the TLS server to listen", || {
            listens_on(pid, port).then_some(())
        });
        UntrustedTls { child, port, dir }
    }
}

impl Drop for UntrustedTls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn an_untrusted_certificate_is_refused_with_a_clear_error() {
    let redis = Redis::start();
    let tls = UntrustedTls::start();
    let svc = Service::start(&redis, &[("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "100")]);
    let url = format!("https://127.0.0.1:{}/cb", tls.port);
    svc.create_hook(&format!("callbackURL={}", enc(&url)));
    redis.publish("bigbluebutton:events", &test_event("m", "x"));
    let list = wait_for("the hook to show the TLS error", || {
        let list = svc.call("hooks/list", "");
        list.contains("<lastError reason=\"tls\">TLS error")
            .then_some(list)
    });
    assert!(
        list.contains("<pending>1</pending><lastError reason=\"tls\">TLS error"),
        "{list}"
    );
    assert!(list.contains("system trust store"), "{list}");
    // The log says the same to the operator.
    svc.wait_logged("TLS error");
    svc.wait_logged("system trust store");
}
