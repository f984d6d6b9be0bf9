//! The per-event rules of XAPI.md §3, §4 and §6.2: which events give a
//! statement, from which stored records, and which records they store.
//! Pure: one event, the state and the settings in; a statement, changes and
//! a reason out. The meeting's own events are here; what people do in it is
//! in `interactions`.

use serde_json::{Map, Value};

use super::statement::{self, Common, Parts};
use super::{format, interactions, lrs, payload, zone};
use super::{Change, Destination, MeetingRecord, Output, Skip, State, Statement, XapiSettings};

/// The handled event ids, with what each is about.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Created,
    Ended,
    Joined,
    Left,
    /// A microphone, camera or screen event: verb and medium.
    Media(&'static str, &'static str),
    RaiseHand,
    Chat,
    PollStarted,
    PollResponded,
}

const START: &str = "http://activitystrea.ms/start";
const STOPPED: &str = "https://w3id.org/xapi/virtual-classroom/verbs/stopped";

impl Kind {
    fn of(id: &str) -> Option<Kind> {
        Some(match id {
            "meeting-created" => Kind::Created,
            "meeting-ended" => Kind::Ended,
            "user-joined" => Kind::Joined,
            "user-left" => Kind::Left,
            "user-audio-voice-enabled" | "user-audio-unmuted" => Kind::Media(START, "micro"),
            "user-audio-voice-disabled" | "user-audio-muted" => Kind::Media(STOPPED, "micro"),
            "user-cam-broadcast-start" => Kind::Media(START, "camera"),
            "user-cam-broadcast-end" => Kind::Media(STOPPED, "camera"),
            "meeting-screenshare-started" => Kind::Media("http://activitystrea.ms/share", "screen"),
            "meeting-screenshare-stopped" => {
                Kind::Media("http://activitystrea.ms/unshare", "screen")
            }
            "user-raise-hand-changed" => Kind::RaiseHand,
            "chat-group-message-sent" => Kind::Chat,
            "poll-started" => Kind::PollStarted,
            "poll-responded" => Kind::PollResponded,
            _ => return None,
        })
    }
}

/// What building one statement gives: its body, or why not.
pub(super) type Built = Result<Value, Skip>;

/// Processes one mapped webhook event. `now_ms` is the wall clock (record
/// activity and meeting end). Never panics, whatever the JSON.
pub fn process(event: &Value, state: &State, cfg: &XapiSettings, now_ms: u64) -> Output {
    let id = event
        .pointer("/data/id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(kind) = Kind::of(id) else {
        return skipped(Vec::new(), Skip::Ignored);
    };
    let attrs = event.pointer("/data/attributes");
    let meeting = attrs.and_then(|a| a.get("meeting"));
    let ids = ["internal-meeting-id", "external-meeting-id"]
        .map(|k| meeting.and_then(|m| m.get(k)?.as_str()));
    let [Some(internal), Some(external)] = ids else {
        return skipped(Vec::new(), Skip::BadMeetingId);
    };
    let ev = Event {
        id,
        event,
        attrs: attrs.unwrap_or(&Value::Null),
        internal,
        external,
        cfg,
        now_ms,
    };
    if kind == Kind::Created {
        return created(&ev, meeting.unwrap_or(&Value::Null), state);
    }
    let Some(record) = state.meeting(internal) else {
        return skipped(Vec::new(), Skip::MeetingUnknown);
    };
    let mut changes = Vec::new();
    if kind == Kind::Ended {
        changes.push(Change::MeetingEnded {
            meeting: internal.to_owned(),
            record: record.record.clone(),
            at_ms: now_ms,
        });
    } else if state.ended_at(internal).is_none()
        && state
            .last_activity(internal)
            .is_none_or(|t| now_ms >= t.saturating_add(crate::mapping::ACTIVITY_WRITE_INTERVAL_MS))
    {
        changes.push(Change::MeetingActive {
            meeting: internal.to_owned(),
            record: record.record.clone(),
            at_ms: now_ms,
        });
    }
    if !record.enabled {
        return skipped(changes, Skip::Disabled);
    }
    let built = match kind {
        Kind::Ended => ended(&ev, record),
        Kind::Joined => interactions::joined(&ev, record, state, &mut changes),
        Kind::Left | Kind::Media(..) | Kind::RaiseHand => {
            interactions::user_event(&ev, kind, record, state)
        }
        Kind::Chat => interactions::chat(&ev, record),
        Kind::PollStarted | Kind::PollResponded => {
            interactions::poll(&ev, kind, record, state, &mut changes)
        }
        Kind::Created => Err(Skip::Ignored),
    };
    finish(built, &record.destination, changes)
}

/// The destination of a meeting with (or without) `secret-lrs-payload`,
/// as [`process`] resolves it at `meeting-created` and the store at load.
pub fn route(payload: Option<&Value>, cfg: &XapiSettings) -> Result<Destination, Skip> {
    let opened = match payload {
        None => None,
        Some(Value::String(text)) => {
            Some(payload::open(text, cfg.secret.expose()).map_err(Skip::BadPayload)?)
        }
        Some(_) => return Err(Skip::BadPayload(payload::PayloadError::Undecryptable)),
    };
    lrs::destination(opened.as_ref(), &cfg.lrs, cfg.secret.expose().as_bytes())
        .map_err(Skip::Unroutable)
}

