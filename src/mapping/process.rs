//! Turns one webhook event into state changes and derived events: meeting and
//! user mappings, presenter / screen-sharing / raised-hand flags, activity,
//! the synthetic `user-left`s at meeting end and the raise-hand event derived
//! from an emoji change (BBB older than 2.7).

use serde_json::{Map, Value};

use super::js::{flag, str_at};
use super::{Change, Mapped, Output, State, UserRecord, ACTIVITY_WRITE_INTERVAL_MS};

/// Bookkeeping flags kept in a user's record that are not user attributes.
const BOOKKEEPING: &[&str] = &["screenshare", "raiseHand"];

/// Post-processes `event` (mapped from a raw message or received mapped).
pub(super) fn process(event: Value, state: &State, now_ms: u64) -> Output {
    let id = str_at(&event, &["data", "id"])
        .unwrap_or_default()
        .to_owned();
    // An empty ID names nothing: the state keeps nothing under it (and
    // could not load it back from Redis).
    let meeting = str_at(
        &event,
        &["data", "attributes", "meeting", "internal-meeting-id"],
    )
    .filter(|m| !m.is_empty());
    let user = str_at(&event, &["data", "attributes", "user", "internal-user-id"])
        .filter(|u| !u.is_empty());
    let known = meeting.zip(user).and_then(|(m, u)| state.user(m, u));

    let mut changes = Vec::new();
    let mut before = Vec::new();
    let mut after = Vec::new();
    if let Some(change) = activity(&id, meeting, state, now_ms) {
        changes.push(change);
    }
    let set_flag = |name: &str, on: bool| {
        known.map(|k| {
            let mut user = k.clone();
            user.attrs.insert(name.to_owned(), Value::Bool(on));
            Change::UserSaved {
                meeting: meeting.unwrap_or_default().to_owned(),
                user,
                at_ms: now_ms,
            }
        })
    };
    match id.as_str() {
        "meeting-created" => {
            let external = str_at(
                &event,
                &["data", "attributes", "meeting", "external-meeting-id"],
            );
            if let Some((internal, external)) = meeting.zip(external) {
                changes.push(Change::MeetingCreated {
                    internal: internal.to_owned(),
                    external: external.to_owned(),
                    record: state
                        .meeting_record(internal)
                        .unwrap_or(internal)
                        .to_owned(),
                    at_ms: now_ms,
                });
            }
        }
        "user-joined" => changes.extend(joined(&event, meeting, user, state, now_ms)),
        "user-left" => changes.extend(known.map(|k| Change::UserLeft {
            meeting: meeting.unwrap_or_default().to_owned(),
            internal: k.internal.clone(),
            record: k.record.clone(),
        })),
        "user-presenter-assigned" => changes.extend(set_flag("presenter", true)),
        "user-presenter-unassigned" => changes.extend(set_flag("presenter", false)),
        "meeting-screenshare-started" => changes.extend(set_flag("screenshare", true)),
        "meeting-screenshare-stopped" => changes.extend(set_flag("screenshare", false)),
        "user-emoji-changed" => {
            let emoji = str_at(&event, &["data", "attributes", "user", "emoji"]);
            let raised = known.is_some_and(|k| flag(k.attrs.get("raiseHand")));
            // BBB < 2.7 sends a raised hand as the emoji "raiseHand"; any
            // other emoji afterwards lowers it.
            let hand = if emoji == Some("raiseHand") {
                Some(true)
            } else if raised {
                Some(false)
            } else {
                None
            };
            if let Some(on) = hand {
                after.push(raise_hand(&event, on));
                changes.extend(set_flag("raiseHand", on));
            }
        }
        "meeting-ended" => {
            if let Some(internal) = meeting {
                let external = event.pointer("/data/attributes/meeting/external-meeting-id");
                for u in state.users(internal) {
                    before.push(user_left(internal, external, u, now_ms));
                }
                changes.extend(state.removal(internal, false));
            }
        }
        _ => {}
    }

    let events = before
        .into_iter()
        .chain(std::iter::once(event))
        .chain(after)
        .map(|json| mapped(json, state))
        .collect();
    Output { events, changes }
}

/// Records activity when the last record is older than
/// [`ACTIVITY_WRITE_INTERVAL_MS`]. Meeting creation and end do not count:
/// the first records its own time, the second forgets the meeting.
fn activity(id: &str, meeting: Option<&str>, state: &State, now_ms: u64) -> Option<Change> {
    if matches!(id, "meeting-created" | "meeting-ended") {
        return None;
    }
    let meeting = meeting?;
    let last = state.last_activity(meeting)?;
    (now_ms >= last.saturating_add(ACTIVITY_WRITE_INTERVAL_MS)).then(|| Change::MeetingActivity {
        internal: meeting.to_owned(),
        record: state.meeting_record(meeting).map(str::to_owned),
        at_ms: now_ms,
    })
}

fn joined(
    event: &Value,
    meeting: Option<&str>,
    user: Option<&str>,
    state: &State,
    now_ms: u64,
) -> Option<Change> {
    let (meeting, user) = meeting.zip(user)?;
    let attrs = event
        .pointer("/data/attributes/user")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let external = attrs
        .get("external-user-id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let record = state
        .user(meeting, user)
        .map(|u| u.record.clone())
        .unwrap_or_else(|| format!("{meeting}:{user}"));
    Some(Change::UserSaved {
        meeting: meeting.to_owned(),
        user: UserRecord {
            record,
            internal: user.to_owned(),
            external,
            attrs,
        },
        at_ms: now_ms,
    })
}

/// The `user-raise-hand-changed` derived from an emoji change.
fn raise_hand(emoji_event: &Value, on: bool) -> Value {
    let mut event = emoji_event.clone();
    if let Some(data) = event.get_mut("data").and_then(Value::as_object_mut) {
        data.insert("id".into(), Value::from("user-raise-hand-changed"));
    }
    if let Some(user) = event
        .pointer_mut("/data/attributes/user")
        .and_then(Value::as_object_mut)
    {
        user.remove("emoji");
        user.insert("raise-hand".into(), Value::Bool(on));
    }
    event
}

/// The synthetic `user-left` for a user still present when its meeting ends.
fn user_left(meeting: &str, external: Option<&Value>, u: &UserRecord, now_ms: u64) -> Value {
    let mut m = Map::new();
    m.insert("internal-meeting-id".into(), Value::from(meeting));
    super::js::put(&mut m, "external-meeting-id", external);
    let mut user = u.attrs.clone();
    for key in BOOKKEEPING {
        user.remove(*key);
    }
    user.entry("internal-user-id")
        .or_insert_with(|| Value::from(u.internal.as_str()));
    user.entry("external-user-id")
        .or_insert_with(|| Value::from(u.external.as_str()));
    let mut attributes = Map::new();
    attributes.insert("meeting".into(), Value::Object(m));
    attributes.insert("user".into(), Value::Object(user));
    super::event("user-left", attributes, Value::from(now_ms))
}

fn mapped(json: Value, state: &State) -> Mapped {
    let id = str_at(&json, &["data", "id"])
        .unwrap_or_default()
        .to_owned();
    let internal = str_at(
        &json,
        &["data", "attributes", "meeting", "internal-meeting-id"],
    );
    let external = str_at(
        &json,
        &["data", "attributes", "meeting", "external-meeting-id"],
    )
    .or_else(|| internal.and_then(|i| state.external_meeting_id(i)));
    Mapped {
        id,
        internal_meeting_id: internal.map(str::to_owned),
        external_meeting_id: external.map(str::to_owned),
        json,
    }
}
