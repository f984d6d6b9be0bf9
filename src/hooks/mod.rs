//! Hooks: what one registered callback is ([`Hook`]), the registry that owns
//! them all ([`Hooks`]: creation, removal, loading, in memory and in Redis),
//! which hooks an event goes to ([`route`]) and their Redis layout
//! ([`store`]). It decides; it does not deliver.

mod registry;
pub mod route;
pub mod store;

use crate::uuid;

pub use registry::{Created, Hooks, LoadReport, Registry};

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
    /// A new hook with a fresh id: random, or for a permanent hook the
    /// reference's name-based id of its URL, so it keeps it across restarts.
    pub fn new(
        callback_url: String,
        meeting_id: Option<String>,
        event_ids: Option<Vec<String>>,
        permanent: bool,
        raw: bool,
    ) -> Hook {
        let id = if permanent {
            uuid::v5(&uuid::NAMESPACE_URL, &callback_url)
        } else {
            uuid::v4()
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

    /// The callback URL as logs show it: without credentials or query (an
    /// app's token may be there), see [`crate::redact::url`].
    pub fn logged_url(&self) -> String {
        crate::redact::url(&self.callback_url)
    }

    /// The `eventID` list as given to the API (comma-separated).
    pub fn event_ids_joined(&self) -> Option<String> {
        self.event_ids.as_ref().map(|ids| ids.join(","))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_hooks_get_the_name_based_id_of_their_url() {
        let h = Hook::new("http://example.com/cb".into(), None, None, true, false);
        assert_eq!(h.id, "ce0d4d4a-a3ea-55bd-bfef-36663b14fecb");
        let a = Hook::new("http://example.com/cb".into(), None, None, false, false);
        assert_eq!(&a.id[14..15], "4");
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
}
