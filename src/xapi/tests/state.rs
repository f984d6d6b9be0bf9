//! Tests of [`super`]: first write wins, records grouped by meeting, expiry.

use serde_json::json;

use super::*;
use crate::xapi::lrs::Unroutable;

/// The ingest thread owns the state; other threads may read a snapshot.
const _: () = {
    const fn shared<T: Send + Sync>() {}
    shared::<State>();
    shared::<Change>();
};

const TTL: u64 = 7 * 24 * 3600 * 1000;

fn meeting(id: &str, record: &str, name: &str) -> MeetingRecord {
    MeetingRecord {
        record: record.into(),
        internal_meeting_id: id.into(),
        registration: format!("reg-{id}"),
        planned_duration: Some(json!(0)),
        create_time: 1.0,
        meeting_name: Some(json!(name)),
        enabled: true,
        actor_name: json!("<unknown>"),
        lrs_payload: Some("U2FsdGVkX1+secret".into()),
        destination: Err(Skip::Unroutable(Unroutable::NoEndpoint)),
    }
}

fn user(meeting: Option<&str>, user: &str, name: &str) -> Change {
    Change::UserSaved {
        user: user.into(),
        record: UserRecord {
            record: format!("{}:{user}", meeting.unwrap_or("ref")),
            meeting: meeting.map(str::to_owned),
            name: Some(json!(name)),
        },
        at_ms: 1_000,
    }
}

fn poll(meeting: Option<&str>, poll: &str) -> Change {
    Change::PollSaved {
        poll: poll.into(),
        record: PollRecord {
            record: format!("{}:{poll}", meeting.unwrap_or("ref")),
            meeting: meeting.map(str::to_owned),
            question: Some(json!("Q?")),
            choices: json!([]),
        },
        at_ms: 1_000,
    }
}

fn apply(s: &mut State, changes: &[Change]) {
    for c in changes {
        s.apply(c);
    }
}

fn two_meetings() -> State {
    let mut s = State::default();
    apply(
        &mut s,
        &[
            Change::MeetingSaved {
                meeting: meeting("m1", "m1", "One"),
                at_ms: 1_000,
            },
            Change::MeetingSaved {
                meeting: meeting("m2", "m2", "Two"),
                at_ms: 1_000,
            },
            user(Some("m1"), "u", "First"),
            user(Some("m2"), "u", "Second"),
            poll(Some("m1"), "p"),
        ],
    );
    s
}

#[test]
fn lookups_return_the_first_record_whichever_meeting_wrote_it() {
    let s = two_meetings();
    assert_eq!(
        s.user("u").and_then(|u| u.name.clone()),
        Some(json!("First"))
    );
    assert!(s.has_user_in("u", "m1") && s.has_user_in("u", "m2") && !s.has_user_in("u", "m3"));
    assert!(s.has_poll_in("p", "m1") && !s.has_poll_in("p", "m2"));
    assert_eq!(
        s.meeting("m2").map(|m| m.meeting_name.clone()),
        Some(Some(json!("Two")))
    );
    assert_eq!(s.counts(), (2, 2, 1));
    assert!(s.user("nobody").is_none() && s.poll("nobody").is_none() && s.meeting("m3").is_none());
}

#[test]
fn a_meeting_expires_with_its_records_only() {
    let mut s = two_meetings();
    apply(
        &mut s,
        &[Change::MeetingActive {
            meeting: "m2".into(),
            record: "m2".into(),
            at_ms: 5_000,
        }],
    );
    assert!(
        s.expired(1_000 + TTL, TTL).is_empty(),
        "not older than the TTL yet"
    );
    let gone = s.expired(1_001 + TTL, TTL);
    assert_eq!(
        gone,
        vec![Change::Expired {
            meeting: Some("m1".into()),
            records: Records {
                meetings: vec!["m1".into()],
                users: vec!["m1:u".into()],
                polls: vec!["m1:p".into()]
            },
        }]
    );
    apply(&mut s, &gone);
    // m2's own record of the user is what is found now.
    assert_eq!(
        s.user("u").and_then(|u| u.name.clone()),
        Some(json!("Second"))
    );
    assert!(s.poll("p").is_none() && s.meeting("m1").is_none());
    assert_eq!(s.counts(), (1, 1, 0));
    let rest = s.expired(5_001 + TTL, TTL);
    apply(&mut s, &rest);
    assert_eq!(s.counts(), (0, 0, 0));
    assert!(s.expired(u64::MAX, TTL).is_empty());
}

