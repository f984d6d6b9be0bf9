//! The xAPI output (XAPI.md, issue 14): mapped webhook events in, xAPI
//! statements for a Learning Record Store out, as the reference
//! (bbb-webhooks 3.x, `src/out/xapi`) sends them. This is the pure core;
//! nothing here does network or Redis I/O.
//!
//! The caller (the ingest thread) calls [`process`] for every mapped event,
//! in order, persists the returned [`Change`]s with
//! [`crate::store::xapi::persist`], applies them to its [`State`], then
//! queues the [`Statement`] for its [`Destination`]; a [`Skip`] says why
//! there is none, for logs and metrics. Periodically it persists and applies
//! [`State::expired`]. At start, [`crate::store::xapi::load`] reads the
//! state back.
//!
//! ```
//! use bbb_webhooks::config::Secret;
//! use bbb_webhooks::xapi::{self, LrsDefaults, Namespace, State, XapiSettings};
//! use serde_json::json;
//!
//! let cfg = XapiSettings {
//!     namespace: Namespace::parse("22946e5b-1860-4436-a025-cb133ca4c1d3").unwrap(),
//!     domain: "bbb.example.com".into(),
//!     secret: Secret::new("shared secret"),
//!     lrs: LrsDefaults { endpoint: Some("https://lrs.example.com/".into()), ..Default::default() },
//!     time_zone: xapi::zone::system().0,
//! };
//! let mut state = State::default();
//! let created = json!({"data": {"type": "event", "id": "meeting-created", "event": {"ts": 1},
//!     "attributes": {"meeting": {"internal-meeting-id": "int-1", "external-meeting-id": "ext-1",
//!         "name": "Room", "duration": 0, "create-time": 1698771157700_u64, "metadata": {}}}}});
//! let out = xapi::process(&created, &state, &cfg, 1_700_000_000_000);
//! // store::xapi::persist(&mut conn, &out.changes)?, then:
//! for change in &out.changes {
//!     state.apply(change);
//! }
//! let statement = out.statement.unwrap();
//! assert_eq!(statement.destination.url(), "https://lrs.example.com/xAPI/statements");
//! assert!(statement.body_text().starts_with(r#"{"actor":{"account":{"name":"<unknown>","#));
//! assert!(state.meeting("int-1").is_some());
//! ```
//!
//! The pieces: [`js`] (JavaScript value semantics), [`format`] (luxon's
//! instants and durations), [`zone`] (local time zone), [`id`] (UUID v5
//! namespace), [`payload`] (the encrypted per-meeting LRS payload), [`lrs`]
//! (destinations), `state`, `statement` (templates) and `process` (the
//! per-event rules).

pub mod base64;
pub mod encoding;
pub mod format;
pub mod id;
mod interactions;
pub mod js;
pub mod lrs;
pub mod payload;
mod posix_tz;
mod process;
mod state;
mod statement;
#[cfg(test)]
mod tests;
mod tzif;
pub mod zone;

use std::fmt;

use serde_json::Value;

use crate::config::Secret;

pub use id::Namespace;
pub use lrs::{Destination, LrsDefaults, Unroutable};
pub use payload::PayloadError;
pub use process::{process, route};
pub use state::{
    Change, MeetingRecord, PollRecord, Records, State, UserRecord, ENDED_RETENTION_MS,
};
pub use zone::TimeZone;

/// What the output needs from the configuration.
#[derive(Clone, Debug)]
pub struct XapiSettings {
    /// `BBB_WEBHOOKS_XAPI_UUID_NAMESPACE`: the namespace of every id.
    pub namespace: Namespace,
    /// The server's domain: host of every activity IRI and of `homePage`.
    pub domain: String,
    /// The shared secret: passphrase of `secret-lrs-payload`, key of
    /// destination ids.
    pub secret: Secret,
    /// The configured LRS.
    pub lrs: LrsDefaults,
    /// The zone of registration dates (see [`zone::system`]).
    pub time_zone: TimeZone,
}

/// One statement and where it goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// The statement, keys in the reference's order.
    pub body: Value,
    pub destination: Destination,
}

impl Statement {
    /// The request body: compact JSON as the reference's `JSON.stringify`
    /// writes it (numbers in JavaScript form).
    pub fn body_text(&self) -> String {
        js::stringify(&self.body)
    }
}

/// What one event yields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    /// The statement to send, if any.
    pub statement: Option<Statement>,
    /// State changes to persist and apply (even when nothing is sent: the
    /// reference stores meetings, users and polls before building).
    pub changes: Vec<Change>,
    /// Why there is no statement.
    pub note: Option<Skip>,
}

/// Why an event gives no statement. For the LRS they are all the same (no
/// POST); the reference "rejects" some and silently accepts others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// Not one of the 16 handled event ids.
    Ignored,
    /// `internal-meeting-id` or `external-meeting-id` is not a string.
    BadMeetingId,
    /// No `meeting-created` was seen for the meeting (or it expired).
    MeetingUnknown,
    /// The meeting has `xapi-enabled` = `"false"`.
    Disabled,
    /// `secret-lrs-payload` cannot be used: at `meeting-created`, the
    /// meeting is then not stored; at load, its statements are dropped.
    BadPayload(PayloadError),
    /// The meeting has no usable LRS destination.
    Unroutable(Unroutable),
    /// No stored user for `A.user["internal-user-id"]`.
    UserUnknown,
    /// No stored poll for `poll-responded`.
    PollUnknown,
    /// `user-audio-voice-enabled` of a listener or a muted microphone.
    MicNotLive,
    /// A value the reference cannot build the statement from (a wrong type
    /// or a missing object); names the field.
    BadValue(&'static str),
}

impl Skip {
    /// Every [`Skip::reason`], at its [`Skip::index`].
    pub const REASONS: [&'static str; 10] = [
        "ignored",
        "bad_meeting_id",
        "meeting_unknown",
        "disabled",
        "bad_payload",
        "unroutable",
        "user_unknown",
        "poll_unknown",
        "mic_not_live",
        "bad_value",
    ];

    /// Where the reason is in [`Skip::REASONS`] (metrics count by it).
    pub fn index(&self) -> usize {
        match self {
            Skip::Ignored => 0,
            Skip::BadMeetingId => 1,
            Skip::MeetingUnknown => 2,
            Skip::Disabled => 3,
            Skip::BadPayload(_) => 4,
            Skip::Unroutable(_) => 5,
            Skip::UserUnknown => 6,
            Skip::PollUnknown => 7,
            Skip::MicNotLive => 8,
            Skip::BadValue(_) => 9,
        }
    }

    /// A short stable name, for metrics labels.
    pub fn reason(&self) -> &'static str {
        Skip::REASONS[self.index()]
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Ignored => f.write_str("not an event xAPI reports"),
            Skip::BadMeetingId => f.write_str("the meeting ids are not strings"),
            Skip::MeetingUnknown => f.write_str("meeting data not found"),
            Skip::Disabled => f.write_str("xAPI is disabled for the meeting"),
            Skip::BadPayload(e) => write!(f, "secret-lrs-payload {e}"),
            Skip::Unroutable(e) => write!(f, "{e}"),
            Skip::UserUnknown => f.write_str("user data not found"),
            Skip::PollUnknown => f.write_str("poll data not found"),
            Skip::MicNotLive => f.write_str("the microphone is not live"),
            Skip::BadValue(field) => {
                write!(f, "{field} has a value the statement cannot be built from")
            }
        }
    }
}
