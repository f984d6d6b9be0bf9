//! Delivery under failure: dead endpoints next to healthy ones, Retry-After,
//! full queues, exhausted retries, 410, batching, and SIGTERM with requests
//! in flight.

mod support;

use std::time::{Duration, Instant};

use support::*;

#[test]
fn an_endpoint_down_then_back_gets_everything_in_order_once() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "30")]);
    svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/"))));
    rx.answer_always(Answer::status(502));
    publish_n(&redis, 0..50);
    for _ in 0..5 {
        assert_eq!(numbers(&rx.next()), [0], "only the head is retried");
    }
    rx.answer_always(Answer::status(200));
    let mut got = Vec::new();
    while got.last() != Some(&49) {
        got.extend(numbers(&rx.next()));
    }
    // Before the success, only the head was attempted.
    let head = got.iter().rposition(|n| *n == 0).expect("head delivered");
    assert!(got[..head].iter().all(|n| *n == 0), "{got:?}");
    assert_eq!(
        got[head..],
        (0..50).collect::<Vec<u64>>(),
        "in order, nothing twice"
    );
    rx.assert_quiet(Duration::from_millis(300));
}

#[test]
fn dead_endpoints_do_not_hold_up_healthy_hooks() {
    let redis = Redis::start();
    let healthy = HttpReceiver::start();
    let dead: Vec<HttpReceiver> = (0..3).map(|_| HttpReceiver::start()).collect();
    let svc = Service::start(
        &redis,
        &[
            ("BBB_WEBHOOKS_REQUEST_TIMEOUT_MS", "20000"),
            ("BBB_WEBHOOKS_DELIVERY_WORKERS", "4"),
        ],
    );
    for d in &dead {
        d.answer_always(Answer::hang());
        svc.create_hook(&format!("callbackURL={}", enc(&d.url("/dead"))));
    }
    svc.create_hook(&format!("callbackURL={}", enc(&healthy.url("/ok"))));
    let started = Instant::now();
    publish_n(&redis, 0..200);
    let mut got = Vec::new();
    while got.len() < 200 {
        got.extend(numbers(&healthy.next()));
    }
    let took = started.elapsed();
    assert_eq!(got, (0..200).collect::<Vec<u64>>());
    // Three workers are stuck for 20 s; the healthy hook must not wait for them.
    assert!(took < Duration::from_secs(5), "healthy hook took {took:?}");
    for d in &dead {
        assert_eq!(
            numbers(&d.next()),
            [0],
            "one request in flight per dead hook"
        );
        d.assert_quiet(Duration::from_millis(100));
    }
}

#[test]
fn retry_after_is_honoured() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "20")]);
    svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/"))));
    rx.answer_next(vec![Answer::status(429).header("Retry-After", "1")]);
    publish_n(&redis, 0..1);
    rx.next();
    let first = Instant::now();
    let again = rx.next();
    let waited = first.elapsed();
    assert_eq!(numbers(&again), [0]);
    assert!(
        waited >= Duration::from_millis(900),
        "retried after {waited:?}"
    );
}

#[test]
fn a_full_queue_drops_newer_events_and_says_so() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(
        &redis,
        &[
            ("BBB_WEBHOOKS_MAX_QUEUE", "5"),
            ("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "100"),
        ],
    );
    svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/"))));
    rx.answer_always(Answer::status(500));
    publish_n(&redis, 0..12);
    svc.wait_metric(
        "bbb_webhooks_events_dropped_total{reason=\"queue_full\"}",
        7,
    );
    svc.wait_logged("is full with 5 events");
    let list = svc.call("hooks/list", "");
    assert!(list.contains("<pending>5</pending>"), "{list}");
    rx.answer_always(Answer::status(200));
    let mut got = Vec::new();
    while got.last() != Some(&4) {
        got.extend(numbers(&rx.next()));
    }
    got.dedup();
    assert_eq!(got, [0, 1, 2, 3, 4]);
    rx.assert_quiet(Duration::from_millis(300));
}

