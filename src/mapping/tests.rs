//! Table-driven tests of [`super::map`]: one or more cases per event id, the
//! derived events, state changes and edge cases. Whole JSON values compared.

use serde_json::{json, Value};

use super::{map, Change, Output, State};

const NOW: u64 = 1_700_000_000_000;
const MID: &str = "int-1";

/// An akka-apps message as BBB publishes it.
fn akka(name: &str, user: &str, body: Value) -> Value {
    json!({
        "envelope": {
            "name": name,
            "routing": {"msgType": "BROADCAST_TO_MEETING", "meetingId": MID, "userId": user},
            "timestamp": 1
        },
        "core": {"header": {"name": name, "meetingId": MID, "userId": user}, "body": body}
    })
}

/// The expected event around `attributes`.
fn ev(id: &str, attributes: Value) -> Value {
    json!({"data": {"type": "event", "id": id, "attributes": attributes, "event": {"ts": NOW}}})
}

fn meeting() -> Value {
    json!({"internal-meeting-id": MID, "external-meeting-id": "ext-1"})
}

fn created_msg(int: &str, ext: &str, parent: &str) -> Value {
    json!({
        "envelope": {"name": "MeetingCreatedEvtMsg", "routing": {"sender": "bbb-apps-akka"}, "timestamp": 1},
        "core": {"header": {"name": "MeetingCreatedEvtMsg"}, "body": {"props": {
            "meetingProp": {"name": "Room <b>1</b>", "extId": ext, "intId": int, "isBreakout": parent != "bbb-none"},
            "breakoutProps": {"parentId": parent, "sequence": 0},
            "durationProps": {"duration": 0, "createdTime": 1698771157700_u64, "createdDate": "Tue Oct 31 13:52:37 BRT 2023"},
            "password": {"moderatorPass": "mp", "viewerPass": "ap"},
            "recordProp": {"record": false},
            "voiceProp": {"voiceConf": "71347", "dialNumber": "613-555-1234"},
            "usersProp": {"maxUsers": 0},
            "metadataProp": {"metadata": {"bbb-origin": "Greenlight"}}
        }}}
    })
}

fn run(state: &mut State, msg: &Value) -> Output {
    let out = map(msg, state, NOW);
    for c in &out.changes {
        state.apply(c);
    }
    out
}

fn jsons(out: &Output) -> Vec<Value> {
    out.events.iter().map(|e| e.json.clone()).collect()
}

/// Meeting `int-1`/`ext-1` with a presenter moderator and a guest viewer.
fn state() -> State {
    let mut s = State::default();
    run(&mut s, &created_msg(MID, "ext-1", "bbb-none"));
    let join = |id: &str, ext: &str, name: &str, role: &str, guest: bool| {
        akka(
            "UserJoinedMeetingEvtMsg",
            id,
            json!({"intId": id, "extId": ext, "name": name, "role": role, "guest": guest, "presenter": false}),
        )
    };
    run(
        &mut s,
        &join("w_mod", "ext-mod", "John", "MODERATOR", false),
    );
    run(&mut s, &join("w_view", "ext-view", "Mary", "VIEWER", true));
    run(
        &mut s,
        &akka(
            "PresenterAssignedEvtMsg",
            "w_mod",
            json!({"presenterId": "w_mod"}),
        ),
    );
    s
}

fn user(id: &str, ext: &str, extra: Value) -> Value {
    let mut u = json!({"internal-user-id": id, "external-user-id": ext});
    if let (Some(u), Some(extra)) = (u.as_object_mut(), extra.as_object()) {
        u.extend(extra.clone());
    }
    u
}

