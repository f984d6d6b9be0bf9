//! The key table: each setting declared once, with its name, default, help
//! text and parser. `--help`, the check of the conffile and the docs table
//! are derived from [`TABLE`] (see `docs.rs`); `Config` is built by parsing
//! each key with its own parser. The parsers' building blocks are in
//! `parse.rs`, where values come from in `sources.rs`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::parse::{boolean, list, lower_list, number, optional, optional_text, whole, Key, Spec};
use super::{PermanentHook, RedisUrl, Secret};
use crate::checksum::Algorithm;

/// `BBB_WEBHOOKS_CALLBACK_AUTH`; the checksum's algorithm is another key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    Checksum,
    Bearer,
}

pub const REDIS_URL: Key<RedisUrl> = Key {
    name: "BBB_WEBHOOKS_REDIS_URL",
    default: "redis://127.0.0.1:6379",
    help: "Redis server with BBB's channels; hooks and queues are kept there",
    expects: "a redis:// or unix:// URL",
    parse: |s| {
        let ok = s.starts_with("redis://") || s.starts_with("unix://");
        whole(s, Some(RedisUrl::new(s)).filter(|_| ok))
    },
};

pub const API_BIND: Key<SocketAddr> = Key {
    name: "BBB_WEBHOOKS_API_BIND",
    default: "127.0.0.1:3005",
    help: "address the hooks API listens on",
    expects: "an address like 127.0.0.1:3005",
    parse: |s| s.parse().map_err(|_| s),
};

/// Parsed without its trailing slash.
pub const API_PATH: Key<String> = Key {
    name: "BBB_WEBHOOKS_API_PATH",
    default: "/bigbluebutton/api",
    help: "base path of the API calls",
    expects: "a path starting with /",
    parse: |s| {
        let ok = s.starts_with('/') && !s.contains(['?', '#', ' ']);
        whole(s, Some(s.trim_end_matches('/').to_owned()).filter(|_| ok))
    },
};

pub const SHARED_SECRET: Key<Option<Secret>> = Key {
    name: "BBB_WEBHOOKS_SHARED_SECRET",
    default: "",
    help: "BBB's shared secret; unset: securitySalt from BBB's properties",
    expects: "a secret",
    parse: |s| Ok(optional(s).map(Secret::new)),
};

pub const SERVER_DOMAIN: Key<Option<String>> = Key {
    name: "BBB_WEBHOOKS_SERVER_DOMAIN",
    default: "",
    help: "domain sent with every callback; unset: host of bigbluebutton.web.serverURL",
    expects: "a domain",
    parse: optional_text,
};

pub const BBB_PROPERTIES: Key<Vec<PathBuf>> = Key {
    name: "BBB_WEBHOOKS_BBB_PROPERTIES",
    default: "/etc/bigbluebutton/bbb-web.properties,/usr/share/bbb-web/WEB-INF/classes/bigbluebutton.properties",
    help: "BBB property files, first wins",
    expects: "a comma list of files",
    parse: |s| Ok(list(s).into_iter().map(PathBuf::from).collect()),
};

pub const CHANNELS: Key<Vec<String>> = Key {
    name: "BBB_WEBHOOKS_CHANNELS",
    default: "from-akka-apps-redis-channel,from-bbb-web-redis-channel,from-akka-apps-chat-redis-channel,from-akka-apps-pres-redis-channel,bigbluebutton:from-bbb-apps:meeting,bigbluebutton:from-bbb-apps:users,bigbluebutton:from-rap,bigbluebutton:events",
    help: "Redis channels to subscribe to",
    expects: "a comma list of one or more channels",
    parse: |s| whole(s, Some(list(s)).filter(|l| !l.is_empty())),
};

