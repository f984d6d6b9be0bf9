//! The admin subcommands against a real setup: `sign`'s URLs are accepted,
//! `hooks` manages hooks through the API, `test-event` reaches a subscriber,
//! `catch` verifies real and forged callbacks, `check` finds what is wrong,
//! and the metrics endpoint counts deliveries.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Output, Stdio};

use crossbeam_channel::{unbounded, Receiver};
use support::*;

/// Runs `bbb-webhooks --config <empty file> ARGS` with `env` to completion
/// (within [`WAIT`]), and checks that it printed no secret.
fn admin(env: &[(String, String)], args: &[&str]) -> Output {
    let out = run_within(env, args, WAIT);
    eprintln!(
        "{args:?}: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    for secret in [SECRET, "other-secret"] {
        assert!(
            !stdout(&out).contains(secret) && !stderr(&out).contains(secret),
            "{args:?} printed a secret"
        );
    }
    out
}

#[test]
fn sign_prints_a_url_the_service_accepts() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[]);
    let env = svc.env();
    let cb = rx.url("/cb?a=1&b=é");
    let out = admin(
        &env,
        &[
            "sign",
            "hooks/create",
            &format!("callbackURL={cb}"),
            "meetingID=room 1",
        ],
    );
    assert!(out.status.success());
    let url = stdout(&out).trim().to_owned();
    assert_eq!(stdout(&out).lines().count(), 1, "only the URL is printed");
    let prefix = format!(
        "{}/hooks/create?callbackURL={}&meetingID=room+1&checksum=",
        svc.api,
        enc(&cb)
    );
    assert!(url.starts_with(&prefix), "{url}");
    let (status, body) = http_get(&url);
    assert_eq!(status, 200);
    assert!(body.contains("<returncode>SUCCESS</returncode>"), "{body}");
    let list = svc.call("hooks/list", "");
    assert!(list.contains(&format!("<![CDATA[{cb}]]>")), "{list}");
    assert!(list.contains("<![CDATA[room 1]]>"), "{list}");

    // Another algorithm; a changed URL is refused, so the checksum matters.
    let out = admin(&env, &["sign", "--algorithm", "sha256", "hooks/list"]);
    assert!(out.status.success());
    let url = stdout(&out).trim().to_owned();
    assert_eq!(url.rsplit_once("checksum=").expect("checksum").1.len(), 64);
    let (_, body) = http_get(&url);
    assert!(body.contains("<returncode>SUCCESS</returncode>"), "{body}");
    let (_, body) = http_get(&url.replace("hooks/list?", "hooks/list?meetingID=x&"));
    assert!(body.contains("checksumError"), "{body}");

    // --config after the command, with every setting in the file.
    let dir = std::env::temp_dir().join(format!("bbbwh-admin-sign-{}", free_port()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("c.conf");
    let text: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(&file, text).expect("write");
    let file_arg = file.display().to_string();
    let out = admin(&[], &["sign", "hooks/list", "--config", &file_arg]);
    assert!(out.status.success());
    let (_, body) = http_get(stdout(&out).trim());
    assert!(body.contains("<returncode>SUCCESS</returncode>"), "{body}");
    let _ = std::fs::remove_dir_all(dir);

    // The secret is in no output, and bad arguments fail clearly.
    let out = admin(&env, &["sign", "hooks/create", "noequals"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("noequals"), "{}", stderr(&out));
    let out = admin(&env, &["sign", "--algorithm", "md5", "hooks/list"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("md5"), "{}", stderr(&out));
}

#[test]
fn hooks_command_creates_lists_and_destroys_hooks_through_the_api() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let svc = Service::start(&redis, &[]);
    let env = svc.env();
    let out = admin(&env, &["hooks", "list"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), "no hooks");

    let cb = rx.url("/h?x=1&y=2");
    let out = admin(
        &env,
        &[
            "hooks",
            "create",
            &cb,
            "--meeting",
            "m-1",
            "--events",
            "user-joined,user-left",
        ],
    );
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("created (permanent: false, raw: false)"),
        "{text}"
    );
    let id = text.split_whitespace().next().expect("an id").to_owned();

    let out = admin(&env, &["hooks", "create", &cb]);
    assert!(out.status.success());
    assert!(stdout(&out).contains(&format!("{id} (already registered")));

    let raw_cb = rx.url("/raw");
    let out = admin(&env, &["hooks", "create", &raw_cb, "--raw"]);
    assert!(stdout(&out).contains("raw: true"), "{}", stdout(&out));
    let raw_id = stdout(&out)
        .split_whitespace()
        .next()
        .expect("id")
        .to_owned();

    let out = admin(&env, &["hooks", "list"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 2, "one line per hook: {text}");
    assert!(
        text.lines()
            .any(|l| l == format!("{id}  {cb}  meeting=m-1  events=user-joined,user-left")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l == format!("{raw_id}  {raw_cb}  meeting=*  events=*  raw")),
        "{text}"
    );
    let out = admin(&env, &["hooks", "list", "--meeting", "other"]);
    assert_eq!(stdout(&out).lines().count(), 1, "only the global hook");

    let out = admin(&env, &["hooks", "destroy", &id]);
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), "removed");
    let out = admin(&env, &["hooks", "destroy", &id]);
    assert!(!out.status.success(), "destroying twice fails");
    assert!(
        stderr(&out).contains("FAILED destroyMissingHook"),
        "{}",
        stderr(&out)
    );
    let out = admin(&env, &["hooks", "create", "ftp://nope"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("invalidCallbackURL"));
    let out = admin(&env, &["hooks", "list"]);
    assert!(!stdout(&out).contains(&id));

    // A different secret: the API's refusal is a failure.
    let mut wrong = env.clone();
    wrong.push(("BBB_WEBHOOKS_SHARED_SECRET".into(), "wrong".into()));
    let out = admin(&wrong, &["hooks", "list"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("checksumError"), "{}", stderr(&out));
}

#[test]
fn test_event_reaches_a_subscribed_receiver() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    // Nobody subscribed yet: the command says so and fails.
    let out = admin(&base_env(&redis), &["test-event"]);
    assert!(!out.status.success());
    assert!(stdout(&out).contains(": 0 subscribers"), "{}", stdout(&out));

    let svc = Service::launch(&redis)
        .without_metrics()
        .ready(Ready::Api)
        .start();
    assert_eq!(
        listening_ports(svc.pid()),
        [svc.api_addr.port()],
        "the metrics endpoint is off by default"
    );
    // Logged after the metrics address would be, so the log is far enough.
    svc.wait_logged("API listening on");
    assert!(
        !svc.logged("metrics"),
        "the metrics endpoint is off by default"
    );
    wait_for("the service to subscribe", || {
        (redis.subscribers("bigbluebutton:events") == 1).then_some(())
    });
    let env = svc.env();
    svc.call(
        "subscribeEvent",
        &format!("meetingID=my-meeting&callbackURL={}", enc(&rx.url("/t"))),
    );
    let out = admin(&env, &["test-event", "--meeting", "other-meeting"]);
    assert!(out.status.success());
    let out = admin(&env, &["test-event", "--meeting", "my-meeting"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("on bigbluebutton:events: 1 subscribers"),
        "{}",
        stdout(&out)
    );
    let r = rx.next();
    assert!(checksum_verifies(&r, &rx.url("/t")));
    assert_eq!(
        r.events(),
        vec![
            serde_json::json!({"data": "hola ola", "meetingID": "my-meeting", "event": "TestEvent"})
        ]
    );
    rx.assert_quiet(std::time::Duration::from_millis(300));
}

/// `bbb-webhooks catch` as a child process; its stdout lines arrive on `lines`.
struct Catch {
    child: Child,
    port: u16,
    lines: Receiver<String>,
}

impl Catch {
    fn start(env: &[(String, String)]) -> Catch {
        let (mut cmd, _dir) = command(env);
        let mut child = cmd
            .args(["catch", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("catch starts");
        let out = child.stdout.take().expect("stdout piped");
        let (tx, lines) = unbounded();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                eprintln!("catch: {line}");
                let _ = tx.send(line);
            }
        });
        let first = lines
            .recv_timeout(WAIT)
            .expect("catch says where it listens");
        let port = between(&first, "http://127.0.0.1:", "/")
            .parse()
            .expect("a port");
        Catch { child, port, lines }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn next_line(&self) -> String {
        self.lines
            .recv_timeout(WAIT)
            .expect("catch prints a line within the deadline")
    }
}

impl Drop for Catch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs `body` to `target` on 127.0.0.1:`port`; returns the status.
fn post(port: u16, target: &str, headers: &str, body: &str) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    write!(
        s,
        "POST {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    resp.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status")
}

/// Stops `catch` with SIGTERM and checks that it exits cleanly.
fn stop(catch: &mut Catch) {
    let exit = sigterm(&mut catch.child);
    assert!(exit.success(), "catch stops cleanly: {exit:?}");
}

#[test]
fn catch_verifies_real_and_forged_callbacks() {
    let redis = Redis::start();
    let svc = Service::start(&redis, &[]);
    let env = svc.env();
    let mut catch = Catch::start(&env);
    let cb = catch.url("/cb?app=1");
    svc.create_hook(&format!("callbackURL={}", enc(&cb)));
    redis.publish(
        "from-akka-apps-redis-channel",
        &mapped_event("user-joined", "int-1", "ext-1", 1),
    );
    let line = catch.next_line();
    assert!(
        line.contains("POST /cb  events=user-joined  meeting=ext-1  size=")
            && line.ends_with("checksum ok"),
        "{line}"
    );

    // A forged checksum, and none at all.
    let body = "domain=x&event=%5B%5D&timestamp=1";
    let forged = format!("/cb?app=1&checksum={}", "0".repeat(40));
    assert_eq!(post(catch.port, &forged, "", body), 200);
    let line = catch.next_line();
    assert!(line.ends_with("checksum BAD"), "{line}");
    assert!(line.contains(&format!("size={}", body.len())), "{line}");
    assert_eq!(post(catch.port, "/cb?app=1", "", body), 200);
    assert!(catch.next_line().ends_with("checksum absent"));
    stop(&mut catch);

    // Bearer mode: the Authorization header is checked.
    let benv = with(env, "BBB_WEBHOOKS_CALLBACK_AUTH", "bearer");
    let mut catch = Catch::start(&benv);
    let good = format!("Authorization: Bearer {SECRET}\r\n");
    assert_eq!(post(catch.port, "/b", &good, body), 200);
    assert!(catch.next_line().ends_with("bearer ok"));
    assert_eq!(
        post(catch.port, "/b", "Authorization: Bearer x\r\n", body),
        200
    );
    assert!(catch.next_line().ends_with("bearer BAD"));
    assert_eq!(post(catch.port, "/b", "", body), 200);
    let line = catch.next_line();
    assert!(line.ends_with("bearer absent"), "{line}");
    assert!(!line.contains(SECRET));
    stop(&mut catch);
}

#[test]
fn check_passes_on_a_working_setup_and_names_what_fails() {
    let mut redis = Redis::start();
    let api = format!("127.0.0.1:{}", free_port());
    let env = with(base_env(&redis), "BBB_WEBHOOKS_API_BIND", &api);
    // Before the service runs: its port is free, which is fine.
    let out = admin(&env, &["check"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("is free (the service is not running"));
    assert!(
        !stdout(&out).contains("metrics"),
        "metrics are off by default"
    );

    let svc = Service::start(&redis, &[]);
    let env = svc.env();
    let metrics = svc.metrics_addr.expect("the metrics endpoint is on");
    let out = admin(&env, &["check"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for line in [
        "ok    config: read from ",
        "ok    secret: found: BBB_WEBHOOKS_SHARED_SECRET from the environment",
        &format!("ok    redis: {} answers", redis.url()),
        "ok    api: the service answers on http://127.0.0.1:",
        &format!("ok    metrics: the service answers on http://{metrics}/metrics"),
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(line)),
            "{line:?} in {text}"
        );
    }
    assert!(text.contains("accepts this secret"), "{text}");

    // The running service has another secret than this configuration.
    let mut wrong = env.clone();
    wrong.push(("BBB_WEBHOOKS_SHARED_SECRET".into(), "other-secret".into()));
    let out = admin(&wrong, &["check"]);
    assert!(!out.status.success());
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("FAIL  api:") && l.contains("refuses checksums")),
        "{}",
        stdout(&out)
    );

    // Redis unreachable.
    redis.stop();
    let out = admin(&env, &["check"]);
    assert!(!out.status.success());
    let text = stdout(&out);
    assert!(
        text.lines().any(|l| l
            .starts_with(&format!("FAIL  redis: {} does not answer", redis.url()))
            && l.contains("BBB_WEBHOOKS_REDIS_URL")),
        "{text}"
    );

    // A bad setting.
    let mut bad = env.clone();
    bad.push(("BBB_WEBHOOKS_MAX_QUEUE".into(), "none".into()));
    let out = admin(&bad, &["check"]);
    assert!(!out.status.success());
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("FAIL  config:") && l.contains("BBB_WEBHOOKS_MAX_QUEUE")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn metrics_endpoint_counts_deliveries() {
    let redis = Redis::start();
    let rx = HttpReceiver::start();
    let mut svc = Service::start(&redis, &[]);
    let url = svc.metrics_url();
    svc.create_hook(&format!("callbackURL={}", enc(&rx.url("/m"))));
    // The first attempt fails and is retried.
    rx.answer_next(vec![Answer::status(500)]);
    redis.publish(
        "from-akka-apps-redis-channel",
        &meeting_created("int-1", "ext-1"),
    );
    redis.publish("bigbluebutton:events", &test_event("int-1", "hola ola"));
    for _ in 0..3 {
        rx.next();
    }
    let expected = [
        "bbb_webhooks_messages_received_total 2",
        "bbb_webhooks_events_mapped_total 2",
        "bbb_webhooks_events_queued_total 2",
        "bbb_webhooks_deliveries_succeeded_total 2",
        "bbb_webhooks_deliveries_failed_total{reason=\"status_5xx\"} 1",
        "bbb_webhooks_deliveries_retried_total 1",
        "bbb_webhooks_events_delivered_total 2",
        "bbb_webhooks_events_dropped_total{reason=\"queue_full\"} 0",
        "bbb_webhooks_hooks 1",
        "bbb_webhooks_hooks_failing 0",
        "bbb_webhooks_meetings 1",
        "bbb_webhooks_redis_subscribed 1",
    ];
    let text = wait_for("the metrics to count the deliveries", || {
        let (status, body) = http_get(&url);
        assert_eq!(status, 200);
        expected
            .iter()
            .all(|e| body.lines().any(|l| l == *e))
            .then_some(body)
    });
    assert!(text.contains("# TYPE bbb_webhooks_deliveries_retried_total counter"));
    assert!(text.contains("# TYPE bbb_webhooks_hooks gauge"));
    let (status, _) = http_get(&url.replace("/metrics", "/other"));
    assert_eq!(status, 404);

    // SIGTERM stops the endpoint with the rest of the service.
    let exit = svc.terminate();
    assert!(exit.success(), "exit status {exit:?}");
    let addr = between(&url, "http://", "/metrics");
    assert!(TcpStream::connect(addr).is_err(), "the endpoint is closed");
}

/// With port 0 the system chooses the metrics port; the log line is the
/// only place that says which, so the address is read from there.
#[test]
fn a_metrics_endpoint_on_port_0_logs_the_address_it_got() {
    let redis = Redis::start();
    let svc = Service::launch(&redis)
        .env("BBB_WEBHOOKS_METRICS_BIND", "127.0.0.1:0")
        .ready(Ready::Api)
        .start();
    let url = wait_for("the metrics address in the log", || {
        svc.log
            .lock()
            .expect("log lock")
            .iter()
            .find_map(|l| l.split("metrics listening on ").nth(1).map(str::to_owned))
    });
    let url = url.trim();
    let port: u16 = between(url, "http://127.0.0.1:", "/metrics")
        .parse()
        .expect("a port");
    assert_ne!(port, 0);
    assert!(listens_on(svc.pid(), port), "{url} is the service's own");
    wait_for("the endpoint to show the subscription", || {
        let (status, body) = http_get(url);
        assert_eq!(status, 200);
        body.lines()
            .any(|l| l == "bbb_webhooks_redis_subscribed 1")
            .then_some(())
    });
}

#[test]
fn help_shows_every_command_and_bad_arguments_are_named() {
    let out = admin(&[], &["--help"]);
    assert!(out.status.success());
    for line in bbb_webhooks::admin::USAGE.lines() {
        assert!(stdout(&out).contains(line), "{line:?} in --help");
    }
    let out = admin(&[], &["catch", "--help"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("bbb-webhooks catch [--port N]"));
    let mut env = vec![
        ("BBB_WEBHOOKS_SHARED_SECRET".to_owned(), SECRET.to_owned()),
        ("BBB_WEBHOOKS_SERVER_DOMAIN".to_owned(), DOMAIN.to_owned()),
        ("BBB_WEBHOOKS_BBB_PROPERTIES".to_owned(), String::new()),
    ];
    for args in [
        &["catch", "--frob"][..],
        &["hooks", "rename"],
        &["test-event", "extra"],
        &["check", "extra"],
    ] {
        let out = admin(&env, args);
        assert!(!out.status.success(), "{args:?} fails");
        let bad = args[1];
        assert!(
            stderr(&out).contains(bad) || stderr(&out).contains("usage"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // A command whose configuration does not load says which key is wrong.
    env.push(("BBB_WEBHOOKS_API_BIND".to_owned(), "nowhere".to_owned()));
    let out = admin(&env, &["sign", "hooks/list"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("BBB_WEBHOOKS_API_BIND"));
}
