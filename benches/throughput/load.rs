//! Load generators: bench chat messages published on Redis (raw BBB or already mapped),
//! the direct HTTP client that measures the receiver's ceiling, and the API prober.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::service::Api;

/// The Redis channel chat messages are published on.
pub const CHAT_CHANNEL: &str = "from-akka-apps-chat-redis-channel";
/// The Redis channel meeting lifecycle messages are published on.
pub const MEETING_CHANNEL: &str = "from-akka-apps-redis-channel";
const INTERNAL_ID: &str = "b3ec2f3e3e2c1b0d8a8f6c1e4d2a9b7c6e5f4a3b-1700000000000";
const EXTERNAL_ID: &str = "bench-meeting";
const USER_ID: &str = "w_benchuser0001";

/// Which message format the publisher sends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MessageKind {
    /// `GroupChatMessageBroadcastEvtMsg`, as akka-apps publishes it.
    RawChat,
    /// A `chat-group-message-sent` webhook event, passed through as is.
    MappedChat,
}

impl MessageKind {
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::RawChat => "raw-chat",
            MessageKind::MappedChat => "mapped-chat",
        }
    }
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The chat message of a bench event with sequence number `seq`.
pub fn chat(kind: MessageKind, text: &str) -> String {
    let ts = wall_ms();
    let id = format!("{ts}-bench");
    let v = match kind {
        MessageKind::RawChat => json!({
            "envelope": {
                "name": "GroupChatMessageBroadcastEvtMsg",
                "routing": {"msgType": "BROADCAST_TO_MEETING", "meetingId": INTERNAL_ID, "userId": USER_ID},
                "timestamp": ts
            },
            "core": {
                "header": {"name": "GroupChatMessageBroadcastEvtMsg", "meetingId": INTERNAL_ID, "userId": USER_ID},
                "body": {
                    "chatId": "MAIN-PUBLIC-GROUP-CHAT",
                    "msg": {
                        "id": id, "timestamp": ts, "correlationId": format!("{USER_ID}-{ts}"),
                        "sender": {"id": USER_ID, "name": "Bench User", "role": "MODERATOR"},
                        "chatEmphasizedText": false, "message": text
                    }
                }
            }
        }),
        MessageKind::MappedChat => json!({
            "data": {
                "type": "event",
                "id": "chat-group-message-sent",
                "attributes": {
                    "meeting": {"internal-meeting-id": INTERNAL_ID, "external-meeting-id": EXTERNAL_ID},
                    "chat-message": {
                        "id": id, "message": text,
                        "sender": {"internal-user-id": USER_ID, "name": "Bench User", "time": ts}
                    },
                    "chat-id": "MAIN-PUBLIC-GROUP-CHAT"
                },
                "event": {"ts": ts}
            }
        }),
    };
    v.to_string()
}

/// `MeetingCreatedEvtMsg` for the bench meeting, so that raw chat messages map to a known meeting.
pub fn meeting_created() -> String {
    let ts = wall_ms();
    json!({
        "envelope": {"name": "MeetingCreatedEvtMsg", "routing": {"sender": "bbb-apps-akka"}, "timestamp": ts},
        "core": {
            "header": {"name": "MeetingCreatedEvtMsg"},
            "body": {"props": {
                "meetingProp": {"name": EXTERNAL_ID, "extId": EXTERNAL_ID, "intId": INTERNAL_ID, "isBreakout": false,
                                "disabledFeatures": []},
                "breakoutProps": {"parentId": "bbb-none", "sequence": 0, "freeJoin": false, "breakoutRooms": [], "record": false},
                "durationProps": {"duration": 0, "createdTime": ts, "createdDate": "Thu Nov 14 22:13:20 UTC 2023"},
                "password": {"moderatorPass": "mp", "viewerPass": "ap", "learningDashboardAccessToken": "bench"},
                "recordProp": {"record": false, "autoStartRecording": false, "allowStartStopRecording": true},
                "welcomeProp": {"welcomeMsgTemplate": "", "welcomeMsg": "", "modOnlyMessage": ""},
                "voiceProp": {"telVoice": "70000", "voiceConf": "70000", "dialNumber": "613-555-1234", "muteOnStart": false},
                "usersProp": {"maxUsers": 0, "guestPolicy": "ALWAYS_ACCEPT"},
                "metadataProp": {"metadata": {}},
                "systemProps": {"html5InstanceId": 1},
                "groups": []
            }}
        }
    })
    .to_string()
}

/// Publishes bench chat messages on one Redis connection.
pub struct Publisher {
    con: redis::Connection,
    kind: MessageKind,
    start: Instant,
}

impl Publisher {
    pub fn new(con: redis::Connection, kind: MessageKind, start: Instant) -> Publisher {
        Publisher { con, kind, start }
    }

    /// PUBLISH; returns the number of subscribers that received it.
    pub fn publish_raw(&mut self, channel: &str, payload: &str) -> Result<i64, String> {
        redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query(&mut self.con)
            .map_err(|e| format!("PUBLISH on {channel}: {e}"))
    }

    /// Subscribers of the chat channel (`PUBSUB NUMSUB`).
    pub fn chat_subscribers(&mut self) -> Result<i64, String> {
        let (_, n): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(CHAT_CHANNEL)
            .query(&mut self.con)
            .map_err(|e| format!("PUBSUB NUMSUB: {e}"))?;
        Ok(n)
    }

