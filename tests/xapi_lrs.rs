//! Where a meeting's statements go (XAPI.md §4, §8, §9): its own LRS from a
//! `secret-lrs-payload` made with the `openssl enc` command line (token or
//! Basic, missing fields from the configuration), a payload that does not
//! decrypt or is not JSON, the statements URL derived from every endpoint
//! shape of the spec, and the registration dated in the server's `TZ`.

mod support;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use support::*;

/// `meeting-created` of meeting `name` (internal id `int-<name>`) at
/// `create_time`, with `metadata`.
fn created_at(name: &str, create_time: u64, metadata: Value) -> String {
    json!({"data": {"type": "event", "id": "meeting-created", "event": {"ts": create_time},
        "attributes": {"meeting": {"internal-meeting-id": format!("int-{name}"),
        "external-meeting-id": name, "name": name, "duration": 0, "create-time": create_time,
        "metadata": metadata}}}})
    .to_string()
}

fn created(name: &str, metadata: Value) -> String {
    created_at(name, 1_698_771_157_700, metadata)
}

#[test]
fn a_payload_made_with_openssl_names_the_meeting_s_lrs() {
    let redis = Redis::start();
    let configured = HttpReceiver::start();
    let tenant = HttpReceiver::start();
    let svc = Service::launch(&redis)
        .xapi(Some(&configured.url("/")))
        .env("BBB_WEBHOOKS_XAPI_LRS_USERNAME", "cfg-user")
        .env("BBB_WEBHOOKS_XAPI_LRS_PASSWORD", "cfg-pass")
        .start();
    let bearer = json!({"lrs_endpoint": tenant.url("/tenant1/"), "lrs_token": "T0k3n"});
    let basic = json!({"lrs_endpoint": tenant.url("/tenant2/xapi/statements"), "lrs_username": "u", "lrs_password": "p"});
    // No endpoint: the configured one, with the payload's credentials.
    let no_endpoint = json!({"lrs_token": "Only-T0k3n"});
    // Pretty-printed, as in the reference's README.
    for (name, plain) in [
        (
            "bearer",
            serde_json::to_string_pretty(&bearer).expect("json"),
        ),
        ("basic", basic.to_string()),
        ("no-endpoint", no_endpoint.to_string()),
    ] {
        let payload = openssl_payload(&plain, SECRET);
        redis.publish(
            AKKA_CHANNEL,
            &created(name, json!({"secret-lrs-payload": payload})),
        );
    }
    redis.publish(AKKA_CHANNEL, &created("plain", json!({})));
    let mut at_tenant = BTreeMap::new();
    for _ in 0..2 {
        let r = next_statement(&tenant);
        let object = r.statement()["object"]["id"].clone();
        at_tenant.insert(
            r.target.clone(),
            (r.header("authorization").map(str::to_owned), object),
        );
    }
    let object = |name: &str| json!(format!("https://{DOMAIN}/xapi/activities/{}", uuid5(name)));
    assert_eq!(
        at_tenant,
        BTreeMap::from([
            (
                "/tenant1/xAPI/statements".to_owned(),
                (Some("Bearer T0k3n".to_owned()), object("bearer"))
            ),
            (
                "/xAPI/statements".to_owned(),
                (Some("Basic dTpw".to_owned()), object("basic"))
            ),
        ])
    );
    // The configured LRS: the payload without endpoint (its own token) and
    // the meeting without payload (the configured Basic credentials), two
    // destinations, so two queues: in either order.
    let at_configured: BTreeMap<Option<String>, Value> = (0..2)
        .map(|_| {
            let r = next_statement(&configured);
            let auth = r.header("authorization").map(str::to_owned);
            (auth, r.statement()["object"]["id"].clone())
        })
        .collect();
    assert_eq!(
        at_configured,
        BTreeMap::from([
            (Some("Bearer Only-T0k3n".to_owned()), object("no-endpoint")),
            (
                Some("Basic Y2ZnLXVzZXI6Y2ZnLXBhc3M=".to_owned()),
                object("plain")
            ),
        ])
    );
    for secret in ["T0k3n", "cfg-pass"] {
        assert!(!svc.logged(secret), "{secret} logged");
    }
}

