//! The Redis keys the service keeps: hooks and meeting mappings in the
//! reference application's layout, and the delivery journals. Written out
//! here rather than taken from the crate, so that a change of the layout
//! fails the tests that read or write Redis directly.

use super::{wait_for, Redis};

/// The set of stored hook ids.
pub const HOOKS: &str = "bigbluebutton:webhooks:out:hooks";
/// The set of meeting mapping record ids.
pub const MAPPINGS: &str = "bigbluebutton:webhooks:proc:mappings";
/// The prefix of a meeting mapping record (`MAPPING:id`, a hash).
pub const MAPPING: &str = "bigbluebutton:webhooks:proc:mapping";
/// The set of user mapping record ids.
pub const USER_MAPS: &str = "bigbluebutton:webhooks:proc:userMaps";
/// The prefix of a user mapping record (`USER_MAP:id`, a hash).
pub const USER_MAP: &str = "bigbluebutton:webhooks:proc:userMap";

/// The hash of queued event payloads, by event id: each stored once,
/// however many hooks' journals hold it.
pub const EVENTS: &str = "bigbluebutton:webhooks:out:events";

/// The hash of hook `id`.
pub fn hook_key(id: &str) -> String {
    format!("bigbluebutton:webhooks:out:hook:{id}")
}

/// The delivery journal of hook `id`: its events not yet acknowledged.
pub fn journal_key(id: &str) -> String {
    format!("bigbluebutton:webhooks:out:queue:{id}")
}

/// Waits until the delivery journal of hook `id` holds `n` events.
pub fn wait_journal_len(redis: &Redis, id: &str, n: usize) {
    let key = journal_key(id);
    wait_for(&format!("{key} to hold {n} events"), || {
        (redis.llen(&key) == n).then_some(())
    });
}
