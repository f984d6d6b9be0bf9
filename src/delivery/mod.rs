//! Delivery: per-hook queues in order ([`queue`]), a scheduler thread that
//! leases each hook's head to a fixed pool of worker threads (at most one
//! lease per hook), retries on the configured schedule ([`retry`]) without
//! holding a thread while waiting, and a journal that keeps every queued
//! event in Redis until its endpoint acknowledged it. It does not decide
//! which hooks an event goes to (`hooks::route` does).

mod client;
mod journal;
mod ledger;
pub mod outcome;
mod queue;
mod retry;
mod scheduler;
mod stall;
pub mod target;
mod worker;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{bounded, Sender};

use crate::config::Config;
use crate::error::Result;
use crate::hooks::{Hook, Hooks};
use crate::metrics::Metrics;
pub use journal::destinations::backlog as lrs_backlog;
pub use target::{Lrs, Target};

/// What startup read of the queues kept in Redis, and what they cost.
pub struct Backlog {
    load: journal::load::Backlog,
    ledger: ledger::Ledger,
}

/// Reads the queues kept in Redis for `hooks` and for the LRS destinations
/// with statements queued (see [`journal::load`]), making Redis match what
/// is kept.
pub fn load_backlog(
    c: &mut redis::Connection,
    hooks: &[Arc<Hook>],
    config: &Config,
) -> redis::RedisResult<Backlog> {
    let mut targets: Vec<Target> = hooks.iter().cloned().map(Target::Hook).collect();
    let lrs = journal::destinations::load(c, &config.secret)?;
    targets.extend(lrs.into_iter().map(Target::Lrs));
    let (load, ledger) =
        journal::load::load(c, &targets, config.max_queue, config.max_queued_bytes)?;
    Ok(Backlog { load, ledger })
}

/// Capacity of the channel from ingest and the API to the scheduler, in
/// messages. When it is full, ingest waits: back-pressure, not loss.
pub const INPUT_CAPACITY: usize = 1024;

/// One event to deliver, held once however many queues hold it.
#[derive(Debug, PartialEq, Eq)]
pub struct Event {
    /// Unique id of the event, sent in the `X-Bbb-Webhooks-Event-Ids` header
    /// so receivers can drop the duplicates a crash may cause.
    pub id: Arc<str>,
    /// The JSON document to deliver.
    pub payload: Box<str>,
    /// The `domain` its callback names, when not this server's (an event
    /// relayed from a BBB server of a cluster keeps that server's).
    pub domain: Option<Arc<str>>,
}

/// An event as queues hold it: shared.
pub type Item = Arc<Event>;

impl Event {
    pub fn new(id: impl Into<Arc<str>>, payload: impl Into<Box<str>>) -> Item {
        Arc::new(Event {
            id: id.into(),
            payload: payload.into(),
            domain: None,
        })
    }

    /// An event whose callbacks name `domain`.
    pub fn from_domain(
        id: impl Into<Arc<str>>,
        payload: impl Into<Box<str>>,
        domain: Option<Arc<str>>,
    ) -> Item {
        Arc::new(Event {
            id: id.into(),
            payload: payload.into(),
            domain,
        })
    }
}

/// Events, each with the targets it goes to, in delivery order.
pub type Batch = Vec<(Item, Vec<Target>)>;

/// What the scheduler is told.
#[derive(Debug)]
pub enum Input {
    /// Events to queue.
    Events(Batch),
    /// Events to queue, with where to say once they are written to Redis
    /// (true) or could not be (false): for callers that may answer their
    /// sender only when nothing can be lost any more.
    Durable(Batch, Sender<bool>),
    /// A hook was destroyed: drop its queue.
    HookRemoved(String),
}

/// How a hook's deliveries are going, for `hooks/list` and `listSubscriptions`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HookStatus {
    /// Events waiting (including the ones in flight).
    pub pending: usize,
    /// The retry schedule is exhausted and the endpoint still fails.
    pub failing: bool,
    /// Consecutive failed attempts.
    pub failures: usize,
    /// The last failure, if the last attempt failed.
    pub last_error: Option<String>,
    /// The kind of that failure.
    pub last_reason: Option<outcome::Reason>,
    /// Events dropped because the queue was full.
    pub dropped: u64,
}

/// Statuses by hook id. Hooks without an entry have nothing pending.
pub type StatusMap = Arc<Mutex<HashMap<String, HookStatus>>>;

/// The running delivery threads.
pub struct Delivery {
    input: Sender<Input>,
    /// Tells the scheduler to stop, by this deadline.
    stop: Sender<Instant>,
    status: StatusMap,
    threads: Vec<JoinHandle<()>>,
}

impl Delivery {
    /// Takes up the queues read at start and starts the scheduler and the
    /// workers.
    pub fn start(
        config: Arc<Config>,
        hooks: Hooks,
        metrics: Arc<Metrics>,
        backlog: Backlog,
    ) -> Result<Delivery> {
        let status: StatusMap = Arc::default();
        let (input_tx, input_rx) = bounded(INPUT_CAPACITY);
        let (stop_tx, stop_rx) = bounded(1);
        let workers = config.delivery_workers;
        let (job_tx, job_rx) = bounded::<worker::Job>(workers);
        let (done_tx, done_rx) = bounded::<worker::Done>(workers);
        let agent = client::agent(&config, true);
        let fresh_agent = client::agent(&config, false);
        let stopping = Arc::new(AtomicBool::new(false));
        let mut sched = scheduler::Scheduler::new(
            config.clone(),
            hooks,
            metrics.clone(),
            status.clone(),
            job_tx,
            stopping.clone(),
            backlog.ledger,
        )?;
        sched.take_up(backlog.load);
        let mut threads = Vec::with_capacity(workers + 1);
        for n in 0..workers {
            let w = worker::Worker {
                config: config.clone(),
                stopping: stopping.clone(),
                agent: agent.clone(),
                fresh_agent: fresh_agent.clone(),
                jobs: job_rx.clone(),
                done: done_tx.clone(),
            };
            threads.push(
                std::thread::Builder::new()
                    .name(format!("delivery-{n}"))
                    .spawn(move || w.run())?,
            );
        }
        drop((job_rx, done_tx));
        threads.push(
            std::thread::Builder::new()
                .name("scheduler".into())
                .spawn(move || sched.run(input_rx, done_rx, stop_rx))?,
        );
        Ok(Delivery {
            input: input_tx,
            stop: stop_tx,
            status,
            threads,
        })
    }

    /// A sender for events and hook removals.
    pub fn sender(&self) -> Sender<Input> {
        self.input.clone()
    }

    /// The hooks' delivery statuses.
    pub fn status(&self) -> StatusMap {
        self.status.clone()
    }

    /// Stops: no new requests; requests in flight may finish until shortly
    /// before `deadline` (and within the request timeout); the journal's
    /// last write goes out; the rest stays queued in Redis. Returns by
    /// `deadline` whatever is stuck (a blackhole endpoint, a frozen Redis).
    pub fn shutdown(self, deadline: Instant) {
        let _ = self.stop.send(deadline);
        drop(self.input);
        crate::http::join_until(self.threads, deadline);
    }
}
