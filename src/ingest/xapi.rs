//! The xAPI step of ingest (docs/xapi.md): each mapped event of a message,
//! in order, through `xapi::process`; its state changes persisted to Redis,
//! then applied; its statement queued for its LRS in the message's batch,
//! after the callbacks. It builds no statement itself (`xapi` does) and
//! sends none (delivery does).

use std::collections::HashSet;
use std::sync::Arc;

use super::Io;
use crate::config::Config;
use crate::delivery::{Batch, Event, Target};
use crate::mapping::Mapped;
use crate::metrics::Metrics;
use crate::xapi::{self, Change, Skip, State, XapiSettings};

/// Most meetings warned about remembered; past it they are all forgotten
/// (a warning may be logged again).
const REMEMBERED: usize = 4096;

/// The xAPI settings of `config`, or `None` when xAPI is off. Reads the
/// local time zone (once: registrations are dated in it) and says at info
/// where statements go.
pub fn settings(config: &Config) -> Option<XapiSettings> {
    let x = &config.xapi;
    if !x.enabled {
        return None;
    }
    let Some(namespace) = x.uuid_namespace else {
        log::error!("xAPI is on without a namespace; no statements are sent");
        return None;
    };
    let (time_zone, fallback) = xapi::zone::system();
    if let Some(why) = fallback {
        log::warn!("xAPI registration dates: {why}");
    }
    let basic = x.lrs_username.is_some() && x.lrs_password.is_some();
    if x.lrs_url.is_some() && x.lrs_token.is_none() && !basic {
        log::warn!(
            "BBB_WEBHOOKS_XAPI_LRS_URL is set without BBB_WEBHOOKS_XAPI_LRS_TOKEN, or both BBB_WEBHOOKS_XAPI_LRS_USERNAME and BBB_WEBHOOKS_XAPI_LRS_PASSWORD: the missing parts are sent as undefined, as the reference sends them, and an LRS that refuses them (401) has each statement dropped after 3 attempts"
        );
    }
    match x.lrs_shown() {
        Some(lrs) => log::info!(
            "xAPI statements on: to {lrs}, or to the LRS a meeting's secret-lrs-payload names"
        ),
        None => log::info!(
            "xAPI statements on without BBB_WEBHOOKS_XAPI_LRS_URL: only meetings whose secret-lrs-payload names an LRS send statements"
        ),
    }
    log::info!(
        "xAPI registrations are dated in the time zone {}",
        time_zone.name()
    );
    Some(XapiSettings {
        namespace,
        domain: config.server_domain.clone(),
        secret: config.secret.clone(),
        lrs: x.lrs_defaults(),
        time_zone,
    })
}

/// The xAPI output's part of the ingest thread.
pub struct Xapi {
    settings: XapiSettings,
    state: State,
    /// Meetings whose unusable `secret-lrs-payload` was logged.
    warned: HashSet<String>,
}

impl Xapi {
    /// The output with the state read back at start.
    pub fn new(settings: XapiSettings, state: State) -> Xapi {
        Xapi {
            settings,
            state,
            warned: HashSet::new(),
        }
    }

    /// The statements of `events`, in their order, each for its LRS, with
    /// ids from `next_id`; `now_ms` is when their message came.
    pub(super) fn statements(
        &mut self,
        io: &mut Io,
        events: &[Mapped],
        now_ms: u64,
        next_id: &mut dyn FnMut() -> Arc<str>,
    ) -> Batch {
        let mut batch = Batch::new();
        for event in events {
            let out = xapi::process(&event.json, &self.state, &self.settings, now_ms);
            self.change(io, &out.changes);
            if let Some(statement) = out.statement {
                let target = Target::Lrs(statement.destination.lrs().clone());
                batch.push((Event::new(next_id(), statement.body_text()), vec![target]));
                Metrics::add(&io.metrics.xapi_statements, 1);
            } else if let Some(skip) = out.note {
                self.skipped(&io.metrics, event, skip);
            }
        }
        batch
    }

    /// Forgets the meetings ended an hour ago, or inactive for `ttl_ms`, at
    /// `now_ms`.
    pub(super) fn sweep(&mut self, io: &mut Io, now_ms: u64, ttl_ms: u64) {
        let changes = self.state.expired(now_ms, ttl_ms);
        if !changes.is_empty() {
            log::info!("forgetting the xAPI records of {} meetings", changes.len());
            self.change(io, &changes);
        }
    }

    /// Persists `changes`, then applies them (see [`Io::save`]: statements
    /// keep flowing, as callbacks do, when Redis refuses).
    fn change(&mut self, io: &mut Io, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        let what = "xAPI meeting, user and poll records";
        let apply = |change: &Change| self.state.apply(change);
        io.save(what, changes, crate::store::xapi::persist, apply);
    }

    /// Counts a skip; an unusable payload is logged at warn once per
    /// meeting (never the payload), the rest at debug.
    fn skipped(&mut self, metrics: &Metrics, event: &Mapped, skip: Skip) {
        if let Some(c) = metrics.xapi_skipped.get(skip.index()) {
            Metrics::add(c, 1);
        }
        let meeting = event.internal_meeting_id.as_deref().unwrap_or("");
        match skip {
            Skip::Ignored => {}
            Skip::BadPayload(_) => {
                if self.warned.len() >= REMEMBERED {
                    self.warned.clear();
                }
                if self.warned.insert(meeting.to_owned()) {
                    log::warn!("meeting {meeting} sends no xAPI statements: its {skip}");
                } else {
                    log::debug!(
                        "no xAPI statement for {} of meeting {meeting}: {skip}",
                        event.id
                    );
                }
            }
            _ => log::debug!(
                "no xAPI statement for {} of meeting {meeting}: {skip}",
                event.id
            ),
        }
    }
}
