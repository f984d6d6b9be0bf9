//! The crate's error type: what can go wrong at startup and at the edges
//! (Redis, HTTP, I/O). Request and delivery paths turn these into XML answers,
//! retries and log lines; only `main` prints one as fatal.

use std::fmt;
use std::net::SocketAddr;

/// Everything that can fail in the service.
#[derive(Debug)]
pub enum Error {
    /// A configuration key has a bad value, or is unknown. Names the key and
    /// where it came from.
    Config(String),
    /// The command line is wrong: an unknown argument or option, a missing
    /// value, a subcommand used the wrong way. Says what to fix.
    Usage(String),
    /// Talking to Redis failed.
    Redis(redis::RedisError),
    /// A listening socket could not be opened: the address, and the key it
    /// was configured with, so that the message says what to change.
    Bind {
        key: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// A local I/O operation (a file, a socket) failed.
    Io(std::io::Error),
    /// An HTTP request failed below the HTTP layer (connect, TLS, timeout).
    Http(Box<ureq::Error>),
    /// Told to stop before startup completed.
    Stopped,
    /// Anything else, with a short description.
    Other(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(msg) => write!(f, "configuration: {msg}"),
            Error::Usage(msg) => write!(f, "usage: {msg}"),
            Error::Redis(e) => write!(f, "redis: {e}"),
            Error::Bind { key, addr, source } => {
                write!(f, "cannot listen on {addr} ({key}): {source}")
            }
            Error::Io(e) => write!(f, "i/o: {e}"),
            Error::Http(e) => write!(f, "http: {e}"),
            Error::Stopped => f.write_str("stopped before startup completed"),
            Error::Other(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Redis(e) => Some(e),
            Error::Bind { source, .. } => Some(source),
            Error::Io(e) => Some(e),
            Error::Http(e) => Some(e.as_ref()),
            Error::Config(_) | Error::Usage(_) | Error::Stopped | Error::Other(_) => None,
        }
    }
}

impl From<redis::RedisError> for Error {
    fn from(e: redis::RedisError) -> Self {
        Error::Redis(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<ureq::Error> for Error {
    fn from(e: ureq::Error) -> Self {
        Error::Http(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn usage_says_it_is_the_command_line() {
        let e = Error::Usage("unknown argument \"--frob\" (see --help)".into());
        assert_eq!(
            e.to_string(),
            "usage: unknown argument \"--frob\" (see --help)"
        );
        assert!(e.source().is_none());
    }

    #[test]
    fn bind_names_the_address_and_the_key() {
        let e = Error::Bind {
            key: "BBB_WEBHOOKS_API_BIND",
            addr: "127.0.0.1:3005".parse().expect("addr"),
            source: std::io::Error::new(std::io::ErrorKind::AddrInUse, "address in use"),
        };
        assert_eq!(
            e.to_string(),
            "cannot listen on 127.0.0.1:3005 (BBB_WEBHOOKS_API_BIND): address in use"
        );
        let source = e.source().expect("the io error");
        assert_eq!(source.to_string(), "address in use");
    }
}
