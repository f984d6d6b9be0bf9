//! The registry: every hook in memory, by id, shared by the threads through
//! [`Hooks`], and the one owner of the hooks' lifecycle. A hook is created,
//! removed and loaded only here, always Redis first and memory second: when
//! Redis refuses, memory is unchanged and the caller says so.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard};

use super::{store, Hook};
use crate::config::PermanentHook;
use crate::error::Result;
use crate::locks;
use crate::store::Conn;

/// The hooks, by id (so listing is sorted by id), with an index by URL.
#[derive(Debug, Default)]
pub struct Registry {
    hooks: BTreeMap<String, Arc<Hook>>,
    by_url: HashMap<String, String>,
}

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

    /// Adds or replaces a hook (in memory only: see [`Hooks`]).
    pub(crate) fn insert(&mut self, hook: Hook) -> Arc<Hook> {
        if let Some(old) = self.hooks.get(&hook.id) {
            self.by_url.remove(&old.callback_url);
        }
        self.by_url
            .insert(hook.callback_url.clone(), hook.id.clone());
        let hook = Arc::new(hook);
        self.hooks.insert(hook.id.clone(), hook.clone());
        hook
    }

    /// Removes a hook from memory; returns it.
    fn remove(&mut self, id: &str) -> Option<Arc<Hook>> {
        let hook = self.hooks.remove(id)?;
        if self.by_url.get(&hook.callback_url) == Some(&hook.id) {
            self.by_url.remove(&hook.callback_url);
        }
        Some(hook)
    }
}

/// What registering a hook gave.
#[derive(Debug)]
pub enum Created {
    New(Arc<Hook>),
    /// A hook for the same callback URL exists: it is returned unchanged.
    Duplicate(Arc<Hook>),
    /// The registry holds the maximum number of hooks.
    Full(usize),
}

/// What loading the stored hooks found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Hooks in the registry afterwards.
    pub hooks: usize,
    /// Stored records that could not be read.
    pub skipped: usize,
}

/// The registry as the threads share it. Reading is for everyone; changes go
/// through the methods below, each writing Redis before memory.
#[derive(Clone, Debug, Default)]
pub struct Hooks(Arc<RwLock<Registry>>);

impl Hooks {
    /// The registry, for reading. Hold the guard for a narrow block only,
    /// never across I/O.
    pub fn read(&self) -> RwLockReadGuard<'_, Registry> {
        locks::read(&self.0)
    }

    /// Registers `hook` unless its URL is registered already or `max` hooks
    /// are. Fails, leaving memory unchanged, when Redis refuses.
    pub fn create(&self, conn: &mut Conn, hook: Hook, max: usize) -> Result<Created> {
        {
            let reg = self.read();
            if let Some(h) = reg.by_url(&hook.callback_url) {
                return Ok(Created::Duplicate(h.clone()));
            }
            if reg.len() >= max {
                return Ok(Created::Full(reg.len()));
            }
        }
        conn.run(|c| store::save(c, &hook))?;
        Ok(Created::New(locks::write(&self.0).insert(hook)))
    }

    /// Removes hook `id`: from Redis, then from memory. `Ok(None)`: there is
    /// no such hook. Fails, leaving the hook in place, when Redis refuses.
    /// The caller tells delivery, which drops the hook's queue.
    pub fn remove(&self, conn: &mut Conn, id: &str) -> Result<Option<Arc<Hook>>> {
        if self.read().get(id).is_none() {
            return Ok(None);
        }
        conn.run(|c| store::delete(c, id))?;
        Ok(locks::write(&self.0).remove(id))
    }

    /// Loads the stored hooks, then makes the configured permanent hooks
    /// exist and only those be permanent (see [`reconcile`]), writing what
    /// changed. Replaces what memory held.
    pub fn load(
        &self,
        c: &mut redis::Connection,
        permanent: &[PermanentHook],
    ) -> redis::RedisResult<LoadReport> {
        let (stored, skipped) = store::load(c)?;
        let (hooks, changed) = reconcile(stored, permanent);
        for (hook, why) in &changed {
            store::save(c, hook)?;
            log::info!("hook {} ({}): {why}", hook.id, hook.logged_url());
        }
        let mut reg = Registry::default();
        for hook in hooks {
            reg.insert(hook);
        }
        let report = LoadReport {
            hooks: reg.len(),
            skipped,
        };
        *locks::write(&self.0) = reg;
        Ok(report)
    }
}

