//! Why a relay POST was refused ([`Refusal`], answered 401), and the limiter
//! that keeps refusals to one counted log line per interval
//! ([`RefusalLog`]). Pure. A refusal's text never holds a secret, a
//! checksum or a token: only what kind of proof was wrong.

use std::fmt;
use std::time::{Duration, Instant};

use crate::checksum::Algorithm;

/// Why a relay POST was not taken as coming from a pool server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The path names no server of the pool (the id as sent, made
    /// printable and cut to 64 characters).
    UnknownServer(String),
    /// Neither a `checksum` parameter nor an `Authorization` header.
    NoCredentials,
    /// A `checksum` whose length is no SHA's.
    ChecksumLength(usize),
    /// A `checksum` of the right length that does not match.
    WrongChecksum(Algorithm),
    /// An `Authorization` header that is not `Bearer <token>`.
    NotBearer,
    /// A bearer token that is not the server's secret.
    WrongBearer,
}

impl Refusal {
    /// A short name for metrics labels.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::UnknownServer(_) => "unknown_server",
            Refusal::NoCredentials => "no_credentials",
            Refusal::ChecksumLength(_) | Refusal::WrongChecksum(_) => "wrong_checksum",
            Refusal::NotBearer | Refusal::WrongBearer => "wrong_bearer",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::UnknownServer(id) => write!(f, "no server {id:?} in the pool"),
            Refusal::NoCredentials => f.write_str("no checksum and no Authorization header"),
            Refusal::ChecksumLength(n) => write!(
                f,
                "a checksum of {n} characters (SHA-1 to SHA-512 have 40, 64, 96 or 128)"
            ),
            Refusal::WrongChecksum(alg) => write!(
                f,
                "the {} checksum does not match the server's secret",
                alg.name()
            ),
            Refusal::NotBearer => f.write_str("an Authorization header that is not Bearer"),
            Refusal::WrongBearer => f.write_str("a bearer token that is not the server's secret"),
        }
    }
}

/// Lets one refusal log line through per interval and counts the others,
/// so that a flood of bad POSTs costs one line per interval.
#[derive(Debug)]
pub struct RefusalLog {
    every: Duration,
    next: Option<Instant>,
    suppressed: u64,
}

impl RefusalLog {
    /// At most one line per `every`.
    pub fn new(every: Duration) -> RefusalLog {
        RefusalLog {
            every,
            next: None,
            suppressed: 0,
        }
    }

    /// Counts one refusal at `now`. `Some(n)`: log this one, and say that
    /// `n` others were refused since the last line; `None`: stay quiet.
    pub fn admit(&mut self, now: Instant) -> Option<u64> {
        if self.next.is_some_and(|next| now < next) {
            self.suppressed += 1;
            return None;
        }
        self.next = Some(now + self.every);
        Some(std::mem::take(&mut self.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_with_the_count_of_the_others() {
        let t0 = Instant::now();
        let mut log = RefusalLog::new(Duration::from_secs(60));
        assert_eq!(log.admit(t0), Some(0));
        assert_eq!(log.admit(t0 + Duration::from_secs(1)), None);
        assert_eq!(log.admit(t0 + Duration::from_secs(59)), None);
        assert_eq!(log.admit(t0 + Duration::from_secs(60)), Some(2));
        assert_eq!(log.admit(t0 + Duration::from_secs(61)), None);
        assert_eq!(log.admit(t0 + Duration::from_secs(200)), Some(1));
    }

    #[test]
    fn texts_and_labels() {
        assert_eq!(
            Refusal::WrongChecksum(Algorithm::Sha256).to_string(),
            "the sha256 checksum does not match the server's secret"
        );
        assert_eq!(
            Refusal::UnknownServer("x\\n".into()).to_string(),
            "no server \"x\\\\n\" in the pool"
        );
        assert_eq!(Refusal::ChecksumLength(3).label(), "wrong_checksum");
        assert_eq!(Refusal::NotBearer.label(), "wrong_bearer");
    }
}
