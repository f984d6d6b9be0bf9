//! What the xAPI output remembers between events (XAPI.md §7): meetings by
//! internal meeting id, users by internal user id, polls by `uuid5(poll.id)`,
//! first write wins; the changes that update it; and expiry. No I/O:
//! `crate::store::xapi` persists the same changes in Redis.
//!
//! Unlike the reference, records do not live forever. Every user and poll
//! record belongs to the meeting that wrote it (records loaded from the
//! reference's Redis, which say no meeting, belong to a group of their own),
//! and a meeting's records go together: [`ENDED_RETENTION_MS`] after its
//! `meeting-ended` (late events, such as BBB's own `user-left`s after the
//! end, still produce statements meanwhile, as in the reference), or after
//! the inactivity period the caller passes to [`State::expired`].

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde_json::Value;

use super::lrs::Destination;
use super::Skip;

/// How long an ended meeting's records are kept: one hour.
pub const ENDED_RETENTION_MS: u64 = 60 * 60 * 1000;

/// A meeting's record of XAPI.md §4, as `meeting-created` made it.
#[derive(Clone, PartialEq)]
pub struct MeetingRecord {
    /// Redis record id (the hash is `…:xapi:meeting:<record>`).
    pub record: String,
    pub internal_meeting_id: String,
    /// `uuid5(<external id>_<local YYYYMMDD of create-time>)`.
    pub registration: String,
    /// `A.meeting.duration` as received (minutes); `None` when absent.
    pub planned_duration: Option<Value>,
    /// `A.meeting["create-time"]`, epoch ms.
    pub create_time: f64,
    /// `A.meeting.name`; `None` when absent.
    pub meeting_name: Option<Value>,
    /// `false` only for metadata `xapi-enabled` = `"false"`.
    pub enabled: bool,
    /// Metadata `xapi-create-end-actor-name` when truthy, else `<unknown>`.
    pub actor_name: Value,
    /// Metadata `secret-lrs-payload`, still encrypted (kept for Redis).
    pub lrs_payload: Option<String>,
    /// Where its statements go, resolved when the record was made or loaded.
    pub destination: Result<Destination, Skip>,
}

impl fmt::Debug for MeetingRecord {
    /// Everything but the payload (and the destination's credentials).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeetingRecord")
            .field("record", &self.record)
            .field("internal_meeting_id", &self.internal_meeting_id)
            .field("registration", &self.registration)
            .field("planned_duration", &self.planned_duration)
            .field("create_time", &self.create_time)
            .field("meeting_name", &self.meeting_name)
            .field("enabled", &self.enabled)
            .field("actor_name", &self.actor_name)
            .field(
                "lrs_payload",
                &self.lrs_payload.as_ref().map(|_| "<redacted>"),
            )
            .field("destination", &self.destination)
            .finish()
    }
}

/// A user, as `user-joined` stored it.
#[derive(Clone, Debug, PartialEq)]
pub struct UserRecord {
    pub record: String,
    /// The meeting that wrote it; `None` for records of the reference.
    pub meeting: Option<String>,
    /// `A.user.name`; `None` when absent.
    pub name: Option<Value>,
}

/// A poll, as `poll-started` stored it.
#[derive(Clone, Debug, PartialEq)]
pub struct PollRecord {
    pub record: String,
    /// The meeting that wrote it; `None` for records of the reference.
    pub meeting: Option<String>,
    /// `A.poll.question`; `None` when absent.
    pub question: Option<Value>,
    /// `[{"id": String(answer.id), "description": {"en": answer.key}}, …]`.
    pub choices: Value,
}

/// Redis record ids to delete.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Records {
    pub meetings: Vec<String>,
    pub users: Vec<String>,
    pub polls: Vec<String>,
}

