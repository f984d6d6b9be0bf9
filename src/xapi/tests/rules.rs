//! What the recordings cannot show: the changes each event stores, the
//! reason given when nothing is sent, activity and end marks, and what this
//! service does on purpose unlike the reference.

use serde_json::{json, Value};

use super::*;
use crate::xapi::lrs::Unroutable;
use crate::xapi::payload::{self, PayloadError};

fn created_with(metadata: Value) -> Value {
    ev(
        "meeting-created",
        json!({"meeting": {"internal-meeting-id": MID, "external-meeting-id": EXT,
        "name": "Room", "duration": 0, "create-time": 1698771157700_u64, "metadata": metadata}}),
        1,
    )
}

fn user_event(id: &str, user: Value) -> Value {
    ev(id, json!({"meeting": meeting(), "user": user}), 2)
}

#[test]
fn each_event_stores_what_the_reference_stores_once() {
    let cfg = settings();
    let mut s = State::default();
    let out = run(&mut s, &cfg, &created_with(json!({})));
    assert!(
        matches!(out.changes.as_slice(), [Change::MeetingSaved { meeting, at_ms: NOW }] if meeting.record == MID)
    );
    let join = user_event(
        "user-joined",
        json!({"internal-user-id": "w_1", "name": "Ann"}),
    );
    let out = run(&mut s, &cfg, &join);
    assert!(out.statement.is_some());
    assert_eq!(
        out.changes,
        vec![Change::UserSaved {
            user: "w_1".into(),
            record: UserRecord {
                record: format!("{MID}:w_1"),
                meeting: Some(MID.into()),
                name: Some(json!("Ann"))
            },
            at_ms: NOW,
        }]
    );
    // Joining again stores nothing: the first record wins.
    let again = user_event(
        "user-joined",
        json!({"internal-user-id": "w_1", "name": "Renamed"}),
    );
    assert_eq!(run(&mut s, &cfg, &again).changes, vec![]);
    // Ids that are never looked up are not stored (the statement still goes).
    for id in [json!(""), json!(42), json!(null)] {
        let odd = user_event(
            "user-joined",
            json!({"internal-user-id": id, "name": "Odd"}),
        );
        let out = run(&mut s, &cfg, &odd);
        assert!(out.statement.is_some() && out.changes.is_empty(), "{id}");
    }
    let poll = ev(
        "poll-started",
        json!({"meeting": meeting(), "poll": {"id": "p", "question": "Q", "answers": [{"id": 0, "key": "A"}]}}),
        3,
    );
    let out = run(&mut s, &cfg, &poll);
    let object_id = cfg.namespace.uuid("p");
    assert!(
        matches!(out.changes.as_slice(), [Change::PollSaved { poll, record, .. }]
        if *poll == object_id && record.record == format!("{MID}:{object_id}") && record.choices == json!([{"id": "0", "description": {"en": "A"}}]))
    );
    assert_eq!(run(&mut s, &cfg, &poll).changes, vec![]);
    assert_eq!(s.counts(), (1, 1, 1));
}