#[test]
fn each_message_maps_to_the_reference_event() {
    let m = meeting();
    let cases: Vec<(&str, Value, Vec<Value>)> = vec![
        (
            "recording started",
            akka(
                "RecordingStatusChangedEvtMsg",
                "w_mod",
                json!({"recording": true, "setBy": "w_mod"}),
            ),
            vec![ev("meeting-recording-started", json!({"meeting": m}))],
        ),
        (
            "recording stopped",
            akka(
                "RecordingStatusChangedEvtMsg",
                "w_mod",
                json!({"recording": false}),
            ),
            vec![ev("meeting-recording-stopped", json!({"meeting": m}))],
        ),
        (
            "recording status not a boolean",
            akka(
                "RecordingStatusChangedEvtMsg",
                "w_mod",
                json!({"recording": "true"}),
            ),
            vec![ev("meeting-recording-unhandled", json!({"meeting": m}))],
        ),
        (
            "presentation changed",
            akka(
                "SetCurrentPresentationEvtMsg",
                "not-used",
                json!({"podId": "DEFAULT", "presentationId": "p-1"}),
            ),
            vec![ev(
                "meeting-presentation-changed",
                json!({"meeting": {
                "internal-meeting-id": MID, "external-meeting-id": "ext-1", "presentation-id": "p-1"}}),
            )],
        ),
        (
            "screenshare started by the presenter (BBB < 3.0.11)",
            akka(
                "ScreenshareRtmpBroadcastStartedEvtMsg",
                "not-used",
                json!({"stream": "s"}),
            ),
            vec![ev(
                "meeting-screenshare-started",
                json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({}))}),
            )],
        ),
        (
            "screenshare started by a named user",
            akka(
                "ScreenshareRtmpBroadcastStartedEvtMsg",
                "w_view",
                json!({"stream": "s"}),
            ),
            vec![ev(
                "meeting-screenshare-started",
                json!({"meeting": m, "user": user("w_view", "ext-view", json!({}))}),
            )],
        ),
        (
            "screenshare stopped with nobody sharing",
            akka(
                "ScreenshareRtmpBroadcastStoppedEvtMsg",
                "not-used",
                json!({}),
            ),
            vec![ev("meeting-screenshare-stopped", json!({"meeting": m}))],
        ),
        (
            "user joined with every optional field",
            akka(
                "UserJoinedMeetingEvtMsg",
                "w_new",
                json!({
                "intId": "w_new", "extId": "ext-new", "name": "Zoë <script>alert(1)</script> 李", "role": "VIEWER",
                "guest": "true", "presenter": false, "ipAddress": "10.0.0.1", "userAgent": "UA/1.0",
                "referer": "https://lms.example/", "sessionToken": "tok", "userMetadata": {"bbb_x": "1"},
                "emoji": "none", "avatar": ""}),
            ),
            vec![ev(
                "user-joined",
                json!({"meeting": m, "user": user("w_new", "ext-new", json!({
                "name": "Zoë <script>alert(1)</script> 李", "role": "VIEWER", "presenter": false, "guest": true,
                "ip-address": "10.0.0.1", "user-agent": "UA/1.0", "referer": "https://lms.example/",
                "session-token": "tok", "userdata": {"bbb_x": "1"}}))}),
            )],
        ),
        (
            "user joined with only ids (no extId, no guest)",
            akka("UserJoinedMeetingEvtMsg", "w_min", json!({"name": null})),
            vec![ev(
                "user-joined",
                json!({"meeting": m, "user": user("w_min", "", json!({"name": null, "guest": false}))}),
            )],
        ),
        (
            "user left: guest remembered from the join",
            akka(
                "UserLeftMeetingEvtMsg",
                "w_view",
                json!({"intId": "w_view", "eject": false}),
            ),
            vec![ev(
                "user-left",
                json!({"meeting": m, "user": user("w_view", "ext-view", json!({"guest": true}))}),
            )],
        ),
        (
            "voice enabled, listening only",
            akka(
                "UserJoinedVoiceConfToClientEvtMsg",
                "w_view",
                json!({"intId": "w_view", "callerName": "Mary", "muted": true, "listenOnly": true}),
            ),
            vec![ev(
                "user-audio-voice-enabled",
                json!({"meeting": m, "user": user("w_view", "ext-view", json!({
                "listening-only": true, "sharing-mic": false, "muted": true}))}),
            )],
        ),
        (
            "voice enabled with a microphone",
            akka(
                "UserJoinedVoiceConfToClientEvtMsg",
                "w_mod",
                json!({"muted": false, "listenOnly": false}),
            ),
            vec![ev(
                "user-audio-voice-enabled",
                json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({
                "listening-only": false, "sharing-mic": true, "muted": false}))}),
            )],
        ),
        (
            "voice disabled",
            akka(
                "UserLeftVoiceConfToClientEvtMsg",
                "w_mod",
                json!({"voiceConf": "71347"}),
            ),
            vec![ev(
                "user-audio-voice-disabled",
                json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({
                "listening-only": false, "sharing-mic": false, "muted": true}))}),
            )],
        ),
        (
            "muted",
            akka("UserMutedVoiceEvtMsg", "w_mod", json!({"muted": true})),
            vec![ev(
                "user-audio-muted",
                json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({"muted": true}))}),
            )],
        ),
        (
            "unmuted",
            akka("UserMutedVoiceEvtMsg", "w_mod", json!({"muted": false})),
            vec![ev(
                "user-audio-unmuted",
                json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({"muted": false}))}),
            )],
        ),
        (
            "mute state missing",
            akka("UserMutedVoiceEvtMsg", "w_mod", json!({})),
            vec![ev(
                "user-audio-unhandled",
                json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({}))}),
            )],
        ),
        (
            "camera started",
            akka(
                "UserBroadcastCamStartedEvtMsg",
                "w_mod",
                json!({"userId": "w_mod", "stream": "cam-1"}),
            ),
            vec![ev(
                "user-cam-broadcast-start",
                json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({"stream": "cam-1"}))}),
            )],
        ),
        (
            "camera stopped",
            akka(
                "UserBroadcastCamStoppedEvtMsg",
                "w_mod",
                json!({"userId": "w_mod", "stream": "cam-1"}),
            ),
            vec![ev(
                "user-cam-broadcast-end",
                json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({"stream": "cam-1"}))}),
            )],
        ),
        (
            "presenter assigned",
            akka(
                "PresenterAssignedEvtMsg",
                "w_view",
                json!({"presenterId": "w_view", "presenterName": "Mary", "assignedBy": "w_mod"}),
            ),
            vec![ev(
                "user-presenter-assigned",
                json!({"meeting": m, "user": user("w_view", "ext-view", json!({}))}),
            )],
        ),
        (
            "presenter unassigned",
            akka(
                "PresenterUnassignedEvtMsg",
                "w_mod",
                json!({"intId": "w_mod", "name": "John", "assignedBy": "w_mod"}),
            ),
            vec![ev(
                "user-presenter-unassigned",
                json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({"name": "John"}))}),
            )],
        ),
        (
            "reaction emoji (BBB 2.7+)",
            akka(
                "UserReactionEmojiChangedEvtMsg",
                "w_mod",
                json!({"userId": "w_mod", "reactionEmoji": "🙁"}),
            ),
            vec![ev(
                "user-emoji-changed",
                json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({"emoji": "🙁"}))}),
            )],
        ),
        (
            "emoji status cleared",
            akka(
                "UserEmojiChangedEvtMsg",
                "w_mod",
                json!({"userId": "w_mod", "emoji": ""}),
            ),
            vec![ev(
                "user-emoji-changed",
                json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({"emoji": "none"}))}),
            )],
        ),
        (
            "hand raised (BBB 2.7+)",
            akka(
                "UserRaiseHandChangedEvtMsg",
                "w_view",
                json!({"userId": "w_view", "raiseHand": true}),
            ),
            vec![ev(
                "user-raise-hand-changed",
                json!({"meeting": m, "user": user("w_view", "ext-view", json!({"raise-hand": true}))}),
            )],
        ),
        (
            "public chat",
            akka(
                "GroupChatMessageBroadcastEvtMsg",
                "w_mod",
                json!({"chatId": "MAIN-PUBLIC-GROUP-CHAT", "msg": {
                "id": "c-1", "timestamp": 1698771232706_u64, "sender": {"id": "w_mod", "name": "John", "role": "MODERATOR"},
                "message": "<a href=\"x\">hi</a> & ünïcödé 🎉"}}),
            ),
            vec![ev(
                "chat-group-message-sent",
                json!({"meeting": m, "chat-id": "MAIN-PUBLIC-GROUP-CHAT", "chat-message": {
                "id": "c-1", "message": "<a href=\"x\">hi</a> & ünïcödé 🎉",
                "sender": {"internal-user-id": "w_mod", "external-user-id": "ext-mod", "name": "John", "time": 1698771232706_u64}}}),
            )],
        ),
        (
            "private chat is not reported",
            akka(
                "GroupChatMessageBroadcastEvtMsg",
                "w_mod",
                json!({"chatId": "1234-private", "msg": {"id": "c-2", "message": "secret"}}),
            ),
            vec![],
        ),
        (
            "shared notes",
            akka(
                "PadContentEvtMsg",
                "not-used",
                json!({"groupId": "g", "padId": "pad-1", "externalId": "notes", "rev": 3, "start": 0, "end": 5, "text": "hello"}),
            ),
            vec![ev(
                "pad-content",
                json!({"meeting": m, "pad": {"id": "pad-1", "external-pad-id": "notes", "rev": 3, "start": 0, "end": 5, "text": "hello"}}),
            )],
        ),
        (
            "poll started",
            akka(
                "PollStartedEvtMsg",
                "w_mod",
                json!({"userId": "w_mod", "pollId": "poll-1", "pollType": "A-2", "question": "Q?",
                "poll": {"id": "poll-1", "answers": [{"id": 0, "key": "A"}, {"id": 1, "key": "B"}]}}),
            ),
            vec![ev(
                "poll-started",
                json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({})),
                "poll": {"id": "poll-1", "question": "Q?", "answers": [{"id": 0, "key": "A"}, {"id": 1, "key": "B"}]}}),
            )],
        ),
        (
            "poll answered: the responder, not the presenter it is sent to",
            akka(
                "UserRespondedToPollRespMsg",
                "w_mod",
                json!({"pollId": "poll-1", "userId": "w_view", "answerIds": [1]}),
            ),
            vec![ev(
                "poll-responded",
                json!({"meeting": m, "user": user("w_view", "ext-view", json!({})),
                "poll": {"id": "poll-1", "answerIds": [1]}}),
            )],
        ),
        (
            "transcript",
            akka(
                "TranscriptUpdatedEvtMsg",
                "w_mod",
                json!({"transcriptId": "t-1", "transcript": "hello", "locale": "en-US", "result": true}),
            ),
            vec![ev(
                "transcript-updated",
                json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({})),
                "transcript": {"id": "t-1", "transcript": "hello", "locale": "en-US", "final": true}}),
            )],
        ),
        (
            "recording published by bbb-web",
            json!({"envelope": {"name": "PublishedRecordingSysMsg", "routing": {"sender": "bbb-web"}},
                   "core": {"header": {"name": "PublishedRecordingSysMsg"}, "body": {"recordId": MID}}}),
            vec![ev("rap-published", json!({"meeting": m, "record-id": MID}))],
        ),
        (
            "recording deleted by bbb-web, meeting long gone",
            json!({"envelope": {"name": "DeletedRecordingSysMsg", "routing": {"sender": "bbb-web"}},
                   "core": {"header": {"name": "DeletedRecordingSysMsg"}, "body": {"recordId": "old-1"}}}),
            vec![ev(
                "rap-deleted",
                json!({"meeting": {"internal-meeting-id": "old-1"}, "record-id": "old-1"}),
            )],
        ),
        (
            "message of an unknown meeting: no external ID",
            json!({"envelope": {"name": "UserMutedVoiceEvtMsg", "routing": {"meetingId": "nope"}},
                   "core": {"header": {"name": "UserMutedVoiceEvtMsg", "meetingId": "nope", "userId": "w_x"}, "body": {"muted": true}}}),
            vec![ev(
                "user-audio-muted",
                json!({"meeting": {"internal-meeting-id": "nope"}, "user": user("w_x", "", json!({"muted": true}))}),
            )],
        ),
    ];
    for (label, msg, want) in cases {
        let out = map(&msg, &state(), NOW);
        assert_eq!(jsons(&out), want, "{label}");
        for e in &out.events {
            let id = e.json.pointer("/data/id").and_then(Value::as_str);
            assert_eq!(Some(e.id.as_str()), id, "{label}");
        }
    }
}

