//! Templates for content messages from akka-apps: public chat, shared notes
//! (pads), polls and live transcripts.

use serde_json::{Map, Value};

use super::js::{at, or, put, str_at};
use super::{
    event, external_user_id, internal_meeting_id, internal_user_id, known_external_user_id,
    meeting_attribute, State,
};

/// The only chat whose messages are reported; private chats are not.
const PUBLIC_CHAT: &str = "MAIN-PUBLIC-GROUP-CHAT";

/// Maps a content message, or `None` when `name` is not one (or is a private
/// chat message).
pub(super) fn map(name: &str, msg: &Value, state: &State, now_ms: u64) -> Option<Value> {
    let null = Value::Null;
    let body = at(msg, &["core", "body"]).unwrap_or(&null);
    let meeting = internal_meeting_id(msg);
    let (id, rest) = match name {
        "GroupChatMessageBroadcastEvtMsg" => ("chat-group-message-sent", chat(msg, body, state)?),
        "PadContentEvtMsg" => ("pad-content", pad(body)),
        "PollStartedEvtMsg" => ("poll-started", poll(true, msg, body, state)),
        "UserRespondedToPollRespMsg" => ("poll-responded", poll(false, msg, body, state)),
        "TranscriptUpdatedEvtMsg" => ("transcript-updated", transcript(msg, body, state)),
        _ => return None,
    };
    let mut attributes = Map::new();
    attributes.insert(
        "meeting".into(),
        Value::Object(meeting_attribute(meeting, state)),
    );
    attributes.extend(rest);
    Some(event(id, attributes, Value::from(now_ms)))
}

fn chat(msg: &Value, body: &Value, state: &State) -> Option<Map<String, Value>> {
    if str_at(body, &["chatId"]) != Some(PUBLIC_CHAT) {
        return None;
    }
    let user_id = internal_user_id(msg);
    let external =
        known_external_user_id(state, internal_meeting_id(msg), &user_id).map(Value::from);
    let mut sender = Map::new();
    sender.insert("internal-user-id".into(), user_id);
    put(&mut sender, "external-user-id", external.as_ref());
    put(&mut sender, "name", at(body, &["msg", "sender", "name"]));
    put(&mut sender, "time", at(body, &["msg", "timestamp"]));
    let mut message = Map::new();
    put(&mut message, "id", at(body, &["msg", "id"]));
    put(&mut message, "message", at(body, &["msg", "message"]));
    message.insert("sender".into(), Value::Object(sender));
    let mut attributes = Map::new();
    attributes.insert("chat-message".into(), Value::Object(message));
    attributes.insert("chat-id".into(), Value::from(PUBLIC_CHAT));
    Some(attributes)
}

fn pad(body: &Value) -> Map<String, Value> {
    let mut pad = Map::new();
    for (key, field) in [
        ("id", "padId"),
        ("external-pad-id", "externalId"),
        ("rev", "rev"),
        ("start", "start"),
        ("end", "end"),
        ("text", "text"),
    ] {
        put(&mut pad, key, body.get(field));
    }
    let mut attributes = Map::new();
    attributes.insert("pad".into(), Value::Object(pad));
    attributes
}

/// The user an event is about, with the external ID rule of user events.
fn user_attribute(msg: &Value, user_id: Value, body: &Value, state: &State) -> Value {
    let ext = external_user_id(state, internal_meeting_id(msg), &user_id, body);
    let mut user = Map::new();
    user.insert("internal-user-id".into(), user_id);
    user.insert("external-user-id".into(), ext);
    Value::Object(user)
}

fn poll(started: bool, msg: &Value, body: &Value, state: &State) -> Map<String, Value> {
    // A response names the responder in the body; the header names the
    // presenter it is addressed to.
    let responder = body
        .get("userId")
        .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()));
    let user_id = match (started, responder) {
        (false, Some(r)) => r.clone(),
        _ => internal_user_id(msg),
    };
    let mut poll = Map::new();
    put(
        &mut poll,
        "id",
        or(&[body.get("pollId"), at(body, &["poll", "id"])]),
    );
    if started {
        put(&mut poll, "question", body.get("question"));
        put(&mut poll, "answers", at(body, &["poll", "answers"]));
    } else {
        put(&mut poll, "answerIds", body.get("answerIds"));
    }
    let mut attributes = Map::new();
    attributes.insert("user".into(), user_attribute(msg, user_id, body, state));
    attributes.insert("poll".into(), Value::Object(poll));
    attributes
}

fn transcript(msg: &Value, body: &Value, state: &State) -> Map<String, Value> {
    let mut transcript = Map::new();
    for (key, field) in [
        ("id", "transcriptId"),
        ("transcript", "transcript"),
        ("locale", "locale"),
        ("final", "result"),
    ] {
        put(&mut transcript, key, body.get(field));
    }
    let mut attributes = Map::new();
    let user = user_attribute(msg, internal_user_id(msg), body, state);
    attributes.insert("user".into(), user);
    attributes.insert("transcript".into(), Value::Object(transcript));
    attributes
}
