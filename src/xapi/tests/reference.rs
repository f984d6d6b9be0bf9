//! Differential test against the reference: `reference.jsonl` holds event
//! sequences and, for each event, the request the reference's xAPI module
//! (bbb-webhooks a001f1d, `src/out/xapi`, Node 22, luxon 3.4.4, uuid 9.0.1)
//! sent to an LRS, or `null` when it sent none. It was recorded once by
//! `reference/harness.mjs` (see there); the test does not need Node.
//!
//! Every event of every sequence must give the same request here: the body
//! byte for byte, the URL path and the `Authorization` value.

use serde_json::Value;

use crate::config::Secret;
use crate::xapi::zone;
use crate::xapi::{process, LrsDefaults, Namespace, State, XapiSettings};

const FIXTURE: &str = include_str!("reference.jsonl");
/// The port of the recording's LRS, part of the expected URLs.
const LRS: &str = "http://127.0.0.1:18934";
const NOW: u64 = 1_700_000_000_000;

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn settings(scenario: &Value) -> XapiSettings {
    let lrs = scenario.get("lrs").cloned().unwrap_or_default();
    XapiSettings {
        namespace: Namespace::parse(&text(scenario, "namespace").unwrap_or_default())
            .expect("a namespace"),
        domain: text(scenario, "domain").unwrap_or_default(),
        secret: Secret::new(text(scenario, "secret").unwrap_or_default()),
        lrs: LrsDefaults {
            endpoint: text(&lrs, "endpoint"),
            username: text(&lrs, "username"),
            password: text(&lrs, "password"),
            token: None,
        },
        time_zone: zone::from_tz(&text(scenario, "tz").unwrap_or_default())
            .expect("the zone is installed"),
    }
}

#[test]
fn every_recorded_event_gives_the_reference_request() {
    let mut failures = Vec::new();
    let (mut events, mut statements) = (0, 0);
    for line in FIXTURE.lines() {
        let scenario: Value = serde_json::from_str(line).expect("a JSON line");
        let name = text(&scenario, "name").unwrap_or_default();
        let cfg = settings(&scenario);
        let inputs = scenario
            .get("events")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let expected = scenario
            .get("expected")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        assert_eq!(inputs.len(), expected.len(), "{name}");
        let mut state = State::default();
        for (i, (event, want)) in inputs.iter().zip(&expected).enumerate() {
            let out = process(event, &state, &cfg, NOW);
            for c in &out.changes {
                state.apply(c);
            }
            events += 1;
            let id = event.pointer("/data/id").cloned().unwrap_or_default();
            let got = out.statement.as_ref().map(|s| {
                (
                    s.destination.url().to_owned(),
                    s.destination.authorization().to_owned(),
                    s.body_text(),
                )
            });
            let want = (!want.is_null()).then(|| {
                let path = text(want, "path").unwrap_or_default();
                (
                    format!("{LRS}{path}"),
                    text(want, "authorization").unwrap_or_default(),
                    text(want, "body").unwrap_or_default(),
                )
            });
            statements += usize::from(want.is_some());
            if got != want {
                failures.push(format!(
                    "{name} #{i} {id}: note {:?}\n  want {want:?}\n  got  {got:?}",
                    out.note
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {events} events differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        events > 300 && statements > 150,
        "{events} events, {statements} statements"
    );
}