/// The hooks to keep after a start with `permanent` configured, and those of
/// them that must be written, each with why: a stored hook no longer
/// configured as permanent becomes an ordinary one; a configured URL gets its
/// stored hook made permanent (with the configured `raw`), or a new hook.
pub fn reconcile(
    stored: Vec<Hook>,
    permanent: &[PermanentHook],
) -> (Vec<Hook>, Vec<(Hook, &'static str)>) {
    let mut changed = Vec::new();
    let mut hooks: Vec<Hook> = Vec::with_capacity(stored.len() + permanent.len());
    for mut hook in stored {
        if hook.permanent && !permanent.iter().any(|p| p.url == hook.callback_url) {
            hook.permanent = false;
            changed.push((hook.clone(), "no longer configured as permanent"));
        }
        hooks.push(hook);
    }
    for p in permanent {
        match hooks.iter_mut().find(|h| h.callback_url == p.url) {
            Some(h) if h.permanent && h.raw == p.raw => {}
            Some(h) => {
                h.permanent = true;
                h.raw = p.raw;
                changed.push((h.clone(), "permanent, as configured"));
            }
            None => {
                let h = Hook::new(p.url.clone(), None, None, true, p.raw);
                changed.push((h.clone(), "permanent hook added, as configured"));
                hooks.push(h);
            }
        }
    }
    (hooks, changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(id: &str, url: &str, meeting: Option<&str>) -> Hook {
        let mut h = Hook::new(url.into(), meeting.map(Into::into), None, false, false);
        h.id = id.into();
        h
    }

    #[test]
    fn registry_sorted_and_indexed() {
        let mut r = Registry::default();
        r.insert(hook("b", "http://a/", None));
        r.insert(hook("a", "http://b/", Some("m1")));
        r.insert(hook("c", "http://c/", Some("m2")));
        let ids: Vec<&str> = r.all().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let ids: Vec<&str> = r.for_meeting("m1").map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(r.by_url("http://c/").map(|h| h.id.as_str()), Some("c"));
        assert!(r.remove("c").is_some());
        assert!(r.by_url("http://c/").is_none());
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn replacing_a_hook_moves_its_url_index() {
        let mut r = Registry::default();
        r.insert(hook("a", "http://old/", None));
        r.insert(hook("a", "http://new/", None));
        assert!(r.by_url("http://old/").is_none());
        assert_eq!(r.by_url("http://new/").map(|h| h.id.as_str()), Some("a"));
    }

    fn perm(url: &str, raw: bool) -> PermanentHook {
        PermanentHook {
            url: url.into(),
            raw,
        }
    }

    #[test]
    fn reconcile_keeps_hooks_that_need_nothing() {
        let mut p = hook("p", "http://p/", None);
        p.permanent = true;
        let stored = vec![hook("a", "http://a/", None), p.clone()];
        let (hooks, changed) = reconcile(stored.clone(), &[perm("http://p/", false)]);
        assert_eq!(hooks, stored);
        assert!(changed.is_empty());
    }

    #[test]
    fn reconcile_demotes_a_permanent_hook_no_longer_configured() {
        let mut p = hook("p", "http://p/", None);
        p.permanent = true;
        let (hooks, changed) = reconcile(vec![p], &[]);
        assert!(!hooks[0].permanent);
        assert_eq!(changed.len(), 1);
        assert!(!changed[0].0.permanent);
    }

    #[test]
    fn reconcile_promotes_a_stored_hook_of_a_configured_url() {
        let (hooks, changed) = reconcile(
            vec![hook("a", "http://a/", None)],
            &[perm("http://a/", true)],
        );
        assert_eq!(hooks.len(), 1);
        assert!(hooks[0].permanent && hooks[0].raw);
        assert_eq!(hooks[0].id, "a", "keeps its id");
        assert_eq!(changed.len(), 1);
    }

    #[test]
    fn reconcile_adds_a_configured_hook_with_its_name_based_id() {
        let (hooks, changed) = reconcile(vec![], &[perm("http://example.com/cb", false)]);
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0].id, "ce0d4d4a-a3ea-55bd-bfef-36663b14fecb");
        assert!(hooks[0].permanent);
        assert_eq!(changed.len(), 1);
    }
}
