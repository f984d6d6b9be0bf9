//! The statement skeleton of XAPI.md §6.1 and its objects, keys in the
//! reference's order. Builders only: when a statement is made, and from
//! what, is `process`'s.

use serde_json::{json, Map, Value};

use super::id::activity_iri;

/// The activity type of the meeting.
const VIRTUAL_CLASSROOM: &str =
    "https://w3id.org/xapi/virtual-classroom/activity-types/virtual-classroom";
const SESSION_ID: &str = "https://w3id.org/xapi/cmi5/context/extensions/sessionid";
const PLANNED_DURATION: &str = "http://id.tincanapi.com/extension/planned-duration";
/// The actor name of an unknown user.
pub(super) const UNKNOWN: &str = "<unknown>";

/// What every statement of a meeting shares.
pub(super) struct Common<'a> {
    pub domain: &'a str,
    /// `uuid5(external-meeting-id)` of the event.
    pub object_id: String,
    /// `uuid5(internal-meeting-id)` of the event.
    pub session_id: String,
    pub registration: &'a str,
    pub meeting_name: Option<&'a Value>,
    /// The planned duration, already formatted.
    pub planned: String,
}

/// What differs between statements.
pub(super) struct Parts {
    pub actor: Value,
    pub verb: &'static str,
    pub object: Value,
    /// `contextActivities.parent` = the meeting.
    pub parent: bool,
    /// The planned-duration extension (meeting created and ended).
    pub planned: bool,
    pub timestamp: Value,
    pub result: Option<Value>,
}

/// The whole statement.
pub(super) fn build(c: &Common, p: Parts) -> Value {
    let mut activities = Map::new();
    activities.insert(
        "category".into(),
        json!([{"id": "https://w3id.org/xapi/virtual-classroom",
                "definition": {"type": "http://adlnet.gov/expapi/activities/profile"}}]),
    );
    if p.parent {
        activities.insert(
            "parent".into(),
            json!([{"id": activity_iri(c.domain, &c.object_id), "definition": {"type": VIRTUAL_CLASSROOM}}]),
        );
    }
    let mut extensions = Map::new();
    extensions.insert(SESSION_ID.into(), Value::from(c.session_id.as_str()));
    if p.planned {
        extensions.insert(PLANNED_DURATION.into(), Value::from(c.planned.as_str()));
    }
    let mut statement = Map::new();
    statement.insert(
        "actor".into(),
        json!({"account": {"name": p.actor, "homePage": format!("https://{}", c.domain)}}),
    );
    statement.insert("verb".into(), json!({ "id": p.verb }));
    statement.insert("object".into(), p.object);
    statement.insert(
        "context".into(),
        json!({
            "registration": c.registration,
            "contextActivities": activities,
            "extensions": extensions,
        }),
    );
    statement.insert("timestamp".into(), p.timestamp);
    if let Some(result) = p.result {
        statement.insert("result".into(), result);
    }
    Value::Object(statement)
}

/// `{"en": v}`, or `{}` when `v` is absent (`JSON.stringify` drops it).
fn en(v: Option<&Value>) -> Value {
    let mut m = Map::new();
    if let Some(v) = v {
        m.insert("en".into(), v.clone());
    }
    Value::Object(m)
}

/// The meeting as the object: MEETING-OBJECT.
pub(super) fn meeting_object(c: &Common) -> Value {
    json!({
        "id": activity_iri(c.domain, &c.object_id),
        "definition": {"type": VIRTUAL_CLASSROOM, "name": en(c.meeting_name)},
    })
}

/// A user's microphone, camera or screen: MEDIA(m). `name` is the text of
/// the stored name (`undefined` when absent, `null` for null).
pub(super) fn media_object(c: &Common, uuid: &str, media: &str, name: &str) -> Value {
    json!({
        "id": activity_iri(c.domain, uuid),
        "definition": {
            "type": format!("https://w3id.org/xapi/virtual-classroom/activity-types/{media}"),
            "name": {"en": format!("{name}'s {media}")},
        },
    })
}

/// A chat message: CHAT.
pub(super) fn chat_object(c: &Common, uuid: &str) -> Value {
    json!({
        "id": activity_iri(c.domain, uuid),
        "definition": {"type": "https://w3id.org/xapi/acrossx/activities/message"},
    })
}

/// A poll: POLL.
pub(super) fn poll_object(
    c: &Common,
    uuid: &str,
    question: Option<&Value>,
    choices: &Value,
) -> Value {
    json!({
        "id": activity_iri(c.domain, uuid),
        "definition": {
            "description": en(question),
            "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
            "interactionType": "choice",
            "choices": choices,
        },
    })
}

/// `name || "<unknown>"`.
pub(super) fn actor(name: Option<&Value>) -> Value {
    match name {
        Some(v) if super::js::truthy(Some(v)) => v.clone(),
        _ => Value::from(UNKNOWN),
    }
}
