//! The status record the sync thread writes to this service's own Redis
//! after each sync ([`keys::CLUSTER_STATUS`], JSON, expiring), so that
//! `bbb-webhooks check`, another process, can show each pool server and
//! whether its relay hook is in place as the running service sees it.
//! Encoding and decoding are pure; it holds no secret and no signed URL.

use serde_json::{json, Value};

use super::sync::{Relay, ServerStatus};
use crate::store::keys;

/// What one sync found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// When it was written, in ms since the epoch.
    pub at_ms: u64,
    /// The sync interval, in seconds: a record much older is stale.
    pub sync_secs: u64,
    /// The pool's source, in words.
    pub source: String,
    /// Whether the source answered at the last read.
    pub source_up: bool,
    /// Whether the source has tenants (the pool is then not taken in).
    pub tenants: bool,
    pub servers: Vec<ServerLine>,
}

/// One pool server in the record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerLine {
    pub id: String,
    /// Its API base, without credentials or query.
    pub url: String,
    /// `enabled`, `cordoned`, `disabled`, or `None` once it left the pool.
    pub state: Option<String>,
    pub online: bool,
    /// The relay hook's id when it is in place.
    pub relay_hook: Option<String>,
    /// Whether the server was looked at yet.
    pub looked_at: bool,
    /// Why its hooks API calls fail, while they do.
    pub failing: Option<String>,
}

impl ServerLine {
    /// A line from what the reconciler knows.
    pub fn of(s: &ServerStatus) -> ServerLine {
        ServerLine {
            id: s.id.clone(),
            url: crate::redact::url(&s.url),
            state: s.state.map(|st| st.name().to_owned()),
            online: s.online,
            relay_hook: match &s.relay {
                Relay::InPlace(id) => Some(id.clone()),
                _ => None,
            },
            looked_at: s.relay != Relay::Unknown,
            failing: s.failing.clone(),
        }
    }
}

impl Record {
    /// Its JSON text.
    pub fn encode(&self) -> String {
        let servers: Vec<Value> = self
            .servers
            .iter()
            .map(|s| {
                json!({
                    "id": s.id, "url": s.url, "state": s.state, "online": s.online,
                    "relay_hook": s.relay_hook, "looked_at": s.looked_at, "failing": s.failing,
                })
            })
            .collect();
        json!({
            "at_ms": self.at_ms, "sync_secs": self.sync_secs, "source": self.source,
            "source_up": self.source_up, "tenants": self.tenants, "servers": servers,
        })
        .to_string()
    }

    /// Reads one back; `None` when it is not one.
    pub fn decode(text: &str) -> Option<Record> {
        let v: Value = serde_json::from_str(text).ok()?;
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let flag = |v: &Value, k: &str| v.get(k).and_then(Value::as_bool);
        let servers = v
            .get("servers")?
            .as_array()?
            .iter()
            .map(|s| {
                Some(ServerLine {
                    id: text(s, "id")?,
                    url: text(s, "url")?,
                    state: text(s, "state"),
                    online: flag(s, "online")?,
                    relay_hook: text(s, "relay_hook"),
                    looked_at: flag(s, "looked_at")?,
                    failing: text(s, "failing"),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Record {
            at_ms: v.get("at_ms")?.as_u64()?,
            sync_secs: v.get("sync_secs")?.as_u64()?,
            source: text(&v, "source")?,
            source_up: flag(&v, "source_up")?,
            tenants: flag(&v, "tenants")?,
            servers,
        })
    }

    /// How long it is kept: three syncs, at least a minute.
    pub fn ttl_secs(&self) -> u64 {
        (self.sync_secs * 3).max(60)
    }
}

/// Writes `record`, to expire after [`Record::ttl_secs`].
pub fn write(c: &mut redis::Connection, record: &Record) -> redis::RedisResult<()> {
    redis::cmd("SET")
        .arg(keys::CLUSTER_STATUS)
        .arg(record.encode())
        .arg("EX")
        .arg(record.ttl_secs())
        .query(c)
}

/// The record, if there is one (`Ok(None)` also when it is not one).
pub fn read(c: &mut redis::Connection) -> redis::RedisResult<Option<Record>> {
    let text: Option<String> = redis::cmd("GET").arg(keys::CLUSTER_STATUS).query(c)?;
    Ok(text.as_deref().and_then(Record::decode))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::State;

    #[test]
    fn a_record_round_trips_without_credentials() {
        let line = ServerLine::of(&ServerStatus {
            id: "bbb1".into(),
            url: "https://u:pw@bbb1.example.com/bigbluebutton/api".into(),
            state: Some(State::Cordoned),
            online: true,
            relay: Relay::InPlace("h1".into()),
            failing: None,
        });
        assert_eq!(line.url, "https://***@bbb1.example.com/bigbluebutton/api");
        assert_eq!(line.state.as_deref(), Some("cordoned"));
        let gone = ServerLine::of(&ServerStatus {
            id: "bbb2".into(),
            url: "https://bbb2/bigbluebutton/api".into(),
            state: None,
            online: false,
            relay: Relay::Unknown,
            failing: Some("no answer: connection failed".into()),
        });
        assert!(!gone.looked_at && gone.relay_hook.is_none());
        let r = Record {
            at_ms: 1_700_000_000_000,
            sync_secs: 10,
            source: "the static pool".into(),
            source_up: true,
            tenants: false,
            servers: vec![line, gone],
        };
        assert_eq!(Record::decode(&r.encode()), Some(r.clone()));
        assert_eq!(r.ttl_secs(), 60);
        assert_eq!(Record::decode("{\"at_ms\":1}"), None);
        assert_eq!(Record::decode("nope"), None);
    }
}
