//! The cluster core (phase 1's parts) against real services, with the one
//! harness of `tests/support`: reading Scalelite's Redis as Scalelite's
//! models write it ([`Scalelite`]), the client of the pool servers' hooks
//! API against a fake server answering as the Node.js reference does and
//! against this service ([`Remote`]), and the relay URLs remembered in this
//! service's Redis ([`memory`]).

mod support;
use support::*;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use bbb_webhooks::checksum::Algorithm;
use bbb_webhooks::cluster::memory;
use bbb_webhooks::cluster::relay::RelayUrl;
use bbb_webhooks::cluster::remote::{Created, Destroyed, HooksApi, Remote, RemoteError};
use bbb_webhooks::cluster::scalelite::{Scalelite, SkipReason, Skipped};
use bbb_webhooks::cluster::tenancy::{self, Tenant};
use bbb_webhooks::cluster::State;
use bbb_webhooks::config::RedisUrl;
use bbb_webhooks::store::keys;
use redis::Commands;

/// Runs `args` as one command, panicking on error.
fn cmd(c: &mut redis::Connection, args: &[&str]) {
    let (name, rest) = args.split_first().expect("a command");
    let mut cmd = redis::cmd(name);
    for a in rest {
        cmd.arg(*a);
    }
    cmd.query::<redis::Value>(c)
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
}

// --- Scalelite's Redis -------------------------------------------------------

/// `Server#save!` for a server with a state: the hash, the set of servers,
/// and the state's sets.
fn add_server(r: &Redis, ns: &str, id: &str, fields: &[(&str, &str)], state: Option<&str>) {
    let mut c = r.conn();
    let key = format!("{ns}:server:{id}");
    for (k, v) in fields {
        cmd(&mut c, &["HSET", &key, k, v]);
    }
    if let Some(s) = state {
        cmd(&mut c, &["HSET", &key, "state", s]);
    }
    cmd(&mut c, &["SADD", &format!("{ns}:servers"), id]);
    match state {
        Some("enabled") => {
            cmd(&mut c, &["SADD", &format!("{ns}:server_enabled"), id]);
            cmd(&mut c, &["ZADD", &format!("{ns}:server_load"), "2", id]);
        }
        Some("cordoned") => cmd(
            &mut c,
            &["ZADD", &format!("{ns}:cordoned_server_load"), "1", id],
        ),
        _ => {}
    }
}

fn base(id: &str, online: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "url",
            format!("https://{id}.example.com/bigbluebutton/api/"),
        ),
        ("secret", format!("secret-of-{id}")),
        ("online", online.to_owned()),
        ("load_multiplier", "1.0".to_owned()),
        ("tag", "".to_owned()),
        ("meetings", "3".to_owned()),
        ("users", "12".to_owned()),
    ]
}

