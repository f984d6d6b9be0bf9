//! The HTTP API: the hooks calls (`hooks/create|destroy|list|ping`) and the
//! draft calls (`subscribeEvent|unsubscribeEvent|listSubscriptions`), checked
//! against BBB's checksum and answered in the reference's XML. Registry
//! changes are written to Redis first; if Redis refuses, the answer is an
//! error and memory is unchanged. It does not deliver anything.

use std::sync::Arc;

use crossbeam_channel::{bounded, Receiver, Sender};

use crate::checksum;
use crate::config::Config;
use crate::delivery::{HookStatus, Input, StatusMap};
use crate::hooks::{self, Hook, SharedRegistry};
use crate::http;
use crate::query;
use crate::store::Conn;
use crate::xml;

const XML: &str = "text/xml; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// A request for the API thread, with where to send the answer.
pub type Call = (http::Request, Sender<http::Response>);

/// Calls queued for the API thread; when full, connection threads wait.
const CALL_QUEUE: usize = 256;

/// The HTTP handler that passes requests to the API thread and waits for
/// its answer; and the receiving end for [`Api::serve`].
pub fn handler() -> (http::Handler, Receiver<Call>) {
    let (tx, rx) = bounded::<Call>(CALL_QUEUE);
    let handler: http::Handler = Arc::new(move |req| {
        let (reply_tx, reply_rx) = bounded(1);
        if tx.send((req, reply_tx)).is_err() {
            return http::Response::new(503, TEXT, "stopping\n");
        }
        reply_rx
            .recv()
            .unwrap_or_else(|_| http::Response::new(503, TEXT, "stopping\n"))
    });
    (handler, rx)
}

/// An answer, before it is written to the socket.
#[derive(Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Reply {
    fn xml(body: String) -> Reply {
        Reply {
            status: 200,
            content_type: XML,
            body,
        }
    }

    fn failure(key: &str, message: &str) -> Reply {
        Reply::xml(xml::failure(key, message))
    }
}

/// The API's state: shared handles plus the API thread's own Redis connection.
pub struct Api {
    pub config: Arc<Config>,
    pub registry: SharedRegistry,
    pub status: StatusMap,
    pub delivery: Sender<Input>,
    pub conn: Conn,
}

/// The failures the API answers, with the reference's keys and texts.
mod msg {
    pub const CHECKSUM: (&str, &str) = (
        "checksumError",
        "You did not pass the checksum security check.",
    );
    pub const NO_CALLBACK: (&str, &str) = (
        "missingParamCallbackURL",
        "You must specify a callbackURL in the parameters.",
    );
    pub const NO_HOOK_ID: (&str, &str) = (
        "missingParamHookID",
        "You must specify a hookID in the parameters.",
    );
    pub const NO_MEETING_ID: (&str, &str) = (
        "missingParamMeetingID",
        "You must specify a meetingID in the parameters.",
    );
    pub const NO_SUBSCRIPTION_ID: (&str, &str) = (
        "missingParamSubscriptionID",
        "You must specify a subscriptionID in the parameters.",
    );
    pub const BAD_CALLBACK: (&str, &str) = (
        "invalidCallbackURL",
        "The callbackURL must be an absolute http or https URL.",
    );
    pub const MISSING_HOOK: (&str, &str) =
        ("destroyMissingHook", "The hook informed was not found.");
    pub const MISSING_SUBSCRIPTION: (&str, &str) = (
        "subscriptionNotFound",
        "The subscription informed was not found for this meeting.",
    );
    pub const PERMANENT: (&str, &str) =
        ("destroyHookError", "Permanent hooks cannot be destroyed.");
    pub const CREATE: (&str, &str) = (
        "createHookError",
        "An error happened while creating your hook. Check the logs.",
    );
    pub const DESTROY: (&str, &str) = (
        "destroyHookError",
        "An error happened while removing your hook. Check the logs.",
    );
    pub const LIST: (&str, &str) = (
        "listHookError",
        "An error happened while listing registered hooks. Check the logs.",
    );
    pub const UNSUPPORTED: (&str, &str) = ("unsupportedRequest", "This request is not supported.");
    pub const METHOD: (&str, &str) = ("methodNotAllowed", "Only GET requests are supported.");
}

fn fail(m: (&str, &str)) -> Reply {
    Reply::failure(m.0, m.1)
}

