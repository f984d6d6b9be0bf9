//! xAPI statements as the LRS receives them (XAPI.md §3 to §6): a whole
//! meeting of mapped events, each handled id giving its statement byte for
//! byte, ignored ids and the `xapi-enabled` variants giving none, and what
//! metrics, `hooks/list` and `check` show of it. The fixtures are written
//! from the spec; the identifiers are the spec's verified examples.

mod support;

use serde_json::{json, Value};
use support::*;

const INT: &str = "8043c8452ae9830aac14c517adff3839dbd9228f-1698771157700";
const EXT: &str = "random-9019868";
const CREATE_TIME: u64 = 1_698_771_157_700;
const T0: u64 = 1_708_381_132_686;
const JOHN: &str = "w_xfsb9gxtlfom";
const MARY: &str = "w_uxw0dzhtvk0l";
const POLL: &str = "2be5820127b5f8efc050fa003e83ef53fa62c356-1698771157729/1/1698771266437";

// XAPI.md §5, namespace 22946e5b-1860-4436-a025-cb133ca4c1d3.
const OBJECT: &str = "664fb8be-0394-5a1f-a6f1-588fc85c2337";
const SESSION: &str = "4b8b734d-0adc-5d89-ba4b-d78688bb94fe";
const REGISTRATION: &str = "2b0e1c19-5ba4-5e5d-aeb7-d817125b7815";
const MICRO: &str = "377f1634-b4aa-5e42-bf52-ffe9dd465c26";
const CAMERA: &str = "74e08661-3989-5a7c-bff8-501c3b5a7e45";
const SCREEN: &str = "0fb496b6-6780-5b8d-8c9c-02c063efb197";
const CHAT: &str = "e7a41a77-4cc9-5e48-ad48-afc5b5740438";
const POLL_OBJECT: &str = "182e3395-9bcf-5366-8804-e7f897b54d47";

const VC: &str = "https://w3id.org/xapi/virtual-classroom/activity-types/virtual-classroom";
const START: &str = "http://activitystrea.ms/start";
const STOPPED: &str = "https://w3id.org/xapi/virtual-classroom/verbs/stopped";

fn meeting() -> Value {
    json!({"internal-meeting-id": INT, "external-meeting-id": EXT})
}

fn user(id: &str, more: Value) -> Value {
    let mut u = json!({"internal-user-id": id, "external-user-id": id});
    if let (Some(u), Value::Object(more)) = (u.as_object_mut(), more) {
        u.extend(more);
    }
    json!({"meeting": meeting(), "user": u})
}

fn activity(uuid: &str) -> String {
    format!("https://{DOMAIN}/xapi/activities/{uuid}")
}

/// `ms` as the reference writes instants: UTC, three decimals, `Z`.
fn iso(ms: u64) -> String {
    jiff::Timestamp::from_millisecond(ms as i64)
        .expect("an instant")
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// What a statement says beyond the skeleton.
struct Says<'a> {
    actor: &'a str,
    verb: &'a str,
    object: Value,
    parent: bool,
    planned: bool,
    timestamp: String,
    result: Option<Value>,
}

/// The statement of XAPI.md §6.1, keys in the reference's order.
fn statement(s: Says<'_>) -> Value {
    let mut activities = json!({"category": [{"id": "https://w3id.org/xapi/virtual-classroom",
        "definition": {"type": "http://adlnet.gov/expapi/activities/profile"}}]});
    if s.parent {
        activities["parent"] = json!([{"id": activity(OBJECT), "definition": {"type": VC}}]);
    }
    let mut extensions =
        json!({"https://w3id.org/xapi/cmi5/context/extensions/sessionid": SESSION});
    if s.planned {
        extensions["http://id.tincanapi.com/extension/planned-duration"] = json!("PT0S");
    }
    let mut st = json!({
        "actor": {"account": {"name": s.actor, "homePage": format!("https://{DOMAIN}")}},
        "verb": {"id": s.verb},
        "object": s.object,
        "context": {"registration": REGISTRATION, "contextActivities": activities, "extensions": extensions},
        "timestamp": s.timestamp,
    });
    if let Some(r) = s.result {
        st["result"] = r;
    }
    st
}

