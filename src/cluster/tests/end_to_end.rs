//! The phase 1 parts together, as phase 2 will wire them: a reconciler with
//! the real client registers relay hooks on two instances of this service
//! (one signing callbacks with a checksum, one with a bearer token), their
//! relay POSTs reach a receiver that takes them apart with
//! [`relay::receive`], and a server that leaves the pool loses its hook.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::support::{pool_server, start_service, TestRedis, BBB_CHANNEL};
use crate::cluster::relay::{self, Proof, RelayError, RelayUrl, Relayed};
use crate::cluster::remote::{HooksApi, Remote, DEFAULT_MAX_ANSWER};
use crate::cluster::sync::{Change, Reason, Reconciler, Settings};
use crate::cluster::Pool;
use crate::http;

fn created_msg(int: &str, ext: &str) -> String {
    format!(
        r#"{{"envelope":{{"name":"MeetingCreatedEvtMsg","routing":{{}},"timestamp":1}},"core":{{"header":{{"name":"MeetingCreatedEvtMsg"}},"body":{{"props":{{"meetingProp":{{"intId":"{int}","extId":"{ext}","name":"n"}}}}}}}}}}"#
    )
}

#[test]
fn relay_hooks_are_kept_and_their_posts_are_proven() {
    let (redis1, redis2) = (TestRedis::start(), TestRedis::start());
    let bbb1 = start_service(&redis1, "secret-1", "bbb1.example.com", &[]);
    let bbb2 = start_service(
        &redis2,
        "secret-2",
        "bbb2.example.com",
        &[("BBB_WEBHOOKS_CALLBACK_AUTH", "bearer")],
    );
    let mut pool = Pool::default();
    for (id, svc, secret) in [("bbb1", &bbb1, "secret-1"), ("bbb2", &bbb2, "secret-2")] {
        let url = format!("http://{}/bigbluebutton/api", svc.api_addr());
        pool.insert(pool_server(id, &url, secret)).expect("unique");
    }

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let relay_url = RelayUrl::parse(&format!("http://{addr}/bigbluebutton/api/hooks/relay"))
        .expect("relay URL");
    let (tx, rx) = crossbeam_channel::unbounded::<Result<Relayed, RelayError>>();
    let (shared_pool, shared_url) = (Arc::new(pool.clone()), relay_url.clone());
    let handler: http::Handler = Arc::new(move |req| {
        let got = relay::receive(&req, &shared_url, &shared_pool, relay::DEFAULT_MAX_BODY);
        let status = got.as_ref().map_or_else(RelayError::status, |_| 200);
        let _ = tx.send(got);
        http::Response::new(status, "text/plain", "")
    });
    let limits = http::Limits {
        max_request_bytes: relay::DEFAULT_MAX_BODY,
        threads: 2,
        refusal: crate::http::text_refusal,
    };
    let receiver = http::Server::from_listener(listener, limits, handler).expect("receiver");

    let mut api = Remote::new(Duration::from_secs(5), DEFAULT_MAX_ANSWER);
    let mut r = Reconciler::new(relay_url.clone(), vec![], Settings::default());
    let t0 = Instant::now();
    let changes = r.sync(&pool, &[], &mut api, t0);
    let created: Vec<&str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Created {
                id,
                reason: Reason::NotFound,
                ..
            } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(created, vec!["bbb1", "bbb2"], "{changes:?}");
    assert_eq!(
        r.sync(&pool, &[], &mut api, t0 + Duration::from_secs(10)),
        vec![]
    );

    // Each server's events come back through its relay hook, proven.
    for (redis, meeting) in [(&redis1, "ext-1"), (&redis2, "ext-2")] {
        let mut c = redis.conn();
        let _: i64 = redis::cmd("PUBLISH")
            .arg(BBB_CHANNEL)
            .arg(created_msg(&format!("int-{meeting}"), meeting))
            .query(&mut c)
            .expect("publish");
    }
    let mut got: Vec<Relayed> = (0..2)
        .map(|_| {
            rx.recv_timeout(Duration::from_secs(15))
                .expect("a relay POST within 15 s")
                .expect("proven and parsed")
        })
        .collect();
    got.sort_by(|a, b| a.server_id.cmp(&b.server_id));
    assert_eq!(got[0].server_id, "bbb1");
    assert!(
        matches!(got[0].proof, Proof::Checksum(_)),
        "{:?}",
        got[0].proof
    );
    assert_eq!(got[0].body.domain, "bbb1.example.com");
    assert_eq!(got[1].server_id, "bbb2");
    assert_eq!(got[1].proof, Proof::Bearer);
    assert_eq!(got[1].body.domain, "bbb2.example.com");
    for (g, meeting) in got.iter().zip(["ext-1", "ext-2"]) {
        let data = &g.body.events[0].value["data"];
        assert_eq!(data["id"], "meeting-created");
        assert_eq!(
            data["attributes"]["meeting"]["external-meeting-id"],
            meeting
        );
    }

    // bbb2 leaves the pool: its relay hook goes, bbb1's stays.
    let mut smaller = Pool::default();
    smaller
        .insert(pool.get("bbb1").cloned().expect("bbb1"))
        .expect("unique");
    let changes = r.sync(&smaller, &[], &mut api, t0 + Duration::from_secs(20));
    assert!(
        changes.contains(&Change::Forgotten { id: "bbb2".into() }),
        "{changes:?}"
    );
    let bbb2_server = pool.get("bbb2").expect("bbb2");
    assert_eq!(api.list(bbb2_server).expect("lists"), vec![]);
    let left = api.list(pool.get("bbb1").expect("bbb1")).expect("lists");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].callback_url, relay_url.for_server("bbb1"));

    // The services first: their delivery connections to the receiver close.
    drop(api);
    bbb1.shutdown();
    bbb2.shutdown();
    receiver.stop(std::time::Instant::now() + std::time::Duration::from_secs(2));
}
