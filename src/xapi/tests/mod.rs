//! Tests of [`super::process`]: a differential test against recordings of
//! the reference ([`reference`]), the rules the recordings cannot show
//! ([`rules`]) and hostile input ([`robustness`]).

mod reference;
mod robustness;
mod rules;

use serde_json::{json, Value};

use super::{
    process, route, Change, LrsDefaults, Namespace, Output, Skip, State, UserRecord, XapiSettings,
};
use crate::config::Secret;

const NOW: u64 = 1_700_000_000_000;
const MID: &str = "int-1";
const EXT: &str = "ext-1";
const SECRET: &str = "bab3fd92bcd7d464";

fn settings() -> XapiSettings {
    XapiSettings {
        namespace: Namespace::parse("22946e5b-1860-4436-a025-cb133ca4c1d3").expect("a namespace"),
        domain: "myserver.com".into(),
        secret: Secret::new(SECRET),
        lrs: LrsDefaults {
            endpoint: Some("http://lrs.example.com/".into()),
            username: Some("user".into()),
            password: Some("pass".into()),
            token: None,
        },
        time_zone: super::TimeZone::utc(),
    }
}

fn ev(id: &str, attributes: Value, ts: u64) -> Value {
    json!({"data": {"type": "event", "id": id, "attributes": attributes, "event": {"ts": ts}}})
}

fn meeting() -> Value {
    json!({"internal-meeting-id": MID, "external-meeting-id": EXT})
}

/// Processes at [`NOW`] and applies the changes, as the ingest thread does.
fn run(state: &mut State, cfg: &XapiSettings, event: &Value) -> Output {
    let out = process(event, state, cfg, NOW);
    for c in &out.changes {
        state.apply(c);
    }
    out
}
