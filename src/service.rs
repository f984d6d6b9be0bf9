//! Wiring: loads the hooks and the mapping state, starts delivery, ingest and
//! the API in that order, and stops them in the reverse order. Holds no logic
//! of its own.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use crate::api::Api;
use crate::config::Config;
use crate::delivery::Delivery;
use crate::error::{Error, Result};
use crate::exporter::Exporter;
use crate::hooks::{Hooks, LoadReport};
use crate::http;
use crate::ingest::Ingest;
use crate::mapping::State;
use crate::metrics::Metrics;
use crate::store::{self, Conn};

/// Threads reading API connections (the answers come from one API thread):
/// enough that a few slow clients do not hold up the others.
const API_CONNECTION_THREADS: usize = 32;

/// The running service.
pub struct Service {
    api_addr: SocketAddr,
    server: http::Server,
    api: JoinHandle<()>,
    ingest: JoinHandle<()>,
    ingest_stop: Sender<()>,
    delivery: Delivery,
    exporter: Option<http::Server>,
    pub metrics: Arc<Metrics>,
    pub hooks: Hooks,
}

impl Service {
    /// Starts everything. Waits for Redis (retrying, logging once) before it
    /// loads the hooks; `stop` ends that wait early.
    pub fn start(config: Config, stop: &Receiver<()>) -> Result<Service> {
        let config = Arc::new(config);
        let listener = bind(config.api_bind, "BBB_WEBHOOKS_API_BIND")?;
        let metrics_listener = match config.metrics_bind {
            None => None,
            Some(addr) => Some(bind(addr, "BBB_WEBHOOKS_METRICS_BIND")?),
        };
        let metrics = Arc::new(Metrics::default());
        let hooks = Hooks::default();
        let mut conn = Conn::new(&config.redis_url)?;
        let (report, state) = load(&config, &mut conn, &hooks, stop)?;
        if report.skipped > 0 {
            log::warn!(
                "{} stored hooks could not be read and were skipped",
                report.skipped
            );
        }
        log::info!("{} hooks loaded", report.hooks);
        log::info!(
            "{} meetings and {} users mapped",
            state.meeting_count(),
            state.user_count()
        );

        let delivery = Delivery::start(config.clone(), hooks.clone(), metrics.clone())?;
        let (ingest_stop, ingest_stop_rx) = bounded(1);
        let ingest = Ingest::new(
            config.clone(),
            hooks.clone(),
            metrics.clone(),
            delivery.sender(),
            ingest_stop_rx,
            state,
            Conn::new(&config.redis_url)?,
        );
        ingest.publish_state_size();
        let ingest = std::thread::Builder::new()
            .name("ingest".into())
            .spawn(move || ingest.run())?;
        let api = Api {
            config: config.clone(),
            hooks: hooks.clone(),
            status: delivery.status(),
            delivery: delivery.sender(),
            conn,
        };
        let (handler, calls) = crate::api::handler();
        let api = std::thread::Builder::new()
            .name("api".into())
            .spawn(move || api.serve(calls))?;
        let limits = http::Limits {
            max_request_bytes: config.api_max_request_bytes,
            threads: API_CONNECTION_THREADS,
        };
        let server = http::Server::from_listener(listener, limits, handler)?;
        let api_addr = server.addr();
        let exporter = match metrics_listener {
            None => None,
            Some(listener) => {
                let exporter = Exporter {
                    metrics: metrics.clone(),
                    hooks: hooks.clone(),
                    status: delivery.status(),
                };
                let limits = http::Limits {
                    max_request_bytes: 16 * 1024,
                    threads: 2,
                };
                let server = http::Server::from_listener(listener, limits, exporter.handler())?;
                log::info!("metrics listening on http://{}/metrics", server.addr());
                Some(server)
            }
        };
        log::info!("API listening on http://{api_addr}{}", config.api_path);
        Ok(Service {
            api_addr,
            server,
            api,
            ingest,
            ingest_stop,
            delivery,
            exporter,
            metrics,
            hooks,
        })
    }

    /// The address the API listens on.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// The address of the metrics endpoint, when it is on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.exporter.as_ref().map(http::Server::addr)
    }

    /// Stops taking requests and messages, lets deliveries in flight finish
    /// and leaves the rest queued in Redis.
    pub fn shutdown(self) {
        self.server.stop();
        let _ = self.api.join();
        let _ = self.ingest_stop.send(());
        let _ = self.ingest.join();
        self.delivery.shutdown();
        if let Some(server) = self.exporter {
            server.stop();
        }
        log::info!("stopped");
    }
}

/// Listens on `addr`, the value of `key`.
fn bind(addr: SocketAddr, key: &str) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .map_err(|e| Error::Other(format!("cannot listen on {addr} ({key}): {e}")))
}

/// Loads the hooks into `hooks` and reads the mapping state, retrying until
/// Redis answers. An index set of the wrong type stops startup, naming it.
fn load(
    config: &Config,
    conn: &mut Conn,
    hooks: &Hooks,
    stop: &Receiver<()>,
) -> Result<(LoadReport, State)> {
    let mut backoff = Duration::from_millis(100);
    let mut since: Option<Instant> = None;
    loop {
        let loaded = conn.run(|c| match store::index_of_wrong_type(c)? {
            Some(bad) => Ok(Err(bad)),
            None => {
                let report = hooks.load(c, &config.permanent_hooks)?;
                let (state, skipped) = store::mapping::load(c)?;
                Ok(Ok((report, state, skipped)))
            }
        });
        match loaded {
            Ok(Ok((report, state, skipped))) => {
                if let Some(s) = since {
                    log::info!("Redis answered after {} s", s.elapsed().as_secs());
                }
                if skipped > 0 {
                    log::warn!(
                        "{skipped} stored meeting or user mappings could not be read and were skipped"
                    );
                }
                return Ok((report, state));
            }
            Ok(Err((key, kind))) => {
                return Err(Error::Other(format!(
                    "Redis key {key} holds a {kind}, not the set of ids this service keeps there; \
                     rename or delete it (redis-cli type {key}; redis-cli rename {key} {key}.bad) and start again"
                )))
            }
            Err(e) => {
                if since.is_none() {
                    log::warn!("waiting for Redis at {}: {e}", config.redis_url);
                    since = Some(Instant::now());
                }
                match stop.recv_timeout(backoff) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return Err(Error::Stopped),
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}