#[test]
fn every_reason_is_named() {
    let cfg = settings();
    let mut s = State::default();
    let note = |s: &mut State, event: &Value| run(s, &cfg, event).note;
    assert_eq!(note(&mut s, &json!({})), Some(Skip::Ignored));
    assert_eq!(
        note(&mut s, &user_event("user-presenter-assigned", json!({}))),
        Some(Skip::Ignored)
    );
    let no_ext = ev(
        "user-joined",
        json!({"meeting": {"internal-meeting-id": MID}}),
        1,
    );
    assert_eq!(note(&mut s, &no_ext), Some(Skip::BadMeetingId));
    assert_eq!(
        note(&mut s, &user_event("user-joined", json!({}))),
        Some(Skip::MeetingUnknown)
    );
    let bad_time = created_with(json!({}))
        .pointer("/data/attributes/meeting")
        .cloned()
        .map(|mut m| {
            m["create-time"] = json!("1698771157700");
            ev("meeting-created", json!({ "meeting": m }), 1)
        });
    assert_eq!(
        note(&mut s, &bad_time.unwrap_or_default()),
        Some(Skip::BadValue("meeting.create-time"))
    );
    assert_eq!(
        note(&mut s, &created_with(json!({"secret-lrs-payload": "x"}))),
        Some(Skip::BadPayload(PayloadError::Undecryptable))
    );
    assert!(s.meeting(MID).is_none(), "a bad payload stores nothing");
    assert_eq!(note(&mut s, &created_with(json!({}))), None);
    assert_eq!(
        note(
            &mut s,
            &user_event("user-left", json!({"internal-user-id": "w_x"}))
        ),
        Some(Skip::UserUnknown)
    );
    let muted = user_event(
        "user-audio-voice-enabled",
        json!({"internal-user-id": "w_x", "muted": true}),
    );
    assert_eq!(note(&mut s, &muted), Some(Skip::MicNotLive));
    let responded = ev(
        "poll-responded",
        json!({"meeting": meeting(), "poll": {"id": "none", "answerIds": []}}),
        1,
    );
    assert_eq!(note(&mut s, &responded), Some(Skip::PollUnknown));
    let chat = ev(
        "chat-group-message-sent",
        json!({"meeting": meeting(), "chat-message": {}}),
        1,
    );
    assert_eq!(
        note(&mut s, &chat),
        Some(Skip::BadValue("chat-message.sender"))
    );
    let mut no_ts = user_event("user-joined", json!({"internal-user-id": "w_2"}));
    no_ts["data"]["event"]["ts"] = json!("now");
    assert_eq!(note(&mut s, &no_ts), Some(Skip::BadValue("data.event.ts")));
    let every = [
        Skip::Ignored,
        Skip::BadMeetingId,
        Skip::MeetingUnknown,
        Skip::Disabled,
        Skip::BadPayload(crate::xapi::PayloadError::Undecryptable),
        Skip::Unroutable(Unroutable::NoEndpoint),
        Skip::UserUnknown,
        Skip::PollUnknown,
        Skip::MicNotLive,
        Skip::BadValue("poll.id"),
    ];
    for (i, skip) in every.iter().enumerate() {
        assert!(!skip.to_string().is_empty() && !skip.reason().contains(' '));
        assert_eq!(skip.index(), i, "{skip:?} at its place in REASONS");
    }
    assert_eq!(every.len(), Skip::REASONS.len());
}

#[test]
fn a_disabled_meeting_stores_its_record_and_nothing_else() {
    let cfg = settings();
    let mut s = State::default();
    let out = run(
        &mut s,
        &cfg,
        &created_with(json!({"xapi-enabled": "false"})),
    );
    assert_eq!(out.note, Some(Skip::Disabled));
    assert!(
        matches!(out.changes.as_slice(), [Change::MeetingSaved { meeting, .. }] if !meeting.enabled)
    );
    let out = run(
        &mut s,
        &cfg,
        &user_event(
            "user-joined",
            json!({"internal-user-id": "w_1", "name": "A"}),
        ),
    );
    assert_eq!((out.note, out.changes), (Some(Skip::Disabled), vec![]));
    assert_eq!(s.counts(), (1, 0, 0));
}

#[test]
fn activity_is_recorded_once_a_minute_and_the_end_is_marked() {
    let cfg = settings();
    let mut s = State::default();
    run(&mut s, &cfg, &created_with(json!({})));
    let cam = user_event(
        "user-cam-broadcast-start",
        json!({"internal-user-id": "w_1"}),
    );
    assert_eq!(process(&cam, &s, &cfg, NOW + 59_999).changes, vec![]);
    let active = process(&cam, &s, &cfg, NOW + 60_000).changes;
    assert_eq!(
        active,
        vec![Change::MeetingActive {
            meeting: MID.into(),
            record: MID.into(),
            at_ms: NOW + 60_000
        }]
    );
    let end = ev("meeting-ended", json!({"meeting": meeting()}), 5);
    let out = process(&end, &s, &cfg, NOW + 70_000);
    assert_eq!(
        out.changes,
        vec![Change::MeetingEnded {
            meeting: MID.into(),
            record: MID.into(),
            at_ms: NOW + 70_000
        }]
    );
    for c in &out.changes {
        s.apply(c);
    }
    // Ended: later events still give statements, but no longer count as activity.
    let late = process(
        &user_event(
            "user-joined",
            json!({"internal-user-id": "w_9", "name": "Late"}),
        ),
        &s,
        &cfg,
        NOW + 999_999,
    );
    assert!(
        late.statement.is_some()
            && late
                .changes
                .iter()
                .all(|c| matches!(c, Change::UserSaved { .. }))
    );
    // Created again: alive again, the first record kept.
    let again = process(&created_with(json!({})), &s, &cfg, NOW + 80_000);
    assert_eq!(
        again.changes,
        vec![Change::MeetingActive {
            meeting: MID.into(),
            record: MID.into(),
            at_ms: NOW + 80_000
        }]
    );
    assert!(again.statement.is_some());
}

