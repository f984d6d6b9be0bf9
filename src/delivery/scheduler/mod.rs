//! The scheduler thread: the only one that touches the queues. It moves
//! messages and keeps time: events in from ingest and the API ([`intake`]),
//! leases out to idle workers (at most one per hook), results back, retry
//! timers, and every change to the journal. What each event means for a
//! queue is decided by [`Queue`], the [`retry::Policy`] and the [`Ledger`].

mod intake;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{never, select, Receiver, Sender};

use super::journal::Journal;
use super::ledger::Ledger;
use super::outcome::Failure;
use super::queue::Queue;
use super::retry::{self, Decision};
use super::stall::{self, Stall};
use super::worker::{Done, Job};
use super::{Input, StatusMap};
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

/// How long a stop may take when no deadline was given (the input closed).
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Of a stop's time, what is kept for the journal's last write.
const JOURNAL_RESERVE: Duration = Duration::from_secs(2);

/// A hook with something pending.
struct Entry {
    /// The hook's id, shared with the journal's records.
    id: Arc<str>,
    hook: Arc<Hook>,
    queue: Queue,
    /// Ends the current job early when the hook is removed.
    cancel: Arc<AtomicBool>,
    /// In the ready list.
    in_ready: bool,
    /// Whether its requests stall on kept-alive connections.
    stall: Stall,
}

impl Entry {
    fn new(hook: Arc<Hook>, queue: Queue) -> Entry {
        Entry {
            id: hook.id.as_str().into(),
            hook,
            queue,
            cancel: Arc::new(AtomicBool::new(false)),
            in_ready: false,
            stall: Stall::default(),
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
    entries: HashMap<Arc<str>, Entry>,
    ready: VecDeque<Arc<str>>,
    timers: BinaryHeap<Reverse<(Instant, Arc<str>)>>,
    /// What the queues hold together, against the memory bound.
    ledger: Ledger,
    /// The memory bound was hit and the queues have not drained below half
    /// of it since (for logging once).
    memory_full: bool,
    /// Workers without a job.
    idle_workers: usize,
    journal: Journal,
    /// For loading queues at start and removing failed hooks.
    conn: Conn,
    /// Hooks whose status entry needs refreshing.
    changed: HashSet<Arc<str>>,
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
        ledger: Ledger,
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
            ledger,
            memory_full: false,
            journal,
            conn,
            changed: HashSet::new(),
            stopping,
        })
    }

    /// Runs until told to stop (on `stop`, with the deadline of the whole
    /// stop) or `input` is closed, then until the jobs out are done or the
    /// grace period passed.
    pub fn run(mut self, input: Receiver<Input>, done: Receiver<Done>, stop: Receiver<Instant>) {
        let mut input = input;
        let mut stop = stop;
        let wanted = self.journal.wanted().clone();
        // While stopping: when to stop waiting for requests in flight, and
        // when the journal's last write must be done.
        let mut deadline: Option<(Instant, Instant)> = None;
        loop {
            self.dispatch();
            self.journal.commit();
            self.publish_status();
            if let Some((grace, _)) = deadline {
                if self.busy_workers() == 0 || Instant::now() >= grace {
                    break;
                }
            }
            let wake = self.next_wake(deadline.map(|(grace, _)| grace));
            let timeout = wake.saturating_duration_since(Instant::now());
            select! {
                recv(input) -> msg => match msg {
                    Ok(m) => self.on_input(m),
                    Err(_) => {
                        input = never();
                        deadline = deadline.or_else(|| Some(self.stop_by(Instant::now() + STOP_GRACE)));
                    }
                },
                recv(stop) -> by => {
                    stop = never();
                    let by = by.unwrap_or_else(|_| Instant::now() + STOP_GRACE);
                    deadline = Some(self.stop_by(by));
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
        let by = deadline.map_or_else(|| Instant::now() + STOP_GRACE, |(_, by)| by);
        self.journal.finish(by);
        if pending > 0 {
            log::info!("{pending} undelivered events stay queued in Redis for the next start");
        }
    }

    /// Starts stopping by `by`: no new jobs, and the jobs out get until
    /// shortly before `by` (at most the request timeout), leaving the
    /// journal time for its last write. Returns (grace end, `by`).
    fn stop_by(&mut self, by: Instant) -> (Instant, Instant) {
        self.stopping.store(true, Ordering::Relaxed);
        let now = Instant::now();
        let room = by.saturating_duration_since(now);
        let grace = self
            .config
            .request_timeout
            .min(room.saturating_sub(JOURNAL_RESERVE));
        (now + grace, by)
    }

    fn busy_workers(&self) -> usize {
        self.config.delivery_workers - self.idle_workers
    }

    /// Sends the journal the whole queue of `hook`, which it asked for.
    fn snapshot(&mut self, hook: &Arc<str>) {
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

    fn mark_ready(&mut self, id: &str) {
        if let Some(e) = self.entries.get_mut(id) {
            if !e.in_ready && e.queue.is_ready() {
                e.in_ready = true;
                self.ready.push_back(e.id.clone());
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
                id: e.id.clone(),
                hook: e.hook.clone(),
                items,
                per_post: self.config.multi_event,
                cancelled: e.cancel.clone(),
                fresh: e.stall.fresh(),
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
                self.journal.ack(&e.id, acked.delivered);
                let delivered = acked.items.len();
                let per_request =
                    done.elapsed / u32::try_from(done.requests.max(1)).unwrap_or(u32::MAX);
                let waiting = e.queue.len().saturating_sub(e.queue.leased());
                if let Some(v) = e.stall.observe(per_request, done.requests, waiting) {
                    stall::log(&e.hook, v);
                }
                let idle = e.queue.is_idle();
                Metrics::add(&self.metrics.deliveries_succeeded, done.requests as u64);
                Metrics::add(&self.metrics.events_delivered, delivered as u64);
                if acked.recovered_after > 0 {
                    log::info!(
                        "callback to {} works again after {} failed attempts",
                        e.hook.logged_url(),
                        acked.recovered_after
                    );
                }
                if idle {
                    self.entries.remove(&id);
                } else {
                    self.mark_ready(&id);
                }
                self.release(&acked.items);
            }
            Err(f) => self.on_failure(&id, f),
        }
    }

    fn on_failure(&mut self, id: &str, f: Failure) {
        if let Some(c) = self.metrics.deliveries_failed.get(f.reason.index()) {
            Metrics::add(c, 1);
        }
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
            self.timers.push(Reverse((at, e.id.clone())));
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
                    self.timers.push(Reverse((at, e.id.clone())));
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
                    status.insert(id.to_string(), e.queue.status(attempts));
                }
                None => {
                    status.remove(&*id);
                }
            }
        }
    }
}
