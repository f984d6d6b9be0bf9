//! Maps raw BBB messages to webhook events: a pure function of (message, state).
//!
//! It does no I/O. The ingest thread calls [`map`], persists the returned
//! [`Change`]s with [`crate::store::mapping::persist`], applies them to its
//! [`State`], and hands
//! the events to delivery, in that order, one message at a time, so events keep
//! the order of their messages.
//!
//! Mapping happens in two steps, like the reference application's: a template
//! per kind of message builds the webhook event (`akka_meeting`, `akka_user`,
//! `akka_content`, `rap`), then `process` turns the event into state changes
//! and derived events (the synthetic `user-left`s at meeting end, the
//! `user-raise-hand-changed` of servers older than BBB 2.7). Already-mapped
//! events go through the second step too, as in the reference.

mod akka_content;
mod akka_meeting;
mod akka_user;
pub(crate) mod js;
mod process;
mod rap;
mod state;
#[cfg(test)]
mod tests;

use serde_json::{json, Map, Value};

pub use state::{Change, State, UserRecord, ACTIVITY_WRITE_INTERVAL_MS, DEFAULT_TTL_MS};

use js::{at, or, str_at};

/// One event ready for delivery.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapped {
    /// The event id hooks filter on with `eventID` (compared lower-case).
    pub id: String,
    /// Internal meeting ID, when the event belongs to a meeting.
    pub internal_meeting_id: Option<String>,
    /// External meeting ID, when known.
    pub external_meeting_id: Option<String>,
    /// What hooks that want mapped events receive.
    pub json: Value,
}

/// What one message yields.
#[derive(Debug, Default, PartialEq)]
pub struct Output {
    /// Events in delivery order (derived events included, in order).
    pub events: Vec<Mapped>,
    /// State changes to persist and apply before the events are delivered.
    pub changes: Vec<Change>,
}

/// Maps one raw message. `now_ms` is the wall clock, for `data.event.ts` and
/// activity tracking. Never panics, whatever the JSON.
pub fn map(msg: &Value, state: &State, now_ms: u64) -> Output {
    if msg.pointer("/data/id").is_some_and(Value::is_string) {
        // Already in the webhook format: delivered unchanged, but its state
        // effects (meeting-created, user-joined, ...) still apply.
        return process::process(msg.clone(), state, now_ms);
    }
    if let (Some(event), Some(meeting)) = (
        msg.get("event").and_then(Value::as_str),
        msg.get("meetingID").and_then(Value::as_str),
    ) {
        // The draft specification's own format (`bigbluebutton:events`).
        return Output {
            events: vec![Mapped {
                id: event.to_owned(),
                internal_meeting_id: Some(meeting.to_owned()),
                external_meeting_id: state.external_meeting_id(meeting).map(str::to_owned),
                json: msg.clone(),
            }],
            changes: Vec::new(),
        };
    }
    match template(msg, state, now_ms) {
        Some(event) => process::process(event, state, now_ms),
        None => Output::default(),
    }
}

/// Builds the webhook event for a raw message, or `None` when the message is
/// not one that webhooks report.
fn template(msg: &Value, state: &State, now_ms: u64) -> Option<Value> {
    let name = message_name(msg)?;
    akka_meeting::map(name, msg, state, now_ms)
        .or_else(|| akka_user::map(name, msg, state, now_ms))
        .or_else(|| akka_content::map(name, msg, state, now_ms))
        .or_else(|| rap::map(name, msg, state, now_ms))
}

/// `envelope.name` of akka-apps and bbb-web messages, `header.name` of
/// recording-processing ones.
fn message_name(msg: &Value) -> Option<&str> {
    str_at(msg, &["envelope", "name"])
        .filter(|n| !n.is_empty())
        .or_else(|| str_at(msg, &["header", "name"]))
}

/// The webhook event envelope shared by every event.
pub(crate) fn event(id: &str, attributes: Map<String, Value>, ts: Value) -> Value {
    json!({
        "data": {
            "type": "event",
            "id": id,
            "attributes": attributes,
            "event": { "ts": ts },
        }
    })
}

/// The internal meeting ID of a raw message, from wherever its kind keeps it
/// (same places, same order as the reference).
pub(crate) fn internal_meeting_id(msg: &Value) -> Option<&Value> {
    or(&[
        at(msg, &["envelope", "routing", "meetingId"]),
        at(msg, &["header", "body", "meetingId"]),
        at(msg, &["core", "body", "props", "meetingProp", "intId"]),
        at(msg, &["core", "body", "meetingId"]),
        at(msg, &["core", "header", "meetingId"]),
        at(msg, &["core", "body", "internalMeetingId"]),
        at(msg, &["core", "body", "recordId"]),
        at(msg, &["core", "body", "meeting_id"]),
        at(msg, &["payload", "meeting_id"]),
    ])
}

/// The `meeting` attribute: internal ID as found, external ID when known.
pub(crate) fn meeting_attribute(internal: Option<&Value>, state: &State) -> Map<String, Value> {
    let mut meeting = Map::new();
    js::put(&mut meeting, "internal-meeting-id", internal);
    if let Some(ext) = internal
        .and_then(Value::as_str)
        .and_then(|i| state.external_meeting_id(i))
    {
        meeting.insert("external-meeting-id".into(), Value::from(ext));
    }
    meeting
}

/// User IDs BBB puts in headers when a message has no user.
const IGNORED_USER_IDS: &[&str] = &["not-used"];

/// The internal user ID of a raw message: the header's, else the body's;
/// `null` when neither is usable.
pub(crate) fn internal_user_id(msg: &Value) -> Value {
    let usable = |v: Option<&Value>| {
        v.filter(|v| js::truthy(v))
            .filter(|v| !v.as_str().is_some_and(|s| IGNORED_USER_IDS.contains(&s)))
            .cloned()
    };
    usable(at(msg, &["core", "header", "userId"]))
        .or_else(|| usable(at(msg, &["core", "body", "userId"])))
        .unwrap_or(Value::Null)
}

/// The external user ID the state knows for a user of a meeting.
pub(crate) fn known_external_user_id<'a>(
    state: &'a State,
    meeting: Option<&Value>,
    user: &Value,
) -> Option<&'a str> {
    let meeting = meeting.and_then(Value::as_str)?;
    let user = user.as_str()?;
    state.user(meeting, user).map(|u| u.external.as_str())
}

/// Reference rule for user IDs in user events: the known external ID if
/// non-empty, else the body's `extId` if truthy, else `""`.
pub(crate) fn external_user_id(
    state: &State,
    meeting: Option<&Value>,
    user: &Value,
    body: &Value,
) -> Value {
    known_external_user_id(state, meeting, user)
        .filter(|s| !s.is_empty())
        .map(Value::from)
        .or_else(|| body.get("extId").filter(|v| js::truthy(v)).cloned())
        .unwrap_or_else(|| Value::from(""))
}
