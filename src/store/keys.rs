//! Every Redis key the service reads or writes, in one place. The hooks,
//! the meeting and user mappings and the xAPI records use the reference
//! application's layout (bbb-webhooks 2.x/3.x, `redis.keys.*` in its
//! `config/default.yml` and its xAPI module's), so a server switching from
//! it, or back, keeps them; the delivery queues are this service's own,
//! under the same prefix.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `bigbluebutton:webhooks:out:hooks` | SET | hook ids |
//! | `bigbluebutton:webhooks:out:hook:<id>` | HASH | one hook (`id`, `callbackURL`, `externalMeetingID`, `eventID`, `permanent`, `getRaw`) |
//! | `bigbluebutton:webhooks:out:queue:<hook id>` | LIST | the ids of the hook's undelivered events, oldest first (not in the reference) |
//! | `bigbluebutton:webhooks:out:events` | HASH | event id -> payload of every undelivered event, once however many hooks wait for it (not in the reference) |
//! | `bigbluebutton:webhooks:proc:mappings` | SET | meeting mapping record ids |
//! | `bigbluebutton:webhooks:proc:mapping:<record>` | HASH | internal -> external meeting ID, last activity |
//! | `bigbluebutton:webhooks:proc:userMaps` | SET | user mapping record ids |
//! | `bigbluebutton:webhooks:proc:userMap:<record>` | HASH | one user of a meeting and its attributes |
//! | `bigbluebutton:webhooks:xapi:meetings` | SET | xAPI meeting record ids |
//! | `bigbluebutton:webhooks:xapi:meeting:<record>` | HASH | one meeting's xAPI record (registration, name, planned duration, create time, enabled, actor name, encrypted LRS payload; plus `last_activity`, `ended_at`, not in the reference) |
//! | `bigbluebutton:webhooks:xapi:users` | SET | xAPI user record ids |
//! | `bigbluebutton:webhooks:xapi:user:<record>` | HASH | one user's name (`external_user_id` holds the internal user id, as in the reference; plus `internal_meeting_id`) |
//! | `bigbluebutton:webhooks:xapi:polls` | SET | xAPI poll record ids |
//! | `bigbluebutton:webhooks:xapi:poll:<record>` | HASH | one poll's question and choices (plus `internal_meeting_id`) |
//! | `bigbluebutton:webhooks:xapi:queue:<lrs id>` | LIST | an LRS's undelivered statements, each after its id, oldest first (not in the reference) |
//! | `bigbluebutton:webhooks:xapi:destinations` | HASH | LRS id -> its URL and `Authorization`, encrypted with the server secret, while it has statements queued (not in the reference) |
//! | `bigbluebutton:webhooks:cluster:relayURLs` | SET | every relay URL base cluster mode has registered (not in the reference) |
//! | `bigbluebutton:webhooks:cluster:status` | STRING | cluster mode's last sync as JSON, for `bbb-webhooks check`: each pool server and its relay hook; expires after three syncs (not in the reference) |
//!
//! Cluster mode also reads Scalelite's Redis: those keys are in [`scalelite`].

/// SET of hook ids.
pub const HOOKS: &str = "bigbluebutton:webhooks:out:hooks";
/// Prefix of a hook's HASH, followed by its id.
const HOOK: &str = "bigbluebutton:webhooks:out:hook:";
/// Prefix of a hook's LIST of undelivered events, followed by its id.
const QUEUE: &str = "bigbluebutton:webhooks:out:queue:";
/// HASH of the payloads of undelivered events, by event id.
pub const EVENTS: &str = "bigbluebutton:webhooks:out:events";
/// SET of meeting mapping record ids.
pub const MAPPINGS: &str = "bigbluebutton:webhooks:proc:mappings";
/// Prefix of a meeting mapping's HASH, followed by its record id.
const MAPPING: &str = "bigbluebutton:webhooks:proc:mapping:";
/// SET of user mapping record ids.
pub const USER_MAPS: &str = "bigbluebutton:webhooks:proc:userMaps";
/// Prefix of a user mapping's HASH, followed by its record id.
const USER_MAP: &str = "bigbluebutton:webhooks:proc:userMap:";

