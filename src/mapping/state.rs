//! What the mapping remembers between messages (meeting ID pairs, users and
//! their flags), the changes that update it, and expiry. No I/O: `crate::store::mapping`
//! persists the same changes in Redis.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// Activity is recorded at most this often per meeting, so that a busy
/// meeting does not cost a Redis write per message.
pub const ACTIVITY_WRITE_INTERVAL_MS: u64 = 60_000;

/// Default inactivity period after which a meeting and its users are
/// forgotten (the reference's `mappings.timeout`): one week.
pub const DEFAULT_TTL_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// A user of a meeting, as remembered from `user-joined`.
#[derive(Clone, Debug, PartialEq)]
pub struct UserRecord {
    /// Redis record id (the hash is `<userMapPrefix>:<record>`).
    pub record: String,
    /// Internal user ID.
    pub internal: String,
    /// External user ID (may be empty).
    pub external: String,
    /// The `user` attribute of the join event, kept current: `presenter`,
    /// plus the reference's bookkeeping flags `screenshare` and `raiseHand`.
    pub attrs: Map<String, Value>,
}

/// A change of the mapping state. Each carries what [`crate::store::mapping::persist`]
/// needs, so persistence does not have to read the state.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// A meeting was created: remember its external ID. Users already known
    /// for the internal ID are kept.
    MeetingCreated {
        internal: String,
        external: String,
        /// Redis record id of the meeting mapping.
        record: String,
        /// Counts as the meeting's first activity.
        at_ms: u64,
    },
    /// The meeting was active at `at_ms` (see [`ACTIVITY_WRITE_INTERVAL_MS`]).
    MeetingActivity {
        internal: String,
        /// `None` when only users are known for the meeting: nothing to write.
        record: Option<String>,
        at_ms: u64,
    },
    /// A meeting ended: forget it and its users.
    MeetingEnded {
        internal: String,
        record: Option<String>,
        user_records: Vec<String>,
    },
    /// A meeting was inactive for too long: forget it and its users.
    MeetingExpired {
        internal: String,
        record: Option<String>,
        user_records: Vec<String>,
    },
    /// A user joined or one of its flags changed: store the whole record.
    /// Creates the meeting's entry (active at `at_ms`) if it has none.
    UserSaved {
        meeting: String,
        user: UserRecord,
        at_ms: u64,
    },
    /// A user left: forget it.
    UserLeft {
        meeting: String,
        internal: String,
        record: String,
    },
}

#[derive(Clone, Debug, Default)]
struct Meeting {
    /// `None` while only users are known (the meeting was created before this
    /// server or the reference knew it).
    external: Option<String>,
    record: Option<String>,
    last_activity: u64,
    /// In join order.
    users: Vec<UserRecord>,
}

/// What the mapping remembers between messages, by internal meeting ID.
///
/// Activity and expiry: every event of a known meeting (except its end)
/// counts as activity, but [`super::map`] records it, as a
/// [`Change::MeetingActivity`], only when the recorded time is at least
/// [`ACTIVITY_WRITE_INTERVAL_MS`] old: at most one Redis write per meeting
/// per minute, at the cost of expiring a meeting up to a minute early.
/// [`State::expired`] returns a [`Change::MeetingExpired`] for every meeting
/// (and every set of users of an unknown meeting) whose recorded activity is
/// older than the inactivity period; the caller runs it periodically.
#[derive(Clone, Debug, Default)]
pub struct State {
    meetings: HashMap<String, Meeting>,
}

impl State {
    /// The external ID of a meeting, by internal ID.
    pub fn external_meeting_id(&self, internal: &str) -> Option<&str> {
        self.meetings.get(internal)?.external.as_deref()
    }

    /// Number of meetings whose external ID is known.
    pub fn meeting_count(&self) -> usize {
        self.meetings
            .values()
            .filter(|m| m.external.is_some())
            .count()
    }

    /// Number of users known, over all meetings.
    pub fn user_count(&self) -> usize {
        self.meetings.values().map(|m| m.users.len()).sum()
    }

    /// A user of a meeting.
    pub fn user(&self, meeting: &str, user: &str) -> Option<&UserRecord> {
        self.users(meeting).iter().find(|u| u.internal == user)
    }

    /// The users of a meeting, in join order.
    pub fn users(&self, meeting: &str) -> &[UserRecord] {
        self.meetings
            .get(meeting)
            .map(|m| m.users.as_slice())
            .unwrap_or_default()
    }

    /// Redis record id of a meeting mapping.
    pub(crate) fn meeting_record(&self, meeting: &str) -> Option<&str> {
        self.meetings.get(meeting)?.record.as_deref()
    }

    /// Last recorded activity of a meeting (or of its users' entry).
    pub fn last_activity(&self, meeting: &str) -> Option<u64> {
        self.meetings.get(meeting).map(|m| m.last_activity)
    }

