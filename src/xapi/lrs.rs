//! Where a meeting's statements go (XAPI.md §9): the LRS endpoint and
//! credentials from its payload or the configuration, the `Authorization`
//! value, and the statements URL. Pure. A [`Destination`] holds the delivery
//! target its statements are queued for; its `Debug` never shows the
//! credentials.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::payload::LrsPayload;
use super::{base64, js};
use crate::config::Secret;
use crate::delivery::Lrs;

/// The configured LRS: what a meeting without a payload uses, and the
/// fallback of each field a payload lacks.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct LrsDefaults {
    /// `BBB_WEBHOOKS_XAPI_LRS_URL`.
    pub endpoint: Option<String>,
    /// `BBB_WEBHOOKS_XAPI_LRS_USERNAME` (Basic).
    pub username: Option<String>,
    /// `BBB_WEBHOOKS_XAPI_LRS_PASSWORD` (Basic).
    pub password: Option<String>,
    /// `BBB_WEBHOOKS_XAPI_LRS_TOKEN` (Bearer; not in the reference). Used
    /// only by meetings without a payload: a payload always brings its own
    /// credentials, and they must not go with another LRS's token.
    pub token: Option<String>,
}

impl fmt::Debug for LrsDefaults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |v: &Option<String>| if v.is_some() { "<set>" } else { "<none>" };
        f.debug_struct("LrsDefaults")
            .field(
                "endpoint",
                &self.endpoint.as_deref().map(crate::redact::url),
            )
            .field("username", &set(&self.username))
            .field("password", &set(&self.password))
            .field("token", &set(&self.token))
            .finish()
    }
}

/// One LRS: the URL statements are POSTed to and the `Authorization`
/// header that goes with them, made once, when the meeting's destination
/// is resolved, as the delivery target its statements are queued for.
#[derive(Clone)]
pub struct Destination(Arc<Lrs>);

impl Destination {
    /// The statements URL (WHATWG-serialized, never with credentials in it).
    pub fn url(&self) -> &str {
        &self.0.url
    }

    /// The `Authorization` header value (`Bearer ...` or `Basic ...`): a
    /// secret. Characters U+0080 to U+00FF go on the wire as single bytes
    /// (Latin-1), as Node sends them.
    pub fn authorization(&self) -> &str {
        self.0.authorization.expose()
    }

    /// A stable id for queue keys and metrics: 32 hex digits of
    /// HMAC-SHA256 over URL and `Authorization`, keyed with the server
    /// secret, so that two destinations that differ only in credentials
    /// get separate queues and a stored id gives nothing to guess
    /// passwords against. A new server secret gives new ids.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The delivery target, shared by every statement queued for it.
    pub fn lrs(&self) -> &Arc<Lrs> {
        &self.0
    }
}

impl PartialEq for Destination {
    fn eq(&self, other: &Destination) -> bool {
        let (a, b) = (&self.0, &other.0);
        Arc::ptr_eq(a, b) || (a.id == b.id && a.url == b.url && a.authorization == b.authorization)
    }
}

impl Eq for Destination {}

impl Hash for Destination {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}

impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Destination")
            .field("id", &self.0.id)
            .field("url", &crate::redact::url(&self.0.url))
            .field("authorization", &"<redacted>")
            .finish()
    }
}

/// Why a meeting has no destination: its statements are dropped, as the
/// reference drops them when its request cannot be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unroutable {
    /// No endpoint in the payload nor in the configuration, or one that is
    /// not a string.
    NoEndpoint,
    /// The endpoint is not an absolute `http:`/`https:` URL, or has a user
    /// or password in it (which the reference's HTTP client refuses).
    BadEndpoint,
    /// The token has characters an HTTP header cannot carry.
    BadCredentials,
}

impl fmt::Display for Unroutable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unroutable::NoEndpoint => "no LRS endpoint",
            Unroutable::BadEndpoint => {
                "the LRS endpoint is not an absolute http(s) URL without credentials"
            }
            Unroutable::BadCredentials => "the LRS token cannot be sent in an HTTP header",
        })
    }
}

