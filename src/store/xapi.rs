//! The xAPI state in Redis, in the reference's layout, so a restart in the
//! middle of a meeting keeps its statements right: [`persist`] writes the
//! [`Change`]s `xapi::process` returns, [`load`] reads the state back at
//! start (the reference writes these records but never reads them).
//!
//! Layout: a SET of record ids and a HASH per record, for meetings, users
//! and polls (key names in [`super::keys`], fields in
//! [`crate::xapi::encoding`]). Record ids are deterministic (`<meeting>`,
//! `<meeting>:<user>`, `<meeting>:<poll object id>`) where the reference's
//! are random, and users and polls name their meeting, so that a meeting's
//! records expire together. The reference's records load too, as records
//! of no meeting.

use std::collections::HashMap;

use serde_json::Value;

use super::Hash;
use super::{keys, remove_records};
use crate::xapi::encoding::{self, LoadedMeeting};
use crate::xapi::{route, Change, Destination, PollRecord, Skip, State, UserRecord, XapiSettings};

/// Persists changes in one MULTI/EXEC.
pub fn persist(conn: &mut redis::Connection, changes: &[Change]) -> redis::RedisResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut pipe = redis::pipe();
    pipe.atomic();
    for change in changes {
        match change {
            Change::MeetingSaved { meeting, at_ms } => {
                let key = keys::xapi_meeting(&meeting.record);
                let fields = encoding::meeting_fields(meeting, *at_ms);
                pipe.cmd("DEL").arg(&key).ignore();
                pipe.cmd("HSET").arg(&key).arg(fields).ignore();
                pipe.cmd("SADD")
                    .arg(keys::XAPI_MEETINGS)
                    .arg(&meeting.record)
                    .ignore();
            }
            Change::MeetingActive { record, at_ms, .. } => {
                let key = keys::xapi_meeting(record);
                pipe.cmd("HSET")
                    .arg(&key)
                    .arg("last_activity")
                    .arg(at_ms.to_string())
                    .ignore();
                pipe.cmd("HDEL").arg(&key).arg("ended_at").ignore();
            }
            Change::MeetingEnded { record, at_ms, .. } => {
                let key = keys::xapi_meeting(record);
                pipe.cmd("HSET")
                    .arg(key)
                    .arg("ended_at")
                    .arg(at_ms.to_string())
                    .ignore();
            }
            Change::Expired { records, .. } => {
                let (meetings, users, polls) = (&records.meetings, &records.users, &records.polls);
                remove_records(&mut pipe, keys::XAPI_MEETINGS, keys::xapi_meeting, meetings);
                remove_records(&mut pipe, keys::XAPI_USERS, keys::xapi_user, users);
                remove_records(&mut pipe, keys::XAPI_POLLS, keys::xapi_poll, polls);
            }
            Change::UserSaved { user, record, .. } => {
                let fields = encoding::user_fields(user, record);
                pipe.cmd("HSET")
                    .arg(keys::xapi_user(&record.record))
                    .arg(fields)
                    .ignore();
                pipe.cmd("SADD")
                    .arg(keys::XAPI_USERS)
                    .arg(&record.record)
                    .ignore();
            }
            Change::PollSaved { poll, record, .. } => {
                let fields = encoding::poll_fields(poll, record);
                pipe.cmd("HSET")
                    .arg(keys::xapi_poll(&record.record))
                    .arg(fields)
                    .ignore();
                pipe.cmd("SADD")
                    .arg(keys::XAPI_POLLS)
                    .arg(&record.record)
                    .ignore();
            }
        }
    }
    pipe.exec(conn)
}

/// The first of the sets that index the xAPI records
/// ([`keys::XAPI_INDEX_SETS`]) that is not a SET, with its type: startup
/// stops and names it, as [`super::index_of_wrong_type`] does for the
/// others, rather than failing every load.
pub fn index_of_wrong_type(
    conn: &mut redis::Connection,
) -> redis::RedisResult<Option<(&'static str, String, &'static str)>> {
    super::first_of_wrong_type(conn, &keys::XAPI_INDEX_SETS.map(|k| (k, "set")))
}

/// Loads the state, at the wall clock. Returns it with the number of
/// records skipped as corrupt (each logged at warn).
pub fn load(
    conn: &mut redis::Connection,
    cfg: &XapiSettings,
) -> redis::RedisResult<(State, usize)> {
    load_at(conn, cfg, crate::clock::now_ms())
}

