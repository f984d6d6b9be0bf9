//! A client of the pool servers' hooks API (`hooks/create|list|destroy`),
//! signed with each server's own secret, with a bounded time and answer
//! size. [`HooksApi`] is what the reconciler needs of it, so that its tests
//! can stand in for the network. Never logs: its errors say what happened,
//! without the signed URL (it carries a checksum) and without the secret.
//!
//! Signing: `checksum = hex(SHA256(call + query + secret))`, the algorithm
//! Scalelite itself signs with by default and that BBB 2.7+ and the
//! reference 3.x accept. Webhooks 2.x (BBB 2.6 and older) accept only
//! SHA-1: when a server answers `checksumError`, the call is sent once more
//! with the other algorithm, and the one that worked is used for that server
//! from then on. A wrong secret fails both.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use super::answer::{self, RemoteHook, Reply};
use super::pool::Server;
use crate::checksum::Algorithm;

/// How long one call may take, connecting included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest answer read: a list of 10000 hooks is about 3 MB.
pub const DEFAULT_MAX_ANSWER: u64 = 8 * 1024 * 1024;
/// The algorithm a server is signed for until it refuses it.
pub const PREFERRED: Algorithm = Algorithm::Sha256;

/// What the reconciler needs of a server's hooks API.
pub trait HooksApi {
    /// Every hook registered on `server`.
    fn list(&mut self, server: &Server) -> Result<Vec<RemoteHook>, RemoteError>;
    /// Registers a global hook for `callback_url` (all events, not raw).
    fn create(&mut self, server: &Server, callback_url: &str) -> Result<Created, RemoteError>;
    /// Removes hook `hook_id`.
    fn destroy(&mut self, server: &Server, hook_id: &str) -> Result<Destroyed, RemoteError>;
}

/// A successful `hooks/create`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub hook_id: String,
    /// The server had a hook for that URL already and gave its id.
    pub duplicate: bool,
}

/// A successful `hooks/destroy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destroyed {
    Removed,
    /// The server had no such hook (`destroyMissingHook`): gone all the same.
    Missing,
}

/// Why a call did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteError {
    /// No HTTP answer: DNS, connection, TLS or time limit.
    Transport(String),
    /// An HTTP status with no hooks API answer (a 404 from a server whose
    /// webhooks service is not installed, a redirect to another URL).
    Status(u16),
    /// The API answered `FAILED`.
    Failed { key: String, message: String },
    /// An answer that is not the hooks API's, or over the size limit.
    BadAnswer(String),
}

impl RemoteError {
    /// Whether the server refused the checksum.
    pub fn is_checksum(&self) -> bool {
        matches!(self, RemoteError::Failed { key, .. } if key == "checksumError")
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteError::Transport(e) => write!(f, "no answer: {e}"),
            RemoteError::Status(s) if (300..400).contains(s) => {
                write!(f, "HTTP {s}, a redirect: check the server's URL (https?)")
            }
            RemoteError::Status(s) => write!(
                f,
                "HTTP {s} without a hooks API answer: is a webhooks service installed there?"
            ),
            RemoteError::Failed { key, .. } if key == "checksumError" => {
                f.write_str("checksumError: the server refused the secret the pool has for it")
            }
            RemoteError::Failed { key, message } => write!(f, "{key}: {message}"),
            RemoteError::BadAnswer(e) => write!(f, "not a hooks API answer: {e}"),
        }
    }
}

impl std::error::Error for RemoteError {}

/// The client. One per thread; it remembers which algorithm each server
/// accepts.
pub struct Remote {
    agent: ureq::Agent,
    max_answer: u64,
    algorithms: HashMap<String, Algorithm>,
}

impl Remote {
    /// A client whose calls take at most `timeout` each and read at most
    /// `max_answer` bytes of answer.
    pub fn new(timeout: Duration, max_answer: u64) -> Remote {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!(
                "bbb-webhooks/",
                env!("CARGO_PKG_VERSION"),
                " cluster"
            ))
            .build()
            .new_agent();
        Remote {
            agent,
            max_answer,
            algorithms: HashMap::new(),
        }
    }

    /// The algorithm calls to server `id` are signed with now.
    pub fn algorithm(&self, id: &str) -> Algorithm {
        self.algorithms.get(id).copied().unwrap_or(PREFERRED)
    }

    /// Sends `call`; on `checksumError`, once more with the other algorithm.
    fn call(
        &mut self,
        server: &Server,
        call: &str,
        params: &[(&str, &str)],
    ) -> Result<answer::Element, RemoteError> {
        let first = self.algorithm(&server.id);
        match self.call_with(server, call, params, first) {
            Err(e) if e.is_checksum() => {
                let other = if first == Algorithm::Sha1 {
                    PREFERRED
                } else {
                    Algorithm::Sha1
                };
                let second = self.call_with(server, call, params, other);
                if !matches!(&second, Err(e) if e.is_checksum()) {
                    self.algorithms.insert(server.id.clone(), other);
                }
                second
            }
            r => r,
        }
    }

    fn call_with(
        &self,
        server: &Server,
        call: &str,
        params: &[(&str, &str)],
        alg: Algorithm,
    ) -> Result<answer::Element, RemoteError> {
        let url = signed_url(server, call, params, alg);
        let mut resp = self.agent.get(&url).call().map_err(transport)?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(self.max_answer)
            .read_to_string()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(n) => {
                    RemoteError::BadAnswer(format!("larger than {n} bytes"))
                }
                e => transport(e),
            })?;
        match answer::reply(&body) {
            Ok(Reply::Success(r)) => Ok(r),
            Ok(Reply::Failed { key, message }) => Err(RemoteError::Failed {
                key: clip(&key),
                message: clip(&message),
            }),
            Err(_) if status != 200 => Err(RemoteError::Status(status)),
            Err(e) => Err(RemoteError::BadAnswer(e)),
        }
    }
}

