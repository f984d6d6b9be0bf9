//! The service's configuration: one typed [`Config`], read once at start from
//! (highest first) the environment, a `KEY=value` file, BBB's own properties
//! (secret and domain only) and the defaults of the key table (`keys.rs`).
//! This file is the glue: the types, and which key fills which field. It does
//! no validation at run time and never logs the secret.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod cluster;
mod docs;
mod keys;
mod parse;
mod properties;
mod sources;
mod xapi;

pub use cluster::{Cluster, PoolSource};
pub use xapi::XapiConfig;

use crate::checksum::Algorithm;
use crate::error::{Error, Result};
use keys::AuthMode;
use properties::{url_host, BbbProperties};
use sources::Values;

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "/etc/bigbluebutton/bbb-webhooks.conf";

/// Every key as (name, default, help); an empty default means unset.
/// `--help` prints them; keys not here are refused. Derived from the key
/// table, which also holds each key's parser.
pub const KEYS: &[(&str, &str, &str)] = &keys::TRIPLES;

/// BBB's shared secret. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The secret itself, for computing checksums.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A Redis URL, which may carry the Redis password. Its `Debug` and
/// `Display` never show the password; [`RedisUrl::expose`] gives the URL to
/// connect with.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    pub fn new(s: impl Into<String>) -> RedisUrl {
        RedisUrl(s.into())
    }
    /// The URL itself, for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({})", crate::redact::credentials(&self.0))
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::redact::credentials(&self.0))
    }
}

/// How callbacks prove they come from this server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackAuth {
    /// `checksum=hex(SHA(callbackURL + body + secret))` appended to the URL.
    Checksum(Algorithm),
    /// `Authorization: Bearer <secret>`.
    Bearer,
}

/// A hook from the configuration: always registered, never destroyed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermanentHook {
    pub url: String,
    pub raw: bool,
}