#[test]
fn a_payload_that_does_not_open_silences_its_meeting_and_says_so_once() {
    let redis = Redis::start();
    let lrs = HttpReceiver::start();
    let svc = Service::launch(&redis).xapi(Some(&lrs.url("/"))).start();
    let wrong_secret = openssl_payload(r#"{"lrs_token": "T0k3n"}"#, "another-secret");
    let not_json = openssl_payload("lrs_token=T0k3n", SECRET);
    let no_credentials = openssl_payload(r#"{"lrs_endpoint": "http://lrs/"}"#, SECRET);
    let join = |name: &str, who: &str| {
        json!({"data": {"type": "event", "id": "user-joined", "event": {"ts": 2},
            "attributes": {"meeting": {"internal-meeting-id": format!("int-{name}"), "external-meeting-id": name},
            "user": {"internal-user-id": who, "name": who}}}})
        .to_string()
    };
    for (name, payload) in [
        ("wrong-secret", &wrong_secret),
        ("not-json", &not_json),
        ("no-credentials", &no_credentials),
    ] {
        let meta = json!({"secret-lrs-payload": payload});
        redis.publish(AKKA_CHANNEL, &created(name, meta.clone()));
        redis.publish(AKKA_CHANNEL, &join(name, "ann"));
        // BBB sends meeting-created once; a second one is logged no more.
        redis.publish(AKKA_CHANNEL, &created(name, meta));
    }
    // The fence: a meeting without payload, after them in the one queue.
    redis.publish(AKKA_CHANNEL, &created("fine", json!({})));
    let r = next_statement(&lrs);
    assert_eq!(
        r.statement()["object"]["id"],
        json!(format!(
            "https://{DOMAIN}/xapi/activities/{}",
            uuid5("fine")
        )),
        "nothing from the meetings before it"
    );
    svc.wait_metric("bbb_webhooks_xapi_skipped_total{reason=\"bad_payload\"}", 6);
    svc.wait_metric(
        "bbb_webhooks_xapi_skipped_total{reason=\"meeting_unknown\"}",
        3,
    );
    for (meeting, why) in [
        (
            "int-wrong-secret",
            "does not decrypt with the server secret",
        ),
        ("int-not-json", "decrypts, but not to JSON"),
        (
            "int-no-credentials",
            "has no lrs_token nor lrs_username and lrs_password",
        ),
    ] {
        let line =
            format!("meeting {meeting} sends no xAPI statements: its secret-lrs-payload {why}");
        let lines: Vec<String> = svc
            .log
            .lock()
            .expect("log")
            .iter()
            .filter(|l| l.contains(&line))
            .cloned()
            .collect();
        assert_eq!(lines.len(), 1, "{line:?} once: {lines:?}");
        assert!(lines[0].contains("WARN"), "{lines:?}");
    }
    for secret in [
        SECRET,
        "another-secret",
        "T0k3n",
        &wrong_secret[..24],
        &not_json[..24],
    ] {
        assert!(!svc.logged(secret), "{secret} logged");
    }
}

#[test]
fn the_statements_url_is_derived_as_the_reference_derives_it() {
    let redis = Redis::start();
    let lrs = HttpReceiver::start();
    let _svc = Service::launch(&redis).xapi(None).start();
    // XAPI.md §9: endpoint path -> POST path, on the same host.
    let cases = [
        ("", "/xAPI/statements"),
        ("/", "/xAPI/statements"),
        ("/lrs", "/xAPI/statements"),
        ("/lrs/", "/lrs/xAPI/statements"),
        ("/data/xAPI", "/xAPI/statements"),
        ("/data/xAPI/", "/xAPI/statements"),
        ("/xapi/statements/", "/xAPI/statements"),
        ("/a/b/XAPI/Statements", "/a/xAPI/statements"),
        ("/lrs/xapi/", "/xAPI/statements"),
        ("/lrs/statements", "/lrs/xAPI/statements"),
        ("/lrs/xapi/statements?x=1", "/lrs/xapi/xAPI/statements"),
        ("/tenant1/", "/tenant1/xAPI/statements"),
        ("/tenant2/xapi/statements", "/xAPI/statements"),
    ];
    for (i, (path, _)) in cases.iter().enumerate() {
        let plain = json!({"lrs_endpoint": format!("http://127.0.0.1:{}{path}", lrs.port), "lrs_token": format!("case-{i}")});
        let payload = openssl_payload(&plain.to_string(), SECRET);
        redis.publish(
            AKKA_CHANNEL,
            &created(&format!("m{i}"), json!({"secret-lrs-payload": payload})),
        );
    }
    // Each case is its own destination (its own queue): they come in any order.
    let mut got = BTreeMap::new();
    for _ in &cases {
        let r = next_statement(&lrs);
        let token = r.header("authorization").expect("authorization").to_owned();
        got.insert(token, r.target.clone());
    }
    let want: BTreeMap<String, String> = cases
        .iter()
        .enumerate()
        .map(|(i, (_, post))| (format!("Bearer case-{i}"), (*post).to_owned()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn the_registration_is_dated_in_the_server_s_time_zone() {
    // 2023-10-31T01:00:00Z: already the 31st in UTC, still the 30th in São Paulo.
    let create_time = 1_698_714_000_000;
    let mut registrations = Vec::new();
    for tz in ["UTC", "America/Sao_Paulo"] {
        let redis = Redis::start();
        let lrs = HttpReceiver::start();
        let svc = Service::launch(&redis)
            .xapi(Some(&lrs.url("/")))
            .env("TZ", tz)
            .start();
        assert!(svc.logged(&format!(
            "xAPI registrations are dated in the time zone {tz}"
        )));
        redis.publish(AKKA_CHANNEL, &created_at("ext-tz", create_time, json!({})));
        let s = next_statement(&lrs).statement();
        assert_eq!(
            s["timestamp"], "2023-10-31T01:00:00.000Z",
            "the instant is UTC"
        );
        registrations.push(s["context"]["registration"].clone());
    }
    assert_eq!(
        registrations,
        [
            json!(uuid5("ext-tz_20231031")),
            json!(uuid5("ext-tz_20231030"))
        ]
    );
    // A zone that cannot be read: UTC, and the log says why.
    let redis = Redis::start();
    let svc = Service::launch(&redis)
        .xapi(None)
        .env("TZ", "Nowhere/Atlantis")
        .start();
    svc.wait_logged("xAPI registration dates: unknown time zone \"Nowhere/Atlantis\", using UTC");
}
