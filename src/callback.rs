//! The callback request as BBB apps expect it: a form body with `domain`,
//! `event` (a JSON array) and `timestamp`, authenticated by a checksum in the
//! URL or a bearer token. Pure functions; sending is delivery's job.

use crate::config::{CallbackAuth, Secret};
use crate::query::form_encode_into;

/// Everything needed to send one callback.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    /// The hook's URL, with `checksum=` appended in checksum mode.
    pub url: String,
    /// `application/x-www-form-urlencoded` body.
    pub body: String,
    /// Value of the `Authorization` header, in bearer mode.
    pub authorization: Option<String>,
}

/// Builds the request that delivers `events` (each a JSON document) to
/// `callback_url`.
pub fn build(
    callback_url: &str,
    events: &[&str],
    domain: &str,
    timestamp_ms: u64,
    auth: CallbackAuth,
    secret: &Secret,
) -> Request {
    let body = body(events, domain, timestamp_ms);
    match auth {
        CallbackAuth::Bearer => Request {
            url: callback_url.to_owned(),
            body,
            authorization: Some(format!("Bearer {}", secret.expose())),
        },
        CallbackAuth::Checksum(alg) => {
            let sum = alg.hex_digest(&[
                callback_url.as_bytes(),
                body.as_bytes(),
                secret.expose().as_bytes(),
            ]);
            let sep = if callback_url.contains('?') { '&' } else { '?' };
            Request {
                url: format!("{callback_url}{sep}checksum={sum}"),
                body,
                authorization: None,
            }
        }
    }
}

/// `domain=..&event=[..]&timestamp=..`, keys in that order.
pub fn body(events: &[&str], domain: &str, timestamp_ms: u64) -> String {
    let json_len: usize = events.iter().map(|e| e.len() + 1).sum();
    let mut out = String::with_capacity(json_len + json_len / 2 + domain.len() + 48);
    out.push_str("domain=");
    form_encode_into(&mut out, domain);
    // The JSON array `[e1,e2,..]`, encoded piece by piece: `[` is %5B,
    // `,` %2C and `]` %5D.
    out.push_str("&event=%5B");
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            out.push_str("%2C");
        }
        form_encode_into(&mut out, e);
    }
    out.push_str("%5D&timestamp=");
    out.push_str(&timestamp_ms.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::Algorithm;
    use crate::query::{decode, params};

    #[test]
    fn checksum_mode_appends_checksum_over_url_body_secret() {
        let secret = Secret::new("s");
        let r = build(
            "http://h/cb",
            &[r#"{"a":"b c"}"#],
            "bbb.example.com",
            1700000000000,
            CallbackAuth::Checksum(Algorithm::Sha1),
            &secret,
        );
        assert_eq!(
            r.body,
            "domain=bbb.example.com&event=%5B%7B%22a%22%3A%22b+c%22%7D%5D&timestamp=1700000000000"
        );
        let sum = Algorithm::Sha1.hex_digest(&[b"http://h/cb", r.body.as_bytes(), b"s"]);
        assert_eq!(r.url, format!("http://h/cb?checksum={sum}"));
        assert_eq!(r.authorization, None);

        let r = build(
            "http://h/cb?x=1",
            &["{}"],
            "d",
            1,
            CallbackAuth::Checksum(Algorithm::Sha256),
            &secret,
        );
        assert!(r.url.starts_with("http://h/cb?x=1&checksum="));
        assert_eq!(r.url.len(), "http://h/cb?x=1&checksum=".len() + 64);
    }

    #[test]
    fn bearer_mode_keeps_url() {
        let r = build(
            "http://h/cb",
            &["{}", "[]"],
            "d",
            5,
            CallbackAuth::Bearer,
            &Secret::new("tok"),
        );
        assert_eq!(r.url, "http://h/cb");
        assert_eq!(r.authorization.as_deref(), Some("Bearer tok"));
        let p = params(&r.body);
        assert_eq!(p[1], ("event".to_owned(), "[{},[]]".to_owned()));
        assert_eq!(decode("%5B%7B%7D%2C%5B%5D%5D"), "[{},[]]");
    }
}
