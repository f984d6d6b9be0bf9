//! The hook registry: hooks in memory for matching events, written through to
//! Redis in the reference application's layout and loaded from it at start.
//! It decides which hooks an event goes to; it does not deliver.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use redis::Commands;

use crate::store::{HOOKS_SET, HOOK_PREFIX};

/// One registered callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hook {
    /// A UUID (v4, or v5 of the URL for permanent hooks), or whatever id an
    /// older version stored (integers in 2.x).
    pub id: String,
    pub callback_url: String,
    /// External meeting ID; `None` for a global hook.
    pub meeting_id: Option<String>,
    /// Event ids the hook wants, lower-case; `None` for all.
    pub event_ids: Option<Vec<String>>,
    pub permanent: bool,
    /// Wants raw BBB messages instead of mapped events.
    pub raw: bool,
}

impl Hook {
    /// A new hook with a fresh id.
    pub fn new(
        callback_url: String,
        meeting_id: Option<String>,
        event_ids: Option<Vec<String>>,
        permanent: bool,
        raw: bool,
    ) -> Hook {
        let id = if permanent {
            uuid_v5_url(&callback_url)
        } else {
            uuid_v4()
        };
        Hook {
            id,
            callback_url,
            meeting_id,
            event_ids,
            permanent,
            raw,
        }
    }

    /// Whether an event of this meeting goes to this hook: global hooks take
    /// every event; a meeting hook takes events whose internal or external
    /// meeting ID equals its meeting ID.
    pub fn matches_meeting(&self, internal: Option<&str>, external: Option<&str>) -> bool {
        match &self.meeting_id {
            None => true,
            Some(m) => internal == Some(m.as_str()) || external == Some(m.as_str()),
        }
    }

    /// Whether the hook's `eventID` filter lets event `id` through.
    pub fn wants_event(&self, id: &str) -> bool {
        match &self.event_ids {
            None => true,
            Some(ids) => ids.iter().any(|e| e.eq_ignore_ascii_case(id)),
        }
    }

    /// The `eventID` list as given to the API (comma-separated).
    pub fn event_ids_joined(&self) -> Option<String> {
        self.event_ids.as_ref().map(|ids| ids.join(","))
    }

    /// The Redis HASH fields of this hook, as the reference writes them.
    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut f = vec![
            ("id", self.id.clone()),
            ("callbackURL", self.callback_url.clone()),
            ("permanent", self.permanent.to_string()),
            ("getRaw", self.raw.to_string()),
        ];
        if let Some(m) = &self.meeting_id {
            f.push(("externalMeetingID", m.clone()));
        }
        if let Some(e) = self.event_ids_joined() {
            f.push(("eventID", e));
        }
        f
    }

    /// Reads a hook from its Redis HASH; `None` when a required field is
    /// missing or bad. Accepts `hookID` for `id`, as older versions wrote.
    fn from_fields(mut f: HashMap<String, String>) -> Option<Hook> {
        let id = f.remove("id").or_else(|| f.remove("hookID"))?;
        let callback_url = f.remove("callbackURL")?;
        if id.is_empty() || !valid_callback_url(&callback_url) {
            return None;
        }
        Some(Hook {
            id,
            callback_url,
            meeting_id: f.remove("externalMeetingID").filter(|m| !m.is_empty()),
            event_ids: f.remove("eventID").and_then(|e| parse_event_ids(&e)),
            permanent: f.get("permanent").is_some_and(|v| v == "true"),
            raw: f.get("getRaw").is_some_and(|v| v == "true"),
        })
    }
}

/// Parses an `eventID` parameter: comma list, lower-cased; empty means all.
pub fn parse_event_ids(s: &str) -> Option<Vec<String>> {
    let ids: Vec<String> = s
        .split(',')
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty())
        .collect();
    Some(ids).filter(|i| !i.is_empty())
}

/// Whether `url` is an absolute http(s) URL with a host, no spaces and no
/// control characters.
pub fn valid_callback_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty()
        && !host.starts_with(':')
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        && url.len() <= 8192
}