fn meeting_object() -> Value {
    json!({"id": activity(OBJECT), "definition": {"type": VC, "name": {"en": EXT}}})
}

fn media(uuid: &str, medium: &str, owner: &str) -> Value {
    json!({"id": activity(uuid), "definition": {
        "type": format!("https://w3id.org/xapi/virtual-classroom/activity-types/{medium}"),
        "name": {"en": format!("{owner}'s {medium}")}}})
}

fn poll_object() -> Value {
    let choices: Vec<Value> = ["A", "B", "C", "D"]
        .iter()
        .enumerate()
        .map(|(i, k)| json!({"id": i.to_string(), "description": {"en": k}}))
        .collect();
    json!({"id": activity(POLL_OBJECT), "definition": {"description": {"en": "ABCD Poll Test"},
        "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
        "interactionType": "choice", "choices": choices}})
}

/// A statement of John's at `k` seconds after [`T0`].
fn johns(verb: &str, object: Value, k: u64, result: Option<Value>) -> Value {
    statement(Says {
        actor: "John Doe",
        verb,
        object,
        parent: true,
        planned: false,
        timestamp: iso(T0 + k * 1000),
        result,
    })
}

/// The meeting: every handled event id (and a few ignored ones), each with
/// the statement it gives, if any, in publishing order.
fn fixture() -> Vec<(String, Option<Value>)> {
    let t = |k: u64| T0 + k * 1000;
    let joined = |k, id, name: &str| {
        let st = statement(Says {
            actor: name,
            verb: "http://activitystrea.ms/join",
            object: meeting_object(),
            parent: false,
            planned: false,
            timestamp: iso(t(k)),
            result: None,
        });
        let attrs = user(
            id,
            json!({"name": name, "role": "VIEWER", "presenter": false}),
        );
        (mapped_text("user-joined", attrs, t(k)), Some(st))
    };
    let hand = json!({"extensions": {"https://w3id.org/xapi/virtual-classroom/extensions/emoji": "U+1F590"}});
    let john = |more: Value| user(JOHN, more);
    let mic = |_| media(MICRO, "micro", "John Doe");
    vec![
        (
            mapped_text(
                "meeting-created",
                json!({"meeting": {"internal-meeting-id": INT, "external-meeting-id": EXT,
                    "name": EXT, "is-breakout": false, "duration": 0, "create-time": CREATE_TIME,
                    "metadata": {"xapi-create-end-actor-name": "Ms. Smith"}}}),
                t(0),
            ),
            Some(statement(Says {
                actor: "Ms. Smith",
                verb: "http://adlnet.gov/expapi/verbs/initialized",
                object: meeting_object(),
                parent: false,
                planned: true,
                timestamp: "2023-10-31T16:52:37.700Z".into(),
                result: None,
            })),
        ),
        joined(1, JOHN, "John Doe"),
        joined(2, MARY, "Mary Sue"),
        (
            mapped_text("user-presenter-assigned", john(json!({})), t(3)),
            None,
        ),
        (
            mapped_text(
                "user-audio-voice-enabled",
                john(json!({"listening-only": false, "sharing-mic": true, "muted": false})),
                t(4),
            ),
            Some(johns(START, mic(4), 4, None)),
        ),
        (
            mapped_text(
                "user-audio-voice-enabled",
                user(
                    MARY,
                    json!({"listening-only": true, "sharing-mic": false, "muted": true}),
                ),
                t(5),
            ),
            None,
        ),
        (
            mapped_text("user-audio-muted", john(json!({"muted": true})), t(6)),
            Some(johns(STOPPED, mic(6), 6, None)),
        ),
        (
            mapped_text("user-audio-unmuted", john(json!({"muted": false})), t(7)),
            Some(johns(START, mic(7), 7, None)),
        ),
        (
            mapped_text(
                "user-audio-voice-disabled",
                john(json!({"listening-only": false, "sharing-mic": false, "muted": true})),
                t(8),
            ),
            Some(johns(STOPPED, mic(8), 8, None)),
        ),
        (
            mapped_text(
                "user-cam-broadcast-start",
                john(json!({"stream": "s1"})),
                t(9),
            ),
            Some(johns(START, media(CAMERA, "camera", "John Doe"), 9, None)),
        ),
        (
            mapped_text(
                "user-cam-broadcast-end",
                john(json!({"stream": "s1"})),
                t(10),
            ),
            Some(johns(
                STOPPED,
                media(CAMERA, "camera", "John Doe"),
                10,
                None,
            )),
        ),
        (
            mapped_text("meeting-screenshare-started", john(json!({})), t(11)),
            Some(johns(
                "http://activitystrea.ms/share",
                media(SCREEN, "screen", "John Doe"),
                11,
                None,
            )),
        ),
        (
            mapped_text("meeting-screenshare-stopped", john(json!({})), t(12)),
            Some(johns(
                "http://activitystrea.ms/unshare",
                media(SCREEN, "screen", "John Doe"),
                12,
                None,
            )),
        ),
        (
            mapped_text(
                "user-raise-hand-changed",
                john(json!({"raise-hand": true})),
                t(13),
            ),
            Some(statement(Says {
                actor: "John Doe",
                verb: "https://w3id.org/xapi/virtual-classroom/verbs/reacted",
                object: meeting_object(),
                parent: false,
                planned: false,
                timestamp: iso(t(13)),
                result: Some(hand.clone()),
            })),
        ),
        (
            mapped_text(
                "user-raise-hand-changed",
                john(json!({"raise-hand": false})),
                t(14),
            ),
            Some(statement(Says {
                actor: "John Doe",
                verb: "https://w3id.org/xapi/virtual-classroom/verbs/unreacted",
                object: meeting_object(),
                parent: false,
                planned: false,
                timestamp: iso(t(14)),
                result: Some(hand),
            })),
        ),
        (
            mapped_text(
                "chat-group-message-sent",
                json!({"meeting": meeting(), "chat-id": "MAIN-PUBLIC-GROUP-CHAT",
                    "chat-message": {"id": "1698771232706-9idm9pxf", "message": "Public chat test",
                    "sender": {"internal-user-id": JOHN, "name": "John Doe", "time": 1_698_771_232_706_u64}}}),
                t(15),
            ),
            Some(statement(Says {
                actor: "John Doe",
                verb: "https://w3id.org/xapi/acrossx/verbs/posted",
                object: json!({"id": activity(CHAT),
                    "definition": {"type": "https://w3id.org/xapi/acrossx/activities/message"}}),
                parent: true,
                planned: false,
                timestamp: "2023-10-31T16:53:52.706Z".into(),
                result: None,
            })),
        ),
        (
            mapped_text(
                "poll-started",
                json!({"meeting": meeting(), "user": {"internal-user-id": JOHN, "external-user-id": JOHN},
                    "poll": {"id": POLL, "question": "ABCD Poll Test", "answers": [
                        {"id": 0, "key": "A"}, {"id": 1, "key": "B"}, {"id": 2, "key": "C"}, {"id": 3, "key": "D"}]}}),
                t(16),
            ),
            Some(johns(
                "http://adlnet.gov/expapi/verbs/asked",
                poll_object(),
                16,
                None,
            )),
        ),
        (
            mapped_text(
                "poll-responded",
                json!({"meeting": meeting(), "user": {"internal-user-id": JOHN, "external-user-id": JOHN},
                    "poll": {"id": POLL, "answerIds": [0, 2]}}),
                t(17),
            ),
            Some(johns(
                "http://adlnet.gov/expapi/verbs/answered",
                poll_object(),
                17,
                Some(json!({"response": "0,2"})),
            )),
        ),
        (
            mapped_text("user-emoji-changed", john(json!({"emoji": "smile"})), t(18)),
            None,
        ),
        (
            mapped_text(
                "meeting-recording-started",
                json!({"meeting": meeting()}),
                t(19),
            ),
            None,
        ),
        (
            mapped_text("user-left", john(json!({})), t(20)),
            Some(statement(Says {
                actor: "John Doe",
                verb: "http://activitystrea.ms/leave",
                object: meeting_object(),
                parent: false,
                planned: false,
                timestamp: iso(t(20)),
                result: None,
            })),
        ),
        // Mary is still in: the mapping's user-left for her comes first
        // (checked apart: its time is the wall clock's).
        (
            mapped_text("meeting-ended", json!({"meeting": meeting()}), t(21)),
            Some(statement(Says {
                actor: "Ms. Smith",
                verb: "http://adlnet.gov/expapi/verbs/terminated",
                object: meeting_object(),
                parent: false,
                planned: true,
                timestamp: iso(t(21)),
                result: Some(json!({"duration": "PT9609995.986S"})),
            })),
        ),
    ]
}