/// The whole configuration, typed. Each field says its key and that key's
/// default (a test checks them against the key table).
#[derive(Clone, Debug)]
pub struct Config {
    /// Redis with BBB's channels: `BBB_WEBHOOKS_REDIS_URL`, default `redis://127.0.0.1:6379`.
    pub redis_url: RedisUrl,
    /// The API's address: `BBB_WEBHOOKS_API_BIND`, default `127.0.0.1:3005`.
    pub api_bind: SocketAddr,
    /// Base path of the API, without a trailing slash: `BBB_WEBHOOKS_API_PATH`, default `/bigbluebutton/api`.
    pub api_path: String,
    /// `BBB_WEBHOOKS_SHARED_SECRET`, unset by default: then BBB's `securitySalt`.
    pub secret: Secret,
    /// Where the secret was found (a key and its origin, or a property
    /// file), for messages that must not show the secret itself.
    pub secret_origin: String,
    /// `BBB_WEBHOOKS_SERVER_DOMAIN`, unset by default: then the host of BBB's `bigbluebutton.web.serverURL`, read from the files of `BBB_WEBHOOKS_BBB_PROPERTIES`, default `/etc/bigbluebutton/bbb-web.properties,/usr/share/bbb-web/WEB-INF/classes/bigbluebutton.properties`.
    pub server_domain: String,
    /// Never empty: `BBB_WEBHOOKS_CHANNELS`, default `from-akka-apps-redis-channel,from-bbb-web-redis-channel,from-akka-apps-chat-redis-channel,from-akka-apps-pres-redis-channel,bigbluebutton:from-bbb-apps:meeting,bigbluebutton:from-bbb-apps:users,bigbluebutton:from-rap,bigbluebutton:events`.
    pub channels: Vec<String>,
    /// Never empty: `BBB_WEBHOOKS_API_CHECKSUM_ALGORITHMS`, default `sha1,sha256,sha384,sha512`.
    pub api_algorithms: Vec<Algorithm>,
    /// `BBB_WEBHOOKS_CALLBACK_AUTH`, default `checksum`, with `BBB_WEBHOOKS_CALLBACK_CHECKSUM_ALGORITHM`, default `sha1`.
    pub callback_auth: CallbackAuth,
    /// `BBB_WEBHOOKS_PERMANENT_HOOKS`, unset by default.
    pub permanent_hooks: Vec<PermanentHook>,
    /// Never empty: `BBB_WEBHOOKS_RETRY_INTERVALS_MS`, default `100,500,1000,2000,4000,8000,10000,30000,60000,60000,60000,60000`.
    pub retry_intervals: Vec<Duration>,
    /// `BBB_WEBHOOKS_REQUEST_TIMEOUT_MS`, default `5000`.
    pub request_timeout: Duration,
    /// 1 to 1024: `BBB_WEBHOOKS_DELIVERY_WORKERS`, default `8`.
    pub delivery_workers: usize,
    /// 1 to 1000: `BBB_WEBHOOKS_MULTI_EVENT`, default `1`.
    pub multi_event: usize,
    /// At least 1: `BBB_WEBHOOKS_MAX_QUEUE`, default `10000`.
    pub max_queue: usize,
    /// At least 1 MiB: `BBB_WEBHOOKS_MAX_QUEUED_BYTES`, default `67108864` (64 MiB).
    pub max_queued_bytes: usize,
    /// `BBB_WEBHOOKS_REMOVE_FAILED_HOOKS`, default `false`.
    pub remove_failed_hooks: bool,
    /// 0 to 20: `BBB_WEBHOOKS_MAX_REDIRECTS`, default `0`.
    pub max_redirects: u32,
    /// Lower-case; empty: all: `BBB_WEBHOOKS_INCLUDE_EVENTS`, unset by default.
    pub include_events: Vec<String>,
    /// Lower-case: `BBB_WEBHOOKS_EXCLUDE_EVENTS`, unset by default.
    pub exclude_events: Vec<String>,
    /// `BBB_WEBHOOKS_MEETING_TTL_SECS`, default `604800`.
    pub meeting_ttl: Duration,
    /// At least 1024: `BBB_WEBHOOKS_API_MAX_REQUEST_BYTES`, default `16384`.
    pub api_max_request_bytes: usize,
    /// At least 1: `BBB_WEBHOOKS_MAX_HOOKS`, default `10000`.
    pub max_hooks: usize,
    /// `BBB_WEBHOOKS_GET_RAW`, default `true`.
    pub get_raw: bool,
    /// `BBB_WEBHOOKS_LOG_LEVEL`, default `info`.
    pub log_level: log::LevelFilter,
    /// `None`: no metrics endpoint: `BBB_WEBHOOKS_METRICS_BIND`, unset by default.
    pub metrics_bind: Option<SocketAddr>,
    /// The xAPI output (`xapi.rs`): `BBB_WEBHOOKS_XAPI_ENABLED`, default `false`; `BBB_WEBHOOKS_XAPI_LRS_URL`, unset by default; `BBB_WEBHOOKS_XAPI_LRS_USERNAME`, unset by default; `BBB_WEBHOOKS_XAPI_LRS_PASSWORD`, unset by default; `BBB_WEBHOOKS_XAPI_LRS_TOKEN`, unset by default; `BBB_WEBHOOKS_XAPI_UUID_NAMESPACE`, unset by default.
    pub xapi: XapiConfig,
    /// Cluster mode (issue 15); `None`, a BBB server, when
    /// `BBB_WEBHOOKS_CLUSTER`, default `off`, is off. Its pool: Scalelite's
    /// Redis at `BBB_WEBHOOKS_SCALELITE_REDIS_URL`, unset by default (then
    /// `BBB_WEBHOOKS_REDIS_URL`), keys under `BBB_WEBHOOKS_SCALELITE_NAMESPACE`,
    /// default `scalelite`; or `BBB_WEBHOOKS_CLUSTER_SERVERS`, unset by default.
    /// Relay hooks call back `BBB_WEBHOOKS_CLUSTER_RELAY_URL`, unset by default
    /// (required in cluster mode), every `BBB_WEBHOOKS_CLUSTER_SYNC_SECS`,
    /// default `10`; a disabled server keeps its relay hook for
    /// `BBB_WEBHOOKS_CLUSTER_DISABLED_GRACE_SECS`, default `3600`.
    pub cluster: Option<Cluster>,
}

impl Config {
    /// Reads the configuration from `env` (the process environment, or a test's),
    /// the file `file` (or [`DEFAULT_FILE`] when it exists), BBB's properties and
    /// the defaults.
    pub fn load(env: &HashMap<String, String>, file: Option<&Path>) -> Result<Config> {
        let file = match file {
            Some(f) => Some(f.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.exists()),
        };
        Config::from_values(&Values::read(env, file.as_deref())?)
    }