/// SET of xAPI meeting record ids.
pub const XAPI_MEETINGS: &str = "bigbluebutton:webhooks:xapi:meetings";
/// Prefix of an xAPI meeting record's HASH, followed by its record id.
const XAPI_MEETING: &str = "bigbluebutton:webhooks:xapi:meeting:";
/// SET of xAPI user record ids.
pub const XAPI_USERS: &str = "bigbluebutton:webhooks:xapi:users";
/// Prefix of an xAPI user record's HASH, followed by its record id.
const XAPI_USER: &str = "bigbluebutton:webhooks:xapi:user:";
/// SET of xAPI poll record ids.
pub const XAPI_POLLS: &str = "bigbluebutton:webhooks:xapi:polls";
/// Prefix of an xAPI poll record's HASH, followed by its record id.
const XAPI_POLL: &str = "bigbluebutton:webhooks:xapi:poll:";

/// The sets that index the xAPI records, read at start only when xAPI is
/// enabled (so they are not in [`INDEXES`]).
pub const XAPI_INDEX_SETS: [&str; 3] = [XAPI_MEETINGS, XAPI_USERS, XAPI_POLLS];

/// The keys startup reads whole, with the type each must have: the sets
/// that index the records above and the hash of payloads. One of another
/// type stops startup (see [`super::index_of_wrong_type`]).
pub const INDEXES: [(&str, &str); 5] = [
    (HOOKS, "set"),
    (MAPPINGS, "set"),
    (USER_MAPS, "set"),
    (EVENTS, "hash"),
    (XAPI_DESTINATIONS, "hash"),
];

/// SET of the relay URL bases cluster mode has registered on pool servers,
/// so a changed `BBB_WEBHOOKS_CLUSTER_RELAY_URL` can find the old relay hooks.
pub const CLUSTER_RELAY_URLS: &str = "bigbluebutton:webhooks:cluster:relayURLs";

/// STRING (JSON, expiring) of cluster mode's last sync, which `bbb-webhooks
/// check` reads: see `cluster::status`.
pub const CLUSTER_STATUS: &str = "bigbluebutton:webhooks:cluster:status";

/// The HASH of hook `id`.
pub fn hook(id: &str) -> String {
    format!("{HOOK}{id}")
}

/// Prefix of an LRS's LIST of undelivered xAPI statements, followed by its id.
pub const XAPI_QUEUE: &str = "bigbluebutton:webhooks:xapi:queue:";
/// HASH of the LRS destinations with statements queued: id -> the
/// destination (URL and `Authorization`), encrypted with the server secret.
pub const XAPI_DESTINATIONS: &str = "bigbluebutton:webhooks:xapi:destinations";

/// The LIST of LRS `id`'s undelivered statements (their event ids).
pub fn xapi_queue(id: &str) -> String {
    format!("{XAPI_QUEUE}{id}")
}

/// The LIST of hook `id`'s undelivered events.
pub fn queue(hook_id: &str) -> String {
    format!("{QUEUE}{hook_id}")
}

/// The HASH of meeting mapping `record`.
pub fn mapping(record: &str) -> String {
    format!("{MAPPING}{record}")
}

/// The HASH of user mapping `record`.
pub fn user_map(record: &str) -> String {
    format!("{USER_MAP}{record}")
}

/// The HASH of xAPI meeting `record`.
pub fn xapi_meeting(record: &str) -> String {
    format!("{XAPI_MEETING}{record}")
}

/// The HASH of xAPI user `record`.
pub fn xapi_user(record: &str) -> String {
    format!("{XAPI_USER}{record}")
}

/// The HASH of xAPI poll `record`.
pub fn xapi_poll(record: &str) -> String {
    format!("{XAPI_POLL}{record}")
}

