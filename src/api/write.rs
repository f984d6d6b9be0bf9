//! The calls that change the registry: `hooks/create` and `subscribeEvent`
//! register a hook, `hooks/destroy` and `unsubscribeEvent` remove one. Both
//! go through [`crate::hooks::Hooks`], Redis first.

use super::reply::{fail, msg, Reply};
use super::Api;
use crate::delivery::Input;
use crate::hooks::{self, Created, Hook};
use crate::xml;

impl Api {
    /// Registers a hook; `draft`: answered as `subscribeEvent` does.
    pub(super) fn create(
        &mut self,
        url: Option<&str>,
        meeting: Option<&str>,
        event_ids: Option<&str>,
        get_raw: Option<&str>,
        draft: bool,
    ) -> Reply {
        let Some(url) = url else {
            return fail(msg::NO_CALLBACK);
        };
        if !hooks::valid_callback_url(url) {
            return fail(msg::BAD_CALLBACK);
        }
        let raw = get_raw.is_some_and(|r| r.eq_ignore_ascii_case("true"));
        let permanent = self.config.permanent_hooks.iter().any(|p| p.url == url);
        let hook = Hook::new(
            url.to_owned(),
            meeting.map(str::to_owned),
            event_ids.and_then(hooks::parse_event_ids),
            permanent,
            raw,
        );
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
                log::info!("created hook {} for {}", h.id, h.callback_url);
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

    /// Removes a hook; with `meeting`, only if it belongs to that meeting
    /// (the draft's `unsubscribeEvent`).
    pub(super) fn destroy(&mut self, id: Option<&str>, meeting: Option<&str>) -> Reply {
        let Some(id) = id else {
            return fail(msg::NO_HOOK_ID);
        };
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
        log::info!("removed hook {id} ({})", hook.callback_url);
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
