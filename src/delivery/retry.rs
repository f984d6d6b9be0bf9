//! The retry policy: after a failed attempt, when the next one is, or whether
//! the hook is given up. A pure function of the schedule, the attempt number
//! and the failure.

use std::time::Duration;

use super::outcome::Failure;
use super::Target;
use crate::config::Config;

/// A hook failing past its retry schedule is logged at error once, then once
/// every this many attempts.
pub const FAILING_LOG_EVERY: usize = 60;

/// The schedule and what happens when it runs out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Waits after the 1st, 2nd, ... failed attempt; the last one repeats.
    /// Never empty.
    pub intervals: Vec<Duration>,
    /// Give a hook up once its schedule is exhausted (`BBB_WEBHOOKS_REMOVE_FAILED_HOOKS`).
    pub remove_failed: bool,
}

/// Why a hook is given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiveUp {
    /// The endpoint answered 410 Gone.
    Gone,
    /// Every attempt of the schedule failed.
    Exhausted,
}

/// Attempts at a statement an LRS refuses for good before it is dropped.
pub const UNFIXABLE_ATTEMPTS: usize = 3;

/// What happens after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Drop the event at the head (an LRS refused it for good) and go on
    /// with the next.
    DropHead,
    /// Try the same events again after `wait`.
    Retry {
        wait: Duration,
        /// The schedule is used up: the hook is failing.
        exhausted: bool,
        /// Worth a log line at warn (within the schedule) or error (failing,
        /// once and then every [`FAILING_LOG_EVERY`] attempts); otherwise debug.
        loud: bool,
    },
    /// Remove the hook.
    GiveUp(GiveUp),
}

impl Policy {
    pub fn from_config(config: &Config) -> Policy {
        Policy {
            intervals: config.retry_intervals.clone(),
            remove_failed: config.remove_failed_hooks,
        }
    }

    /// Attempts in all before a hook counts as failing: the first one plus
    /// one per interval.
    pub fn attempts(&self) -> usize {
        self.intervals.len() + 1
    }

    /// Decides after failed attempt number `attempt` (1 for the first
    /// failure in a row). A permanent hook is never given up; any other is
    /// on 410, or once the schedule is exhausted if so configured. The wait
    /// is the schedule's, or the endpoint's `Retry-After` when longer.
    pub fn decide(&self, attempt: usize, failure: &Failure, permanent: bool) -> Decision {
        let attempt = attempt.max(1);
        let n = self.intervals.len();
        let exhausted = attempt > n;
        if failure.unfixable && attempt >= UNFIXABLE_ATTEMPTS {
            return Decision::DropHead;
        }
        if !permanent && failure.gone {
            return Decision::GiveUp(GiveUp::Gone);
        }
        if !permanent && exhausted && self.remove_failed {
            return Decision::GiveUp(GiveUp::Exhausted);
        }
        let interval = self
            .intervals
            .get((attempt - 1).min(n.saturating_sub(1)))
            .copied()
            .unwrap_or_default();
        let wait = failure.retry_after.map_or(interval, |r| r.max(interval));
        let loud = !exhausted || (attempt - n - 1).is_multiple_of(FAILING_LOG_EVERY);
        Decision::Retry {
            wait,
            exhausted,
            loud,
        }
    }
}