/// A change of the state. Each carries what persistence needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// A meeting record, active from `at_ms`. A second record for the same
    /// meeting (the reference's duplicates, at load) only joins its records.
    MeetingSaved { meeting: MeetingRecord, at_ms: u64 },
    /// The meeting was active at `at_ms` (at most once a minute); clears its
    /// end, as a meeting created again is alive again.
    MeetingActive {
        meeting: String,
        record: String,
        at_ms: u64,
    },
    /// The meeting ended at `at_ms`.
    MeetingEnded {
        meeting: String,
        record: String,
        at_ms: u64,
    },
    /// A meeting's records (`None`: the reference's unattached records) are
    /// gone.
    Expired {
        meeting: Option<String>,
        records: Records,
    },
    /// A user record (a group is made for its meeting if needed, active
    /// from `at_ms`).
    UserSaved {
        user: String,
        record: UserRecord,
        at_ms: u64,
    },
    /// A poll record, by poll object id.
    PollSaved {
        poll: String,
        record: PollRecord,
        at_ms: u64,
    },
}

/// One meeting's records.
#[derive(Clone, Debug, Default)]
struct Group {
    meeting: Option<MeetingRecord>,
    /// Record ids of further records of the same meeting.
    duplicates: Vec<String>,
    /// Ids of the users and polls with a record of this group (sets: a
    /// meeting of many users must not cost a scan per join).
    users: BTreeSet<String>,
    polls: BTreeSet<String>,
    last_activity: u64,
    ended_at: Option<u64>,
}

/// Meetings, users and polls.
#[derive(Clone, Debug, Default)]
pub struct State {
    groups: HashMap<String, Group>,
    /// Records without a meeting (loaded from the reference's layout).
    unattached: Group,
    /// Oldest record first: lookups return the first.
    users: HashMap<String, Vec<UserRecord>>,
    polls: HashMap<String, Vec<PollRecord>>,
}

impl State {
    /// The meeting record of an internal meeting id.
    pub fn meeting(&self, internal: &str) -> Option<&MeetingRecord> {
        self.groups.get(internal)?.meeting.as_ref()
    }

    /// The first stored record of a user, whichever meeting wrote it.
    pub fn user(&self, id: &str) -> Option<&UserRecord> {
        self.users.get(id)?.first()
    }

    /// The first stored record of a poll, by poll object id.
    pub fn poll(&self, object_id: &str) -> Option<&PollRecord> {
        self.polls.get(object_id)?.first()
    }

    /// Whether `meeting` already wrote a record for user `id`.
    pub fn has_user_in(&self, id: &str, meeting: &str) -> bool {
        let mine = |r: &UserRecord| r.meeting.as_deref() == Some(meeting);
        self.users.get(id).is_some_and(|rs| rs.iter().any(mine))
    }

    /// Whether `meeting` already wrote a record for poll `object_id`.
    pub fn has_poll_in(&self, object_id: &str, meeting: &str) -> bool {
        let mine = |r: &PollRecord| r.meeting.as_deref() == Some(meeting);
        self.polls
            .get(object_id)
            .is_some_and(|rs| rs.iter().any(mine))
    }

    /// Last recorded activity of a meeting.
    pub fn last_activity(&self, internal: &str) -> Option<u64> {
        self.groups.get(internal).map(|g| g.last_activity)
    }

    /// When a meeting ended, if it did.
    pub fn ended_at(&self, internal: &str) -> Option<u64> {
        self.groups.get(internal)?.ended_at
    }

    /// Numbers of meeting, user and poll records.
    pub fn counts(&self) -> (usize, usize, usize) {
        let meetings = self.groups.values().filter(|g| g.meeting.is_some()).count();
        let users = self.users.values().map(Vec::len).sum();
        let polls = self.polls.values().map(Vec::len).sum();
        (meetings, users, polls)
    }

    /// [`Change::Expired`] for every meeting ended more than
    /// [`ENDED_RETENTION_MS`] ago, and every group without activity for
    /// more than `ttl_ms`. The caller runs it periodically, persists and
    /// applies the changes.
    pub fn expired(&self, now_ms: u64, ttl_ms: u64) -> Vec<Change> {
        let gone = |g: &Group| {
            g.last_activity.saturating_add(ttl_ms) < now_ms
                || g.ended_at
                    .is_some_and(|e| e.saturating_add(ENDED_RETENTION_MS) < now_ms)
        };
        let mut ids: Vec<&String> = self
            .groups
            .iter()
            .filter(|(_, g)| gone(g))
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        let mut out: Vec<Change> = ids
            .into_iter()
            .map(|id| Change::Expired {
                meeting: Some(id.clone()),
                records: self.records_of(Some(id)),
            })
            .collect();
        let unattached = &self.unattached;
        if (!unattached.users.is_empty() || !unattached.polls.is_empty()) && gone(unattached) {
            out.push(Change::Expired {
                meeting: None,
                records: self.records_of(None),
            });
        }
        out
    }

