//! Cluster mode (issue 15) end to end, all on loopback: BBB servers played
//! by this service in normal mode, each with its own Redis, secret and
//! domain (one signing its callbacks with a bearer token, as BBB's package
//! ships it); a fake Scalelite Redis listing them as Scalelite writes its
//! records; the cluster instance with its own Redis, syncing every second;
//! an app's receiver. Events are published on the servers' Redis and come
//! out at the app, or do not.

mod support;
use support::*;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bbb_webhooks::callback;
use bbb_webhooks::checksum::Algorithm;
use bbb_webhooks::config::{CallbackAuth, Secret};

const SYNC_SECS: u64 = 1;
/// A simulated BBB server: this service in normal mode on its own Redis.
struct Bbb {
    id: String,
    redis: Redis,
    svc: Service,
    secret: String,
    domain: String,
}

impl Bbb {
    fn start(id: &str, bearer: bool) -> Bbb {
        let redis = Redis::start();
        let secret = format!("{id}-secret-4711");
        let domain = format!("{id}.example.com");
        let mut launch = Service::launch(&redis)
            .env("BBB_WEBHOOKS_SHARED_SECRET", &secret)
            .env("BBB_WEBHOOKS_SERVER_DOMAIN", &domain);
        if bearer {
            launch = launch.env("BBB_WEBHOOKS_CALLBACK_AUTH", "bearer");
        }
        let svc = launch.start();
        Bbb {
            id: id.to_owned(),
            redis,
            svc,
            secret,
            domain,
        }
    }

    /// Publishes mapped event `n` of meeting `internal`/`external`; returns
    /// its JSON text.
    fn publish(&self, internal: &str, external: &str, n: u64) -> String {
        let text = mapped_event("user-joined", internal, external, n);
        self.redis.publish(AKKA_CHANNEL, &text);
        text
    }

    /// The callback URLs of the hooks registered on it.
    fn hook_urls(&self) -> Vec<String> {
        let mut c = self.redis.conn();
        let ids: Vec<String> = redis::cmd("SMEMBERS")
            .arg(HOOKS)
            .query(&mut c)
            .expect("hooks");
        ids.iter()
            .filter_map(|id| {
                redis::cmd("HGET")
                    .arg(hook_key(id))
                    .arg("callbackURL")
                    .query::<Option<String>>(&mut c)
                    .expect("hook")
            })
            .collect()
    }
}

/// The cluster's parts around the BBB servers.
struct Lab {
    scalelite: Redis,
    own: Redis,
    port: u16,
    extra: Vec<(String, String)>,
    cluster: Option<Service>,
    app: HttpReceiver,
}

impl Lab {
    fn new(scalelite: Redis) -> Lab {
        Lab {
            scalelite,
            own: Redis::start(),
            port: free_port(),
            extra: Vec::new(),
            cluster: None,
            app: HttpReceiver::start(),
        }
    }