    /// Each field from its key, in the order the keys are checked (the first
    /// bad value is the one reported).
    fn from_values(v: &Values) -> Result<Config> {
        let redis_url = v.parse(&keys::REDIS_URL)?;
        let api_bind = v.parse(&keys::API_BIND)?;
        let api_path = v.parse(&keys::API_PATH)?;
        let props_files = v.parse(&keys::BBB_PROPERTIES)?;
        let props = BbbProperties::read(&props_files);
        let (secret, secret_origin) = match v.parse(&keys::SHARED_SECRET)? {
            Some(s) => {
                let origin = v.origin(&keys::SHARED_SECRET)?;
                (s, format!("{} from {origin}", keys::SHARED_SECRET.name))
            }
            None => match props.get_with_file("securitySalt") {
                Some((s, file)) if !s.is_empty() => (
                    Secret::new(s),
                    format!("securitySalt in {}", file.display()),
                ),
                _ => {
                    return Err(Error::Config(format!(
                        "no shared secret: {} is unset and no securitySalt was found in {}",
                        keys::SHARED_SECRET.name,
                        describe_files(&props_files)
                    )))
                }
            },
        };
        let server_domain = match v.parse(&keys::SERVER_DOMAIN)? {
            Some(d) => d,
            None => match props.get("bigbluebutton.web.serverURL").and_then(url_host) {
                Some(h) => h,
                None => {
                    return Err(Error::Config(format!(
                        "no server domain: {} is unset and no bigbluebutton.web.serverURL was found in {}",
                        keys::SERVER_DOMAIN.name,
                        describe_files(&props_files)
                    )))
                }
            },
        };
        let channels = v.parse(&keys::CHANNELS)?;
        let api_algorithms = v.parse(&keys::API_CHECKSUM_ALGORITHMS)?;
        let algorithm = v.parse(&keys::CALLBACK_CHECKSUM_ALGORITHM)?;
        let callback_auth = match v.parse(&keys::CALLBACK_AUTH)? {
            AuthMode::Checksum => CallbackAuth::Checksum(algorithm),
            AuthMode::Bearer => CallbackAuth::Bearer,
        };
        let mut config = Config {
            redis_url,
            api_bind,
            api_path,
            secret,
            secret_origin,
            server_domain,
            channels,
            api_algorithms,
            callback_auth,
            permanent_hooks: v.parse(&keys::PERMANENT_HOOKS)?,
            retry_intervals: v.parse(&keys::RETRY_INTERVALS_MS)?,
            request_timeout: v.parse(&keys::REQUEST_TIMEOUT_MS)?,
            delivery_workers: v.parse(&keys::DELIVERY_WORKERS)?,
            multi_event: v.parse(&keys::MULTI_EVENT)?,
            max_queue: v.parse(&keys::MAX_QUEUE)?,
            max_queued_bytes: v.parse(&keys::MAX_QUEUED_BYTES)?,
            remove_failed_hooks: v.parse(&keys::REMOVE_FAILED_HOOKS)?,
            max_redirects: v.parse(&keys::MAX_REDIRECTS)?,
            include_events: v.parse(&keys::INCLUDE_EVENTS)?,
            exclude_events: v.parse(&keys::EXCLUDE_EVENTS)?,
            meeting_ttl: v.parse(&keys::MEETING_TTL_SECS)?,
            api_max_request_bytes: v.parse(&keys::API_MAX_REQUEST_BYTES)?,
            max_hooks: v.parse(&keys::MAX_HOOKS)?,
            get_raw: v.parse(&keys::GET_RAW)?,
            log_level: v.parse(&keys::LOG_LEVEL)?,
            metrics_bind: v.parse(&keys::METRICS_BIND)?,
            xapi: XapiConfig::from_values(v)?,
            // Checked against the keys above, once they are parsed.
            cluster: None,
        };
        config.cluster = cluster::from_values(
            v,
            &config.redis_url,
            &config.api_path,
            &config.permanent_hooks,
        )?;
        Ok(config)
    }

    /// The text `--help` prints after the usage line: every key with its default.
    pub fn keys_help() -> String {
        docs::help()
    }

    /// The settings table of `docs/configuration.md`, in Markdown, rendered
    /// from the key table (a test keeps the file equal to it).
    pub fn settings_table() -> String {
        docs::markdown_table()
    }
}

fn describe_files(files: &[PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    if names.is_empty() {
        format!("no property file ({} is empty)", keys::BBB_PROPERTIES.name)
    } else {
        names.join(" and ")
    }
}

#[cfg(test)]
mod tests;