fn fields<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn reads_servers_as_scalelite_writes_them() {
    let r = Redis::start();
    let ns = "scalelite";
    add_server(
        &r,
        ns,
        "bbb1",
        &fields(&base("bbb1", "true")),
        Some("enabled"),
    );
    add_server(
        &r,
        ns,
        "bbb2",
        &fields(&base("bbb2", "false")),
        Some("cordoned"),
    );
    add_server(
        &r,
        ns,
        "bbb3",
        &fields(&base("bbb3", "true")),
        Some("disabled"),
    );
    // From before servers had a state: `server_enabled` says enabled.
    add_server(&r, ns, "old-on", &fields(&base("old-on", "true")), None);
    cmd(
        &mut r.conn(),
        &["SADD", "scalelite:server_enabled", "old-on"],
    );
    add_server(&r, ns, "old-off", &fields(&base("old-off", "true")), None);
    // Another namespace's servers are not this pool's.
    add_server(
        &r,
        "other",
        "bbb9",
        &fields(&base("bbb9", "true")),
        Some("enabled"),
    );
    // Meetings and their index are next to the servers and never read.
    let mut c = r.conn();
    cmd(
        &mut c,
        &[
            "HSET",
            "scalelite:meeting:m1",
            "server_id",
            "bbb1",
            "moderator_pw",
            "mp",
            "voice_bridge",
            "12345",
        ],
    );
    cmd(&mut c, &["SADD", "scalelite:meetings", "m1"]);

    let snap = Scalelite::new(&RedisUrl::new(r.url()), ns)
        .expect("client")
        .read()
        .expect("reads");
    assert_eq!(snap.skipped, Vec::<Skipped>::new());
    assert!(snap.tenants.is_empty());
    let got: Vec<(&str, State, bool)> = snap
        .pool
        .iter()
        .map(|s| (s.id.as_str(), s.state, s.online))
        .collect();
    assert_eq!(
        got,
        vec![
            ("bbb1", State::Enabled, true),
            ("bbb2", State::Cordoned, false),
            ("bbb3", State::Disabled, true),
            ("old-off", State::Disabled, true),
            ("old-on", State::Enabled, true),
        ]
    );
    let b1 = snap.pool.get("bbb1").expect("bbb1");
    assert_eq!(b1.url, "https://bbb1.example.com/bigbluebutton/api");
    assert_eq!(b1.secret.expose(), "secret-of-bbb1");
    let wanted: Vec<&str> = snap
        .pool
        .iter()
        .filter(|s| s.wants_relay())
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(wanted, vec!["bbb1", "bbb2", "old-on"]);

    let other = Scalelite::new(&RedisUrl::new(r.url()), "other")
        .expect("client")
        .read()
        .expect("reads");
    assert_eq!(
        other.pool.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        vec!["bbb9"]
    );
}

#[test]
fn malformed_records_are_skipped_with_reasons() {
    let r = Redis::start();
    let ns = "scalelite";
    let mut c = r.conn();
    add_server(
        &r,
        ns,
        "good",
        &fields(&base("good", "true")),
        Some("enabled"),
    );
    cmd(&mut c, &["SADD", "scalelite:servers", "ghost"]);
    cmd(&mut c, &["SET", "scalelite:server:string", "x"]);
    cmd(&mut c, &["SADD", "scalelite:servers", "string"]);
    add_server(
        &r,
        ns,
        "nourl",
        &[("secret", "s"), ("online", "true")],
        Some("enabled"),
    );
    add_server(
        &r,
        ns,
        "badurl",
        &[("url", "bbb.example.com"), ("secret", "s")],
        Some("enabled"),
    );
    add_server(
        &r,
        ns,
        "nosecret",
        &[("url", "https://a/bigbluebutton/api")],
        Some("enabled"),
    );
    add_server(
        &r,
        ns,
        "odd",
        &fields(&base("odd", "true")),
        Some("maintenance"),
    );
    add_server(&r, ns, "a b", &fields(&base("ab", "true")), Some("enabled"));
    let mut bad_secret = redis::cmd("HSET");
    bad_secret
        .arg("scalelite:server:bin")
        .arg("url")
        .arg("https://bin/bigbluebutton/api")
        .arg("secret")
        .arg(&b"\xff\xfe"[..]);
    bad_secret.query::<i64>(&mut c).expect("hset");
    cmd(&mut c, &["SADD", "scalelite:servers", "bin"]);

    let snap = Scalelite::new(&RedisUrl::new(r.url()), ns)
        .expect("client")
        .read()
        .expect("reads");
    assert_eq!(snap.pool.len(), 1);
    assert!(snap.pool.contains("good"));
    let mut reasons: Vec<(String, SkipReason)> = snap
        .skipped
        .iter()
        .map(|s| (s.id.clone(), s.reason.clone()))
        .collect();
    reasons.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        reasons,
        vec![
            ("a b".into(), SkipReason::BadId),
            ("badurl".into(), SkipReason::BadUrl),
            ("bin".into(), SkipReason::NotUtf8("secret")),
            ("ghost".into(), SkipReason::NoRecord),
            ("nosecret".into(), SkipReason::NoSecret),
            ("nourl".into(), SkipReason::BadUrl),
            ("odd".into(), SkipReason::BadState("maintenance".into())),
            ("string".into(), SkipReason::NotAHash),
        ]
    );
    // A server whose record is broken is held (its relay hook is left as it
    // was); one without a record, or with an unusable id, is not.
    let mut held = snap.held();
    held.sort();
    assert_eq!(
        held,
        vec!["badurl", "bin", "nosecret", "nourl", "odd", "string"]
    );
    let lines: Vec<String> = snap.skipped.iter().map(ToString::to_string).collect();
    assert!(lines
        .iter()
        .any(|l| l == "server odd: state \"maintenance\" is not enabled, cordoned or disabled"));
    assert!(lines.iter().all(|l| !l.contains("secret-of")), "{lines:?}");
}

