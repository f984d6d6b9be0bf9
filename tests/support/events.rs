//! Messages the tests publish on Redis, and what the callbacks carry back.

use serde_json::{json, Value};

use super::{Received, Redis};

/// The channel akka-apps publishes BBB's messages on (and where the tests
/// publish events, raw or already mapped).
pub const AKKA_CHANNEL: &str = "from-akka-apps-redis-channel";

/// Publishes already-mapped `user-joined` events numbered by `range`.
pub fn publish_n(redis: &Redis, range: std::ops::Range<u64>) {
    for n in range {
        redis.publish(AKKA_CHANNEL, &mapped_event("user-joined", "i", "e", n));
    }
}

/// The numbers of the events a callback carried (see [`publish_n`]).
pub fn numbers(r: &Received) -> Vec<u64> {
    r.events()
        .iter()
        .map(|e| e["data"]["attributes"]["n"].as_u64().expect("n"))
        .collect()
}

/// An event in the mapped format (as the service's mapping gives it out,
/// and as the xAPI side takes it in): id `id`, `attributes`, stamped `ts`.
pub fn mapped(id: &str, attributes: Value, ts: u64) -> Value {
    json!({"data": {"type": "event", "id": id, "attributes": attributes, "event": {"ts": ts}}})
}

/// [`mapped`] as the text to publish.
pub fn mapped_text(id: &str, attributes: Value, ts: u64) -> String {
    mapped(id, attributes, ts).to_string()
}

/// A mapped-format event for meeting `internal`/`external` with id `id`.
pub fn mapped_event(id: &str, internal: &str, external: &str, n: u64) -> String {
    mapped_text(
        id,
        json!({
            "meeting": {"internal-meeting-id": internal, "external-meeting-id": external},
            "n": n
        }),
        1,
    )
}

/// A draft-API test event (as `bbb-webhooks test-event` publishes on
/// `bigbluebutton:events`) of meeting `meeting` carrying `data`.
pub fn test_event(meeting: &str, data: &str) -> String {
    json!({"data": data, "meetingID": meeting, "event": "TestEvent"}).to_string()
}

/// The raw akka-apps message of meeting `internal` (external ID `external`)
/// being created, as BBB publishes it on `from-akka-apps-redis-channel`.
pub fn meeting_created(internal: &str, external: &str) -> String {
    json!({
        "envelope": {"name": "MeetingCreatedEvtMsg", "routing": {}, "timestamp": 1},
        "core": {
            "header": {"name": "MeetingCreatedEvtMsg"},
            "body": {"props": {"meetingProp": {"intId": internal, "extId": external, "name": "n"}}}
        }
    })
    .to_string()
}
