//! Cluster mode's settings (issue 15), checked together once their keys
//! are parsed: which pool (Scalelite's Redis or a static list), the relay
//! URL and the timings, and what cluster mode cannot work with. Errors name
//! the key and where its value came from; a static pool's entries are named
//! by position and id, never by URL or secret.

use std::time::Duration;

use super::keys;
use super::parse::Key;
use super::sources::Values;
use super::{PermanentHook, RedisUrl};
use crate::cluster::relay::RelayUrl;
use crate::cluster::Pool;
use crate::error::{Error, Result};

/// `BBB_WEBHOOKS_CLUSTER`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A BBB server: events from its Redis channels.
    Off,
    /// The pool is read from Scalelite's Redis.
    Scalelite,
    /// The pool is `BBB_WEBHOOKS_CLUSTER_SERVERS`.
    Static,
}

/// Where the pool comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolSource {
    /// Scalelite's Redis, keys under `namespace` (read only).
    Scalelite { url: RedisUrl, namespace: String },
    /// A fixed pool, every server enabled.
    Static(Pool),
}

/// Cluster mode's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    pub source: PoolSource,
    /// Where the pool's servers post their events.
    pub relay_url: RelayUrl,
    /// Between two reads of the pool and checks of its relay hooks.
    pub sync_interval: Duration,
    /// How long a disabled server keeps its relay hook.
    pub disabled_grace: Duration,
}

/// Parses `BBB_WEBHOOKS_CLUSTER`.
pub(super) fn parse_mode(s: &str) -> std::result::Result<Mode, &str> {
    match s.to_ascii_lowercase().as_str() {
        "off" => Ok(Mode::Off),
        "scalelite" => Ok(Mode::Scalelite),
        "static" => Ok(Mode::Static),
        _ => Err(s),
    }
}

/// Parses `BBB_WEBHOOKS_SCALELITE_NAMESPACE`, without a trailing `:`.
pub(super) fn parse_namespace(s: &str) -> std::result::Result<String, &str> {
    let ok = !s.is_empty() && !s.contains(char::is_whitespace);
    Some(s.trim_end_matches(':').to_owned())
        .filter(|n| ok && !n.is_empty())
        .ok_or(s)
}

/// Parses `BBB_WEBHOOKS_CLUSTER_RELAY_URL`; empty: unset.
pub(super) fn parse_relay_url(s: &str) -> std::result::Result<Option<RelayUrl>, &str> {
    match s {
        "" => Ok(None),
        u => RelayUrl::parse(u).map(Some).map_err(|_| s),
    }
}

impl Mode {
    /// Its value of `BBB_WEBHOOKS_CLUSTER`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Scalelite => "scalelite",
            Mode::Static => "static",
        }
    }
}

/// The API calls the relay path must leave alone: those the API checks a
/// checksum of, and its ping.
fn api_calls() -> impl Iterator<Item = &'static str> {
    crate::api::CALLS.into_iter().chain(["hooks/ping"])
}

/// Refuses `key` being set when the mode (as `mode_said` says it) does not
/// use it.
fn unused<T>(v: &Values, key: &Key<Option<T>>, value: &Option<T>, mode_said: &str) -> Result<()> {
    match value {
        None => Ok(()),
        Some(_) => Err(Error::Config(format!(
            "{} is set (from {}) but {mode_said}, which does not use it",
            key.name,
            v.origin(key)?
        ))),
    }
}