pub const API_CHECKSUM_ALGORITHMS: Key<Vec<Algorithm>> = Key {
    name: "BBB_WEBHOOKS_API_CHECKSUM_ALGORITHMS",
    default: "sha1,sha256,sha384,sha512",
    help: "checksum algorithms the API accepts",
    expects: "a comma list of sha1, sha256, sha384, sha512",
    parse: |s| {
        let l: Option<Vec<_>> = list(s).iter().map(|a| Algorithm::from_name(a)).collect();
        whole(s, l.filter(|l| !l.is_empty()))
    },
};

pub const CALLBACK_AUTH: Key<AuthMode> = Key {
    name: "BBB_WEBHOOKS_CALLBACK_AUTH",
    default: "checksum",
    help: "how callbacks authenticate: checksum (URL parameter) or bearer (Authorization header)",
    expects: "checksum or bearer",
    parse: |s| match s.to_ascii_lowercase().as_str() {
        "checksum" => Ok(AuthMode::Checksum),
        "bearer" => Ok(AuthMode::Bearer),
        _ => Err(s),
    },
};

pub const CALLBACK_CHECKSUM_ALGORITHM: Key<Algorithm> = Key {
    name: "BBB_WEBHOOKS_CALLBACK_CHECKSUM_ALGORITHM",
    default: "sha1",
    help: "algorithm of the callback checksum",
    expects: "one of sha1, sha256, sha384, sha512",
    parse: |s| whole(s, Algorithm::from_name(s)),
};

/// A bad entry is named alone, not the whole list.
pub const PERMANENT_HOOKS: Key<Vec<PermanentHook>> = Key {
    name: "BBB_WEBHOOKS_PERMANENT_HOOKS",
    default: "",
    help: "callback URLs always registered, comma-separated; prefix one with raw: for raw events",
    expects: "an absolute http(s) URL",
    parse: |s| {
        let entries = s.split(',').map(str::trim).filter(|e| !e.is_empty());
        entries
            .map(|entry| {
                let (raw, url) = match entry.strip_prefix("raw:") {
                    Some(url) => (true, url.trim()),
                    None => (false, entry),
                };
                let url = url.to_owned();
                let ok = crate::hooks::valid_callback_url(&url);
                whole(entry, Some(PermanentHook { url, raw }).filter(|_| ok))
            })
            .collect()
    },
};

pub const RETRY_INTERVALS_MS: Key<Vec<Duration>> = Key {
    name: "BBB_WEBHOOKS_RETRY_INTERVALS_MS",
    default: "100,500,1000,2000,4000,8000,10000,30000,60000,60000,60000,60000",
    help: "waits between delivery attempts",
    expects: "a non-empty comma list of milliseconds",
    parse: |s| {
        let l: Option<Vec<_>> = list(s).iter().map(|n| n.parse().ok()).collect();
        let l = l.filter(|l| !l.is_empty());
        whole(
            s,
            l.map(|l| l.into_iter().map(Duration::from_millis).collect()),
        )
    },
};

pub const REQUEST_TIMEOUT_MS: Key<Duration> = Key {
    name: "BBB_WEBHOOKS_REQUEST_TIMEOUT_MS",
    default: "5000",
    help: "time limit of one callback request",
    expects: "a number of milliseconds from 1",
    parse: |s| number(s, 1..=u64::MAX).map(Duration::from_millis),
};

pub const DELIVERY_WORKERS: Key<usize> = Key {
    name: "BBB_WEBHOOKS_DELIVERY_WORKERS",
    default: "8",
    help: "threads that post callbacks",
    expects: "a number from 1 to 1024",
    parse: |s| number(s, 1..=1024),
};

pub const MULTI_EVENT: Key<usize> = Key {
    name: "BBB_WEBHOOKS_MULTI_EVENT",
    default: "1",
    help: "most events sent in one callback request when a hook has a backlog",
    expects: "a number from 1 to 1000",
    parse: |s| number(s, 1..=1000),
};