/// A permanent hook is never removed.
#[test]
fn a_hook_out_of_retries_is_marked_failing_or_removed_when_configured() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "20,20")]);
    let id = svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/"))));
    rx.answer_always(Answer::status(500));
    publish_n(&redis, 0..2);
    let list = wait_for("the hook to show as failing", || {
        let l = svc.call("hooks/list", "");
        l.contains("<status>failing</status>").then_some(l)
    });
    assert!(list.contains(&format!("<hookID>{id}</hookID>")), "{list}");
    assert!(
        list.contains("<pending>2</pending><lastError reason=\"status_5xx\">HTTP 500</lastError>"),
        "{list}"
    );
    drop(svc);

    // A permanent hook on the same failing endpoint is never removed.
    let permanent = rx.url("/permanent");
    let svc = Service::start(
        &redis,
        &[
            ("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "20,20"),
            ("BBB_WEBHOOKS_REMOVE_FAILED_HOOKS", "true"),
            ("BBB_WEBHOOKS_PERMANENT_HOOKS", &permanent),
        ],
    );
    wait_for("the failed hook to be removed", || {
        (!svc.call("hooks/list", "").contains(&id)).then_some(())
    });
    assert_eq!(svc.metric("bbb_webhooks_hooks_removed_total"), 1);
    svc.wait_logged(&format!("removing hook {id}"));
    publish_n(&redis, 2..3);
    let list = wait_for("the permanent hook to be failing", || {
        let l = svc.call("hooks/list", "");
        l.contains("<status>failing</status>").then_some(l)
    });
    assert!(
        list.contains("<permanentHook>true</permanentHook>"),
        "{list}"
    );
}

#[test]
fn a_hook_that_answers_410_is_removed() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[]);
    let id = svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/"))));
    rx.answer_next(vec![Answer::status(410)]);
    publish_n(&redis, 0..3);
    rx.next();
    wait_for("the hook to be removed", || {
        (!svc.call("hooks/list", "").contains(&id)).then_some(())
    });
    rx.assert_quiet(Duration::from_millis(300));
}

#[test]
fn a_backlog_goes_out_in_batches_of_up_to_multi_event() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(
        &redis,
        &[
            ("BBB_WEBHOOKS_MULTI_EVENT", "4"),
            ("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "1000"),
        ],
    );
    svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/"))));
    rx.answer_next(vec![Answer::status(503)]);
    publish_n(&redis, 0..10);
    // The first attempt fails; by the retry the whole backlog is queued.
    let first = numbers(&rx.next());
    assert!(!first.is_empty() && first.len() <= 4, "{first:?}");
    assert_eq!(first, (0..first.len() as u64).collect::<Vec<u64>>());
    let mut sizes = Vec::new();
    let mut got = Vec::new();
    while got.len() < 10 {
        let n = numbers(&rx.next());
        sizes.push(n.len());
        got.extend(n);
    }
    assert_eq!(got, (0..10).collect::<Vec<u64>>());
    assert_eq!(sizes, [4, 4, 2], "a backlog goes out in batches");
}

#[test]
fn sigterm_finishes_requests_in_flight_and_keeps_the_rest() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let mut svc = Service::start(&redis, &[]);
    let id = svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/"))));
    // The first request takes a while; the rest of the backlog waits behind it.
    rx.answer_next(vec![Answer::status(200).after(Duration::from_millis(700))]);
    publish_n(&redis, 0..20);
    assert_eq!(numbers(&rx.next()), [0]);
    let exit = svc.terminate();
    assert!(exit.success(), "exit status {exit:?}");
    assert_eq!(
        redis.llen(&journal_key(&id)),
        19,
        "the rest stays journaled in Redis"
    );
    svc.wait_logged("undelivered events stay queued in Redis");
    rx.drain(Duration::from_millis(100));

    // The next start delivers the rest, and not the one that completed.
    let _svc = Service::start(&redis, &[]);
    let mut got = Vec::new();
    while got.last() != Some(&19) {
        got.extend(numbers(&rx.next()));
    }
    assert_eq!(
        got.first(),
        Some(&1),
        "event 0 was acknowledged before exit: {got:?}"
    );
    assert_eq!(got, (1..20).collect::<Vec<u64>>());
}

#[test]
fn destroying_a_hook_stops_its_backlog_at_once() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[]);
    let id = svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/"))));
    // A slow endpoint, so the backlog is still being worked through.
    rx.answer_always(Answer::status(200).after(Duration::from_millis(150)));
    publish_n(&redis, 0..20);
    // The first request goes alone; the second starts a run through the backlog.
    assert_eq!(numbers(&rx.next()), [0]);
    assert_eq!(numbers(&rx.next()), [1]);
    let body = svc.call("hooks/destroy", &format!("hookID={id}"));
    assert!(body.contains("<removed>true</removed>"), "{body}");
    // At most the request already on its way when the hook went.
    let mut after = 0;
    while rx.requests.recv_timeout(Duration::from_secs(1)).is_ok() {
        after += 1;
    }
    assert!(after <= 1, "{after} requests after the hook was destroyed");
}