    fn relay(&self) -> String {
        format!(
            "http://127.0.0.1:{}/bigbluebutton/api/hooks/relay",
            self.port
        )
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = [
            ("BBB_WEBHOOKS_CLUSTER", "scalelite".to_owned()),
            ("BBB_WEBHOOKS_SCALELITE_REDIS_URL", self.scalelite.url()),
            ("BBB_WEBHOOKS_API_BIND", format!("127.0.0.1:{}", self.port)),
            ("BBB_WEBHOOKS_CLUSTER_RELAY_URL", self.relay()),
            ("BBB_WEBHOOKS_CLUSTER_SYNC_SECS", SYNC_SECS.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        env.extend(self.extra.iter().cloned());
        env
    }

    /// Starts (or starts again) the cluster instance; returns once its API
    /// answers.
    fn start_cluster(&mut self) {
        let env = self.env();
        let mut launch = Service::launch(&self.own).ready(Ready::Api);
        for (k, v) in &env {
            launch = launch.env(k, v);
        }
        self.cluster = Some(launch.start());
    }

    fn cluster(&self) -> &Service {
        self.cluster.as_ref().expect("the cluster runs")
    }

    /// Lists `b` in Scalelite's Redis, enabled and online, as
    /// `Server#save!` writes it.
    fn add(&self, b: &Bbb) {
        let mut c = self.scalelite.conn();
        let key = format!("scalelite:server:{}", b.id);
        let _: () = redis::cmd("HSET")
            .arg(&key)
            .arg("url")
            .arg(format!("{}/", b.svc.api))
            .arg("secret")
            .arg(&b.secret)
            .arg("state")
            .arg("enabled")
            .arg("online")
            .arg("true")
            .arg("load")
            .arg("0")
            .query(&mut c)
            .expect("HSET");
        for set in ["scalelite:servers", "scalelite:server_enabled"] {
            let _: () = redis::cmd("SADD")
                .arg(set)
                .arg(&b.id)
                .query(&mut c)
                .expect("SADD");
        }
    }

    /// Takes server `id` out of Scalelite's Redis, as `Server#destroy` does.
    fn remove(&self, id: &str) {
        let mut c = self.scalelite.conn();
        for set in ["scalelite:servers", "scalelite:server_enabled"] {
            let _: () = redis::cmd("SREM")
                .arg(set)
                .arg(id)
                .query(&mut c)
                .expect("SREM");
        }
        let _: () = redis::cmd("DEL")
            .arg(format!("scalelite:server:{id}"))
            .query(&mut c)
            .expect("DEL");
    }

    /// Whether `b` carries this cluster's relay hook.
    fn has_relay(&self, b: &Bbb) -> bool {
        let want = format!("{}/{}", self.relay(), b.id);
        b.hook_urls().contains(&want)
    }

    fn wait_relay(&self, b: &Bbb) {
        wait_for(&format!("the relay hook on {}", b.id), || {
            self.has_relay(b).then_some(())
        });
    }

    /// Registers a hook on the cluster for the app's `path`; returns its id.
    fn hook(&self, path: &str, more: &str) -> String {
        let url = self.app.url(path);
        self.cluster()
            .create_hook(&format!("callbackURL={}{more}", enc(&url)))
    }

    /// The value of metrics sample `sample` of the cluster, if it is shown.
    fn sample(&self, sample: &str) -> Option<u64> {
        let url = self.cluster().metrics_url();
        let (status, body) = try_request("GET", &url, Duration::from_secs(2)).ok()?;
        (status == 200).then_some(())?;
        body.lines()
            .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
    }

    /// When the cluster's last sync was, from its status record.
    fn last_sync(&self) -> Option<u64> {
        let text: Option<String> = redis::cmd("GET")
            .arg("bigbluebutton:webhooks:cluster:status")
            .query(&mut self.own.conn())
            .expect("GET");
        let v: serde_json::Value = serde_json::from_str(&text?).ok()?;
        v["at_ms"].as_u64()
    }

    /// Waits until the cluster has synced `n` more times.
    fn wait_syncs(&self, n: usize) {
        let mut last = self.last_sync();
        for i in 0..n {
            last = Some(wait_for(&format!("sync {} of {n}", i + 1), || {
                self.last_sync().filter(|t| Some(*t) != last)
            }));
        }
    }

    fn wait_sample(&self, sample: &str, value: u64) {
        wait_for(&format!("{sample} to be {value}"), || {
            (self.sample(sample) == Some(value)).then_some(())
        });
    }
}

/// One event as the app got it.
#[derive(Clone, Debug)]
struct Got {
    path: String,
    domain: String,
    /// The event's JSON text, as the callback carried it.
    text: String,
    n: u64,
    external: String,
    /// The callback's checksum verifies with the cluster's secret.
    signed: bool,
}

/// The events of the callbacks the app gets until `count` events came.
fn events(app: &HttpReceiver, count: usize) -> Vec<Got> {
    let mut out = Vec::new();
    while out.len() < count {
        let r = app.next();
        let path = r.target.split('?').next().unwrap_or("").to_owned();
        let registered = app.url(&path);
        let field = r.field("event");
        let values = r.events();
        for v in &values {
            let text = if values.len() == 1 {
                field[1..field.len() - 1].to_owned()
            } else {
                v.to_string()
            };
            out.push(Got {
                path: path.clone(),
                domain: r.field("domain"),
                text,
                n: v["data"]["attributes"]["n"].as_u64().expect("n"),
                external: v["data"]["attributes"]["meeting"]["external-meeting-id"]
                    .as_str()
                    .expect("external id")
                    .to_owned(),
                signed: checksum_verifies(&r, &registered),
            });
        }
    }
    out
}

/// The numbers of `got` by domain, in the order they came.
fn by_domain(got: &[Got]) -> BTreeMap<String, Vec<u64>> {
    let mut m: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for g in got {
        m.entry(g.domain.clone()).or_default().push(g.n);
    }
    m
}

fn two_servers() -> (Lab, Bbb, Bbb) {
    let bbb1 = Bbb::start("bbb1", false);
    let bbb2 = Bbb::start("bbb2", true);
    let mut lab = Lab::new(Redis::start());
    lab.add(&bbb1);
    lab.add(&bbb2);
    lab.start_cluster();
    lab.wait_relay(&bbb1);
    lab.wait_relay(&bbb2);
    (lab, bbb1, bbb2)
}

#[test]
fn a_cluster_hook_gets_both_servers_events_signed_by_the_cluster_in_order_per_server() {
    let (lab, bbb1, bbb2) = two_servers();
    assert_eq!(
        lab.own.subscribers(AKKA_CHANNEL),
        0,
        "cluster mode reads no BBB channel"
    );
    lab.hook("/cb", "");
    let mut sent = BTreeMap::new();
    for n in 0..20 {
        sent.insert(("bbb1.example.com", n), bbb1.publish("i-1", "ext-1", n));
        sent.insert(("bbb2.example.com", n), bbb2.publish("i-2", "ext-2", n));
    }
    let got = events(&lab.app, 40);
    for g in &got {
        assert!(g.signed, "signed with the cluster's secret: {g:?}");
        let published = &sent[&(g.domain.as_str(), g.n)];
        assert_eq!(&g.text, published, "the event's JSON as published");
    }
    let want: Vec<u64> = (0..20).collect();
    let m = by_domain(&got);
    assert_eq!(m.len(), 2, "{m:?}");
    assert_eq!(m[&bbb1.domain], want, "bbb1's events in order");
    assert_eq!(m[&bbb2.domain], want, "bbb2's events in order");
    for id in ["bbb1", "bbb2"] {
        let sample = format!("bbb_webhooks_cluster_relay_events_total{{server=\"{id}\"}}");
        lab.wait_sample(&sample, 20);
        let created = format!("bbb_webhooks_cluster_relay_hooks_created_total{{server=\"{id}\"}}");
        assert_eq!(lab.sample(&created), Some(1));
    }
    lab.app.assert_quiet(Duration::from_millis(300));
}

#[test]
fn a_server_added_to_the_pool_gets_its_relay_hook_within_a_sync_and_its_events_arrive() {
    let (lab, _bbb1, _bbb2) = two_servers();
    lab.hook("/cb", "");
    let bbb3 = Bbb::start("bbb3", false);
    let added = Instant::now();
    lab.add(&bbb3);
    lab.wait_relay(&bbb3);
    let took = added.elapsed();
    // One interval, plus the sync itself, with room for a loaded machine.
    assert!(
        took < Duration::from_secs(SYNC_SECS + 3),
        "the relay hook took {took:?}"
    );
    bbb3.publish("i-3", "ext-3", 7);
    let got = events(&lab.app, 1);
    assert_eq!((got[0].domain.as_str(), got[0].n), ("bbb3.example.com", 7));
    assert!(got[0].signed);

    // `check` shows each pool server with its relay hook in place.
    let out = run_within(&lab.cluster().env(), &["check"], WAIT);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(
        text.lines()
            .any(|l| l.starts_with("ok    pool: 3 servers (3 enabled")),
        "{text}"
    );
    for id in ["bbb1", "bbb2", "bbb3"] {
        let line = format!("ok    pool server {id}: http://127.0.0.1:");
        assert!(
            text.lines()
                .any(|l| l.starts_with(&line) && l.contains("in place")),
            "{line} in {text}"
        );
    }
    for secret in [SECRET, bbb3.secret.as_str()] {
        assert!(!text.contains(secret), "check printed a secret");
    }
}

#[test]
fn a_meeting_hook_gets_only_its_meeting_from_whichever_server_hosts_it() {
    let (lab, bbb1, bbb2) = two_servers();
    lab.hook("/meeting", "&meetingID=ext-A");
    lab.hook("/all", "");
    for n in 0..4 {
        bbb1.publish("i-B", "ext-B", n);
        bbb2.publish("i-A", "ext-A", n);
    }
    // The same meeting later on the other server.
    for n in 10..14 {
        bbb1.publish("i-A2", "ext-A", n);
    }
    let got = events(&lab.app, 8 + 12);
    let (meeting, all): (Vec<Got>, Vec<Got>) = got.into_iter().partition(|g| g.path == "/meeting");
    assert_eq!(all.len(), 12);
    assert!(meeting.iter().all(|g| g.external == "ext-A"), "{meeting:?}");
    let m = by_domain(&meeting);
    assert_eq!(m[&bbb2.domain], vec![0, 1, 2, 3]);
    assert_eq!(m[&bbb1.domain], vec![10, 11, 12, 13]);
    lab.app.assert_quiet(Duration::from_millis(300));
}

#[test]
fn destroying_a_cluster_hook_stops_its_deliveries() {
    let bbb1 = Bbb::start("bbb1", false);
    let mut lab = Lab::new(Redis::start());
    lab.add(&bbb1);
    lab.start_cluster();
    lab.wait_relay(&bbb1);
    let gone = lab.hook("/gone", "");
    lab.hook("/stays", "");
    bbb1.publish("i", "e", 0);
    assert_eq!(events(&lab.app, 2).len(), 2);
    let body = lab
        .cluster()
        .call("hooks/destroy", &format!("hookID={gone}"));
    assert!(body.contains("<removed>true</removed>"), "{body}");
    for n in 1..6 {
        bbb1.publish("i", "e", n);
    }
    let got = events(&lab.app, 5);
    assert!(got.iter().all(|g| g.path == "/stays"), "{got:?}");
    lab.app.assert_quiet(Duration::from_millis(300));
}

#[test]
fn relay_posts_without_a_valid_proof_get_401_and_deliver_nothing() {
    let bbb1 = Bbb::start("bbb1", false);
    let mut lab = Lab::new(Redis::start());
    lab.add(&bbb1);
    lab.start_cluster();
    lab.wait_relay(&bbb1);
    lab.hook("/cb", "");
    let url = format!("{}/bbb1", lab.relay());
    let event = mapped_event("user-joined", "i", "e", 1);
    let post = |auth: CallbackAuth, secret: &str, url: &str| {
        let cb = callback::build(
            url,
            &[&event],
            "bbb1.example.com",
            1,
            auth,
            &Secret::new(secret),
        );
        let ct = ("Content-Type", "application/x-www-form-urlencoded");
        match &cb.authorization {
            Some(a) => http_post(&cb.url, &[ct, ("Authorization", a)], &cb.body),
            None => http_post(&cb.url, &[ct], &cb.body),
        }
    };
    let sha1 = CallbackAuth::Checksum(Algorithm::Sha1);
    assert_eq!(post(sha1, "wrong-secret", &url).0, 401, "wrong checksum");
    assert_eq!(
        post(CallbackAuth::Bearer, "wrong-secret", &url).0,
        401,
        "wrong bearer"
    );
    let plain = callback::body(&[&event], "bbb1.example.com", 1);
    assert_eq!(http_post(&url, &[], &plain).0, 401, "no proof");
    let other = format!("{}/bbb9", lab.relay());
    assert_eq!(post(sha1, &bbb1.secret, &other).0, 401, "not in the pool");
    // Proven but malformed, and not a POST.
    let bearer = format!("Bearer {}", bbb1.secret);
    let (status, _) = http_post(&url, &[("Authorization", &bearer)], "domain=x&event=nope");
    assert_eq!(status, 400);
    assert_eq!(try_request("GET", &url, WAIT).expect("answers").0, 405);

    // Nothing came of them: the next event the app gets is a real one.
    bbb1.publish("i", "e", 99);
    let got = events(&lab.app, 1);
    assert_eq!(got[0].n, 99);
    lab.app.assert_quiet(Duration::from_millis(300));
    for (reason, n) in [
        ("wrong_checksum", 1),
        ("wrong_bearer", 1),
        ("no_credentials", 1),
        ("malformed", 1),
    ] {
        let s = format!(
            "bbb_webhooks_cluster_relay_refused_total{{server=\"bbb1\",reason=\"{reason}\"}}"
        );
        assert_eq!(lab.sample(&s), Some(n), "{s}");
    }
    let unknown = "bbb_webhooks_cluster_relay_refused_total{reason=\"unknown_server\"}";
    assert_eq!(lab.sample(unknown), Some(1));
    let log = lab.cluster().log.lock().expect("log").join("\n");
    assert!(log.contains("refused a relay POST"), "logged");
    assert!(
        !log.contains("wrong-secret") && !log.contains(&bbb1.secret),
        "no secret logged"
    );
}

#[test]
fn kill_9_of_the_cluster_while_servers_publish_loses_no_event() {
    let (mut lab, bbb1, bbb2) = two_servers();
    lab.hook("/cb", "");
    const N: u64 = 60;
    let publish = |b: &Bbb| {
        let url = b.redis.url();
        std::thread::spawn(move || {
            let mut c = redis::Client::open(url.as_str())
                .and_then(|c| c.get_connection())
                .expect("connect");
            for n in 0..N {
                let text = mapped_event("user-joined", "i", "e", n);
                let _: i64 = redis::cmd("PUBLISH")
                    .arg(AKKA_CHANNEL)
                    .arg(text)
                    .query(&mut c)
                    .expect("publish");
                // A deliberate hold: paced, the publishes (about a second in
                // all) are still going on when the cluster is killed.
                std::thread::sleep(Duration::from_millis(15));
            }
        })
    };
    let publishers = [publish(&bbb1), publish(&bbb2)];
    let mut got = events(&lab.app, 10);
    lab.cluster.take().expect("running").kill();
    for p in publishers {
        p.join().expect("publisher");
    }
    lab.start_cluster();
    let want: Vec<u64> = (0..N).collect();
    let complete = |got: &[Got]| {
        by_domain(got).values().all(|ns| {
            let mut ns = ns.clone();
            ns.sort_unstable();
            ns.dedup();
            ns == want
        }) && by_domain(got).len() == 2
    };
    let until = Instant::now() + 2 * WAIT;
    while !complete(&got) {
        assert!(
            Instant::now() < until,
            "not every event of both servers reached the app within {:?} of the \
             restart; got, by domain: {:?}",
            2 * WAIT,
            by_domain(&got)
        );
        got.extend(events(&lab.app, 1));
    }
    assert!(got.iter().all(|g| g.signed));
}

#[test]
fn a_server_removed_from_the_pool_loses_its_relay_hook() {
    let (lab, bbb1, bbb2) = two_servers();
    lab.remove("bbb2");
    wait_for("bbb2's relay hook to go", || {
        (!lab.has_relay(&bbb2)).then_some(())
    });
    assert!(lab.has_relay(&bbb1), "bbb1 keeps its relay hook");
    lab.wait_sample("bbb_webhooks_cluster_pool_servers", 1);
    lab.wait_sample(
        "bbb_webhooks_cluster_relay_hook_in_place{server=\"bbb2\"}",
        0,
    );
}

#[test]
fn while_scalelite_is_down_or_has_tenants_the_last_pool_serves_and_is_read_again_after() {
    let bbb1 = Bbb::start("bbb1", false);
    let bbb2 = Bbb::start("bbb2", true);
    let mut lab = Lab::new(Redis::start_persistent());
    lab.add(&bbb1);
    lab.add(&bbb2);
    lab.start_cluster();
    lab.wait_relay(&bbb1);
    lab.wait_relay(&bbb2);
    lab.hook("/cb", "");
    lab.scalelite.stop();
    lab.wait_sample("bbb_webhooks_cluster_pool_source_up", 0);
    lab.wait_syncs(2);
    for n in 0..3 {
        bbb1.publish("i", "e", n);
        bbb2.publish("i", "e", n);
    }
    let m = by_domain(&events(&lab.app, 6));
    assert_eq!(m[&bbb1.domain], vec![0, 1, 2]);
    assert_eq!(m[&bbb2.domain], vec![0, 1, 2]);
    assert!(lab.has_relay(&bbb1) && lab.has_relay(&bbb2));

    lab.scalelite.restart();
    lab.wait_sample("bbb_webhooks_cluster_pool_source_up", 1);
    // Tenants appearing now: the pool read is not taken in, the last one
    // is kept (bbb2 keeps its hook though it left).
    let mut c = lab.scalelite.conn();
    let _: () = redis::cmd("SADD")
        .arg("scalelite:tenants")
        .arg("t1")
        .query(&mut c)
        .expect("SADD");
    lab.remove("bbb2");
    lab.wait_syncs(3);
    assert!(lab.has_relay(&bbb2), "the last known pool is kept");
    // Without tenants, what is read counts: bbb2 loses its relay hook.
    let _: () = redis::cmd("DEL")
        .arg("scalelite:tenants")
        .query(&mut c)
        .expect("DEL");
    wait_for("bbb2's relay hook to go", || {
        (!lab.has_relay(&bbb2)).then_some(())
    });
    assert!(lab.has_relay(&bbb1));
    let log = lab.cluster().log.lock().expect("log").join("\n");
    for (line, n) in [
        ("cannot read the pool from Scalelite's Redis", 1),
        ("answers again", 1),
        ("Scalelite has 1 tenant (scalelite:tenants: t1)", 1),
        ("Scalelite has no tenants any more", 1),
    ] {
        assert_eq!(
            log.matches(line).count(),
            n,
            "{line:?} logged once in {log}"
        );
    }
}

#[test]
fn a_scalelite_with_tenants_is_refused_at_start() {
    let lab = Lab::new(Redis::start());
    let mut c = lab.scalelite.conn();
    hset(
        &mut c,
        "scalelite:tenant:t1",
        &[("name", "acme"), ("secrets", "ts1")],
    );
    sadd(&mut c, "scalelite:tenants", "t1");
    let mut env = base_env(&lab.own);
    for (k, v) in lab.env() {
        env = with(env, &k, &v);
    }
    let out = run_within(&env, &[], WAIT);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("Scalelite has 1 tenant (scalelite:tenants: acme)")
            && err.contains("does not start"),
        "{err}"
    );
    assert!(!err.contains("ts1"), "a tenant's secret: {err}");
}

#[test]
fn a_static_pool_relays_and_raw_hooks_are_refused_with_a_reason() {
    let bbb1 = Bbb::start("bbb1", true);
    let mut lab = Lab::new(Redis::start());
    lab.extra = vec![
        ("BBB_WEBHOOKS_CLUSTER".into(), "static".into()),
        (
            "BBB_WEBHOOKS_CLUSTER_SERVERS".into(),
            format!("bbb1={}|{}", bbb1.svc.api, bbb1.secret),
        ),
    ];
    lab.scalelite.stop();
    let mut env = lab.env();
    env.retain(|(k, _)| k != "BBB_WEBHOOKS_SCALELITE_REDIS_URL");
    let mut launch = Service::launch(&lab.own).ready(Ready::Api);
    for (k, v) in &env {
        launch = launch.env(k, v);
    }
    lab.cluster = Some(launch.start());
    lab.wait_relay(&bbb1);
    let raw = lab.cluster().call(
        "hooks/create",
        &format!("callbackURL={}&getRaw=true", enc(&lab.app.url("/raw"))),
    );
    assert!(
        raw.contains("<messageKey>createHookError</messageKey>") && raw.contains("getRaw"),
        "{raw}"
    );
    lab.hook("/cb", "");
    bbb1.publish("i", "e", 5);
    let got = events(&lab.app, 1);
    assert_eq!((got[0].domain.as_str(), got[0].n), ("bbb1.example.com", 5));
    assert!(got[0].signed);
    let log = lab.cluster().log.lock().expect("log").join("\n");
    assert!(!log.contains(&bbb1.secret), "the pool's secret was logged");
}

#[test]
fn a_cluster_stops_within_its_deadline_while_a_pool_server_never_answers() {
    // Accepts connections and never answers.
    let mute = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/bigbluebutton/api",
        mute.local_addr().expect("addr")
    );
    let (seen_tx, seen) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in mute.incoming().flatten() {
            held.push(s);
            let _ = seen_tx.send(());
        }
    });
    let mut lab = Lab::new(Redis::start());
    lab.extra = vec![
        ("BBB_WEBHOOKS_CLUSTER".into(), "static".into()),
        (
            "BBB_WEBHOOKS_CLUSTER_SERVERS".into(),
            format!("mute={url}|s"),
        ),
    ];
    lab.scalelite.stop();
    let mut env = lab.env();
    env.retain(|(k, _)| k != "BBB_WEBHOOKS_SCALELITE_REDIS_URL");
    let mut launch = Service::launch(&lab.own).ready(Ready::Api);
    for (k, v) in &env {
        launch = launch.env(k, v);
    }
    let mut svc = launch.start();
    // Its first call to the mute server is under way (5 s time limit).
    seen.recv_timeout(WAIT)
        .expect("the sync calls the mute server");
    let started = Instant::now();
    let status = svc.terminate();
    let took = started.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(4), "stopped in {took:?}");
}

#[test]
fn a_relay_post_is_answered_200_only_once_its_events_are_in_redis() {
    let bbb1 = Bbb::start("bbb1", false);
    let mut lab = Lab::new(Redis::start());
    lab.own = Redis::start_persistent();
    lab.add(&bbb1);
    lab.start_cluster();
    lab.wait_relay(&bbb1);
    lab.hook("/cb", "");
    let taken = "bbb_webhooks_cluster_relay_posts_total{server=\"bbb1\"}";
    let unavailable =
        "bbb_webhooks_cluster_relay_refused_total{server=\"bbb1\",reason=\"unavailable\"}";
    // The cluster's own Redis goes: the journal cannot write.
    lab.own.stop();
    bbb1.publish("i", "e", 1);
    wait_for("the relay POST to be answered 503 twice", || {
        (lab.sample(unavailable)? >= 2).then_some(())
    });
    assert_eq!(
        lab.sample(taken),
        Some(0),
        "no 200 while nothing is in Redis"
    );
    lab.own.restart();
    lab.wait_sample(taken, 1);
    // Delivered, perhaps twice: once from memory, once as sent again.
    let got = events(&lab.app, 1);
    assert_eq!(got[0].n, 1);
}
