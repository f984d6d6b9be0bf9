//! The scheduler thread: owns every hook's queue, hands the head of each
//! ready queue to an idle worker, keeps at most one request in flight per
//! hook, waits for retries on timers (holding no thread), and journals every
//! change to Redis. The only thread that touches the queues.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{never, select, Receiver, Sender};

use super::journal::{self, Journal};
use super::worker::{Done, Failure, Job};
use super::{HookStatus, Input, Item, StatusMap};
use crate::config::Config;
use crate::error::Result;
use crate::hooks::{self, Hook, SharedRegistry};
use crate::metrics::Metrics;
use crate::store::Conn;

/// Most inputs or results handled in one turn before requests are started.
const TURN: usize = 512;
/// Most requests a worker makes for one hook before it takes other work,
/// so a hook with a backlog does not wait for the scheduler between
/// requests, and hooks still take turns.
const LEASE: usize = 16;
/// A hook failing past its retry schedule is logged at error once, then once
/// every this many attempts.
const FAILING_LOG_EVERY: usize = 60;

struct Queue {
    hook: Arc<Hook>,
    items: VecDeque<Item>,
    /// Ends the current job early when the hook is removed.
    cancel: Arc<AtomicBool>,
    /// Events at the head that are in flight (0: none).
    in_flight: usize,
    /// Consecutive failed attempts.
    failures: usize,
    retry_at: Option<Instant>,
    in_ready: bool,
    last_error: Option<String>,
    dropped: u64,
    /// The queue hit its cap and has not drained since (for logging once).
    overflowing: bool,
}

impl Queue {
    fn new(hook: Arc<Hook>) -> Queue {
        Queue {
            hook,
            items: VecDeque::new(),
            cancel: Arc::new(AtomicBool::new(false)),
            in_flight: 0,
            failures: 0,
            retry_at: None,
            in_ready: false,
            last_error: None,
            dropped: 0,
            overflowing: false,
        }
    }

    /// Can be handed to a worker now.
    fn is_ready(&self) -> bool {
        self.in_flight == 0 && self.retry_at.is_none() && !self.items.is_empty()
    }
}

pub struct Scheduler {
    config: Arc<Config>,
    registry: SharedRegistry,
    metrics: Arc<Metrics>,
    status: StatusMap,
    jobs: Sender<Job>,
    queues: HashMap<String, Queue>,
    ready: VecDeque<String>,
    timers: BinaryHeap<Reverse<(Instant, String)>>,
    idle: usize,
    in_flight: usize,
    journal: Journal,
    /// For loading queues at start and removing failed hooks.
    conn: Conn,
    /// Hooks whose status entry needs refreshing.
    changed: HashSet<String>,
    /// Shutting down: no new requests are started.
    closing: bool,
    /// Tells the workers to end their jobs after the current request.
    stop_workers: Arc<AtomicBool>,
}

impl Scheduler {
    pub fn new(
        config: Arc<Config>,
        registry: SharedRegistry,
        metrics: Arc<Metrics>,
        status: StatusMap,
        jobs: Sender<Job>,
        stop_workers: Arc<AtomicBool>,
    ) -> Result<Scheduler> {
        let journal = Journal::start(Conn::new(&config.redis_url)?, metrics.clone())?;
        let conn = Conn::new(&config.redis_url)?;
        Ok(Scheduler {
            idle: config.delivery_workers,
            config,
            registry,
            metrics,
            status,
            jobs,
            queues: HashMap::new(),
            ready: VecDeque::new(),
            timers: BinaryHeap::new(),
            in_flight: 0,
            journal,
            conn,
            changed: HashSet::new(),
            closing: false,
            stop_workers,
        })
    }

    /// Loads the events that were pending for each registered hook when the
    /// service last stopped.
    pub fn load_backlog(&mut self) {
        let hooks: Vec<Arc<Hook>> = match self.registry.read() {
            Ok(r) => r.all().cloned().collect(),
            Err(_) => return,
        };
        let mut total = 0;
        for hook in hooks {
            match journal::load(&mut self.conn, &hook.id, self.config.max_queue) {
                Ok((items, bad)) => {
                    if bad > 0 {
                        log::warn!("skipped {bad} unreadable queued events of hook {}", hook.id);
                    }
                    if items.is_empty() {
                        continue;
                    }
                    total += items.len();
                    let id = hook.id.clone();
                    let q = self
                        .queues
                        .entry(id.clone())
                        .or_insert_with(|| Queue::new(hook));
                    q.items.extend(items);
                    self.mark_ready(&id);
                }
                Err(e) => log::warn!("cannot load queued events of hook {}: {e}", hook.id),
            }
        }
        if total > 0 {
            log::info!("resuming delivery of {total} queued events");
        }
        self.publish_status();
    }

