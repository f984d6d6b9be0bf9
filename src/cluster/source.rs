//! Where each sync gets the pool: Scalelite's Redis (read only, through
//! [`super::scalelite`]) or the static list, and what a read that cannot be
//! used comes to. Scalelite's Redis down, or tenants found after start: the
//! last known pool is kept. Each change of that is logged once (down, back,
//! tenants, a record skipped), not once per sync. Tenants found at start
//! stop the service ([`super::tenancy`]).

use std::time::Instant;

use super::pool::Pool;
use super::scalelite::{Scalelite, Skipped};
use super::tenancy::{self, TenantsFound};
use crate::config::{PoolSource, RedisUrl};
use crate::error::Result;
use crate::store::keys::scalelite as keys;

/// What one read gives the sync.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    /// The pool as read, and the servers whose records could not be read
    /// this time (to be left as they were).
    Pool { pool: Pool, held: Vec<String> },
    /// Nothing usable: keep the pool known last.
    KeepLast,
}

enum Kind {
    Scalelite {
        reader: Box<Scalelite>,
        url: RedisUrl,
    },
    Static(Pool),
}

/// The pool's source, and what was last said about it.
pub struct Source {
    kind: Kind,
    down_since: Option<Instant>,
    tenants: bool,
    skipped: Vec<Skipped>,
}

impl Source {
    /// The source the settings name; nothing is read yet.
    pub fn new(source: &PoolSource) -> Result<Source> {
        let kind = match source {
            PoolSource::Scalelite { url, namespace } => Kind::Scalelite {
                reader: Box::new(Scalelite::new(url, namespace)?),
                url: url.clone(),
            },
            PoolSource::Static(pool) => Kind::Static(pool.clone()),
        };
        Ok(Source {
            kind,
            down_since: None,
            tenants: false,
            skipped: Vec::new(),
        })
    }

    /// The source in words, for logs and `check`: never a password.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Scalelite { reader, url } => {
                format!("Scalelite's Redis at {url} (keys {}:*)", reader.namespace())
            }
            Kind::Static(_) => "the static pool (BBB_WEBHOOKS_CLUSTER_SERVERS)".to_owned(),
        }
    }

    /// Whether the last read answered (a static pool always does).
    pub fn is_up(&self) -> bool {
        self.down_since.is_none()
    }

    /// Whether the last read found tenants.
    pub fn has_tenants(&self) -> bool {
        self.tenants
    }

    /// The first read, at start: tenants stop the service.
    pub fn first(&mut self, now: Instant) -> std::result::Result<Read, TenantsFound> {
        self.read_at(now, 0, true)
    }

    /// A read at `now`, `known` the size of the pool kept when it fails.
    pub fn read(&mut self, now: Instant, known: usize) -> Read {
        self.read_at(now, known, false).unwrap_or(Read::KeepLast)
    }

    fn read_at(
        &mut self,
        now: Instant,
        known: usize,
        at_start: bool,
    ) -> std::result::Result<Read, TenantsFound> {
        let (reader, url) = match &mut self.kind {
            Kind::Static(pool) => {
                return Ok(Read::Pool {
                    pool: pool.clone(),
                    held: Vec::new(),
                })
            }
            Kind::Scalelite { reader, url } => (reader, url),
        };
        let snapshot = match reader.read() {
            Ok(s) => s,
            Err(e) => {
                if self.down_since.is_none() {
                    self.down_since = Some(now);
                    log::warn!(
                        "cannot read the pool from Scalelite's Redis at {url} ({e}); keeping \
                         the last known pool ({known} servers) and trying again each sync"
                    );
                }
                return Ok(Read::KeepLast);
            }
        };
        if let Some(since) = self.down_since.take() {
            log::info!(
                "Scalelite's Redis at {url} answers again after {} s; the pool is read again",
                now.saturating_duration_since(since).as_secs()
            );
        }
        let key = keys::tenants(reader.namespace());
        if let Err(found) = tenancy::check(&key, &snapshot.tenants) {
            if at_start {
                return Err(found);
            }
            if !self.tenants {
                self.tenants = true;
                log::error!("{found}; keeping the last known pool ({known} servers) meanwhile");
            }
            return Ok(Read::KeepLast);
        }
        if std::mem::take(&mut self.tenants) {
            log::info!("Scalelite has no tenants any more; the pool is read again");
        }
        for s in &snapshot.skipped {
            if !self.skipped.contains(s) {
                log::warn!("Scalelite's pool: {s}; skipped");
            }
        }
        self.skipped = snapshot.skipped.clone();
        Ok(Read::Pool {
            held: snapshot.held(),
            pool: snapshot.pool,
        })
    }
}