#[test]
fn meeting_created_maps_properties_and_remembers_the_meeting() {
    let mut s = State::default();
    let out = run(&mut s, &created_msg("int-2", "ext-2", "int-1"));
    let want = ev(
        "meeting-created",
        json!({"meeting": {
            "internal-meeting-id": "int-2", "external-meeting-id": "ext-2", "name": "Room <b>1</b>",
            "is-breakout": true, "parent-id": "int-1", "duration": 0, "create-time": 1698771157700_u64,
            "create-date": "Tue Oct 31 13:52:37 BRT 2023", "moderator-pass": "mp", "viewer-pass": "ap",
            "record": false, "voice-conf": "71347", "dial-number": "613-555-1234", "max-users": 0,
            "metadata": {"bbb-origin": "Greenlight"}}}),
    );
    assert_eq!(jsons(&out), vec![want]);
    assert_eq!(out.events[0].internal_meeting_id.as_deref(), Some("int-2"));
    assert_eq!(out.events[0].external_meeting_id.as_deref(), Some("ext-2"));
    assert_eq!(s.external_meeting_id("int-2"), Some("ext-2"));
    assert_eq!(s.meeting_count(), 1);
}

#[test]
fn meeting_end_sends_user_left_for_remaining_users_first() {
    let mut s = state();
    run(
        &mut s,
        &akka(
            "ScreenshareRtmpBroadcastStartedEvtMsg",
            "not-used",
            json!({}),
        ),
    );
    let end = json!({"envelope": {"name": "MeetingDestroyedEvtMsg", "routing": {"sender": "bbb-apps-akka"}},
                     "core": {"header": {"name": "MeetingDestroyedEvtMsg"}, "body": {"meetingId": MID}}});
    let out = run(&mut s, &end);
    let m = meeting();
    let want = vec![
        ev(
            "user-left",
            json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({
            "name": "John", "role": "MODERATOR", "presenter": true, "guest": false}))}),
        ),
        ev(
            "user-left",
            json!({"meeting": m, "user": user("w_view", "ext-view", json!({
            "name": "Mary", "role": "VIEWER", "presenter": false, "guest": true}))}),
        ),
        ev("meeting-ended", json!({"meeting": m})),
    ];
    assert_eq!(jsons(&out), want);
    assert!(
        matches!(out.changes.as_slice(), [Change::MeetingEnded { user_records, .. }] if user_records.len() == 2)
    );
    assert_eq!((s.meeting_count(), s.user_count()), (0, 0));
    // Ending it again finds nothing to report but the end itself.
    let again = run(&mut s, &end);
    assert_eq!(
        jsons(&again),
        vec![ev(
            "meeting-ended",
            json!({"meeting": {"internal-meeting-id": MID}})
        )]
    );
    assert!(again.changes.is_empty());
}