    fn group(&self, meeting: Option<&str>) -> Option<&Group> {
        match meeting {
            Some(id) => self.groups.get(id),
            None => Some(&self.unattached),
        }
    }

    fn records_of(&self, meeting: Option<&str>) -> Records {
        let Some(g) = self.group(meeting) else {
            return Records::default();
        };
        let mine = |m: &Option<String>| m.as_deref() == meeting;
        let users = g.users.iter().filter_map(|id| self.users.get(id)).flatten();
        let polls = g.polls.iter().filter_map(|id| self.polls.get(id)).flatten();
        Records {
            meetings: g
                .meeting
                .iter()
                .map(|m| m.record.clone())
                .chain(g.duplicates.iter().cloned())
                .collect(),
            users: users
                .filter(|r| mine(&r.meeting))
                .map(|r| r.record.clone())
                .collect(),
            polls: polls
                .filter(|r| mine(&r.meeting))
                .map(|r| r.record.clone())
                .collect(),
        }
    }

    fn group_mut(&mut self, meeting: Option<&str>, at_ms: u64) -> &mut Group {
        match meeting {
            Some(id) => self.groups.entry(id.to_owned()).or_insert_with(|| Group {
                last_activity: at_ms,
                ..Group::default()
            }),
            None => {
                self.unattached.last_activity = self.unattached.last_activity.max(at_ms);
                &mut self.unattached
            }
        }
    }

    /// Applies one change.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::MeetingSaved { meeting, at_ms } => {
                let g = self.group_mut(Some(&meeting.internal_meeting_id), *at_ms);
                match &g.meeting {
                    Some(first) if first.record != meeting.record => {
                        g.duplicates.push(meeting.record.clone())
                    }
                    Some(_) => {}
                    None => {
                        g.meeting = Some(meeting.clone());
                        g.last_activity = *at_ms;
                    }
                }
            }
            Change::MeetingActive { meeting, at_ms, .. } => {
                if let Some(g) = self.groups.get_mut(meeting) {
                    g.last_activity = g.last_activity.max(*at_ms);
                    g.ended_at = None;
                }
            }
            Change::MeetingEnded { meeting, at_ms, .. } => {
                if let Some(g) = self.groups.get_mut(meeting) {
                    g.ended_at = Some(*at_ms);
                }
            }
            Change::Expired { meeting, .. } => self.remove(meeting.as_deref()),
            Change::UserSaved {
                user,
                record,
                at_ms,
            } => {
                let g = self.group_mut(record.meeting.as_deref(), *at_ms);
                g.users.insert(user.clone());
                self.users
                    .entry(user.clone())
                    .or_default()
                    .push(record.clone());
            }
            Change::PollSaved {
                poll,
                record,
                at_ms,
            } => {
                let g = self.group_mut(record.meeting.as_deref(), *at_ms);
                g.polls.insert(poll.clone());
                self.polls
                    .entry(poll.clone())
                    .or_default()
                    .push(record.clone());
            }
        }
    }

    fn remove(&mut self, meeting: Option<&str>) {
        let group = match meeting {
            Some(id) => self.groups.remove(id),
            None => Some(std::mem::take(&mut self.unattached)),
        };
        let Some(group) = group else { return };
        let mine = |m: &Option<String>| m.as_deref() == meeting;
        for id in &group.users {
            if let Some(records) = self.users.get_mut(id) {
                records.retain(|r| !mine(&r.meeting));
                if records.is_empty() {
                    self.users.remove(id);
                }
            }
        }
        for id in &group.polls {
            if let Some(records) = self.polls.get_mut(id) {
                records.retain(|r| !mine(&r.meeting));
                if records.is_empty() {
                    self.polls.remove(id);
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "tests/state.rs"]
mod tests;
