//! The service's configuration: one typed [`Config`], read once at start from
//! (highest first) the environment, a `KEY=value` file, BBB's own properties
//! (secret and domain only) and the defaults below. It does no validation at
//! run time and never logs the secret.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod properties;
mod sources;

use crate::checksum::Algorithm;
use crate::error::{Error, Result};
use properties::{url_host, BbbProperties};
use sources::{bad, Values};

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "/etc/bigbluebutton/bbb-webhooks.conf";

/// Every key: name, default (empty: unset) and what it means. `--help` prints
/// this table; keys not in it are refused.
pub const KEYS: &[(&str, &str, &str)] = &[
    ("BBB_WEBHOOKS_REDIS_URL", "redis://127.0.0.1:6379", "Redis server with BBB's channels; hooks and queues are kept there"),
    ("BBB_WEBHOOKS_API_BIND", "127.0.0.1:3005", "address the hooks API listens on"),
    ("BBB_WEBHOOKS_API_PATH", "/bigbluebutton/api", "base path of the API calls"),
    ("BBB_WEBHOOKS_SHARED_SECRET", "", "BBB's shared secret; unset: securitySalt from BBB's properties"),
    ("BBB_WEBHOOKS_SERVER_DOMAIN", "", "domain sent with every callback; unset: host of bigbluebutton.web.serverURL"),
    ("BBB_WEBHOOKS_BBB_PROPERTIES", "/etc/bigbluebutton/bbb-web.properties,/usr/share/bbb-web/WEB-INF/classes/bigbluebutton.properties", "BBB property files, first wins"),
    ("BBB_WEBHOOKS_CHANNELS", "from-akka-apps-redis-channel,from-bbb-web-redis-channel,from-akka-apps-chat-redis-channel,from-akka-apps-pres-redis-channel,bigbluebutton:from-bbb-apps:meeting,bigbluebutton:from-bbb-apps:users,bigbluebutton:from-rap,bigbluebutton:events", "Redis channels to subscribe to"),
    ("BBB_WEBHOOKS_API_CHECKSUM_ALGORITHMS", "sha1,sha256,sha384,sha512", "checksum algorithms the API accepts"),
    ("BBB_WEBHOOKS_CALLBACK_AUTH", "checksum", "how callbacks authenticate: checksum (URL parameter) or bearer (Authorization header)"),
    ("BBB_WEBHOOKS_CALLBACK_CHECKSUM_ALGORITHM", "sha1", "algorithm of the callback checksum"),
    ("BBB_WEBHOOKS_PERMANENT_HOOKS", "", "callback URLs always registered, comma-separated; prefix one with raw: for raw events"),
    ("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "100,500,1000,2000,4000,8000,10000,30000,60000,60000,60000,60000", "waits between delivery attempts"),
    ("BBB_WEBHOOKS_REQUEST_TIMEOUT_MS", "5000", "time limit of one callback request"),
    ("BBB_WEBHOOKS_DELIVERY_WORKERS", "8", "threads that post callbacks"),
    ("BBB_WEBHOOKS_MULTI_EVENT", "1", "most events sent in one callback request when a hook has a backlog"),
    ("BBB_WEBHOOKS_MAX_QUEUE", "10000", "most events queued per hook; newer events are dropped (and counted) while it is full"),
    ("BBB_WEBHOOKS_REMOVE_FAILED_HOOKS", "false", "remove a hook (not a permanent one) once its retry schedule is exhausted, as the Node.js application did"),
    ("BBB_WEBHOOKS_MAX_REDIRECTS", "0", "redirects a callback request follows; 0: a redirect is a failed delivery"),
    ("BBB_WEBHOOKS_INCLUDE_EVENTS", "", "event ids delivered, comma-separated; unset: all"),
    ("BBB_WEBHOOKS_EXCLUDE_EVENTS", "", "event ids never delivered, comma-separated"),
    ("BBB_WEBHOOKS_MEETING_TTL_SECS", "604800", "a meeting's ID mappings are forgotten after this long without events"),
    ("BBB_WEBHOOKS_API_MAX_REQUEST_BYTES", "16384", "largest API request: its URL, its headers and its body each"),
    ("BBB_WEBHOOKS_MAX_HOOKS", "10000", "most hooks that can be registered"),
    ("BBB_WEBHOOKS_GET_RAW", "true", "whether hooks may ask for raw events (getRaw)"),
    ("BBB_WEBHOOKS_LOG_LEVEL", "info", "off, error, warn, info, debug or trace"),
    ("BBB_WEBHOOKS_METRICS_BIND", "", "address of the Prometheus endpoint GET /metrics, e.g. 127.0.0.1:3006; unset: off"),
];

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

/// The whole configuration, typed.
#[derive(Clone, Debug)]
pub struct Config {
    /// `BBB_WEBHOOKS_REDIS_URL`.
    pub redis_url: String,
    /// `BBB_WEBHOOKS_API_BIND`.
    pub api_bind: SocketAddr,
    /// `BBB_WEBHOOKS_API_PATH`, without a trailing slash.
    pub api_path: String,
    /// `BBB_WEBHOOKS_SHARED_SECRET` or BBB's `securitySalt`.
    pub secret: Secret,
    /// Where the secret was found (a key and its origin, or a property
    /// file), for messages that must not show the secret itself.
    pub secret_origin: String,
    /// `BBB_WEBHOOKS_SERVER_DOMAIN` or the host of BBB's server URL.
    pub server_domain: String,
    /// `BBB_WEBHOOKS_CHANNELS`.
    pub channels: Vec<String>,
    /// `BBB_WEBHOOKS_API_CHECKSUM_ALGORITHMS`.
    pub api_algorithms: Vec<Algorithm>,
    /// `BBB_WEBHOOKS_CALLBACK_AUTH` with `BBB_WEBHOOKS_CALLBACK_CHECKSUM_ALGORITHM`.
    pub callback_auth: CallbackAuth,
    /// `BBB_WEBHOOKS_PERMANENT_HOOKS`.
    pub permanent_hooks: Vec<PermanentHook>,
    /// `BBB_WEBHOOKS_RETRY_INTERVALS_MS`; never empty.
    pub retry_intervals: Vec<Duration>,
    /// `BBB_WEBHOOKS_REQUEST_TIMEOUT_MS`.
    pub request_timeout: Duration,
    /// `BBB_WEBHOOKS_DELIVERY_WORKERS`, at least 1.
    pub delivery_workers: usize,
    /// `BBB_WEBHOOKS_MULTI_EVENT`, at least 1.
    pub multi_event: usize,
    /// `BBB_WEBHOOKS_MAX_QUEUE`, at least 1.
    pub max_queue: usize,
    /// `BBB_WEBHOOKS_REMOVE_FAILED_HOOKS`.
    pub remove_failed_hooks: bool,
    /// `BBB_WEBHOOKS_MAX_REDIRECTS`.
    pub max_redirects: u32,
    /// `BBB_WEBHOOKS_INCLUDE_EVENTS`, lower-case; empty: all.
    pub include_events: Vec<String>,
    /// `BBB_WEBHOOKS_EXCLUDE_EVENTS`, lower-case.
    pub exclude_events: Vec<String>,
    /// `BBB_WEBHOOKS_MEETING_TTL_SECS`.
    pub meeting_ttl: Duration,
    /// `BBB_WEBHOOKS_API_MAX_REQUEST_BYTES`.
    pub api_max_request_bytes: usize,
    /// `BBB_WEBHOOKS_MAX_HOOKS`.
    pub max_hooks: usize,
    /// `BBB_WEBHOOKS_GET_RAW`.
    pub get_raw: bool,
    /// `BBB_WEBHOOKS_LOG_LEVEL`.
    pub log_level: log::LevelFilter,
    /// `BBB_WEBHOOKS_METRICS_BIND`; `None`: no metrics endpoint.
    pub metrics_bind: Option<SocketAddr>,
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

    fn from_values(v: &Values) -> Result<Config> {
        let (redis_url, origin) = v.req("BBB_WEBHOOKS_REDIS_URL");
        if !(redis_url.starts_with("redis://") || redis_url.starts_with("unix://")) {
            return Err(bad(
                "BBB_WEBHOOKS_REDIS_URL",
                origin,
                redis_url,
                "a redis:// or unix:// URL",
            ));
        }
        let api_bind = v.parse(
            "BBB_WEBHOOKS_API_BIND",
            "an address like 127.0.0.1:3005",
            |s| s.parse().ok(),
        )?;
        let (path, origin) = v.req("BBB_WEBHOOKS_API_PATH");
        if !path.starts_with('/') || path.contains(['?', '#', ' ']) {
            return Err(bad(
                "BBB_WEBHOOKS_API_PATH",
                origin,
                path,
                "a path starting with /",
            ));
        }
        let api_path = path.trim_end_matches('/').to_owned();

        let props_files: Vec<PathBuf> = list(v.req("BBB_WEBHOOKS_BBB_PROPERTIES").0)
            .into_iter()
            .map(PathBuf::from)
            .collect();
        let props = BbbProperties::read(&props_files);
        let (secret, secret_origin) = match v.get("BBB_WEBHOOKS_SHARED_SECRET") {
            Some((s, origin)) => (
                Secret::new(s),
                format!("BBB_WEBHOOKS_SHARED_SECRET from {origin}"),
            ),
            None => match props.get_with_file("securitySalt") {
                Some((s, file)) if !s.is_empty() => (
                    Secret::new(s),
                    format!("securitySalt in {}", file.display()),
                ),
                _ => {
                    return Err(Error::Config(format!(
                        "no shared secret: BBB_WEBHOOKS_SHARED_SECRET is unset and no securitySalt was found in {}",
                        describe_files(&props_files)
                    )))
                }
            },
        };
        let server_domain = match v.get("BBB_WEBHOOKS_SERVER_DOMAIN") {
            Some((d, _)) => d.to_owned(),
            None => match props.get("bigbluebutton.web.serverURL").and_then(url_host) {
                Some(h) => h,
                None => {
                    return Err(Error::Config(format!(
                        "no server domain: BBB_WEBHOOKS_SERVER_DOMAIN is unset and no bigbluebutton.web.serverURL was found in {}",
                        describe_files(&props_files)
                    )))
                }
            },
        };

        let channels = list(v.req("BBB_WEBHOOKS_CHANNELS").0);
        if channels.is_empty() {
            return Err(Error::Config(
                "BBB_WEBHOOKS_CHANNELS names no channel".into(),
            ));
        }
        let api_algorithms = v.parse(
            "BBB_WEBHOOKS_API_CHECKSUM_ALGORITHMS",
            "a comma list of sha1, sha256, sha384, sha512",
            |s| {
                list(s)
                    .iter()
                    .map(|a| Algorithm::from_name(a))
                    .collect::<Option<Vec<_>>>()
                    .filter(|l| !l.is_empty())
            },
        )?;
        let algorithm = v.parse(
            "BBB_WEBHOOKS_CALLBACK_CHECKSUM_ALGORITHM",
            "one of sha1, sha256, sha384, sha512",
            Algorithm::from_name,
        )?;
        let callback_auth = v.parse(
            "BBB_WEBHOOKS_CALLBACK_AUTH",
            "checksum or bearer",
            |s| match s.to_ascii_lowercase().as_str() {
                "checksum" => Some(CallbackAuth::Checksum(algorithm)),
                "bearer" => Some(CallbackAuth::Bearer),
                _ => None,
            },
        )?;
        let permanent_hooks = match v.get("BBB_WEBHOOKS_PERMANENT_HOOKS") {
            None => Vec::new(),
            Some((s, origin)) => list(s)
                .into_iter()
                .map(|entry| {
                    let (raw, url) = match entry.strip_prefix("raw:") {
                        Some(url) => (true, url.trim().to_owned()),
                        None => (false, entry.clone()),
                    };
                    if crate::hooks::valid_callback_url(&url) {
                        Ok(PermanentHook { url, raw })
                    } else {
                        Err(bad(
                            "BBB_WEBHOOKS_PERMANENT_HOOKS",
                            origin,
                            &entry,
                            "an absolute http(s) URL",
                        ))
                    }
                })
                .collect::<Result<Vec<_>>>()?,
        };
        let retry_intervals = v.parse(
            "BBB_WEBHOOKS_RETRY_INTERVALS_MS",
            "a non-empty comma list of milliseconds",
            |s| {
                let l = list(s)
                    .iter()
                    .map(|n| n.parse::<u64>().ok().map(Duration::from_millis))
                    .collect::<Option<Vec<_>>>()?;
                Some(l).filter(|l| !l.is_empty())
            },
        )?;
        let request_timeout = v.parse(
            "BBB_WEBHOOKS_REQUEST_TIMEOUT_MS",
            "a number of milliseconds from 1",
            |s| {
                s.parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map(Duration::from_millis)
            },
        )?;
        let delivery_workers = v.parse(
            "BBB_WEBHOOKS_DELIVERY_WORKERS",
            "a number from 1 to 1024",
            |s| s.parse::<usize>().ok().filter(|n| (1..=1024).contains(n)),
        )?;
        let multi_event = v.parse("BBB_WEBHOOKS_MULTI_EVENT", "a number from 1 to 1000", |s| {
            s.parse::<usize>().ok().filter(|n| (1..=1000).contains(n))
        })?;
        let max_queue = v.parse("BBB_WEBHOOKS_MAX_QUEUE", "a number from 1", |s| {
            s.parse::<usize>().ok().filter(|n| *n > 0)
        })?;
        let remove_failed_hooks = v.parse(
            "BBB_WEBHOOKS_REMOVE_FAILED_HOOKS",
            "true or false",
            parse_bool,
        )?;
        let max_redirects =
            v.parse("BBB_WEBHOOKS_MAX_REDIRECTS", "a number from 0 to 20", |s| {
                s.parse::<u32>().ok().filter(|n| *n <= 20)
            })?;
        let lower_list = |key: &str| -> Vec<String> {
            list(v.get(key).map_or("", |(s, _)| s))
                .into_iter()
                .map(|e| e.to_lowercase())
                .collect()
        };
        let include_events = lower_list("BBB_WEBHOOKS_INCLUDE_EVENTS");
        let exclude_events = lower_list("BBB_WEBHOOKS_EXCLUDE_EVENTS");
        let meeting_ttl = v.parse(
            "BBB_WEBHOOKS_MEETING_TTL_SECS",
            "a number of seconds from 1",
            |s| {
                s.parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map(Duration::from_secs)
            },
        )?;
        let api_max_request_bytes = v.parse(
            "BBB_WEBHOOKS_API_MAX_REQUEST_BYTES",
            "a number of bytes from 1024",
            |s| s.parse::<usize>().ok().filter(|n| *n >= 1024),
        )?;
        let max_hooks = v.parse("BBB_WEBHOOKS_MAX_HOOKS", "a number from 1", |s| {
            s.parse::<usize>().ok().filter(|n| *n > 0)
        })?;
        let get_raw = v.parse("BBB_WEBHOOKS_GET_RAW", "true or false", parse_bool)?;
        let log_level = v.parse(
            "BBB_WEBHOOKS_LOG_LEVEL",
            "one of off, error, warn, info, debug, trace",
            |s| s.parse().ok(),
        )?;
        let metrics_bind = match v.get("BBB_WEBHOOKS_METRICS_BIND") {
            None => None,
            Some((s, origin)) => Some(s.parse().map_err(|_| {
                bad(
                    "BBB_WEBHOOKS_METRICS_BIND",
                    origin,
                    s,
                    "an address like 127.0.0.1:3006",
                )
            })?),
        };
        Ok(Config {
            redis_url: redis_url.to_owned(),
            api_bind,
            api_path,
            secret,
            secret_origin,
            server_domain,
            channels,
            api_algorithms,
            callback_auth,
            permanent_hooks,
            retry_intervals,
            request_timeout,
            delivery_workers,
            multi_event,
            max_queue,
            remove_failed_hooks,
            max_redirects,
            include_events,
            exclude_events,
            meeting_ttl,
            api_max_request_bytes,
            max_hooks,
            get_raw,
            log_level,
            metrics_bind,
        })
    }

    /// Whether the server-wide include/exclude lists let event `id` through.
    pub fn event_allowed(&self, id: &str) -> bool {
        let id = id.to_lowercase();
        (self.include_events.is_empty() || self.include_events.contains(&id))
            && !self.exclude_events.contains(&id)
    }

    /// The text `--help` prints after the usage line: every key with its default.
    pub fn keys_help() -> String {
        let mut s = String::new();
        for (key, default, what) in KEYS {
            s.push_str(&format!(
                "  {key}\n      {what}\n      default: {}\n",
                if default.is_empty() {
                    "(unset)"
                } else {
                    default
                }
            ));
        }
        s
    }
}

fn describe_files(files: &[PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    if names.is_empty() {
        "no property file (BBB_WEBHOOKS_BBB_PROPERTIES is empty)".into()
    } else {
        names.join(" and ")
    }
}

/// Splits a comma list, trimming entries and dropping empty ones.
pub fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        m.entry("BBB_WEBHOOKS_BBB_PROPERTIES".into()).or_default();
        m
    }

    fn load(pairs: &[(&str, &str)]) -> Result<Config> {
        Config::load(&env(pairs), Some(Path::new("/dev/null")))
    }

    const BASE: [(&str, &str); 2] = [
        ("BBB_WEBHOOKS_SHARED_SECRET", "s3cret"),
        ("BBB_WEBHOOKS_SERVER_DOMAIN", "bbb.example.com"),
    ];

    #[test]
    fn defaults() {
        let c = load(&BASE).expect("defaults load");
        assert_eq!(c.api_bind, "127.0.0.1:3005".parse().expect("addr"));
        assert_eq!(c.api_path, "/bigbluebutton/api");
        assert_eq!(c.channels.len(), 8);
        assert_eq!(c.api_algorithms, Algorithm::ALL.to_vec());
        assert_eq!(c.callback_auth, CallbackAuth::Checksum(Algorithm::Sha1));
        assert_eq!(c.retry_intervals.len(), 12);
        assert_eq!(c.request_timeout, Duration::from_secs(5));
        assert_eq!(c.secret.expose(), "s3cret");
        assert_eq!(
            c.secret_origin,
            "BBB_WEBHOOKS_SHARED_SECRET from the environment"
        );
        assert!(c.event_allowed("anything"));
        assert_eq!(c.meeting_ttl, Duration::from_secs(7 * 24 * 3600));
        assert_eq!(c.metrics_bind, None);
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn event_filters() {
        let mut pairs = BASE.to_vec();
        pairs.push(("BBB_WEBHOOKS_INCLUDE_EVENTS", "User-Joined, user-left"));
        pairs.push(("BBB_WEBHOOKS_EXCLUDE_EVENTS", "user-left"));
        let c = load(&pairs).expect("loads");
        assert!(c.event_allowed("user-joined"));
        assert!(!c.event_allowed("user-left"));
        assert!(!c.event_allowed("meeting-created"));
    }

    #[test]
    fn bad_values_name_key_and_origin() {
        let mut pairs = BASE.to_vec();
        pairs.push(("BBB_WEBHOOKS_DELIVERY_WORKERS", "zero"));
        let e = load(&pairs).expect_err("bad workers").to_string();
        assert!(e.contains("BBB_WEBHOOKS_DELIVERY_WORKERS"), "{e}");
        assert!(e.contains("the environment"), "{e}");

        let mut pairs = BASE.to_vec();
        pairs.push(("BBB_WEBHOOKS_NO_SUCH_KEY", "1"));
        let e = load(&pairs).expect_err("unknown key").to_string();
        assert!(e.contains("BBB_WEBHOOKS_NO_SUCH_KEY"), "{e}");

        let mut pairs = BASE.to_vec();
        pairs.push(("BBB_WEBHOOKS_METRICS_BIND", "localhost"));
        let e = load(&pairs).expect_err("bad metrics bind").to_string();
        assert!(e.contains("BBB_WEBHOOKS_METRICS_BIND"), "{e}");
        let mut pairs = BASE.to_vec();
        pairs.push(("BBB_WEBHOOKS_METRICS_BIND", "127.0.0.1:3006"));
        let c = load(&pairs).expect("metrics bind");
        assert_eq!(
            c.metrics_bind,
            Some("127.0.0.1:3006".parse().expect("addr"))
        );

        let mut pairs = BASE.to_vec();
        pairs.push(("BBB_WEBHOOKS_CALLBACK_AUTH", "basic"));
        assert!(load(&pairs).is_err());
        let mut pairs = BASE.to_vec();
        pairs.push(("BBB_WEBHOOKS_PERMANENT_HOOKS", "ftp://x"));
        assert!(load(&pairs).is_err());
    }

    #[test]
    fn file_values_and_env_precedence() {
        let dir = std::env::temp_dir().join(format!("bbbwh-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let file = dir.join("a.conf");
        std::fs::write(
            &file,
            "# comment\n\nBBB_WEBHOOKS_DELIVERY_WORKERS=3\nBBB_WEBHOOKS_CALLBACK_AUTH=\"bearer\"\nBBB_WEBHOOKS_PERMANENT_HOOKS=http://a/x, raw:https://b/y\n",
        )
        .expect("write");
        let c = Config::load(&env(&BASE), Some(&file)).expect("file loads");
        assert_eq!(c.delivery_workers, 3);
        assert_eq!(c.callback_auth, CallbackAuth::Bearer);
        assert_eq!(
            c.permanent_hooks,
            vec![
                PermanentHook {
                    url: "http://a/x".into(),
                    raw: false
                },
                PermanentHook {
                    url: "https://b/y".into(),
                    raw: true
                }
            ]
        );
        let mut pairs = BASE.to_vec();
        pairs.push(("BBB_WEBHOOKS_DELIVERY_WORKERS", "5"));
        let c = Config::load(&env(&pairs), Some(&file)).expect("env wins");
        assert_eq!(c.delivery_workers, 5);

        std::fs::write(&file, "BBB_WEBHOOKS_DELIVERY_WORKERS=0\n").expect("write");
        let e = Config::load(&env(&BASE), Some(&file))
            .expect_err("bad file value")
            .to_string();
        assert!(e.contains("a.conf, line 1"), "{e}");
        std::fs::write(&file, "NOT_A_KEY=1\n").expect("write");
        let e = Config::load(&env(&BASE), Some(&file))
            .expect_err("unknown")
            .to_string();
        assert!(e.contains("NOT_A_KEY"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn secret_and_domain_from_bbb_properties() {
        let dir = std::env::temp_dir().join(format!("bbbwh-props-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let over = dir.join("bbb-web.properties");
        let base = dir.join("bigbluebutton.properties");
        std::fs::write(&over, "securitySalt=override\n").expect("write");
        std::fs::write(
            &base,
            "# defaults\nsecuritySalt=base\nbigbluebutton.web.serverURL=https://bbb.example.org:8443/path\n",
        )
        .expect("write");
        let files = format!("{},{}", over.display(), base.display());
        let e = env(&[("BBB_WEBHOOKS_BBB_PROPERTIES", &files)]);
        let c = Config::load(&e, Some(Path::new("/dev/null"))).expect("props load");
        assert_eq!(c.secret.expose(), "override");
        assert_eq!(
            c.secret_origin,
            format!("securitySalt in {}", over.display())
        );
        assert_eq!(c.server_domain, "bbb.example.org");

        let missing = dir.join("missing.properties");
        let e = env(&[(
            "BBB_WEBHOOKS_BBB_PROPERTIES",
            &missing.display().to_string(),
        )]);
        let err = Config::load(&e, Some(Path::new("/dev/null")))
            .expect_err("no secret")
            .to_string();
        assert!(err.contains("missing.properties"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