/// Outcome of registering a hook.
enum Created {
    New(Arc<Hook>),
    Duplicate(Arc<Hook>),
}

impl Api {
    /// Answers the requests sent on `calls` until every sender is gone.
    /// The connection threads of [`crate::http`] parse; this one thread
    /// answers, so registry changes happen one at a time.
    pub fn serve(mut self, calls: Receiver<Call>) {
        for (req, reply) in calls.iter() {
            let r = self.handle(&req.method, &req.target);
            let mut resp = http::Response::new(r.status, r.content_type, r.body);
            if r.status == 405 {
                resp.headers.push(("Allow", "GET".to_owned()));
            }
            let _ = reply.send(resp);
        }
    }

    /// Answers one request. `url` is the request target as received.
    pub fn handle(&mut self, method: &str, url: &str) -> Reply {
        let (path, raw_query) = url.split_once('?').unwrap_or((url, ""));
        let prefix_len = self.config.api_path.len() + 1;
        let call = match path.strip_prefix(self.config.api_path.as_str()) {
            Some(rest) if rest.starts_with('/') => &path[prefix_len..],
            _ => {
                return Reply {
                    status: 404,
                    content_type: TEXT,
                    body: "Not Found\n".into(),
                }
            }
        };
        let route = call.strip_suffix('/').unwrap_or(call);
        if method != "GET" && method != "HEAD" {
            let mut r = fail(msg::METHOD);
            r.status = 405;
            return r;
        }
        log::debug!("API call {route}");
        if route == "hooks/ping" {
            return Reply {
                status: 200,
                content_type: TEXT,
                body: "bbb-webhooks API up!".into(),
            };
        }
        const CALLS: [&str; 6] = [
            "hooks/create",
            "hooks/destroy",
            "hooks/list",
            "subscribeEvent",
            "unsubscribeEvent",
            "listSubscriptions",
        ];
        if !CALLS.contains(&route) {
            let mut r = fail(msg::UNSUPPORTED);
            r.status = 404;
            return r;
        }
        let (signed, sum) = query::split_checksum(raw_query);
        let valid = sum.is_some_and(|sum| {
            checksum::verify_api(
                call,
                &signed,
                self.config.secret.expose(),
                sum,
                &self.config.api_algorithms,
            )
        });
        if !valid {
            log::info!("refused {route}: checksum check failed");
            return fail(msg::CHECKSUM);
        }
        let params = query::params(&signed);
        let p = |name: &str| query::get(&params, name).filter(|v| !v.is_empty());
        match route {
            "hooks/create" => self.create(
                p("callbackURL"),
                p("meetingID"),
                p("eventID"),
                p("getRaw"),
                false,
            ),
            "hooks/destroy" => self.destroy(p("hookID"), None),
            "hooks/list" => self.list(p("meetingID")),
            "subscribeEvent" => match p("meetingID") {
                None => fail(msg::NO_MEETING_ID),
                Some(m) => self.create(p("callbackURL"), Some(m), p("eventID"), p("getRaw"), true),
            },
            "unsubscribeEvent" => match (p("meetingID"), p("subscriptionID")) {
                (None, _) => fail(msg::NO_MEETING_ID),
                (_, None) => fail(msg::NO_SUBSCRIPTION_ID),
                (Some(m), Some(id)) => self.destroy(Some(id), Some(m)),
            },
            _ => match p("meetingID") {
                None => fail(msg::NO_MEETING_ID),
                Some(m) => self.list_subscriptions(m),
            },
        }
    }

    fn create(
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
        match self.register(hook) {
            Ok(Created::Duplicate(h)) => {
                let mut inner = String::new();
                xml::element(&mut inner, id_tag, &h.id);
                xml::element(&mut inner, "messageKey", "duplicateWarning");
                xml::element(&mut inner, "message", dup_text);
                Reply::xml(xml::success(&inner))
            }
            Ok(Created::New(h)) => {
                log::info!("created hook {} for {}", h.id, h.callback_url);
                let mut inner = String::new();
                xml::element(&mut inner, id_tag, &h.id);
                if !draft {
                    xml::element(&mut inner, "permanentHook", &h.permanent.to_string());
                    xml::element(&mut inner, "rawData", &h.raw.to_string());
                }
                Reply::xml(xml::success(&inner))
            }
            Err(reply) => reply,
        }
    }

