//! The HTTP API: the hooks calls (`hooks/create|destroy|list|ping`) and the
//! draft calls (`subscribeEvent|unsubscribeEvent|listSubscriptions`), checked
//! against BBB's checksum and answered in the reference's XML. This file
//! routes a request to its call. Calls that only read ([`read`]) are
//! answered at once on the connection's thread, from memory; calls that
//! change the registry ([`write`]) go to the one writer thread, which writes
//! Redis first, and are answered with an XML error if that takes longer than
//! [`WRITE_DEADLINE`], so a slow Redis never holds up pings and lists. It
//! delivers nothing.

mod read;
mod reply;
mod write;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender};

use crate::checksum;
use crate::config::Config;
use crate::delivery::StatusMap;
use crate::hooks::Hooks;
use crate::http;
use crate::query;

pub use reply::Reply;
use reply::{fail, msg};
pub(crate) use write::Change;
pub use write::Writer;

/// How long a create or destroy may wait for the writer thread (which waits
/// for Redis at most `store::COMMAND_TIMEOUT` per call) before it is
/// answered with an error.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(8);

/// Changes queued for the writer thread; when full, callers wait (within
/// [`WRITE_DEADLINE`]).
const WRITE_QUEUE: usize = 64;

/// A change for the writer thread, with where to send the answer.
pub(crate) type Call = (Change, Sender<Reply>);

/// The calls that need a checksum.
pub(crate) const CALLS: [&str; 6] = [
    "hooks/create",
    "hooks/destroy",
    "hooks/list",
    "subscribeEvent",
    "unsubscribeEvent",
    "listSubscriptions",
];

/// The answer to a request that cannot be read or find a free thread: the
/// API's XML failure, with the HTTP status that says why.
pub fn refusal(status: u16) -> http::Response {
    let m = match status {
        411 => msg::LENGTH_REQUIRED,
        413 => msg::TOO_LARGE,
        414 => msg::URI_TOO_LONG,
        431 => msg::HEADERS_TOO_LARGE,
        503 => msg::BUSY,
        _ => msg::BAD_REQUEST,
    };
    let r = fail(m);
    http::Response::new(status, r.content_type, r.body)
}

/// What the connection threads share: configuration and the registry and
/// statuses to read; changes go to the writer thread.
pub struct Api {
    pub config: Arc<Config>,
    pub hooks: Hooks,
    pub status: StatusMap,
    writes: Sender<Call>,
}

/// What a request comes to.
#[derive(Debug, PartialEq, Eq)]
enum Routed {
    /// Answered.
    Reply(Reply),
    /// A change, to be made by the writer thread.
    Change(Change),
}

impl Api {
    /// The API and the receiving end of its changes, for [`Writer::serve`].
    pub(crate) fn new(
        config: Arc<Config>,
        hooks: Hooks,
        status: StatusMap,
    ) -> (Api, Receiver<Call>) {
        let (writes, calls) = bounded(WRITE_QUEUE);
        let api = Api {
            config,
            hooks,
            status,
            writes,
        };
        (api, calls)
    }

    /// The HTTP handler, for the connection threads.
    pub fn handler(self) -> http::Handler {
        Arc::new(move |req: http::Request| {
            let r = self.answer(&req.method, &req.target);
            let mut resp = http::Response::new(r.status, r.content_type, r.body);
            if r.status == 405 {
                resp.headers.push(("Allow", "GET".to_owned()));
            }
            resp
        })
    }

    /// Answers one request, waiting for the writer thread if it is a change.
    pub fn answer(&self, method: &str, url: &str) -> Reply {
        match self.route(method, url) {
            Routed::Reply(r) => r,
            Routed::Change(change) => self.change(change),
        }
    }

    /// Hands a change to the writer thread and waits for its answer until
    /// [`WRITE_DEADLINE`].
    fn change(&self, change: Change) -> Reply {
        let deadline = Instant::now() + WRITE_DEADLINE;
        let failure = change.failure();
        let what = change.name();
        let (reply_tx, reply_rx) = bounded(1);
        if self
            .writes
            .send_deadline((change, reply_tx), deadline)
            .is_err()
        {
            log::warn!(
                "{what} not answered within {} s: the writer is busy (Redis slow?)",
                WRITE_DEADLINE.as_secs()
            );
            return failure;
        }
        match reply_rx.recv_deadline(deadline) {
            Ok(r) => r,
            Err(_) => {
                log::warn!(
                    "{what} not answered within {} s: Redis is slow or away; it may still take effect",
                    WRITE_DEADLINE.as_secs()
                );
                failure
            }
        }
    }

    /// Routes one request. `url` is the request target as received.
    fn route(&self, method: &str, url: &str) -> Routed {
        let (path, raw_query) = url.split_once('?').unwrap_or((url, ""));
        let call = match path.strip_prefix(self.config.api_path.as_str()) {
            Some(rest) if rest.starts_with('/') => &rest[1..],
            _ => {
                let mut r = fail(msg::NOT_FOUND);
                r.status = 404;
                return Routed::Reply(r);
            }
        };
        let name = call.strip_suffix('/').unwrap_or(call);
        if method != "GET" && method != "HEAD" {
            let mut r = fail(msg::METHOD);
            r.status = 405;
            return Routed::Reply(r);
        }
        log::debug!("API call {name}");
        if name == "hooks/ping" {
            return Routed::Reply(Reply::text(200, "bbb-webhooks API up!"));
        }
        if !CALLS.contains(&name) {
            let mut r = fail(msg::UNSUPPORTED);
            r.status = 404;
            return Routed::Reply(r);
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
            log::info!("refused {name}: checksum check failed");
            return Routed::Reply(fail(msg::CHECKSUM));
        }
        let params = query::params(&signed);
        let p = |name: &str| query::get(&params, name).filter(|v| !v.is_empty());
        let reply = |r| Routed::Reply(r);
        let raw = p("getRaw").is_some_and(|r| r.eq_ignore_ascii_case("true"));
        match name {
            "hooks/create" | "subscribeEvent" if raw && self.config.cluster.is_some() => {
                reply(fail(msg::CLUSTER_RAW))
            }
            "hooks/create" => {
                Change::create(p("callbackURL"), p("meetingID"), p("eventID"), raw, false)
            }
            "hooks/destroy" => Change::destroy(p("hookID"), None),
            "hooks/list" => reply(read::list(&self.hooks, &self.status, p("meetingID"))),
            "subscribeEvent" => match p("meetingID") {
                None => reply(fail(msg::NO_MEETING_ID)),
                Some(m) => Change::create(p("callbackURL"), Some(m), p("eventID"), raw, true),
            },
            "unsubscribeEvent" => match (p("meetingID"), p("subscriptionID")) {
                (None, _) => reply(fail(msg::NO_MEETING_ID)),
                (_, None) => reply(fail(msg::NO_SUBSCRIPTION_ID)),
                (Some(m), Some(id)) => Change::destroy(Some(id), Some(m)),
            },
            _ => match p("meetingID") {
                None => reply(fail(msg::NO_MEETING_ID)),
                Some(m) => reply(read::list_subscriptions(&self.hooks, &self.status, m)),
            },
        }
    }
}