#[test]
fn user_left_forgets_the_user() {
    let mut s = state();
    run(&mut s, &akka("UserLeftMeetingEvtMsg", "w_view", json!({})));
    assert!(s.user(MID, "w_view").is_none());
    assert_eq!(s.user_count(), 1);
}

#[test]
fn screenshare_stop_reports_who_was_sharing() {
    let mut s = state();
    run(
        &mut s,
        &akka(
            "ScreenshareRtmpBroadcastStartedEvtMsg",
            "not-used",
            json!({}),
        ),
    );
    // The presenter changes while the screen is shared.
    run(
        &mut s,
        &akka("PresenterUnassignedEvtMsg", "w_mod", json!({})),
    );
    run(
        &mut s,
        &akka("PresenterAssignedEvtMsg", "w_view", json!({})),
    );
    let out = run(
        &mut s,
        &akka(
            "ScreenshareRtmpBroadcastStoppedEvtMsg",
            "not-used",
            json!({}),
        ),
    );
    let want = ev(
        "meeting-screenshare-stopped",
        json!({"meeting": meeting(), "user": user("w_mod", "ext-mod", json!({}))}),
    );
    assert_eq!(jsons(&out), vec![want]);
}

#[test]
fn emoji_raise_hand_derives_raise_hand_events_on_old_servers() {
    let mut s = state();
    let m = meeting();
    let raise = run(
        &mut s,
        &akka(
            "UserEmojiChangedEvtMsg",
            "w_view",
            json!({"userId": "w_view", "emoji": "raiseHand"}),
        ),
    );
    assert_eq!(
        jsons(&raise),
        vec![
            ev(
                "user-emoji-changed",
                json!({"meeting": m, "user": user("w_view", "ext-view", json!({"emoji": "raiseHand"}))})
            ),
            ev(
                "user-raise-hand-changed",
                json!({"meeting": m, "user": user("w_view", "ext-view", json!({"raise-hand": true}))})
            ),
        ]
    );
    let lower = run(
        &mut s,
        &akka(
            "UserEmojiChangedEvtMsg",
            "w_view",
            json!({"userId": "w_view", "emoji": "none"}),
        ),
    );
    assert_eq!(
        jsons(&lower),
        vec![
            ev(
                "user-emoji-changed",
                json!({"meeting": m, "user": user("w_view", "ext-view", json!({"emoji": "none"}))})
            ),
            ev(
                "user-raise-hand-changed",
                json!({"meeting": m, "user": user("w_view", "ext-view", json!({"raise-hand": false}))})
            ),
        ]
    );
    // Hand down: further emoji changes derive nothing.
    let again = run(
        &mut s,
        &akka(
            "UserEmojiChangedEvtMsg",
            "w_view",
            json!({"emoji": "happy"}),
        ),
    );
    assert_eq!(again.events.len(), 1);
}

