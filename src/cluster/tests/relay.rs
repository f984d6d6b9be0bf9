//! [`crate::cluster::relay::receive`] on callbacks built the way pool
//! servers send them: by this service's own [`crate::callback::build`] (as
//! the reference 3.x does), and by hand as webhooks 2.x did.

use super::support::pool_server;
use crate::callback;
use crate::checksum::Algorithm;
use crate::cluster::refusal::Refusal;
use crate::cluster::relay::{receive, Proof, RelayError, RelayUrl, DEFAULT_MAX_BODY};
use crate::cluster::relay_body::Malformed;
use crate::cluster::Pool;
use crate::config::{CallbackAuth, Secret};
use crate::http::Request;

const BASE: &str = "https://lb.example.com/bigbluebutton/api/hooks/relay";

fn relay() -> RelayUrl {
    RelayUrl::parse(BASE).expect("relay URL")
}

fn pool() -> Pool {
    let mut pool = Pool::default();
    for (id, secret) in [("bbb1", "secret-1"), ("bbb2", "secret-2")] {
        let s = pool_server(id, &format!("https://{id}/bigbluebutton/api"), secret);
        pool.insert(s).expect("unique");
    }
    pool
}

/// The POST server `id` sends for `events`, signed with `secret`.
fn post(id: &str, events: &[&str], auth: CallbackAuth, secret: &str) -> Request {
    let cb = callback::build(
        &format!("{BASE}/{id}"),
        events,
        &format!("{id}.example.com"),
        1_700_000_000_000,
        auth,
        &Secret::new(secret),
    );
    let target = cb
        .url
        .strip_prefix("https://lb.example.com")
        .expect("same host")
        .to_owned();
    let mut headers = vec![(
        "content-type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    )];
    if let Some(a) = cb.authorization {
        headers.push(("authorization".to_owned(), a));
    }
    Request {
        method: "POST".into(),
        target,
        version: "HTTP/1.1".into(),
        headers,
        body: cb.body.into_bytes(),
    }
}

fn refusal(req: &Request) -> Refusal {
    match receive(req, &relay(), &pool(), DEFAULT_MAX_BODY) {
        Err(RelayError::Refused(r)) => r,
        other => panic!("not refused: {other:?}"),
    }
}

const EVENT: &str = r#"{"data":{"type":"event","id":"user-joined","attributes":{"meeting":{"external-meeting-id":"room"}}}}"#;

#[test]
fn every_checksum_algorithm_and_bearer_are_taken() {
    for alg in Algorithm::ALL {
        let req = post("bbb1", &[EVENT], CallbackAuth::Checksum(alg), "secret-1");
        let got = receive(&req, &relay(), &pool(), DEFAULT_MAX_BODY).expect("taken");
        assert_eq!(got.server_id, "bbb1");
        assert_eq!(got.proof, Proof::Checksum(alg));
        assert_eq!(got.body.domain, "bbb1.example.com");
        assert_eq!(got.body.timestamp, 1_700_000_000_000);
        assert_eq!(got.body.events.len(), 1);
        assert_eq!(got.body.events[0].json, EVENT);
    }
    let req = post("bbb2", &[EVENT], CallbackAuth::Bearer, "secret-2");
    let got = receive(&req, &relay(), &pool(), DEFAULT_MAX_BODY).expect("taken");
    assert_eq!((got.server_id.as_str(), got.proof), ("bbb2", Proof::Bearer));
}

#[test]
fn several_events_arrive_in_order() {
    let events: Vec<String> = (0..5)
        .map(|i| format!(r#"{{"data":{{"id":"user-joined","seq":{i}}}}}"#))
        .collect();
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    let req = post(
        "bbb1",
        &refs,
        CallbackAuth::Checksum(Algorithm::Sha1),
        "secret-1",
    );
    let got = receive(&req, &relay(), &pool(), DEFAULT_MAX_BODY).expect("taken");
    let texts: Vec<&str> = got.body.events.iter().map(|e| e.json.as_str()).collect();
    assert_eq!(texts, refs);
    let seqs: Vec<i64> = got
        .body
        .events
        .iter()
        .filter_map(|e| e.value["data"]["seq"].as_i64())
        .collect();
    assert_eq!(seqs, vec![0, 1, 2, 3, 4]);
}

#[test]
fn wrong_secrets_are_refused() {
    let sha256 = CallbackAuth::Checksum(Algorithm::Sha256);
    assert_eq!(
        refusal(&post("bbb1", &[EVENT], sha256, "wrong")),
        Refusal::WrongChecksum(Algorithm::Sha256)
    );
    // Another pool server's secret proves nothing for this one.
    assert_eq!(
        refusal(&post("bbb1", &[EVENT], sha256, "secret-2")),
        Refusal::WrongChecksum(Algorithm::Sha256)
    );
    assert_eq!(
        refusal(&post("bbb1", &[EVENT], CallbackAuth::Bearer, "secret-2")),
        Refusal::WrongBearer
    );
    // A checksum signed for bbb2's URL, replayed to bbb1's.
    let mut replayed = post("bbb2", &[EVENT], sha256, "secret-1");
    replayed.target = replayed.target.replace("/relay/bbb2", "/relay/bbb1");
    assert_eq!(
        refusal(&replayed),
        Refusal::WrongChecksum(Algorithm::Sha256)
    );
    // A body changed after signing.
    let mut changed = post("bbb1", &[EVENT], sha256, "secret-1");
    changed.body = String::from_utf8_lossy(&changed.body)
        .replace("room", "roon")
        .into_bytes();
    assert_eq!(refusal(&changed), Refusal::WrongChecksum(Algorithm::Sha256));
}

#[test]
fn unknown_servers_and_missing_or_odd_proofs_are_refused() {
    assert_eq!(
        refusal(&post("bbb9", &[EVENT], CallbackAuth::Bearer, "secret-1")),
        Refusal::UnknownServer("bbb9".into())
    );
    let mut bare = post("bbb1", &[EVENT], CallbackAuth::Bearer, "secret-1");
    bare.headers.retain(|(k, _)| k != "authorization");
    assert_eq!(refusal(&bare), Refusal::NoCredentials);
    let mut basic = bare.clone();
    basic
        .headers
        .push(("authorization".into(), "Basic c2VjcmV0LTE=".into()));
    assert_eq!(refusal(&basic), Refusal::NotBearer);
    let mut short = bare.clone();
    short.target.push_str("?checksum=abc");
    assert_eq!(refusal(&short), Refusal::ChecksumLength(3));
    // A good bearer token is enough even next to a bad checksum.
    let mut both = post("bbb1", &[EVENT], CallbackAuth::Bearer, "secret-1");
    both.target
        .push_str(&format!("?checksum={}", "0".repeat(40)));
    let got = receive(&both, &relay(), &pool(), DEFAULT_MAX_BODY).expect("taken");
    assert_eq!(got.proof, Proof::Bearer);
    // The scheme's case does not matter.
    let mut lower = bare;
    lower
        .headers
        .push(("authorization".into(), "bearer secret-1".into()));
    assert!(receive(&lower, &relay(), &pool(), DEFAULT_MAX_BODY).is_ok());
}

/// Refusals say what kind of proof failed, never the proof or the secret.
#[test]
fn refusal_texts_hold_no_secrets() {
    for req in [
        post(
            "bbb1",
            &[EVENT],
            CallbackAuth::Checksum(Algorithm::Sha1),
            "secret-2",
        ),
        post("bbb1", &[EVENT], CallbackAuth::Bearer, "secret-2"),
    ] {
        let text = refusal(&req).to_string();
        let sum = req.target.split("checksum=").nth(1).unwrap_or("none");
        assert!(!text.contains("secret-") && !text.contains(sum), "{text}");
    }
}

#[test]
fn other_requests_are_told_apart() {
    let good = post("bbb1", &[EVENT], CallbackAuth::Bearer, "secret-1");
    let mut get = good.clone();
    get.method = "GET".into();
    assert_eq!(
        receive(&get, &relay(), &pool(), DEFAULT_MAX_BODY),
        Err(RelayError::Method)
    );
    let mut elsewhere = good.clone();
    elsewhere.target = "/bigbluebutton/api/hooks/list".into();
    assert_eq!(
        receive(&elsewhere, &relay(), &pool(), DEFAULT_MAX_BODY),
        Err(RelayError::NotFound)
    );
    assert_eq!(
        receive(&good, &relay(), &pool(), 10),
        Err(RelayError::TooLarge(10))
    );
}

/// A body is described (400) only to a server that proved itself.
#[test]
fn malformed_bodies_from_proven_servers() {
    let with_body = |body: &str| Request {
        method: "POST".into(),
        target: "/bigbluebutton/api/hooks/relay/bbb1".into(),
        version: "HTTP/1.1".into(),
        headers: vec![("authorization".into(), "Bearer secret-1".into())],
        body: body.as_bytes().to_vec(),
    };
    let cases = [
        ("", Malformed::Missing("domain")),
        ("domain=d&event=%5B%5D&timestamp=1", Malformed::NoEvents),
        ("domain=d&event=%7B%7D&timestamp=1", Malformed::NotArray),
        (
            "domain=d&event=%5B1%5D&timestamp=1",
            Malformed::NotAnObject(0),
        ),
        (
            "domain=d&event=%5B%7B%7D%5D&timestamp=now",
            Malformed::BadTimestamp,
        ),
    ];
    for (body, want) in cases {
        let got = receive(&with_body(body), &relay(), &pool(), DEFAULT_MAX_BODY);
        assert_eq!(got, Err(RelayError::Malformed(want)), "{body}");
    }
    let mut unproven = with_body("garbage");
    unproven.headers.clear();
    assert_eq!(
        receive(&unproven, &relay(), &pool(), DEFAULT_MAX_BODY),
        Err(RelayError::Refused(Refusal::NoCredentials))
    );
}

/// Webhooks 2.x: fields event, timestamp, domain (the `request` library's
/// form encoding), SHA-1 over the URL, `JSON.stringify` of the fields and
/// the secret.
#[test]
fn webhooks_2_checksums_are_taken() {
    let event = format!("[{EVENT}]");
    let body = format!(
        "event={}&timestamp=1500000000000&domain=bbb1.example.com",
        crate::query::form_encode(&event).replace('+', "%20")
    );
    let json = format!(
        "{{\"event\":{},\"timestamp\":1500000000000,\"domain\":\"bbb1.example.com\"}}",
        serde_json::Value::from(event.as_str())
    );
    assert!(
        json.starts_with(r#"{"event":"[{\"data\":{\"type\""#),
        "{json}"
    );
    let sum = Algorithm::Sha1.hex_digest(&[
        format!("{BASE}/bbb1").as_bytes(),
        json.as_bytes(),
        b"secret-1",
    ]);
    let req = Request {
        method: "POST".into(),
        target: format!("/bigbluebutton/api/hooks/relay/bbb1?checksum={sum}"),
        version: "HTTP/1.1".into(),
        headers: vec![],
        body: body.into_bytes(),
    };
    let got = receive(&req, &relay(), &pool(), DEFAULT_MAX_BODY).expect("taken");
    assert_eq!(got.proof, Proof::LegacyChecksum);
    assert_eq!(got.body.events[0].json, EVENT);
    let mut other = req.clone();
    other.target = other.target.replace("/bbb1?", "/bbb2?");
    assert_eq!(refusal(&other), Refusal::WrongChecksum(Algorithm::Sha1));
}
