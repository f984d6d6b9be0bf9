//! Ingest: one thread subscribed to BBB's Redis channels. Each message is
//! parsed, mapped (a pure function of message and state), routed to the hooks
//! that take it ([`route`]), with xAPI on turned into statements ([`xapi`]),
//! and handed to delivery, one message at a time, so events keep their order.
//! When Redis goes away it retries with backoff, logging once per outage, and
//! subscribes again. It does not send anything itself.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use serde_json::Value;

use crate::clock::now_ms;
use crate::config::Config;
use crate::delivery::{Batch, Event, Input};
use crate::hooks::route::{self, Payload, Policy};
use crate::hooks::Hooks;
use crate::mapping::{self, Change, State};
use crate::metrics::Metrics;
use crate::store::Conn;
use batch::EventIds;

pub(crate) mod batch;
mod outage;
pub mod xapi;

/// How often a blocked read wakes up to check for shutdown.
const POLL: Duration = Duration::from_millis(250);
/// Backoff between reconnection attempts, doubling up to the maximum.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Most "skipped message" warnings per minute; the rest go to debug.
const WARNINGS_PER_MINUTE: u32 = 10;
/// How often expired meeting mappings are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The ingest thread's parts.
pub struct Ingest {
    pub config: Arc<Config>,
    pub hooks: Hooks,
    pub metrics: Arc<Metrics>,
    pub delivery: Sender<Input>,
    /// Closing (or sending on) this channel stops the thread.
    pub stop: Receiver<()>,
    pub state: State,
    policy: Policy,
    /// Writes the mapping and xAPI state.
    io: Io,
    ids: EventIds,
    /// What Redis said of itself when the subscription was made.
    server: Option<outage::ServerInfo>,
    /// When the subscription was lost, while it is.
    lost: Option<Instant>,
    last_sweep: Instant,
    /// The xAPI output, when it is on.
    xapi: Option<xapi::Xapi>,
}

impl Ingest {
    pub fn new(
        config: Arc<Config>,
        hooks: Hooks,
        metrics: Arc<Metrics>,
        delivery: Sender<Input>,
        stop: Receiver<()>,
        state: State,
        conn: Conn,
    ) -> Ingest {
        Ingest {
            policy: Policy::from_config(&config),
            io: Io {
                conn,
                metrics: metrics.clone(),
                warnings: RateLimit::default(),
            },
            config,
            hooks,
            metrics,
            delivery,
            stop,
            state,
            ids: EventIds::new(""),
            server: None,
            lost: None,
            last_sweep: Instant::now(),
            xapi: None,
        }
    }

    /// Feeds every mapped event to the xAPI output too, when it is on.
    pub fn with_xapi(mut self, xapi: Option<xapi::Xapi>) -> Ingest {
        self.xapi = xapi;
        self
    }

