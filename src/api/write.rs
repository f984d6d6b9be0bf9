//! The calls that change the registry, made by one writer thread so changes
//! happen one at a time: `hooks/create` and `subscribeEvent` register a hook,
//! `hooks/destroy` and `unsubscribeEvent` remove one. Both go through
//! [`crate::hooks::Hooks`], Redis first.

use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};

use super::reply::{fail, msg, Reply};
use super::{Call, Routed};
use crate::config::Config;
use crate::delivery::Input;
use crate::hooks::{self, Created, Hook, Hooks};
use crate::store::Conn;
use crate::xml;

/// A change of the registry, its parameters checked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Register a hook; `draft`: answered as `subscribeEvent` does.
    Create {
        url: String,
        meeting: Option<String>,
        event_ids: Option<Vec<String>>,
        raw: bool,
        draft: bool,
    },
    /// Remove a hook; with `meeting`, only if it belongs to that meeting
    /// (the draft's `unsubscribeEvent`).
    Destroy { id: String, meeting: Option<String> },
}

impl Change {
    /// A create from its parameters (`raw`: `getRaw=true`), or the answer
    /// to bad ones.
    pub(super) fn create(
        url: Option<&str>,
        meeting: Option<&str>,
        event_ids: Option<&str>,
        raw: bool,
        draft: bool,
    ) -> Routed {
        let Some(url) = url else {
            return Routed::Reply(fail(msg::NO_CALLBACK));
        };
        if !hooks::valid_callback_url(url) {
            return Routed::Reply(fail(msg::BAD_CALLBACK));
        }
        Routed::Change(Change::Create {
            url: url.to_owned(),
            meeting: meeting.map(str::to_owned),
            event_ids: event_ids.and_then(hooks::parse_event_ids),
            raw,
            draft,
        })
    }

    /// A destroy from its parameters, or the answer to bad ones.
    pub(super) fn destroy(id: Option<&str>, meeting: Option<&str>) -> Routed {
        match id {
            None => Routed::Reply(fail(msg::NO_HOOK_ID)),
            Some(id) => Routed::Change(Change::Destroy {
                id: id.to_owned(),
                meeting: meeting.map(str::to_owned),
            }),
        }
    }

    /// The call's name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Change::Create { draft: false, .. } => "hooks/create",
            Change::Create { draft: true, .. } => "subscribeEvent",
            Change::Destroy { meeting: None, .. } => "hooks/destroy",
            Change::Destroy {
                meeting: Some(_), ..
            } => "unsubscribeEvent",
        }
    }

    /// The answer when the change could not be made (Redis refused or was
    /// too slow).
    pub fn failure(&self) -> Reply {
        match self {
            Change::Create { .. } => fail(msg::CREATE),
            Change::Destroy { .. } => fail(msg::DESTROY),
        }
    }
}

/// The writer thread's parts.
pub struct Writer {
    pub config: Arc<Config>,
    pub hooks: Hooks,
    pub delivery: Sender<Input>,
    pub conn: Conn,
}

impl Writer {
    /// Makes the changes sent on `calls` until every sender is gone.
    pub(crate) fn serve(mut self, calls: Receiver<Call>) {
        for (change, reply) in calls.iter() {
            let _ = reply.send(self.apply(change));
        }
    }

    /// Makes one change and answers it.
    fn apply(&mut self, change: Change) -> Reply {
        match change {
            Change::Create {
                url,
                meeting,
                event_ids,
                raw,
                draft,
            } => {
                let permanent = self.config.permanent_hooks.iter().any(|p| p.url == url);
                let hook = Hook::new(url, meeting, event_ids, permanent, raw);
                self.create(hook, draft)
            }
            Change::Destroy { id, meeting } => self.destroy(&id, meeting.as_deref()),
        }
    }

    fn create(&mut self, hook: Hook, draft: bool) -> Reply {
        let (id_tag, dup_text) = if draft {
            (
                "subscriptionID",
                "There is already a subscription for this callback URL.",
            )
        } else {
            ("hookID", "There is already a hook for this callback URL.")
        };
        let max = self.config.max_hooks;
        let mut inner = String::new();
        match self.hooks.create(&mut self.conn, hook, max) {
            Ok(Created::Duplicate(h)) => {
                xml::element(&mut inner, id_tag, &h.id);
                xml::element(&mut inner, "messageKey", "duplicateWarning");
                xml::element(&mut inner, "message", dup_text);
            }
            Ok(Created::New(h)) => {
                log::info!("created hook {} for {}", h.id, h.logged_url());
                xml::element(&mut inner, id_tag, &h.id);
                if !draft {
                    xml::element(&mut inner, "permanentHook", &h.permanent.to_string());
                    xml::element(&mut inner, "rawData", &h.raw.to_string());
                }
            }
            Ok(Created::Full(n)) => {
                log::warn!("refused a new hook: {n} hooks are registered, the maximum (BBB_WEBHOOKS_MAX_HOOKS)");
                return Reply::failure(
                    "createHookError",
                    &format!("The maximum number of hooks ({max}) is registered."),
                );
            }
            Err(e) => {
                log::error!("cannot save a hook to Redis: {e}");
                return fail(msg::CREATE);
            }
        }
        Reply::success(&inner)
    }

    fn destroy(&mut self, id: &str, meeting: Option<&str>) -> Reply {
        let missing = if meeting.is_some() {
            msg::MISSING_SUBSCRIPTION
        } else {
            msg::MISSING_HOOK
        };
        let hook = self.hooks.read().get(id).cloned();
        let Some(hook) = hook.filter(|h| meeting.is_none() || h.meeting_id.as_deref() == meeting)
        else {
            return fail(missing);
        };
        if hook.permanent {
            return fail(msg::PERMANENT);
        }
        match self.hooks.remove(&mut self.conn, id) {
            Ok(Some(_)) => {}
            Ok(None) => return fail(missing),
            Err(e) => {
                log::error!("cannot delete a hook from Redis: {e}");
                return fail(msg::DESTROY);
            }
        }
        let _ = self.delivery.send(Input::HookRemoved(id.to_owned()));
        log::info!("removed hook {id} ({})", hook.logged_url());
        let tag = if meeting.is_some() {
            "unsubscribed"
        } else {
            "removed"
        };
        let mut inner = String::new();
        xml::element(&mut inner, tag, "true");
        Reply::success(&inner)
    }
}
