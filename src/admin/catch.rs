//! `bbb-webhooks catch`: a local callback receiver for trying hooks out. It
//! answers 200 and prints one line per callback: time, event ids, meeting,
//! body size, and whether its checksum or bearer token verifies. Stops on
//! Ctrl-C or SIGTERM.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::checksum::constant_time_eq;
use crate::config::{CallbackAuth, Config, Secret};
use crate::error::{Error, Result};
use crate::http;
use crate::query;

use super::Args;

/// Default port.
pub const PORT: u16 = 8090;
/// Largest request part accepted; larger requests are answered 413 and not read.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// Whether a callback proved it came from this server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Bad,
    Absent,
}

impl Verdict {
    fn word(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Bad => "BAD",
            Verdict::Absent => "absent",
        }
    }
}

pub fn run(args: &[String], config: &Config) -> Result<bool> {
    let args = Args::parse(args, &["port"], &[])?;
    if let Some(extra) = args.positional.first() {
        return Err(Error::Usage(format!(
            "unexpected argument {extra:?} (see --help)"
        )));
    }
    let port = match args.value("port") {
        None => PORT,
        Some(p) => p
            .parse()
            .map_err(|_| Error::Usage(format!("--port {p:?} is not a port number")))?,
    };
    let bind = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mode = match config.callback_auth {
        CallbackAuth::Checksum(a) => format!("{} checksum", a.name()),
        CallbackAuth::Bearer => "bearer token".to_owned(),
    };
    let auth = config.callback_auth;
    let secret = config.secret.clone();
    // The port is known once bound (it may be 0: any free port).
    let bound_port = Arc::new(std::sync::OnceLock::<u16>::new());
    let handler_port = bound_port.clone();
    let handler: http::Handler = Arc::new(move |rq: http::Request| {
        let port = handler_port.get().copied().unwrap_or(port);
        let verdict = verify(
            auth,
            &secret,
            port,
            &rq.target,
            rq.header("authorization"),
            &rq.body,
        );
        let (ids, meeting) = summary(&rq.body);
        let kind = match auth {
            CallbackAuth::Checksum(_) => "checksum",
            CallbackAuth::Bearer => "bearer",
        };
        println!(
            "{}  {} {}  events={ids}  meeting={meeting}  size={}  {kind} {}",
            now(),
            rq.method,
            rq.target.split('?').next().unwrap_or(""),
            rq.body.len(),
            verdict.word()
        );
        http::Response::new(200, "text/plain", "ok")
    });
    let limits = http::Limits::new(MAX_BODY, 4, http::text_refusal);
    let server = http::Server::start(bind, limits, handler)
        .map_err(|e| Error::Other(format!("cannot listen on {bind}: {e}")))?;
    let port = server.addr().port();
    let _ = bound_port.set(port);
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    println!(
        "listening on http://127.0.0.1:{port}/ (register a callback URL under it; verifying the {mode}; Ctrl-C stops)"
    );
    signals.forever().next();
    server.stop(std::time::Instant::now() + std::time::Duration::from_secs(2));
    eprintln!("stopped");
    Ok(true)
}

