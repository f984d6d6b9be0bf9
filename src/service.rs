//! Wiring: loads the hooks and the mapping state, starts delivery, ingest and
//! the API in that order, and stops them in the reverse order. In cluster
//! mode there is no ingest: the cluster's sync thread and relay endpoint
//! (in front of the API) take its place. Holds no logic of its own.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use crate::api::{Api, Writer};
use crate::config::Config;
use crate::delivery::{Backlog, Delivery};
use crate::error::{Error, Result};
use crate::exporter::Exporter;
use crate::hooks::{Hooks, LoadReport};
use crate::http;
use crate::ingest::xapi::Xapi;
use crate::ingest::Ingest;
use crate::mapping::State;
use crate::metrics::Metrics;
use crate::store::{self, Conn};

/// Threads serving API connections: reads are answered on them, changes wait
/// for the one writer thread.
const API_CONNECTION_THREADS: usize = 32;

/// The longest a stop takes, well under the unit's `TimeoutStopSec` (15 s).
pub const STOP_DEADLINE: Duration = Duration::from_secs(10);
/// Of it, the time the API's answers in progress get.
const API_STOP: Duration = Duration::from_secs(2);
/// And the time ingest gets to finish the message it is on.
const INGEST_STOP: Duration = Duration::from_secs(1);

/// The running service.
pub struct Service {
    api_addr: SocketAddr,
    server: http::Server,
    writer: JoinHandle<()>,
    /// `None` in cluster mode, which reads no BBB channel.
    ingest: Option<JoinHandle<()>>,
    ingest_stop: Sender<()>,
    delivery: Delivery,
    exporter: Option<http::Server>,
    pub metrics: Arc<Metrics>,
    pub hooks: Hooks,
    cluster: Option<crate::cluster::running::Running>,
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
        let xapi = crate::ingest::xapi::settings(&config);
        let Loaded {
            report,
            state,
            backlog,
            xapi_state,
            ..
        } = load(&config, xapi.as_ref(), &mut conn, &hooks, stop)?;
        if report.skipped > 0 {
            log::warn!(
                "{} stored hooks could not be read and were skipped",
                report.skipped
            );
        }
        log::info!("{} hooks loaded", report.hooks);
        let cluster = match &config.cluster {
            Some(settings) => Some(crate::cluster::running::prepare(settings, &mut conn)?),
            None => None,
        };