    /// Adds a hook: Redis first, then memory. A URL already registered gives
    /// the existing hook.
    fn register(&mut self, hook: Hook) -> Result<Created, Reply> {
        {
            let reg = self.registry.read().map_err(|_| fail(msg::CREATE))?;
            if let Some(h) = reg.by_url(&hook.callback_url) {
                return Ok(Created::Duplicate(h.clone()));
            }
            if reg.len() >= self.config.max_hooks {
                log::warn!("refused a new hook: {} hooks are registered, the maximum (BBB_WEBHOOKS_MAX_HOOKS)", reg.len());
                return Err(Reply::failure(
                    "createHookError",
                    &format!(
                        "The maximum number of hooks ({}) is registered.",
                        self.config.max_hooks
                    ),
                ));
            }
        }
        if let Err(e) = self.conn.run(|c| hooks::save(c, &hook)) {
            log::error!("cannot save a hook to Redis: {e}");
            return Err(fail(msg::CREATE));
        }
        let mut reg = self.registry.write().map_err(|_| fail(msg::CREATE))?;
        reg.insert(hook.clone());
        Ok(Created::New(Arc::new(hook)))
    }

    /// Removes a hook; with `meeting`, only if it belongs to that meeting
    /// (the draft's `unsubscribeEvent`).
    fn destroy(&mut self, id: Option<&str>, meeting: Option<&str>) -> Reply {
        let Some(id) = id else {
            return fail(msg::NO_HOOK_ID);
        };
        let missing = if meeting.is_some() {
            msg::MISSING_SUBSCRIPTION
        } else {
            msg::MISSING_HOOK
        };
        let hook = match self.registry.read() {
            Ok(r) => r.get(id).cloned(),
            Err(_) => return fail(msg::DESTROY),
        };
        let Some(hook) = hook.filter(|h| meeting.is_none() || h.meeting_id.as_deref() == meeting)
        else {
            return fail(missing);
        };
        if hook.permanent {
            return fail(msg::PERMANENT);
        }
        if let Err(e) = self.conn.run(|c| hooks::delete(c, id)) {
            log::error!("cannot delete a hook from Redis: {e}");
            return fail(msg::DESTROY);
        }
        match self.registry.write() {
            Ok(mut r) => {
                r.remove(id);
            }
            Err(_) => return fail(msg::DESTROY),
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
        Reply::xml(xml::success(&inner))
    }

    fn list(&mut self, meeting: Option<&str>) -> Reply {
        let hooks: Vec<Arc<Hook>> = match self.registry.read() {
            Ok(r) => match meeting {
                Some(m) => r.for_meeting(m).cloned().collect(),
                None => r.all().cloned().collect(),
            },
            Err(_) => return fail(msg::LIST),
        };
        let status = self.statuses(&hooks);
        let mut inner = String::from("<hooks>");
        for (h, s) in hooks.iter().zip(status) {
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
        Reply::xml(xml::success(&inner))
    }

    fn list_subscriptions(&mut self, meeting: &str) -> Reply {
        let hooks: Vec<Arc<Hook>> = match self.registry.read() {
            Ok(r) => r
                .all()
                .filter(|h| h.meeting_id.as_deref() == Some(meeting))
                .cloned()
                .collect(),
            Err(_) => return fail(msg::LIST),
        };
        let status = self.statuses(&hooks);
        let mut inner = String::new();
        xml::cdata_element(&mut inner, "meetingID", meeting);
        inner.push_str("<subscriptions>");
        for (h, s) in hooks.iter().zip(status) {
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
        Reply::xml(xml::success(&inner))
    }

    fn statuses(&self, hooks: &[Arc<Hook>]) -> Vec<HookStatus> {
        let map = self.status.lock().ok();
        hooks
            .iter()
            .map(|h| {
                map.as_ref()
                    .and_then(|m| m.get(&h.id).cloned())
                    .unwrap_or_default()
            })
            .collect()
    }
}

/// `<status>active|failing</status><pending>N</pending>` and, after a failed
/// attempt, `<lastError>`.
fn status_elements(out: &mut String, s: &HookStatus) {
    xml::element(out, "status", if s.failing { "failing" } else { "active" });
    xml::element(out, "pending", &s.pending.to_string());
    if let Some(e) = &s.last_error {
        xml::element(out, "lastError", e);
    }
}