pub const MAX_QUEUE: Key<usize> = Key {
    name: "BBB_WEBHOOKS_MAX_QUEUE",
    default: "10000",
    help: "most events queued per hook; newer events are dropped (and counted) while it is full",
    expects: "a number from 1",
    parse: |s| number(s, 1..=usize::MAX),
};

pub const MAX_QUEUED_BYTES: Key<usize> = Key {
    name: "BBB_WEBHOOKS_MAX_QUEUED_BYTES",
    default: "67108864",
    help: "most bytes all delivery queues hold together (an event for several hooks counts once); newer events are dropped (and counted) while they do",
    expects: "a number of bytes from 1048576",
    parse: |s| number(s, 1_048_576..=usize::MAX),
};

pub const REMOVE_FAILED_HOOKS: Key<bool> = Key {
    name: "BBB_WEBHOOKS_REMOVE_FAILED_HOOKS",
    default: "false",
    help: "remove a hook (not a permanent one) once its retry schedule is exhausted, as the Node.js application did",
    expects: "true or false",
    parse: boolean,
};

pub const MAX_REDIRECTS: Key<u32> = Key {
    name: "BBB_WEBHOOKS_MAX_REDIRECTS",
    default: "0",
    help: "redirects a callback request follows; 0: a redirect is a failed delivery",
    expects: "a number from 0 to 20",
    parse: |s| number(s, 0..=20),
};

/// Parsed to lower case.
pub const INCLUDE_EVENTS: Key<Vec<String>> = Key {
    name: "BBB_WEBHOOKS_INCLUDE_EVENTS",
    default: "",
    help: "event ids delivered, comma-separated; unset: all",
    expects: "a comma list of event ids",
    parse: |s| Ok(lower_list(s)),
};

/// Parsed to lower case.
pub const EXCLUDE_EVENTS: Key<Vec<String>> = Key {
    name: "BBB_WEBHOOKS_EXCLUDE_EVENTS",
    default: "",
    help: "event ids never delivered, comma-separated",
    expects: "a comma list of event ids",
    parse: |s| Ok(lower_list(s)),
};

pub const MEETING_TTL_SECS: Key<Duration> = Key {
    name: "BBB_WEBHOOKS_MEETING_TTL_SECS",
    default: "604800",
    help: "a meeting's ID mappings are forgotten after this long without events",
    expects: "a number of seconds from 1",
    parse: |s| number(s, 1..=u64::MAX).map(Duration::from_secs),
};

pub const API_MAX_REQUEST_BYTES: Key<usize> = Key {
    name: "BBB_WEBHOOKS_API_MAX_REQUEST_BYTES",
    default: "16384",
    help: "largest API request: its URL, its headers and its body each",
    expects: "a number of bytes from 1024",
    parse: |s| number(s, 1024..=usize::MAX),
};

pub const MAX_HOOKS: Key<usize> = Key {
    name: "BBB_WEBHOOKS_MAX_HOOKS",
    default: "10000",
    help: "most hooks that can be registered",
    expects: "a number from 1",
    parse: |s| number(s, 1..=usize::MAX),
};

pub const GET_RAW: Key<bool> = Key {
    name: "BBB_WEBHOOKS_GET_RAW",
    default: "true",
    help: "whether hooks may ask for raw events (getRaw)",
    expects: "true or false",
    parse: boolean,
};

pub const LOG_LEVEL: Key<log::LevelFilter> = Key {
    name: "BBB_WEBHOOKS_LOG_LEVEL",
    default: "info",
    help: "off, error, warn, info, debug or trace",
    expects: "one of off, error, warn, info, debug, trace",
    parse: |s| s.parse().map_err(|_| s),
};

pub const METRICS_BIND: Key<Option<SocketAddr>> = Key {
    name: "BBB_WEBHOOKS_METRICS_BIND",
    default: "",
    help: "address of the Prometheus endpoint GET /metrics, e.g. 127.0.0.1:3006; unset: off",
    expects: "an address like 127.0.0.1:3006",
    parse: |s| match optional(s) {
        None => Ok(None),
        Some(a) => a.parse().map(Some).map_err(|_| s),
    },
};

