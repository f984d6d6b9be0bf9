//! What a sync changed ([`Change`]), each worth one log line at its own
//! level, worded for an operator: which server, what happened, what is
//! done about it. Never holds a secret or a signed URL.

use std::fmt;
use std::time::Duration;

use super::reconcile::{Doom, Gone};

/// Why a relay hook was created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// None was there when first looked at (a new server, or the first
    /// sync since this service started).
    NotFound,
    /// One was in place before and is gone (deleted on the server, or lost
    /// with its Redis).
    Missing,
    /// The server is enabled or cordoned again after it was disabled.
    Enabled,
}

/// One change, as a sync reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A server is in the pool (for the first time, or again).
    Joined { id: String },
    /// A server left the pool; its relay hook is being removed.
    Left { id: String },
    /// A server's record cannot be read; it is left as it was.
    Held { id: String },
    Created {
        id: String,
        hook_id: String,
        reason: Reason,
    },
    /// The relay hook was found in place (at the first look, or with
    /// another id than before).
    Found { id: String, hook_id: String },
    Removed {
        id: String,
        count: usize,
        doom: Doom,
    },
    /// Hooks that should go are permanent on the server.
    Stuck { id: String, hooks: Vec<String> },
    /// Calls to a server began to fail; it is retried with a growing wait.
    Failing { id: String, error: String },
    /// Calls to a failing server work again.
    Recovered { id: String, after: Duration },
    /// A server that left the pool and has no relay hook is forgotten.
    Forgotten { id: String },
    /// A server that left the pool could not be reached to remove its relay
    /// hook for so long that it is forgotten; the hook may remain there.
    GaveUp { id: String, error: String },
}

impl Change {
    /// The level to log it at: what needs a look is a warning.
    pub fn level(&self) -> log::Level {
        match self {
            Change::Held { .. }
            | Change::Stuck { .. }
            | Change::Failing { .. }
            | Change::GaveUp { .. } => log::Level::Warn,
            Change::Removed {
                doom: Doom::Duplicate | Doom::Misfit,
                ..
            } => log::Level::Warn,
            _ => log::Level::Info,
        }
    }

    /// Logs it, once, at its level.
    pub fn log(&self) {
        log::log!(self.level(), "{self}");
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Joined { id } => write!(f, "pool server {id}: in the pool"),
            Change::Left { id } => {
                write!(
                    f,
                    "pool server {id}: left the pool; removing its relay hook"
                )
            }
            Change::Held { id } => write!(
                f,
                "pool server {id}: its record cannot be read; its relay hook is left as it was"
            ),
            Change::Created {
                id,
                hook_id,
                reason,
            } => {
                let why = match reason {
                    Reason::NotFound => "none was there",
                    Reason::Missing => "the one in place is gone",
                    Reason::Enabled => "the server is in use again",
                };
                write!(f, "pool server {id}: relay hook {hook_id} created ({why})")
            }
            Change::Found { id, hook_id } => {
                write!(f, "pool server {id}: relay hook {hook_id} in place")
            }
            Change::Removed { id, count, doom } => {
                let what = match doom {
                    Doom::Duplicate => "duplicate relay hook",
                    Doom::Stale => "relay hook for a former relay URL",
                    Doom::Misfit => "relay hook with a filter or raw data",
                    Doom::Unwanted(Gone::Disabled) => "relay hook (server disabled)",
                    Doom::Unwanted(Gone::LeftPool) => "relay hook (server left the pool)",
                };
                write!(f, "pool server {id}: removed {count} {what}")?;
                if *count > 1 {
                    f.write_str("s")?;
                }
                Ok(())
            }
            Change::Stuck { id, hooks } => write!(
                f,
                "pool server {id}: relay hook {} should go but is permanent in that server's \
                 webhooks configuration; remove it there",
                hooks.join(", ")
            ),
            Change::Failing { id, error } => {
                write!(
                    f,
                    "pool server {id}: hooks API call failed ({error}); will retry"
                )
            }
            Change::Recovered { id, after } => write!(
                f,
                "pool server {id}: hooks API answers again after {} s",
                after.as_secs()
            ),
            Change::Forgotten { id } => write!(f, "pool server {id}: forgotten"),
            Change::GaveUp { id, error } => write!(
                f,
                "pool server {id}: left the pool and could not be reached to remove its relay \
                 hook ({error}); giving up, the hook may remain there"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_levels() {
        let c = Change::Removed {
            id: "bbb1".into(),
            count: 2,
            doom: Doom::Duplicate,
        };
        assert_eq!(
            c.to_string(),
            "pool server bbb1: removed 2 duplicate relay hooks"
        );
        assert_eq!(c.level(), log::Level::Warn);
        let c = Change::Created {
            id: "bbb1".into(),
            hook_id: "h".into(),
            reason: Reason::Missing,
        };
        assert_eq!(
            c.to_string(),
            "pool server bbb1: relay hook h created (the one in place is gone)"
        );
        assert_eq!(c.level(), log::Level::Info);
    }
}
