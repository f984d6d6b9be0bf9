//! The xAPI records as Redis hash fields (XAPI.md §7.2), both ways: written
//! as the reference writes them (strings; null fields left out; numbers in
//! JavaScript form; objects and arrays as JSON text of their values so
//! written, which double-encodes poll choices), plus this service's
//! `last_activity`, `ended_at`, `internal_meeting_id` and `json` (the values
//! as received, which the strings lose: `null`, numbers); and read back,
//! from ours or from the reference's. Pure: `crate::store::xapi` does I/O.

use serde_json::{Map, Value};

use super::{js, Destination, MeetingRecord, PollRecord, Skip, UserRecord};
use crate::store::{field, required, stored_text, Hash};

/// A meeting record read back, with its activity time and end.
#[derive(Clone, Debug)]
pub struct LoadedMeeting {
    pub record: MeetingRecord,
    pub at_ms: u64,
    pub ended_at: Option<u64>,
}

/// The fields of a user record of `user`.
pub fn user_fields(user: &str, record: &UserRecord) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("id", record.record.clone()),
        ("external_user_id", user.to_owned()),
    ];
    fields.extend(record.name.as_ref().and_then(text).map(|n| ("name", n)));
    fields.extend(record.meeting.clone().map(|m| ("internal_meeting_id", m)));
    fields.push(("json", values_json(&[("name", record.name.as_ref())])));
    fields
}

/// The fields of a poll record of poll object id `poll`.
pub fn poll_fields(poll: &str, record: &PollRecord) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("id", record.record.clone()),
        ("object_id", poll.to_owned()),
    ];
    fields.extend(
        record
            .question
            .as_ref()
            .and_then(text)
            .map(|q| ("question", q)),
    );
    fields.extend(text(&record.choices).map(|c| ("choices", c)));
    fields.extend(record.meeting.clone().map(|m| ("internal_meeting_id", m)));
    let values = [
        ("question", record.question.as_ref()),
        ("choices", Some(&record.choices)),
    ];
    fields.push(("json", values_json(&values)));
    fields
}

/// The fields of a meeting record active at `at_ms`.
pub fn meeting_fields(m: &MeetingRecord, at_ms: u64) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("id", m.record.clone()),
        ("internal_meeting_id", m.internal_meeting_id.clone()),
        ("context_registration", m.registration.clone()),
    ];
    fields.extend(
        m.planned_duration
            .as_ref()
            .and_then(text)
            .map(|d| ("planned_duration", d)),
    );
    fields.push(("create_time", js::number_to_string(m.create_time)));
    fields.extend(
        m.meeting_name
            .as_ref()
            .and_then(text)
            .map(|n| ("meeting_name", n)),
    );
    fields.push(("xapi_enabled", m.enabled.to_string()));
    fields.extend(text(&m.actor_name).map(|a| ("create_end_actor_name", a)));
    fields.extend(m.lrs_payload.clone().map(|p| ("lrs_payload", p)));
    let values = [
        ("planned_duration", m.planned_duration.as_ref()),
        ("meeting_name", m.meeting_name.as_ref()),
        ("create_end_actor_name", Some(&m.actor_name)),
    ];
    fields.push(("json", values_json(&values)));
    fields.push(("last_activity", at_ms.to_string()));
    fields
}

/// The `json` field: the values that are there, as JSON.
fn values_json(values: &[(&str, Option<&Value>)]) -> String {
    let present = values
        .iter()
        .filter_map(|(k, v)| Some((k.to_string(), (*v)?.clone())));
    Value::Object(present.collect()).to_string()
}

/// The values of a `json` field, if the record has one (ours do).
fn values_of(hash: &Hash) -> Result<Option<Map<String, Value>>, String> {
    match field(hash, "json")?.map(serde_json::from_str::<Value>) {
        None => Ok(None),
        Some(Ok(Value::Object(values))) => Ok(Some(values)),
        Some(_) => Err("json is not a JSON object".into()),
    }
}

/// A value from the `json` field if there is one, else the string field.
fn typed(
    hash: &Hash,
    values: &Option<Map<String, Value>>,
    name: &str,
) -> Result<Option<Value>, String> {
    match values {
        Some(values) => Ok(values.get(name).cloned()),
        None => Ok(field(hash, name)?.map(Value::from)),
    }
}

