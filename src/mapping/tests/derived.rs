//! State changes and derived events: user-left at meeting end, screen-share owner, raise hand, activity.

use serde_json::json;

use super::*;
use crate::mapping::Change;

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
    let week = crate::mapping::DEFAULT_TTL_MS;
    assert!(s.expired(NOW + 60_000 + week, week).is_empty());
    assert_eq!(s.expired(NOW + 60_001 + week, week).len(), 1);
}

#[test]
fn user_left_at_meeting_end_carries_the_join_request_metadata_of_either_shape() {
    let metadata = json!({"ipAddress": "203.0.113.7", "userAgent": "UA/2.0",
                          "referer": "https://lms.example/", "sessionToken": ["tok-9"]});
    let mut old = json!({"intId": "w_new", "extId": "ext-new", "name": "Ana", "role": "VIEWER",
                         "guest": false, "presenter": false});
    let mut new = old.clone();
    if let (Some(o), Some(m)) = (old.as_object_mut(), metadata.as_object()) {
        o.extend(m.clone());
    }
    new["joinRequestMetadata"] = metadata.clone();
    let end = json!({"envelope": {"name": "MeetingDestroyedEvtMsg", "routing": {"sender": "bbb-apps-akka"}},
                     "core": {"header": {"name": "MeetingDestroyedEvtMsg"}, "body": {"meetingId": MID}}});
    let want = ev(
        "user-left",
        json!({"meeting": meeting(), "user": user("w_new", "ext-new", json!({
        "name": "Ana", "role": "VIEWER", "presenter": true, "guest": false, "ip-address": "203.0.113.7",
        "user-agent": "UA/2.0", "referer": "https://lms.example/", "session-token": ["tok-9"]}))}),
    );
    for (label, body) in [("top-level fields", old), ("joinRequestMetadata", new)] {
        let mut s = state();
        let join = run(&mut s, &akka("UserJoinedMeetingEvtMsg", "w_new", body));
        let joined = &join.events[0].json["data"]["attributes"]["user"];
        assert_eq!(joined["ip-address"], "203.0.113.7", "{label}");
        // A flag changed after the join is the current one at the end.
        run(
            &mut s,
            &akka(
                "PresenterAssignedEvtMsg",
                "w_new",
                json!({"presenterId": "w_new"}),
            ),
        );
        let out = run(&mut s, &end);
        let ids: Vec<&str> = out.events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            ["user-left", "user-left", "user-left", "meeting-ended"],
            "{label}"
        );
        assert_eq!(out.events[2].json, want, "{label}");
    }
}
