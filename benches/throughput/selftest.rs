//! `--selftest`: checks the benchmark's own parts (parser, statistics, receiver, black
//! hole, Redis, publisher) without the service, and probes whether the service starts.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::load::{self, MessageKind, Publisher};
use crate::receiver::{self, BlackHole, Event, Receiver};
use crate::redis_server::Redis;
use crate::service::{self, Service, ServiceConfig};

type Check = fn() -> Result<(), String>;

/// Runs every check; failure of any but the service probe fails the run.
pub fn run() -> ExitCode {
    let checks: [(&str, Check); 6] = [
        ("parser", parser),
        ("stats", || {
            crate::stats::selftest();
            Ok(())
        }),
        ("receiver", receiver_roundtrip),
        ("black hole", black_hole),
        ("redis + publisher", redis_publisher),
        ("ceiling client", ceiling),
    ];
    let mut ok = true;
    for (name, check) in checks {
        let t = Instant::now();
        match check() {
            Ok(()) => println!("selftest {name}: ok ({:.0?})", t.elapsed()),
            Err(e) => {
                println!("selftest {name}: FAILED: {e}");
                ok = false;
            }
        }
    }
    match service_probe() {
        Ok(()) => println!("selftest service: starts, answers ping and creates a hook"),
        Err(e) => println!("selftest service: not available ({e})"),
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn ensure(cond: bool, what: &str) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what.to_owned())
    }
}

fn parser() -> Result<(), String> {
    ensure(
        receiver::percent_decode(b"a+b%20c%2Fd%zz%4") == b"a b c/d%zz%4",
        "percent_decode",
    )?;
    ensure(
        receiver::parse_text("bench seq=12 sent=345")
            == Event::Bench {
                seq: 12,
                sent_ns: 345,
            },
        "parse_text bench",
    )?;
    ensure(
        receiver::parse_text("bench warmup") == Event::Warmup,
        "parse_text warmup",
    )?;
    ensure(
        receiver::parse_text("hello") == Event::Other,
        "parse_text other",
    )?;
    ensure(
        receiver::parse_text("bench seq=x") == Event::Malformed,
        "parse_text malformed",
    )?;
    let body = load::form_body(7, 99);
    ensure(
        receiver::parse_body(body.as_bytes())
            == Some(vec![Event::Bench {
                seq: 7,
                sent_ns: 99,
            }]),
        "parse_body of form_body",
    )?;
    // Two events in one POST, `+` for spaces, a non-chat event.
    let chat = |t: &str| load::chat(MessageKind::MappedChat, t);
    let batch = format!(
        "[{},{},{}]",
        chat("bench seq=1 sent=2"),
        r#"{"data":{"id":"meeting-created"}}"#,
        chat("bench seq=2 sent=3")
    );
    let body = format!(
        "domain=x&event={}&timestamp=1",
        service::url_encode(&batch).replace("%20", "+")
    );
    ensure(
        receiver::parse_body(body.as_bytes())
            == Some(vec![
                Event::Bench { seq: 1, sent_ns: 2 },
                Event::Other,
                Event::Bench { seq: 2, sent_ns: 3 },
            ]),
        "parse_body of a batch",
    )?;
    ensure(
        receiver::parse_body(b"domain=x").is_none(),
        "parse_body without event",
    )?;
    ensure(
        service::checksum("hooks/list", "", "secret") == "493e3b905cd56879dbb9caa2219059b714171373",
        "checksum",
    )?;
    ensure(
        service::url_encode("http://a:1/h/0?x=y z") == "http%3A%2F%2Fa%3A1%2Fh%2F0%3Fx%3Dy%20z",
        "url_encode",
    )?;
    // The raw message carries the text where akka-apps puts it.
    let raw: Value = serde_json::from_str(&load::chat(MessageKind::RawChat, "bench warmup"))
        .map_err(|e| e.to_string())?;
    ensure(
        raw.pointer("/core/body/msg/message")
            .and_then(Value::as_str)
            == Some("bench warmup"),
        "raw chat layout",
    )
}

