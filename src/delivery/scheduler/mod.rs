//! The scheduler thread: the only one that touches the queues, one per
//! target (a hook or an LRS). It moves messages and keeps time: events in
//! from ingest, the API and the relay ([`intake`]), leases out to idle
//! workers (at most one per target), results back, retry timers, and every
//! change to the journal. What each event means for a
//! queue is decided by [`Queue`], the [`retry::Policy`] and the [`Ledger`].

mod intake;
mod results;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{never, select, Receiver, Sender};

use super::client::LrsAuthorization;
use super::journal::{Journal, ListEntry};
use super::ledger::Ledger;
use super::queue::Queue;
use super::retry;
use super::stall::Stall;
use super::worker::{Done, Job};
use super::{HookStatus, Input, StatusMap, Target};
use crate::config::Config;
use crate::error::Result;
use crate::hooks::Hooks;
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

/// A target with something pending.
struct Entry {
    /// The queue's id (`Target::queue_id`).
    id: Arc<str>,
    /// The queue's Redis list, as the journal's records name it.
    list: Arc<str>,
    target: Target,
    queue: Queue,
    /// Ends the current job early when the hook is removed.
    cancel: Arc<AtomicBool>,
    /// In the ready list.
    in_ready: bool,
    /// Whether its requests stall on kept-alive connections.
    stall: Stall,
    /// An LRS's `Authorization` header, made once.
    authorization: Option<LrsAuthorization>,
}

impl Entry {
    fn new(target: Target, queue: Queue) -> Entry {
        let authorization = match &target {
            Target::Lrs(lrs) => Some(LrsAuthorization::of(lrs)),
            Target::Hook(_) => None,
        };
        Entry {
            id: target.queue_id(),
            list: target.list_key().into(),
            target,
            queue,
            cancel: Arc::new(AtomicBool::new(false)),
            in_ready: false,
            stall: Stall::default(),
            authorization,
        }
    }

    /// Joins the `ready` list if it can take a lease and is not in it.
    fn mark_ready(&mut self, ready: &mut VecDeque<Arc<str>>) {
        if !self.in_ready && self.queue.is_ready() {
            self.in_ready = true;
            ready.push_back(self.id.clone());
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
    /// LRS destinations recorded in Redis by this process.
    described: HashSet<String>,
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
            described: HashSet::new(),
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

    /// Sends the journal the whole of `list`, which it asked for.
    fn snapshot(&mut self, list: &Arc<str>) {
        let entries = self
            .entries
            .values()
            .find(|e| &e.list == list)
            .map(|e| {
                e.queue
                    .items()
                    .map(|i| ListEntry::of(i, self.ledger.is_shared(&i.id)))
                    .collect()
            })
            .unwrap_or_default();
        self.journal.snapshot(list, entries);
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
            e.mark_ready(&mut self.ready);
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
            let per_post = e.target.per_post(self.config.multi_event);
            let Some(items) = e.queue.lease(per_post * LEASE) else {
                continue;
            };
            let job = Job {
                id: e.id.clone(),
                target: e.target.clone(),
                items,
                per_post,
                cancelled: e.cancel.clone(),
                fresh: e.stall.fresh(),
                authorization: e.authorization.clone(),
            };
            if self.jobs.send(job).is_err() {
                return;
            }
            self.idle_workers -= 1;
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
        // Built before the lock: `hooks/list` and the metrics wait on it.
        let updates: Vec<(Arc<str>, Option<HookStatus>)> = self
            .changed
            .drain()
            .map(|id| {
                let s = self.entries.get(&id).map(|e| e.queue.status(attempts));
                (id, s)
            })
            .collect();
        let mut status = locks::lock(&self.status);
        for (id, s) in updates {
            match s {
                Some(s) => match status.get_mut(&*id) {
                    Some(old) => *old = s,
                    None => {
                        status.insert(id.to_string(), s);
                    }
                },
                None => {
                    status.remove(&*id);
                }
            }
        }
    }
}
