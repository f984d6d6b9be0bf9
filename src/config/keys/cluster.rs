//! Cluster mode's keys of the key table (issue 15, docs/cluster.md): the
//! mode, where the pool comes from, the relay URL and the sync timing.
//! Declared here, listed in `TABLE` with the others; that they fit together
//! is checked by `config::cluster`.

use std::time::Duration;

use super::super::cluster;
use super::super::parse::{number, optional, optional_text, Key};
use super::super::RedisUrl;
use super::REDIS_URL;

pub const CLUSTER: Key<cluster::Mode> = Key {
    name: "BBB_WEBHOOKS_CLUSTER",
    default: "off",
    help: "cluster mode: off (on a BBB server), scalelite (the pool of BBB servers read from Scalelite's Redis) or static (the pool in BBB_WEBHOOKS_CLUSTER_SERVERS); in cluster mode no BBB channel is read and the shared secret is the load balancer's",
    expects: "off, scalelite or static",
    parse: cluster::parse_mode,
};

pub const SCALELITE_REDIS_URL: Key<Option<RedisUrl>> = Key {
    name: "BBB_WEBHOOKS_SCALELITE_REDIS_URL",
    default: "",
    help: "Scalelite's Redis, only read (cluster mode scalelite); unset: BBB_WEBHOOKS_REDIS_URL",
    expects: "a redis:// or unix:// URL",
    parse: |s| optional(s).map(|u| (REDIS_URL.parse)(u)).transpose(),
};

pub const SCALELITE_NAMESPACE: Key<String> = Key {
    name: "BBB_WEBHOOKS_SCALELITE_NAMESPACE",
    default: crate::cluster::scalelite::DEFAULT_NAMESPACE,
    help: "prefix of Scalelite's keys in its Redis (Scalelite's REDIS_NAMESPACE)",
    expects: "a key prefix without spaces",
    parse: cluster::parse_namespace,
};

/// Checked in `cluster.rs`, whose errors never show a URL or a secret.
pub const CLUSTER_SERVERS: Key<Option<String>> = Key {
    name: "BBB_WEBHOOKS_CLUSTER_SERVERS",
    default: "",
    help: "the pool in cluster mode static: comma-separated id=URL|secret entries, URL a server's API base (https://bbb1.example.com/bigbluebutton/api) and secret its shared secret",
    expects: "comma-separated id=URL|secret entries",
    parse: optional_text,
};

pub const CLUSTER_RELAY_URL: Key<Option<crate::cluster::relay::RelayUrl>> = Key {
    name: "BBB_WEBHOOKS_CLUSTER_RELAY_URL",
    default: "",
    help: "cluster mode: the public URL at which the pool's BBB servers reach this service, e.g. https://lb.example.com/bigbluebutton/api/hooks/relay; each server's relay hook calls back <URL>/<server id>",
    expects: "an absolute http(s) URL with a path and no query, e.g. https://lb.example.com/bigbluebutton/api/hooks/relay",
    parse: cluster::parse_relay_url,
};

pub const CLUSTER_SYNC_SECS: Key<Duration> = Key {
    name: "BBB_WEBHOOKS_CLUSTER_SYNC_SECS",
    default: "10",
    help: "cluster mode: seconds between two reads of the pool and checks of its relay hooks",
    expects: "a number of seconds from 1 to 3600",
    parse: |s| number(s, 1..=3600).map(Duration::from_secs),
};

pub const CLUSTER_DISABLED_GRACE_SECS: Key<Duration> = Key {
    name: "BBB_WEBHOOKS_CLUSTER_DISABLED_GRACE_SECS",
    default: "3600",
    help: "cluster mode: how long a server disabled in the pool keeps its relay hook, for the recordings of its last meetings; 0: removed at once",
    expects: "a number of seconds",
    parse: |s| number(s, 0..=u64::MAX).map(Duration::from_secs),
};
