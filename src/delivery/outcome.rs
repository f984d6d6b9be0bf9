//! What a callback attempt's outcome means: an HTTP status or a transport
//! error turned into success or a [`Failure`] that says why, in words for
//! logs and `hooks/list` and as a [`Reason`] for the retry policy and the
//! metrics. Pure functions.

use std::time::Duration;

/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// Why an attempt failed, in a few kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The request did not complete within the request timeout.
    Timeout,
    /// The connection could not be made or broke (refused, reset, DNS).
    Connect,
    /// The TLS handshake or the certificate check failed.
    Tls,
    /// A redirect that was not followed.
    Redirect,
    /// The endpoint answered 4xx.
    Status4xx,
    /// The endpoint answered 5xx (or another non-2xx status).
    Status5xx,
    /// Anything else the HTTP client reported.
    Other,
}

impl Reason {
    /// Every kind, in the order the metrics keep them.
    pub const ALL: [Reason; 7] = [
        Reason::Timeout,
        Reason::Connect,
        Reason::Tls,
        Reason::Redirect,
        Reason::Status4xx,
        Reason::Status5xx,
        Reason::Other,
    ];

    /// The position of this kind in [`Reason::ALL`] (the variants are
    /// declared in that order).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in metrics labels.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Timeout => "timeout",
            Reason::Connect => "connect",
            Reason::Tls => "tls",
            Reason::Redirect => "redirect",
            Reason::Status4xx => "status_4xx",
            Reason::Status5xx => "status_5xx",
            Reason::Other => "other",
        }
    }
}

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: Reason,
    /// For logs and `hooks/list`; never contains the secret or checksum.
    pub message: String,
    /// The endpoint asked to wait this long (429/503 with `Retry-After`).
    pub retry_after: Option<Duration>,
    /// The endpoint answered 410 Gone: it wants no more events.
    pub gone: bool,
    /// An LRS refused the statement in a way retrying cannot fix (400, 401,
    /// 403, 404, 413): after a few attempts it is dropped.
    pub unfixable: bool,
}

impl Failure {
    fn new(reason: Reason, message: String) -> Failure {
        Failure {
            reason,
            message,
            retry_after: None,
            gone: false,
            unfixable: false,
        }
    }
}

/// What an HTTP status means for the delivery: 2xx is success; 410 means the
/// endpoint is gone; 3xx that was not followed, 401 and every other status are
/// failures to retry; `Retry-After` (seconds, at most [`MAX_RETRY_AFTER`])
/// counts on 429 and 503.
pub fn classify(
    status: u16,
    retry_after: Option<&str>,
    location: Option<&str>,
) -> Result<(), Failure> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    let (reason, message) = match (status, location) {
        (300..=399, Some(l)) => {
            let l: String = crate::redact::url(l).chars().take(200).collect();
            (
                Reason::Redirect,
                format!("HTTP {status}: redirected to {l} (redirects are not followed; see BBB_WEBHOOKS_MAX_REDIRECTS)"),
            )
        }
        (300..=399, None) => (Reason::Redirect, format!("HTTP {status}")),
        (400..=499, _) => (Reason::Status4xx, format!("HTTP {status}")),
        _ => (Reason::Status5xx, format!("HTTP {status}")),
    };
    let retry_after = retry_after
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER))
        .filter(|_| status == 429 || status == 503);
    Err(Failure {
        retry_after,
        gone: status == 410,
        ..Failure::new(reason, message)
    })
}

/// What an LRS's answer means for a statement: 2xx is success; 400, 401,
/// 403, 404 and 413 cannot be fixed by retrying (after a few attempts the
/// statement is dropped); anything else is retried as for a callback. The
/// message quotes the start of the LRS's answer.
pub fn classify_lrs(status: u16, retry_after: Option<&str>, body: &str) -> Result<(), Failure> {
    let Err(mut f) = classify(status, retry_after, None) else {
        return Ok(());
    };
    f.gone = false;
    f.unfixable = matches!(status, 400 | 401 | 403 | 404 | 413);
    let answer: String = body.chars().filter(|c| !c.is_control()).take(300).collect();
    if !answer.trim().is_empty() {
        f.message = format!("{}: {}", f.message, crate::redact::text(answer.trim()));
    }
    Err(f)
}