#[test]
fn tenants_are_found_without_their_secrets() {
    let r = Redis::start();
    let mut c = r.conn();
    add_server(
        &r,
        "scalelite",
        "bbb1",
        &fields(&base("bbb1", "true")),
        Some("enabled"),
    );
    for (id, name) in [("t-2", "globex"), ("t-1", "acme")] {
        cmd(
            &mut c,
            &["HSET", &format!("scalelite:tenant_name:{name}"), "id", id],
        );
        cmd(
            &mut c,
            &[
                "HSET",
                &format!("scalelite:tenant:{id}"),
                "name",
                name,
                "secrets",
                "ts1:ts2",
            ],
        );
        cmd(&mut c, &["SADD", "scalelite:tenants", id]);
    }
    cmd(&mut c, &["SADD", "scalelite:tenants", "t-3"]);
    cmd(
        &mut c,
        &[
            "HSET",
            "scalelite:meeting:m1",
            "server_id",
            "bbb1",
            "tenant_id",
            "t-1",
        ],
    );

    let snap = Scalelite::new(&RedisUrl::new(r.url()), "scalelite")
        .expect("client")
        .read()
        .expect("reads");
    assert_eq!(
        snap.tenants,
        vec![
            Tenant {
                id: "t-1".into(),
                name: Some("acme".into())
            },
            Tenant {
                id: "t-2".into(),
                name: Some("globex".into())
            },
            Tenant {
                id: "t-3".into(),
                name: None
            },
        ]
    );
    let refusal = tenancy::check("scalelite:tenants", &snap.tenants).expect_err("refuses");
    let msg = refusal.to_string();
    assert!(
        msg.contains("3 tenants (scalelite:tenants: acme, globex, t-3)"),
        "{msg}"
    );
    assert!(!msg.contains("ts1"), "{msg}");
}

/// Only reading commands reach Scalelite's Redis.
#[test]
fn reading_never_writes() {
    let r = Redis::start();
    let mut c = r.conn();
    add_server(
        &r,
        "scalelite",
        "bbb1",
        &fields(&base("bbb1", "true")),
        Some("enabled"),
    );
    add_server(
        &r,
        "scalelite",
        "bbb2",
        &fields(&base("bbb2", "true")),
        None,
    );
    cmd(
        &mut c,
        &["HSET", "scalelite:tenant:t", "name", "n", "secrets", "x"],
    );
    cmd(&mut c, &["SADD", "scalelite:tenants", "t"]);
    let before: i64 = redis::cmd("DBSIZE").query(&mut c).expect("dbsize");
    cmd(&mut c, &["CONFIG", "RESETSTAT"]);

    let mut reader = Scalelite::new(&RedisUrl::new(r.url()), "scalelite").expect("client");
    for _ in 0..3 {
        reader.read().expect("reads");
    }

    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut c)
        .expect("info");
    let allowed = [
        "smembers",
        "hgetall",
        "hget",
        "client|setinfo",
        "hello",
        "select",
        "config|resetstat",
    ];
    for line in stats.lines().filter_map(|l| l.strip_prefix("cmdstat_")) {
        let name = line.split(':').next().unwrap_or("");
        assert!(allowed.contains(&name), "the reader sent {name}: {stats}");
    }
    assert!(stats.contains("cmdstat_hgetall:calls=6"), "{stats}");
    let after: i64 = redis::cmd("DBSIZE").query(&mut c).expect("dbsize");
    assert_eq!(before, after);
}