#[test]
fn the_spec_s_identifiers_are_uuid5_of_their_names() {
    assert_eq!(uuid5(EXT), OBJECT);
    assert_eq!(uuid5(INT), SESSION);
    assert_eq!(uuid5(&format!("{EXT}_20231031")), REGISTRATION);
    assert_eq!(uuid5(&format!("{JOHN}_micro")), MICRO);
    assert_eq!(uuid5("undefined_1698771232706"), CHAT);
    assert_eq!(uuid5(POLL), POLL_OBJECT);
    assert_eq!(iso(1_708_381_151_711), "2024-02-19T22:19:11.711Z");
}

#[test]
fn a_meeting_gives_the_reference_s_statements_in_order() {
    let redis = Redis::start();
    let lrs = HttpReceiver::start();
    let svc = Service::launch(&redis)
        .xapi(Some(&lrs.url("/data/xAPI")))
        .env("TZ", "UTC")
        .start();
    let before = jiff::Timestamp::now();
    let fixture = fixture();
    for (event, _) in &fixture {
        redis.publish(AKKA_CHANNEL, event);
    }
    let mut sent = 0;
    for (event, expected) in &fixture {
        let Some(expected) = expected else { continue };
        let id = serde_json::from_str::<Value>(event).expect("json")["data"]["id"].clone();
        if id == "meeting-ended" {
            // Mary's synthetic user-left, at the wall clock, before the end.
            let left = next_statement(&lrs).statement();
            assert_eq!(left["verb"]["id"], "http://activitystrea.ms/leave");
            assert_eq!(left["actor"]["account"]["name"], "Mary Sue");
            let at: jiff::Timestamp = left["timestamp"]
                .as_str()
                .expect("ts")
                .parse()
                .expect("iso");
            assert!(before <= at && at <= jiff::Timestamp::now(), "{at}");
            sent += 1;
        }
        let r = next_statement(&lrs);
        assert_eq!(
            r.target, "/xAPI/statements",
            "/data lost, as the reference does"
        );
        assert_eq!(
            r.header("authorization"),
            Some("Basic dW5kZWZpbmVkOnVuZGVmaW5lZA==")
        );
        assert_eq!(r.body, expected.to_string(), "the statement of {id}");
        sent += 1;
    }
    assert_eq!(sent, 19);
    svc.wait_metric("bbb_webhooks_xapi_statements_total", 19);
    let delivered = wait_for("the LRS's delivered count", || {
        let (_, text) = svc.get(&svc.metrics_url());
        text.lines()
            .find(|l| l.starts_with("bbb_webhooks_xapi_statements_delivered_total{lrs=\""))
            .filter(|l| l.ends_with(" 19"))
            .map(str::to_owned)
    });
    assert!(
        !delivered.contains("127.0.0.1"),
        "an id, not the URL: {delivered}"
    );
    assert_eq!(
        svc.metric("bbb_webhooks_xapi_skipped_total{reason=\"ignored\"}"),
        3
    );
    assert_eq!(
        svc.metric("bbb_webhooks_xapi_skipped_total{reason=\"mic_not_live\"}"),
        1
    );
    lrs.assert_quiet(std::time::Duration::from_millis(200));
}

