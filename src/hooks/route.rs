//! Which hooks an event goes to: one pure function of the registry, the
//! server-wide rules and the events of one message. Ingest calls it for every
//! message and turns its answer into queued deliveries.

use std::sync::Arc;

use super::{Hook, Registry};
use crate::config::Config;

/// The server-wide rules every hook is subject to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Event ids delivered, lower-case; empty: all (`BBB_WEBHOOKS_INCLUDE_EVENTS`).
    pub include: Vec<String>,
    /// Event ids never delivered, lower-case (`BBB_WEBHOOKS_EXCLUDE_EVENTS`).
    pub exclude: Vec<String>,
    /// Whether hooks that asked for raw messages get them (`BBB_WEBHOOKS_GET_RAW`).
    pub get_raw: bool,
}

impl Policy {
    pub fn from_config(config: &Config) -> Policy {
        Policy {
            include: config.include_events.clone(),
            exclude: config.exclude_events.clone(),
            get_raw: config.get_raw,
        }
    }

    /// Whether the include/exclude lists let event `id` through, in any
    /// case. The lists are lower-case, so an ASCII id (every BBB event id) is
    /// compared without a copy; another is lower-cased first.
    pub fn allows(&self, id: &str) -> bool {
        let listed = |list: &[String]| {
            if id.is_ascii() {
                list.iter().any(|e| e.eq_ignore_ascii_case(id))
            } else {
                let id = id.to_lowercase();
                list.contains(&id)
            }
        };
        (self.include.is_empty() || listed(&self.include)) && !listed(&self.exclude)
    }
}

/// One event of a message, as routing sees it.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    /// The mapped event id (`user-joined`, ...).
    pub id: &'a str,
    pub internal_meeting_id: Option<&'a str>,
    pub external_meeting_id: Option<&'a str>,
}

/// What a hook receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    /// The mapped event at this index of the message's events.
    Mapped(usize),
    /// The raw message.
    Raw,
}

/// The deliveries one message makes, in delivery order.
#[derive(Debug, Default)]
pub struct Routes {
    pub deliveries: Vec<(Arc<Hook>, Payload)>,
    /// Events the server-wide lists kept from every hook.
    pub filtered: usize,
}