/// The hooks, by id (so listing is sorted by id), with an index by URL.
#[derive(Debug, Default)]
pub struct Registry {
    hooks: BTreeMap<String, Arc<Hook>>,
    by_url: HashMap<String, String>,
}

/// The registry as the threads share it.
pub type SharedRegistry = Arc<RwLock<Registry>>;

impl Registry {
    pub fn len(&self) -> usize {
        self.hooks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Hook>> {
        self.hooks.get(id)
    }

    /// The hook registered for `url`, if any.
    pub fn by_url(&self, url: &str) -> Option<&Arc<Hook>> {
        self.by_url.get(url).and_then(|id| self.hooks.get(id))
    }

    /// All hooks, sorted by id.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Hook>> {
        self.hooks.values()
    }

    /// Global hooks and the hooks of external meeting `meeting_id`, sorted by id.
    pub fn for_meeting<'a>(&'a self, meeting_id: &'a str) -> impl Iterator<Item = &'a Arc<Hook>> {
        self.hooks
            .values()
            .filter(move |h| h.meeting_id.as_deref().is_none_or(|m| m == meeting_id))
    }

    /// Adds or replaces a hook.
    pub fn insert(&mut self, hook: Hook) {
        if let Some(old) = self.hooks.get(&hook.id) {
            self.by_url.remove(&old.callback_url);
        }
        self.by_url
            .insert(hook.callback_url.clone(), hook.id.clone());
        self.hooks.insert(hook.id.clone(), Arc::new(hook));
    }

    /// Removes a hook; returns it.
    pub fn remove(&mut self, id: &str) -> Option<Arc<Hook>> {
        let hook = self.hooks.remove(id)?;
        if self.by_url.get(&hook.callback_url) == Some(&hook.id) {
            self.by_url.remove(&hook.callback_url);
        }
        Some(hook)
    }
}

/// Writes a hook to Redis (SET member and HASH), atomically.
pub fn save(conn: &mut redis::Connection, hook: &Hook) -> redis::RedisResult<()> {
    let key = format!("{HOOK_PREFIX}{}", hook.id);
    redis::pipe()
        .atomic()
        .del(&key)
        .ignore()
        .hset_multiple(&key, &hook.fields())
        .ignore()
        .sadd(HOOKS_SET, &hook.id)
        .ignore()
        .query(conn)
}

/// Deletes a hook from Redis.
pub fn delete(conn: &mut redis::Connection, id: &str) -> redis::RedisResult<()> {
    redis::pipe()
        .atomic()
        .srem(HOOKS_SET, id)
        .ignore()
        .del(format!("{HOOK_PREFIX}{id}"))
        .ignore()
        .query(conn)
}

/// Loads every hook from Redis. Records that are missing or corrupt are
/// skipped with a warning; returns the hooks and the number skipped.
pub fn load(conn: &mut redis::Connection) -> redis::RedisResult<(Vec<Hook>, usize)> {
    let members: Vec<Vec<u8>> = conn.smembers(HOOKS_SET)?;
    let mut hooks = Vec::with_capacity(members.len());
    let mut skipped = 0;
    for member in members {
        let Ok(id) = String::from_utf8(member) else {
            log::warn!("skipping a hook record whose id is not UTF-8");
            skipped += 1;
            continue;
        };
        let key = format!("{HOOK_PREFIX}{id}");
        let fields: redis::RedisResult<HashMap<String, String>> = conn.hgetall(&key);
        match fields.ok().and_then(Hook::from_fields) {
            Some(h) => hooks.push(h),
            None => {
                log::warn!("skipping hook record {key}: missing or bad fields");
                skipped += 1;
            }
        }
    }
    Ok((hooks, skipped))
}

