//! Hostile input from Redis: messages that are not JSON, JSON of the wrong
//! shape, too deep, several megabytes, binary, or of a known kind with fields
//! of the wrong types are skipped (logged at a limited rate) and the next good
//! message is delivered; corrupt meeting and user mapping records in Redis are
//! skipped at start and the good ones next to them still work; an index set
//! of the wrong type stops startup with a message that names it.

mod support;

use std::time::Duration;

use redis::Commands;
use serde_json::json;
use support::*;

/// Deterministic pseudo-random bytes (xorshift), invalid UTF-8 included.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// A raw akka-apps message with the given envelope and core.
fn akka(envelope: serde_json::Value, core: serde_json::Value) -> Vec<u8> {
    json!({"envelope": envelope, "core": core})
        .to_string()
        .into_bytes()
}

fn hostile_messages() -> Vec<Vec<u8>> {
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let deep_object = format!("{}1{}", "{\"envelope\":".repeat(200), "}".repeat(200));
    let big = json!({"envelope": {"name": "NoSuchEvtMsg"}, "pad": "x".repeat(5 << 20)});
    let joined = |body: serde_json::Value| {
        akka(
            json!({"name": "UserJoinedMeetingEvtMsg", "routing": {"meetingId": "int-h", "userId": "w_1"}}),
            json!({"header": {"name": "UserJoinedMeetingEvtMsg", "meetingId": "int-h", "userId": "w_1"}, "body": body}),
        )
    };
    vec![
        b"this is not JSON".to_vec(),
        b"{\"unterminated\": ".to_vec(),
        b"[]".to_vec(),
        b"\"str\"".to_vec(),
        b"null".to_vec(),
        b"42".to_vec(),
        b"".to_vec(),
        deep.into_bytes(),
        deep_object.into_bytes(),
        big.to_string().into_bytes(),
        noise(4096, 0x9e37_79b9_7f4a_7c15),
        vec![0xff, 0xfe, 0x00, b'{', 0xc3],
        // Known kinds with fields of the wrong types.
        joined(json!({"intId": 42, "extId": ["x"], "name": {"a": 1}, "role": 7, "guest": "yes"})),
        joined(json!("a string body")),
        joined(json!(null)),
        akka(
            json!({"name": "UserJoinedMeetingEvtMsg"}),
            json!("core is a string"),
        ),
        akka(json!({"name": {"an": "object"}}), json!({})),
        akka(json!("envelope is a string"), json!([1, 2, 3])),
        akka(
            json!({"name": "MeetingCreatedEvtMsg"}),
            json!({"body": {"props": {"meetingProp": {"intId": 1, "extId": false}}}}),
        ),
        akka(
            json!({"name": "MeetingCreatedEvtMsg"}),
            json!({"body": {"props": "not an object"}}),
        ),
        akka(
            json!({"name": "UserLeftMeetingEvtMsg", "routing": {"meetingId": 5}}),
            json!({"header": {"userId": true}, "body": {"intId": [null]}}),
        ),
        json!({"data": {"id": "user-joined", "attributes": "wrong"}})
            .to_string()
            .into_bytes(),
        json!({"data": {"id": "meeting-created", "attributes": {"meeting": {"internal-meeting-id": 1}}}})
            .to_string()
            .into_bytes(),
        json!({"event": 1, "meetingID": {"x": 1}}).to_string().into_bytes(),
    ]
}

#[test]
fn hostile_messages_are_skipped_and_the_next_good_one_arrives() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[]);
    // Only the good message is a TestEvent of meeting "good".
    svc.create_hook(&format!(
        "callbackURL={}&meetingID=good&eventID=TestEvent",
        enc(&rx.url("/h"))
    ));
    // A second hook takes everything, so whatever the bad messages map to
    // goes through delivery too.
    svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/all"))));
    for (i, msg) in hostile_messages().iter().enumerate() {
        for channel in [
            AKKA_CHANNEL,
            "bigbluebutton:from-rap",
            "bigbluebutton:events",
        ] {
            redis.publish_bytes(channel, msg);
        }
        if i % 5 == 0 {
            // Interleaved: good messages between bad ones arrive too.
            redis.publish(
                "bigbluebutton:events",
                &test_event("good", &format!("g{i}")),
            );
        }
    }
    redis.publish("bigbluebutton:events", &test_event("good", "last"));

    let mut markers = Vec::new();
    while markers.last().map(String::as_str) != Some("last") {
        let r = rx.next();
        if r.target.starts_with("/h?") {
            let events = r.events();
            assert_eq!(events.len(), 1, "{}", r.body);
            assert_eq!(events[0]["event"], "TestEvent");
            markers.push(events[0]["data"].as_str().expect("marker").to_owned());
        }
    }
    let expected: Vec<String> = (0..hostile_messages().len())
        .filter(|i| i % 5 == 0)
        .map(|i| format!("g{i}"))
        .chain(["last".to_owned()])
        .collect();
    assert_eq!(markers, expected);

    assert_eq!(svc.ping(), (200, "bbb-webhooks API up!".to_owned()));
    // The log says why messages were skipped.
    svc.wait_logged("skipping a message on from-akka-apps-redis-channel: not JSON");
    svc.wait_logged("not a JSON object");
    svc.wait_logged("recursion limit exceeded");
}