    /// Runs until `input` is closed and the requests in flight are done (or
    /// the shutdown grace period passed).
    pub fn run(mut self, input: Receiver<Input>, done: Receiver<Done>) {
        let mut input = input;
        let wanted = self.journal.wanted().clone();
        let mut closing: Option<Instant> = None;
        loop {
            self.dispatch();
            self.journal.commit();
            self.publish_status();
            if let Some(deadline) = closing {
                if self.in_flight == 0 || Instant::now() >= deadline {
                    break;
                }
            }
            let wake = self.next_wake(closing);
            let timeout = wake.saturating_duration_since(Instant::now());
            select! {
                recv(input) -> msg => match msg {
                    Ok(m) => self.on_input(m),
                    Err(_) => {
                        input = never();
                        self.closing = true;
                        self.stop_workers.store(true, Ordering::Relaxed);
                        closing = Some(Instant::now() + self.config.request_timeout.min(Duration::from_secs(10)));
                    }
                },
                recv(done) -> d => if let Ok(d) = d { self.on_done(d) },
                recv(wanted) -> h => if let Ok(h) = h { self.snapshot(&h) },
                default(timeout) => {}
            }
            for _ in 0..TURN {
                match done.try_recv() {
                    Ok(d) => self.on_done(d),
                    Err(_) => break,
                }
            }
            for _ in 0..TURN {
                match input.try_recv() {
                    Ok(m) => self.on_input(m),
                    Err(_) => break,
                }
            }
            self.fire_timers();
        }
        let pending: usize = self.queues.values().map(|q| q.items.len()).sum();
        self.journal.finish();
        if pending > 0 {
            log::info!("{pending} undelivered events stay queued in Redis for the next start");
        }
    }

    /// Sends the journal the whole queue of `hook`, which it asked for.
    fn snapshot(&mut self, hook: &str) {
        let items = self.queues.get(hook).map(|q| q.items.iter());
        self.journal.snapshot(hook, items.into_iter().flatten());
    }

    fn next_wake(&self, closing: Option<Instant>) -> Instant {
        let mut wake = Instant::now() + Duration::from_secs(1);
        if let Some(Reverse((t, _))) = self.timers.peek() {
            wake = wake.min(*t);
        }
        if let Some(c) = closing {
            wake = wake.min(c);
        }
        wake
    }

    fn on_input(&mut self, input: Input) {
        match input {
            Input::Events(events) => {
                for (hook, item) in events {
                    self.enqueue(hook, item);
                }
            }
            Input::HookRemoved(id) => {
                if let Some(q) = self.queues.remove(&id) {
                    q.cancel.store(true, Ordering::Relaxed);
                    self.journal.remove(&id);
                }
                self.changed.insert(id);
            }
        }
    }

    fn enqueue(&mut self, hook: Arc<Hook>, item: Item) {
        let id = hook.id.clone();
        if !self.queues.contains_key(&id) {
            // The hook may have been destroyed after ingest matched it.
            let registered = self
                .registry
                .read()
                .map(|r| r.get(&id).is_some())
                .unwrap_or(false);
            if !registered {
                return;
            }
            self.queues.insert(id.clone(), Queue::new(hook));
        }
        let Some(q) = self.queues.get_mut(&id) else {
            return;
        };
        if q.items.len() >= self.config.max_queue {
            q.dropped += 1;
            Metrics::add(&self.metrics.events_dropped_queue_full, 1);
            if !q.overflowing {
                q.overflowing = true;
                log::error!(
                    "queue of hook {} ({}) is full with {} events; newer events are dropped until it drains",
                    id,
                    q.hook.callback_url,
                    q.items.len()
                );
            }
            self.changed.insert(id);
            return;
        }
        self.journal.push(&id, &item);
        q.items.push_back(item);
        Metrics::add(&self.metrics.events_queued, 1);
        self.changed.insert(id.clone());
        self.mark_ready(&id);
    }

    fn mark_ready(&mut self, id: &str) {
        if let Some(q) = self.queues.get_mut(id) {
            if !q.in_ready && q.is_ready() {
                q.in_ready = true;
                self.ready.push_back(id.to_owned());
            }
        }
    }

    fn dispatch(&mut self) {
        while self.idle > 0 && !self.closing {
            let Some(id) = self.ready.pop_front() else {
                break;
            };
            let Some(q) = self.queues.get_mut(&id) else {
                continue;
            };
            q.in_ready = false;
            if !q.is_ready() {
                continue;
            }
            // A lease of up to LEASE requests: the worker posts them one
            // after the other without coming back here in between.
            let n = q.items.len().min(self.config.multi_event * LEASE);
            let items: Vec<Item> = q.items.iter().take(n).cloned().collect();
            let job = Job {
                hook: q.hook.clone(),
                items,
                per_post: self.config.multi_event,
                cancelled: q.cancel.clone(),
            };
            if self.jobs.send(job).is_err() {
                return;
            }
            q.in_flight = n;
            self.idle -= 1;
            self.in_flight += 1;
        }
    }

