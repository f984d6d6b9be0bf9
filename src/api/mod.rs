//! The HTTP API: the hooks calls (`hooks/create|destroy|list|ping`) and the
//! draft calls (`subscribeEvent|unsubscribeEvent|listSubscriptions`), checked
//! against BBB's checksum and answered in the reference's XML. This file
//! routes a request to its call; [`write`] registers and removes hooks
//! through the registry (Redis first: if Redis refuses, the answer is an
//! error and memory is unchanged) and [`read`] lists them. It delivers
//! nothing.

mod read;
mod reply;
mod write;

use std::sync::Arc;

use crossbeam_channel::{bounded, Receiver, Sender};

use crate::checksum;
use crate::config::Config;
use crate::delivery::{Input, StatusMap};
use crate::hooks::Hooks;
use crate::http;
use crate::query;
use crate::store::Conn;

pub use reply::Reply;
use reply::{fail, msg, TEXT};

/// A request for the API thread, with where to send the answer.
pub type Call = (http::Request, Sender<http::Response>);

/// Calls queued for the API thread; when full, connection threads wait.
const CALL_QUEUE: usize = 256;

/// The calls that need a checksum.
const CALLS: [&str; 6] = [
    "hooks/create",
    "hooks/destroy",
    "hooks/list",
    "subscribeEvent",
    "unsubscribeEvent",
    "listSubscriptions",
];

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

/// The API's state: shared handles plus the API thread's own Redis connection.
pub struct Api {
    pub config: Arc<Config>,
    pub hooks: Hooks,
    pub status: StatusMap,
    pub delivery: Sender<Input>,
    pub conn: Conn,
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
        let call = match path.strip_prefix(self.config.api_path.as_str()) {
            Some(rest) if rest.starts_with('/') => &rest[1..],
            _ => return Reply::text(404, "Not Found\n"),
        };
        let route = call.strip_suffix('/').unwrap_or(call);
        if method != "GET" && method != "HEAD" {
            let mut r = fail(msg::METHOD);
            r.status = 405;
            return r;
        }
        log::debug!("API call {route}");
        if route == "hooks/ping" {
            return Reply::text(200, "bbb-webhooks API up!");
        }
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
            "hooks/list" => read::list(&self.hooks, &self.status, p("meetingID")),
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
                Some(m) => read::list_subscriptions(&self.hooks, &self.status, m),
            },
        }
    }
}
