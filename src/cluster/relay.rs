//! The relay receiver's pure part: given a POST from a pool server to
//! `<relay path>/<server id>` and the pool, which server sent it, whether it
//! proves it (a checksum or a bearer token made with that server's secret),
//! and its events ([`super::relay_body`]). Queueing the events and answering
//! are the caller's job; [`RelayError::status`] says with which status.
//!
//! Proofs taken, each compared in constant time: `checksum=hex(SHA(callbackURL
//! + body + secret))` in the query, SHA-1 to SHA-512 by its length, where
//! callbackURL is the relay URL as registered on that server (the reference
//! 3.x and this service); `Authorization: Bearer <secret>` (BBB's package
//! default); and webhooks 2.x's SHA-1 over callbackURL, the JSON of its form
//! fields (`{"event":..,"timestamp":..,"domain":..}`) and the secret.

use super::pool::{normalize_url, Pool, Server};
use super::refusal::Refusal;
use super::relay_body::{self, Body, Malformed};
use crate::checksum::{constant_time_eq, Algorithm};
use crate::http::Request;
use crate::{query, redact};

/// Largest relay body accepted by default: a callback carries one event, or
/// a few with `BBB_WEBHOOKS_MULTI_EVENT`; shared notes can make one large.
pub const DEFAULT_MAX_BODY: usize = 4 * 1024 * 1024;

/// The public URL at which the pool's servers reach this service's relay
/// endpoint (`BBB_WEBHOOKS_CLUSTER_RELAY_URL`), e.g.
/// `https://lb.example.com/bigbluebutton/api/hooks/relay`. Server `id`'s
/// relay hook calls back `<base>/<id>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayUrl {
    base: String,
    path_at: usize,
}

impl RelayUrl {
    /// Parses an absolute http(s) URL with a path and no query; trailing
    /// slashes are dropped.
    pub fn parse(url: &str) -> Result<RelayUrl, String> {
        let base = normalize_url(url).ok_or_else(|| {
            "the relay URL must be an absolute http(s) URL without a query, \
             e.g. https://lb.example.com/bigbluebutton/api/hooks/relay"
                .to_owned()
        })?;
        let after_scheme = base.find("://").map_or(0, |i| i + 3);
        match base[after_scheme..].find('/') {
            Some(at) => Ok(RelayUrl {
                path_at: after_scheme + at,
                base,
            }),
            None => Err(format!(
                "the relay URL {base} has no path: give the one nginx passes to this service, \
                 e.g. {base}/bigbluebutton/api/hooks/relay"
            )),
        }
    }

    /// The URL without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Its path, e.g. `/bigbluebutton/api/hooks/relay`.
    pub fn path(&self) -> &str {
        &self.base[self.path_at..]
    }

    /// The callback URL of server `id`'s relay hook.
    pub fn for_server(&self, id: &str) -> String {
        format!("{}/{id}", self.base)
    }

    /// The server id in a request path `<path>/<id>`, if it is one.
    pub fn server_id<'a>(&self, request_path: &'a str) -> Option<&'a str> {
        request_path
            .strip_prefix(self.path())?
            .strip_prefix('/')
            .filter(|id| !id.contains('/'))
    }
}

/// A relay POST that proved its origin, with its events.
#[derive(Clone, Debug, PartialEq)]
pub struct Relayed {
    pub server_id: String,
    pub proof: Proof,
    pub body: Body,
}

/// How a relay POST proved it came from its server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    Checksum(Algorithm),
    Bearer,
    /// Webhooks 2.x's SHA-1 over the JSON of the form fields.
    LegacyChecksum,
}

/// Why a relay POST is not taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RelayError {
    /// Not `<relay path>/<id>`: not for the relay.
    NotFound,
    /// Not a POST.
    Method,
    /// A body over the limit (the limit).
    TooLarge(usize),
    /// No valid proof of origin.
    Refused(Refusal),
    /// Proven, but not a callback body.
    Malformed(Malformed),
}

impl RelayError {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            RelayError::NotFound => 404,
            RelayError::Method => 405,
            RelayError::TooLarge(_) => 413,
            RelayError::Refused(_) => 401,
            RelayError::Malformed(_) => 400,
        }
    }
}

