//! Delivery: per-hook queues in order ([`queue`]), a scheduler thread that
//! leases each hook's head to a fixed pool of worker threads (at most one
//! lease per hook), retries on the configured schedule ([`retry`]) without
//! holding a thread while waiting, and a journal that keeps every queued
//! event in Redis until its endpoint acknowledged it. It does not decide
//! which hooks an event goes to (`hooks::route` does).

mod client;
mod journal;
pub mod outcome;
pub mod queue;
pub mod retry;
mod scheduler;
mod worker;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Sender};

use crate::config::Config;
use crate::error::Result;
use crate::hooks::{Hook, Hooks};
use crate::metrics::Metrics;

/// Capacity of the channel from ingest and the API to the scheduler, in
/// messages. When it is full, ingest waits: back-pressure, not loss.
pub const INPUT_CAPACITY: usize = 1024;

/// One event queued for one hook.
#[derive(Clone, Debug)]
pub struct Item {
    /// Unique id of the event, sent in the `X-Bbb-Webhooks-Event-Ids` header
    /// so receivers can drop the duplicates a crash may cause.
    pub id: Arc<str>,
    /// The JSON document to deliver.
    pub payload: Arc<str>,
}

/// What the scheduler is told.
#[derive(Debug)]
pub enum Input {
    /// Events for hooks, in the order they must be delivered.
    Events(Vec<(Arc<Hook>, Item)>),
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
    /// Events dropped because the queue was full.
    pub dropped: u64,
}

/// Statuses by hook id. Hooks without an entry have nothing pending.
pub type StatusMap = Arc<Mutex<HashMap<String, HookStatus>>>;

/// The running delivery threads.
pub struct Delivery {
    input: Sender<Input>,
    status: StatusMap,
    threads: Vec<JoinHandle<()>>,
}

impl Delivery {
    /// Loads the queues kept in Redis for the registered hooks and starts the
    /// scheduler and the workers.
    pub fn start(config: Arc<Config>, hooks: Hooks, metrics: Arc<Metrics>) -> Result<Delivery> {
        let status: StatusMap = Arc::default();
        let (input_tx, input_rx) = bounded(INPUT_CAPACITY);
        let workers = config.delivery_workers;
        let (job_tx, job_rx) = bounded::<worker::Job>(workers);
        let (done_tx, done_rx) = bounded::<worker::Done>(workers);
        let agent = client::agent(&config);
        let stopping = Arc::new(AtomicBool::new(false));
        let mut sched = scheduler::Scheduler::new(
            config.clone(),
            hooks,
            metrics.clone(),
            status.clone(),
            job_tx,
            stopping.clone(),
        )?;
        sched.load_backlog();
        let mut threads = Vec::with_capacity(workers + 1);
        for n in 0..workers {
            let w = worker::Worker {
                config: config.clone(),
                stopping: stopping.clone(),
                agent: agent.clone(),
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
                .spawn(move || sched.run(input_rx, done_rx))?,
        );
        Ok(Delivery {
            input: input_tx,
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

    /// Stops taking input once every other sender is gone, lets requests in
    /// flight finish (bounded by the request timeout), leaves the rest queued
    /// in Redis and joins the threads.
    pub fn shutdown(self) {
        drop(self.input);
        for t in self.threads {
            let _ = t.join();
        }
    }
}
