//! The relay hooks' state machine: one [`Reconciler`] remembers, per pool
//! server, what it last knew (its record, its relay hook, its trouble), and
//! each [`Reconciler::sync`] brings every server one step closer to the
//! [`super::reconcile::plan`], through a [`HooksApi`]. It returns what
//! changed, each change once ([`Change`]): a steady pool logs nothing. Time
//! comes in as an argument, so every transition is tested without waiting.
//!
//! A server that fails a call keeps its last known state and is tried
//! again: at the next sync, then after `retry_base`, twice that, up to
//! `retry_max`, and at once when Scalelite sees it come back online. A
//! server whose record cannot be read is held as it was. One that left the
//! pool keeps being tried, for `give_up`, to remove its relay hook.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::pool::{Pool, Server, State};
use super::reconcile::{plan, Doom, Gone, Want};
use super::relay::RelayUrl;
use super::remote::{HooksApi, RemoteError};

pub use super::change::{Change, Reason};

/// The reconciler's timings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Wait after the second failure in a row (the first is retried at the
    /// next sync); doubled after each further one.
    pub retry_base: Duration,
    /// Longest wait between tries of a failing server.
    pub retry_max: Duration,
    /// How long a server that left the pool is tried, to remove its relay
    /// hook, before it is forgotten.
    pub give_up: Duration,
    /// How long a disabled server keeps its relay hook (the recordings of
    /// its last meetings are processed after they end). `0`: removed at once.
    pub disabled_grace: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(60),
            give_up: Duration::from_secs(3600),
            disabled_grace: Duration::ZERO,
        }
    }
}

/// What the reconciler last knew of a server's relay hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Relay {
    /// Not looked at yet.
    Unknown,
    InPlace(String),
    /// None there (none wanted, or not created yet).
    Absent,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Membership {
    InPool,
    /// Its record could not be read this time.
    Held,
    Left {
        since: Instant,
    },
}

#[derive(Clone, Debug)]
struct Trouble {
    since: Instant,
    failures: u32,
    retry_at: Instant,
    error: String,
}

#[derive(Clone, Debug)]
struct Track {
    server: Server,
    membership: Membership,
    relay: Relay,
    trouble: Option<Trouble>,
    disabled_since: Option<Instant>,
    /// Its relay hook was removed because it was disabled.
    removed_disabled: bool,
    stuck_reported: bool,
}

/// One server as the reconciler sees it, for `check` and metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerStatus {
    pub id: String,
    pub url: String,
    /// `None` once it left the pool.
    pub state: Option<State>,
    pub online: bool,
    pub relay: Relay,
    /// The error of its failing calls, while they fail.
    pub failing: Option<String>,
}

/// The relay hooks of a whole pool.
#[derive(Debug)]
pub struct Reconciler {
    relay: RelayUrl,
    retired: Vec<RelayUrl>,
    settings: Settings,
    tracks: BTreeMap<String, Track>,
}

impl Reconciler {
    /// A reconciler for relay URL `relay`; hooks for the `retired` relay
    /// URLs (see [`super::memory`]) are removed wherever they are found.
    pub fn new(relay: RelayUrl, retired: Vec<RelayUrl>, settings: Settings) -> Reconciler {
        let retired = retired.into_iter().filter(|r| *r != relay).collect();
        Reconciler {
            relay,
            retired,
            settings,
            tracks: BTreeMap::new(),
        }
    }

    /// One sync at `now`: takes in `pool` (the servers in `held`, whose
    /// records could not be read, are left as they were), then calls each
    /// server that is due. Returns what changed.
    pub fn sync(
        &mut self,
        pool: &Pool,
        held: &[String],
        api: &mut dyn HooksApi,
        now: Instant,
    ) -> Vec<Change> {
        let mut changes = Vec::new();
        self.take_in(pool, held, now, &mut changes);
        let ids: Vec<String> = self.tracks.keys().cloned().collect();
        for id in ids {
            self.sync_one(&id, api, now, &mut changes);
        }
        changes
    }

    /// Every server known, sorted by id.
    pub fn status(&self) -> Vec<ServerStatus> {
        self.tracks
            .values()
            .map(|t| ServerStatus {
                id: t.server.id.clone(),
                url: t.server.url.clone(),
                state: (!matches!(t.membership, Membership::Left { .. })).then_some(t.server.state),
                online: t.server.online,
                relay: t.relay.clone(),
                failing: t.trouble.as_ref().map(|tr| tr.error.clone()),
            })
            .collect()
    }

    fn take_in(&mut self, pool: &Pool, held: &[String], now: Instant, changes: &mut Vec<Change>) {
        for s in pool.iter() {
            let t = match self.tracks.get_mut(&s.id) {
                Some(t) => t,
                None => {
                    changes.push(Change::Joined { id: s.id.clone() });
                    self.tracks.entry(s.id.clone()).or_insert(Track {
                        server: s.clone(),
                        membership: Membership::InPool,
                        relay: Relay::Unknown,
                        trouble: None,
                        disabled_since: None,
                        removed_disabled: false,
                        stuck_reported: false,
                    })
                }
            };
            if matches!(t.membership, Membership::Left { .. }) {
                changes.push(Change::Joined { id: s.id.clone() });
            }
            if s.online && !t.server.online {
                if let Some(tr) = &mut t.trouble {
                    tr.retry_at = now;
                }
            }
            t.disabled_since = match s.state {
                State::Disabled => Some(t.disabled_since.unwrap_or(now)),
                _ => None,
            };
            t.server = s.clone();
            t.membership = Membership::InPool;
        }
        for (id, t) in &mut self.tracks {
            if pool.contains(id) {
                continue;
            }
            if held.contains(id) {
                if t.membership == Membership::InPool {
                    changes.push(Change::Held { id: id.clone() });
                    t.membership = Membership::Held;
                }
            } else if !matches!(t.membership, Membership::Left { .. }) {
                changes.push(Change::Left { id: id.clone() });
                t.membership = Membership::Left { since: now };
            }
        }
    }