/// A random (version 4) UUID, from the kernel's random source; falls back to
/// a hash of time and process data if that cannot be read.
pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b));
    if read.is_err() {
        let seed = format!(
            "{:?}{:?}{}",
            std::time::SystemTime::now(),
            std::thread::current().id(),
            std::process::id()
        );
        let d = crate::checksum::digest::<sha1::Sha1>(&[seed.as_bytes()]);
        b.copy_from_slice(&d.as_ref()[..16]);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    format_uuid(&b)
}

/// The name-based (version 5) UUID of `url` in the URL namespace, as the
/// reference gives permanent hooks, so their ids stay the same.
pub fn uuid_v5_url(url: &str) -> String {
    const URL_NAMESPACE: [u8; 16] = [
        0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30,
        0xc8,
    ];
    let d = crate::checksum::digest::<sha1::Sha1>(&[&URL_NAMESPACE, url.as_bytes()]);
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    format_uuid(&b)
}

fn format_uuid(b: &[u8; 16]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids() {
        // uuid.uuid5(uuid.NAMESPACE_URL, "http://example.com/cb") in Python.
        assert_eq!(
            uuid_v5_url("http://example.com/cb"),
            "ce0d4d4a-a3ea-55bd-bfef-36663b14fecb"
        );
        let a = uuid_v4();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_ne!(a, uuid_v4());
    }

    #[test]
    fn callback_urls() {
        assert!(valid_callback_url("http://example.com/cb"));
        assert!(valid_callback_url("HTTPS://example.com:8443/cb?a=1"));
        assert!(!valid_callback_url("example.com/cb"));
        assert!(!valid_callback_url("ftp://example.com/cb"));
        assert!(!valid_callback_url("http:///cb"));
        assert!(!valid_callback_url("http://exa mple.com/"));
        assert!(!valid_callback_url("javascript:alert(1)"));
    }

    #[test]
    fn matching() {
        let mut h = Hook::new("http://a/".into(), Some("ext".into()), None, false, false);
        assert!(h.matches_meeting(Some("int"), Some("ext")));
        assert!(h.matches_meeting(Some("ext"), None));
        assert!(!h.matches_meeting(Some("int"), Some("other")));
        assert!(!h.matches_meeting(None, None));
        h.event_ids = parse_event_ids("User-Joined, meeting-ended");
        assert!(h.wants_event("user-joined"));
        assert!(h.wants_event("MEETING-ENDED"));
        assert!(!h.wants_event("user-left"));
        h.meeting_id = None;
        assert!(h.matches_meeting(None, None));
    }

    #[test]
    fn fields_round_trip_and_old_layouts() {
        let h = Hook::new(
            "http://a/".into(),
            Some("m".into()),
            parse_event_ids("a,b"),
            true,
            true,
        );
        let f: HashMap<String, String> = h
            .fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(Hook::from_fields(f), Some(h));

        let old: HashMap<String, String> = [("hookID", "7"), ("callbackURL", "http://b/")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let h = Hook::from_fields(old).expect("2.x record loads");
        assert_eq!(h.id, "7");
        assert!(h.meeting_id.is_none() && !h.permanent && !h.raw);

        let bad: HashMap<String, String> = [("id", "8")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(Hook::from_fields(bad), None);
    }

    #[test]
    fn registry_sorted_and_indexed() {
        let mut r = Registry::default();
        let mut a = Hook::new("http://a/".into(), None, None, false, false);
        a.id = "b".into();
        let mut b = Hook::new("http://b/".into(), Some("m1".into()), None, false, false);
        b.id = "a".into();
        let mut c = Hook::new("http://c/".into(), Some("m2".into()), None, false, false);
        c.id = "c".into();
        r.insert(a);
        r.insert(b);
        r.insert(c);
        let ids: Vec<&str> = r.all().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let ids: Vec<&str> = r.for_meeting("m1").map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(r.by_url("http://c/").map(|h| h.id.as_str()), Some("c"));
        assert!(r.remove("c").is_some());
        assert!(r.by_url("http://c/").is_none());
        assert_eq!(r.len(), 2);
    }
}
