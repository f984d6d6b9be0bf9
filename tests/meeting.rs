//! A whole meeting's life published as raw BBB messages on a real Redis:
//! what a hook receives, in order, including across a restart of the service
//! in the middle of the meeting.

mod support;

use serde_json::Value;
use support::*;

const MEETING: &str = "f00dcafe0123456789abcdef0123456789abcdef-1700000000000";

fn publish_fixture(redis: &Redis, text: &str) {
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let name = serde_json::from_str::<Value>(line).expect("fixture is JSON")["envelope"]
            ["name"]
            .as_str()
            .expect("envelope name")
            .to_owned();
        let channel = if name.starts_with("GroupChat") {
            "from-akka-apps-chat-redis-channel"
        } else {
            "from-akka-apps-redis-channel"
        };
        redis.publish(channel, line);
    }
}

/// The meeting and user mappings come back from Redis after the restart.
#[test]
fn a_hook_gets_a_whole_meeting_in_order_across_a_service_restart() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[]);
    let url = enc(&rx.url("/lms"));
    // A meeting hook by external ID, created before the meeting exists.
    let hook = svc.create_hook(&format!("callbackURL={url}&meetingID=course-101"));

    publish_fixture(&redis, include_str!("fixtures/meeting-part1.jsonl"));
    let created = rx.next_event();
    assert_eq!(created["data"]["id"], "meeting-created");
    let meeting = &created["data"]["attributes"]["meeting"];
    assert_eq!(meeting["internal-meeting-id"], MEETING);
    assert_eq!(meeting["external-meeting-id"], "course-101");
    assert_eq!(meeting["name"], "Física <b>101</b>");
    assert_eq!(meeting["metadata"]["bbb-context"], "lms");

    // Alice joins through a server that sends the join request's metadata
    // at the top level, Bob through one that sends `joinRequestMetadata`.
    let alice = rx.next_event();
    assert_eq!(alice["data"]["id"], "user-joined");
    let user = &alice["data"]["attributes"]["user"];
    assert_eq!(user["external-user-id"], "lms-user-1");
    assert_eq!(user["ip-address"], "192.0.2.10");
    assert_eq!(
        user["session-token"],
        serde_json::json!(["alice-session-1"])
    );
    let bob = rx.next_event();
    let user = &bob["data"]["attributes"]["user"];
    assert_eq!(user["name"], "Bob \"B\" ✓");
    assert_eq!(user["ip-address"], "2001:db8:42::17");
    assert_eq!(
        user["user-agent"],
        "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
    );
    assert_eq!(user["referer"], "https://lms.example/course/101?tab=live");
    assert_eq!(user["session-token"], serde_json::json!(["bob-session-1"]));
    let presenter = rx.next_event();
    assert_eq!(presenter["data"]["id"], "user-presenter-assigned");
    assert_eq!(
        presenter["data"]["attributes"]["user"]["external-user-id"],
        "lms-user-1"
    );
    let chat = rx.next_event();
    assert_eq!(chat["data"]["id"], "chat-group-message-sent");
    assert_eq!(
        chat["data"]["attributes"]["chat-message"]["message"],
        "hello <everyone> & welcome"
    );
    // The private chat is not delivered: next is Alice leaving.
    let left = rx.next_event();
    assert_eq!(left["data"]["id"], "user-left");
    assert_eq!(
        left["data"]["attributes"]["user"]["internal-user-id"],
        "w_alice"
    );
    assert_eq!(
        left["data"]["attributes"]["meeting"]["external-meeting-id"],
        "course-101"
    );

    // Restart in the middle of the meeting: the mappings come back from Redis.
    // (Once the last delivery is acknowledged, so that it is not sent again.)
    wait_journal_len(&redis, &hook, 0);
    svc.kill();
    let _svc = Service::start(&redis, &[]);
    publish_fixture(&redis, include_str!("fixtures/meeting-part2.jsonl"));
    let chat = rx.next_event();
    assert_eq!(chat["data"]["id"], "chat-group-message-sent");
    assert_eq!(
        chat["data"]["attributes"]["meeting"]["external-meeting-id"],
        "course-101"
    );
    assert_eq!(
        chat["data"]["attributes"]["chat-message"]["sender"]["external-user-id"],
        "lms-user-2"
    );
    // Bob never left: he gets a user-left before the meeting ends, with
    // what his join said, kept in Redis across the restart.
    let left = rx.next_event();
    assert_eq!(left["data"]["id"], "user-left");
    let user = &left["data"]["attributes"]["user"];
    assert_eq!(user["external-user-id"], "lms-user-2");
    assert_eq!(user["ip-address"], "2001:db8:42::17");
    assert_eq!(
        user["user-agent"],
        "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
    );
    assert_eq!(user["referer"], "https://lms.example/course/101?tab=live");
    // A list stays a list after the restart (Redis keeps it as text).
    assert_eq!(user["session-token"], serde_json::json!(["bob-session-1"]));
    let ended = rx.next_event();
    assert_eq!(ended["data"]["id"], "meeting-ended");
    assert_eq!(
        ended["data"]["attributes"]["meeting"]["external-meeting-id"],
        "course-101"
    );
    rx.assert_quiet(std::time::Duration::from_millis(300));
}

#[test]
fn server_wide_exclusions_apply_to_mapped_and_raw_hooks() {
    let redis = Redis::start();
    let mapped = HttpReceiver::start();
    let raw = HttpReceiver::start();
    let svc = Service::start(
        &redis,
        &[(
            "BBB_WEBHOOKS_EXCLUDE_EVENTS",
            "user-presenter-assigned,chat-group-message-sent",
        )],
    );
    svc.create_hook(&format!("callbackURL={}", enc(&mapped.url("/m"))));
    svc.create_hook(&format!("callbackURL={}&getRaw=true", enc(&raw.url("/r"))));
    publish_fixture(&redis, include_str!("fixtures/meeting-part1.jsonl"));
    let ids: Vec<String> = (0..4)
        .map(|_| {
            mapped.next_event()["data"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        ids,
        ["meeting-created", "user-joined", "user-joined", "user-left"]
    );
    let names: Vec<String> = (0..4)
        .map(|_| {
            raw.next_event()["envelope"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "MeetingCreatedEvtMsg",
            "UserJoinedMeetingEvtMsg",
            "UserJoinedMeetingEvtMsg",
            "UserLeftMeetingEvtMsg"
        ]
    );
    mapped.assert_quiet(std::time::Duration::from_millis(300));
    raw.assert_quiet(std::time::Duration::from_millis(100));
}