/// Scalelite's keys, which cluster mode only reads, never writes. Scalelite
/// (`lib/redis_store.rb`, `Redis::Namespace`) puts `<namespace>:` before
/// each of its keys; its production namespace is `REDIS_NAMESPACE`, default
/// `scalelite`. Layout: `app/models/server.rb`, `tenant.rb`, `meeting.rb`.
///
/// | key | type | holds |
/// |---|---|---|
/// | `<ns>:servers` | SET | server ids |
/// | `<ns>:server:<id>` | HASH | `url`, `secret`, `state`, `online`, `tag`, ... |
/// | `<ns>:server_enabled` | SET | ids of enabled servers (what says "enabled" when a hash has no `state`) |
/// | `<ns>:tenants` | SET | tenant ids (multi-tenant installs) |
/// | `<ns>:tenant:<id>` | HASH | `name`, `secrets` |
pub mod scalelite {
    /// SET of server ids.
    pub fn servers(ns: &str) -> String {
        format!("{ns}:servers")
    }

    /// HASH of server `id`, for an id as found in the set.
    pub fn server(ns: &str, id: &[u8]) -> Vec<u8> {
        [ns.as_bytes(), b":server:", id].concat()
    }

    /// SET of the ids of enabled servers.
    pub fn server_enabled(ns: &str) -> String {
        format!("{ns}:server_enabled")
    }

    /// SET of tenant ids.
    pub fn tenants(ns: &str) -> String {
        format!("{ns}:tenants")
    }

    /// HASH of tenant `id`.
    pub fn tenant(ns: &str, id: &[u8]) -> Vec<u8> {
        [ns.as_bytes(), b":tenant:", id].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names are the reference's: changing one loses every stored hook
    /// or mapping of a server that upgrades.
    #[test]
    fn names_are_the_reference_layout() {
        assert_eq!(HOOKS, "bigbluebutton:webhooks:out:hooks");
        assert_eq!(hook("7"), "bigbluebutton:webhooks:out:hook:7");
        assert_eq!(MAPPINGS, "bigbluebutton:webhooks:proc:mappings");
        assert_eq!(mapping("m"), "bigbluebutton:webhooks:proc:mapping:m");
        assert_eq!(USER_MAPS, "bigbluebutton:webhooks:proc:userMaps");
        assert_eq!(user_map("u"), "bigbluebutton:webhooks:proc:userMap:u");
        assert_eq!(queue("h"), "bigbluebutton:webhooks:out:queue:h");
        assert_eq!(EVENTS, "bigbluebutton:webhooks:out:events");
        assert_eq!(xapi_queue("l"), "bigbluebutton:webhooks:xapi:queue:l");
        assert_eq!(
            XAPI_DESTINATIONS,
            "bigbluebutton:webhooks:xapi:destinations"
        );
        assert_eq!(XAPI_MEETINGS, "bigbluebutton:webhooks:xapi:meetings");
        assert_eq!(xapi_meeting("m"), "bigbluebutton:webhooks:xapi:meeting:m");
        assert_eq!(XAPI_USERS, "bigbluebutton:webhooks:xapi:users");
        assert_eq!(xapi_user("u"), "bigbluebutton:webhooks:xapi:user:u");
        assert_eq!(XAPI_POLLS, "bigbluebutton:webhooks:xapi:polls");
        assert_eq!(xapi_poll("p"), "bigbluebutton:webhooks:xapi:poll:p");
    }

    /// Scalelite's names under its default namespace.
    #[test]
    fn scalelite_names() {
        assert_eq!(scalelite::servers("scalelite"), "scalelite:servers");
        assert_eq!(
            scalelite::server("scalelite", b"b1"),
            b"scalelite:server:b1"
        );
        assert_eq!(
            scalelite::server_enabled("scalelite"),
            "scalelite:server_enabled"
        );
        assert_eq!(scalelite::tenants("scalelite"), "scalelite:tenants");
        assert_eq!(scalelite::tenant("scalelite", b"t"), b"scalelite:tenant:t");
    }
}
