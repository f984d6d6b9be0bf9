//! Reads the pool and the tenants from Scalelite's Redis, read-only (only
//! SMEMBERS, HGETALL and HGET are ever sent). Key names are in
//! [`crate::store::keys::scalelite`]. A record that cannot be used is
//! skipped, counted and described ([`Skipped`]); it never fails the read.
//! What to do with the result is the caller's business.

use std::collections::{HashMap, HashSet};
use std::fmt;

use redis::Commands;

use super::pool::{normalize_url, valid_id, Pool, Server, State};
use super::tenancy::Tenant;
use crate::config::RedisUrl;
use crate::config::Secret;
use crate::error::Result;
use crate::store::keys::scalelite as keys;
use crate::store::Conn;

/// Scalelite's default namespace (`REDIS_NAMESPACE` in production).
pub const DEFAULT_NAMESPACE: &str = "scalelite";

/// What one read found.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The usable servers.
    pub pool: Pool,
    /// Server records that could not be used, with why.
    pub skipped: Vec<Skipped>,
    /// Scalelite's tenants (ids and names; their secrets are never read).
    pub tenants: Vec<Tenant>,
}

impl Snapshot {
    /// Ids of servers whose records exist but cannot be used right now: the
    /// cluster keeps what it last knew about them rather than treating them
    /// as gone (see [`super::sync`]).
    pub fn held(&self) -> Vec<String> {
        self.skipped
            .iter()
            .filter(|s| s.reason != SkipReason::NoRecord && valid_id(&s.id))
            .map(|s| s.id.clone())
            .collect()
    }
}

/// A server record that was skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The id as found (made printable and cut short if it is not a valid id).
    pub id: String,
    pub reason: SkipReason,
}

/// Why a server record was skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The id cannot go into a relay URL (see [`valid_id`]).
    BadId,
    /// In the set of servers, but no hash (Scalelite skips these too).
    NoRecord,
    /// The key holds something other than a hash.
    NotAHash,
    /// No `url` field, or one that is not an http(s) URL.
    BadUrl,
    /// No `secret` field, or an empty one.
    NoSecret,
    /// A `state` other than `enabled`, `cordoned` or `disabled`.
    BadState(String),
    /// A field that is not UTF-8.
    NotUtf8(&'static str),
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "server {}: ", self.id)?;
        match &self.reason {
            SkipReason::BadId => {
                f.write_str("the id is not usable in a URL (letters, digits, -._~ only)")
            }
            SkipReason::NoRecord => f.write_str("listed in the set of servers but has no hash"),
            SkipReason::NotAHash => f.write_str("its key is not a hash"),
            SkipReason::BadUrl => f.write_str("no url, or not an absolute http(s) URL"),
            SkipReason::NoSecret => f.write_str("no secret"),
            SkipReason::BadState(s) => write!(
                f,
                "state {:?} is not enabled, cordoned or disabled",
                printable(s.as_bytes())
            ),
            SkipReason::NotUtf8(field) => write!(f, "field {field} is not UTF-8"),
        }
    }
}

/// A reader of one Scalelite's Redis.
pub struct Scalelite {
    conn: Conn,
    namespace: String,
}

