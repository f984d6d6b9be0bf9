//! Every Redis key the service reads or writes, in one place. The hooks and
//! the meeting and user mappings use the reference application's layout
//! (bbb-webhooks 2.x/3.x, `redis.keys.*` in its `config/default.yml`), so a
//! server switching from it, or back, keeps its hooks and mappings; the
//! delivery queues are this service's own, under the same prefix.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `bigbluebutton:webhooks:out:hooks` | SET | hook ids |
//! | `bigbluebutton:webhooks:out:hook:<id>` | HASH | one hook (`id`, `callbackURL`, `externalMeetingID`, `eventID`, `permanent`, `getRaw`) |
//! | `bigbluebutton:webhooks:out:queue:<hook id>` | LIST | the hook's undelivered events, oldest first (not in the reference) |
//! | `bigbluebutton:webhooks:proc:mappings` | SET | meeting mapping record ids |
//! | `bigbluebutton:webhooks:proc:mapping:<record>` | HASH | internal -> external meeting ID, last activity |
//! | `bigbluebutton:webhooks:proc:userMaps` | SET | user mapping record ids |
//! | `bigbluebutton:webhooks:proc:userMap:<record>` | HASH | one user of a meeting and its attributes |
//! | `bigbluebutton:webhooks:cluster:relayURLs` | SET | every relay URL base cluster mode has registered (not in the reference) |
//!
//! Cluster mode also reads Scalelite's Redis: those keys are in [`scalelite`].

/// SET of hook ids.
pub const HOOKS: &str = "bigbluebutton:webhooks:out:hooks";
/// Prefix of a hook's HASH, followed by its id.
const HOOK: &str = "bigbluebutton:webhooks:out:hook:";
/// Prefix of a hook's LIST of undelivered events, followed by its id.
const QUEUE: &str = "bigbluebutton:webhooks:out:queue:";
/// SET of meeting mapping record ids.
pub const MAPPINGS: &str = "bigbluebutton:webhooks:proc:mappings";
/// Prefix of a meeting mapping's HASH, followed by its record id.
const MAPPING: &str = "bigbluebutton:webhooks:proc:mapping:";
/// SET of user mapping record ids.
pub const USER_MAPS: &str = "bigbluebutton:webhooks:proc:userMaps";
/// Prefix of a user mapping's HASH, followed by its record id.
const USER_MAP: &str = "bigbluebutton:webhooks:proc:userMap:";

/// SET of the relay URL bases cluster mode has registered on pool servers,
/// so a changed `BBB_WEBHOOKS_CLUSTER_RELAY_URL` can find the old relay hooks.
pub const CLUSTER_RELAY_URLS: &str = "bigbluebutton:webhooks:cluster:relayURLs";

/// The sets that index the records above. Startup reads them first; one of
/// another type stops it (see [`super::index_of_wrong_type`]).
pub const INDEX_SETS: [&str; 3] = [HOOKS, MAPPINGS, USER_MAPS];

/// The HASH of hook `id`.
pub fn hook(id: &str) -> String {
    format!("{HOOK}{id}")
}

/// The HASH of hook `id`, for an id that is not UTF-8 (as found in a set).
pub fn hook_bytes(id: &[u8]) -> Vec<u8> {
    [HOOK.as_bytes(), id].concat()
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
        assert_eq!(hook_bytes(b"7"), hook("7").into_bytes());
        assert_eq!(MAPPINGS, "bigbluebutton:webhooks:proc:mappings");
        assert_eq!(mapping("m"), "bigbluebutton:webhooks:proc:mapping:m");
        assert_eq!(USER_MAPS, "bigbluebutton:webhooks:proc:userMaps");
        assert_eq!(user_map("u"), "bigbluebutton:webhooks:proc:userMap:u");
        assert_eq!(queue("h"), "bigbluebutton:webhooks:out:queue:h");
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