fn receiver_roundtrip() -> Result<(), String> {
    let start = Instant::now();
    let rx = Receiver::start(start, "s3cret");
    rx.reset(2, 4);
    let addr = rx.url(0).trim_start_matches("http://").replace("/h/0", "");
    let mut s = TcpStream::connect(&addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    // Keep-alive: a Content-Length request with a valid checksum, then a chunked one
    // with a wrong checksum, on one connection.
    let body = load::form_body(0, 1);
    let good = service::checksum(&format!("http://{addr}/h/1"), &body, "s3cret");
    let (a, b) = body.split_at(body.len() / 2);
    let req = format!(
        "POST /h/1?checksum={good} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}\
         POST /h/1?checksum=ab HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
        body.len(),
        a.len(),
        b.len()
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let want = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".repeat(2);
    let mut got = vec![0; want.len()];
    s.read_exact(&mut got).map_err(|e| e.to_string())?;
    ensure(got == want, "two 200 answers on one connection")?;
    let body3 = load::form_body(3, 1);
    let req = format!(
        "POST /h/0 HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body3}",
        body3.len()
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).map_err(|e| e.to_string())?;
    ensure(rest.starts_with(b"HTTP/1.1 200 OK"), "answer before close")?;
    let done = rx.wait_until(Instant::now() + Duration::from_secs(2), |r| r.posts == 3);
    ensure(done, "three POSTs recorded")?;
    let r = rx.lock();
    ensure(r.unique == 2, "unique (hook 1 seq 0 twice, hook 0 seq 3)")?;
    ensure(r.deliveries.len() == 3, "deliveries include the duplicate")?;
    ensure(r.unsigned == 1, "one unsigned POST")?;
    ensure(r.bad_checksum == 1, "one POST with a wrong checksum")?;
    let q = crate::stats::quality(&r.deliveries, 2, 4);
    ensure(
        q.duplicated == 1 && q.lost == 6,
        "quality of the recorded deliveries",
    )
}

fn black_hole() -> Result<(), String> {
    let hole = BlackHole::start();
    let addr = hole
        .url()
        .trim_start_matches("http://")
        .replace("/never", "");
    let mut s = TcpStream::connect(&addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| e.to_string())?;
    s.write_all(b"POST /never HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 16];
    match s.read(&mut buf) {
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Ok(())
        }
        other => Err(format!("expected no answer, got {other:?}")),
    }
}

fn redis_publisher() -> Result<(), String> {
    let redis = Redis::try_start(Duration::from_secs(10))?;
    let mut sub = redis.conn();
    let mut publisher = Publisher::new(redis.conn(), MessageKind::MappedChat, Instant::now());
    let mut ps = sub.as_pubsub();
    ps.subscribe(load::CHAT_CHANNEL)
        .map_err(|e| e.to_string())?;
    ps.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    ensure(
        publisher.chat_subscribers()? == 1,
        "PUBSUB NUMSUB sees the subscriber",
    )?;
    publisher.run(3, Some(1000.0))?;
    publisher.run(40, None)?;
    for want in (0..3u64).chain(0..40) {
        let msg = ps.get_message().map_err(|e| format!("no message: {e}"))?;
        let payload: String = msg.get_payload().map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_str(&payload).map_err(|e| e.to_string())?;
        let text = v
            .pointer("/data/attributes/chat-message/message")
            .and_then(Value::as_str)
            .unwrap_or("");
        match receiver::parse_text(text) {
            Event::Bench { seq, .. } if seq == want => {}
            other => return Err(format!("message {want}: {other:?} from {text:?}")),
        }
    }
    Ok(())
}

fn ceiling() -> Result<(), String> {
    let start = Instant::now();
    let rx = Receiver::start(start, "s3cret");
    rx.reset(1, 1000);
    let (failed, took) = load::ceiling(&rx.url(0), 4, 250)?;
    let unique = rx.lock().unique;
    ensure(failed == 0, "no failed POSTs")?;
    ensure(
        unique == 1000,
        &format!("1000 unique deliveries, got {unique}"),
    )?;
    println!(
        "selftest ceiling client: {:.0} POSTs/s with 4 clients",
        1000.0 / took.as_secs_f64()
    );
    Ok(())
}

fn service_probe() -> Result<(), String> {
    let redis = Redis::try_start(Duration::from_secs(10))?;
    let cfg = ServiceConfig {
        redis_url: redis.url(),
        secret: crate::SECRET.to_owned(),
        workers: None,
        request_timeout_ms: 5000,
        binary: service::OWN_BINARY.to_owned(),
        env: Vec::new(),
    };
    let svc = Service::start(&cfg, Duration::from_secs(5))?;
    let rx = Receiver::start(Instant::now(), crate::SECRET);
    svc.api.create(&rx.url(0))?;
    ensure(svc.api.list()? == 1, "hooks/list shows the hook")
}
