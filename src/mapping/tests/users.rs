//! Meeting and user messages.

use serde_json::json;

use super::*;

#[test]
fn meeting_and_user_messages_map_to_the_reference_events() {
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
    ];
    check(cases);
}

/// A join of `w_new` with `body` added to its usual fields.
fn join(body: Value) -> Value {
    let mut b = json!({"intId": "w_new", "extId": "ext-new", "name": "Zoë", "role": "VIEWER",
                       "guest": false, "presenter": false, "userMetadata": {}});
    if let (Some(b), Some(extra)) = (b.as_object_mut(), body.as_object()) {
        b.extend(extra.clone());
    }
    akka("UserJoinedMeetingEvtMsg", "w_new", b)
}

/// The `user-joined` of [`join`], with `extra` user attributes.
fn joined(extra: Value) -> Vec<Value> {
    let mut u = json!({"name": "Zoë", "role": "VIEWER", "presenter": false, "guest": false, "userdata": {}});
    if let (Some(u), Some(extra)) = (u.as_object_mut(), extra.as_object()) {
        u.extend(extra.clone());
    }
    vec![ev(
        "user-joined",
        json!({"meeting": meeting(), "user": user("w_new", "ext-new", u)}),
    )]
}

#[test]
fn join_request_metadata_is_read_from_either_shape() {
    let ua = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";
    let all = json!({"ip-address": "2001:db8::1", "user-agent": ua,
                     "referer": "https://lms.example/course/7", "session-token": ["tok-1"]});
    let cases: Vec<(&str, Value, Vec<Value>)> = vec![
        (
            "old servers: top-level fields",
            join(json!({"ipAddress": "2001:db8::1", "userAgent": ua,
                        "referer": "https://lms.example/course/7", "sessionToken": ["tok-1"]})),
            joined(all.clone()),
        ),
        (
            "BBB with pull request 24451: one object",
            join(
                json!({"joinRequestMetadata": {"ipAddress": "2001:db8::1", "userAgent": ua,
                        "referer": "https://lms.example/course/7", "sessionToken": ["tok-1"]}}),
            ),
            joined(all.clone()),
        ),
        (
            "neither: the attributes are left out",
            join(json!({})),
            joined(json!({})),
        ),
        (
            "an empty object: left out too",
            join(json!({"joinRequestMetadata": {}})),
            joined(json!({})),
        ),
        (
            "both: the object wins, field by field",
            join(
                json!({"ipAddress": "10.0.0.9", "userAgent": "Old/1.0", "referer": "https://old.example/",
                        "sessionToken": ["old-tok"],
                        "joinRequestMetadata": {"ipAddress": "2001:db8::1", "userAgent": ua,
                        "referer": "https://lms.example/course/7", "sessionToken": ["tok-1"]}}),
            ),
            joined(all.clone()),
        ),
        (
            "both, partly: what the object lacks or sends as null comes from the top level",
            join(
                json!({"ipAddress": "10.0.0.9", "userAgent": "Old/1.0", "referer": "https://old.example/",
                        "joinRequestMetadata": {"ipAddress": "2001:db8::1", "userAgent": null,
                        "sessionToken": ["tok-1"]}}),
            ),
            joined(json!({"ip-address": "2001:db8::1", "user-agent": "Old/1.0",
                          "referer": "https://old.example/", "session-token": ["tok-1"]})),
        ),
        (
            "null or empty values are sent as BBB sends them",
            join(
                json!({"joinRequestMetadata": {"ipAddress": null, "userAgent": "", "referer": ""}}),
            ),
            joined(json!({"ip-address": null, "user-agent": "", "referer": ""})),
        ),
        (
            "an object that is not one is ignored",
            join(json!({"ipAddress": "10.0.0.9", "joinRequestMetadata": "ipAddress=1.2.3.4"})),
            joined(json!({"ip-address": "10.0.0.9"})),
        ),
        (
            "a null object is ignored",
            join(json!({"joinRequestMetadata": null})),
            joined(json!({})),
        ),
    ];
    check(cases);
}
