//! The relay endpoint in the running service: a POST to `<relay path>/<id>`
//! is taken apart by [`relay::receive`] against the shared pool, its events
//! go to the cluster hooks [`route`] picks (by event id and internal or
//! external meeting id), queued durably with the server's `domain` and
//! their JSON text as sent, and the POST is answered 200 only once the
//! journal has written them to Redis: 503 otherwise, so the server sends
//! them again. A server sends one POST at a time per hook and waits for
//! the answer, so its events stay in order. Refusals are answered 401,
//! counted, and logged at most once a minute.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Sender};

use super::refusal::RefusalLog;
use super::relay::{self, RelayError, RelayUrl, Relayed};
use super::stats::Trouble;
use super::SharedPool;
use crate::delivery::{Batch, Event, Input};
use crate::hooks::route::{self, Payload, Policy};
use crate::hooks::Hooks;
use crate::http::{Request, Response};
use crate::ingest::batch::{batch, EventIds};
use crate::locks;
use crate::metrics::Metrics;

/// How long a relay POST waits for its events to be written to Redis: under
/// the 5 s a webhooks service gives a callback by default, so the server
/// hears 503 rather than a timeout.
pub const JOURNAL_WAIT: Duration = Duration::from_secs(4);

/// At most one log line per this, for refusals and for other troubles.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// The relay endpoint's parts.
pub struct Receiver {
    pub relay: RelayUrl,
    pub pool: SharedPool,
    pub hooks: Hooks,
    pub policy: Policy,
    pub delivery: Sender<Input>,
    pub metrics: Arc<Metrics>,
    pub max_body: usize,
    refusals: Mutex<RefusalLog>,
    troubles: Mutex<RefusalLog>,
    ids: EventIds,
}

impl Receiver {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        relay: RelayUrl,
        pool: SharedPool,
        hooks: Hooks,
        policy: Policy,
        delivery: Sender<Input>,
        metrics: Arc<Metrics>,
        max_body: usize,
    ) -> Receiver {
        Receiver {
            relay,
            pool,
            hooks,
            policy,
            delivery,
            metrics,
            max_body,
            refusals: Mutex::new(RefusalLog::new(LOG_EVERY)),
            troubles: Mutex::new(RefusalLog::new(LOG_EVERY)),
            ids: EventIds::new("r"),
        }
    }

    /// Whether `target` is for the relay (`<relay path>/<id>`).
    pub fn handles(&self, target: &str) -> bool {
        let path = target.split('?').next().unwrap_or(target);
        self.relay.server_id(path).is_some()
    }

    /// Answers one relay request.
    pub fn answer(&self, req: &Request) -> Response {
        let path = req.target.split('?').next().unwrap_or(&req.target);
        let id = self.relay.server_id(path).unwrap_or("").to_owned();
        // The lock is held only to take the Arc, not while the body is read.
        let pool = locks::read(&self.pool).clone();
        let Some(pool) = pool else {
            return self.unavailable(None, "the pool has not been read yet");
        };
        match relay::receive(req, &self.relay, &pool, self.max_body) {
            Ok(r) => self.take(r),
            Err(RelayError::Refused(why)) => {
                self.metrics.cluster.refused(&id, &why);
                if let Some(others) = locks::lock(&self.refusals).admit(Instant::now()) {
                    log::warn!("refused a relay POST: {why}{}", also(others));
                }
                text(401, "refused\n")
            }
            Err(e @ (RelayError::Malformed(_) | RelayError::TooLarge(_))) => {
                let t = match e {
                    RelayError::TooLarge(_) => Trouble::TooLarge,
                    _ => Trouble::Malformed,
                };
                self.metrics.cluster.trouble(&id, t);
                let what = match &e {
                    RelayError::Malformed(m) => m.to_string(),
                    _ => format!("a body over {} bytes", self.max_body),
                };
                self.trouble(&format!("a relay POST from {id} was not taken: {what}"));
                text(e.status(), "not a callback\n")
            }
            Err(e @ RelayError::Method) => {
                let mut r = text(e.status(), "POST only\n");
                r.headers.push(("Allow", "POST".to_owned()));
                r
            }
            Err(e @ RelayError::NotFound) => text(e.status(), "not found\n"),
        }
    }

    /// Queues a proven POST's events and answers once they are in Redis.
    fn take(&self, r: Relayed) -> Response {
        let batch = self.batch(&r);
        let n = r.body.events.len();
        if batch.is_empty() {
            self.metrics.cluster.taken(&r.server_id, n);
            log::debug!(
                "relay from {}: {n} events, no cluster hook takes them",
                r.server_id
            );
            return text(200, "ok\n");
        }
        let deadline = Instant::now() + JOURNAL_WAIT;
        let (tx, rx) = bounded(1);
        let written = self
            .delivery
            .send_deadline(Input::Durable(batch, tx), deadline)
            .is_ok()
            && rx.recv_deadline(deadline) == Ok(true);
        if !written {
            let why = "its events could not be written to Redis in time";
            return self.unavailable(Some(&r.server_id), why);
        }
        self.metrics.cluster.taken(&r.server_id, n);
        log::debug!("relay from {}: {n} events queued", r.server_id);
        text(200, "ok\n")
    }

    /// The POST's events, each with the hooks that take it. An event
    /// without a `data.id` goes to none; raw hooks get nothing (cluster
    /// mode relays mapped events only).
    fn batch(&self, r: &Relayed) -> Batch {
        let refs: Vec<route::Event<'_>> = r
            .body
            .events
            .iter()
            .map(|e| {
                let data = &e.value["data"];
                let meeting = &data["attributes"]["meeting"];
                route::Event {
                    id: data["id"].as_str().unwrap_or(""),
                    internal_meeting_id: meeting["internal-meeting-id"].as_str(),
                    external_meeting_id: meeting["external-meeting-id"].as_str(),
                }
            })
            .collect();
        let domain: Arc<str> = r.body.domain.as_str().into();
        let item = |payload| {
            let Payload::Mapped(i) = payload else {
                return None;
            };
            let ev = r.body.events.get(i)?;
            if refs.get(i)?.id.is_empty() {
                return None;
            }
            let id = self.ids.next();
            Some(Event::from_domain(
                id,
                ev.json.as_str(),
                Some(domain.clone()),
            ))
        };
        batch(&self.hooks, &self.policy, &self.metrics, &refs, item)
    }

    /// A 503; `id`: the pool server it is from, when it is known.
    fn unavailable(&self, id: Option<&str>, why: &str) -> Response {
        if let Some(id) = id {
            self.metrics.cluster.trouble(id, Trouble::Unavailable);
        }
        let from = id.map_or(String::new(), |id| format!(" from {id}"));
        self.trouble(&format!(
            "answered a relay POST{from} with 503 ({why}); the server sends it again"
        ));
        text(503, "try again\n")
    }

    fn trouble(&self, line: &str) {
        if let Some(others) = locks::lock(&self.troubles).admit(Instant::now()) {
            log::warn!("{line}{}", also(others));
        }
    }
}

/// ` (N more since the last such line)`, or nothing for none.
fn also(others: u64) -> String {
    match others {
        0 => String::new(),
        n => format!(" ({n} more since the last such line)"),
    }
}

fn text(status: u16, body: &str) -> Response {
    Response::new(status, "text/plain; charset=utf-8", body)
}
