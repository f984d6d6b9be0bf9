//! Redis plumbing: the key layout ([`keys`]), a connection that reconnects on
//! its next use after an error, and the Redis side of the mapping state
//! ([`mapping`]) and of the xAPI state ([`xapi`]). The hooks' records are
//! kept by `hooks::store` and the delivery queues by `delivery::journal`;
//! both take their key names from [`keys`].

pub mod keys;
pub mod mapping;
pub mod xapi;

use std::time::Duration;

use crate::config::RedisUrl;
use crate::error::Result;

/// How long a Redis command may take before the connection is given up.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// A Redis connection that is opened on first use and opened again after a
/// connection error. One per thread; never shared.
pub struct Conn {
    client: redis::Client,
    conn: Option<redis::Connection>,
}

impl Conn {
    /// A connection to `url`; nothing is opened yet.
    pub fn new(url: &RedisUrl) -> Result<Conn> {
        Ok(Conn {
            client: redis::Client::open(url.expose())?,
            conn: None,
        })
    }

    /// Runs `f` on the connection, opening it if needed. After a connection
    /// error (I/O, timeout, dropped) the next call opens a new connection.
    pub fn run<T>(
        &mut self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T> {
        let conn = match &mut self.conn {
            Some(c) => c,
            None => self.conn.insert(open(&self.client)?),
        };
        let res = f(conn);
        if let Err(e) = &res {
            if is_connection_error(e) {
                self.conn = None;
            }
        }
        Ok(res?)
    }
}

/// Whether `e` is about the connection (I/O, timeout, dropped, refused)
/// rather than about the command or the data.
pub fn is_connection_error(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal()
}

/// Opens a connection with the command timeout set.
pub fn open(client: &redis::Client) -> redis::RedisResult<redis::Connection> {
    let conn = client.get_connection_with_timeout(COMMAND_TIMEOUT)?;
    conn.set_read_timeout(Some(COMMAND_TIMEOUT))?;
    conn.set_write_timeout(Some(COMMAND_TIMEOUT))?;
    Ok(conn)
}

/// The first of the keys startup reads whole ([`keys::INDEXES`]) that holds
/// another type than it must, with that type and the one it must have.
/// Every read and write of such a key fails, so startup stops and names it
/// rather than waiting for Redis forever.
pub fn index_of_wrong_type(
    c: &mut redis::Connection,
) -> redis::RedisResult<Option<(&'static str, String, &'static str)>> {
    first_of_wrong_type(c, &keys::INDEXES)
}

/// The first of `keys` (each with the type it must have) that holds
/// another type, with that type and the one it must have.
pub fn first_of_wrong_type(
    c: &mut redis::Connection,
    keys: &[(&'static str, &'static str)],
) -> redis::RedisResult<Option<(&'static str, String, &'static str)>> {
    for &(key, want) in keys {
        let kind: String = redis::cmd("TYPE").arg(key).query(c)?;
        if kind != want && kind != "none" {
            return Ok(Some((key, kind, want)));
        }
    }
    Ok(None)
}

/// A stored record: its HASH fields, raw.
pub type Hash = std::collections::HashMap<String, Vec<u8>>;

/// Why [`read_records`] skips a member whose id is not UTF-8.
pub const ID_NOT_UTF8: &str = "the record id is not UTF-8";

/// Records read in one round trip.
const READ_BATCH: usize = 500;

/// Every record a SET indexes: its members and their hashes (`key` names a
/// member's HASH), the hashes read 500 to a round trip. A record that is
/// not a readable hash, or has none, is an `Err` of its own (a member that
/// is not UTF-8: [`ID_NOT_UTF8`]), so that it is skipped, not the whole
/// load; a connection error fails the whole read.
pub fn read_records(
    conn: &mut redis::Connection,
    set: &str,
    key: fn(&str) -> String,
) -> redis::RedisResult<Vec<(String, std::result::Result<Hash, String>)>> {
    let members: Vec<Vec<u8>> = redis::cmd("SMEMBERS").arg(set).query(conn)?;
    let mut records = Vec::with_capacity(members.len());
    let mut ids = Vec::with_capacity(members.len());
    for member in members {
        match String::from_utf8(member) {
            Ok(id) => ids.push(id),
            Err(e) => records.push((
                String::from_utf8_lossy(e.as_bytes()).into_owned(),
                Err(ID_NOT_UTF8.to_owned()),
            )),
        }
    }
    let mut ids = ids.into_iter().peekable();
    while ids.peek().is_some() {
        let chunk: Vec<String> = ids.by_ref().take(READ_BATCH).collect();
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for id in &chunk {
            pipe.cmd("HGETALL").arg(key(id));
        }
        let replies: Vec<redis::Value> = pipe.query(conn)?;
        let hashes = replies.into_iter().map(|reply| match reply {
            redis::Value::ServerError(e) => Err(format!("not readable as a hash ({e})")),
            other => redis::from_redis_value::<Hash>(other)
                .map_err(|e| format!("not readable as a hash ({e})"))
                .and_then(|h| {
                    if h.is_empty() {
                        Err("no record".to_owned())
                    } else {
                        Ok(h)
                    }
                }),
        });
        records.extend(chunk.into_iter().zip(hashes));
    }
    Ok(records)
}

/// Field `name` of a stored record as text, `None` when it has none; an
/// `Err` when it is not UTF-8.
pub fn field<'a>(hash: &'a Hash, name: &str) -> std::result::Result<Option<&'a str>, String> {
    match hash.get(name) {
        None => Ok(None),
        Some(bytes) => std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| format!("{name} is not UTF-8")),
    }
}

/// Field `name` of a stored record as text; an `Err` when it has none or
/// it is not UTF-8.
pub fn required<'a>(hash: &'a Hash, name: &str) -> std::result::Result<&'a str, String> {
    field(hash, name)?.ok_or_else(|| format!("no {name}"))
}

/// Queues the removal of records `ids`: each taken out of the SET `set`
/// that indexes them and its HASH (`key` names it) deleted.
pub fn remove_records<'a>(
    pipe: &mut redis::Pipeline,
    set: &str,
    key: fn(&str) -> String,
    ids: impl IntoIterator<Item = &'a String>,
) {
    for id in ids {
        pipe.cmd("SREM").arg(set).arg(id).ignore();
        pipe.cmd("DEL").arg(key(id)).ignore();
    }
}

/// A value as the reference stores it in a string field: `None` for
/// `null` (the field is left out), a string as it is, numbers as `number`
/// writes them, booleans `true`/`false`, objects and arrays as JSON text of
/// their members so written (`null` members of objects dropped, of arrays
/// kept).
pub fn stored_text(
    v: &serde_json::Value,
    number: fn(&serde_json::Number) -> String,
) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(number(n)),
        Value::Object(o) => Some(Value::Object(stored_members(o, number)).to_string()),
        Value::Array(a) => {
            let items = a
                .iter()
                .map(|v| stored_text(v, number).map_or(Value::Null, Value::String))
                .collect();
            Some(Value::Array(items).to_string())
        }
    }
}

/// The members of `o` as [`stored_text`] writes them, `null` ones dropped.
pub fn stored_members(
    o: &serde_json::Map<String, serde_json::Value>,
    number: fn(&serde_json::Number) -> String,
) -> serde_json::Map<String, serde_json::Value> {
    o.iter()
        .filter_map(|(k, v)| {
            Some((
                k.clone(),
                serde_json::Value::String(stored_text(v, number)?),
            ))
        })
        .collect()
}