/// Checks a callback as a receiving application does. Checksum mode: the
/// last `checksum` parameter must be `hex(SHA(url + body + secret))`, where
/// `url` is `http://127.0.0.1:<port>` and the target without that parameter
/// (the URL as registered). Bearer mode: `Authorization: Bearer <secret>`.
/// Compared in constant time.
pub fn verify(
    auth: CallbackAuth,
    secret: &Secret,
    port: u16,
    target: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> Verdict {
    match auth {
        CallbackAuth::Bearer => match authorization {
            None => Verdict::Absent,
            Some(h) => {
                let expected = format!("Bearer {}", secret.expose());
                if constant_time_eq(h.trim().as_bytes(), expected.as_bytes()) {
                    Verdict::Ok
                } else {
                    Verdict::Bad
                }
            }
        },
        CallbackAuth::Checksum(alg) => {
            let (path, raw_query) = target.split_once('?').unwrap_or((target, ""));
            // The service appends the checksum last; the registered URL is
            // everything before it.
            let Some((kept, sum)) = raw_query
                .rsplit_once("checksum=")
                .filter(|(before, _)| before.is_empty() || before.ends_with('&'))
            else {
                return Verdict::Absent;
            };
            let kept = kept.strip_suffix('&').unwrap_or(kept);
            let registered = if kept.is_empty() {
                format!("http://127.0.0.1:{port}{path}")
            } else {
                format!("http://127.0.0.1:{port}{path}?{kept}")
            };
            let expected =
                alg.hex_digest(&[registered.as_bytes(), body, secret.expose().as_bytes()]);
            if constant_time_eq(expected.as_bytes(), sum.as_bytes()) {
                Verdict::Ok
            } else {
                Verdict::Bad
            }
        }
    }
}

/// The event ids (`data.id` of each event, or the draft's `event`) and the
/// meeting of a callback body; `-` when absent.
fn summary(body: &[u8]) -> (String, String) {
    let text = String::from_utf8_lossy(body);
    let form = query::params(&text);
    let events: Vec<serde_json::Value> = query::get(&form, "event")
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or_default();
    let ids: Vec<&str> = events
        .iter()
        .map(|e| {
            e.pointer("/data/id")
                .or_else(|| e.get("event"))
                .or_else(|| e.pointer("/envelope/name"))
                .and_then(|v| v.as_str())
                .unwrap_or("?")
        })
        .collect();
    let meeting = events
        .iter()
        .find_map(|e| {
            e.pointer("/data/attributes/meeting/external-meeting-id")
                .or_else(|| e.get("meetingID"))
                .or_else(|| e.pointer("/core/header/meetingId"))
                .and_then(|v| v.as_str())
        })
        .unwrap_or("-");
    let ids = if ids.is_empty() {
        "-".to_owned()
    } else {
        ids.join(",")
    };
    (ids, meeting.to_owned())
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
fn now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc(secs)
}

fn utc(secs: u64) -> String {
    let (y, m, d) = crate::clock::civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callback;
    use crate::checksum::Algorithm;

    #[test]
    fn verifies_checksum_and_bearer() {
        let secret = Secret::new("s");
        for (registered, path) in [
            ("http://127.0.0.1:8090/cb", "/cb"),
            ("http://127.0.0.1:8090/cb?x=1", "/cb?x=1"),
        ] {
            let auth = CallbackAuth::Checksum(Algorithm::Sha1);
            let req = callback::build(registered, &["{}"], "d", 1, auth, &secret);
            let target = req.url.trim_start_matches("http://127.0.0.1:8090");
            assert!(target.starts_with(path));
            let body = req.body.as_bytes();
            assert_eq!(verify(auth, &secret, 8090, target, None, body), Verdict::Ok);
            assert_eq!(
                verify(auth, &secret, 8091, target, None, body),
                Verdict::Bad
            );
            assert_eq!(
                verify(auth, &Secret::new("t"), 8090, target, None, body),
                Verdict::Bad
            );
            assert_eq!(
                verify(auth, &secret, 8090, target, None, b"x"),
                Verdict::Bad
            );
            assert_eq!(
                verify(auth, &secret, 8090, path, None, body),
                Verdict::Absent
            );
        }
        let b = CallbackAuth::Bearer;
        assert_eq!(
            verify(b, &secret, 1, "/", Some("Bearer s"), b""),
            Verdict::Ok
        );
        assert_eq!(
            verify(b, &secret, 1, "/", Some("Bearer x"), b""),
            Verdict::Bad
        );
        assert_eq!(verify(b, &secret, 1, "/", None, b""), Verdict::Absent);
    }

    #[test]
    fn summarizes_mapped_and_draft_events() {
        let body = callback::body(
            &[
                r#"{"data":{"id":"user-joined","attributes":{"meeting":{"external-meeting-id":"m1"}}}}"#,
                r#"{"data":"hola ola","meetingID":"m2","event":"TestEvent"}"#,
            ],
            "d",
            1,
        );
        assert_eq!(
            summary(body.as_bytes()),
            ("user-joined,TestEvent".to_owned(), "m1".to_owned())
        );
        assert_eq!(summary(b"nothing"), ("-".to_owned(), "-".to_owned()));
    }

    #[test]
    fn formats_utc() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