impl Scalelite {
    /// A reader of the Redis at `url`, keys under `namespace` (e.g.
    /// [`DEFAULT_NAMESPACE`]). Nothing is opened yet.
    pub fn new(url: &RedisUrl, namespace: &str) -> Result<Scalelite> {
        Ok(Scalelite {
            conn: Conn::new(url)?,
            namespace: namespace.to_owned(),
        })
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Reads the servers and the tenants. Fails only when Redis does (down,
    /// or a set of servers or tenants that is not a set): the caller then
    /// keeps the pool it last read.
    pub fn read(&mut self) -> Result<Snapshot> {
        let ns = self.namespace.clone();
        self.conn.run(|c| {
            let (pool, skipped) = read_servers(c, &ns)?;
            let tenants = read_tenants(c, &ns)?;
            Ok(Snapshot {
                pool,
                skipped,
                tenants,
            })
        })
    }
}

fn read_servers(c: &mut redis::Connection, ns: &str) -> redis::RedisResult<(Pool, Vec<Skipped>)> {
    let ids: Vec<Vec<u8>> = c.smembers(keys::servers(ns))?;
    let mut pipe = redis::pipe();
    pipe.ignore_errors().smembers(keys::server_enabled(ns));
    for id in &ids {
        pipe.hgetall(keys::server(ns, id));
    }
    let replies: Vec<redis::RedisResult<redis::Value>> = pipe.query(c)?;
    let mut replies = replies.into_iter();
    let enabled: HashSet<Vec<u8>> = match replies.next() {
        Some(r) => redis::from_redis_value(r?)?,
        None => HashSet::new(),
    };
    let mut pool = Pool::default();
    let mut skipped = Vec::new();
    for (id, reply) in ids.iter().zip(replies) {
        let hash = reply
            .ok()
            .and_then(|v| redis::from_redis_value::<HashMap<Vec<u8>, Vec<u8>>>(v).ok());
        match server(id, hash, enabled.contains(id)) {
            Ok(s) => {
                // Ids come from a set, so they are unique.
                let _ = pool.insert(s);
            }
            Err(reason) => skipped.push(Skipped {
                id: printable(id),
                reason,
            }),
        }
    }
    Ok((pool, skipped))
}

/// A server from its hash, as Scalelite reads it (`Server.all`): a hash
/// without `state` is from before states existed and is enabled when its id
/// is in `server_enabled`; `online` is true only when it is `"true"`.
fn server(
    id: &[u8],
    hash: Option<HashMap<Vec<u8>, Vec<u8>>>,
    in_enabled_set: bool,
) -> std::result::Result<Server, SkipReason> {
    let id = std::str::from_utf8(id).map_err(|_| SkipReason::BadId)?;
    if !valid_id(id) {
        return Err(SkipReason::BadId);
    }
    let mut hash = hash.ok_or(SkipReason::NotAHash)?;
    if hash.is_empty() {
        return Err(SkipReason::NoRecord);
    }
    let mut field = |name: &'static str| -> std::result::Result<Option<String>, SkipReason> {
        match hash.remove(name.as_bytes()) {
            None => Ok(None),
            Some(v) => String::from_utf8(v)
                .map(Some)
                .map_err(|_| SkipReason::NotUtf8(name)),
        }
    };
    let url = field("url")?
        .and_then(|u| normalize_url(&u))
        .ok_or(SkipReason::BadUrl)?;
    let secret = field("secret")?
        .filter(|s| !s.is_empty())
        .ok_or(SkipReason::NoSecret)?;
    let state = match field("state")?.filter(|s| !s.is_empty()) {
        Some(s) => State::parse(&s).ok_or(SkipReason::BadState(s))?,
        None if in_enabled_set => State::Enabled,
        None => State::Disabled,
    };
    let online = field("online")?.is_some_and(|o| o == "true");
    Ok(Server {
        id: id.to_owned(),
        url,
        secret: Secret::new(secret),
        state,
        online,
    })
}

fn read_tenants(c: &mut redis::Connection, ns: &str) -> redis::RedisResult<Vec<Tenant>> {
    let ids: Vec<Vec<u8>> = c.smembers(keys::tenants(ns))?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    pipe.ignore_errors();
    for id in &ids {
        pipe.hget(keys::tenant(ns, id), "name");
    }
    let names: Vec<redis::RedisResult<Option<Vec<u8>>>> = pipe.query(c)?;
    let mut tenants: Vec<Tenant> = ids
        .iter()
        .zip(names)
        .map(|(id, name)| Tenant {
            id: printable(id),
            name: name.ok().flatten().map(|n| printable(&n)),
        })
        .collect();
    tenants.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(tenants)
}

/// `bytes` as text fit for a log line.
fn printable(bytes: &[u8]) -> String {
    crate::redact::printable(bytes, 64)
}