/// A field value as the reference writes it (`null` leaves the field out;
/// numbers in JavaScript form).
fn text(v: &Value) -> Option<String> {
    stored_text(v, |n| js::number_to_string(n.as_f64().unwrap_or(f64::NAN)))
}

fn millis(hash: &Hash, name: &str) -> Result<Option<u64>, String> {
    field(hash, name)?
        .map(|t| t.parse().map_err(|_| format!("{name} is not a time")))
        .transpose()
}

/// Reads meeting record `id`; `resolve` gives the destination of its
/// `lrs_payload` (see `xapi::route`). The reference's records have no
/// activity time: their creation time stands in (`now_ms` if it is in the
/// future), so a server switching keeps its running meetings and soon
/// drops the old ones.
pub fn meeting(
    id: &str,
    hash: &Hash,
    now_ms: u64,
    resolve: impl FnOnce(Option<&str>) -> Result<Destination, Skip>,
) -> Result<LoadedMeeting, String> {
    let create_time = js::string_to_number(required(hash, "create_time")?);
    if !create_time.is_finite() {
        return Err("create_time is not a number".into());
    }
    let values = values_of(hash)?;
    let string = |name| typed(hash, &values, name);
    let record = MeetingRecord {
        record: id.to_owned(),
        internal_meeting_id: required(hash, "internal_meeting_id")?.to_owned(),
        registration: required(hash, "context_registration")?.to_owned(),
        planned_duration: string("planned_duration")?,
        create_time,
        meeting_name: string("meeting_name")?,
        enabled: field(hash, "xapi_enabled")? == Some("true"),
        actor_name: string("create_end_actor_name")?.unwrap_or_else(|| Value::from("<unknown>")),
        lrs_payload: field(hash, "lrs_payload")?.map(str::to_owned),
        destination: resolve(field(hash, "lrs_payload")?),
    };
    let created =
        (create_time >= 0.0 && create_time <= now_ms as f64).then_some(create_time as u64);
    let at_ms = millis(hash, "last_activity")?.or(created).unwrap_or(now_ms);
    let ended_at = millis(hash, "ended_at")?;
    Ok(LoadedMeeting {
        record,
        at_ms,
        ended_at,
    })
}

/// Reads user record `id`: the user id and the record.
pub fn user(id: &str, hash: &Hash) -> Result<(String, UserRecord), String> {
    let record = UserRecord {
        record: id.to_owned(),
        meeting: field(hash, "internal_meeting_id")?.map(str::to_owned),
        name: typed(hash, &values_of(hash)?, "name")?,
    };
    Ok((required(hash, "external_user_id")?.to_owned(), record))
}

/// Reads poll record `id`: the poll object id and the record.
pub fn poll(id: &str, hash: &Hash) -> Result<(String, PollRecord), String> {
    let values = values_of(hash)?;
    let choices = match values.as_ref().and_then(|v| v.get("choices")) {
        Some(choices) => choices.clone(),
        None => {
            choices(required(hash, "choices")?).ok_or("choices are not the reference's encoding")?
        }
    };
    let record = PollRecord {
        record: id.to_owned(),
        meeting: field(hash, "internal_meeting_id")?.map(str::to_owned),
        question: typed(hash, &values, "question")?,
        choices,
    };
    Ok((required(hash, "object_id")?.to_owned(), record))
}

/// Undoes the double encoding of poll choices: a JSON array of JSON texts
/// of `{"id": .., "description": "<JSON text of {"en": ..}>"}`.
fn choices(text: &str) -> Option<Value> {
    let Value::Array(items) = serde_json::from_str(text).ok()? else {
        return None;
    };
    let decoded = items.iter().map(|item| {
        let Value::Object(choice) = serde_json::from_str(item.as_str()?).ok()? else {
            return None;
        };
        let mut out = Map::new();
        for (k, v) in choice {
            let v = match (k.as_str(), v) {
                ("description", Value::String(d)) => serde_json::from_str::<Value>(&d)
                    .ok()
                    .filter(Value::is_object)?,
                (_, v) => v,
            };
            out.insert(k, v);
        }
        Some(Value::Object(out))
    });
    decoded.collect::<Option<Vec<_>>>().map(Value::Array)
}

#[cfg(test)]
#[path = "tests/encoding.rs"]
mod tests;