#[test]
fn ended_meetings_are_kept_for_the_retention_period() {
    let mut s = two_meetings();
    let end = 10_000;
    apply(
        &mut s,
        &[Change::MeetingEnded {
            meeting: "m1".into(),
            record: "m1".into(),
            at_ms: end,
        }],
    );
    assert_eq!(s.ended_at("m1"), Some(end));
    assert!(s.expired(end + ENDED_RETENTION_MS, TTL).is_empty());
    let gone = s.expired(end + ENDED_RETENTION_MS + 1, TTL);
    assert!(
        matches!(gone.as_slice(), [Change::Expired { meeting: Some(m), .. }] if m == "m1"),
        "{gone:?}"
    );
    // Created again: alive again.
    apply(
        &mut s,
        &[Change::MeetingActive {
            meeting: "m1".into(),
            record: "m1".into(),
            at_ms: end + 5,
        }],
    );
    assert_eq!(s.ended_at("m1"), None);
    assert_eq!(s.last_activity("m1"), Some(end + 5));
    assert!(s.expired(end + ENDED_RETENTION_MS + 1, TTL).is_empty());
}

#[test]
fn first_meeting_record_wins_and_duplicates_expire_with_it() {
    let mut s = State::default();
    apply(
        &mut s,
        &[
            Change::MeetingSaved {
                meeting: meeting("m", "r-old", "Old"),
                at_ms: 1,
            },
            Change::MeetingSaved {
                meeting: meeting("m", "r-new", "New"),
                at_ms: 2,
            },
            Change::MeetingSaved {
                meeting: meeting("m", "r-old", "Old"),
                at_ms: 3,
            },
        ],
    );
    assert_eq!(s.meeting("m").map(|m| m.record.as_str()), Some("r-old"));
    let gone = s.expired(u64::MAX, TTL);
    assert!(
        matches!(gone.as_slice(), [Change::Expired { records, .. }] if records.meetings == ["r-old", "r-new"]),
        "{gone:?}"
    );
}

#[test]
fn records_without_a_meeting_form_their_own_group() {
    let mut s = State::default();
    apply(
        &mut s,
        &[
            user(None, "u", "Ref"),
            poll(None, "p"),
            user(Some("gone"), "v", "V"),
        ],
    );
    assert_eq!(s.user("u").and_then(|u| u.name.clone()), Some(json!("Ref")));
    assert!(s.meeting("gone").is_none(), "users alone make no meeting");
    let gone = s.expired(1_001 + TTL, TTL);
    assert_eq!(gone.len(), 2, "{gone:?}");
    assert!(gone.contains(&Change::Expired {
        meeting: None,
        records: Records {
            meetings: vec![],
            users: vec!["ref:u".into()],
            polls: vec!["ref:p".into()]
        },
    }));
    apply(&mut s, &gone);
    assert_eq!(s.counts(), (0, 0, 0));
    assert!(
        s.expired(u64::MAX, TTL).is_empty(),
        "an empty group is not expired again"
    );
}

#[test]
fn debug_hides_the_payload() {
    let shown = format!("{:?}", meeting("m", "m", "Room"));
    assert!(
        !shown.contains("U2FsdGVkX1+secret") && shown.contains("<redacted>"),
        "{shown}"
    );
    assert!(shown.contains("Room"));
}