    /// The change that removes a meeting with its users (`expired` picks the
    /// variant), or `None` when nothing is known about it.
    pub(crate) fn removal(&self, internal: &str, expired: bool) -> Option<Change> {
        let m = self.meetings.get(internal)?;
        let internal = internal.to_owned();
        let record = m.record.clone();
        let user_records = m.users.iter().map(|u| u.record.clone()).collect();
        Some(if expired {
            Change::MeetingExpired {
                internal,
                record,
                user_records,
            }
        } else {
            Change::MeetingEnded {
                internal,
                record,
                user_records,
            }
        })
    }

    /// Removal changes for every meeting without activity for more than
    /// `ttl_ms` (users of an unknown meeting expire the same way). The caller
    /// calls it periodically, persists and applies the changes.
    pub fn expired(&self, now_ms: u64, ttl_ms: u64) -> Vec<Change> {
        let mut ids: Vec<&String> = self
            .meetings
            .iter()
            .filter(|(_, m)| m.last_activity.saturating_add(ttl_ms) < now_ms)
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        ids.into_iter()
            .filter_map(|id| self.removal(id, true))
            .collect()
    }

    /// Applies one change.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::MeetingCreated {
                internal,
                external,
                record,
                at_ms,
            } => {
                let m = self.meetings.entry(internal.clone()).or_default();
                m.external = Some(external.clone());
                m.record = Some(record.clone());
                m.last_activity = *at_ms;
            }
            Change::MeetingActivity {
                internal, at_ms, ..
            } => {
                if let Some(m) = self.meetings.get_mut(internal) {
                    m.last_activity = m.last_activity.max(*at_ms);
                }
            }
            Change::MeetingEnded { internal, .. } | Change::MeetingExpired { internal, .. } => {
                self.meetings.remove(internal);
            }
            Change::UserSaved {
                meeting,
                user,
                at_ms,
            } => {
                let m = self
                    .meetings
                    .entry(meeting.clone())
                    .or_insert_with(|| Meeting {
                        last_activity: *at_ms,
                        ..Meeting::default()
                    });
                match m.users.iter_mut().find(|u| u.internal == user.internal) {
                    Some(existing) => *existing = user.clone(),
                    None => m.users.push(user.clone()),
                }
            }
            Change::UserLeft {
                meeting, internal, ..
            } => {
                if let Some(m) = self.meetings.get_mut(meeting) {
                    m.users.retain(|u| &u.internal != internal);
                    if m.external.is_none() && m.users.is_empty() {
                        self.meetings.remove(meeting);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ingest thread owns the state; other threads may read a snapshot.
    const _: () = {
        const fn shared<T: Send + Sync>() {}
        shared::<State>();
        shared::<Change>();
    };

    fn user(internal: &str) -> UserRecord {
        UserRecord {
            record: format!("m1:{internal}"),
            internal: internal.into(),
            external: format!("ext-{internal}"),
            attrs: Map::new(),
        }
    }

    #[test]
    fn meeting_and_users_expire_together_after_inactivity() {
        let mut s = State::default();
        s.apply(&Change::MeetingCreated {
            internal: "m1".into(),
            external: "e1".into(),
            record: "m1".into(),
            at_ms: 1_000,
        });
        s.apply(&Change::UserSaved {
            meeting: "m1".into(),
            user: user("u1"),
            at_ms: 1_000,
        });
        s.apply(&Change::UserSaved {
            meeting: "orphan".into(),
            user: user("u2"),
            at_ms: 5_000,
        });
        assert_eq!((s.meeting_count(), s.user_count()), (1, 2));
        assert!(s.expired(1_000 + 10, 10).is_empty());
        let gone = s.expired(1_000 + 11, 10);
        assert_eq!(
            gone,
            vec![Change::MeetingExpired {
                internal: "m1".into(),
                record: Some("m1".into()),
                user_records: vec!["m1:u1".into()],
            }]
        );
        s.apply(&Change::MeetingActivity {
            internal: "m1".into(),
            record: Some("m1".into()),
            at_ms: 2_000,
        });
        assert!(s.expired(1_000 + 11, 10).is_empty());
        for c in s.expired(u64::MAX, 10) {
            s.apply(&c);
        }
        assert_eq!((s.meeting_count(), s.user_count()), (0, 0));
    }

    #[test]
    fn last_user_leaving_an_unknown_meeting_drops_its_entry() {
        let mut s = State::default();
        s.apply(&Change::UserSaved {
            meeting: "m".into(),
            user: user("u"),
            at_ms: 1,
        });
        assert_eq!(s.last_activity("m"), Some(1));
        s.apply(&Change::UserLeft {
            meeting: "m".into(),
            internal: "u".into(),
            record: "m1:u".into(),
        });
        assert_eq!(s.last_activity("m"), None);
    }
}
