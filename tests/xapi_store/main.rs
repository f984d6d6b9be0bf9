//! The xAPI state in Redis (`store::xapi`), against a private
//! `redis-server` per test (`support::Redis`): the records written
//! (`layout.rs`) and the state read back after a restart (`restart.rs`).

#[path = "../support/mod.rs"]
mod support;

mod layout;
mod restart;

use std::collections::BTreeMap;

use bbb_webhooks::config::Secret;
use bbb_webhooks::store::xapi::{load_at, persist};
use bbb_webhooks::xapi::{
    payload, process, LrsDefaults, Namespace, Output, State, TimeZone, XapiSettings,
    ENDED_RETENTION_MS,
};
use serde_json::{json, Value};

const NOW: u64 = 1_700_000_000_000;
const TTL: u64 = 7 * 24 * 3600 * 1000;
const SECRET: &str = "bab3fd92bcd7d464";

use support::{dbsize, hset, mapped, sadd, Redis, NAMESPACE};

fn settings() -> XapiSettings {
    XapiSettings {
        namespace: Namespace::parse(NAMESPACE).expect("a namespace"),
        domain: "myserver.com".into(),
        secret: Secret::new(SECRET),
        lrs: LrsDefaults {
            endpoint: Some("http://lrs.example.com/".into()),
            ..LrsDefaults::default()
        },
        time_zone: TimeZone::utc(),
    }
}

fn mtg() -> Value {
    json!({"internal-meeting-id": "int-1", "external-meeting-id": "ext-1"})
}

fn created(metadata: Value) -> Value {
    mapped(
        "meeting-created",
        json!({"meeting": {"internal-meeting-id": "int-1", "external-meeting-id": "ext-1",
        "name": "Room", "duration": 90, "create-time": 1698771157700_u64, "metadata": metadata}}),
        1,
    )
}

fn joined(user: &str, name: Value) -> Value {
    mapped(
        "user-joined",
        json!({"meeting": mtg(), "user": {"internal-user-id": user, "name": name}}),
        2,
    )
}

fn poll_started() -> Value {
    mapped(
        "poll-started",
        json!({"meeting": mtg(), "user": {"internal-user-id": "w_1"},
        "poll": {"id": "poll-1", "question": "ABCD Poll Test", "answers": [{"id": 0, "key": "A"}, {"id": 1, "key": "B"}]}}),
        3,
    )
}

/// Processes, persists, applies: what the ingest thread does.
fn ingest(conn: &mut redis::Connection, state: &mut State, event: &Value, now: u64) -> Output {
    let out = process(event, state, &settings(), now);
    persist(conn, &out.changes).expect("persist");
    for c in &out.changes {
        state.apply(c);
    }
    out
}

fn body(out: &Output) -> Option<String> {
    out.statement.as_ref().map(|s| s.body_text())
}

fn hash(conn: &mut redis::Connection, key: &str) -> BTreeMap<String, String> {
    redis::cmd("HGETALL").arg(key).query(conn).expect("HGETALL")
}
