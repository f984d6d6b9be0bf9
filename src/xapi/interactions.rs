//! The statements of what people do in a meeting (XAPI.md §6.2): join,
//! leave, microphone, camera and screen, raised hands, chat and polls, with
//! the user and poll records they store and read. Called by `process` once
//! the meeting is known and enabled.

use serde_json::{json, Map, Value};

use super::process::{Built, Event, Kind};
use super::statement::{self, Common, Parts};
use super::{format, js, Change, MeetingRecord, PollRecord, Skip, State, UserRecord};

/// `user-joined`: stores the user (first write wins), `join` with the
/// event's own name.
pub(super) fn joined(
    ev: &Event,
    record: &MeetingRecord,
    state: &State,
    changes: &mut Vec<Change>,
) -> Built {
    let user = ev
        .attr(&["user"])
        .filter(|u| !u.is_null())
        .ok_or(Skip::BadValue("user"))?;
    let name = user.get("name");
    // Only truthy string ids are ever looked up (see `stored_user`).
    let id = user.get("internal-user-id").and_then(Value::as_str);
    if let Some(id) = id.filter(|id| !id.is_empty()) {
        if !state.has_user_in(id, ev.internal) {
            changes.push(Change::UserSaved {
                user: id.to_owned(),
                record: UserRecord {
                    record: format!("{}:{id}", ev.internal),
                    meeting: Some(ev.internal.to_owned()),
                    name: name.cloned(),
                },
                at_ms: ev.now_ms,
            });
        }
    }
    let (c, ts) = ev.common(record)?;
    Ok(statement::build(
        &c,
        meeting_parts(
            &c,
            statement::actor(name),
            "http://activitystrea.ms/join",
            ts,
        ),
    ))
}

fn meeting_parts(c: &Common, actor: Value, verb: &'static str, timestamp: Value) -> Parts {
    Parts {
        actor,
        verb,
        object: statement::meeting_object(c),
        parent: false,
        planned: false,
        timestamp,
        result: None,
    }
}

/// The stored user of `A.user["internal-user-id"]` (a truthy string).
fn stored_user<'s>(ev: &Event, state: &'s State) -> Option<(&'s UserRecord, String)> {
    let id = ev
        .attr(&["user", "internal-user-id"])
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())?;
    Some((state.user(id)?, id.to_owned()))
}

/// `user-left`, the microphone, camera and screen events, raise-hand.
pub(super) fn user_event(ev: &Event, kind: Kind, record: &MeetingRecord, state: &State) -> Built {
    if ev.id == "user-audio-voice-enabled" {
        let user = ev
            .attr(&["user"])
            .filter(|u| !u.is_null())
            .ok_or(Skip::BadValue("user"))?;
        if js::loose_eq_true(user.get("listening-only"))
            || js::loose_eq_true(user.get("muted"))
            || js::loose_eq_false(user.get("sharing-mic"))
        {
            return Err(Skip::MicNotLive);
        }
    }
    let (user, user_id) = stored_user(ev, state).ok_or(Skip::UserUnknown)?;
    let (c, ts) = ev.common(record)?;
    let actor = statement::actor(user.name.as_ref());
    let parts = match kind {
        Kind::Media(verb, media) => Parts {
            actor,
            verb,
            object: statement::media_object(
                &c,
                &ev.cfg.namespace.uuid(&format!("{user_id}_{media}")),
                media,
                &js::to_string(user.name.as_ref()),
            ),
            parent: true,
            planned: false,
            timestamp: ts,
            result: None,
        },
        Kind::RaiseHand => {
            let verb = if js::truthy(ev.attr(&["user", "raise-hand"])) {
                "https://w3id.org/xapi/virtual-classroom/verbs/reacted"
            } else {
                "https://w3id.org/xapi/virtual-classroom/verbs/unreacted"
            };
            let emoji = json!({"extensions": {"https://w3id.org/xapi/virtual-classroom/extensions/emoji": "U+1F590"}});
            Parts {
                result: Some(emoji),
                ..meeting_parts(&c, actor, verb, ts)
            }
        }
        _ => meeting_parts(&c, actor, "http://activitystrea.ms/leave", ts),
    };
    Ok(statement::build(&c, parts))
}

