//! Hostile and broken API input over real sockets: oversized parts, garbage
//! request lines, odd methods, bad encodings, a load of concurrent requests
//! next to a flood of Redis messages, and the secret kept out of the logs.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bbb_webhooks::checksum::Algorithm;
use support::*;

/// Sends raw bytes to the API's host and returns the whole answer.
fn raw(svc: &Service, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(svc.api_addr).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    // The server may answer and close before reading everything.
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn status(resp: &str) -> u16 {
    resp.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {resp:?}"))
}

/// An answer is the API's XML failure with `key`, never an empty body.
fn assert_xml_failure(resp: &str, key: &str) {
    assert!(resp.contains("Content-Type: text/xml"), "{resp}");
    let body = resp.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    assert!(
        body.starts_with("<response><returncode>FAILED</returncode>")
            && body.contains(&format!("<messageKey>{key}</messageKey>")),
        "{resp}"
    );
}

/// Every request that cannot be read, and every path that is no call, gets
/// the API's XML failure with the HTTP status that says why.
#[test]
fn oversized_and_malformed_requests_get_clear_answers() {
    let redis = Redis::start();
    let svc = Service::start(&redis, &[]);
    let path = svc.api_path();

    let long = format!(
        "GET {path}/hooks/list?meetingID={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(100_000)
    );
    let r = raw(&svc, long.as_bytes());
    assert_eq!(status(&r), 414, "{r}");
    assert_xml_failure(&r, "uriTooLong");

    let big_header = format!(
        "GET {path}/hooks/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
        "b".repeat(20_000)
    );
    let r = raw(&svc, big_header.as_bytes());
    assert_eq!(status(&r), 431);
    assert_xml_failure(&r, "headersTooLarge");

    let big_body = format!(
        "POST {path}/hooks/create HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1000000\r\n\r\n{}",
        "c".repeat(1000)
    );
    let r = raw(&svc, big_body.as_bytes());
    assert_eq!(status(&r), 413);
    assert_xml_failure(&r, "requestTooLarge");

    // A body announced far beyond memory, or chunked: refused, not read.
    let r = raw(
        &svc,
        format!("GET {path}/hooks/ping HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000000\r\n\r\nabc").as_bytes(),
    );
    assert_eq!(status(&r), 413, "{r}");
    let r = raw(
        &svc,
        format!("POST {path}/hooks/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n").as_bytes(),
    );
    assert_eq!(status(&r), 411, "{r}");
    assert_xml_failure(&r, "lengthRequired");

    // Clients that connect and send nothing do not hold up the others.
    let idle: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(svc.api_addr).expect("connect"))
        .collect();
    let started = std::time::Instant::now();
    assert_eq!(svc.ping().0, 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    drop(idle);

    for garbage in [
        &b"HELLO\r\n\r\n"[..],
        b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x00\x01\x02\r\n\r\n",
    ] {
        let r = raw(&svc, garbage);
        assert_eq!(status(&r), 400, "{garbage:?}");
        assert_xml_failure(&r, "badRequest");
    }
    for method in ["PUT", "DELETE", "OPTIONS", "PATCH", "BREW"] {
        let r = raw(
            &svc,
            format!("{method} {path}/hooks/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        assert_eq!(status(&r), 405, "{method}: {r}");
        assert!(r.contains("methodNotAllowed"));
    }
    let r = raw(
        &svc,
        b"DELETE /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status(&r), 404);
    assert_xml_failure(&r, "notFound");

    // Odd but signed queries: bad percent-encoding, repeats, empties.
    for q in [
        "callbackURL=http%3A%2F%2F127.0.0.1%3A9%2F%ZZ%4",
        "callbackURL=http%3A%2F%2F127.0.0.1%3A9%2Frep&callbackURL=http%3A%2F%2Fother%2F&&&=&meetingID=",
        "callbackURL=http%3A%2F%2F127.0.0.1%3A9%2F%FF%FE",
    ] {
        let body = svc.call("hooks/create", q);
        assert!(body.contains("<returncode>SUCCESS</returncode>"), "{q}: {body}");
    }
    let list = svc.call("hooks/list", "");
    assert!(
        list.contains("<![CDATA[http://127.0.0.1:9/%ZZ%4]]>"),
        "{list}"
    );
    assert!(
        list.contains("<![CDATA[http://127.0.0.1:9/rep]]>"),
        "first value wins: {list}"
    );
    assert!(
        list.contains("\u{FFFD}"),
        "invalid UTF-8 is replaced: {list}"
    );

    // Replaying a create URL only gives the duplicate warning.
    let url = svc.url(
        "hooks/create",
        "callbackURL=http%3A%2F%2F127.0.0.1%3A9%2Freplay",
    );
    assert!(http_get(&url).1.contains("<hookID>"));
    for _ in 0..3 {
        assert!(http_get(&url).1.contains("duplicateWarning"));
    }
    // Still serving, nothing lost.
    assert_eq!(svc.ping().0, 200);
    assert_eq!(svc.call("hooks/list", "").matches("<hook>").count(), 4);
}

#[test]
fn the_secret_and_checksums_never_reach_the_logs() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let mut checksums = Vec::new();
    for auth in ["checksum", "bearer"] {
        // One hook per round.
        let _: () = redis::cmd("FLUSHALL")
            .query(&mut redis.conn())
            .expect("flushall");
        let svc = Service::start(
            &redis,
            &[
                ("BBB_WEBHOOKS_LOG_LEVEL", "trace"),
                ("BBB_WEBHOOKS_CALLBACK_AUTH", auth),
            ],
        );
        let q = format!("callbackURL={}", enc(&rx.url(&format!("/{auth}"))));
        for alg in Algorithm::ALL {
            let url = svc.url_with("hooks/create", &q, alg);
            checksums.push(url.rsplit_once("checksum=").expect("signed").1.to_owned());
            assert_eq!(http_get(&url).0, 200);
        }
        // A wrong checksum too.
        http_get(&format!(
            "{}/hooks/list?checksum={}",
            svc.api,
            "0".repeat(40)
        ));
        rx.answer_next(vec![Answer::status(500)]);
        redis.publish("bigbluebutton:events", &test_event("m", "x"));
        // The failed attempt and its retry.
        for _ in 0..2 {
            let r = rx.next();
            assert!(r.target.starts_with(&format!("/{auth}")), "{}", r.target);
            if let Some((_, sum)) = r.target.rsplit_once("checksum=") {
                checksums.push(sum.to_owned());
            }
        }
        // The log is read only once it holds the failed callback's line,
        // the one that names the callback URL.
        svc.wait_logged("callback to");
        let log = svc.log.lock().expect("log").join("\n");
        assert!(log.contains("API call hooks/create"), "trace logging is on");
        assert!(!log.contains(SECRET), "the secret is in the log");
        for sum in &checksums {
            assert!(
                !log.contains(sum.as_str()),
                "a checksum is in the log: {sum}"
            );
        }
    }
}

#[test]
fn a_thousand_concurrent_requests_are_answered_during_a_flood_of_messages() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[("BBB_WEBHOOKS_LOG_LEVEL", "info")]);
    svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/"))));
    let flood = {
        let url = redis.url();
        std::thread::spawn(move || {
            let mut c = redis::Client::open(url.as_str())
                .and_then(|c| c.get_connection())
                .expect("connect");
            let junk = "x".repeat(2000);
            for n in 0..5000u32 {
                let msg = if n % 2 == 0 {
                    junk.clone()
                } else {
                    format!(r#"{{"data":"{n}","meetingID":"m","event":"Flood"}}"#)
                };
                let _: () = redis::cmd("PUBLISH")
                    .arg("bigbluebutton:events")
                    .arg(msg)
                    .query(&mut c)
                    .expect("publish");
            }
        })
    };
    let list_url = svc.url("hooks/list", "");
    let clients: Vec<_> = (0..1000)
        .map(|i| {
            let url = if i % 2 == 0 {
                list_url.clone()
            } else {
                format!("{}/hooks/ping", svc.api)
            };
            std::thread::spawn(move || http_get(&url).0)
        })
        .collect();
    for c in clients {
        assert_eq!(c.join().expect("client thread"), 200);
    }
    flood.join().expect("flood thread");
    let mut got = 0;
    while got < 2500 {
        got += rx.next().events().len();
    }
    assert_eq!(got, 2500);
    let rss_kb = svc.peak_rss_kb();
    assert!(rss_kb < 200 * 1024, "peak RSS {rss_kb} kB");
    rx.assert_quiet(Duration::from_millis(200));
}