impl HooksApi for Remote {
    fn list(&mut self, server: &Server) -> Result<Vec<RemoteHook>, RemoteError> {
        let r = self.call(server, "hooks/list", &[])?;
        answer::hooks(&r).map_err(RemoteError::BadAnswer)
    }

    fn create(&mut self, server: &Server, callback_url: &str) -> Result<Created, RemoteError> {
        let r = self.call(server, "hooks/create", &[("callbackURL", callback_url)])?;
        let (hook_id, duplicate) = answer::created(&r).map_err(RemoteError::BadAnswer)?;
        Ok(Created { hook_id, duplicate })
    }

    fn destroy(&mut self, server: &Server, hook_id: &str) -> Result<Destroyed, RemoteError> {
        match self.call(server, "hooks/destroy", &[("hookID", hook_id)]) {
            Ok(_) => Ok(Destroyed::Removed),
            Err(RemoteError::Failed { key, .. }) if key == "destroyMissingHook" => {
                Ok(Destroyed::Missing)
            }
            Err(e) => Err(e),
        }
    }
}

/// `<server url>/<call>?<query>&checksum=<hex SHA(call + query + secret)>`,
/// the parameters form-encoded in the order given. It carries a checksum:
/// never log it.
pub fn signed_url(server: &Server, call: &str, params: &[(&str, &str)], alg: Algorithm) -> String {
    let query = crate::checksum::signed_query(call, params, server.secret.expose(), alg);
    format!("{}?{query}", server.call_url(call))
}

/// A transport error in words that cannot contain the URL.
fn transport(e: ureq::Error) -> RemoteError {
    RemoteError::Transport(match e {
        ureq::Error::Timeout(_) => "timed out".to_owned(),
        ureq::Error::HostNotFound => "host not found".to_owned(),
        ureq::Error::ConnectionFailed => "connection failed".to_owned(),
        ureq::Error::Io(e) => format!("i/o: {e}"),
        ureq::Error::Tls(e) => format!("tls: {e}"),
        ureq::Error::Rustls(e) => format!("tls: {e}"),
        ureq::Error::Protocol(e) => format!("http: {e}"),
        ureq::Error::LargeResponseHeader(..) => "answer headers too large".to_owned(),
        _ => "request failed".to_owned(),
    })
}

/// Text from a server, cut for a log line.
fn clip(s: &str) -> String {
    crate::redact::printable(s.as_bytes(), 200)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum;
    use crate::cluster::pool::State;
    use crate::config::Secret;
    use crate::query;

    fn server() -> Server {
        Server {
            id: "bbb1".into(),
            url: "https://bbb1.example.com/bigbluebutton/api".into(),
            secret: Secret::new("s3cret"),
            state: State::Enabled,
            online: true,
        }
    }

    /// The URL passes the API's own check, with the secret and only with it.
    #[test]
    fn signed_urls_pass_the_api_check() {
        for alg in [Algorithm::Sha1, Algorithm::Sha256] {
            let url = signed_url(
                &server(),
                "hooks/create",
                &[("callbackURL", "https://lb/hooks/relay/bbb1?x=a b")],
                alg,
            );
            let rest = url
                .strip_prefix("https://bbb1.example.com/bigbluebutton/api/hooks/create?")
                .expect("prefix");
            let (signed, sum) = query::split_checksum(rest);
            assert_eq!(
                signed,
                "callbackURL=https%3A%2F%2Flb%2Fhooks%2Frelay%2Fbbb1%3Fx%3Da+b"
            );
            let sum = sum.expect("checksum");
            assert_eq!(sum.len(), alg.hex_len());
            assert!(checksum::verify_api(
                "hooks/create",
                &signed,
                "s3cret",
                sum,
                &[alg]
            ));
            assert!(!checksum::verify_api(
                "hooks/create",
                &signed,
                "other",
                sum,
                &[alg]
            ));
        }
        let list = signed_url(&server(), "hooks/list", &[], PREFERRED);
        let sum = PREFERRED.hex_digest(&[b"hooks/list", b"", b"s3cret"]);
        assert_eq!(
            list,
            format!("https://bbb1.example.com/bigbluebutton/api/hooks/list?checksum={sum}")
        );
    }

    #[test]
    fn errors_say_what_to_check_without_secrets() {
        let e = RemoteError::Failed {
            key: "checksumError".into(),
            message: "You did not pass the checksum security check.".into(),
        };
        assert!(e.is_checksum());
        assert!(e.to_string().contains("refused the secret"));
        assert!(RemoteError::Status(404)
            .to_string()
            .contains("webhooks service installed"));
        assert!(RemoteError::Status(301).to_string().contains("redirect"));
        assert_eq!(clip("a\nb"), "a\\nb");
    }
}