#[test]
fn redis_down_or_a_wrong_type_fails_the_read() {
    let r = Redis::start();
    let mut c = r.conn();
    cmd(&mut c, &["SET", "scalelite:servers", "not a set"]);
    let mut reader = Scalelite::new(&RedisUrl::new(r.url()), "scalelite").expect("client");
    assert!(reader.read().is_err());
    cmd(&mut c, &["DEL", "scalelite:servers"]);
    assert!(reader.read().expect("reads again").pool.is_empty());
    let url = r.url();
    drop(c);
    drop(r);
    let mut gone = Scalelite::new(&RedisUrl::new(url.as_str()), "scalelite").expect("client");
    assert!(gone.read().is_err());
}

// --- The hooks API client ---------------------------------------------------------

const BBB1_SECRET: &str = "bbb1-secret";

fn remote() -> Remote {
    Remote::new(Duration::from_secs(5), 1024 * 1024)
}

/// Answers as the reference 3.x does, whitespace included.
fn reference(call: &str, params: &[(String, String)]) -> (u16, String) {
    let p = |name: &str| {
        bbb_webhooks::query::get(params, name)
            .unwrap_or("")
            .to_owned()
    };
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
    let bbb = FakeBbb::start(BBB1_SECRET, &Algorithm::ALL, Box::new(reference));
    let server = pool_server("bbb1", &bbb.url(), BBB1_SECRET);
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
    let bbb = FakeBbb::start(BBB1_SECRET, &[Algorithm::Sha1], Box::new(reference));
    let server = pool_server("old", &bbb.url(), BBB1_SECRET);
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
    let bbb = FakeBbb::start(BBB1_SECRET, &Algorithm::ALL, Box::new(reference));
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
        BBB1_SECRET,
        &Algorithm::ALL,
        Box::new(|call, _| match call {
            "hooks/list" => (200, "x".repeat(5000)),
            "hooks/create" => (200, "<html>bbb-web</html>".to_owned()),
            _ => (404, "Not Found".to_owned()),
        }),
    );
    let server = pool_server("bbb1", &bbb.url(), BBB1_SECRET);
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
    let refused = pool_server(
        "gone",
        &format!("http://{addr}/bigbluebutton/api"),
        BBB1_SECRET,
    );
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
        .list(&pool_server("mute", &url, BBB1_SECRET))
        .expect_err("times out");
    assert_eq!(e, RemoteError::Transport("timed out".into()));
    assert!(started.elapsed() < Duration::from_secs(3));
    let _ = hold.join();
}

/// This service, in normal mode, answers the client as a pool server would.
#[test]
fn calls_this_service() {
    let redis = Redis::start();
    let service = Service::launch(&redis)
        .env("BBB_WEBHOOKS_SHARED_SECRET", BBB1_SECRET)
        .env("BBB_WEBHOOKS_SERVER_DOMAIN", "bbb1.example.com")
        .ready(Ready::Api)
        .start();
    let url = service.api.clone();
    let server = pool_server("bbb1", &url, BBB1_SECRET);
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
    drop(service);
}

// --- The relay URLs remembered -------------------------------------------------

#[test]
fn a_changed_relay_url_leaves_the_old_one_to_clean_up() {
    let r = Redis::start();
    let mut c = r.conn();
    let first = RelayUrl::parse("https://lb/bigbluebutton/api/hooks/relay").expect("url");
    let second = RelayUrl::parse("https://lb2/bigbluebutton/api/hooks/relay").expect("url");
    assert_eq!(memory::remember(&mut c, &first).expect("redis"), vec![]);
    assert_eq!(memory::remember(&mut c, &first).expect("redis"), vec![]);
    assert_eq!(
        memory::remember(&mut c, &second).expect("redis"),
        vec![first.clone()]
    );
    let _: () = c
        .sadd(keys::CLUSTER_RELAY_URLS, "not a url")
        .expect("redis");
    assert_eq!(
        memory::remember(&mut c, &first).expect("redis"),
        vec![second]
    );
}