/// Pairs the events of one message with the hooks that take them, event by
/// event and, within an event, hook by hook in id order. A hook takes an
/// event of its meeting (global hooks: every meeting) that its `eventID`
/// filter wants and that the server-wide lists allow. A hook that asked for
/// raw messages gets the raw message once, for the first event it takes,
/// and nothing at all while the server does not allow raw hooks.
pub fn route(registry: &Registry, policy: &Policy, events: &[Event<'_>]) -> Routes {
    let mut routes = Routes::default();
    let mut raw_taken: Vec<&str> = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        if !policy.allows(ev.id) {
            routes.filtered += 1;
            continue;
        }
        for hook in registry.all() {
            if !hook.matches_meeting(ev.internal_meeting_id, ev.external_meeting_id)
                || !hook.wants_event(ev.id)
            {
                continue;
            }
            let payload = if hook.raw {
                if !policy.get_raw || raw_taken.contains(&hook.id.as_str()) {
                    continue;
                }
                raw_taken.push(&hook.id);
                Payload::Raw
            } else {
                Payload::Mapped(i)
            };
            routes.deliveries.push((hook.clone(), payload));
        }
    }
    routes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::parse_event_ids;

    fn registry(hooks: &[(&str, Option<&str>, Option<&str>, bool)]) -> Registry {
        let mut r = Registry::default();
        for (id, meeting, events, raw) in hooks {
            let mut h = Hook::new(
                format!("http://{id}/"),
                meeting.map(Into::into),
                events.and_then(parse_event_ids),
                false,
                *raw,
            );
            h.id = (*id).into();
            r.insert(h);
        }
        r
    }

    fn all() -> Policy {
        Policy {
            get_raw: true,
            ..Policy::default()
        }
    }

    fn ev<'a>(id: &'a str, internal: &'a str, external: Option<&'a str>) -> Event<'a> {
        Event {
            id,
            internal_meeting_id: Some(internal),
            external_meeting_id: external,
        }
    }

    fn ids(r: &Routes) -> Vec<(String, Payload)> {
        r.deliveries
            .iter()
            .map(|(h, p)| (h.id.clone(), *p))
            .collect()
    }

    #[test]
    fn global_hooks_take_every_event_in_event_then_id_order() {
        let r = registry(&[("b", None, None, false), ("a", None, None, false)]);
        let out = route(&r, &all(), &[ev("x", "m", None), ev("y", "m", None)]);
        let want = [
            ("a", Payload::Mapped(0)),
            ("b", Payload::Mapped(0)),
            ("a", Payload::Mapped(1)),
            ("b", Payload::Mapped(1)),
        ];
        let want: Vec<(String, Payload)> = want.iter().map(|(i, p)| ((*i).into(), *p)).collect();
        assert_eq!(ids(&out), want);
    }

    #[test]
    fn meeting_hooks_match_the_internal_or_the_external_id() {
        let r = registry(&[
            ("int", Some("m-int"), None, false),
            ("ext", Some("m-ext"), None, false),
        ]);
        let out = route(&r, &all(), &[ev("x", "m-int", Some("m-ext"))]);
        assert_eq!(out.deliveries.len(), 2);
        let out = route(&r, &all(), &[ev("x", "other", None)]);
        assert!(out.deliveries.is_empty());
    }

    #[test]
    fn a_hooks_event_filter_is_applied() {
        let r = registry(&[("a", None, Some("user-joined"), false)]);
        let out = route(
            &r,
            &all(),
            &[ev("User-Joined", "m", None), ev("user-left", "m", None)],
        );
        assert_eq!(ids(&out), vec![("a".to_owned(), Payload::Mapped(0))]);
    }

    #[test]
    fn server_wide_lists_filter_and_count() {
        let r = registry(&[("a", None, None, false)]);
        let policy = Policy {
            include: vec!["x".into(), "y".into()],
            exclude: vec!["y".into()],
            get_raw: true,
        };
        let out = route(
            &r,
            &policy,
            &[ev("X", "m", None), ev("y", "m", None), ev("z", "m", None)],
        );
        assert_eq!(ids(&out), vec![("a".to_owned(), Payload::Mapped(0))]);
        assert_eq!(out.filtered, 2);
        assert!(policy.allows("x") && !policy.allows("y") && !policy.allows("z"));
    }

    #[test]
    fn the_server_wide_lists_ignore_case() {
        let policy = Policy {
            include: vec!["user-joined".into(), "événement".into()],
            exclude: vec!["évité".into()],
            get_raw: false,
        };
        assert!(policy.allows("User-Joined") && policy.allows("USER-JOINED"));
        assert!(policy.allows("ÉVÉNEMENT") && policy.allows("événement"));
        assert!(!policy.allows("user-left") && !policy.allows("user-joined "));
        let exclude = Policy {
            exclude: policy.exclude,
            ..Policy::default()
        };
        assert!(!exclude.allows("ÉVITÉ") && exclude.allows("User-Left"));
    }

    #[test]
    fn a_raw_hook_gets_the_message_once() {
        let r = registry(&[("raw", None, None, true), ("m", None, None, false)]);
        let out = route(&r, &all(), &[ev("x", "m", None), ev("y", "m", None)]);
        let want: Vec<(String, Payload)> = vec![
            ("m".into(), Payload::Mapped(0)),
            ("raw".into(), Payload::Raw),
            ("m".into(), Payload::Mapped(1)),
        ];
        assert_eq!(ids(&out), want);
    }

    #[test]
    fn a_raw_hook_gets_nothing_while_raw_hooks_are_off() {
        let r = registry(&[("raw", None, None, true)]);
        let off = Policy::default();
        assert!(route(&r, &off, &[ev("x", "m", None)]).deliveries.is_empty());
    }
}
