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