/// A failure below HTTP (connect, TLS, timeout), from the client's error,
/// whose text may quote the request URL: its query (with the checksum) is
/// left out.
pub fn transport(e: &ureq::Error) -> Failure {
    let mut f = transport_unredacted(e);
    f.message = crate::redact::text(&f.message);
    f
}

fn transport_unredacted(e: &ureq::Error) -> Failure {
    const TRUST: &str = "(the endpoint's certificate must verify against the system trust store)";
    match e {
        ureq::Error::Timeout(_) => Failure::new(Reason::Timeout, "timed out".to_owned()),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => {
            Failure::new(Reason::Tls, format!("TLS error: {e} {TRUST}"))
        }
        ureq::Error::Io(io) if is_tls(&io.to_string()) => {
            Failure::new(Reason::Tls, format!("TLS error: {io} {TRUST}"))
        }
        ureq::Error::Io(io) => Failure::new(Reason::Connect, format!("connection error: {io}")),
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
            Failure::new(Reason::Connect, e.to_string())
        }
        ureq::Error::TooManyRedirects | ureq::Error::RedirectFailed => {
            Failure::new(Reason::Redirect, e.to_string())
        }
        other => Failure::new(Reason::Other, other.to_string()),
    }
}

/// Whether an I/O error's text is about the TLS handshake or certificate.
fn is_tls(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    ["certificate", "tls", "handshake", "peer sent"]
        .iter()
        .any(|k| t.contains(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_is_at_its_index_in_all() {
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i, "{r:?}");
        }
    }

    #[test]
    fn any_2xx_is_success() {
        assert!(classify(200, None, None).is_ok());
        assert!(classify(204, None, None).is_ok());
    }

    #[test]
    fn a_401_is_retried_not_success() {
        let f = classify(401, None, None).expect_err("401 retried");
        assert!(!f.gone);
        assert_eq!(f.reason, Reason::Status4xx);
    }

    #[test]
    fn a_410_means_gone() {
        let f = classify(410, None, None).expect_err("410 is gone");
        assert!(f.gone);
    }

    #[test]
    fn retry_after_counts_on_429_and_503_only_and_is_bounded() {
        let f = classify(503, Some("3"), None).expect_err("503");
        assert_eq!(f.retry_after, Some(Duration::from_secs(3)));
        assert_eq!(f.reason, Reason::Status5xx);
        let f = classify(429, Some(" 99999 "), None).expect_err("429");
        assert_eq!(f.retry_after, Some(MAX_RETRY_AFTER));
        let f = classify(500, Some("3"), None).expect_err("500");
        assert_eq!(f.retry_after, None);
        let f = classify(503, Some("Wed, 21 Oct 2015 07:28:00 GMT"), None).expect_err("date");
        assert_eq!(f.retry_after, None);
    }

    #[test]
    fn an_unfollowed_redirect_says_where_to() {
        let f = classify(302, None, Some("http://x/")).expect_err("302");
        assert!(f.message.contains("redirected to http://x/"));
        assert_eq!(f.reason, Reason::Redirect);
        let long = "y".repeat(500);
        let f = classify(301, None, Some(&long)).expect_err("301");
        assert!(f.message.len() < 400, "location is cut");
    }

    #[test]
    fn an_lrs_refusal_that_retrying_cannot_fix_is_marked_and_quoted() {
        assert!(classify_lrs(200, None, "[\"id\"]").is_ok());
        for status in [400, 401, 403, 404, 413] {
            let f = classify_lrs(status, None, "{\"error\":\"bad verb\"}").expect_err("4xx");
            assert!(f.unfixable, "{status}");
            assert!(f.message.contains("bad verb"), "{}", f.message);
        }
        let f = classify_lrs(410, None, "").expect_err("410");
        assert!(!f.gone && !f.unfixable, "an LRS is never gone");
        let f = classify_lrs(503, Some("2"), "").expect_err("503");
        assert!(!f.unfixable);
        assert_eq!(f.retry_after, Some(Duration::from_secs(2)));
        assert_eq!(f.message, "HTTP 503");
    }

    #[test]
    fn tls_errors_are_told_apart_from_connection_errors() {
        assert!(is_tls("invalid peer certificate: UnknownIssuer"));
        assert!(!is_tls("Connection refused (os error 111)"));
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let f = transport(&ureq::Error::Io(io));
        assert_eq!(f.reason, Reason::Connect);
    }
}
