//! Cluster mode in the running service, for `service` to start and stop:
//! the read of the pool at start (tenants stop the service there), the
//! sync thread, and the relay endpoint put in front of the API's handler
//! with its own body bound. Wiring only.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Sender};

use super::memory;
use super::receiver::Receiver;
use super::relay::{RelayUrl, DEFAULT_MAX_BODY};
use super::remote::{Remote, DEFAULT_MAX_ANSWER, DEFAULT_TIMEOUT};
use super::source::{Read, Source};
use super::sync::{Reconciler, Settings};
use super::sync_thread::SyncThread;
use super::{Pool, SharedPool};
use crate::config::{Cluster, Config};
use crate::delivery::Input;
use crate::error::{Error, Result};
use crate::hooks::route::Policy;
use crate::hooks::Hooks;
use crate::http;
use crate::metrics::Metrics;
use crate::store::Conn;

/// What startup read, before anything runs.
pub struct Prepared {
    source: Source,
    first: Read,
    retired: Vec<RelayUrl>,
    settings: Cluster,
}

/// Reads the pool once and the relay URLs used before (from this service's
/// Redis through `conn`). Tenants in Scalelite stop the service here; its
/// Redis down does not (the pool is read again at each sync, and relay
/// POSTs are answered 503 until it is known).
pub fn prepare(settings: &Cluster, conn: &mut Conn) -> Result<Prepared> {
    let mut source = Source::new(&settings.source)?;
    let first = source
        .first(Instant::now())
        .map_err(|found| Error::Other(found.to_string()))?;
    let retired = match conn.run(|c| memory::remember(c, &settings.relay_url)) {
        Ok(r) => r,
        Err(e) => {
            log::warn!(
                "cannot read the former relay URLs from Redis ({e}); relay hooks of a former \
                 BBB_WEBHOOKS_CLUSTER_RELAY_URL are not looked for"
            );
            Vec::new()
        }
    };
    Ok(Prepared {
        source,
        first,
        retired,
        settings: settings.clone(),
    })
}

/// Cluster mode running.
pub struct Running {
    receiver: Arc<Receiver>,
    sync: std::thread::JoinHandle<()>,
    /// Dropped to stop the sync thread.
    stop: Sender<()>,
}

impl Prepared {
    /// Starts the sync thread and builds the relay endpoint, whose events
    /// go to `delivery`.
    pub fn start(
        self,
        config: &Config,
        hooks: Hooks,
        delivery: Sender<Input>,
        metrics: Arc<Metrics>,
    ) -> Result<Running> {
        let shared = match &self.first {
            Read::Pool { pool, .. } => Some(Arc::new(pool.clone())),
            Read::KeepLast => None,
        };
        let known = shared.as_deref().map(Pool::len);
        let pool: SharedPool = Arc::new(RwLock::new(shared));
        let s = &self.settings;
        log::info!(
            "cluster mode: the pool from {} ({}), relay hooks calling back {}/<server id> every {} s",
            self.source.describe(),
            known.map_or("not read yet".to_owned(), |n| format!("{n} servers")),
            s.relay_url.base(),
            s.sync_interval.as_secs()
        );
        metrics.cluster.enable();
        let settings = Settings {
            disabled_grace: s.disabled_grace,
            ..Settings::default()
        };
        let (stop, stop_rx) = bounded(1);
        let thread = SyncThread {
            reconciler: Reconciler::new(s.relay_url.clone(), self.retired, settings),
            source: self.source,
            remote: Remote::new(DEFAULT_TIMEOUT, DEFAULT_MAX_ANSWER),
            pool: pool.clone(),
            metrics: metrics.clone(),
            conn: Conn::new(&config.redis_url)?,
            interval: s.sync_interval,
            first: Some(self.first),
            stop: stop_rx,
            status_failing: false,
        };
        let receiver = Arc::new(Receiver::new(
            s.relay_url.clone(),
            pool,
            hooks,
            Policy::from_config(config),
            delivery,
            metrics,
            DEFAULT_MAX_BODY,
        ));
        let sync = std::thread::Builder::new()
            .name("cluster-sync".into())
            .spawn(move || thread.run())?;
        Ok(Running {
            receiver,
            sync,
            stop,
        })
    }
}

impl Running {
    /// `api` with the relay endpoint in front: relay requests are answered
    /// here, every other one by `api`.
    pub fn handler(&self, api: http::Handler) -> http::Handler {
        let receiver = self.receiver.clone();
        Arc::new(move |req: http::Request| {
            if receiver.handles(&req.target) {
                receiver.answer(&req)
            } else {
                api(req)
            }
        })
    }

    /// The API server's limits with the relay's larger bodies allowed.
    pub fn limits(&self, mut limits: http::Limits) -> http::Limits {
        limits.large_bodies = Some(http::LargeBodies {
            under: self.receiver.relay.path().into(),
            max: self.receiver.max_body,
        });
        limits
    }

    /// Stops the sync thread, waiting for it until `deadline` (a hooks API
    /// call under way takes at most its time limit).
    pub fn shutdown(self, deadline: Instant) {
        drop(self.stop);
        http::join_until(vec![self.sync], deadline);
    }
}

/// How long the sync thread gets to stop.
pub const STOP: Duration = Duration::from_secs(1);
