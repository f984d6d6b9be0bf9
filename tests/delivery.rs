//! Events from Redis to callback URLs, end to end: the draft's own test flow,
//! both authentication modes, meeting matching, raw hooks with
//! `BBB_WEBHOOKS_GET_RAW` on and off, order across retries, bad messages on
//! the channels, and Redis restarting or down when the service starts.

mod support;

use std::time::Duration;

use support::*;

#[test]
fn draft_test_flow_delivers_with_a_valid_checksum() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[]);
    let cb = rx.url("/bbb?token=abc");
    svc.call(
        "subscribeEvent",
        &format!("meetingID=int-meeting-1&callbackURL={}", enc(&cb)),
    );
    let msg = test_event("int-meeting-1", "hola ola");
    redis.publish("bigbluebutton:events", &msg);
    let r = rx.next();
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(
        r.target.starts_with("/bbb?token=abc&checksum="),
        "{}",
        r.target
    );
    assert!(
        checksum_verifies(&r, &cb),
        "checksum over URL + body + secret"
    );
    let form = r.form();
    let keys: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["domain", "event", "timestamp"]);
    assert_eq!(r.field("domain"), DOMAIN);
    assert!(r.field("timestamp").parse::<u64>().is_ok());
    assert_eq!(
        r.field("event"),
        format!("[{msg}]"),
        "delivered unchanged, in an array"
    );
    assert!(r.header("x-bbb-webhooks-event-ids").is_some());

    // Another meeting's event does not reach the subscription.
    redis.publish("bigbluebutton:events", &test_event("int-meeting-2", "x"));
    rx.assert_quiet(Duration::from_millis(300));
}

#[test]
fn bearer_mode_sends_the_secret_and_meeting_hooks_match_by_external_id() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[("BBB_WEBHOOKS_CALLBACK_AUTH", "bearer")]);
    let cb = rx.url("/hook");
    svc.create_hook(&format!("callbackURL={}&meetingID=ext-1", enc(&cb)));
    // The meeting's internal ID is learned from its creation message.
    redis.publish(
        "from-akka-apps-redis-channel",
        &meeting_created("int-1", "ext-1"),
    );
    redis.publish(
        "bigbluebutton:events",
        &test_event("int-1", "by internal id"),
    );
    let created = rx.next();
    assert_eq!(created.events()[0]["data"]["id"], "meeting-created");
    let r = rx.next();
    assert_eq!(r.target, "/hook", "no checksum in bearer mode");
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {SECRET}").as_str())
    );
    assert_eq!(r.events()[0]["data"], "by internal id");
    redis.publish(
        "from-akka-apps-redis-channel",
        &mapped_event("user-joined", "int-x", "ext-1", 7),
    );
    assert_eq!(numbers(&rx.next()), [7], "matched by external id");
}

/// Garbage on a channel is skipped and counted; a hook for all events, one
/// with an event filter and a raw hook each get theirs of what follows.
#[test]
fn filtered_and_raw_hooks_get_their_events_after_bad_messages_are_skipped() {
    let redis = Redis::start();
    let all = HttpReceiver::start();
    let filtered = HttpReceiver::start();
    let raw = HttpReceiver::start();
    let svc = Service::start(&redis, &[]);
    svc.create_hook(&format!("callbackURL={}", enc(&all.url("/"))));
    svc.create_hook(&format!(
        "callbackURL={}&eventID=meeting-ended",
        enc(&filtered.url("/"))
    ));
    svc.create_hook(&format!("callbackURL={}&getRaw=true", enc(&raw.url("/"))));

    // Garbage first: skipped, counted, and the next message still goes out.
    redis.publish("from-akka-apps-redis-channel", "this is not json");
    redis.publish("from-akka-apps-redis-channel", "[1,2,3]");
    redis.publish("from-akka-apps-redis-channel", "\u{0}\u{1}binary");
    let joined = mapped_event("user-joined", "i", "e", 1);
    redis.publish("from-akka-apps-redis-channel", &joined);
    redis.publish(
        "from-akka-apps-redis-channel",
        &mapped_event("meeting-ended", "i", "e", 2),
    );

    assert_eq!(all.next().events()[0]["data"]["id"], "user-joined");
    assert_eq!(all.next().events()[0]["data"]["id"], "meeting-ended");
    assert_eq!(filtered.next().events()[0]["data"]["id"], "meeting-ended");
    // A raw hook gets the message as received (re-serialised compactly).
    let r = raw.next();
    assert_eq!(
        r.events()[0],
        serde_json::from_str::<serde_json::Value>(&joined).expect("json")
    );
    filtered.assert_quiet(Duration::from_millis(200));
    svc.wait_metric(
        "bbb_webhooks_messages_skipped_total{reason=\"malformed\"}",
        3,
    );
    // The log says why each was skipped.
    svc.wait_logged("skipping a message on from-akka-apps-redis-channel: not JSON");
    svc.wait_logged("not a JSON object");
}