#[test]
fn the_reference_default_namespace_works_here() {
    let mut cfg = settings();
    cfg.namespace = Namespace::parse("01234567-89ab-cdef-0123-456789abcdef").expect("accepted");
    let mut s = State::default();
    let out = run(&mut s, &cfg, &created_with(json!({})));
    let body = out.statement.map(|st| st.body).unwrap_or_default();
    let session = body.pointer(
        "/context/extensions/https:~1~1w3id.org~1xapi~1cmi5~1context~1extensions~1sessionid",
    );
    // uuid.uuid5(uuid.UUID("01234567-89ab-cdef-0123-456789abcdef"), "int-1") in Python.
    assert_eq!(
        session,
        Some(&json!("03d085a4-b25e-5afb-8299-4ca9b6c67433"))
    );
}

#[test]
fn destinations_come_from_the_payload_or_the_configuration() {
    let mut cfg = settings();
    cfg.lrs.token = Some("CONFIGURED".into());
    let mut s = State::default();
    let out = run(&mut s, &cfg, &created_with(json!({})));
    let d = out.statement.map(|st| st.destination).expect("sent");
    assert_eq!(
        (d.url(), d.authorization()),
        (
            "http://lrs.example.com/xAPI/statements",
            "Bearer CONFIGURED"
        )
    );
    let sealed = payload::encrypt_with_salt(
        r#"{"lrs_endpoint": "https://tenant.example.com/", "lrs_token": "TENANT"}"#,
        SECRET,
        *b"fixedslt",
    );
    let other = ev(
        "meeting-created",
        json!({"meeting": {"internal-meeting-id": "m2", "external-meeting-id": "e2",
        "create-time": 1, "metadata": {"secret-lrs-payload": sealed}}}),
        1,
    );
    let out = run(&mut s, &cfg, &other);
    let d = out.statement.map(|st| st.destination).expect("sent");
    assert_eq!(
        (d.url(), d.authorization()),
        (
            "https://tenant.example.com/xAPI/statements",
            "Bearer TENANT"
        )
    );
    cfg.lrs.endpoint = None;
    let mut s = State::default();
    let out = run(&mut s, &cfg, &created_with(json!({})));
    assert_eq!(out.note, Some(Skip::Unroutable(Unroutable::NoEndpoint)));
    assert!(
        s.meeting(MID).is_some(),
        "stored anyway: a later payload-less event is dropped the same way"
    );
}

#[test]
fn route_resolves_stored_payloads_as_at_creation() {
    let cfg = settings();
    let sealed = payload::encrypt_with_salt(
        r#"{"lrs_username": "u", "lrs_password": "p"}"#,
        SECRET,
        *b"fixedslt",
    );
    let d = route(Some(&json!(sealed)), &cfg).expect("routable");
    assert_eq!(d.url(), "http://lrs.example.com/xAPI/statements");
    assert_eq!(
        route(Some(&json!(5)), &cfg),
        Err(Skip::BadPayload(PayloadError::Undecryptable))
    );
    let mut other = settings();
    other.secret = crate::config::Secret::new("changed");
    assert_eq!(
        route(Some(&json!(sealed)), &other),
        Err(Skip::BadPayload(PayloadError::Undecryptable))
    );
}
