//! [`crate::cluster::scalelite`] against a private redis-server populated the
//! way Scalelite's models (`Server#save!`, `Tenant#save!`,
//! `Meeting.find_or_create_with_server`) write it.

use super::support::TestRedis;
use crate::cluster::scalelite::{Scalelite, SkipReason, Skipped};
use crate::cluster::tenancy::{self, Tenant};
use crate::cluster::State;

/// `Server#save!` for a server with a state: the hash, the set of servers,
/// and the state's sets.
fn add_server(r: &TestRedis, ns: &str, id: &str, fields: &[(&str, &str)], state: Option<&str>) {
    let mut c = r.conn();
    let key = format!("{ns}:server:{id}");
    for (k, v) in fields {
        r.cmd(&mut c, &["HSET", &key, k, v]);
    }
    if let Some(s) = state {
        r.cmd(&mut c, &["HSET", &key, "state", s]);
    }
    r.cmd(&mut c, &["SADD", &format!("{ns}:servers"), id]);
    match state {
        Some("enabled") => {
            r.cmd(&mut c, &["SADD", &format!("{ns}:server_enabled"), id]);
            r.cmd(&mut c, &["ZADD", &format!("{ns}:server_load"), "2", id]);
        }
        Some("cordoned") => r.cmd(
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
    let r = TestRedis::start();
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
    r.cmd(
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
    r.cmd(
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
    r.cmd(&mut c, &["SADD", "scalelite:meetings", "m1"]);

    let snap = Scalelite::new(&crate::config::RedisUrl::new(r.url.as_str()), ns)
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

    let other = Scalelite::new(&crate::config::RedisUrl::new(r.url.as_str()), "other")
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
    let r = TestRedis::start();
    let ns = "scalelite";
    let mut c = r.conn();
    add_server(
        &r,
        ns,
        "good",
        &fields(&base("good", "true")),
        Some("enabled"),
    );
    r.cmd(&mut c, &["SADD", "scalelite:servers", "ghost"]);
    r.cmd(&mut c, &["SET", "scalelite:server:string", "x"]);
    r.cmd(&mut c, &["SADD", "scalelite:servers", "string"]);
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
    r.cmd(&mut c, &["SADD", "scalelite:servers", "bin"]);

    let snap = Scalelite::new(&crate::config::RedisUrl::new(r.url.as_str()), ns)
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
    let r = TestRedis::start();
    let mut c = r.conn();
    add_server(
        &r,
        "scalelite",
        "bbb1",
        &fields(&base("bbb1", "true")),
        Some("enabled"),
    );
    for (id, name) in [("t-2", "globex"), ("t-1", "acme")] {
        r.cmd(
            &mut c,
            &["HSET", &format!("scalelite:tenant_name:{name}"), "id", id],
        );
        r.cmd(
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
        r.cmd(&mut c, &["SADD", "scalelite:tenants", id]);
    }
    r.cmd(&mut c, &["SADD", "scalelite:tenants", "t-3"]);
    r.cmd(
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

    let snap = Scalelite::new(&crate::config::RedisUrl::new(r.url.as_str()), "scalelite")
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
    let r = TestRedis::start();
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
    r.cmd(
        &mut c,
        &["HSET", "scalelite:tenant:t", "name", "n", "secrets", "x"],
    );
    r.cmd(&mut c, &["SADD", "scalelite:tenants", "t"]);
    let before: i64 = redis::cmd("DBSIZE").query(&mut c).expect("dbsize");
    r.cmd(&mut c, &["CONFIG", "RESETSTAT"]);

    let mut reader =
        Scalelite::new(&crate::config::RedisUrl::new(r.url.as_str()), "scalelite").expect("client");
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
    let r = TestRedis::start();
    let mut c = r.conn();
    r.cmd(&mut c, &["SET", "scalelite:servers", "not a set"]);
    let mut reader =
        Scalelite::new(&crate::config::RedisUrl::new(r.url.as_str()), "scalelite").expect("client");
    assert!(reader.read().is_err());
    r.cmd(&mut c, &["DEL", "scalelite:servers"]);
    assert!(reader.read().expect("reads again").pool.is_empty());
    let url = r.url.clone();
    drop(c);
    drop(r);
    let mut gone =
        Scalelite::new(&crate::config::RedisUrl::new(url.as_str()), "scalelite").expect("client");
    assert!(gone.read().is_err());
}
