//! [`crate::cluster::remote`] against real HTTP servers: a fake BBB hooks API
//! answering as the Node.js reference does, and this project's own service
//! started in-process with a private redis-server.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use super::support::{pool_server, start_service, FakeBbb, TestRedis};
use crate::checksum::Algorithm;
use crate::cluster::remote::{Created, Destroyed, HooksApi, Remote, RemoteError};

const SECRET: &str = "bbb1-secret";

fn remote() -> Remote {
    Remote::new(Duration::from_secs(5), 1024 * 1024)
}

/// Answers as the reference 3.x does, whitespace included.
fn reference(call: &str, params: &[(String, String)]) -> (u16, String) {
    let p = |name: &str| crate::query::get(params, name).unwrap_or("").to_owned();
    let body = match call {
        "hooks/list" => "<response><returncode>SUCCESS</returncode><hooks><hook><hookID>7</hookID><callbackURL><![CDATA[https://lb/relay/bbb1]]></callbackURL><permanentHook>false</permanentHook><rawData>false</rawData></hook></hooks></response>".to_owned(),
        "hooks/create" if p("callbackURL") == "https://lb/relay/dup" => "<response>       <returncode>SUCCESS</returncode>       <hookID>7</hookID>       <messageKey>duplicateWarning</messageKey>       <message>There is already a hook for this callback URL.</message>     </response>".to_owned(),
        "hooks/create" => format!("<response>       <returncode>SUCCESS</returncode>       <hookID>new-for-{}</hookID>       <permanentHook>false</permanentHook>       <rawData>false</rawData>     </response>", p("callbackURL")),
        "hooks/destroy" if p("hookID") == "gone" => "<response> <returncode>FAILED</returncode> <messageKey>destroyMissingHook</messageKey> <message>The hook informed was not found.</message> </response>".to_owned(),
        "hooks/destroy" => "<response> <returncode>SUCCESS</returncode> <removed>true</removed> </response>".to_owned(),
        _ => return (404, "<html>no</html>".to_owned()),
    };
    (200, body)
}

#[test]
fn calls_a_reference_server() {
    let bbb = FakeBbb::start(SECRET, &Algorithm::ALL, Box::new(reference));
    let server = pool_server("bbb1", &bbb.url(), SECRET);
    let mut r = remote();
    let hooks = r.list(&server).expect("lists");
    assert_eq!(hooks.len(), 1);
    assert_eq!(
        (hooks[0].id.as_str(), hooks[0].callback_url.as_str()),
        ("7", "https://lb/relay/bbb1")
    );
    assert!(!hooks[0].raw);
    assert_eq!(
        r.create(&server, "https://lb/relay/bbb1"),
        Ok(Created {
            hook_id: "new-for-https://lb/relay/bbb1".into(),
            duplicate: false
        })
    );
    assert_eq!(
        r.create(&server, "https://lb/relay/dup"),
        Ok(Created {
            hook_id: "7".into(),
            duplicate: true
        })
    );
    assert_eq!(r.destroy(&server, "7"), Ok(Destroyed::Removed));
    assert_eq!(r.destroy(&server, "gone"), Ok(Destroyed::Missing));
    drop(r);
    let seen = bbb.seen();
    assert_eq!(seen.len(), 5);
    assert!(
        seen.iter().all(|(_, alg)| *alg == Some(Algorithm::Sha256)),
        "{seen:?}"
    );
}

/// Webhooks 2.x take only SHA-1: one refused call, then SHA-1 for good.
#[test]
fn falls_back_to_sha1_for_a_server_that_takes_only_sha1() {
    let bbb = FakeBbb::start(SECRET, &[Algorithm::Sha1], Box::new(reference));
    let server = pool_server("old", &bbb.url(), SECRET);
    let mut r = remote();
    r.list(&server).expect("lists with sha1");
    r.list(&server).expect("lists again");
    assert_eq!(r.algorithm("old"), Algorithm::Sha1);
    assert_eq!(r.algorithm("other"), Algorithm::Sha256);
    drop(r);
    let algs: Vec<Option<Algorithm>> = bbb.seen().into_iter().map(|(_, a)| a).collect();
    assert_eq!(
        algs,
        vec![
            Some(Algorithm::Sha256),
            Some(Algorithm::Sha1),
            Some(Algorithm::Sha1)
        ]
    );
}

