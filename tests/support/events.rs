//! Messages the tests publish on Redis, and what the callbacks carry back.

use super::{Received, Redis};

/// Publishes already-mapped `user-joined` events numbered by `range`.
pub fn publish_n(redis: &Redis, range: std::ops::Range<u64>) {
    for n in range {
        redis.publish(
            "from-akka-apps-redis-channel",
            &mapped_event("user-joined", "i", "e", n),
        );
    }
}

/// The numbers of the events a callback carried (see [`publish_n`]).
pub fn numbers(r: &Received) -> Vec<u64> {
    r.events()
        .iter()
        .map(|e| e["data"]["attributes"]["n"].as_u64().expect("n"))
        .collect()
}

/// A mapped-format event for meeting `internal`/`external` with id `id`.
pub fn mapped_event(id: &str, internal: &str, external: &str, n: u64) -> String {
    serde_json::json!({
        "data": {
            "type": "event",
            "id": id,
            "attributes": {
                "meeting": {"internal-meeting-id": internal, "external-meeting-id": external},
                "n": n
            },
            "event": {"ts": 1}
        }
    })
    .to_string()
}

/// A draft-API test event (as `bbb-webhooks test-event` publishes on
/// `bigbluebutton:events`) of meeting `meeting` carrying `data`.
pub fn test_event(meeting: &str, data: &str) -> String {
    serde_json::json!({"data": data, "meetingID": meeting, "event": "TestEvent"}).to_string()
}

/// The raw akka-apps message of meeting `internal` (external ID `external`)
/// being created, as BBB publishes it on `from-akka-apps-redis-channel`.
pub fn meeting_created(internal: &str, external: &str) -> String {
    serde_json::json!({
        "envelope": {"name": "MeetingCreatedEvtMsg", "routing": {}, "timestamp": 1},
        "core": {
            "header": {"name": "MeetingCreatedEvtMsg"},
            "body": {"props": {"meetingProp": {"intId": internal, "extId": external, "name": "n"}}}
        }
    })
    .to_string()
}