/// `meeting-created` of meeting `name` (internal id `int-<name>`), with
/// `metadata`.
fn created(name: &str, metadata: Value) -> String {
    mapped_text(
        "meeting-created",
        json!({"meeting": {"internal-meeting-id": format!("int-{name}"), "external-meeting-id": name,
            "name": name, "duration": 0, "create-time": CREATE_TIME, "metadata": metadata}}),
        T0,
    )
}

/// `user-joined` of `who` in meeting `name`.
fn joins(name: &str, who: &str) -> String {
    mapped_text(
        "user-joined",
        json!({"meeting": {"internal-meeting-id": format!("int-{name}"), "external-meeting-id": name},
            "user": {"internal-user-id": who, "external-user-id": who, "name": who}}),
        T0 + 1,
    )
}

/// Every statement's meeting activity, and its actor, in arrival order.
fn next_n(lrs: &HttpReceiver, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|_| {
            let s = next_statement(lrs).statement();
            let object = match s.pointer("/context/contextActivities/parent/0/id") {
                Some(parent) => parent.clone(),
                None => s["object"]["id"].clone(),
            };
            let actor = s["actor"]["account"]["name"].as_str().expect("actor");
            (object.as_str().expect("id").to_owned(), actor.to_owned())
        })
        .collect()
}

