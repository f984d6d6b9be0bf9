//! What the service says never shows a Redis password, nor the query of a
//! callback URL (an app's token may be there, and the request URL carries
//! this server's checksum), nor an LRS's credentials or a meeting's LRS
//! payload: in startup lines, configuration errors, `check`, delivery logs
//! and `<lastError>`.

mod support;

use support::*;

const PASSWORD: &str = "redis-pw-5f2a9c";

/// Asserts `ok` of every line the service logged.
fn assert_log(svc: &Service, ok: impl Fn(&str) -> bool) {
    let log = svc.log.lock().expect("log lock");
    assert!(!log.is_empty());
    for line in log.iter() {
        assert!(ok(line), "logged: {line}");
    }
}

/// Everything a command printed.
fn output(env: &[(String, String)], args: &[&str]) -> String {
    let out = run_within(env, args, WAIT);
    format!("{}{}", stdout(&out), stderr(&out))
}

#[test]
fn the_redis_password_appears_in_no_output() {
    let redis = Redis::start();
    // Nothing listens there: the service waits for Redis and says where.
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{}", free_port());
    let svc = Service::launch(&redis)
        .env("BBB_WEBHOOKS_REDIS_URL", &url)
        .ready(Ready::Listening)
        .start();
    svc.wait_logged("waiting for Redis at redis://***@127.0.0.1:");
    let env = with(base_env(&redis), "BBB_WEBHOOKS_REDIS_URL", &url);
    let check = output(&env, &["check"]);
    assert!(check.contains("redis://***@127.0.0.1"), "{check}");
    let bad = with(
        base_env(&redis),
        "BBB_WEBHOOKS_REDIS_URL",
        &format!("http://:{PASSWORD}@127.0.0.1:{}", free_port()),
    );
    let refused = output(&bad, &[]);
    assert!(refused.contains("BBB_WEBHOOKS_REDIS_URL"), "{refused}");
    let event = output(&env, &["test-event"]);
    for text in [&check, &refused, &event] {
        assert!(!text.contains(PASSWORD), "a password in: {text}");
    }
    assert_log(&svc, |line| !line.contains(PASSWORD));
}

#[test]
fn callback_url_queries_appear_in_no_log_line_or_last_error() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    // An app's token in the query; the endpoint fails, then redirects.
    rx.answer_next(vec![Answer::status(500)]);
    rx.answer_always(
        Answer::status(302).header("Location", "https://elsewhere.example/in?sig=loc-secret"),
    );
    let svc = Service::start(&redis, &[("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "50")]);
    let cb = format!("{}?token=app-token-77", rx.url("/cb"));
    svc.create_hook(&format!("callbackURL={}", enc(&cb)));
    // A hook whose endpoint refuses connections: the HTTP client's error.
    let dead = format!("http://127.0.0.1:{}/x?token=dead-token-88", free_port());
    svc.create_hook(&format!("callbackURL={}", enc(&dead)));
    redis.publish("bigbluebutton:events", &test_event("m", "d"));
    rx.next();
    rx.next();
    let list = wait_for("both hooks to have a last error", || {
        let l = svc.call("hooks/list", "");
        (l.matches("<lastError").count() == 2 && l.contains("redirected to")).then_some(l)
    });
    svc.wait_logged("callback to http://127.0.0.1");
    let last_errors: Vec<String> = list
        .split("<lastError")
        .skip(1)
        .map(|s| s.split("</lastError>").next().unwrap_or("").to_owned())
        .collect();
    for e in &last_errors {
        for secret in ["app-token-77", "dead-token-88", "loc-secret", "checksum="] {
            assert!(!e.contains(secret), "{secret} in <lastError>{e}");
        }
    }
    assert!(last_errors
        .iter()
        .any(|e| e.contains("https://elsewhere.example/in?…")));
    assert_log(&svc, |line| {
        ["app-token-77", "dead-token-88", "loc-secret", "checksum="]
            .iter()
            .all(|s| !line.contains(s))
    });
}

#[test]
fn lrs_credentials_and_payloads_appear_in_no_output() {
    let redis = Redis::start();
    let lrs = HttpReceiver::start();
    // A refusal that is retried, one that is not, then the rest taken.
    lrs.answer_next(vec![Answer::status(500), Answer::status(401)]);
    let (password, token, tenant_token) = ("lrs-pw-3c1e", "lrs-tok-9d2b", "tenant-tok-4a7f");
    let svc = Service::launch(&redis)
        .xapi(Some(&lrs.url("/lrs/")))
        .env("BBB_WEBHOOKS_XAPI_LRS_USERNAME", "lrs-user")
        .env("BBB_WEBHOOKS_XAPI_LRS_PASSWORD", password)
        .env("BBB_WEBHOOKS_XAPI_LRS_TOKEN", token)
        .start();
    let payload = openssl_payload(
        &format!(
            r#"{{"lrs_endpoint": "{}", "lrs_token": "{tenant_token}"}}"#,
            lrs.url("/t/")
        ),
        SECRET,
    );
    let undecryptable = openssl_payload(r#"{"lrs_token": "x"}"#, "not-the-secret");
    let created = |name: &str, payload: Option<&str>| {
        let meta = payload.map_or(
            serde_json::json!({}),
            |p| serde_json::json!({"secret-lrs-payload": p}),
        );
        serde_json::json!({"data": {"type": "event", "id": "meeting-created", "event": {"ts": 1},
            "attributes": {"meeting": {"internal-meeting-id": name, "external-meeting-id": name,
            "create-time": 1, "metadata": meta}}}})
        .to_string()
    };
    for (name, p) in [
        ("a", None),
        ("b", Some(&payload)),
        ("c", Some(&undecryptable)),
    ] {
        redis.publish(AKKA_CHANNEL, &created(name, p.map(String::as_str)));
    }
    let auths: Vec<String> = (0..4)
        .map(|_| lrs.next().header("authorization").unwrap_or("").to_owned())
        .collect();
    assert!(auths.contains(&format!("Bearer {token}")), "{auths:?}");
    assert!(
        auths.contains(&format!("Bearer {tenant_token}")),
        "{auths:?}"
    );
    svc.wait_logged("failed (HTTP 401: ok)");
    svc.wait_logged("meeting c sends no xAPI statements");
    let check = output(&svc.env(), &["check"]);
    let bad_token = with(
        svc.env(),
        "BBB_WEBHOOKS_XAPI_LRS_TOKEN",
        &format!("{token}\u{1}"),
    );
    let refused = output(&bad_token, &[]);
    assert!(refused.contains("BBB_WEBHOOKS_XAPI_LRS_TOKEN"), "{refused}");
    let secrets = [
        password,
        token,
        tenant_token,
        &payload[..30],
        &undecryptable[..30],
    ];
    for text in [&check, &refused] {
        for s in secrets {
            assert!(!text.contains(s), "{s} in: {text}");
        }
    }
    assert_log(&svc, |line| secrets.iter().all(|s| !line.contains(s)));
}
