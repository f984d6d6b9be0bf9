//! Telling apart an endpoint that stalls every kept-alive request on a
//! delayed ACK from one that is slow. Some receivers (Python's
//! `http.server` in HTTP/1.1 mode, for one) write a response's headers and
//! body separately; with Nagle's algorithm on their side and delayed ACKs on
//! ours, every request on a kept-alive connection then waits about 40 ms,
//! capping the hook at some 25 requests a second. A new connection per
//! request does not stall (a new connection ACKs at once). So a hook whose
//! kept-alive requests keep taking about that long while events wait is
//! tried on new connections; if they are clearly faster it keeps them, if
//! not the endpoint is just slow and stays on kept-alive connections (and is
//! looked at again much later). Pure; the
//! scheduler keeps one per hook.

use std::collections::VecDeque;
use std::time::Duration;

/// Requests looked at before deciding.
const WINDOW: usize = 8;
/// Of them, how many must look stalled.
const STALLED: usize = 6;
/// What a stalled request takes: the delayed-ACK timer (40 ms on Linux,
/// up to 200 ms elsewhere) plus a little.
const BAND: (Duration, Duration) = (Duration::from_millis(30), Duration::from_millis(250));

/// How a hook's requests are sent.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Mode {
    /// On kept-alive connections, watching for stalls.
    Pooled,
    /// On new connections for a while, to compare.
    Probing(Vec<Duration>),
    /// On new connections: they were much faster.
    Fresh,
    /// On kept-alive connections: new ones were not faster. After
    /// [`RECHECK_AFTER`] more requests the hook is watched again (the
    /// machine may have been busy when it was tried).
    Slow(usize),
}

/// Requests after a rejected try before a hook is watched again.
const RECHECK_AFTER: usize = 10_000;

/// What changed, for a log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Requests look stalled: trying new connections.
    Probe { pooled: Duration },
    /// New connections are faster: keeping them.
    Adopt { pooled: Duration, fresh: Duration },
    /// New connections are not faster: the endpoint is slow.
    Reject { pooled: Duration, fresh: Duration },
}

/// One hook's request times and the mode they led to.
#[derive(Clone, Debug)]
pub struct Stall {
    mode: Mode,
    /// Recent kept-alive request times.
    pooled: VecDeque<Duration>,
}

impl Default for Stall {
    fn default() -> Stall {
        Stall {
            mode: Mode::Pooled,
            pooled: VecDeque::with_capacity(WINDOW),
        }
    }
}

fn median(times: &[Duration]) -> Duration {
    let mut t = times.to_vec();
    t.sort_unstable();
    t.get(t.len() / 2).copied().unwrap_or_default()
}

impl Stall {
    /// Whether the hook's next requests go on new connections.
    pub fn fresh(&self) -> bool {
        matches!(self.mode, Mode::Probing(_) | Mode::Fresh)
    }

    /// `requests` requests took `per_request` each on average; `waiting`
    /// events are still queued behind them.
    pub fn observe(
        &mut self,
        per_request: Duration,
        requests: usize,
        waiting: usize,
    ) -> Option<Verdict> {
        if requests == 0 {
            return None;
        }
        match &mut self.mode {
            Mode::Pooled => {
                for _ in 0..requests.min(WINDOW) {
                    if self.pooled.len() == WINDOW {
                        self.pooled.pop_front();
                    }
                    self.pooled.push_back(per_request);
                }
                let stalled = self
                    .pooled
                    .iter()
                    .filter(|t| (BAND.0..=BAND.1).contains(*t))
                    .count();
                if self.pooled.len() == WINDOW && stalled >= STALLED && waiting > 0 {
                    self.mode = Mode::Probing(Vec::with_capacity(WINDOW));
                    return Some(Verdict::Probe {
                        pooled: self.pooled_median(),
                    });
                }
                None
            }
            Mode::Probing(times) => {
                for _ in 0..requests.min(WINDOW) {
                    times.push(per_request);
                }
                if times.len() < WINDOW {
                    return None;
                }
                let fresh = median(times);
                let pooled = self.pooled_median();
                // Clearly faster: by a quarter at least, which a stall of
                // tens of ms is even when new connections are slow to open
                // on a busy machine, and a slow endpoint is not.
                if fresh * 4 < pooled * 3 {
                    self.mode = Mode::Fresh;
                    Some(Verdict::Adopt { pooled, fresh })
                } else {
                    self.mode = Mode::Slow(0);
                    Some(Verdict::Reject { pooled, fresh })
                }
            }
            Mode::Slow(seen) => {
                *seen += requests;
                if *seen >= RECHECK_AFTER {
                    self.mode = Mode::Pooled;
                    self.pooled.clear();
                }
                None
            }
            Mode::Fresh => None,
        }
    }

