//! Templates for user-level akka-apps messages: join/leave, audio, camera,
//! presenter, emoji and raised hand. Builds the event only; state changes and
//! the derived raise-hand event happen in `process`. Reads both shapes of the
//! join request's metadata (top-level fields, `joinRequestMetadata`).

use serde_json::{Map, Value};

use super::js::{at, coalesce, flag, or, put, truthy};
use super::{
    event, external_user_id, internal_meeting_id, internal_user_id, meeting_attribute, State,
};

/// Maps a user message, or `None` when `name` is not one.
pub(super) fn map(name: &str, msg: &Value, state: &State, now_ms: u64) -> Option<Value> {
    let id = event_id(name, msg)?;
    let null = Value::Null;
    let body = at(msg, &["core", "body"]).unwrap_or(&null);
    let meeting = internal_meeting_id(msg);
    let user_id = internal_user_id(msg);

    let mut user = Map::new();
    user.insert("internal-user-id".into(), user_id.clone());
    user.insert(
        "external-user-id".into(),
        external_user_id(state, meeting, &user_id, body),
    );
    for (key, field) in [
        ("name", "name"),
        ("role", "role"),
        ("presenter", "presenter"),
    ] {
        put(&mut user, key, body.get(field));
    }
    for (key, field) in [
        ("ip-address", "ipAddress"),
        ("user-agent", "userAgent"),
        ("referer", "referer"),
        ("session-token", "sessionToken"),
    ] {
        put(&mut user, key, join_request_field(body, field));
    }
    // BBB renamed this field more than once.
    let userdata = or(&[
        body.get("userdata"),
        body.get("userMetadata"),
        body.get("userCustomData"),
    ]);
    put(&mut user, "userdata", userdata);
    put(&mut user, "stream", body.get("stream"));

    match id {
        "user-audio-voice-enabled" => {
            let listen_only = body.get("listenOnly");
            put(&mut user, "listening-only", listen_only);
            let sharing = !listen_only.is_some_and(truthy);
            user.insert("sharing-mic".into(), Value::Bool(sharing));
            put(&mut user, "muted", body.get("muted"));
        }
        "user-audio-voice-disabled" => {
            user.insert("listening-only".into(), Value::Bool(false));
            user.insert("sharing-mic".into(), Value::Bool(false));
            user.insert("muted".into(), Value::Bool(true));
        }
        "user-audio-muted" | "user-audio-unmuted" => put(&mut user, "muted", body.get("muted")),
        "user-emoji-changed" => {
            let none = Value::from("none");
            let emoji = or(&[body.get("emoji"), body.get("reactionEmoji"), Some(&none)]);
            put(&mut user, "emoji", emoji);
        }
        "user-raise-hand-changed" => put(&mut user, "raise-hand", body.get("raiseHand")),
        "user-joined" | "user-left" => {
            // A guest flag sent as a string counts when it is "true".
            let known = known_guest(state, meeting, &user_id);
            let guest = match coalesce(body.get("guest"), Some(&known)) {
                Some(Value::Bool(b)) => *b,
                other => flag(other),
            };
            user.insert("guest".into(), Value::Bool(guest));
        }
        _ => {}
    }

    let mut attributes = Map::new();
    attributes.insert(
        "meeting".into(),
        Value::Object(meeting_attribute(meeting, state)),
    );
    attributes.insert("user".into(), Value::Object(user));
    Some(event(id, attributes, Value::from(now_ms)))
}

fn event_id(name: &str, msg: &Value) -> Option<&'static str> {
    Some(match name {
        "UserJoinedMeetingEvtMsg" => "user-joined",
        "UserLeftMeetingEvtMsg" => "user-left",
        "UserJoinedVoiceConfToClientEvtMsg" => "user-audio-voice-enabled",
        "UserLeftVoiceConfToClientEvtMsg" => "user-audio-voice-disabled",
        "UserMutedVoiceEvtMsg" => match at(msg, &["core", "body", "muted"]) {
            Some(Value::Bool(true)) => "user-audio-muted",
            Some(Value::Bool(false)) => "user-audio-unmuted",
            _ => "user-audio-unhandled",
        },
        "UserBroadcastCamStartedEvtMsg" => "user-cam-broadcast-start",
        "UserBroadcastCamStoppedEvtMsg" => "user-cam-broadcast-end",
        "PresenterAssignedEvtMsg" => "user-presenter-assigned",
        "PresenterUnassignedEvtMsg" => "user-presenter-unassigned",
        "UserEmojiChangedEvtMsg" | "UserReactionEmojiChangedEvtMsg" => "user-emoji-changed",
        "UserRaiseHandChangedEvtMsg" => "user-raise-hand-changed",
        _ => return None,
    })
}

/// A field of the request that joined the user. BBB since pull request 24451
/// (January 2026) sends them in one object, `joinRequestMetadata`, under the
/// names older servers (and forks) used at the body's top level. The object's
/// value wins when it is not `null`; else the top-level one, as it is; a
/// field neither place defines is left out.
fn join_request_field<'a>(body: &'a Value, field: &str) -> Option<&'a Value> {
    let nested = at(body, &["joinRequestMetadata", field]);
    coalesce(nested, body.get(field)).or(nested)
}

/// The guest flag remembered from the user's join, `false` when unknown.
fn known_guest(state: &State, meeting: Option<&Value>, user: &Value) -> Value {
    let known = meeting
        .and_then(Value::as_str)
        .zip(user.as_str())
        .and_then(|(m, u)| state.user(m, u))
        .is_some_and(|u| flag(u.attrs.get("guest")));
    Value::Bool(known)
}
