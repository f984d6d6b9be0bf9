//! What survives a restart: hooks (ours and those the reference application
//! stored), and events still queued for an endpoint that was down, after a
//! `kill -9`.

mod support;

use std::time::Duration;

use redis::Commands;
use support::*;

#[test]
fn hooks_survive_a_restart() {
    let redis = Redis::start();
    let svc = Service::start(&redis, &[]);
    let a = svc.create_hook(
        "callbackURL=http%3A%2F%2F127.0.0.1%3A9%2Fa&meetingID=m&eventID=user-joined&getRaw=true",
    );
    let b = svc.create_hook("callbackURL=http%3A%2F%2F127.0.0.1%3A9%2Fb");
    let before = svc.call("hooks/list", "");
    svc.kill();
    let svc = Service::start(&redis, &[]);
    assert_eq!(svc.call("hooks/list", ""), before);
    assert!(before.contains(&a) && before.contains(&b));
    // Stored in the reference's layout.
    let mut c = redis.conn();
    let ids: Vec<String> = c.smembers(HOOKS).expect("smembers");
    assert_eq!(ids.len(), 2);
    let h: std::collections::HashMap<String, String> = c.hgetall(hook_key(&a)).expect("hgetall");
    assert_eq!(h["id"], a);
    assert_eq!(h["callbackURL"], "http://127.0.0.1:9/a");
    assert_eq!(h["externalMeetingID"], "m");
    assert_eq!(h["eventID"], "user-joined");
    assert_eq!(h["permanent"], "false");
    assert_eq!(h["getRaw"], "true");
}

#[test]
fn loads_hooks_the_reference_stored_and_skips_corrupt_ones() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let mut c = redis.conn();
    let set = HOOKS;
    // 3.x: uuid ids in `id`.
    let _: () = c
        .sadd(set, "0b7e6d0e-6f2b-4b1e-9d1b-2c7a4d9e8f01")
        .expect("sadd");
    let _: () = c
        .hset_multiple(
            hook_key("0b7e6d0e-6f2b-4b1e-9d1b-2c7a4d9e8f01"),
            &[
                ("id", "0b7e6d0e-6f2b-4b1e-9d1b-2c7a4d9e8f01"),
                ("callbackURL", &rx.url("/v3")),
                ("externalMeetingID", "ext"),
                ("eventID", "testevent"),
                ("permanent", "false"),
                ("getRaw", "false"),
            ],
        )
        .expect("hset");
    // 2.x: integer ids in `hookID`.
    let _: () = c.sadd(set, "2").expect("sadd");
    let _: () = c
        .hset_multiple(
            hook_key("2"),
            &[("hookID", "2"), ("callbackURL", rx.url("/v2").as_str())],
        )
        .expect("hset");
    // Corrupt: no callbackURL; and an id without a hash.
    let _: () = c.sadd(set, "3").expect("sadd");
    let _: () = c.hset(hook_key("3"), "id", "3").expect("hset");
    let _: () = c.sadd(set, "4").expect("sadd");

    let svc = Service::start(&redis, &[]);
    let list = svc.call("hooks/list", "");
    assert!(list.starts_with("<response><returncode>SUCCESS</returncode><hooks><hook><hookID>0b7e6d0e-6f2b-4b1e-9d1b-2c7a4d9e8f01</hookID>"), "{list}");
    assert!(list.contains("<hookID>2</hookID>"), "{list}");
    assert_eq!(list.matches("<hook>").count(), 2, "{list}");
    svc.wait_logged("skipping hook record bigbluebutton:webhooks:out:hook:3");
    svc.wait_logged("2 stored hooks could not be read");

    redis.publish("bigbluebutton:events", &test_event("ext", "d"));
    let mut targets = vec![rx.next().target, rx.next().target];
    targets.sort();
    assert!(
        targets[0].starts_with("/v2?checksum=") && targets[1].starts_with("/v3?checksum="),
        "{targets:?}"
    );
}

#[test]
fn queued_events_survive_kill_9_and_arrive_in_order() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "100")]);
    let id = svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/q"))));
    // The endpoint is down for the first attempts.
    rx.answer_next(vec![Answer::status(503); 3]);
    publish_n(&redis, 0..30);
    // Wait for the failures, so everything is queued behind a failing head.
    for _ in 0..3 {
        assert_eq!(numbers(&rx.next())[0], 0);
    }
    wait_journal_len(&redis, &id, 30);
    svc.kill();
    rx.drain(Duration::from_millis(300));

    let _svc = Service::start(&redis, &[]);
    let mut got = Vec::new();
    while got.len() < 30 {
        got.push(numbers(&rx.next())[0]);
    }
    got.dedup();
    assert_eq!(got, (0..30).collect::<Vec<u64>>());
    wait_journal_len(&redis, &id, 0);
}

#[test]
fn deliveries_during_a_redis_outage_are_journaled_once_it_is_back() {
    let mut redis = Redis::start_persistent();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "200")]);
    let id = svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/o"))));
    rx.answer_always(Answer::status(503));
    publish_n(&redis, 0..5);
    wait_journal_len(&redis, &id, 5);
    // Redis goes away; meanwhile the endpoint recovers and takes everything.
    redis.stop();
    rx.answer_always(Answer::status(200));
    let mut got = Vec::new();
    while got.last() != Some(&4) {
        got.push(numbers(&rx.next())[0]);
    }
    // The service has found Redis gone before it comes back.
    svc.wait_metric_at_least("bbb_webhooks_redis_write_errors_total{kind=\"queue\"}", 1);
    // Redis comes back with the five entries it had: the journal is rewritten
    // from memory, so a later restart does not send them again.
    redis.restart();
    wait_journal_len(&redis, &id, 0);
    // The log tells the operator about the outage and its end.
    svc.wait_logged("cannot write delivery queues to Redis");
    svc.wait_logged("delivery queues are written to Redis again");
}
