//! Wiring: loads the hooks, starts delivery, ingest and the API in that
//! order, and stops them in the reverse order. Holds no logic of its own.

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use crate::api::Api;
use crate::config::Config;
use crate::delivery::Delivery;
use crate::error::{Error, Result};
use crate::exporter::Exporter;
use crate::hooks::{self, Hook, Registry, SharedRegistry};
use crate::http;
use crate::ingest::Ingest;
use crate::metrics::Metrics;
use crate::store::Conn;

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
    pub registry: SharedRegistry,
}

impl Service {
    /// Starts everything. Waits for Redis (retrying, logging once) before it
    /// loads the hooks; `stop` ends that wait early.
    pub fn start(config: Config, stop: &Receiver<()>) -> Result<Service> {
        let config = Arc::new(config);
        let listener = TcpListener::bind(config.api_bind).map_err(|e| {
            Error::Other(format!(
                "cannot listen on {} (BBB_WEBHOOKS_API_BIND): {e}",
                config.api_bind
            ))
        })?;
        let metrics_listener = match config.metrics_bind {
            None => None,
            Some(bind) => Some(TcpListener::bind(bind).map_err(|e| {
                Error::Other(format!(
                    "cannot listen on {bind} (BBB_WEBHOOKS_METRICS_BIND): {e}"
                ))
            })?),
        };
        let metrics = Arc::new(Metrics::default());
        let mut conn = Conn::new(&config.redis_url)?;
        let registry: SharedRegistry = Arc::new(RwLock::new(Registry::default()));
        load_hooks(&config, &mut conn, &registry, stop)?;
        let (state, skipped) = conn.run(crate::mapping::store::load)?;
        if skipped > 0 {
            log::warn!(
                "{skipped} stored meeting or user mappings could not be read and were skipped"
            );
        }
        log::info!(
            "{} meetings and {} users mapped",
            state.meeting_count(),
            state.user_count()
        );

        let delivery = Delivery::start(config.clone(), registry.clone(), metrics.clone())?;
        let (ingest_stop, ingest_stop_rx) = bounded(1);
        let ingest = Ingest::new(
            config.clone(),
            registry.clone(),
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
            registry: registry.clone(),
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
                    registry: registry.clone(),
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
            registry,
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

/// The first of the sets that index the stored hooks and mappings that holds
/// another type, with that type. Every read and write of such a key fails, so
/// startup stops and names it rather than waiting for Redis forever.
fn index_of_wrong_type(c: &mut redis::Connection) -> redis::RedisResult<Option<(String, String)>> {
    let mapping = crate::mapping::store::Keys::default();
    for key in [
        crate::store::HOOKS_SET,
        mapping.mappings.as_str(),
        mapping.user_maps.as_str(),
    ] {
        let kind: String = redis::cmd("TYPE").arg(key).query(c)?;
        if kind != "set" && kind != "none" {
            return Ok(Some((key.to_owned(), kind)));
        }
    }
    Ok(None)
}

/// Loads the stored hooks into `registry` and makes the configured permanent
/// hooks exist (and only those be permanent), retrying until Redis answers.
fn load_hooks(
    config: &Config,
    conn: &mut Conn,
    registry: &SharedRegistry,
    stop: &Receiver<()>,
) -> Result<()> {
    let mut backoff = Duration::from_millis(100);
    let mut since: Option<Instant> = None;
    let (stored, skipped) = loop {
        let loaded = conn.run(|c| match index_of_wrong_type(c)? {
            Some(bad) => Ok(Err(bad)),
            None => hooks::load(c).map(Ok),
        });
        match loaded {
            Ok(Ok(loaded)) => break loaded,
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
    };
    if let Some(s) = since {
        log::info!("Redis answered after {} s", s.elapsed().as_secs());
    }
    if skipped > 0 {
        log::warn!("{skipped} stored hooks could not be read and were skipped");
    }
    let mut reg = registry
        .write()
        .map_err(|_| Error::Other("hook registry lock poisoned".into()))?;
    for mut hook in stored {
        let permanent = config
            .permanent_hooks
            .iter()
            .any(|p| p.url == hook.callback_url);
        if hook.permanent && !permanent {
            log::info!(
                "hook {} ({}) is no longer configured as permanent",
                hook.id,
                hook.callback_url
            );
            hook.permanent = false;
            conn.run(|c| hooks::save(c, &hook))?;
        }
        reg.insert(hook);
    }
    for p in &config.permanent_hooks {
        let existing = reg.by_url(&p.url).map(|h| (**h).clone());
        let hook = match existing {
            Some(h) if h.permanent && h.raw == p.raw => continue,
            Some(mut h) => {
                h.permanent = true;
                h.raw = p.raw;
                h
            }
            None => Hook::new(p.url.clone(), None, None, true, p.raw),
        };
        conn.run(|c| hooks::save(c, &hook))?;
        log::info!("permanent hook {} for {}", hook.id, hook.callback_url);
        reg.insert(hook);
    }
    log::info!("{} hooks loaded", reg.len());
    Ok(())
}
