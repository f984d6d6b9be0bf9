//! Maps raw BBB messages to webhook events: a pure function of (message, state).
//!
//! It does no I/O. The ingest thread calls [`map`], persists the returned
//! [`Change`]s, applies them to its [`State`], and hands the events to delivery,
//! in that order, one message at a time, so events keep the order of their
//! messages. This version knows only what the foundation needs: events that are
//! already mapped (`data.id`), the draft's `bigbluebutton:events` messages, and
//! the meeting ID pair learned from `MeetingCreatedEvtMsg`.

use std::collections::HashMap;

use serde_json::Value;

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

/// A change of the mapping state that a message causes.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// A meeting was created: remember its external ID.
    MeetingCreated { internal: String, external: String },
    /// A meeting ended: forget it.
    MeetingEnded { internal: String },
}

/// What one message yields.
#[derive(Debug, Default, PartialEq)]
pub struct Output {
    /// Events in delivery order.
    pub events: Vec<Mapped>,
    /// State changes to persist and apply before the events are delivered.
    pub changes: Vec<Change>,
}

/// What the mapping remembers between messages.
#[derive(Debug, Default)]
pub struct State {
    meetings: HashMap<String, String>,
}

impl State {
    /// The external ID of a meeting, by internal ID.
    pub fn external_meeting_id(&self, internal: &str) -> Option<&str> {
        self.meetings.get(internal).map(String::as_str)
    }

    /// Applies one change.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::MeetingCreated { internal, external } => {
                self.meetings.insert(internal.clone(), external.clone());
            }
            Change::MeetingEnded { internal } => {
                self.meetings.remove(internal);
            }
        }
    }

    /// Number of meetings known.
    pub fn meeting_count(&self) -> usize {
        self.meetings.len()
    }
}

/// Maps one raw message. `now_ms` is the wall clock, for `data.event.ts`.
pub fn map(msg: &Value, state: &State, _now_ms: u64) -> Output {
    let mut out = Output::default();
    if let Some(id) = msg.pointer("/data/id").and_then(Value::as_str) {
        // Already in the webhook format: pass through unchanged.
        let internal = msg
            .pointer("/data/attributes/meeting/internal-meeting-id")
            .and_then(Value::as_str);
        let external = msg
            .pointer("/data/attributes/meeting/external-meeting-id")
            .and_then(Value::as_str);
        out.events.push(Mapped {
            id: id.to_owned(),
            internal_meeting_id: internal.map(str::to_owned),
            external_meeting_id: external
                .map(str::to_owned)
                .or_else(|| lookup(state, internal)),
            json: msg.clone(),
        });
        return out;
    }
    if let (Some(event), Some(meeting)) = (
        msg.get("event").and_then(Value::as_str),
        msg.get("meetingID").and_then(Value::as_str),
    ) {
        // The draft specification's own format (`bigbluebutton:events`).
        out.events.push(Mapped {
            id: event.to_owned(),
            internal_meeting_id: Some(meeting.to_owned()),
            external_meeting_id: lookup(state, Some(meeting)),
            json: msg.clone(),
        });
        return out;
    }
    let name = msg.pointer("/envelope/name").and_then(Value::as_str);
    match name {
        Some("MeetingCreatedEvtMsg") => {
            let prop = msg.pointer("/core/body/props/meetingProp");
            let int = prop.and_then(|p| p.get("intId")).and_then(Value::as_str);
            let ext = prop.and_then(|p| p.get("extId")).and_then(Value::as_str);
            if let (Some(int), Some(ext)) = (int, ext) {
                out.changes.push(Change::MeetingCreated {
                    internal: int.to_owned(),
                    external: ext.to_owned(),
                });
            }
        }
        Some("MeetingDestroyedEvtMsg") => {
            if let Some(int) = msg.pointer("/core/body/meetingId").and_then(Value::as_str) {
                out.changes.push(Change::MeetingEnded {
                    internal: int.to_owned(),
                });
            }
        }
        _ => {}
    }
    out
}

fn lookup(state: &State, internal: Option<&str>) -> Option<String> {
    internal
        .and_then(|i| state.external_meeting_id(i))
        .map(str::to_owned)
}
