//! The pool of BBB servers behind the load balancer: what one server is
//! ([`Server`]), the pool by id ([`Pool`]), which servers carry a relay hook,
//! and the static pool setting `BBB_WEBHOOKS_CLUSTER_SERVERS`. Pure; reading
//! Scalelite's Redis is [`super::scalelite`]'s job.

use std::collections::BTreeMap;

use crate::config::Secret;
use crate::hooks::valid_callback_url;

/// A server's administrative state in the load balancer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Takes new meetings.
    Enabled,
    /// Takes no new meetings; its running meetings go on (draining).
    Cordoned,
    /// Out of use. Scalelite adds servers disabled and disables a cordoned
    /// server once its last meeting has ended.
    Disabled,
}

impl State {
    /// Parses Scalelite's `state` field: `enabled`, `cordoned` or `disabled`.
    pub fn parse(s: &str) -> Option<State> {
        match s {
            "enabled" => Some(State::Enabled),
            "cordoned" => Some(State::Cordoned),
            "disabled" => Some(State::Disabled),
            _ => None,
        }
    }

    /// The name Scalelite uses.
    pub fn name(self) -> &'static str {
        match self {
            State::Enabled => "enabled",
            State::Cordoned => "cordoned",
            State::Disabled => "disabled",
        }
    }
}

/// One BBB server of the pool. Its `Debug` never shows the secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    /// The load balancer's id: a UUID or a host name in Scalelite, the
    /// operator's choice in a static pool. Always [`valid_id`].
    pub id: String,
    /// The server's API base, e.g. `https://bbb1.example.com/bigbluebutton/api`,
    /// without a trailing slash.
    pub url: String,
    /// The server's shared secret: signs API calls to it and its callbacks.
    pub secret: Secret,
    pub state: State,
    /// The load balancer's last health check; `true` in a static pool.
    pub online: bool,
}

impl Server {
    /// Whether the cluster keeps a relay hook on this server: enabled or
    /// cordoned servers do (online or not: an offline server gets its hook
    /// when it comes back); disabled ones do not.
    pub fn wants_relay(&self) -> bool {
        matches!(self.state, State::Enabled | State::Cordoned)
    }

    /// `<url>/<call>`, e.g. `https://bbb1/bigbluebutton/api/hooks/list`.
    pub fn call_url(&self, call: &str) -> String {
        format!("{}/{call}", self.url)
    }
}

/// The servers of the pool, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pool {
    servers: BTreeMap<String, Server>,
}

