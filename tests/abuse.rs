//! The API stays up under abuse and under a slow Redis: slow or idle
//! connections, a create waiting on a frozen Redis, and a process out of
//! file descriptors never keep a well-behaved client from its answer.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::*;

/// A well-behaved client's answer comes within this.
const PROMPT: Duration = Duration::from_millis(100);

/// Times a `hooks/ping` on a new connection; panics without an answer.
fn timed_ping(svc: &Service) -> Duration {
    let start = Instant::now();
    let (status, body) = try_request(
        "GET",
        &format!("{}/hooks/ping", svc.api),
        Duration::from_secs(5),
    )
    .expect("ping answered");
    assert_eq!((status, body.as_str()), (200, "bbb-webhooks API up!"));
    start.elapsed()
}

#[test]
fn slowloris_connections_do_not_keep_pings_from_an_answer() {
    let redis = Redis::start();
    let svc = Service::start(&redis, &[]);
    let addr = svc.api_addr;
    // 256 clients that send a request line and a header, then a byte every
    // half second, never finishing their request.
    let mut slow: Vec<TcpStream> = (0..256)
        .map(|_| {
            let mut s = TcpStream::connect(addr).expect("connect");
            s.write_all(b"GET /bigbluebutton/api/hooks/ping HTTP/1.1\r\nHost: x\r\n")
                .expect("send the head's start");
            s
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let trickle = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for s in &mut slow {
                    let _ = s.write_all(b"X");
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        })
    };
    // A deliberate hold, not a wait for progress: the slow ones take every
    // connection thread and grow older than the 250 ms after which the
    // server may shed a connection that has not sent its request.
    std::thread::sleep(Duration::from_millis(600));
    let times: Vec<Duration> = (0..20)
        .map(|_| {
            let t = timed_ping(&svc);
            std::thread::sleep(Duration::from_millis(50));
            t
        })
        .collect();
    stop.store(true, Ordering::Relaxed);
    trickle.join().expect("trickle thread");
    let worst = times.iter().max().copied().unwrap_or_default();
    assert!(worst < PROMPT, "slowest ping {worst:?} of {times:?}");
    assert!(svc.metric("bbb_webhooks_api_connections_shed_total") > 0);
}

#[test]
fn pings_and_lists_answer_while_a_frozen_redis_holds_a_create() {
    let redis = Redis::start();
    // Redis freezes at the second hook's record (its callback URL), for
    // longer than the service's 5 s command timeout.
    let proxy = StallingProxy::start(redis.port, b"127.0.0.1:9/b", Duration::from_secs(8));
    let svc = Service::launch(&redis)
        .env("BBB_WEBHOOKS_REDIS_URL", &proxy.url())
        .start();
    let id = svc.create_hook("callbackURL=http%3A%2F%2F127.0.0.1%3A9%2Fa");
    let create = {
        let url = svc.url("hooks/create", "callbackURL=http%3A%2F%2F127.0.0.1%3A9%2Fb");
        std::thread::spawn(move || {
            let start = Instant::now();
            let answer = try_request("GET", &url, Duration::from_secs(20));
            (answer, start.elapsed())
        })
    };
    // The create is at Redis, held there, before the first ping.
    wait_for("the create to reach the frozen Redis", || {
        proxy.stalled.load(Ordering::SeqCst).then_some(())
    });
    for _ in 0..10 {
        let t = timed_ping(&svc);
        assert!(t < PROMPT, "ping took {t:?}");
        let start = Instant::now();
        let list = svc.call("hooks/list", "");
        assert!(
            start.elapsed() < PROMPT,
            "hooks/list took {:?}",
            start.elapsed()
        );
        assert!(list.contains(&id));
    }
    let (answer, took) = create.join().expect("create thread");
    let (status, body) = answer.expect("the create is answered, not left hanging");
    assert_eq!(status, 200);
    assert!(
        body.contains("<returncode>FAILED</returncode><messageKey>createHookError</messageKey>"),
        "{body}"
    );
    assert!(took < Duration::from_secs(10), "answered after {took:?}");
}

#[test]
fn out_of_file_descriptors_the_service_does_not_spin_and_recovers() {
    let redis = Redis::start();
    let svc = Service::start(&redis, &[]);
    let addr = svc.api_addr;
    // Room for every connection thread to hold a connection, and a few
    // more: then accept() fails for want of a descriptor, with connections
    // waiting in the listen queue.
    let open = std::fs::read_dir(format!("/proc/{}/fd", svc.pid()))
        .expect("proc fd")
        .count();
    let limit = format!("--nofile={0}:{0}", open + 70);
    let set = std::process::Command::new("prlimit")
        .args(["--pid", &svc.pid().to_string(), &limit])
        .status()
        .expect("prlimit runs");
    assert!(set.success());
    let held: Vec<TcpStream> = (0..150)
        .filter_map(|_| TcpStream::connect(addr).ok())
        .collect();
    assert!(held.len() > 70, "{} connections", held.len());
    let before = cpu_time(svc.pid());
    let start = Instant::now();
    // A deliberate hold: the window in which the CPU time is measured.
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_time(svc.pid()).saturating_sub(before);
    let wall = start.elapsed();
    assert!(used < wall / 5, "{used:?} of CPU in {wall:?}: spinning");
    drop(held);
    let t = wait_for("pings to answer again", || {
        try_request(
            "GET",
            &format!("{}/hooks/ping", svc.api),
            Duration::from_secs(2),
        )
        .ok()
        .filter(|(s, _)| *s == 200)
    });
    assert_eq!(t.1, "bbb-webhooks API up!");
    assert!(svc.metric("bbb_webhooks_api_accept_errors_total") >= 1);
}