#[test]
fn only_xapi_enabled_false_turns_a_meeting_off() {
    let redis = Redis::start();
    let lrs = HttpReceiver::start();
    let _svc = Service::launch(&redis).xapi(Some(&lrs.url("/"))).start();
    let variants = [
        ("off", json!({"xapi-enabled": "false"})),
        ("upper", json!({"xapi-enabled": "FALSE"})),
        ("empty", json!({"xapi-enabled": ""})),
        ("boolean", json!({"xapi-enabled": false})),
        ("named", json!({"xapi-create-end-actor-name": "Host"})),
        ("unnamed", json!({"xapi-create-end-actor-name": ""})),
        ("none", Value::Null),
    ];
    for (name, metadata) in &variants {
        redis.publish(AKKA_CHANNEL, &created(name, metadata.clone()));
        redis.publish(AKKA_CHANNEL, &joins(name, "ann"));
    }
    // One queue, in publishing order: the "off" meeting's would come first.
    let got = next_n(&lrs, 2 * (variants.len() - 1));
    let mut want = Vec::new();
    for (name, _) in &variants[1..] {
        let actor = match *name {
            "named" => "Host",
            _ => "<unknown>",
        };
        want.push((activity(&uuid5(name)), actor.to_owned()));
        want.push((activity(&uuid5(name)), "ann".to_owned()));
    }
    assert_eq!(got, want);
}

