//! The mapping state in Redis, in the reference application's layout, so that
//! a server switching from the reference (or back) keeps its meeting and user
//! mappings mid-meeting: [`persist`] writes the [`Change`]s the pure mapping
//! returns, [`load`] reads the state back at start.
//!
//! Layout (key names in [`super::keys`]):
//! - meetings: SET `bigbluebutton:webhooks:proc:mappings` of record ids and a
//!   HASH `bigbluebutton:webhooks:proc:mapping:<id>` with the string fields
//!   `id`, `internalMeetingID`, `externalMeetingID`, `lastActivity` (ms);
//! - users: SET `bigbluebutton:webhooks:proc:userMaps` and a HASH
//!   `bigbluebutton:webhooks:proc:userMap:<id>` with `id`, `internalUserID`,
//!   `externalUserID`, `meetingId` and `user`, the user's attributes as a JSON
//!   object whose values are all strings (nested objects as JSON text), as the
//!   reference writes them.
//!
//! The reference's record ids are UUIDs; ours are the internal meeting ID and
//! `<internal meeting ID>:<internal user ID>`. Either loads in either.

use serde_json::{Map, Value};

use super::{field, keys, remove_records, required, stored_members, Hash};
use crate::mapping::{Change, State, UserRecord};

/// User attributes the reference stores as `"true"`/`"false"` and that are
/// booleans again when loaded.
const BOOLEAN_ATTRS: &[&str] = &[
    "presenter",
    "guest",
    "screenshare",
    "raiseHand",
    "listening-only",
    "sharing-mic",
    "muted",
    "raise-hand",
];

/// Loads the state. Returns it with the number of corrupt records skipped
/// (each logged at warn).
pub fn load(conn: &mut redis::Connection) -> redis::RedisResult<(State, usize)> {
    let now_ms = crate::clock::now_ms();
    let mut state = State::default();
    let mut skipped = 0;

    let mut meetings = Vec::new();
    for (id, hash) in super::read_records(conn, keys::MAPPINGS, keys::mapping)? {
        match hash.and_then(|hash| meeting_change(&id, &hash, now_ms)) {
            Ok(change) => meetings.push(change),
            Err(why) => {
                log::warn!("skipping meeting mapping {id}: {why}");
                skipped += 1;
            }
        }
    }
    // Oldest first, so that of two records for one meeting the newest wins.
    meetings.sort_by_key(|c| match c {
        Change::MeetingCreated { at_ms, .. } => *at_ms,
        _ => 0,
    });
    for change in &meetings {
        state.apply(change);
    }
    for (id, hash) in super::read_records(conn, keys::USER_MAPS, keys::user_map)? {
        match hash.and_then(|hash| user_change(&id, &hash, now_ms)) {
            Ok(change) => state.apply(&change),
            Err(why) => {
                log::warn!("skipping user mapping {id}: {why}");
                skipped += 1;
            }
        }
    }
    log::info!(
        "loaded {} meeting and {} user mappings ({skipped} skipped)",
        state.meeting_count(),
        state.user_count()
    );
    Ok((state, skipped))
}

