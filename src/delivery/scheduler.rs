//! The scheduler thread: the only one that touches the queues. It moves
//! messages and keeps time: events in from ingest and the API, leases out to
//! idle workers (at most one per hook), results back, retry timers, and every
//! change to the journal. What each event means for a queue is decided by
//! [`Queue`] and the [`retry::Policy`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{never, select, Receiver, Sender};

use super::journal::{self, Journal};
use super::outcome::Failure;
use super::queue::{Pushed, Queue};
use super::retry::{self, Decision};
use super::worker::{Done, Job};
use super::{Input, Item, StatusMap};
use crate::config::Config;
use crate::error::Result;
use crate::hooks::{Hook, Hooks};
use crate::locks;
use crate::metrics::Metrics;
use crate::store::Conn;

/// Most inputs or results handled in one turn before requests are started.
const TURN: usize = 512;
/// Most requests a worker makes for one hook before it takes other work,
/// so a hook with a backlog does not wait for the scheduler between
/// requests, and hooks still take turns.
const LEASE: usize = 16;

/// A hook with something pending.
struct Entry {
    hook: Arc<Hook>,
    queue: Queue,
    /// Ends the current job early when the hook is removed.
    cancel: Arc<AtomicBool>,
    /// In the ready list.
    in_ready: bool,
}

impl Entry {
    fn new(hook: Arc<Hook>, queue: Queue) -> Entry {
        Entry {
            hook,
            queue,
            cancel: Arc::new(AtomicBool::new(false)),
            in_ready: false,
        }
    }
}

pub struct Scheduler {
    config: Arc<Config>,
    hooks: Hooks,
    metrics: Arc<Metrics>,
    status: StatusMap,
    policy: retry::Policy,
    jobs: Sender<Job>,
    entries: HashMap<String, Entry>,
    ready: VecDeque<String>,
    timers: BinaryHeap<Reverse<(Instant, String)>>,
    /// Workers without a job.
    idle_workers: usize,
    journal: Journal,
    /// For loading queues at start and removing failed hooks.
    conn: Conn,
    /// Hooks whose status entry needs refreshing.
    changed: HashSet<String>,
    /// The service is stopping: no new jobs; the workers end theirs after
    /// the current request.
    stopping: Arc<AtomicBool>,
}

impl Scheduler {
    pub fn new(
        config: Arc<Config>,
        hooks: Hooks,
        metrics: Arc<Metrics>,
        status: StatusMap,
        jobs: Sender<Job>,
        stopping: Arc<AtomicBool>,
    ) -> Result<Scheduler> {
        let journal = Journal::start(Conn::new(&config.redis_url)?, metrics.clone())?;
        let conn = Conn::new(&config.redis_url)?;
        Ok(Scheduler {
            idle_workers: config.delivery_workers,
            policy: retry::Policy::from_config(&config),
            config,
            hooks,
            metrics,
            status,
            jobs,
            entries: HashMap::new(),
            ready: VecDeque::new(),
            timers: BinaryHeap::new(),
            journal,
            conn,
            changed: HashSet::new(),
            stopping,
        })
    }

    /// Takes up the events that were pending for each registered hook when
    /// the service last stopped.
    pub fn load_backlog(&mut self) {
        let hooks: Vec<Arc<Hook>> = self.hooks.read().all().cloned().collect();
        let backlog = journal::load_backlog(&mut self.conn, hooks, self.config.max_queue);
        for (hook, items) in backlog {
            let id = hook.id.clone();
            self.entries
                .insert(id.clone(), Entry::new(hook, Queue::with_items(items)));
            self.changed.insert(id.clone());
            self.mark_ready(&id);
        }
        self.publish_status();
    }