    /// Subscribes and handles messages until told to stop.
    pub fn run(mut self) {
        let client = match redis::Client::open(self.config.redis_url.expose()) {
            Ok(c) => c,
            Err(e) => {
                log::error!("ingest cannot use the Redis URL: {e}");
                return;
            }
        };
        let mut backoff = BACKOFF_MIN;
        loop {
            match self.subscribe_and_read(&client) {
                Ok(Stop) => return,
                Err(e) => {
                    self.metrics
                        .redis_subscribed
                        .store(false, Ordering::Relaxed);
                    if self.lost.is_none() {
                        log::warn!("Redis subscription lost ({e}); retrying until it is back");
                        self.lost = Some(Instant::now());
                        backoff = BACKOFF_MIN;
                    } else {
                        log::debug!("Redis still unavailable: {e}");
                    }
                }
            }
            match self.stop.recv_timeout(backoff) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => return,
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    fn subscribe_and_read(&mut self, client: &redis::Client) -> redis::RedisResult<Stop> {
        let mut conn = crate::store::open(client)?;
        let info = redis::cmd("INFO")
            .query::<String>(&mut conn)
            .ok()
            .and_then(|text| outage::parse_info(&text));
        let mut pubsub = conn.as_pubsub();
        for channel in &self.config.channels {
            pubsub.subscribe(channel)?;
        }
        pubsub.set_read_timeout(Some(POLL))?;
        if let Some(lost) = self.lost.take() {
            let cause = outage::cause(self.server.as_ref(), info.as_ref());
            let down = lost.elapsed();
            let counter = match cause {
                outage::Cause::BufferLimit | outage::Cause::ClosedByServer => {
                    &self.metrics.redis_resubscribed_fell_behind
                }
                _ => &self.metrics.redis_resubscribed_other,
            };
            Metrics::add(counter, 1);
            Metrics::add(
                &self.metrics.redis_unsubscribed_ms,
                u64::try_from(down.as_millis()).unwrap_or(u64::MAX),
            );
            log::warn!(
                "Redis subscription is back after {:.1} s without it; it was lost because {}",
                down.as_secs_f64(),
                cause.explain()
            );
        } else {
            log::info!(
                "subscribed to {} Redis channels",
                self.config.channels.len()
            );
        }
        self.server = info;
        self.metrics.redis_subscribed.store(true, Ordering::Relaxed);
        loop {
            if self.stopped() {
                return Ok(Stop);
            }
            if self.last_sweep.elapsed() >= SWEEP_EVERY {
                self.sweep();
            }
            match pubsub.get_message() {
                Ok(msg) => self.handle(msg.get_channel_name(), msg.get_payload_bytes()),
                Err(e) if e.is_timeout() => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn stopped(&self) -> bool {
        !matches!(
            self.stop.try_recv(),
            Err(crossbeam_channel::TryRecvError::Empty)
        )
    }

    /// Handles one message: parse, map, match, queue.
    pub fn handle(&mut self, channel: &str, payload: &[u8]) {
        Metrics::add(&self.metrics.messages_received, 1);
        let msg: Value = match serde_json::from_slice(payload) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return self.skip(channel, "not a JSON object"),
            Err(e) => return self.skip(channel, &format!("not JSON ({e})")),
        };
        let now = now_ms();
        let out = mapping::map(&msg, &self.state, now);
        self.change_state(&out.changes);
        if out.events.is_empty() {
            Metrics::add(&self.metrics.messages_unmapped, 1);
            log::debug!("no event for a message on {channel}");
            return;
        }
        Metrics::add(&self.metrics.events_mapped, out.events.len() as u64);
        let mut batch = self.deliveries(&msg, &out.events);
        if let Some(x) = &mut self.xapi {
            let ids = &self.ids;
            batch.extend(x.statements(&mut self.io, &out.events, now, &mut || ids.next()));
        }
        if batch.is_empty() {
            return;
        }
        if self.delivery.send(Input::Events(batch)).is_err() {
            log::error!("delivery has stopped; an event was not queued");
        }
    }

    /// The events of one message, each with the hooks that take it, each
    /// payload encoded once however many hooks share it.
    fn deliveries(&self, msg: &Value, events: &[mapping::Mapped]) -> Batch {
        let refs: Vec<route::Event<'_>> = events
            .iter()
            .map(|e| route::Event {
                id: &e.id,
                internal_meeting_id: e.internal_meeting_id.as_deref(),
                external_meeting_id: e.external_meeting_id.as_deref(),
            })
            .collect();
        let item = |payload| {
            let json = match payload {
                Payload::Mapped(i) => events.get(i)?.json.to_string(),
                Payload::Raw => msg.to_string(),
            };
            Some(Event::new(self.ids.next(), json))
        };
        batch::batch(&self.hooks, &self.policy, &self.metrics, &refs, item)
    }

    /// Writes state changes to Redis, then applies them in memory. When Redis
    /// refuses, memory still changes (events keep flowing) and the failure is
    /// logged: the mapping survives a restart only once Redis takes writes.
    fn change_state(&mut self, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        let persist = crate::store::mapping::persist;
        let apply = |change: &Change| self.state.apply(change);
        self.io
            .save("meeting and user mappings", changes, persist, apply);
        self.publish_state_size();
    }

    /// Copies the mapping state's sizes into the metrics; the state itself
    /// stays owned by this thread.
    pub fn publish_state_size(&self) {
        Metrics::set(&self.metrics.meetings, self.state.meeting_count() as u64);
        Metrics::set(&self.metrics.users, self.state.user_count() as u64);
    }

    /// Forgets meetings without events for longer than the configured TTL.
    fn sweep(&mut self) {
        self.last_sweep = Instant::now();
        let ttl = self.config.meeting_ttl.as_millis() as u64;
        let now = now_ms();
        let changes = self.state.expired(now, ttl);
        if !changes.is_empty() {
            log::info!(
                "forgetting {} inactive meeting or user mappings",
                changes.len()
            );
            self.change_state(&changes);
        }
        if let Some(x) = &mut self.xapi {
            x.sweep(&mut self.io, now, ttl);
        }
    }

    fn skip(&mut self, channel: &str, why: &str) {
        Metrics::add(&self.metrics.messages_malformed, 1);
        if self.io.warnings.allow() {
            log::warn!("skipping a message on {channel}: {why}");
        } else {
            log::debug!("skipping a message on {channel}: {why}");
        }
    }
}

/// Returned when the thread was told to stop.
struct Stop;

/// What the thread writes its state with: the connection, the metrics that
/// count refused writes, and the rate limit of its warnings.
struct Io {
    conn: Conn,
    metrics: Arc<Metrics>,
    warnings: RateLimit,
}

impl Io {
    /// Persists `changes` with `persist`, then applies each. When Redis
    /// refuses, memory still changes (events keep flowing) and the failure
    /// is counted and logged, a few times a minute: the state survives a
    /// restart only once Redis takes writes. `what` names it in the log.
    fn save<C>(
        &mut self,
        what: &str,
        changes: &[C],
        persist: fn(&mut redis::Connection, &[C]) -> redis::RedisResult<()>,
        apply: impl FnMut(&C),
    ) {
        if let Err(e) = self.conn.run(|c| persist(c, changes)) {
            Metrics::add(&self.metrics.state_write_errors, 1);
            if self.warnings.allow() {
                log::warn!("cannot save {what} to Redis: {e}");
            }
        }
        changes.iter().for_each(apply);
    }
}

/// Allows a few log lines per minute.
#[derive(Default)]
struct RateLimit {
    window: Option<Instant>,
    count: u32,
}

impl RateLimit {
    fn allow(&mut self) -> bool {
        let now = Instant::now();
        match self.window {
            Some(w) if now.duration_since(w) < Duration::from_secs(60) => {}
            _ => {
                self.window = Some(now);
                self.count = 0;
            }
        }
        self.count += 1;
        self.count <= WARNINGS_PER_MINUTE
    }
}