    /// Publishes the warm-up message.
    pub fn warmup(&mut self) -> Result<i64, String> {
        let msg = chat(self.kind, "bench warmup");
        self.publish_raw(CHAT_CHANNEL, &msg)
    }

    /// Publishes bench event `seq`, stamped with the time right before the PUBLISH.
    pub fn event(&mut self, seq: u64) -> Result<i64, String> {
        let sent = self.start.elapsed().as_nanos() as u64;
        let msg = chat(self.kind, &format!("bench seq={seq} sent={sent}"));
        self.publish_raw(CHAT_CHANNEL, &msg)
    }

    /// Publishes `count` events, as fast as possible (`rate` None) or at `rate` per second.
    /// Returns the publish duration.
    pub fn run(&mut self, count: u64, rate: Option<f64>) -> Result<Duration, String> {
        let t0 = Instant::now();
        match rate {
            None => {
                // A burst is sent in pipelines of BURST_PIPELINE commands, so that the
                // publisher's round trips do not pace the burst. Each message is stamped
                // as it is built, right before its pipeline is sent.
                let mut seq = 0;
                while seq < count {
                    let end = (seq + BURST_PIPELINE).min(count);
                    let mut pipe = redis::pipe();
                    for s in seq..end {
                        let sent = self.start.elapsed().as_nanos() as u64;
                        pipe.cmd("PUBLISH")
                            .arg(CHAT_CHANNEL)
                            .arg(chat(self.kind, &format!("bench seq={s} sent={sent}")))
                            .ignore();
                    }
                    pipe.query::<()>(&mut self.con)
                        .map_err(|e| format!("PUBLISH pipeline on {CHAT_CHANNEL}: {e}"))?;
                    seq = end;
                }
            }
            Some(rate) => {
                for seq in 0..count {
                    let due = t0 + Duration::from_secs_f64(seq as f64 / rate);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    self.event(seq)?;
                }
            }
        }
        Ok(t0.elapsed())
    }
}

/// Messages per Redis pipeline in a burst.
const BURST_PIPELINE: u64 = 32;

/// The callback body of one bench event, as the service would POST it.
pub fn form_body(seq: u64, sent_ns: u64) -> String {
    let event = chat(
        MessageKind::MappedChat,
        &format!("bench seq={seq} sent={sent_ns}"),
    );
    format!(
        "domain=bench.localhost&event={}&timestamp={}",
        crate::service::url_encode(&format!("[{event}]")),
        wall_ms()
    )
}

/// POSTs `per_thread` events from each of `threads` keep-alive clients to `url`.
/// Bodies are built before the clock starts, so that the figure is the receiver's
/// (and the HTTP client's), not the JSON encoder's. Returns (failed requests, elapsed).
pub fn ceiling(url: &str, threads: usize, per_thread: u64) -> Result<(u64, Duration), String> {
    let ready = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<JoinHandle<u64>> = (0..threads)
        .map(|t| {
            let url = format!("{url}?checksum=0");
            let ready = Arc::clone(&ready);
            std::thread::Builder::new()
                .name("ceiling-client".into())
                .spawn(move || {
                    let agent = crate::service::agent();
                    let bodies: Vec<String> = (0..per_thread)
                        .map(|i| form_body(t as u64 * per_thread + i, 0))
                        .collect();
                    ready.wait();
                    let mut failed = 0;
                    for body in &bodies {
                        let ok = agent
                            .post(&url)
                            .header("Content-Type", "application/x-www-form-urlencoded")
                            .send(body.as_str())
                            .map(|r| r.status().is_success())
                            .unwrap_or(false);
                        if !ok {
                            failed += 1;
                        }
                    }
                    failed
                })
                .expect("spawn a ceiling client thread")
        })
        .collect();
    ready.wait();
    let t0 = Instant::now();
    let mut failed = 0;
    for h in handles {
        failed += h
            .join()
            .map_err(|_| "a ceiling client thread panicked".to_owned())?;
    }
    Ok((failed, t0.elapsed()))
}

/// What the API prober saw.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProbeResult {
    pub calls: u64,
    pub errors: u64,
    pub max_ping: Duration,
    pub max_list: Duration,
}

/// Calls hooks/ping and hooks/list alternately every ~10 ms until stopped.
pub struct Prober {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<ProbeResult>>,
}

impl Prober {
    pub fn start(api: Api, every: Duration) -> Prober {
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("api-prober".into())
            .spawn(move || {
                let mut r = ProbeResult::default();
                let mut next = Instant::now();
                while !s.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let list = r.calls % 2 == 1;
                    let ok = if list {
                        api.list().is_ok()
                    } else {
                        api.ping().is_ok()
                    };
                    let took = t.elapsed();
                    r.calls += 1;
                    if !ok {
                        r.errors += 1;
                    }
                    let max = if list {
                        &mut r.max_list
                    } else {
                        &mut r.max_ping
                    };
                    *max = (*max).max(took);
                    next += every;
                    let now = Instant::now();
                    if next > now {
                        std::thread::sleep(next - now);
                    } else {
                        next = now;
                    }
                }
                r
            })
            .expect("spawn the API prober");
        Prober {
            stop,
            handle: Some(handle),
        }
    }

    pub fn finish(mut self) -> ProbeResult {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