    fn pooled_median(&self) -> Duration {
        median(&self.pooled.iter().copied().collect::<Vec<_>>())
    }
}

/// The log line of a verdict on `target`.
pub fn log(target: &super::Target, v: Verdict) {
    let url = target.logged();
    match v {
        Verdict::Probe { pooled } => log::info!(
            "requests to {url} take {} ms each on kept-alive connections while events wait; trying a new connection per request",
            pooled.as_millis()
        ),
        Verdict::Adopt { pooled, fresh } => log::warn!(
            "{url} stalls kept-alive requests ({} ms each, {} ms on new connections: a delayed-ACK stall); it gets a new connection per request from now on",
            pooled.as_millis(),
            fresh.as_millis()
        ),
        Verdict::Reject { pooled, fresh } => log::info!(
            "{url} is slow either way ({} ms kept alive, {} ms on new connections); keeping its connections alive",
            pooled.as_millis(),
            fresh.as_millis()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn feed(s: &mut Stall, t: Duration, n: usize, waiting: usize) -> Vec<Verdict> {
        (0..n).filter_map(|_| s.observe(t, 1, waiting)).collect()
    }

    #[test]
    fn fast_requests_stay_on_kept_alive_connections() {
        let mut s = Stall::default();
        assert!(feed(&mut s, ms(1), 100, 50).is_empty());
        assert!(!s.fresh());
    }

    #[test]
    fn stalled_requests_with_a_backlog_are_tried_on_new_connections() {
        let mut s = Stall::default();
        let v = feed(&mut s, ms(41), WINDOW, 10);
        assert_eq!(v, vec![Verdict::Probe { pooled: ms(41) }]);
        assert!(s.fresh());
    }

    #[test]
    fn stalled_requests_without_a_backlog_change_nothing() {
        let mut s = Stall::default();
        assert!(feed(&mut s, ms(41), 50, 0).is_empty());
        assert!(!s.fresh());
    }

    #[test]
    fn new_connections_that_are_much_faster_are_kept() {
        let mut s = Stall::default();
        feed(&mut s, ms(41), WINDOW, 10);
        let v = feed(&mut s, ms(2), WINDOW, 10);
        assert_eq!(
            v,
            vec![Verdict::Adopt {
                pooled: ms(41),
                fresh: ms(2)
            }]
        );
        assert!(s.fresh());
        assert!(feed(&mut s, ms(41), 100, 10).is_empty(), "decided for good");
    }

    #[test]
    fn an_endpoint_that_is_just_slow_goes_back_to_kept_alive_connections() {
        let mut s = Stall::default();
        feed(&mut s, ms(50), WINDOW, 10);
        let v = feed(&mut s, ms(48), WINDOW, 10);
        assert_eq!(
            v,
            vec![Verdict::Reject {
                pooled: ms(50),
                fresh: ms(48)
            }]
        );
        assert!(!s.fresh());
        assert!(
            feed(&mut s, ms(50), 100, 10).is_empty(),
            "never probed again"
        );
    }

    #[test]
    fn new_connections_slowed_by_a_busy_machine_still_win_against_a_stall() {
        let mut s = Stall::default();
        feed(&mut s, ms(44), WINDOW, 10);
        let v = feed(&mut s, ms(28), WINDOW, 10);
        assert_eq!(
            v,
            vec![Verdict::Adopt {
                pooled: ms(44),
                fresh: ms(28)
            }]
        );
    }

    #[test]
    fn a_slow_endpoint_is_watched_again_after_many_requests() {
        let mut s = Stall::default();
        feed(&mut s, ms(50), WINDOW, 10);
        feed(&mut s, ms(48), WINDOW, 10);
        assert!(!s.fresh());
        assert!(feed(&mut s, ms(50), RECHECK_AFTER - 1, 10).is_empty());
        let v = feed(&mut s, ms(50), WINDOW + 1, 10);
        assert_eq!(v, vec![Verdict::Probe { pooled: ms(50) }], "tried again");
    }

    #[test]
    fn a_few_stalls_among_fast_requests_are_not_enough() {
        let mut s = Stall::default();
        for i in 0..40 {
            let t = if i % 3 == 0 { ms(41) } else { ms(1) };
            assert_eq!(s.observe(t, 1, 10), None);
        }
    }
}