/// Takes a relay POST apart: identifies the server from the path, checks
/// its proof against that server's secret, then parses the body. The body
/// is checked for size first and described only to a server that proved
/// itself.
pub fn receive(
    req: &Request,
    relay: &RelayUrl,
    pool: &Pool,
    max_body: usize,
) -> Result<Relayed, RelayError> {
    let (path, raw_query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    let id = relay.server_id(path).ok_or(RelayError::NotFound)?;
    if req.method != "POST" {
        return Err(RelayError::Method);
    }
    let server = pool.get(id).ok_or_else(|| {
        RelayError::Refused(Refusal::UnknownServer(redact::printable(id.as_bytes(), 64)))
    })?;
    if req.body.len() > max_body {
        return Err(RelayError::TooLarge(max_body));
    }
    let body = relay_body::parse(&req.body);
    let (_, checksum) = query::split_checksum(raw_query);
    let proof = prove(
        server,
        &relay.for_server(id),
        checksum,
        req.header("authorization"),
        &req.body,
        body.as_ref().ok(),
    )
    .map_err(RelayError::Refused)?;
    Ok(Relayed {
        server_id: server.id.clone(),
        proof,
        body: body.map_err(RelayError::Malformed)?,
    })
}

/// Checks the POST's proofs; the first that holds wins, else the first
/// failure is the reason.
fn prove(
    server: &Server,
    callback_url: &str,
    checksum: Option<&str>,
    authorization: Option<&str>,
    raw_body: &[u8],
    body: Option<&Body>,
) -> Result<Proof, Refusal> {
    let secret = server.secret.expose().as_bytes();
    let mut failure = None;
    if let Some(sum) = checksum {
        match Algorithm::from_hex_len(sum.len()) {
            None => failure = Some(Refusal::ChecksumLength(sum.len())),
            Some(alg) => {
                let expected = alg.hex_digest(&[callback_url.as_bytes(), raw_body, secret]);
                if constant_time_eq(expected.as_bytes(), sum.as_bytes()) {
                    return Ok(Proof::Checksum(alg));
                }
                if let (Algorithm::Sha1, Some(body)) = (alg, body) {
                    let json = legacy_json(body);
                    let legacy =
                        alg.hex_digest(&[callback_url.as_bytes(), json.as_bytes(), secret]);
                    if constant_time_eq(legacy.as_bytes(), sum.as_bytes()) {
                        return Ok(Proof::LegacyChecksum);
                    }
                }
                failure = Some(Refusal::WrongChecksum(alg));
            }
        }
    }
    if let Some(auth) = authorization {
        let token = auth
            .trim()
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        match token {
            Some(t) if constant_time_eq(t.as_bytes(), secret) => return Ok(Proof::Bearer),
            Some(_) => failure = failure.or(Some(Refusal::WrongBearer)),
            None => failure = failure.or(Some(Refusal::NotBearer)),
        }
    }
    Err(failure.unwrap_or(Refusal::NoCredentials))
}

/// What webhooks 2.x sign: `JSON.stringify({event, timestamp, domain})`,
/// the event field a string, the timestamp a number.
fn legacy_json(body: &Body) -> String {
    let s = |v: &str| serde_json::Value::from(v).to_string();
    format!(
        "{{\"event\":{},\"timestamp\":{},\"domain\":{}}}",
        s(&body.event_field),
        body.timestamp,
        s(&body.domain)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls() {
        let r = RelayUrl::parse("https://lb.example.com/bigbluebutton/api/hooks/relay/")
            .expect("parses");
        assert_eq!(
            r.base(),
            "https://lb.example.com/bigbluebutton/api/hooks/relay"
        );
        assert_eq!(r.path(), "/bigbluebutton/api/hooks/relay");
        assert_eq!(
            r.for_server("bbb1"),
            "https://lb.example.com/bigbluebutton/api/hooks/relay/bbb1"
        );
        assert_eq!(
            r.server_id("/bigbluebutton/api/hooks/relay/bbb1"),
            Some("bbb1")
        );
        assert_eq!(r.server_id("/bigbluebutton/api/hooks/relay/"), Some(""));
        assert_eq!(r.server_id("/bigbluebutton/api/hooks/relay"), None);
        assert_eq!(r.server_id("/bigbluebutton/api/hooks/relayx/bbb1"), None);
        assert_eq!(r.server_id("/bigbluebutton/api/hooks/relay/a/b"), None);
        assert!(RelayUrl::parse("https://lb.example.com").is_err());
        assert!(RelayUrl::parse("https://lb.example.com/relay?x=1").is_err());
        assert!(RelayUrl::parse("lb.example.com/relay").is_err());
        let port = RelayUrl::parse("http://10.0.0.1:8080/r").expect("parses");
        assert_eq!(port.path(), "/r");
    }

    #[test]
    fn statuses() {
        assert_eq!(RelayError::Refused(Refusal::NoCredentials).status(), 401);
        assert_eq!(RelayError::Malformed(Malformed::NoEvents).status(), 400);
        assert_eq!(RelayError::TooLarge(1).status(), 413);
        assert_eq!(RelayError::NotFound.status(), 404);
        assert_eq!(RelayError::Method.status(), 405);
    }
}