    fn sync_one(
        &mut self,
        id: &str,
        api: &mut dyn HooksApi,
        now: Instant,
        changes: &mut Vec<Change>,
    ) {
        let settings = self.settings;
        let Some(t) = self.tracks.get_mut(id) else {
            return;
        };
        let want = match (&t.membership, t.disabled_since) {
            (Membership::Held, _) => return,
            (Membership::Left { .. }, _) => Want::Nothing(Gone::LeftPool),
            (Membership::InPool, _) if t.server.wants_relay() => Want::Relay,
            (Membership::InPool, Some(since)) if now < since + settings.disabled_grace => return,
            (Membership::InPool, _) => Want::Nothing(Gone::Disabled),
        };
        let left = matches!(t.membership, Membership::Left { .. });
        if want != Want::Relay && t.relay == Relay::Absent {
            if left {
                self.tracks.remove(id);
                changes.push(Change::Forgotten { id: id.to_owned() });
            }
            return;
        }
        if let Some(tr) = &t.trouble {
            if now < tr.retry_at {
                return;
            }
            if let Membership::Left { since } = t.membership {
                if now >= since + settings.give_up {
                    let error = tr.error.clone();
                    self.tracks.remove(id);
                    changes.push(Change::GaveUp {
                        id: id.to_owned(),
                        error,
                    });
                    return;
                }
            }
        }
        let current = self.relay.for_server(id);
        let retired: Vec<String> = self.retired.iter().map(|r| r.for_server(id)).collect();
        let server = t.server.clone();
        let result = carry_out(api, &server, want, &current, &retired, t, changes);
        match result {
            Err(e) => {
                let failures = t.trouble.as_ref().map_or(0, |tr| tr.failures) + 1;
                let wait = match failures {
                    1 => Duration::ZERO,
                    n => settings
                        .retry_base
                        .saturating_mul(1 << (n - 2).min(16))
                        .min(settings.retry_max),
                };
                let since = t.trouble.as_ref().map_or(now, |tr| tr.since);
                if t.trouble.is_none() {
                    changes.push(Change::Failing {
                        id: id.to_owned(),
                        error: e.to_string(),
                    });
                }
                t.trouble = Some(Trouble {
                    since,
                    failures,
                    retry_at: now + wait,
                    error: e.to_string(),
                });
            }
            Ok(()) => {
                if let Some(tr) = t.trouble.take() {
                    let after = now.saturating_duration_since(tr.since);
                    changes.push(Change::Recovered {
                        id: id.to_owned(),
                        after,
                    });
                }
                if left && t.relay == Relay::Absent {
                    self.tracks.remove(id);
                    changes.push(Change::Forgotten { id: id.to_owned() });
                }
            }
        }
    }
}

/// Lists `server`'s hooks and carries out the plan, updating `t.relay` as
/// it goes; stops at the first failed call.
fn carry_out(
    api: &mut dyn HooksApi,
    server: &Server,
    want: Want,
    current: &str,
    retired: &[String],
    t: &mut Track,
    changes: &mut Vec<Change>,
) -> Result<(), RemoteError> {
    let id = &server.id;
    let hooks = api.list(server)?;
    let p = plan(want, &hooks, current, retired);
    let mut removed: Vec<(Doom, usize)> = Vec::new();
    let mut result = Ok(());
    for (hook_id, doom) in &p.destroy {
        if let Err(e) = api.destroy(server, hook_id) {
            result = Err(e);
            break;
        }
        match removed.iter_mut().find(|(d, _)| d == doom) {
            Some((_, n)) => *n += 1,
            None => removed.push((*doom, 1)),
        }
    }
    for (doom, count) in removed {
        changes.push(Change::Removed {
            id: id.clone(),
            count,
            doom,
        });
        if doom == Doom::Unwanted(Gone::Disabled) {
            t.removed_disabled = true;
        }
    }
    result?;
    if p.stuck.is_empty() {
        t.stuck_reported = false;
    } else if !t.stuck_reported {
        t.stuck_reported = true;
        changes.push(Change::Stuck {
            id: id.clone(),
            hooks: p.stuck.clone(),
        });
    }
    if let Some(keep) = p.keep {
        if t.relay != Relay::InPlace(keep.clone()) {
            changes.push(Change::Found {
                id: id.clone(),
                hook_id: keep.clone(),
            });
        }
        t.relay = Relay::InPlace(keep);
    } else if p.create {
        let created = api.create(server, current)?;
        let reason = match (&t.relay, t.removed_disabled) {
            (_, true) => Reason::Enabled,
            (Relay::InPlace(_), _) => Reason::Missing,
            _ => Reason::NotFound,
        };
        t.removed_disabled = false;
        changes.push(Change::Created {
            id: id.clone(),
            hook_id: created.hook_id.clone(),
            reason,
        });
        t.relay = Relay::InPlace(created.hook_id);
    } else {
        t.relay = Relay::Absent;
    }
    Ok(())
}
