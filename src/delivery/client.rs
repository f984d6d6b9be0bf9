//! The HTTP side of a delivery: the client the workers share, one callback
//! POST (a hook and its events) and one xAPI statement POST (an LRS and its
//! statement), each to an [`outcome`](super::outcome).

use std::fmt;

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use super::outcome::{self, Failure};
use super::{Item, Lrs};
use crate::callback;
use crate::config::Config;
use crate::hooks::Hook;

/// The most of a response body that is read; the rest is discarded.
const MAX_RESPONSE_BODY: u64 = 64 * 1024;

/// The HTTP client shared by the workers: the request timeout, redirects as
/// configured, HTTPS checked against the system's trust store, and with
/// `keep_alive` one connection pool (without, a connection per request).
pub fn agent(config: &Config, keep_alive: bool) -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(config.request_timeout))
        .http_status_as_error(false)
        .max_redirects(config.max_redirects)
        .max_redirects_will_error(false)
        .max_idle_connections(if keep_alive { 256 } else { 0 })
        .max_idle_connections_per_host(if keep_alive { 64 } else { 0 })
        .user_agent(concat!("bbb-webhooks/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls)
        .build();
    ureq::Agent::with_parts(config, DefaultConnector::default(), InlineResolver)
}

/// Looks host names up on the calling thread. ureq's own resolver starts a
/// thread per request to bound the lookup by the request timeout; at
/// thousands of callbacks a second that thread costs more than the request.
/// The lookup is then bounded by the system resolver's own timeout instead,
/// and an address literal needs no lookup at all.
#[derive(Debug)]
struct InlineResolver;

impl Resolver for InlineResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        DefaultResolver::default().resolve(uri, config, NextTimeout::default())
    }
}

/// POSTs `items` to `hook` in one callback request, signed as configured,
/// with their ids in `X-Bbb-Webhooks-Event-Ids`.
pub fn post(
    agent: &ureq::Agent,
    config: &Config,
    hook: &Hook,
    items: &[Item],
) -> Result<(), Failure> {
    let payloads: Vec<&str> = items.iter().map(|i| &*i.payload).collect();
    let ids: Vec<&str> = items.iter().map(|i| &*i.id).collect();
    // Every event of a request has the same domain (see the worker).
    let domain = items
        .first()
        .and_then(|i| i.domain.as_deref())
        .unwrap_or(&config.server_domain);
    let req = callback::build(
        &hook.callback_url,
        &payloads,
        domain,
        crate::clock::now_ms(),
        config.callback_auth,
        &config.secret,
    );
    let mut builder = agent
        .post(&req.url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Bbb-Webhooks-Event-Ids", ids.join(","));
    if let Some(auth) = &req.authorization {
        builder = builder.header("Authorization", auth);
    }
    let mut resp = builder.send(req.body).map_err(|e| outcome::transport(&e))?;
    let a = answer(&mut resp);
    outcome::classify(a.status, a.retry_after.as_deref(), a.location.as_deref())
}

/// An LRS's `Authorization` header value, made once per queue rather than
/// once per statement. A credential: marked sensitive, and its `Debug`
/// shows none of it.
#[derive(Clone)]
pub struct LrsAuthorization(ureq::http::HeaderValue);

impl LrsAuthorization {
    pub fn of(lrs: &Lrs) -> LrsAuthorization {
        let mut value = latin1_header(lrs.authorization.expose());
        value.set_sensitive(true);
        LrsAuthorization(value)
    }
}

impl fmt::Debug for LrsAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LrsAuthorization(<redacted>)")
    }
}

/// POSTs one xAPI `statement` to `lrs`, as the reference does: the JSON
/// body, `Content-Type: application/json`, `X-Experience-API-Version: 1.0.0`
/// and the destination's `Authorization` (`authorization`, made from it).
pub fn post_statement(
    agent: &ureq::Agent,
    lrs: &Lrs,
    authorization: &LrsAuthorization,
    statement: &Item,
) -> Result<(), Failure> {
    let mut resp = agent
        .post(&lrs.url)
        .header("Content-Type", "application/json")
        .header("X-Experience-API-Version", "1.0.0")
        .header("Authorization", authorization.0.clone())
        .header("X-Bbb-Webhooks-Event-Ids", &*statement.id)
        .send(statement.payload.as_bytes())
        .map_err(|e| outcome::transport(&e))?;
    let a = answer(&mut resp);
    outcome::classify_lrs(
        a.status,
        a.retry_after.as_deref(),
        &String::from_utf8_lossy(&a.body),
    )
}

/// What an outcome is made of.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    location: Option<String>,
    /// At most [`MAX_RESPONSE_BODY`] of the body.
    body: Vec<u8>,
}

/// Reads `resp`'s status, `Retry-After`, `Location` and (a bounded part
/// of) its body, so the connection can be reused.
fn answer(resp: &mut ureq::http::Response<ureq::Body>) -> Answer {
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = header("retry-after");
    let location = header("location");
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_RESPONSE_BODY)
        .read_to_vec()
        .unwrap_or_default();
    Answer {
        status: resp.status().as_u16(),
        retry_after,
        location,
        body,
    }
}

/// A header value whose characters up to U+00FF go as single bytes
/// (Latin-1), as Node sends them; others as UTF-8.
fn latin1_header(value: &str) -> ureq::http::HeaderValue {
    let bytes: Option<Vec<u8>> = value
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect();
    bytes
        .and_then(|b| ureq::http::HeaderValue::from_bytes(&b).ok())
        .or_else(|| ureq::http::HeaderValue::from_str(value).ok())
        .unwrap_or_else(|| ureq::http::HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn an_lrs_authorization_is_latin1_sensitive_and_never_shown() {
        let lrs = Lrs {
            id: "ab".into(),
            url: "https://lrs.example/xAPI/statements".into(),
            authorization: Secret::new("Basic d\u{e9}j\u{e0}"),
        };
        let a = LrsAuthorization::of(&lrs);
        assert_eq!(a.0.as_bytes(), b"Basic d\xe9j\xe0");
        assert!(a.0.is_sensitive());
        assert!(!format!("{a:?}").contains("Basic"));
    }
}
