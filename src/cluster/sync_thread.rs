//! The sync thread: every sync interval it reads the pool ([`Source`]),
//! shares it with the relay receiver, has the [`Reconciler`] bring each
//! server's relay hook in line through the real client, logs each change
//! once, updates the figures and writes the status record for `check`. It
//! only moves data between those parts; each decides for itself.
//!
//! Stopping: dropping the stop sender ends the wait between syncs at once,
//! and makes every hooks API call not yet begun fail at once, so a stop
//! waits at most for the call under way (its time limit).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::answer::RemoteHook;
use super::pool::{Pool, Server};
use super::remote::{Created, Destroyed, HooksApi, Remote, RemoteError};
use super::source::{Read, Source};
use super::status::{self, Record, ServerLine};
use super::sync::{Change, Reconciler, Relay};
use super::SharedPool;
use crate::locks;
use crate::metrics::Metrics;
use crate::store::Conn;

/// The sync thread's parts.
pub struct SyncThread {
    pub source: Source,
    pub reconciler: Reconciler,
    pub remote: Remote,
    pub pool: SharedPool,
    pub metrics: Arc<Metrics>,
    /// This service's own Redis, for the status record.
    pub conn: Conn,
    pub interval: Duration,
    /// What the read at start found, used by the first sync.
    pub first: Option<Read>,
    /// Disconnected when the service stops.
    pub stop: Receiver<()>,
    /// The status record could not be written (logged once).
    pub status_failing: bool,
}

impl SyncThread {
    /// Syncs at once, then every interval, until told to stop.
    pub fn run(mut self) {
        loop {
            self.once(Instant::now());
            match self.stop.recv_timeout(self.interval) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => break,
            }
        }
    }

    fn stopping(&self) -> bool {
        matches!(self.stop.try_recv(), Err(TryRecvError::Disconnected))
    }

    /// One sync at `now`.
    pub fn once(&mut self, now: Instant) {
        let last: Option<Arc<Pool>> = locks::read(&self.pool).clone();
        let known = last.as_deref().map_or(0, Pool::len);
        let read = match self.first.take() {
            Some(r) => r,
            None => self.source.read(now, known),
        };
        let (pool, held) = match read {
            Read::Pool { pool, held } => {
                let pool = Arc::new(pool);
                // A server whose record cannot be read now is still the
                // server it was: its POSTs are still taken.
                let shared = match held.is_empty() {
                    true => pool.clone(),
                    false => {
                        let mut shared = Pool::clone(&pool);
                        for id in &held {
                            if let Some(s) = last.as_deref().and_then(|p| p.get(id)) {
                                let _ = shared.insert(s.clone());
                            }
                        }
                        Arc::new(shared)
                    }
                };
                *locks::write(&self.pool) = Some(shared);
                (pool, held)
            }
            Read::KeepLast => (last.unwrap_or_default(), Vec::new()),
        };
        let mut api = Stoppable {
            remote: &mut self.remote,
            stop: &self.stop,
        };
        let changes = self.reconciler.sync(&pool, &held, &mut api, now);
        if self.stopping() {
            return;
        }
        for change in &changes {
            change.log();
            if let Change::Created { id, .. } = change {
                self.metrics.cluster.created(id);
            }
        }
        let statuses = self.reconciler.status();
        let in_place: Vec<(String, bool, bool)> = statuses
            .iter()
            .map(|s| {
                let relay = matches!(s.relay, Relay::InPlace(_));
                (s.id.clone(), s.state.is_some(), relay)
            })
            .collect();
        self.metrics.cluster.synced(&in_place, self.source.is_up());
        let record = Record {
            at_ms: crate::clock::now_ms(),
            sync_secs: self.interval.as_secs(),
            source: self.source.describe(),
            source_up: self.source.is_up(),
            tenants: self.source.has_tenants(),
            servers: statuses.iter().map(ServerLine::of).collect(),
        };
        match self.conn.run(|c| status::write(c, &record)) {
            Ok(()) => self.status_failing = false,
            Err(e) if !self.status_failing => {
                self.status_failing = true;
                log::warn!("cannot write the cluster status for bbb-webhooks check to Redis: {e}");
            }
            Err(_) => {}
        }
    }
}

/// The client, refusing every call once the service is stopping.
struct Stoppable<'a> {
    remote: &'a mut Remote,
    stop: &'a Receiver<()>,
}

impl Stoppable<'_> {
    fn check(&self) -> Result<(), RemoteError> {
        match self.stop.try_recv() {
            Err(TryRecvError::Disconnected) => {
                Err(RemoteError::Transport("the service is stopping".into()))
            }
            _ => Ok(()),
        }
    }
}

impl HooksApi for Stoppable<'_> {
    fn list(&mut self, server: &Server) -> Result<Vec<RemoteHook>, RemoteError> {
        self.check()?;
        self.remote.list(server)
    }

    fn create(&mut self, server: &Server, callback_url: &str) -> Result<Created, RemoteError> {
        self.check()?;
        self.remote.create(server, callback_url)
    }

    fn destroy(&mut self, server: &Server, hook_id: &str) -> Result<Destroyed, RemoteError> {
        self.check()?;
        self.remote.destroy(server, hook_id)
    }
}
