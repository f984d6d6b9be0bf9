//! What the delivery queues may hold: an event queued for many hooks costs
//! its payload once, in memory and in Redis, and all queues together stay
//! within `BBB_WEBHOOKS_MAX_QUEUED_BYTES`, dropping newer events (counted)
//! at the bound as a full queue does.

mod support;

use redis::Commands;
use support::*;

/// A mapped event numbered `n` (as [`mapped_event`]) with `pad` bytes of
/// padding.
fn padded_event(n: u64, pad: usize) -> String {
    mapped_text(
        "user-joined",
        serde_json::json!({
            "meeting": {"internal-meeting-id": "i", "external-meeting-id": "e"},
            "n": n,
            "pad": "x".repeat(pad),
        }),
        1,
    )
}

#[test]
fn an_event_for_many_hooks_is_stored_once_in_redis() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    rx.answer_always(Answer::status(500));
    let svc = Service::start(&redis, &[("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "60000")]);
    let ids: Vec<String> = (0..10)
        .map(|i| svc.create_hook(&format!("callbackURL={}", enc(&rx.url(&format!("/h{i}"))))))
        .collect();
    for n in 0..5 {
        redis.publish(AKKA_CHANNEL, &padded_event(n, 4000));
    }
    for id in &ids {
        wait_journal_len(&redis, id, 5);
    }
    let mut c = redis.conn();
    let stored: usize = c.hlen(EVENTS).expect("hlen");
    assert_eq!(stored, 5, "each payload once");
    for id in &ids {
        let entries: Vec<String> = c.lrange(journal_key(id), 0, -1).expect("lrange");
        assert!(
            entries.iter().all(|e| e.len() < 64),
            "ids, not payloads: {entries:?}"
        );
    }
}

#[test]
fn the_queues_together_stay_within_max_queued_bytes_and_drop_newer_events() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    rx.answer_always(Answer::status(500));
    let max = 1024 * 1024;
    let svc = Service::start(
        &redis,
        &[
            ("BBB_WEBHOOKS_MAX_QUEUED_BYTES", &max.to_string()),
            ("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "200"),
        ],
    );
    let a = svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/a"))));
    let b = svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/b"))));
    // 300 events of 8 kB for two hooks: 2.4 MB of payloads.
    for n in 0..300 {
        redis.publish(AKKA_CHANNEL, &padded_event(n, 8000));
    }
    svc.wait_metric_at_least(
        "bbb_webhooks_events_dropped_total{reason=\"memory_full\"}",
        1,
    );
    let dropped = wait_for("every event to be queued or dropped", || {
        let queued = svc.metric("bbb_webhooks_events_queued_total");
        let dropped = svc.metric("bbb_webhooks_events_dropped_total{reason=\"memory_full\"}");
        (queued + dropped == 600).then_some(dropped)
    });
    let held = svc.metric("bbb_webhooks_queued_bytes");
    assert!(held <= max, "{held} bytes held");
    assert!(held > max / 2, "{held} bytes held: close to the bound");
    assert!(svc.logged("BBB_WEBHOOKS_MAX_QUEUED_BYTES"));
    let kept = 300 - dropped / 2;
    assert_eq!(dropped % 2, 0, "both hooks drop the same events");
    assert_eq!(redis.llen(&journal_key(&a)), kept as usize);
    assert_eq!(redis.llen(&journal_key(&b)), kept as usize);
    // What was kept arrives, in order, and nothing else.
    rx.drain(std::time::Duration::from_millis(100));
    rx.answer_always(Answer::status(200));
    let mut got: Vec<(String, u64)> = Vec::new();
    while got.len() < 2 * kept as usize {
        let r = rx.next();
        let path = r.target.split('?').next().unwrap_or("").to_owned();
        got.extend(numbers(&r).into_iter().map(|n| (path.clone(), n)));
    }
    for path in ["/a", "/b"] {
        let mine: Vec<u64> = got
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(mine, (0..kept).collect::<Vec<u64>>(), "{path}");
    }
    rx.assert_quiet(std::time::Duration::from_millis(500));
    svc.wait_metric("bbb_webhooks_queued_bytes", 0);
    let stored: usize = redis.conn().hlen(EVENTS).expect("hlen");
    assert_eq!(stored, 0, "delivered payloads leave Redis");
}