/// Persists changes in one MULTI/EXEC.
pub fn persist(conn: &mut redis::Connection, changes: &[Change]) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    pipe.atomic();
    for change in changes {
        match change {
            Change::MeetingCreated {
                internal,
                external,
                record,
                at_ms,
            } => {
                pipe.cmd("HSET")
                    .arg(keys::mapping(record))
                    .arg(&[
                        ("id", record.as_str()),
                        ("internalMeetingID", internal),
                        ("externalMeetingID", external),
                        ("lastActivity", &at_ms.to_string()),
                    ])
                    .ignore();
                pipe.cmd("SADD").arg(keys::MAPPINGS).arg(record).ignore();
            }
            Change::MeetingActivity {
                record: Some(record),
                at_ms,
                ..
            } => {
                pipe.cmd("HSET")
                    .arg(keys::mapping(record))
                    .arg("lastActivity")
                    .arg(at_ms.to_string())
                    .ignore();
            }
            Change::MeetingActivity { record: None, .. } => {}
            Change::MeetingEnded {
                record,
                user_records,
                ..
            }
            | Change::MeetingExpired {
                record,
                user_records,
                ..
            } => {
                remove_records(&mut pipe, keys::MAPPINGS, keys::mapping, record);
                remove_records(&mut pipe, keys::USER_MAPS, keys::user_map, user_records);
            }
            Change::UserSaved { meeting, user, .. } => {
                let attrs = Value::Object(stringify_values(&user.attrs)).to_string();
                pipe.cmd("HSET")
                    .arg(keys::user_map(&user.record))
                    .arg(&[
                        ("id", user.record.as_str()),
                        ("internalUserID", &user.internal),
                        ("externalUserID", &user.external),
                        ("meetingId", meeting),
                        ("user", &attrs),
                    ])
                    .ignore();
                pipe.cmd("SADD")
                    .arg(keys::USER_MAPS)
                    .arg(&user.record)
                    .ignore();
            }
            Change::UserLeft { record, .. } => {
                remove_records(&mut pipe, keys::USER_MAPS, keys::user_map, [record]);
            }
        }
    }
    if pipe.is_empty() {
        return Ok(());
    }
    pipe.exec(conn)
}

fn meeting_change(id: &str, hash: &Hash, now_ms: u64) -> Result<Change, String> {
    let internal = required(hash, "internalMeetingID")?;
    if internal.is_empty() {
        return Err("empty internalMeetingID".into());
    }
    let external = required(hash, "externalMeetingID")?;
    let at_ms = match field(hash, "lastActivity")? {
        None => now_ms,
        Some(t) => parse_ms(t).ok_or_else(|| "lastActivity is not a time".to_owned())?,
    };
    Ok(Change::MeetingCreated {
        internal: internal.to_owned(),
        external: external.to_owned(),
        record: id.to_owned(),
        at_ms,
    })
}

/// A time in ms as the reference writes it (`'' + number`).
fn parse_ms(s: &str) -> Option<u64> {
    s.parse::<u64>().ok().or_else(|| {
        s.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f as u64)
    })
}

fn user_change(id: &str, hash: &Hash, now_ms: u64) -> Result<Change, String> {
    let internal = required(hash, "internalUserID")?;
    let meeting = required(hash, "meetingId")?;
    if internal.is_empty() || meeting.is_empty() {
        return Err("empty internalUserID or meetingId".into());
    }
    let external = field(hash, "externalUserID")?.unwrap_or("");
    let attrs = match serde_json::from_str::<Value>(required(hash, "user")?) {
        Ok(Value::Object(attrs)) => unstringify_values(attrs),
        _ => return Err("user is not a JSON object".into()),
    };
    Ok(Change::UserSaved {
        meeting: meeting.to_owned(),
        user: UserRecord {
            record: id.to_owned(),
            internal: internal.to_owned(),
            external: external.to_owned(),
            attrs,
        },
        at_ms: now_ms,
    })
}

/// The reference's encoding of a stored object: `null` values dropped, nested
/// objects and arrays as JSON text of their own encoding, everything else as
/// a string (numbers as JSON writes them).
fn stringify_values(obj: &Map<String, Value>) -> Map<String, Value> {
    stored_members(obj, |n| n.to_string())
}

/// Undoes what [`stringify_values`] can be undone safely: known flags become
/// booleans again, `userdata` an object and `session-token` (BBB sends a
/// list) an array of strings.
fn unstringify_values(attrs: Map<String, Value>) -> Map<String, Value> {
    attrs
        .into_iter()
        .map(|(k, v)| {
            let v = match (k.as_str(), v) {
                (key, Value::String(s)) if BOOLEAN_ATTRS.contains(&key) => match s.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => Value::String(s),
                },
                ("userdata", Value::String(s)) => match serde_json::from_str(&s) {
                    Ok(Value::Object(o)) => Value::Object(o),
                    _ => Value::String(s),
                },
                ("session-token", Value::String(s)) => match serde_json::from_str(&s) {
                    Ok(Value::Array(a)) if a.iter().all(Value::is_string) => Value::Array(a),
                    _ => Value::String(s),
                },
                (_, v) => v,
            };
            (k, v)
        })
        .collect()
}