/// A hook created with `getRaw=true`, a permanent `raw:` hook and a mapped
/// hook on a service with `BBB_WEBHOOKS_GET_RAW` set to `get_raw`.
struct RawHooks {
    svc: Service,
    raw: HttpReceiver,
    raw_id: String,
    permanent: HttpReceiver,
    mapped: HttpReceiver,
}

fn raw_hooks(redis: &Redis, get_raw: &str) -> RawHooks {
    let raw = HttpReceiver::start();
    let permanent = HttpReceiver::start();
    let mapped = HttpReceiver::start();
    let svc = Service::start(
        redis,
        &[
            ("BBB_WEBHOOKS_GET_RAW", get_raw),
            (
                "BBB_WEBHOOKS_PERMANENT_HOOKS",
                &format!("raw:{}", permanent.url("/permanent")),
            ),
        ],
    );
    let body = svc.call(
        "hooks/create",
        &format!("callbackURL={}&getRaw=true", enc(&raw.url("/raw"))),
    );
    // Whatever BBB_WEBHOOKS_GET_RAW says, the API takes the hook as raw.
    assert!(body.contains("<rawData>true</rawData>"), "{body}");
    let raw_id = between(&body, "<hookID>", "</hookID>");
    svc.create_hook(&format!("callbackURL={}", enc(&mapped.url("/mapped"))));
    RawHooks {
        svc,
        raw,
        raw_id,
        permanent,
        mapped,
    }
}

/// Publishes one message of each kind for meeting `int-raw`: a raw
/// akka-apps message, an event already in the webhook format, and a draft
/// test event. Returns them as published.
fn publish_one_of_each_kind(redis: &Redis) -> Vec<serde_json::Value> {
    let messages = [
        (
            "from-akka-apps-redis-channel",
            meeting_created("int-raw", "ext-raw"),
        ),
        (
            "from-akka-apps-redis-channel",
            mapped_event("user-joined", "int-raw", "ext-raw", 1),
        ),
        ("bigbluebutton:events", test_event("int-raw", "t")),
    ];
    for (channel, message) in &messages {
        redis.publish(channel, message);
    }
    messages
        .iter()
        .map(|(_, m)| serde_json::from_str(m).expect("JSON"))
        .collect()
}

/// The mapped hook gets the three messages as mapped events, in order.
fn assert_mapped_events(mapped: &HttpReceiver) {
    assert_eq!(mapped.next_event()["data"]["id"], "meeting-created");
    assert_eq!(mapped.next_event()["data"]["id"], "user-joined");
    assert_eq!(mapped.next_event()["event"], "TestEvent");
}

/// What the Debian package ships: with `BBB_WEBHOOKS_GET_RAW=false` a raw
/// hook gets nothing at all, neither the raw messages nor the mapped events
/// in their place, and stays registered as raw.
#[test]
fn with_get_raw_false_a_raw_hook_receives_nothing_not_even_mapped_events() {
    let redis = Redis::start();
    let h = raw_hooks(&redis, "false");
    publish_one_of_each_kind(&redis);
    assert_mapped_events(&h.mapped);
    // Only the mapped hook's three events were queued; none for a raw hook.
    assert_eq!(h.svc.metric("bbb_webhooks_events_queued_total"), 3);
    h.raw.assert_quiet(Duration::from_millis(300));
    h.permanent.assert_quiet(Duration::from_millis(100));
    // Still listed as raw, idle: nothing pending, no error.
    let list = h.svc.call("hooks/list", "");
    let entry = format!(
        "<hook><hookID>{}</hookID><callbackURL><![CDATA[{}]]></callbackURL><permanentHook>false</permanentHook><rawData>true</rawData></hook>",
        h.raw_id,
        h.raw.url("/raw")
    );
    assert!(list.contains(&entry), "{list}");
}

