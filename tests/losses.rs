//! The ways events and hooks could still be lost, each closed: a lowered
//! queue cap at a restart, a Redis that stalls while hooks load, and a
//! subscription Redis closes because the service fell behind.

mod support;

use std::time::Duration;

use support::*;

/// With the cap lowered between two runs, what is over it is dropped once,
/// counted, and Redis then holds exactly what memory holds: nothing is lost
/// silently and nothing arrives twice, however often it restarts.
#[test]
fn a_lowered_queue_cap_at_restart_drops_the_excess_once_and_duplicates_nothing() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    rx.answer_always(Answer::status(500));
    let mut svc = Service::start(&redis, &[("BBB_WEBHOOKS_MAX_QUEUE", "100")]);
    let id = svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/cb"))));
    publish_n(&redis, 0..100);
    wait_journal_len(&redis, &id, 100);
    svc.terminate();
    rx.drain(Duration::from_millis(100));
    rx.answer_always(Answer::status(200));

    let mut svc = Service::start(&redis, &[("BBB_WEBHOOKS_MAX_QUEUE", "50")]);
    svc.wait_metric(
        "bbb_webhooks_events_dropped_total{reason=\"queue_full\"}",
        50,
    );
    publish_n(&redis, 100..110);
    let mut got = Vec::new();
    while got.len() < 60 {
        got.extend(numbers(&rx.next()));
    }
    let want: Vec<u64> = (0..50).chain(100..110).collect();
    assert_eq!(got, want, "the oldest 50, then the new ones, in order");
    wait_journal_len(&redis, &id, 0);
    assert!(svc.logged("over BBB_WEBHOOKS_MAX_QUEUE=50"));
    svc.terminate();

    let svc = Service::start(&redis, &[("BBB_WEBHOOKS_MAX_QUEUE", "50")]);
    rx.assert_quiet(Duration::from_millis(1500));
    assert_eq!(redis.llen(&journal_key(&id)), 0);
    assert_eq!(
        svc.metric("bbb_webhooks_events_dropped_total{reason=\"queue_full\"}"),
        0
    );
}

/// A Redis that freezes for longer than the command timeout while the hooks
/// load makes the service load them again, all of them, not skip the one it
/// was reading.
#[test]
fn a_redis_that_stalls_while_hooks_load_leaves_every_hook_loaded() {
    let redis = Redis::start();
    let mut ids = Vec::new();
    {
        let svc = Service::start(&redis, &[]);
        for i in 0..20 {
            ids.push(svc.create_hook(&format!("callbackURL=http%3A%2F%2F127.0.0.1%3A9%2F{i}")));
        }
        svc.kill();
    }
    // Reading the first hook record stalls 6 s, past the 5 s timeout.
    let proxy = StallingProxy::start(redis.port, b"HGETALL", Duration::from_secs(6));
    let svc = Service::launch(&redis)
        .env("BBB_WEBHOOKS_REDIS_URL", &proxy.url())
        .start();
    assert!(proxy.stalled.load(std::sync::atomic::Ordering::SeqCst));
    let list = svc.call("hooks/list", "");
    for id in &ids {
        assert!(list.contains(id), "hook {id} loaded: {list}");
    }
    assert!(!svc.logged("could not be read and were skipped"));
}

/// When Redis closes the subscription because the service fell behind
/// (`client-output-buffer-limit pubsub`), the service subscribes again,
/// counts it and the time without, and says why in its log.
#[test]
fn a_subscription_closed_for_falling_behind_is_counted_and_explained() {
    let redis = Redis::start();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("client-output-buffer-limit")
        .arg("pubsub 64kb 32kb 1")
        .query(&mut redis.conn())
        .expect("config set");
    let svc = Service::start(&redis, &[]);
    assert_eq!(
        svc.metric("bbb_webhooks_redis_resubscriptions_total{cause=\"fell_behind\"}"),
        0
    );
    // A frozen service reads nothing; what Redis cannot hand over piles up.
    signal(svc.pid(), "STOP");
    let big = test_event("m", &"x".repeat(64 * 1024));
    let mut c = redis.conn();
    for _ in 0..400 {
        let _: i64 = redis::cmd("PUBLISH")
            .arg("bigbluebutton:events")
            .arg(&big)
            .query(&mut c)
            .expect("publish");
    }
    signal(svc.pid(), "CONT");
    svc.wait_metric(
        "bbb_webhooks_redis_resubscriptions_total{cause=\"fell_behind\"}",
        1,
    );
    svc.wait_metric("bbb_webhooks_redis_subscribed", 1);
    assert!(svc.logged("client-output-buffer-limit pubsub"));
    let text = http_get(&svc.metrics_url()).1;
    let seconds = text
        .lines()
        .find_map(|l| l.strip_prefix("bbb_webhooks_redis_unsubscribed_seconds_total "))
        .and_then(|v| v.parse::<f64>().ok())
        .expect("the time without a subscription is reported");
    assert!(seconds > 0.0, "{seconds}");
}