#[test]
fn skip_warnings_are_rate_limited_but_every_skip_is_logged() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[]);
    svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/h"))));
    for i in 0..50 {
        redis.publish_bytes(AKKA_CHANNEL, format!("garbage {i}").as_bytes());
    }
    redis.publish("bigbluebutton:events", &test_event("m", "after"));
    assert_eq!(rx.next().events()[0]["data"], "after");
    svc.wait_metric(
        "bbb_webhooks_messages_skipped_total{reason=\"malformed\"}",
        50,
    );

    let skips = |level: &str| {
        svc.log
            .lock()
            .expect("log lock")
            .iter()
            .filter(|l| l.contains(level) && l.contains("skipping a message on"))
            .count()
    };
    // Each skip is logged: the first ten in a minute at warn, the rest at debug.
    wait_for("all 50 skips in the log", || {
        (skips(" WARN") + skips(" DEBUG]") == 50).then_some(())
    });
    assert_eq!(skips(" WARN"), 10);
    assert_eq!(skips(" DEBUG]"), 40);
}

/// A record id and the fields of its hash.
type Record<'a> = (&'a str, Vec<(&'a str, &'a [u8])>);
type OwnedFields = Vec<(String, Vec<u8>)>;

#[test]
fn corrupt_mapping_records_are_skipped_at_start() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let mut c = redis.conn();
    let now = bbb_webhooks::clock::now_ms().to_string();

    // The good meeting, in the reference's layout (a UUID record id).
    let good = "5d1c2a8e-0c1b-4f7e-9a51-3e2f1b0c9d77";
    let _: () = c.sadd(MAPPINGS, good).expect("sadd");
    hset(
        &mut c,
        &format!("{MAPPING}:{good}"),
        &[
            ("id", good.as_bytes()),
            ("internalMeetingID", b"int-good"),
            ("externalMeetingID", b"ext-good"),
            ("lastActivity", now.as_bytes()),
        ],
    );
    // Corrupt meetings: no internal ID, a time that is not one, bytes that
    // are not UTF-8, a member without a hash, and a key of the wrong type.
    let corrupt_meetings: [Record; 3] = [
        (
            "no-internal",
            vec![("id", b"no-internal"), ("externalMeetingID", b"ext-good")],
        ),
        (
            "bad-time",
            vec![
                ("internalMeetingID", b"int-bad"),
                ("externalMeetingID", b"ext-good"),
                ("lastActivity", b"yesterday"),
            ],
        ),
        (
            "binary",
            vec![
                ("internalMeetingID", &[0xff, 0xfe, 0x80]),
                ("externalMeetingID", b"ext-good"),
            ],
        ),
    ];
    for (id, fields) in &corrupt_meetings {
        let _: () = c.sadd(MAPPINGS, id).expect("sadd");
        hset(&mut c, &format!("{MAPPING}:{id}"), fields);
    }
    let _: () = c.sadd(MAPPINGS, "no-hash").expect("sadd");
    let _: () = c.sadd(MAPPINGS, "a-list").expect("sadd");
    let _: () = c
        .rpush(format!("{MAPPING}:a-list"), "not a hash")
        .expect("rpush");

    // A good user, and corrupt ones: missing meetingId, `user` not JSON,
    // `user` JSON but not an object, and a key of the wrong type.
    let user = |meeting: &str, user: &[u8]| -> OwnedFields {
        vec![
            ("internalUserID".into(), b"w_1".to_vec()),
            ("externalUserID".into(), b"ext-user-1".to_vec()),
            ("meetingId".into(), meeting.as_bytes().to_vec()),
            ("user".into(), user.to_vec()),
        ]
    };
    let users: Vec<(&str, OwnedFields)> = vec![
        (
            "good-user",
            user("int-good", br#"{"name":"Alice","presenter":"true"}"#),
        ),
        ("no-meeting", user("", br#"{"name":"x"}"#)),
        ("not-json", user("int-good", b"{not json")),
        ("not-object", user("int-good", b"[1,2,3]")),
        (
            "missing-user",
            vec![
                ("internalUserID".into(), b"w_2".to_vec()),
                ("meetingId".into(), b"int-good".to_vec()),
            ],
        ),
    ];
    for (id, fields) in &users {
        let _: () = c.sadd(USER_MAPS, id).expect("sadd");
        let _: () = c
            .hset_multiple(format!("{USER_MAP}:{id}"), fields)
            .expect("hset");
    }
    let _: () = c.sadd(USER_MAPS, "a-string").expect("sadd");
    let _: () = c
        .set(format!("{USER_MAP}:a-string"), "not a hash")
        .expect("set");

    let svc = Service::start(&redis, &[]);
    svc.wait_logged("skipping meeting mapping no-internal: no internalMeetingID");
    svc.wait_logged("skipping meeting mapping bad-time: lastActivity is not a time");
    svc.wait_logged("skipping meeting mapping binary: internalMeetingID is not UTF-8");
    svc.wait_logged("skipping meeting mapping no-hash: no record");
    svc.wait_logged("skipping meeting mapping a-list:");
    svc.wait_logged("skipping user mapping no-meeting:");
    svc.wait_logged("skipping user mapping not-json: user is not a JSON object");
    svc.wait_logged("skipping user mapping not-object: user is not a JSON object");
    svc.wait_logged("skipping user mapping missing-user: no user");
    svc.wait_logged("skipping user mapping a-string:");
    svc.wait_logged("loaded 1 meeting and 1 user mappings (10 skipped)");
    svc.wait_logged("10 stored meeting or user mappings could not be read and were skipped");

    // The good record still maps the internal ID to the external one.
    svc.create_hook(&format!(
        "callbackURL={}&meetingID=ext-good",
        enc(&rx.url("/m"))
    ));
    redis.publish("bigbluebutton:events", &test_event("int-bad", "not this"));
    redis.publish("bigbluebutton:events", &test_event("int-good", "this"));
    let events = rx.next().events();
    assert_eq!(events[0]["data"], "this");
    assert_eq!(events[0]["meetingID"], "int-good");
    assert_eq!(svc.ping(), (200, "bbb-webhooks API up!".to_owned()));
}

#[test]
fn record_ids_that_are_not_utf8_are_skipped_at_start() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let mut c = redis.conn();
    let bad_id: &[u8] = &[0xff, 0xfe, b'x'];
    for set in [MAPPINGS, USER_MAPS, HOOKS] {
        let _: () = c.sadd(set, bad_id).expect("sadd");
    }
    let good = "int-utf8";
    let _: () = c.sadd(MAPPINGS, good).expect("sadd");
    hset(
        &mut c,
        &format!("{MAPPING}:{good}"),
        &[
            ("internalMeetingID", good.as_bytes()),
            ("externalMeetingID", b"ext-utf8"),
        ],
    );
    let hook = "6a0f3a52-5d55-4c43-8f57-1b7f7f3c2a10";
    let _: () = c.sadd(HOOKS, hook).expect("sadd");
    let url = rx.url("/stored");
    hset(
        &mut c,
        &hook_key(hook),
        &[
            ("id", hook.as_bytes()),
            ("callbackURL", url.as_bytes()),
            ("externalMeetingID", b"ext-utf8"),
        ],
    );

    let svc = Service::start(&redis, &[]);
    svc.wait_logged("1 stored hooks could not be read and were skipped");
    svc.wait_logged("loaded 1 meeting and 0 user mappings (2 skipped)");
    redis.publish("bigbluebutton:events", &test_event(good, "stored"));
    let r = rx.next();
    assert!(r.target.starts_with("/stored?"), "{}", r.target);
    assert_eq!(r.events()[0]["data"], "stored");
}

#[test]
fn an_index_set_of_the_wrong_type_stops_startup_naming_the_key() {
    for key in [HOOKS, MAPPINGS, USER_MAPS] {
        let redis = Redis::start();
        let mut c = redis.conn();
        let _: () = c.set(key, "not a set").expect("set");
        let out = run_within(&base_env(&redis), &[], Duration::from_secs(20));
        let stderr = stderr(&out);
        assert!(!out.status.success(), "{key}: {stderr}");
        assert!(
            stderr.contains(&format!("Redis key {key} holds a string")),
            "{key}: {stderr}"
        );
        // The key is left as it was.
        let kind: String = redis::cmd("TYPE").arg(key).query(&mut c).expect("type");
        assert_eq!(kind, "string");
    }
}

#[test]
fn an_xapi_index_set_of_the_wrong_type_stops_startup_only_with_xapi_on() {
    for key in [
        "bigbluebutton:webhooks:xapi:meetings",
        "bigbluebutton:webhooks:xapi:users",
        "bigbluebutton:webhooks:xapi:polls",
    ] {
        let redis = Redis::start();
        let mut c = redis.conn();
        let _: () = c.set(key, "not a set").expect("set");
        // Off, the xAPI records are not read: it starts.
        let svc = Service::launch(&redis).ready(Ready::Api).start();
        drop(svc);
        let env = with(base_env(&redis), "BBB_WEBHOOKS_XAPI_ENABLED", "true");
        let env = with(env, "BBB_WEBHOOKS_XAPI_UUID_NAMESPACE", NAMESPACE);
        let out = run_within(&env, &[], Duration::from_secs(20));
        let stderr = stderr(&out);
        assert!(!out.status.success(), "{key}: {stderr}");
        assert!(
            stderr.contains(&format!("Redis key {key} holds a string, not the set")),
            "{key}: {stderr}"
        );
    }
}