    /// Runs until `input` is closed and the jobs out are done (or the
    /// shutdown grace period passed).
    pub fn run(mut self, input: Receiver<Input>, done: Receiver<Done>) {
        let mut input = input;
        let wanted = self.journal.wanted().clone();
        let mut deadline: Option<Instant> = None;
        loop {
            self.dispatch();
            self.journal.commit();
            self.publish_status();
            if let Some(deadline) = deadline {
                if self.busy_workers() == 0 || Instant::now() >= deadline {
                    break;
                }
            }
            let wake = self.next_wake(deadline);
            let timeout = wake.saturating_duration_since(Instant::now());
            select! {
                recv(input) -> msg => match msg {
                    Ok(m) => self.on_input(m),
                    Err(_) => {
                        input = never();
                        self.stopping.store(true, Ordering::Relaxed);
                        deadline = Some(Instant::now() + self.config.request_timeout.min(Duration::from_secs(10)));
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
        let pending: usize = self.entries.values().map(|e| e.queue.len()).sum();
        self.journal.finish();
        if pending > 0 {
            log::info!("{pending} undelivered events stay queued in Redis for the next start");
        }
    }

    fn busy_workers(&self) -> usize {
        self.config.delivery_workers - self.idle_workers
    }

    /// Sends the journal the whole queue of `hook`, which it asked for.
    fn snapshot(&mut self, hook: &str) {
        let items = self.entries.get(hook).map(|e| e.queue.items());
        self.journal.snapshot(hook, items.into_iter().flatten());
    }

    fn next_wake(&self, deadline: Option<Instant>) -> Instant {
        let mut wake = Instant::now() + Duration::from_secs(1);
        if let Some(Reverse((t, _))) = self.timers.peek() {
            wake = wake.min(*t);
        }
        if let Some(d) = deadline {
            wake = wake.min(d);
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
            Input::HookRemoved(id) => self.forget(&id),
        }
    }

    /// Drops a removed hook's queue: its job ends after the request under
    /// way and its journal list goes.
    fn forget(&mut self, id: &str) {
        if let Some(e) = self.entries.remove(id) {
            e.cancel.store(true, Ordering::Relaxed);
            self.journal.remove(id);
        }
        self.changed.insert(id.to_owned());
    }

    fn enqueue(&mut self, hook: Arc<Hook>, item: Item) {
        let id = hook.id.clone();
        if !self.entries.contains_key(&id) {
            // The hook may have been destroyed after ingest matched it.
            if self.hooks.read().get(&id).is_none() {
                return;
            }
            self.entries
                .insert(id.clone(), Entry::new(hook, Queue::default()));
        }
        let Some(e) = self.entries.get_mut(&id) else {
            return;
        };
        self.changed.insert(id.clone());
        match e.queue.push(item.clone(), self.config.max_queue) {
            Pushed::Queued => {
                self.journal.push(&id, &item);
                Metrics::add(&self.metrics.events_queued, 1);
                self.mark_ready(&id);
            }
            Pushed::Dropped { first } => {
                Metrics::add(&self.metrics.events_dropped_queue_full, 1);
                if first {
                    log::error!(
                        "queue of hook {} ({}) is full with {} events; newer events are dropped until it drains",
                        id,
                        e.hook.callback_url,
                        e.queue.len()
                    );
                }
            }
        }
    }

    fn mark_ready(&mut self, id: &str) {
        if let Some(e) = self.entries.get_mut(id) {
            if !e.in_ready && e.queue.is_ready() {
                e.in_ready = true;
                self.ready.push_back(id.to_owned());
            }
        }
    }

    fn dispatch(&mut self) {
        while self.idle_workers > 0 && !self.stopping.load(Ordering::Relaxed) {
            let Some(id) = self.ready.pop_front() else {
                break;
            };
            let Some(e) = self.entries.get_mut(&id) else {
                continue;
            };
            e.in_ready = false;
            // A lease of up to LEASE requests: the worker posts them one
            // after the other without coming back here in between.
            let Some(items) = e.queue.lease(self.config.multi_event * LEASE) else {
                continue;
            };
            let job = Job {
                hook: e.hook.clone(),
                items,
                per_post: self.config.multi_event,
                cancelled: e.cancel.clone(),
            };
            if self.jobs.send(job).is_err() {
                return;
            }
            self.idle_workers -= 1;
        }
    }

    fn on_done(&mut self, done: Done) {
        if done.last {
            self.idle_workers += 1;
        }
        let id = done.hook_id;
        let Some(e) = self.entries.get_mut(&id) else {
            return;
        };
        self.changed.insert(id.clone());
        match done.result {
            Ok(()) => {
                let acked = e.queue.ack(done.count, self.config.max_queue);
                if done.last {
                    e.queue.end_lease();
                }
                self.journal.ack(&id, acked.delivered);
                Metrics::add(&self.metrics.deliveries_succeeded, done.requests as u64);
                Metrics::add(&self.metrics.events_delivered, acked.delivered as u64);
                if acked.recovered_after > 0 {
                    log::info!(
                        "callback to {} works again after {} failed attempts",
                        e.hook.callback_url,
                        acked.recovered_after
                    );
                }
                if e.queue.is_idle() {
                    self.entries.remove(&id);
                } else {
                    self.mark_ready(&id);
                }
            }
            Err(f) => self.on_failure(&id, f),
        }
    }

    fn on_failure(&mut self, id: &str, f: Failure) {
        Metrics::add(&self.metrics.deliveries_failed, 1);
        let Some(e) = self.entries.get_mut(id) else {
            return;
        };
        let (decision, at) = e
            .queue
            .fail(&f, &self.policy, e.hook.permanent, Instant::now());
        let (level, line) =
            self.policy
                .notice(&decision, &e.hook, &f, e.queue.failures(), e.queue.len());
        log::log!(level, "{line}");
        if let Decision::GiveUp(_) = decision {
            self.remove_hook(id);
            return;
        }
        Metrics::add(&self.metrics.deliveries_retried, 1);
        if let Some(at) = at {
            self.timers.push(Reverse((at, id.to_owned())));
        }
    }

    /// Gives a hook up: removes it through the registry (Redis, then
    /// memory), then drops its queue. If Redis refuses, the hook stays and
    /// is retried on its schedule; the next failure tries again.
    fn remove_hook(&mut self, id: &str) {
        match self.hooks.remove(&mut self.conn, id) {
            Ok(removed) => {
                self.forget(id);
                if removed.is_some() {
                    Metrics::add(&self.metrics.hooks_removed_on_failure, 1);
                }
            }
            Err(err) => {
                log::error!("cannot remove hook {id} from Redis, keeping it for now: {err}");
                let wait = self.policy.intervals.last().copied().unwrap_or_default();
                let at = Instant::now() + wait;
                if let Some(e) = self.entries.get_mut(id) {
                    e.queue.defer(at);
                    self.timers.push(Reverse((at, id.to_owned())));
                }
            }
        }
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
            if let Some(e) = self.entries.get_mut(&id) {
                if e.queue.retry_due(at) {
                    self.mark_ready(&id);
                }
            }
        }
    }

    fn publish_status(&mut self) {
        if self.changed.is_empty() {
            return;
        }
        let attempts = self.policy.attempts();
        let mut status = locks::lock(&self.status);
        for id in self.changed.drain() {
            match self.entries.get(&id) {
                Some(e) => {
                    status.insert(id, e.queue.status(attempts));
                }
                None => {
                    status.remove(&id);
                }
            }
        }
    }
}