#[test]
fn a_wrong_secret_is_a_checksum_error_after_both_algorithms() {
    let bbb = FakeBbb::start(SECRET, &Algorithm::ALL, Box::new(reference));
    let server = pool_server("bbb1", &bbb.url(), "not-the-secret");
    let mut r = remote();
    let e = r.list(&server).expect_err("refused");
    assert!(e.is_checksum(), "{e:?}");
    assert!(!e.to_string().contains("not-the-secret"));
    assert_eq!(r.algorithm("bbb1"), Algorithm::Sha256);
    drop(r);
    assert_eq!(bbb.seen().len(), 2);
}

#[test]
fn other_answers_are_typed_errors() {
    let bbb = FakeBbb::start(
        SECRET,
        &Algorithm::ALL,
        Box::new(|call, _| match call {
            "hooks/list" => (200, "x".repeat(5000)),
            "hooks/create" => (200, "<html>bbb-web</html>".to_owned()),
            _ => (404, "Not Found".to_owned()),
        }),
    );
    let server = pool_server("bbb1", &bbb.url(), SECRET);
    let mut r = Remote::new(Duration::from_secs(5), 1000);
    assert!(matches!(r.list(&server), Err(RemoteError::BadAnswer(e)) if e.contains("larger than")));
    assert!(matches!(
        r.create(&server, "https://lb/x"),
        Err(RemoteError::BadAnswer(_))
    ));
    assert_eq!(r.destroy(&server, "1"), Err(RemoteError::Status(404)));
}

#[test]
fn unreachable_servers_are_transport_errors_within_the_time_limit() {
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = closed.local_addr().expect("addr");
    drop(closed);
    let mut r = Remote::new(Duration::from_millis(500), 1000);
    let refused = pool_server("gone", &format!("http://{addr}/bigbluebutton/api"), SECRET);
    assert!(matches!(r.list(&refused), Err(RemoteError::Transport(_))));

    // Accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/bigbluebutton/api",
        silent.local_addr().expect("addr")
    );
    let hold = std::thread::spawn(move || silent.accept().map(|(s, _)| s));
    let started = Instant::now();
    let e = r
        .list(&pool_server("mute", &url, SECRET))
        .expect_err("times out");
    assert_eq!(e, RemoteError::Transport("timed out".into()));
    assert!(started.elapsed() < Duration::from_secs(3));
    let _ = hold.join();
}

/// This service, in normal mode, answers the client as a pool server would.
#[test]
fn calls_this_service() {
    let redis = TestRedis::start();
    let service = start_service(&redis, SECRET, "bbb1.example.com", &[]);
    let url = format!("http://{}/bigbluebutton/api", service.api_addr());
    let server = pool_server("bbb1", &url, SECRET);
    let relay = "https://lb.example.com/bigbluebutton/api/hooks/relay/bbb1";

    let mut r = remote();
    assert_eq!(r.list(&server), Ok(vec![]));
    let created = r.create(&server, relay).expect("creates");
    assert!(!created.duplicate);
    let again = r.create(&server, relay).expect("creates again");
    assert_eq!(
        again,
        Created {
            hook_id: created.hook_id.clone(),
            duplicate: true
        }
    );
    let hooks = r.list(&server).expect("lists");
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].id, created.hook_id);
    assert_eq!(hooks[0].callback_url, relay);
    assert!(hooks[0].meeting_id.is_none() && hooks[0].event_ids.is_none());
    assert!(!hooks[0].raw && !hooks[0].permanent);
    assert_eq!(r.destroy(&server, &created.hook_id), Ok(Destroyed::Removed));
    assert_eq!(r.destroy(&server, &created.hook_id), Ok(Destroyed::Missing));
    assert_eq!(r.list(&server), Ok(vec![]));
    let wrong = pool_server("bbb1", &url, "wrong");
    assert!(r.list(&wrong).expect_err("refused").is_checksum());
    drop(r);
    service.shutdown();
}