#[test]
fn events_xapi_does_not_report_give_nothing() {
    let redis = Redis::start();
    let lrs = HttpReceiver::start();
    let svc = Service::launch(&redis).xapi(Some(&lrs.url("/"))).start();
    redis.publish(AKKA_CHANNEL, &created("m", json!({})));
    let m = json!({"internal-meeting-id": "int-m", "external-meeting-id": "m"});
    let u = json!({"internal-user-id": "ann", "external-user-id": "ann"});
    let ignored = [
        "user-presenter-assigned",
        "user-presenter-unassigned",
        "user-emoji-changed",
        "user-audio-listen-only-enabled",
        "meeting-recording-started",
        "meeting-recording-stopped",
        "rap-archive-started",
        "rap-publish-ended",
        "chat-private-message-sent",
        "pad-content",
    ];
    for id in ignored {
        redis.publish(
            AKKA_CHANNEL,
            &mapped_text(id, json!({"meeting": m, "user": u}), T0),
        );
    }
    redis.publish(AKKA_CHANNEL, &joins("m", "ann"));
    let got = next_n(&lrs, 2);
    let actors: Vec<&str> = got.iter().map(|(_, a)| a.as_str()).collect();
    assert_eq!(actors, ["<unknown>", "ann"], "created, then the join");
    svc.wait_metric(
        "bbb_webhooks_xapi_skipped_total{reason=\"ignored\"}",
        ignored.len() as u64,
    );
}

#[test]
fn waiting_statements_show_in_metrics_and_check_not_in_hooks_list() {
    let redis = Redis::start();
    let lrs = HttpReceiver::start();
    lrs.answer_always(Answer::status(503));
    let hook_rx = HttpReceiver::start();
    let lrs_url = format!("http://127.0.0.1:{}/lrs/", lrs.port);
    let svc = Service::launch(&redis)
        .xapi(Some(&lrs_url))
        .env("BBB_WEBHOOKS_XAPI_LRS_USERNAME", "lrs-user")
        .env("BBB_WEBHOOKS_XAPI_LRS_PASSWORD", "lrs-pa55word")
        .start();
    let hook = svc.create_hook(&format!("callbackURL={}", enc(&hook_rx.url("/cb"))));
    redis.publish(AKKA_CHANNEL, &created("m", json!({})));
    redis.publish(AKKA_CHANNEL, &joins("m", "ann"));
    let first = next_statement(&lrs);
    assert_eq!(first.target, "/lrs/xAPI/statements");
    // Basic base64("lrs-user:lrs-pa55word").
    assert_eq!(
        first.header("authorization"),
        Some("Basic bHJzLXVzZXI6bHJzLXBhNTV3b3Jk")
    );
    hook_rx.next();
    hook_rx.next();
    let queues = wait_for("the LRS queue to hold both statements", || {
        let q = xapi_queues(&redis);
        (q.len() == 1 && q[0].1 == 2).then_some(q)
    });
    let id = &queues[0].0;
    svc.wait_metric(
        &format!("bbb_webhooks_xapi_pending_statements{{lrs=\"{id}\"}}"),
        2,
    );
    svc.wait_metric_at_least(
        &format!("bbb_webhooks_xapi_statement_attempts_failed_total{{lrs=\"{id}\"}}"),
        2,
    );
    let (_, metrics) = svc.get(&svc.metrics_url());
    assert!(!metrics.contains("hook=\"lrs:"), "{metrics}");
    assert_eq!(svc.metric("bbb_webhooks_hooks_failing"), 0);
    let list = svc.call("hooks/list", "");
    assert_eq!(list.matches("<hook>").count(), 1, "{list}");
    assert!(
        list.contains(&hook) && !list.contains("lrs") && !list.contains("<pending>"),
        "{list}"
    );

    let out = run_within(&svc.env(), &["check"], WAIT);
    let text = stdout(&out);
    for line in [
        &format!(
            "ok    xapi: on; statements go to {lrs_url}xAPI/statements with Basic authentication"
        ),
        &format!("ok    xapi: 2 statements wait for LRS {id} ({lrs_url}xAPI/statements)"),
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(line)),
            "{line:?} in {text}"
        );
    }
    assert!(
        !text.contains("pa55word") && !stderr(&out).contains("pa55word"),
        "{text}"
    );
    assert!(!text.contains("bHJzLXVzZXI6"), "{text}");
}