impl Pool {
    /// Adds `server`; gives it back when its id is taken already.
    pub fn insert(&mut self, server: Server) -> Result<(), Server> {
        if self.servers.contains_key(&server.id) {
            return Err(server);
        }
        self.servers.insert(server.id.clone(), server);
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Server> {
        self.servers.get(id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.servers.contains_key(id)
    }

    /// Every server, sorted by id.
    pub fn iter(&self) -> impl Iterator<Item = &Server> {
        self.servers.values()
    }

    pub fn len(&self) -> usize {
        self.servers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }
}

/// Longest server id accepted.
pub const MAX_ID_LEN: usize = 128;

/// Whether `id` can name a server: 1 to [`MAX_ID_LEN`] characters, each a
/// letter, digit, `-`, `.`, `_` or `~`. Such an id goes into the relay URL
/// path and into log lines as it is. Scalelite's ids (UUIDs, or host names
/// with `SERVER_ID_IS_HOSTNAME`) always are.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// A server's API base as the cluster uses it: an absolute http(s) URL with
/// a host, no query or fragment, trailing slashes removed (Scalelite's are
/// often written `.../bigbluebutton/api/`). `None` when it is not one.
pub fn normalize_url(url: &str) -> Option<String> {
    let url = url.trim().trim_end_matches('/');
    (valid_callback_url(url) && !url.contains(['?', '#'])).then(|| url.to_owned())
}

/// Parses `BBB_WEBHOOKS_CLUSTER_SERVERS`: comma-separated `id=URL|secret`
/// entries (blank entries ignored), e.g.
/// `bbb1=https://bbb1.example.com/bigbluebutton/api|s3cret`. Every server is
/// enabled and counted online. A secret may contain `|` or `=` but not `,`.
/// An error names the entry by position (and id, when it is a valid one),
/// never by its URL or secret: a mistyped entry may have them swapped.
pub fn parse_static(setting: &str) -> Result<Pool, String> {
    let mut pool = Pool::default();
    let entries = setting.split(',').map(str::trim).filter(|e| !e.is_empty());
    for (i, entry) in entries.enumerate() {
        let n = i + 1;
        let Some((id, rest)) = entry.split_once('=') else {
            return Err(format!("entry {n} is not id=URL|secret"));
        };
        let id = id.trim();
        if !valid_id(id) {
            return Err(format!(
                "entry {n}: the id before `=` must be 1 to {MAX_ID_LEN} letters, digits, `-`, `.`, `_` or `~`"
            ));
        }
        let Some((url, secret)) = rest.split_once('|') else {
            return Err(format!("entry {n} ({id:?}) is not id=URL|secret"));
        };
        let Some(url) = normalize_url(url) else {
            return Err(format!(
                "entry {n} ({id:?}): the URL is not an absolute http(s) URL without a query, \
                 like https://bbb1.example.com/bigbluebutton/api"
            ));
        };
        let secret = secret.trim();
        if secret.is_empty() {
            return Err(format!("entry {n} ({id:?}) has an empty secret"));
        }
        let server = Server {
            id: id.to_owned(),
            url,
            secret: Secret::new(secret),
            state: State::Enabled,
            online: true,
        };
        if pool.insert(server).is_err() {
            return Err(format!("entry {n}: the id {id:?} is used twice"));
        }
    }
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(id: &str, state: State) -> Server {
        Server {
            id: id.into(),
            url: format!("https://{id}.example.com/bigbluebutton/api"),
            secret: Secret::new("s"),
            state,
            online: false,
        }
    }

    #[test]
    fn enabled_and_cordoned_servers_want_a_relay_online_or_not() {
        assert!(server("a", State::Enabled).wants_relay());
        assert!(server("a", State::Cordoned).wants_relay());
        assert!(!server("a", State::Disabled).wants_relay());
        let mut online = server("a", State::Disabled);
        online.online = true;
        assert!(!online.wants_relay());
    }

    #[test]
    fn states_round_trip() {
        for s in [State::Enabled, State::Cordoned, State::Disabled] {
            assert_eq!(State::parse(s.name()), Some(s));
        }
        assert_eq!(State::parse("Enabled"), None);
        assert_eq!(State::parse(""), None);
    }

    #[test]
    fn ids() {
        assert!(valid_id("2b3c3a3e-6a8c-4a5b-9d0e-1f2a3b4c5d6e"));
        assert!(valid_id("bbb1.example.com"));
        assert!(!valid_id(""));
        assert!(!valid_id("a/b"));
        assert!(!valid_id("a b"));
        assert!(!valid_id("é"));
        assert!(!valid_id(&"a".repeat(MAX_ID_LEN + 1)));
    }

    #[test]
    fn urls_lose_trailing_slashes() {
        assert_eq!(
            normalize_url("https://bbb1.example.com/bigbluebutton/api/").as_deref(),
            Some("https://bbb1.example.com/bigbluebutton/api")
        );
        assert_eq!(normalize_url("ftp://bbb1/api"), None);
        assert_eq!(normalize_url("https://bbb1/api?x=1"), None);
        assert_eq!(normalize_url("bbb1.example.com/bigbluebutton/api"), None);
    }

    #[test]
    fn static_pool_parses() {
        let pool = parse_static(
            " bbb1=https://bbb1.example.com/bigbluebutton/api/|s1 ,,bbb2=http://10.0.0.2/bigbluebutton/api|a|b=c",
        )
        .expect("parses");
        assert_eq!(pool.len(), 2);
        let b1 = pool.get("bbb1").expect("bbb1");
        assert_eq!(b1.url, "https://bbb1.example.com/bigbluebutton/api");
        assert_eq!(b1.secret.expose(), "s1");
        assert_eq!(b1.state, State::Enabled);
        assert!(b1.online);
        let b2 = pool.get("bbb2").expect("bbb2");
        assert_eq!(b2.secret.expose(), "a|b=c");
        assert_eq!(
            b2.call_url("hooks/list"),
            "http://10.0.0.2/bigbluebutton/api/hooks/list"
        );
        assert!(parse_static("").expect("empty is an empty pool").is_empty());
    }

    #[test]
    fn static_pool_errors_name_the_entry_not_the_secret() {
        let cases = [
            (
                "bbb1=https://a/bigbluebutton/api|topsecret,nonsense",
                "entry 2 is not",
            ),
            ("https://a/bigbluebutton/api|topsecret", "entry 1 is not"),
            (
                "b b=https://a/bigbluebutton/api|topsecret",
                "entry 1: the id",
            ),
            (
                "bbb1=https://a/bigbluebutton/api",
                "entry 1 (\"bbb1\") is not",
            ),
            (
                "bbb1=topsecret|https://a/bigbluebutton/api",
                "entry 1 (\"bbb1\"): the URL",
            ),
            ("bbb1=https://a/bigbluebutton/api| ", "empty secret"),
            (
                "x=https://a/bigbluebutton/api|topsecret,x=https://b/bigbluebutton/api|topsecret",
                "entry 2: the id \"x\" is used twice",
            ),
        ];
        for (setting, want) in cases {
            let e = parse_static(setting).expect_err(setting);
            assert!(e.contains(want), "{setting}: {e}");
            assert!(!e.contains("topsecret"), "{setting}: {e}");
            assert!(!e.contains("https://a/"), "{setting}: {e}");
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        let s = format!("{:?}", server("a", State::Enabled));
        assert!(
            !s.contains("Secret(\"s\")") && s.contains("redacted"),
            "{s}"
        );
    }

    #[test]
    fn pool_refuses_a_second_server_with_the_same_id() {
        let mut pool = Pool::default();
        assert!(pool.insert(server("a", State::Enabled)).is_ok());
        assert!(pool.insert(server("a", State::Disabled)).is_err());
        assert_eq!(pool.get("a").map(|s| s.state), Some(State::Enabled));
        assert!(pool.contains("a") && !pool.contains("b"));
    }
}
