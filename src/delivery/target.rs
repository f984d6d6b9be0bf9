//! Where a queue's events go: a registered hook (webhook callbacks) or a
//! Learning Record Store (xAPI statements). Each target has one queue, keyed
//! by [`Target::queue_id`], kept in Redis under [`Target::list_key`].

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::config::Secret;
use crate::hooks::Hook;
use crate::store::keys;

/// A Learning Record Store as delivery sees it: statements are POSTed one
/// at a time to `url` with `authorization`.
pub struct Lrs {
    /// A stable id from URL and credentials (see `xapi::lrs::Destination`).
    pub id: String,
    /// The statements URL.
    pub url: String,
    /// The `Authorization` header value: a secret.
    pub authorization: Secret,
}

impl fmt::Debug for Lrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lrs")
            .field("id", &self.id)
            .field("url", &crate::redact::url(&self.url))
            .finish_non_exhaustive()
    }
}

/// Where a queue's events go.
#[derive(Clone, Debug)]
pub enum Target {
    Hook(Arc<Hook>),
    Lrs(Arc<Lrs>),
}

/// The prefix of an LRS's queue id, which no hook id of this service has.
const LRS: &str = "lrs:";

impl Target {
    /// The id of the target's queue: the hook's id, or `lrs:<id>`.
    pub fn queue_id(&self) -> Arc<str> {
        (*self.queue_key()).into()
    }

    /// [`Target::queue_id`], borrowed from the hook when it can be: for
    /// looking a queue up.
    pub fn queue_key(&self) -> Cow<'_, str> {
        match self {
            Target::Hook(h) => Cow::Borrowed(&h.id),
            Target::Lrs(l) => Cow::Owned(format!("{LRS}{}", l.id)),
        }
    }

    /// The Redis LIST of the target's undelivered events.
    pub fn list_key(&self) -> String {
        match self {
            Target::Hook(h) => keys::queue(&h.id),
            Target::Lrs(l) => keys::xapi_queue(&l.id),
        }
    }

    /// What logs show of the target: a URL without its query.
    pub fn logged(&self) -> String {
        match self {
            Target::Hook(h) => h.logged_url(),
            Target::Lrs(l) => format!("LRS {}", crate::redact::url(&l.url)),
        }
    }

    /// Never given up, whatever its endpoint answers: permanent hooks, and
    /// every LRS (a statement that cannot be taken is dropped instead).
    pub fn permanent(&self) -> bool {
        match self {
            Target::Hook(h) => h.permanent,
            Target::Lrs(_) => true,
        }
    }

    /// Events per request at most: statements go one per POST.
    pub fn per_post(&self, multi_event: usize) -> usize {
        match self {
            Target::Hook(_) => multi_event,
            Target::Lrs(_) => 1,
        }
    }

    pub fn is_lrs_queue(queue_id: &str) -> bool {
        queue_id.starts_with(LRS)
    }

    /// The LRS id of an LRS's queue id, `None` for a hook's.
    pub fn lrs_id(queue_id: &str) -> Option<&str> {
        queue_id.strip_prefix(LRS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hooks_and_stores_have_their_own_queue_ids_and_keys() {
        let mut h = Hook::new("http://a/?t=1".into(), None, None, false, false);
        h.id = "h1".into();
        let hook = Target::Hook(Arc::new(h));
        assert_eq!(&*hook.queue_id(), "h1");
        assert!(matches!(hook.queue_key(), Cow::Borrowed("h1")));
        assert_eq!(hook.list_key(), "bigbluebutton:webhooks:out:queue:h1");
        assert_eq!(hook.logged(), "http://a/?…");
        let lrs = Target::Lrs(Arc::new(Lrs {
            id: "ab12".into(),
            url: "https://lrs.example/xAPI/statements".into(),
            authorization: Secret::new("Bearer t0ken"),
        }));
        assert_eq!(&*lrs.queue_id(), "lrs:ab12");
        assert_eq!(lrs.queue_key(), "lrs:ab12");
        assert!(Target::is_lrs_queue(&lrs.queue_id()));
        assert_eq!(Target::lrs_id(&lrs.queue_id()), Some("ab12"));
        assert_eq!(Target::lrs_id("h1"), None);
        assert_eq!(lrs.list_key(), "bigbluebutton:webhooks:xapi:queue:ab12");
        assert!(lrs.permanent() && !hook.permanent());
        assert_eq!((hook.per_post(20), lrs.per_post(20)), (20, 1));
        assert!(!format!("{lrs:?}").contains("t0ken"));
    }
}