/// Cluster mode's settings, `None` when it is off; checked against the
/// settings parsed before: this service's Redis (the default Scalelite
/// Redis), the API path and the permanent hooks.
pub(super) fn from_values(
    v: &Values,
    redis_url: &RedisUrl,
    api_path: &str,
    permanent: &[PermanentHook],
) -> Result<Option<Cluster>> {
    let mode = v.parse(&keys::CLUSTER)?;
    let scalelite_url = v.parse(&keys::SCALELITE_REDIS_URL)?;
    let namespace = v.parse(&keys::SCALELITE_NAMESPACE)?;
    let servers = v.parse(&keys::CLUSTER_SERVERS)?;
    let relay_url = v.parse(&keys::CLUSTER_RELAY_URL)?;
    let sync_interval = v.parse(&keys::CLUSTER_SYNC_SECS)?;
    let disabled_grace = v.parse(&keys::CLUSTER_DISABLED_GRACE_SECS)?;
    let mode_said = format!(
        "{} is {} (from {})",
        keys::CLUSTER.name,
        mode.name(),
        v.origin(&keys::CLUSTER)?
    );
    if mode == Mode::Off {
        unused(v, &keys::CLUSTER_RELAY_URL, &relay_url, &mode_said)?;
        unused(v, &keys::CLUSTER_SERVERS, &servers, &mode_said)?;
        unused(v, &keys::SCALELITE_REDIS_URL, &scalelite_url, &mode_said)?;
        return Ok(None);
    }
    let source = match mode {
        Mode::Static => {
            unused(v, &keys::SCALELITE_REDIS_URL, &scalelite_url, &mode_said)?;
            let key = keys::CLUSTER_SERVERS.name;
            let origin = v.origin(&keys::CLUSTER_SERVERS)?;
            let pool = crate::cluster::parse_static(servers.as_deref().unwrap_or(""))
                .map_err(|e| Error::Config(format!("{key} (from {origin}): {e}")))?;
            if pool.is_empty() {
                return Err(Error::Config(format!(
                    "{mode_said} but {key} lists no server: give id=URL|secret entries, e.g. \
                     bbb1=https://bbb1.example.com/bigbluebutton/api|<its secret>"
                )));
            }
            PoolSource::Static(pool)
        }
        _ => {
            unused(v, &keys::CLUSTER_SERVERS, &servers, &mode_said)?;
            PoolSource::Scalelite {
                url: scalelite_url.unwrap_or_else(|| redis_url.clone()),
                namespace,
            }
        }
    };
    let Some(relay_url) = relay_url else {
        return Err(Error::Config(format!(
            "{mode_said} but {} is unset: set it to the URL at which the pool's BBB servers reach \
             this service, e.g. https://lb.example.com{api_path}/hooks/relay",
            keys::CLUSTER_RELAY_URL.name
        )));
    };
    let taken =
        api_calls().find(|call| relay_url.server_id(&format!("{api_path}/{call}")).is_some());
    if let Some(call) = taken {
        return Err(Error::Config(format!(
            "{} (from {}): its path {} would take the API call {call}; use a path of its own, \
             e.g. {api_path}/hooks/relay",
            keys::CLUSTER_RELAY_URL.name,
            v.origin(&keys::CLUSTER_RELAY_URL)?,
            relay_url.path()
        )));
    }
    if let Some(raw) = permanent.iter().find(|p| p.raw) {
        return Err(Error::Config(format!(
            "{} lists the raw hook {} but {mode_said}: raw BBB messages are not relayed from the \
             pool's servers; drop its raw: prefix",
            keys::PERMANENT_HOOKS.name,
            crate::redact::url(&raw.url),
        )));
    }
    Ok(Some(Cluster {
        source,
        relay_url,
        sync_interval,
        disabled_grace,
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use super::*;
    use crate::config::Config;

    fn load(pairs: &[(&str, &str)]) -> Result<Config> {
        let mut env: HashMap<String, String> = [
            ("BBB_WEBHOOKS_SHARED_SECRET", "lb-secret"),
            ("BBB_WEBHOOKS_SERVER_DOMAIN", "lb.example.com"),
            ("BBB_WEBHOOKS_BBB_PROPERTIES", ""),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        for (k, v) in pairs {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        Config::load(&env, Some(Path::new("/dev/null")))
    }

    fn err(pairs: &[(&str, &str)]) -> String {
        load(pairs).expect_err("refused").to_string()
    }

    const RELAY: (&str, &str) = (
        "BBB_WEBHOOKS_CLUSTER_RELAY_URL",
        "https://lb.example.com/bigbluebutton/api/hooks/relay",
    );

    #[test]
    fn off_by_default() {
        let c = load(&[]).expect("loads");
        assert_eq!(c.cluster, None);
    }

    #[test]
    fn scalelite_defaults_to_this_service_s_redis_and_namespace() {
        let c = load(&[
            ("BBB_WEBHOOKS_CLUSTER", "scalelite"),
            ("BBB_WEBHOOKS_REDIS_URL", "redis://10.0.0.5:6379"),
            RELAY,
        ])
        .expect("loads");
        let cl = c.cluster.expect("cluster mode");
        assert_eq!(
            cl.source,
            PoolSource::Scalelite {
                url: RedisUrl::new("redis://10.0.0.5:6379"),
                namespace: "scalelite".into()
            }
        );
        assert_eq!(cl.relay_url.path(), "/bigbluebutton/api/hooks/relay");
        assert_eq!(cl.sync_interval, Duration::from_secs(10));
        assert_eq!(cl.disabled_grace, Duration::from_secs(3600));
        let c = load(&[
            ("BBB_WEBHOOKS_CLUSTER", "Scalelite"),
            ("BBB_WEBHOOKS_SCALELITE_REDIS_URL", "redis://:pw@sl:6379/2"),
            ("BBB_WEBHOOKS_SCALELITE_NAMESPACE", "sl-prod"),
            ("BBB_WEBHOOKS_CLUSTER_SYNC_SECS", "1"),
            ("BBB_WEBHOOKS_CLUSTER_DISABLED_GRACE_SECS", "0"),
            RELAY,
        ])
        .expect("loads");
        let cl = c.cluster.expect("cluster mode");
        assert_eq!(
            cl.source,
            PoolSource::Scalelite {
                url: RedisUrl::new("redis://:pw@sl:6379/2"),
                namespace: "sl-prod".into()
            }
        );
        assert_eq!(cl.sync_interval, Duration::from_secs(1));
        assert_eq!(cl.disabled_grace, Duration::ZERO);
    }

    #[test]
    fn a_static_pool() {
        let c = load(&[
            ("BBB_WEBHOOKS_CLUSTER", "static"),
            (
                "BBB_WEBHOOKS_CLUSTER_SERVERS",
                "bbb1=https://bbb1.example.com/bigbluebutton/api|s1",
            ),
            RELAY,
        ])
        .expect("loads");
        match c.cluster.expect("cluster mode").source {
            PoolSource::Static(pool) => assert!(pool.contains("bbb1")),
            other => panic!("{other:?}"),
        }
        assert!(!format!("{:?}", load(&[]).expect("loads")).contains("s1\""));
    }

    #[test]
    fn mistakes_name_the_key_and_never_a_secret() {
        let servers = "bbb1=https://bbb1/bigbluebutton/api|topsecret,bbb1=topsecret";
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (
                vec![("BBB_WEBHOOKS_CLUSTER", "yes")],
                "BBB_WEBHOOKS_CLUSTER (from the environment) has the value \"yes\"",
            ),
            (
                vec![("BBB_WEBHOOKS_CLUSTER", "scalelite")],
                "BBB_WEBHOOKS_CLUSTER_RELAY_URL is unset",
            ),
            (
                vec![("BBB_WEBHOOKS_CLUSTER", "static"), RELAY],
                "BBB_WEBHOOKS_CLUSTER_SERVERS lists no server",
            ),
            (
                vec![
                    ("BBB_WEBHOOKS_CLUSTER", "static"),
                    ("BBB_WEBHOOKS_CLUSTER_SERVERS", servers),
                    RELAY,
                ],
                "BBB_WEBHOOKS_CLUSTER_SERVERS (from the environment): entry 2 (\"bbb1\")",
            ),
            (
                vec![
                    ("BBB_WEBHOOKS_CLUSTER", "scalelite"),
                    ("BBB_WEBHOOKS_CLUSTER_SERVERS", servers),
                    RELAY,
                ],
                "BBB_WEBHOOKS_CLUSTER_SERVERS is set (from the environment) but BBB_WEBHOOKS_CLUSTER is scalelite",
            ),
            (
                vec![RELAY],
                "BBB_WEBHOOKS_CLUSTER_RELAY_URL is set (from the environment) but BBB_WEBHOOKS_CLUSTER is off (from the default)",
            ),
            (
                vec![
                    ("BBB_WEBHOOKS_CLUSTER", "scalelite"),
                    ("BBB_WEBHOOKS_CLUSTER_RELAY_URL", "https://lb/bigbluebutton/api"),
                ],
                "its path /bigbluebutton/api would take the API call subscribeEvent",
            ),
            (
                vec![
                    ("BBB_WEBHOOKS_CLUSTER", "scalelite"),
                    ("BBB_WEBHOOKS_CLUSTER_RELAY_URL", "https://lb/relay?x=1"),
                ],
                "BBB_WEBHOOKS_CLUSTER_RELAY_URL (from the environment) has the value",
            ),
            (
                vec![("BBB_WEBHOOKS_SCALELITE_REDIS_URL", "redis://:pw@sl:6379")],
                "BBB_WEBHOOKS_SCALELITE_REDIS_URL is set (from the environment) but BBB_WEBHOOKS_CLUSTER is off",
            ),
            (
                vec![("BBB_WEBHOOKS_CLUSTER_SYNC_SECS", "0")],
                "BBB_WEBHOOKS_CLUSTER_SYNC_SECS",
            ),
            (
                vec![("BBB_WEBHOOKS_SCALELITE_NAMESPACE", "a b")],
                "BBB_WEBHOOKS_SCALELITE_NAMESPACE",
            ),
            (
                vec![
                    ("BBB_WEBHOOKS_CLUSTER", "scalelite"),
                    ("BBB_WEBHOOKS_PERMANENT_HOOKS", "raw:https://app/cb?token=x"),
                    RELAY,
                ],
                "BBB_WEBHOOKS_PERMANENT_HOOKS lists the raw hook https://app/cb?…",
            ),
        ];
        for (pairs, want) in cases {
            let e = err(&pairs);
            assert!(e.contains(want), "{pairs:?}: {e}");
            assert!(
                !e.contains("topsecret") && !e.contains("token=x") && !e.contains(":pw@"),
                "{e}"
            );
        }
    }
}