/// `chat-group-message-sent`: `posted`, the message id from the sender's
/// `external_user_id` (snake case: `undefined` in practice) and `time`.
pub(super) fn chat(ev: &Event, record: &MeetingRecord) -> Built {
    let sender = ev
        .attr(&["chat-message", "sender"])
        .filter(|s| s.is_object() || s.is_array());
    let sender = sender.ok_or(Skip::BadValue("chat-message.sender"))?;
    let time = sender.get("time");
    let msg_id = format!(
        "{}_{}",
        js::to_string(sender.get("external_user_id")),
        js::to_string(time)
    );
    let (c, ts) = ev.common(record)?;
    let timestamp = match time {
        None => ts,
        Some(t) => format::timestamp(Some(t)).ok_or(Skip::BadValue("chat-message.sender.time"))?,
    };
    let object = statement::chat_object(&c, &ev.cfg.namespace.uuid(&msg_id));
    Ok(statement::build(
        &c,
        Parts {
            actor: statement::actor(sender.get("name")),
            verb: "https://w3id.org/xapi/acrossx/verbs/posted",
            object,
            parent: true,
            planned: false,
            timestamp,
            result: None,
        },
    ))
}

/// `poll-started` (stores the poll, first write wins) and `poll-responded`
/// (from the stored poll). The actor is the stored user, or `<unknown>`.
pub(super) fn poll(
    ev: &Event,
    kind: Kind,
    record: &MeetingRecord,
    state: &State,
    changes: &mut Vec<Change>,
) -> Built {
    let actor = statement::actor(stored_user(ev, state).and_then(|(u, _)| u.name.as_ref()));
    let poll_id = ev
        .attr(&["poll", "id"])
        .and_then(Value::as_str)
        .ok_or(Skip::BadValue("poll.id"))?;
    let object_id = ev.cfg.namespace.uuid(poll_id);
    if kind == Kind::PollResponded {
        let stored = state.poll(&object_id).ok_or(Skip::PollUnknown)?;
        let (c, ts) = ev.common(record)?;
        let ids = ev
            .attr(&["poll", "answerIds"])
            .and_then(Value::as_array)
            .ok_or(Skip::BadValue("poll.answerIds"))?;
        let object =
            statement::poll_object(&c, &object_id, stored.question.as_ref(), &stored.choices);
        let result = Some(json!({ "response": js::join(ids, ",") }));
        return Ok(statement::build(
            &c,
            poll_parts(kind, actor, object, ts, result),
        ));
    }
    let answers = ev
        .attr(&["poll", "answers"])
        .and_then(Value::as_array)
        .ok_or(Skip::BadValue("poll.answers"))?;
    let choices = answers
        .iter()
        .map(choice)
        .collect::<Option<Vec<Value>>>()
        .ok_or(Skip::BadValue("poll.answers"))?;
    let choices = Value::Array(choices);
    let question = ev.attr(&["poll", "question"]);
    if !state.has_poll_in(&object_id, ev.internal) {
        changes.push(Change::PollSaved {
            poll: object_id.clone(),
            record: PollRecord {
                record: format!("{}:{object_id}", ev.internal),
                meeting: Some(ev.internal.to_owned()),
                question: question.cloned(),
                choices: choices.clone(),
            },
            at_ms: ev.now_ms,
        });
    }
    let (c, ts) = ev.common(record)?;
    let object = statement::poll_object(&c, &object_id, question, &choices);
    Ok(statement::build(
        &c,
        poll_parts(kind, actor, object, ts, None),
    ))
}

fn poll_parts(
    kind: Kind,
    actor: Value,
    object: Value,
    timestamp: Value,
    result: Option<Value>,
) -> Parts {
    let verb = if kind == Kind::PollStarted {
        "http://adlnet.gov/expapi/verbs/asked"
    } else {
        "http://adlnet.gov/expapi/verbs/answered"
    };
    Parts {
        actor,
        verb,
        object,
        parent: true,
        planned: false,
        timestamp,
        result,
    }
}

/// `{id: String(a.id), description: {en: a.key}}`; `None` when `a` is not
/// an object with a non-null `id` (the reference throws).
fn choice(answer: &Value) -> Option<Value> {
    let a = answer.as_object()?;
    let id = a.get("id").filter(|v| !v.is_null())?;
    let mut description = Map::new();
    if let Some(key) = a.get("key") {
        description.insert("en".into(), key.clone());
    }
    Some(json!({"id": js::to_string(Some(id)), "description": description}))
}
