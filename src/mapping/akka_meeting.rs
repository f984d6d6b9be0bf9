//! Templates for meeting-level akka-apps messages: meeting created/ended,
//! recording status, current presentation, screen sharing. Builds the event
//! only; state changes happen in `process`.

use serde_json::{Map, Value};

use super::js::{at, put};
use super::{event, internal_meeting_id, internal_user_id, meeting_attribute, State};

/// Maps a meeting message, or `None` when `name` is not one.
pub(super) fn map(name: &str, msg: &Value, state: &State, now_ms: u64) -> Option<Value> {
    let id = match name {
        "MeetingCreatedEvtMsg" => return Some(created(msg, now_ms)),
        "MeetingDestroyedEvtMsg" => "meeting-ended",
        "RecordingStatusChangedEvtMsg" => {
            match at(msg, &["core", "body", "recording"]).and_then(Value::as_bool) {
                Some(true) => "meeting-recording-started",
                Some(false) => "meeting-recording-stopped",
                None => "meeting-recording-unhandled",
            }
        }
        "SetCurrentPresentationEvtMsg" => "meeting-presentation-changed",
        "ScreenshareRtmpBroadcastStartedEvtMsg" => "meeting-screenshare-started",
        "ScreenshareRtmpBroadcastStoppedEvtMsg" => "meeting-screenshare-stopped",
        _ => return None,
    };
    let internal = internal_meeting_id(msg);
    let mut meeting = meeting_attribute(internal, state);
    if id == "meeting-presentation-changed" {
        let presentation = at(msg, &["core", "body", "presentationId"]);
        put(&mut meeting, "presentation-id", presentation);
    }
    let mut attributes = Map::new();
    attributes.insert("meeting".into(), Value::Object(meeting));
    if matches!(
        id,
        "meeting-screenshare-started" | "meeting-screenshare-stopped"
    ) {
        if let Some(user) = screenshare_user(id, msg, internal, state) {
            attributes.insert("user".into(), Value::Object(user));
        }
    }
    Some(event(id, attributes, Value::from(now_ms)))
}

/// `meeting-created`: the meeting's properties, flattened.
fn created(msg: &Value, now_ms: u64) -> Value {
    let props = at(msg, &["core", "body", "props"]).unwrap_or(&Value::Null);
    let fields: [(&str, &[&str]); 18] = [
        ("internal-meeting-id", &["meetingProp", "intId"]),
        ("external-meeting-id", &["meetingProp", "extId"]),
        ("name", &["meetingProp", "name"]),
        ("is-breakout", &["meetingProp", "isBreakout"]),
        ("parent-id", &["breakoutProps", "parentId"]),
        ("duration", &["durationProps", "duration"]),
        ("create-time", &["durationProps", "createdTime"]),
        ("create-date", &["durationProps", "createdDate"]),
        ("moderator-pass", &["password", "moderatorPass"]),
        ("viewer-pass", &["password", "viewerPass"]),
        ("record", &["recordProp", "record"]),
        ("voice-conf", &["voiceProp", "voiceConf"]),
        ("dial-number", &["voiceProp", "dialNumber"]),
        ("max-users", &["usersProp", "maxUsers"]),
        ("metadata", &["metadataProp", "metadata"]),
        ("audioBridge", &["meetingProp", "audioBridge"]),
        ("cameraBridge", &["meetingProp", "cameraBridge"]),
        ("screenShareBridge", &["meetingProp", "screenShareBridge"]),
    ];
    let mut meeting = Map::new();
    for (key, path) in fields {
        put(&mut meeting, key, at(props, path));
    }
    let mut attributes = Map::new();
    attributes.insert("meeting".into(), Value::Object(meeting));
    event("meeting-created", attributes, Value::from(now_ms))
}

/// Who shares the screen: the message's user when it names one (BBB 3.0.11
/// and later), else the meeting's presenter (start) or the user marked as
/// sharing (stop). `None` when nobody is known.
fn screenshare_user(
    id: &str,
    msg: &Value,
    meeting: Option<&Value>,
    state: &State,
) -> Option<Map<String, Value>> {
    let meeting_id = meeting.and_then(Value::as_str);
    let mut user_id = internal_user_id(msg);
    if user_id.is_null() {
        let users = meeting_id.map(|m| state.users(m)).unwrap_or_default();
        let flag = if id == "meeting-screenshare-started" {
            "presenter"
        } else {
            "screenshare"
        };
        let owner = users.iter().find(|u| super::js::flag(u.attrs.get(flag)))?;
        user_id = Value::from(owner.internal.as_str());
    }
    let external = super::known_external_user_id(state, meeting, &user_id).map(Value::from);
    let mut user = Map::new();
    user.insert("internal-user-id".into(), user_id);
    put(&mut user, "external-user-id", external.as_ref());
    Some(user)
}