#[test]
fn recording_processing_steps_map_to_rap_events() {
    let steps = [
        ("archive_started", "rap-archive-started"),
        ("sanity_started", "rap-sanity-started"),
        ("sanity_ended", "rap-sanity-ended"),
        ("post_archive_started", "rap-post-archive-started"),
        ("post_archive_ended", "rap-post-archive-ended"),
        ("process_started", "rap-process-started"),
        ("process_ended", "rap-process-ended"),
        ("post_process_started", "rap-post-process-started"),
        ("post_process_ended", "rap-post-process-ended"),
        ("publish_started", "rap-publish-started"),
        ("post_publish_started", "rap-post-publish-started"),
        ("post_publish_ended", "rap-post-publish-ended"),
    ];
    for (name, id) in steps {
        let msg = json!({"header": {"timestamp": 1, "name": name, "current_time": 1500, "version": "0.0.1"},
                         "payload": {"success": true, "step_time": 12, "workflow": "presentation",
                                     "meeting_id": MID, "record_id": MID}});
        let want = json!({"data": {"type": "event", "id": id, "attributes": {
            "meeting": meeting(), "record-id": MID, "success": true, "step-time": 12, "workflow": "presentation"},
            "event": {"ts": 1500}}});
        assert_eq!(jsons(&map(&msg, &state(), NOW)), vec![want], "{name}");
    }
}

