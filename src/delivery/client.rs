//! The HTTP side of a delivery: the client the workers share, one callback
//! POST (a hook and its events) and one xAPI statement POST (an LRS and its
//! statement), each to an [`outcome`](super::outcome).

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
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = header("retry-after");
    let location = header("location");
    // Read (a bounded part of) the body so the connection can be reused.
    let _ = resp
        .body_mut()
        .with_config()
        .limit(MAX_RESPONSE_BODY)
        .read_to_vec();
    outcome::classify(status, retry_after.as_deref(), location.as_deref())
}

/// POSTs one xAPI `statement` to `lrs`, as the reference does: the JSON
/// body, `Content-Type: application/json`, `X-Experience-API-Version: 1.0.0`
/// and the destination's `Authorization`.
pub fn post_statement(agent: &ureq::Agent, lrs: &Lrs, statement: &Item) -> Result<(), Failure> {
    let mut resp = agent
        .post(&lrs.url)
        .header("Content-Type", "application/json")
        .header("X-Experience-API-Version", "1.0.0")
        .header("Authorization", latin1_header(lrs.authorization.expose()))
        .header("X-Bbb-Webhooks-Event-Ids", &*statement.id)
        .send(statement.payload.as_bytes())
        .map_err(|e| outcome::transport(&e))?;
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_RESPONSE_BODY)
        .read_to_vec()
        .unwrap_or_default();
    outcome::classify_lrs(
        status,
        retry_after.as_deref(),
        &String::from_utf8_lossy(&body),
    )
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
