//! A stop finishes within a fixed deadline, well under the unit's
//! `TimeoutStopSec`, whatever is in flight, and leaves what was not
//! delivered queued in Redis.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::*;

/// The service's own deadline for a stop, and what the test allows on top.
const STOP_DEADLINE: Duration = Duration::from_secs(10);
const SLACK: Duration = Duration::from_secs(1);

#[test]
fn sigterm_with_blackhole_hooks_and_a_backlog_exits_within_the_deadline() {
    let redis = Redis::start();
    let blackholes: Vec<HttpReceiver> = (0..3).map(|_| HttpReceiver::start()).collect();
    for b in &blackholes {
        b.answer_always(Answer::hang());
    }
    let failing = HttpReceiver::start();
    failing.answer_always(Answer::status(500));
    let mut svc = Service::start(
        &redis,
        &[
            // Requests in flight would hold a stop for this long.
            ("BBB_WEBHOOKS_REQUEST_TIMEOUT_MS", "60000"),
            ("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "60000"),
        ],
    );
    let mut ids = Vec::new();
    for b in &blackholes {
        ids.push(svc.create_hook(&format!("callbackURL={}", enc(&b.url("/hole")))));
    }
    let backlog = svc.create_hook(&format!("callbackURL={}", enc(&failing.url("/fail"))));
    publish_n(&redis, 0..1000);
    wait_journal_len(&redis, &backlog, 1000);
    for (b, id) in blackholes.iter().zip(&ids) {
        b.next();
        wait_journal_len(&redis, id, 1000);
    }
    // An API client keeps its connection alive, idle.
    let mut idle = TcpStream::connect(svc.api_addr).expect("connect");
    idle.write_all(b"GET /bigbluebutton/api/hooks/ping HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    let mut first = String::new();
    BufReader::new(idle.try_clone().expect("clone"))
        .read_line(&mut first)
        .expect("answer");
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");

    let start = Instant::now();
    signal(svc.pid(), "TERM");
    let exit = svc.wait_exit(STOP_DEADLINE + SLACK);
    let took = start.elapsed();
    let exit = exit.unwrap_or_else(|| panic!("still running {took:?} after SIGTERM"));
    assert!(exit.success(), "{exit:?}");
    assert!(took <= STOP_DEADLINE + SLACK, "stopped in {took:?}");
    // Nothing was delivered: everything stays queued for the next start.
    assert_eq!(redis.llen(&journal_key(&backlog)), 1000);
    for id in &ids {
        assert_eq!(redis.llen(&journal_key(id)), 1000);
    }
    drop(idle);
}
