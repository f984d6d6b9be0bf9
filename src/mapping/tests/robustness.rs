//! Pass-through, unknown messages, wrong types and huge values.

use serde_json::json;

use super::*;

#[test]
fn mapped_and_draft_messages_pass_through() {
    let mapped = ev(
        "user-joined",
        json!({"meeting": {"internal-meeting-id": "int-9", "external-meeting-id": "ext-9"},
                                          "user": {"internal-user-id": "u", "external-user-id": "e"}}),
    );
    let mut s = State::default();
    let out = run(&mut s, &mapped);
    assert_eq!(jsons(&out), vec![mapped]);
    assert_eq!(out.events[0].external_meeting_id.as_deref(), Some("ext-9"));
    assert_eq!(s.user("int-9", "u").map(|u| u.external.as_str()), Some("e"));

    let draft = json!({"data": "hola ola", "meetingID": MID, "event": "TestEvent"});
    let out = map(&draft, &state(), NOW);
    assert_eq!(jsons(&out), vec![draft]);
    assert_eq!(out.events[0].id, "TestEvent");
    assert_eq!(out.events[0].external_meeting_id.as_deref(), Some("ext-1"));
    assert!(out.changes.is_empty());
}

#[test]
fn other_messages_yield_nothing() {
    let cases = [
        json!(null),
        json!([1, 2]),
        json!("MeetingCreatedEvtMsg"),
        json!({"envelope": {"name": "SomethingElseEvtMsg"}}),
        json!({"envelope": {"name": 42}}),
        json!({"data": {"id": 42}}),
        json!({"header": {"name": ["archive_started"]}}),
    ];
    for msg in cases {
        let out = map(&msg, &state(), NOW);
        assert_eq!(out, Output::default(), "{msg}");
    }
}

#[test]
fn wrong_types_and_huge_values_never_panic() {
    let huge = "x".repeat(2_000_000);
    let names = [
        "MeetingCreatedEvtMsg",
        "MeetingDestroyedEvtMsg",
        "RecordingStatusChangedEvtMsg",
        "SetCurrentPresentationEvtMsg",
        "ScreenshareRtmpBroadcastStartedEvtMsg",
        "ScreenshareRtmpBroadcastStoppedEvtMsg",
        "UserJoinedMeetingEvtMsg",
        "UserLeftMeetingEvtMsg",
        "UserJoinedVoiceConfToClientEvtMsg",
        "UserLeftVoiceConfToClientEvtMsg",
        "UserMutedVoiceEvtMsg",
        "UserBroadcastCamStartedEvtMsg",
        "UserBroadcastCamStoppedEvtMsg",
        "PresenterAssignedEvtMsg",
        "PresenterUnassignedEvtMsg",
        "UserEmojiChangedEvtMsg",
        "UserReactionEmojiChangedEvtMsg",
        "UserRaiseHandChangedEvtMsg",
        "GroupChatMessageBroadcastEvtMsg",
        "PadContentEvtMsg",
        "PollStartedEvtMsg",
        "UserRespondedToPollRespMsg",
        "TranscriptUpdatedEvtMsg",
        "PublishedRecordingSysMsg",
        "archive_ended",
        "publish_ended",
        "post_events_ended",
        "archive_norecord",
        "published",
    ];
    let bodies = [
        json!(null),
        json!(7),
        json!({"props": 1, "msg": "x", "poll": [], "meetingId": {"a": 1}, "userId": 5,
               "joinRequestMetadata": [1, {"ipAddress": 2}], "sessionToken": {"a": []}}),
        json!({"joinRequestMetadata": {"ipAddress": {"deep": [huge.clone()]}, "userAgent": 7}}),
        json!({"chatId": "MAIN-PUBLIC-GROUP-CHAT", "msg": {"message": huge, "sender": []}}),
    ];
    for name in names {
        for body in &bodies {
            let shapes = [
                json!({"envelope": {"name": name, "routing": 3}, "core": {"header": [], "body": body}}),
                json!({"envelope": {"name": name}, "core": body}),
                json!({"header": {"name": name, "current_time": "x"}, "payload": body}),
                json!({"envelope": {"name": name, "routing": {"meetingId": 12}}, "core": {"header": {"userId": true}, "body": body}}),
            ];
            for msg in shapes {
                let mut s = state();
                let out = run(&mut s, &msg);
                assert!(out.events.len() <= 3, "{name}");
            }
        }
    }
    // A very long public chat message arrives whole.
    let long = "é".repeat(100_000);
    let msg = akka(
        "GroupChatMessageBroadcastEvtMsg",
        "w_mod",
        json!({"chatId": "MAIN-PUBLIC-GROUP-CHAT", "msg": {"message": long}}),
    );
    let out = map(&msg, &state(), NOW);
    let got = out.events[0]
        .json
        .pointer("/data/attributes/chat-message/message");
    assert_eq!(got.and_then(Value::as_str).map(str::len), Some(200_000));
}