/// With `BBB_WEBHOOKS_GET_RAW=true` (the default) a raw hook gets each
/// message that maps to an event once, as it was published, and no mapped
/// event.
#[test]
fn with_get_raw_true_a_raw_hook_receives_the_messages_as_published() {
    let redis = Redis::start();
    let h = raw_hooks(&redis, "true");
    let published = publish_one_of_each_kind(&redis);
    assert_mapped_events(&h.mapped);
    for rx in [&h.raw, &h.permanent] {
        let got: Vec<serde_json::Value> = (0..3).map(|_| rx.next_event()).collect();
        assert_eq!(got, published);
        assert_eq!(got[0]["envelope"]["name"], "MeetingCreatedEvtMsg");
    }
    // Three events for each of the three hooks, and nothing else.
    assert_eq!(h.svc.metric("bbb_webhooks_events_queued_total"), 9);
    h.raw.assert_quiet(Duration::from_millis(300));
    h.permanent.assert_quiet(Duration::from_millis(100));
}

#[test]
fn retries_keep_order_and_lose_nothing() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[]);
    svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/"))));
    // The endpoint fails three times, then works.
    rx.answer_next(vec![
        Answer::status(500),
        Answer::status(503),
        Answer::status(404),
    ]);
    publish_n(&redis, 0..20);
    let mut got = Vec::new();
    while got.len() < 20 {
        got.extend(numbers(&rx.next()));
    }
    // The first event was attempted four times, then all in order.
    assert_eq!(&got[..4], &[0, 0, 0, 0]);
    let mut rest = got[4..].to_vec();
    assert_eq!(rest.len(), 16);
    rest.dedup();
    assert_eq!(rest, (1..17).collect::<Vec<u64>>());
    let mut more = Vec::new();
    while more.len() < 3 {
        more.push(numbers(&rx.next())[0]);
    }
    assert_eq!(more, [17, 18, 19]);
    rx.assert_quiet(Duration::from_millis(300));
}

/// The API keeps answering from memory meanwhile, and the outage is logged.
#[test]
fn the_subscription_comes_back_after_a_redis_restart() {
    let mut redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[]);
    let cb = rx.url("/r");
    svc.create_hook(&format!("callbackURL={}", enc(&cb)));
    redis.publish("bigbluebutton:events", &test_event("m", "before"));
    assert_eq!(rx.next().events()[0]["data"], "before");

    redis.restart();
    // The API keeps answering meanwhile (the registry is in memory).
    assert!(svc.call("hooks/list", "").contains("/r"));
    wait_for("the service to subscribe again", || {
        (redis.subscribers("bigbluebutton:events") > 0).then_some(())
    });
    redis.publish("bigbluebutton:events", &test_event("m", "after"));
    assert_eq!(rx.next().events()[0]["data"], "after");
    svc.wait_metric("bbb_webhooks_redis_subscribed", 1);
    // The log tells the operator about the outage and its end.
    svc.wait_logged("Redis subscription lost");
    svc.wait_logged("Redis subscription is back");
}

/// A service started while Redis is down takes its ports, waits for Redis
/// (saying so) without serving, then loads, serves and subscribes.
#[test]
fn a_service_started_before_redis_waits_for_it() {
    let mut redis = Redis::start();
    redis.stop();
    let rx = HttpReceiver::start();
    let mut svc = Service::launch(&redis).ready(Ready::Listening).start();
    svc.wait_logged(&format!("waiting for Redis at {}", redis.url()));
    let ping = format!("{}/hooks/ping", svc.api);
    assert!(
        try_request("GET", &ping, Duration::from_millis(300)).is_err(),
        "the API answers only once the hooks are loaded"
    );
    redis.restart();
    svc.wait_until(Ready::Subscribed);
    svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/late"))));
    redis.publish("bigbluebutton:events", &test_event("m", "late"));
    assert_eq!(rx.next().events()[0]["data"], "late");
    svc.wait_logged("Redis answered after");
}