// The xAPI keys (issue 14, docs/xapi.md): `keys/xapi.rs`.
mod xapi;
pub use xapi::{
    XAPI_ENABLED, XAPI_LRS_PASSWORD, XAPI_LRS_TOKEN, XAPI_LRS_URL, XAPI_LRS_USERNAME,
    XAPI_UUID_NAMESPACE,
};

/// Keys whose values are secrets: a message about a bad one never shows it.
pub const SECRET_VALUES: [&str; 3] = [
    SHARED_SECRET.name,
    XAPI_LRS_PASSWORD.name,
    XAPI_LRS_TOKEN.name,
];

// Cluster mode's keys (issue 15, docs/cluster.md): `keys/cluster.rs`.
mod cluster;
pub use cluster::{
    CLUSTER, CLUSTER_DISABLED_GRACE_SECS, CLUSTER_RELAY_URL, CLUSTER_SERVERS, CLUSTER_SYNC_SECS,
    SCALELITE_NAMESPACE, SCALELITE_REDIS_URL,
};

/// Every key, in the order of `--help` and the docs. A key missing here is
/// unknown in the environment and the file, and makes every load fail.
pub const TABLE: &[Spec] = &[
    REDIS_URL.spec(),
    API_BIND.spec(),
    API_PATH.spec(),
    SHARED_SECRET.spec(),
    SERVER_DOMAIN.spec(),
    BBB_PROPERTIES.spec(),
    CHANNELS.spec(),
    API_CHECKSUM_ALGORITHMS.spec(),
    CALLBACK_AUTH.spec(),
    CALLBACK_CHECKSUM_ALGORITHM.spec(),
    PERMANENT_HOOKS.spec(),
    RETRY_INTERVALS_MS.spec(),
    REQUEST_TIMEOUT_MS.spec(),
    DELIVERY_WORKERS.spec(),
    MULTI_EVENT.spec(),
    MAX_QUEUE.spec(),
    MAX_QUEUED_BYTES.spec(),
    REMOVE_FAILED_HOOKS.spec(),
    MAX_REDIRECTS.spec(),
    INCLUDE_EVENTS.spec(),
    EXCLUDE_EVENTS.spec(),
    MEETING_TTL_SECS.spec(),
    API_MAX_REQUEST_BYTES.spec(),
    MAX_HOOKS.spec(),
    GET_RAW.spec(),
    LOG_LEVEL.spec(),
    METRICS_BIND.spec(),
    XAPI_ENABLED.spec(),
    XAPI_LRS_URL.spec(),
    XAPI_LRS_USERNAME.spec(),
    XAPI_LRS_PASSWORD.spec(),
    XAPI_LRS_TOKEN.spec(),
    XAPI_UUID_NAMESPACE.spec(),
    CLUSTER.spec(),
    SCALELITE_REDIS_URL.spec(),
    SCALELITE_NAMESPACE.spec(),
    CLUSTER_SERVERS.spec(),
    CLUSTER_RELAY_URL.spec(),
    CLUSTER_SYNC_SECS.spec(),
    CLUSTER_DISABLED_GRACE_SECS.spec(),
];

/// [`TABLE`] as (name, default, help) triples: the form `config::KEYS` has
/// always had.
pub const TRIPLES: [(&str, &str, &str); TABLE.len()] = {
    let mut out = [("", "", ""); TABLE.len()];
    let mut i = 0;
    while i < TABLE.len() {
        out[i] = (TABLE[i].name, TABLE[i].default, TABLE[i].help);
        i += 1;
    }
    out
};

/// The key of the table spelled `name`.
pub fn find(name: &str) -> Option<&'static Spec> {
    TABLE.iter().find(|k| k.name == name)
}

#[cfg(test)]
mod tests;