    fn on_done(&mut self, done: Done) {
        if done.last {
            self.idle += 1;
            self.in_flight -= 1;
        }
        let id = done.hook_id;
        let Some(q) = self.queues.get_mut(&id) else {
            return;
        };
        q.in_flight = if done.last {
            0
        } else {
            q.in_flight.saturating_sub(done.count)
        };
        self.changed.insert(id.clone());
        match done.result {
            Ok(()) => {
                let n = done.count.min(q.items.len());
                q.items.drain(..n);
                self.journal.ack(&id, n);
                Metrics::add(&self.metrics.deliveries_succeeded, done.requests as u64);
                Metrics::add(&self.metrics.events_delivered, n as u64);
                if q.failures > 0 {
                    log::info!(
                        "callback to {} works again after {} failed attempts",
                        q.hook.callback_url,
                        q.failures
                    );
                }
                q.failures = 0;
                q.last_error = None;
                if q.items.len() < self.config.max_queue / 2 {
                    q.overflowing = false;
                }
                if q.items.is_empty() && q.in_flight == 0 {
                    self.queues.remove(&id);
                } else {
                    self.mark_ready(&id);
                }
            }
            Err(f) => self.on_failure(&id, f),
        }
    }

    fn on_failure(&mut self, id: &str, f: Failure) {
        Metrics::add(&self.metrics.deliveries_failed, 1);
        let intervals = &self.config.retry_intervals;
        let Some(q) = self.queues.get_mut(id) else {
            return;
        };
        q.failures += 1;
        q.last_error = Some(f.message.clone());
        let exhausted = q.failures > intervals.len();
        let permanent = q.hook.permanent;
        if !permanent && (f.gone || (exhausted && self.config.remove_failed_hooks)) {
            let why = if f.gone {
                "the endpoint answered 410 Gone".to_owned()
            } else {
                format!(
                    "{} attempts failed, the last with: {}",
                    q.failures, f.message
                )
            };
            let url = q.hook.callback_url.clone();
            log::error!("removing hook {id} ({url}): {why}");
            self.remove_hook(id);
            return;
        }
        Metrics::add(&self.metrics.deliveries_retried, 1);
        let interval = intervals[(q.failures - 1).min(intervals.len() - 1)];
        let wait = f.retry_after.map_or(interval, |r| r.max(interval));
        let at = Instant::now() + wait;
        q.retry_at = Some(at);
        if exhausted && !(q.failures - intervals.len() - 1).is_multiple_of(FAILING_LOG_EVERY) {
            log::debug!(
                "callback to {} still failing ({}), attempt {}",
                q.hook.callback_url,
                f.message,
                q.failures
            );
        } else if exhausted {
            // Once when the schedule runs out, then every FAILING_LOG_EVERY attempts.
            log::error!(
                "callback to {} still failing after {} attempts ({}); retrying every {} ms, {} events pending",
                q.hook.callback_url,
                q.failures,
                f.message,
                wait.as_millis(),
                q.items.len()
            );
        } else {
            log::warn!(
                "callback to {} failed ({}); attempt {} of {}, next in {} ms",
                q.hook.callback_url,
                f.message,
                q.failures,
                intervals.len() + 1,
                wait.as_millis()
            );
        }
        self.timers.push(Reverse((at, id.to_owned())));
    }

    fn remove_hook(&mut self, id: &str) {
        if let Ok(mut r) = self.registry.write() {
            r.remove(id);
        }
        if let Err(e) = self.conn.run(|c| hooks::delete(c, id)) {
            log::error!("cannot delete hook {id} from Redis (it returns at the next start): {e}");
        }
        if let Some(q) = self.queues.remove(id) {
            q.cancel.store(true, Ordering::Relaxed);
        }
        self.journal.remove(id);
        self.changed.insert(id.to_owned());
        Metrics::add(&self.metrics.hooks_removed_on_failure, 1);
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((at, _))) = self.timers.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, id))) = self.timers.pop() else {
                break;
            };
            if let Some(q) = self.queues.get_mut(&id) {
                if q.retry_at == Some(at) {
                    q.retry_at = None;
                    self.mark_ready(&id);
                }
            }
        }
    }

    fn publish_status(&mut self) {
        if self.changed.is_empty() {
            return;
        }
        let retries = self.config.retry_intervals.len();
        let Ok(mut status) = self.status.lock() else {
            return;
        };
        for id in self.changed.drain() {
            match self.queues.get(&id) {
                Some(q) => {
                    status.insert(
                        id,
                        HookStatus {
                            pending: q.items.len(),
                            failing: q.failures > retries,
                            failures: q.failures,
                            last_error: q.last_error.clone(),
                            dropped: q.dropped,
                        },
                    );
                }
                None => {
                    status.remove(&id);
                }
            }
        }
    }
}
