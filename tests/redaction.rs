//! What the service says never shows a Redis password, nor the query of a
//! callback URL (an app's token may be there, and the request URL carries
//! this server's checksum): in startup lines, configuration errors,
//! `check`, delivery logs and `<lastError>`.

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
    let (mut cmd, _dir) = command(env);
    let out = cmd.args(args).output().expect("the command runs");
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
        &format!("http://:{PASSWORD}@127.0.0.1:6379"),
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