/// The destination of a meeting with `payload` (already opened and
/// validated), or without one. `P.x || C.x` the JavaScript way for the
/// endpoint, username and password; the token is the payload's, or the
/// configured one for a meeting without a payload, and wins over Basic.
pub fn destination(
    payload: Option<&LrsPayload>,
    defaults: &LrsDefaults,
    id_key: &[u8],
) -> Result<Destination, Unroutable> {
    let field = |p: Option<&Value>, c: &Option<String>| -> Option<Value> {
        match p {
            Some(v) if js::truthy(Some(v)) => Some(v.clone()),
            _ => c.as_deref().map(Value::from),
        }
    };
    let endpoint = field(
        payload.and_then(|p| p.endpoint.as_ref()),
        &defaults.endpoint,
    );
    let endpoint = match endpoint {
        Some(Value::String(s)) => s,
        _ => return Err(Unroutable::NoEndpoint),
    };
    let url = statements_url(&endpoint).ok_or(Unroutable::BadEndpoint)?;
    let token = match payload {
        Some(p) => p.token.as_ref().filter(|t| js::truthy(Some(t))).cloned(),
        None => defaults
            .token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(Value::from),
    };
    let authorization = match token {
        Some(t) => format!("Bearer {}", js::to_string(Some(&t))),
        None => {
            let username = field(
                payload.and_then(|p| p.username.as_ref()),
                &defaults.username,
            );
            let password = field(
                payload.and_then(|p| p.password.as_ref()),
                &defaults.password,
            );
            basic(username.as_ref(), password.as_ref())
        }
    };
    if !authorization
        .chars()
        .all(|c| c == '\t' || (' '..='~').contains(&c) || ('\u{80}'..='\u{ff}').contains(&c))
    {
        return Err(Unroutable::BadCredentials);
    }
    let id = destination_id(&url, &authorization, id_key);
    Ok(Destination(Arc::new(Lrs {
        id,
        url,
        authorization: Secret::new(authorization),
    })))
}

/// `Basic base64(username + ":" + password)` over UTF-8, a missing part
/// written `undefined`, as the reference builds it.
fn basic(username: Option<&Value>, password: Option<&Value>) -> String {
    let pair = format!("{}:{}", js::to_string(username), js::to_string(password));
    format!("Basic {}", base64::encode(pair.as_bytes()))
}

/// The URL statements are POSTed to: one trailing `/xapi[/][statements][/]`
/// (any case) removed, then `xAPI/statements` resolved against the rest
/// with WHATWG rules (a last segment without `/` is replaced; query and
/// fragment dropped). `None` unless that is an absolute `http:` or
/// `https:` URL without user or password.
pub fn statements_url(endpoint: &str) -> Option<String> {
    let base = url::Url::parse(strip_xapi_suffix(endpoint)).ok()?;
    let url = base.join("xAPI/statements").ok()?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none();
    ok.then(|| url.into())
}

/// `endpoint.replace(/\/xapi\/?(statements)?\/?$/i, "")`: every text the
/// pattern can match, longest (so leftmost) first.
fn strip_xapi_suffix(endpoint: &str) -> &str {
    const SUFFIXES: [&str; 7] = [
        "/xapi/statements/",
        "/xapistatements/",
        "/xapi/statements",
        "/xapistatements",
        "/xapi//",
        "/xapi/",
        "/xapi",
    ];
    for suffix in SUFFIXES {
        let Some(cut) = endpoint.len().checked_sub(suffix.len()) else {
            continue;
        };
        let tail = endpoint.get(cut..);
        if tail.is_some_and(|t| t.eq_ignore_ascii_case(suffix)) {
            return endpoint.get(..cut).unwrap_or(endpoint);
        }
    }
    endpoint
}

fn destination_id(url: &str, authorization: &str, key: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new(); // HMAC takes keys of any length
    };
    mac.update(b"xapi-destination\n");
    mac.update(url.as_bytes());
    mac.update(b"\n");
    mac.update(authorization.as_bytes());
    let digest = mac.finalize().into_bytes();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[path = "tests/lrs.rs"]
mod tests;