        let delivery = Delivery::start(config.clone(), hooks.clone(), metrics.clone(), backlog)?;
        let (ingest_stop, ingest_stop_rx) = bounded(1);
        let ingest = Ingest::new(
            config.clone(),
            hooks.clone(),
            metrics.clone(),
            delivery.sender(),
            ingest_stop_rx,
            state,
            Conn::new(&config.redis_url)?,
        )
        .with_xapi(xapi.zip(xapi_state).map(|(x, s)| Xapi::new(x, s)));
        ingest.publish_state_size();
        // Cluster mode reads no BBB channel: events come relayed.
        let ingest = match config.cluster {
            Some(_) => None,
            None => Some(
                std::thread::Builder::new()
                    .name("ingest".into())
                    .spawn(move || ingest.run())?,
            ),
        };
        let cluster = match cluster {
            Some(c) => Some(c.start(&config, hooks.clone(), delivery.sender(), metrics.clone())?),
            None => None,
        };
        let (api, calls) = Api::new(config.clone(), hooks.clone(), delivery.status());
        let writer = Writer {
            config: config.clone(),
            hooks: hooks.clone(),
            delivery: delivery.sender(),
            conn,
        };
        let writer = std::thread::Builder::new()
            .name("api-writer".into())
            .spawn(move || writer.serve(calls))?;
        let mut limits = http::Limits::new(
            config.api_max_request_bytes,
            API_CONNECTION_THREADS,
            crate::api::refusal,
        );
        let mut handler = api.handler();
        if let Some(c) = &cluster {
            limits = c.limits(limits);
            handler = c.handler(handler);
        }
        let server = http::Server::from_listener(listener, limits, handler)?;
        let api_addr = server.addr();
        let exporter = match metrics_listener {
            None => None,
            Some(listener) => {
                let exporter = Exporter {
                    metrics: metrics.clone(),
                    api: server.stats(),
                    hooks: hooks.clone(),
                    status: delivery.status(),
                };
                let limits = http::Limits::new(16 * 1024, 2, http::text_refusal);
                let server = http::Server::from_listener(listener, limits, exporter.handler())?;
                log::info!("metrics listening on http://{}/metrics", server.addr());
                Some(server)
            }
        };
        log::info!("API listening on http://{api_addr}{}", config.api_path);
        Ok(Service {
            api_addr,
            server,
            writer,
            ingest,
            ingest_stop,
            delivery,
            exporter,
            metrics,
            hooks,
            cluster,
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

    /// Stops within [`STOP_DEADLINE`], whatever is in flight: stops taking
    /// requests and messages, lets deliveries in flight finish while there is
    /// time, and leaves the rest queued in Redis.
    pub fn shutdown(self) {
        let start = Instant::now();
        let deadline = start + STOP_DEADLINE;
        // Each stage gets its share; what a stage leaves unused goes on.
        self.server.stop((start + API_STOP).min(deadline));
        crate::http::join_until(vec![self.writer], (start + API_STOP).min(deadline));
        if let Some(cluster) = self.cluster {
            cluster.shutdown((Instant::now() + crate::cluster::running::STOP).min(deadline));
        }
        let _ = self.ingest_stop.send(());
        crate::http::join_until(
            self.ingest.into_iter().collect(),
            (Instant::now() + INGEST_STOP).min(deadline),
        );
        self.delivery.shutdown(deadline);
        if let Some(server) = self.exporter {
            server.stop(Instant::now().min(deadline));
        }
        log::info!("stopped in {} ms", start.elapsed().as_millis());
    }
}

/// Listens on `addr`, the value of `key`.
fn bind(addr: SocketAddr, key: &'static str) -> Result<TcpListener> {
    TcpListener::bind(addr).map_err(|source| Error::Bind { key, addr, source })
}

/// What startup reads from Redis.
struct Loaded {
    report: LoadReport,
    state: State,
    /// Mapping records that could not be read.
    mappings_skipped: usize,
    backlog: Backlog,
    /// The xAPI records, when xAPI is on.
    xapi_state: Option<crate::xapi::State>,
}

/// Loads the hooks into `hooks`, reads the mapping state and the queued
/// events (and the xAPI records, with `xapi`), retrying until Redis answers.
/// A key of the wrong type stops startup, naming it.
fn load(
    config: &Config,
    xapi: Option<&crate::xapi::XapiSettings>,
    conn: &mut Conn,
    hooks: &Hooks,
    stop: &Receiver<()>,
) -> Result<Loaded> {
    let mut backoff = Duration::from_millis(100);
    let mut since: Option<Instant> = None;
    loop {
        let loaded = conn.run(|c| {
            let wrong = match store::index_of_wrong_type(c)? {
                None if xapi.is_some() => store::xapi::index_of_wrong_type(c)?,
                other => other,
            };
            match wrong {
                Some(bad) => Ok(Err(bad)),
                None => {
                    let report = hooks.load(c, &config.permanent_hooks)?;
                    let (state, mappings_skipped) = store::mapping::load(c)?;
                    let registered: Vec<_> = hooks.read().all().cloned().collect();
                    let backlog = crate::delivery::load_backlog(c, &registered, config)?;
                    let xapi_state = match xapi {
                        Some(x) => Some(store::xapi::load(c, x)?.0),
                        None => None,
                    };
                    Ok(Ok(Loaded {
                        report,
                        state,
                        mappings_skipped,
                        backlog,
                        xapi_state,
                    }))
                }
            }
        });
        match loaded {
            Ok(Ok(loaded)) => {
                if let Some(s) = since {
                    log::info!("Redis answered after {} s", s.elapsed().as_secs());
                }
                if loaded.mappings_skipped > 0 {
                    log::warn!(
                        "{} stored meeting or user mappings could not be read and were skipped",
                        loaded.mappings_skipped
                    );
                }
                return Ok(loaded);
            }
            Ok(Err((key, kind, want))) => {
                return Err(Error::Other(format!(
                    "Redis key {key} holds a {kind}, not the {want} this service keeps there; \
                     rename or delete it (redis-cli type {key}; redis-cli rename {key} {key}.bad) and start again"
                )))
            }
            Err(e) => {
                if since.is_none() {
                    log::warn!(
                        "waiting for Redis at {}: {e}",
                        config.redis_url
                    );
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
