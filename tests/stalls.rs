//! A receiver that stalls every kept-alive request on a delayed ACK (it
//! writes an answer's head and body apart, as Python's `http.server` does)
//! still keeps up: the service notices and gives it a new connection per
//! request, with nothing asked of the app.

mod support;

use std::time::{Duration, Instant};

use support::*;

#[test]
fn hooks_on_a_delayed_ack_receiver_keep_up_with_200_events_a_second() {
    let redis = Redis::start();
    let rx = NagleReceiver::start();
    let svc = Service::start(&redis, &[]);
    let paths: Vec<String> = (0..5).map(|i| format!("/h{i}")).collect();
    for p in &paths {
        svc.create_hook(&format!("callbackURL={}", enc(&rx.url(p))));
    }
    let events: u64 = 600;
    let start = Instant::now();
    let mut c = redis.conn();
    for n in 0..events {
        let _: i64 = redis::cmd("PUBLISH")
            .arg("from-akka-apps-redis-channel")
            .arg(mapped_event("user-joined", "i", "e", n))
            .query(&mut c)
            .expect("publish");
        // 200 events a second.
        let due = start + Duration::from_millis(5 * (n + 1));
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
    }
    let published = start.elapsed();
    // At 25 requests a second (one stalled request every 40 ms) this would
    // take 24 s; keeping up means done shortly after the last publish.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let behind: Vec<(String, usize)> = paths
            .iter()
            .map(|p| (p.clone(), rx.numbers(p).len()))
            .filter(|(_, n)| *n < events as usize)
            .collect();
        if behind.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "3 s after publishing {events} events in {published:?}, still behind: {behind:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for p in &paths {
        assert_eq!(
            rx.numbers(p),
            (0..events).collect::<Vec<u64>>(),
            "{p} in order, once"
        );
    }
    assert!(svc.logged("a new connection per request"));
}