#[test]
fn archive_and_publish_ends_carry_their_extras() {
    let archive = json!({"header": {"name": "archive_ended", "current_time": 1500},
                         "payload": {"success": true, "step_time": 3, "meeting_id": "old", "record_id": "old",
                                     "external_meeting_id": "ext-old"}});
    let want = json!({"data": {"type": "event", "id": "rap-archive-ended", "attributes": {
        "meeting": {"internal-meeting-id": "old", "external-meeting-id": "ext-old"}, "record-id": "old",
        "success": true, "step-time": 3, "recorded": false, "duration": 0}, "event": {"ts": 1500}}});
    assert_eq!(jsons(&map(&archive, &State::default(), NOW)), vec![want]);

    let publish = json!({"header": {"name": "publish_ended"},
        "payload": {"success": true, "step_time": 9, "workflow": "presentation", "meeting_id": MID, "record_id": MID,
                    "metadata": {"meetingName": "Room", "isBreakout": "false", "meetingId": "ext-1"},
                    "playback": {"format": "presentation", "link": "https://x/p", "size": 1234},
                    "download": {}, "start_time": 10, "end_time": 20, "raw_size": 99}});
    let want = json!({"data": {"type": "event", "id": "rap-publish-ended", "attributes": {
        "meeting": meeting(), "record-id": MID, "success": true, "step-time": 9, "workflow": "presentation",
        "recording": {"name": "Room", "is-breakout": "false", "start-time": 10, "end-time": 20, "size": 1234,
            "raw-size": 99, "metadata": {"meetingName": "Room", "isBreakout": "false", "meetingId": "ext-1"},
            "playback": {"format": "presentation", "link": "https://x/p", "size": 1234}, "download": {}}},
        "event": {"ts": NOW}}});
    assert_eq!(jsons(&map(&publish, &state(), NOW)), vec![want]);

    for (name, id) in [
        ("published", "rap-published"),
        ("unpublished", "rap-unpublished"),
        ("deleted", "rap-deleted"),
    ] {
        let msg = json!({"header": {"name": name, "current_time": 7},
                         "payload": {"meeting_id": MID, "format": "presentation"}});
        let want = json!({"data": {"type": "event", "id": id, "attributes": {
            "meeting": meeting(), "record-id": MID, "format": "presentation"}, "event": {"ts": 7}}});
        assert_eq!(jsons(&map(&msg, &state(), NOW)), vec![want], "{name}");
    }
}

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
        "published",
    ];
    let bodies = [
        json!(null),
        json!(7),
        json!({"props": 1, "msg": "x", "poll": [], "meetingId": {"a": 1}, "userId": 5}),
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

#[test]
fn activity_is_recorded_at_most_once_a_minute() {
    let mut s = state();
    let mute = akka("UserMutedVoiceEvtMsg", "w_mod", json!({"muted": true}));
    assert!(map(&mute, &s, NOW + 59_999).changes.is_empty());
    let out = run(&mut s, &{ mute.clone() });
    assert!(out.changes.is_empty());
    let later = map(&mute, &s, NOW + 60_000);
    assert_eq!(
        later.changes,
        vec![Change::MeetingActivity {
            internal: MID.into(),
            record: Some(MID.into()),
            at_ms: NOW + 60_000
        }]
    );
    for c in &later.changes {
        s.apply(c);
    }
    let week = super::DEFAULT_TTL_MS;
    assert!(s.expired(NOW + 60_000 + week, week).is_empty());
    assert_eq!(s.expired(NOW + 60_001 + week, week).len(), 1);
}
