//! The calls that only read: `hooks/list` and the draft's
//! `listSubscriptions`, answered from memory (the registry and the delivery
//! statuses).

use std::sync::Arc;

use super::reply::Reply;
use crate::delivery::{HookStatus, StatusMap};
use crate::hooks::{Hook, Hooks};
use crate::locks;
use crate::xml;

/// `hooks/list`: every hook, or with `meeting` the global hooks and that
/// meeting's, sorted by id.
pub fn list(hooks: &Hooks, status: &StatusMap, meeting: Option<&str>) -> Reply {
    let listed: Vec<Arc<Hook>> = {
        let r = hooks.read();
        match meeting {
            Some(m) => r.for_meeting(m).cloned().collect(),
            None => r.all().cloned().collect(),
        }
    };
    let statuses = statuses(status, &listed);
    let mut inner = String::from("<hooks>");
    for (h, s) in listed.iter().zip(statuses) {
        inner.push_str("<hook>");
        xml::element(&mut inner, "hookID", &h.id);
        xml::cdata_element(&mut inner, "callbackURL", &h.callback_url);
        if let Some(m) = &h.meeting_id {
            xml::cdata_element(&mut inner, "meetingID", m);
        }
        if let Some(e) = h.event_ids_joined() {
            xml::element(&mut inner, "eventID", &e);
        }
        xml::element(&mut inner, "permanentHook", &h.permanent.to_string());
        xml::element(&mut inner, "rawData", &h.raw.to_string());
        // Only hooks with something to report get the extra elements, so
        // a healthy hook is listed exactly as the reference lists it.
        if s.pending > 0 || s.failures > 0 {
            status_elements(&mut inner, &s);
        }
        inner.push_str("</hook>");
    }
    inner.push_str("</hooks>");
    Reply::success(&inner)
}

/// `listSubscriptions`: the hooks of one meeting, each with its status.
pub fn list_subscriptions(hooks: &Hooks, status: &StatusMap, meeting: &str) -> Reply {
    let listed: Vec<Arc<Hook>> = hooks
        .read()
        .all()
        .filter(|h| h.meeting_id.as_deref() == Some(meeting))
        .cloned()
        .collect();
    let statuses = statuses(status, &listed);
    let mut inner = String::new();
    xml::cdata_element(&mut inner, "meetingID", meeting);
    inner.push_str("<subscriptions>");
    for (h, s) in listed.iter().zip(statuses) {
        inner.push_str("<subscription>");
        xml::element(&mut inner, "subscriptionID", &h.id);
        xml::cdata_element(&mut inner, "callbackURL", &h.callback_url);
        if let Some(e) = h.event_ids_joined() {
            xml::element(&mut inner, "eventID", &e);
        }
        status_elements(&mut inner, &s);
        inner.push_str("</subscription>");
    }
    inner.push_str("</subscriptions>");
    Reply::success(&inner)
}

fn statuses(status: &StatusMap, hooks: &[Arc<Hook>]) -> Vec<HookStatus> {
    let map = locks::lock(status);
    hooks
        .iter()
        .map(|h| map.get(&h.id).cloned().unwrap_or_default())
        .collect()
}

/// `<status>active|failing</status><pending>N</pending>` and, after a failed
/// attempt, `<lastError reason="timeout|connect|tls|redirect|status_4xx|status_5xx|other">`.
fn status_elements(out: &mut String, s: &HookStatus) {
    xml::element(out, "status", if s.failing { "failing" } else { "active" });
    xml::element(out, "pending", &s.pending.to_string());
    if let Some(e) = &s.last_error {
        match s.last_reason {
            Some(r) => xml::element_with(out, "lastError", ("reason", r.name()), e),
            None => xml::element(out, "lastError", e),
        }
    }
}