/// [`load`] at `now_ms`: the activity time of records that have none. Each
/// meeting's destination is resolved again, from its payload with the
/// current secret and configuration.
pub fn load_at(
    conn: &mut redis::Connection,
    cfg: &XapiSettings,
    now_ms: u64,
) -> redis::RedisResult<(State, usize)> {
    let mut skipped = 0;
    let mut skip = |kind: &str, id: &str, why: String| {
        log::warn!("skipping xAPI {kind} record {id}: {why}");
        skipped += 1;
    };
    // Scalelite gives every meeting of a tenant the same payload: decrypt it once.
    let mut routes: HashMap<Option<String>, Result<Destination, Skip>> = HashMap::new();
    let mut resolve = |payload: Option<&str>| {
        let entry = routes.entry(payload.map(str::to_owned));
        entry
            .or_insert_with(|| route(payload.map(Value::from).as_ref(), cfg))
            .clone()
    };
    let mut meetings: Vec<LoadedMeeting> = Vec::new();
    for (id, hash) in super::read_records(conn, keys::XAPI_MEETINGS, keys::xapi_meeting)? {
        match hash.and_then(|h| encoding::meeting(&id, &h, now_ms, &mut resolve)) {
            Ok(m) => meetings.push(m),
            Err(why) => skip("meeting", &id, why),
        }
    }
    // Oldest first, so that of two records for one meeting the oldest wins.
    meetings.sort_by(|a, b| {
        let (a, b) = (&a.record, &b.record);
        a.create_time
            .total_cmp(&b.create_time)
            .then_with(|| a.record.cmp(&b.record))
    });
    let mut state = State::default();
    let mut created: HashMap<String, f64> = HashMap::new();
    for LoadedMeeting {
        record,
        at_ms,
        ended_at,
    } in meetings
    {
        let (meeting, id) = (record.internal_meeting_id.clone(), record.record.clone());
        created.entry(meeting.clone()).or_insert(record.create_time);
        state.apply(&Change::MeetingSaved {
            meeting: record,
            at_ms,
        });
        if let Some(at_ms) = ended_at {
            state.apply(&Change::MeetingEnded {
                meeting,
                record: id,
                at_ms,
            });
        }
    }
    let users = Indexed {
        kind: "user",
        set: keys::XAPI_USERS,
        key: keys::xapi_user,
        read: encoding::user,
        place: |r: &UserRecord| (r.meeting.as_deref(), r.record.as_str()),
        saved: |user, record, at_ms| Change::UserSaved {
            user,
            record,
            at_ms,
        },
    };
    load_indexed(conn, &users, &created, now_ms, &mut state, &mut skip)?;
    let polls = Indexed {
        kind: "poll",
        set: keys::XAPI_POLLS,
        key: keys::xapi_poll,
        read: encoding::poll,
        place: |r: &PollRecord| (r.meeting.as_deref(), r.record.as_str()),
        saved: |poll, record, at_ms| Change::PollSaved {
            poll,
            record,
            at_ms,
        },
    };
    load_indexed(conn, &polls, &created, now_ms, &mut state, &mut skip)?;
    let (m, u, p) = state.counts();
    log::info!("loaded {m} xAPI meeting, {u} user and {p} poll records ({skipped} skipped)");
    Ok((state, skipped))
}

/// Records of one kind (users or polls) that a SET indexes: how they are
/// read, ordered and applied.
struct Indexed<R> {
    /// What the warning about a corrupt record calls it.
    kind: &'static str,
    set: &'static str,
    key: fn(&str) -> String,
    read: Read<R>,
    /// The record's meeting and id, which order the records.
    place: fn(&R) -> (Option<&str>, &str),
    /// The change that applies the record, active at the time given.
    saved: fn(String, R, u64) -> Change,
}

/// Reads the record of an id from its hash: the user or poll it is of and
/// the record.
type Read<R> = fn(&str, &Hash) -> Result<(String, R), String>;

/// Where `record` goes in the load order: its meeting's creation time
/// (from `created`; none for a record of no meeting) and its id.
fn order<'r, R>(
    what: &Indexed<R>,
    created: &HashMap<String, f64>,
    record: &'r R,
) -> (f64, &'r str) {
    let (meeting, id) = (what.place)(record);
    let created = meeting.and_then(|m| created.get(m)).copied();
    (created.unwrap_or(f64::NEG_INFINITY), id)
}

/// Reads the records `what` describes and applies them, active at
/// `now_ms`: records of older meetings (`created` gives their creation
/// times; the reference's records, of no meeting, before all) first.
fn load_indexed<R>(
    conn: &mut redis::Connection,
    what: &Indexed<R>,
    created: &HashMap<String, f64>,
    now_ms: u64,
    state: &mut State,
    skip: &mut dyn FnMut(&str, &str, String),
) -> redis::RedisResult<()> {
    let mut records = Vec::new();
    for (id, hash) in super::read_records(conn, what.set, what.key)? {
        match hash.and_then(|h| (what.read)(&id, &h)) {
            Ok(r) => records.push(r),
            Err(why) => skip(what.kind, &id, why),
        }
    }
    records.sort_by(|(_, a), (_, b)| {
        let (a_created, a_id) = order(what, created, a);
        let (b_created, b_id) = order(what, created, b);
        a_created.total_cmp(&b_created).then_with(|| a_id.cmp(b_id))
    });
    for (of, record) in records {
        state.apply(&(what.saved)(of, record, now_ms));
    }
    Ok(())
}