impl Policy {
    /// The log line for `decision` after failed attempt number `attempt`
    /// to `hook`, with its level: warn within the schedule, error when the
    /// schedule is exhausted (once, then every [`FAILING_LOG_EVERY`]
    /// attempts) or the hook is given up, debug in between.
    pub fn notice(
        &self,
        decision: &Decision,
        target: &Target,
        failure: &Failure,
        attempt: usize,
        pending: usize,
    ) -> (log::Level, String) {
        let why = &failure.message;
        let url = target.logged();
        let (what, events) = match target {
            Target::Hook(_) => ("callback", "events"),
            Target::Lrs(_) => ("statement", "statements"),
        };
        match *decision {
            Decision::Retry { loud: false, .. } => (
                log::Level::Debug,
                format!("{what} to {url} still failing ({why}), attempt {attempt}"),
            ),
            Decision::Retry { wait, exhausted: true, .. } => (
                log::Level::Error,
                format!(
                    "{what} to {url} still failing after {attempt} attempts ({why}); retrying every {} ms, {pending} {events} pending",
                    wait.as_millis()
                ),
            ),
            Decision::Retry { wait, .. } => (
                log::Level::Warn,
                format!(
                    "{what} to {url} failed ({why}); attempt {attempt} of {}, next in {} ms",
                    self.attempts(),
                    wait.as_millis()
                ),
            ),
            Decision::GiveUp(give_up) => {
                let because = match give_up {
                    GiveUp::Gone => "the endpoint answered 410 Gone".to_owned(),
                    GiveUp::Exhausted => format!("{attempt} attempts failed, the last with: {why}"),
                };
                (
                    log::Level::Error,
                    format!("removing hook {} ({url}): {because}", target.queue_id()),
                )
            }
            Decision::DropHead => (
                log::Level::Error,
                format!("{url} refused a statement {attempt} times ({why}); dropping it and going on with the next"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::outcome::classify;
    use crate::hooks::Hook;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().copied().map(Duration::from_millis).collect()
    }

    fn policy(remove_failed: bool) -> Policy {
        Policy {
            intervals: ms(&[100, 500, 1000]),
            remove_failed,
        }
    }

    fn http(status: u16) -> Failure {
        classify(status, None, None).expect_err("a failure")
    }

    fn wait(d: Decision) -> Duration {
        match d {
            Decision::Retry { wait, .. } => wait,
            other => panic!("expected a retry, got {other:?}"),
        }
    }

    #[test]
    fn the_schedule_is_followed_and_its_last_wait_repeats() {
        let p = policy(false);
        let waits: Vec<Duration> = (1..=5)
            .map(|a| wait(p.decide(a, &http(500), false)))
            .collect();
        assert_eq!(waits, ms(&[100, 500, 1000, 1000, 1000]));
        assert_eq!(p.attempts(), 4);
    }

    #[test]
    fn within_the_schedule_every_failure_is_loud_and_not_exhausted() {
        let p = policy(false);
        for a in 1..=3 {
            assert_eq!(
                p.decide(a, &http(500), false),
                Decision::Retry {
                    wait: p.intervals[a - 1],
                    exhausted: false,
                    loud: true
                }
            );
        }
    }

    #[test]
    fn an_exhausted_schedule_keeps_retrying_and_logs_every_60th() {
        let p = policy(false);
        let d = p.decide(4, &http(500), false);
        assert!(
            matches!(
                d,
                Decision::Retry {
                    exhausted: true,
                    loud: true,
                    ..
                }
            ),
            "{d:?}"
        );
        let d = p.decide(5, &http(500), false);
        assert!(
            matches!(
                d,
                Decision::Retry {
                    exhausted: true,
                    loud: false,
                    ..
                }
            ),
            "{d:?}"
        );
        let d = p.decide(4 + FAILING_LOG_EVERY, &http(500), false);
        assert!(matches!(d, Decision::Retry { loud: true, .. }), "{d:?}");
    }

    #[test]
    fn an_exhausted_schedule_gives_up_when_configured() {
        let p = policy(true);
        assert!(matches!(
            p.decide(3, &http(500), false),
            Decision::Retry { .. }
        ));
        assert_eq!(
            p.decide(4, &http(500), false),
            Decision::GiveUp(GiveUp::Exhausted)
        );
    }

    #[test]
    fn a_410_gives_up_at_once() {
        assert_eq!(
            policy(false).decide(1, &http(410), false),
            Decision::GiveUp(GiveUp::Gone)
        );
    }

    #[test]
    fn a_permanent_hook_is_never_given_up() {
        let p = policy(true);
        assert!(matches!(
            p.decide(1, &http(410), true),
            Decision::Retry { .. }
        ));
        assert!(matches!(
            p.decide(100, &http(500), true),
            Decision::Retry {
                exhausted: true,
                ..
            }
        ));
    }

    #[test]
    fn failures_are_logged_at_warn_then_error_then_quietly() {
        let p = policy(false);
        let f = http(500);
        let mut h = Hook::new("http://h/".into(), None, None, false, false);
        h.id = "h1".into();
        let hook = Target::Hook(std::sync::Arc::new(h));
        let level = |a: usize| p.notice(&p.decide(a, &f, false), &hook, &f, a, 3).0;
        assert_eq!(level(1), log::Level::Warn);
        assert_eq!(level(3), log::Level::Warn);
        assert_eq!(level(4), log::Level::Error);
        assert_eq!(level(5), log::Level::Debug);
        let (_, line) = p.notice(&p.decide(2, &f, false), &hook, &f, 2, 3);
        assert_eq!(
            line,
            "callback to http://h/ failed (HTTP 500); attempt 2 of 4, next in 500 ms"
        );
        let gone = http(410);
        let (level, line) = p.notice(&p.decide(1, &gone, false), &hook, &gone, 1, 3);
        assert_eq!(level, log::Level::Error);
        assert_eq!(
            line,
            "removing hook h1 (http://h/): the endpoint answered 410 Gone"
        );
    }

    #[test]
    fn a_statement_an_lrs_refuses_for_good_is_dropped_after_a_few_attempts() {
        let p = policy(false);
        let refused = crate::delivery::outcome::classify_lrs(400, None, "").expect_err("400");
        assert!(matches!(
            p.decide(1, &refused, true),
            Decision::Retry { .. }
        ));
        assert!(matches!(
            p.decide(2, &refused, true),
            Decision::Retry { .. }
        ));
        assert_eq!(
            p.decide(UNFIXABLE_ATTEMPTS, &refused, true),
            Decision::DropHead
        );
        let retried = crate::delivery::outcome::classify_lrs(500, None, "").expect_err("500");
        assert!(matches!(
            p.decide(10, &retried, true),
            Decision::Retry { .. }
        ));
        let lrs = Target::Lrs(std::sync::Arc::new(crate::delivery::Lrs {
            id: "ab".into(),
            url: "https://lrs/xAPI/statements".into(),
            authorization: crate::config::Secret::new("Bearer t"),
        }));
        let (_, line) = p.notice(&p.decide(1, &retried, true), &lrs, &retried, 1, 2);
        assert_eq!(
            line,
            "statement to LRS https://lrs/xAPI/statements failed (HTTP 500); attempt 1 of 4, next in 100 ms"
        );
        let (_, line) = p.notice(&p.decide(4, &retried, true), &lrs, &retried, 4, 2);
        assert!(line.ends_with("2 statements pending"), "{line}");
    }

    #[test]
    fn retry_after_lengthens_the_wait_but_never_shortens_it() {
        let p = policy(false);
        let slow = classify(503, Some("3"), None).expect_err("503");
        assert_eq!(wait(p.decide(1, &slow, false)), Duration::from_secs(3));
        let quick = classify(429, Some("0"), None).expect_err("429");
        assert_eq!(wait(p.decide(2, &quick, false)), Duration::from_millis(500));
    }
}