/// One event and what every rule needs from it.
pub(super) struct Event<'a> {
    pub(super) id: &'a str,
    pub(super) event: &'a Value,
    pub(super) attrs: &'a Value,
    pub(super) internal: &'a str,
    pub(super) external: &'a str,
    pub(super) cfg: &'a XapiSettings,
    pub(super) now_ms: u64,
}

impl Event<'_> {
    pub(super) fn attr(&self, path: &[&str]) -> Option<&Value> {
        crate::mapping::js::at(self.attrs, path)
    }

    /// The skeleton's shared parts for `record`, and the default timestamp;
    /// in the reference's order of failures: duration, then `ts`. The ids
    /// are made here, for the events that give a statement only.
    pub(super) fn common<'r>(
        &'r self,
        record: &'r MeetingRecord,
    ) -> Result<(Common<'r>, Value), Skip> {
        let planned = format::planned_duration(record.planned_duration.as_ref())
            .ok_or(Skip::BadValue("meeting.duration"))?;
        let ts = format::timestamp(self.event.pointer("/data/event/ts"))
            .ok_or(Skip::BadValue("data.event.ts"))?;
        let common = Common {
            domain: &self.cfg.domain,
            object_id: self.cfg.namespace.uuid(self.external),
            session_id: self.cfg.namespace.uuid(self.internal),
            registration: &record.registration,
            meeting_name: record.meeting_name.as_ref(),
            planned,
        };
        Ok((common, ts))
    }
}

fn skipped(changes: Vec<Change>, why: Skip) -> Output {
    Output {
        statement: None,
        changes,
        note: Some(why),
    }
}

fn finish(built: Built, destination: &Result<Destination, Skip>, changes: Vec<Change>) -> Output {
    let result = built.and_then(|body| match destination {
        Ok(d) => Ok(Statement {
            body,
            destination: d.clone(),
        }),
        Err(why) => Err(*why),
    });
    match result {
        Ok(statement) => Output {
            statement: Some(statement),
            changes,
            note: None,
        },
        Err(why) => skipped(changes, why),
    }
}

/// `meeting-created` (§4): payload check, registration, the record (first
/// write wins), then `initialized` from this event's own data.
fn created(ev: &Event, meeting: &Value, state: &State) -> Output {
    let metadata = meeting.get("metadata");
    let meta = |key: &str| metadata.and_then(|m| m.get(key));
    let payload = meta("secret-lrs-payload");
    let destination = match route(payload, ev.cfg) {
        Err(Skip::BadPayload(e)) => return skipped(Vec::new(), Skip::BadPayload(e)),
        other => other,
    };
    let Some(create_time) = meeting.get("create-time").and_then(Value::as_f64) else {
        return skipped(Vec::new(), Skip::BadValue("meeting.create-time"));
    };
    let date = zone::registration_date(create_time, &ev.cfg.time_zone);
    let actor_name = meta("xapi-create-end-actor-name");
    let record = MeetingRecord {
        record: ev.internal.to_owned(),
        internal_meeting_id: ev.internal.to_owned(),
        registration: ev.cfg.namespace.uuid(&format!("{}_{date}", ev.external)),
        planned_duration: meeting.get("duration").cloned(),
        create_time,
        meeting_name: meeting.get("name").cloned(),
        enabled: meta("xapi-enabled").and_then(Value::as_str) != Some("false"),
        actor_name: statement::actor(actor_name),
        lrs_payload: payload.and_then(Value::as_str).map(str::to_owned),
        destination,
    };
    let mut changes = Vec::new();
    match state.meeting(ev.internal) {
        None => changes.push(Change::MeetingSaved {
            meeting: record.clone(),
            at_ms: ev.now_ms,
        }),
        Some(first) => changes.push(Change::MeetingActive {
            meeting: ev.internal.to_owned(),
            record: first.record.clone(),
            at_ms: ev.now_ms,
        }),
    }
    if !record.enabled {
        return skipped(changes, Skip::Disabled);
    }
    let built = ev.common(&record).map(|(c, _ts)| {
        statement::build(
            &c,
            Parts {
                actor: record.actor_name.clone(),
                verb: "http://adlnet.gov/expapi/verbs/initialized",
                object: statement::meeting_object(&c),
                parent: false,
                planned: true,
                timestamp: format::iso_instant(record.create_time).map_or(Value::Null, Value::from),
                result: None,
            },
        )
    });
    finish(built, &record.destination, changes)
}

/// `meeting-ended`: `terminated`, with the elapsed time since creation.
fn ended(ev: &Event, record: &MeetingRecord) -> Built {
    let (c, ts) = ev.common(record)?;
    let now = ev
        .event
        .pointer("/data/event/ts")
        .and_then(Value::as_f64)
        .unwrap_or_default();
    let mut result = Map::new();
    result.insert(
        "duration".into(),
        Value::from(format::elapsed(now - record.create_time)),
    );
    Ok(statement::build(
        &c,
        Parts {
            actor: record.actor_name.clone(),
            verb: "http://adlnet.gov/expapi/verbs/terminated",
            object: statement::meeting_object(&c),
            parent: false,
            planned: true,
            timestamp: ts,
            result: Some(Value::Object(result)),
        },
    ))
}
