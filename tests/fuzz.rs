//! Property tests with a seeded generator, for the parsers that take
//! untrusted input: query strings and checksums (the API), the event mapping
//! (Redis messages), the configuration (environment and files), callback
//! URLs and event filters, the callback body, and the hook and mapping records stored in Redis
//! (loaded from a private `redis-server`).
//!
//! `cargo test` runs a bounded number of cases per target. A long run by hand:
//!
//! ```sh
//! FUZZ_SECONDS=300 cargo test --release --test fuzz -- --ignored --nocapture --test-threads 8
//! ```
//!
//! `FUZZ_SEED=<n>` starts from another seed (a failure prints the seed of the
//! failing case, which reproduces it with `FUZZ_CASES=1`). Inputs that once
//! failed are kept in the `regressions_*` tests below.

mod support;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bbb_webhooks::checksum::{self, Algorithm};
use bbb_webhooks::config::{self, Config};
use bbb_webhooks::hooks;
use bbb_webhooks::mapping::{self, State};
use bbb_webhooks::query;
use serde_json::{json, Map, Value};

/// A small, fast, seeded generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A short length, mostly small, sometimes long.
    fn len(&mut self) -> usize {
        match self.below(10) {
            0 => 0,
            1..=6 => self.below(8),
            7 | 8 => self.below(40),
            _ => self.below(300),
        }
    }

    fn char(&mut self) -> char {
        const SPECIAL: &[char] = &[
            '%',
            '+',
            '&',
            '=',
            '?',
            '#',
            '/',
            ':',
            ' ',
            '\t',
            '\n',
            '\r',
            '\0',
            '"',
            '\'',
            '\\',
            '<',
            '>',
            ']',
            '[',
            '{',
            '}',
            ',',
            ';',
            '!',
            '@',
            '~',
            '*',
            '.',
            '-',
            '_',
            'é',
            'ß',
            '€',
            '✓',
            '\u{1F600}',
            '\u{FEFF}',
            '\u{7F}',
            '\u{85}',
            '\u{2028}',
            '\u{FFFD}',
        ];
        match self.below(6) {
            0 => *self.pick(SPECIAL),
            1 => *self.pick(&b"0123456789abcdefABCDEF"[..]) as char,
            2 => char::from_u32(self.next() as u32 % 0x11_0000).unwrap_or('x'),
            _ => (b' ' + self.below(95) as u8) as char,
        }
    }

    fn string(&mut self) -> String {
        let n = self.len();
        (0..n).map(|_| self.char()).collect()
    }

    /// A string made of `parts`, random characters and `%XX` escapes.
    fn string_from(&mut self, parts: &[&str]) -> String {
        let mut s = String::new();
        for _ in 0..self.below(5) {
            match self.below(4) {
                0 => {
                    let part = *self.pick(parts);
                    s.push_str(part);
                }
                1 => {
                    let c = self.char();
                    s.push(c);
                }
                2 => s.push_str(&format!("%{:02X}", self.below(256))),
                _ => {
                    let t = self.string();
                    s.push_str(&t);
                }
            }
        }
        s
    }

    fn bytes(&mut self) -> Vec<u8> {
        let n = self.len();
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// How many cases a target runs: `FUZZ_CASES`, else `default`; with
/// `FUZZ_SECONDS` it runs until that much time has passed instead.
struct Budget {
    cases: u64,
    until: Option<Instant>,
    seed: u64,
}

impl Budget {
    fn quick(default: u64) -> Budget {
        let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
        Budget {
            cases: env("FUZZ_CASES").unwrap_or(default),
            until: None,
            seed: env("FUZZ_SEED").unwrap_or(0x5eed),
        }
    }

    fn long() -> Budget {
        let secs = std::env::var("FUZZ_SECONDS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(60);
        Budget {
            cases: u64::MAX,
            until: Some(Instant::now() + Duration::from_secs(secs)),
            ..Budget::quick(0)
        }
    }
}

/// Runs `case` with a fresh generator per case; a panic names the case's seed.
fn run(target: &str, budget: Budget, mut case: impl FnMut(&mut Rng)) {
    let start = Instant::now();
    let mut n = 0u64;
    while n < budget.cases && budget.until.is_none_or(|u| Instant::now() < u) {
        let seed = budget.seed.wrapping_add(n);
        let mut rng = Rng(seed);
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| case(&mut rng))) {
            let what = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            panic!("{target}: case failed, reproduce with FUZZ_SEED={seed} FUZZ_CASES=1: {what}");
        }
        n += 1;
    }
    eprintln!("{target}: {n} cases in {:.1?}", start.elapsed());
}

// ---------------------------------------------------------------- query

fn query_case(rng: &mut Rng) {
    // Arbitrary text: nothing panics; without a checksum pair nothing changes.
    let raw = rng.string_from(&["checksum", "checksum=", "&", "=", "%", "+", "&&"]);
    let (kept, sum) = query::split_checksum(&raw);
    assert!(kept.len() <= raw.len());
    if !raw
        .split('&')
        .any(|p| p == "checksum" || p.starts_with("checksum="))
    {
        assert_eq!((kept.as_str(), sum), (raw.as_str(), None), "{raw:?}");
    }
    let _ = query::params(&raw);
    let _ = query::decode(&raw);

    // Pairs built here: every non-checksum pair is kept byte for byte, in
    // order, and the first checksum is the one returned.
    let n = rng.below(6);
    let mut pairs = Vec::new();
    let mut expected_kept = Vec::new();
    let mut expected_sum = None;
    for _ in 0..n {
        let key = match rng.below(4) {
            0 => "checksum".to_owned(),
            1 => rng
                .pick(&[
                    "Checksum",
                    "checksum%3D",
                    "xchecksum",
                    "checksum ",
                    "checksumx",
                ])
                .to_string(),
            _ => rng.string().replace(['&', '='], ""),
        };
        let value = rng.string().replace('&', "");
        let pair = if rng.chance(5) {
            key.clone()
        } else {
            format!("{key}={value}")
        };
        if key == "checksum" {
            if expected_sum.is_none() {
                expected_sum = Some(if pair.contains('=') {
                    value.clone()
                } else {
                    String::new()
                });
            }
        } else {
            expected_kept.push(pair.clone());
        }
        pairs.push(pair);
    }
    let raw = pairs.join("&");
    let (kept, sum) = query::split_checksum(&raw);
    assert_eq!(kept, expected_kept.join("&"), "{raw:?}");
    assert_eq!(sum.map(str::to_owned), expected_sum, "{raw:?}");

    // Encoding round trips, and params decode what was encoded.
    let s = rng.string();
    let encoded = query::form_encode(&s);
    assert_eq!(query::decode(&encoded), s);
    assert!(encoded
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"*-._+%".contains(&b)));
    let params: Vec<(String, String)> = (0..rng.below(5))
        .map(|_| (rng.string(), rng.string()))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    let raw: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", query::form_encode(k), query::form_encode(v)))
        .collect();
    assert_eq!(query::params(&raw.join("&")), params);
}

#[test]
fn query_parsing() {
    run("query", Budget::quick(3000), query_case);
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_query_parsing() {
    run("query", Budget::long(), query_case);
}

// ------------------------------------------------------------- checksum

fn checksum_case(rng: &mut Rng) {
    let call = rng.string_from(&["hooks/create", "hooks/list", "subscribeEvent"]);
    let query_text = rng.string();
    let secret = rng.string();
    let allowed: Vec<Algorithm> = Algorithm::ALL
        .into_iter()
        .filter(|_| !rng.chance(3))
        .collect();
    // Anything as a checksum: no panic, and random text does not verify.
    let junk = match rng.below(3) {
        0 => rng.string(),
        1 => (0..*rng.pick(&[40, 64, 96, 128]))
            .map(|_| *rng.pick(&b"0123456789abcdef"[..]) as char)
            .collect(),
        _ => (0..*rng.pick(&[39, 40, 41, 64, 128]))
            .map(|_| rng.char())
            .collect(),
    };
    assert!(!checksum::verify_api(
        &call,
        &query_text,
        &secret,
        &junk,
        &allowed
    ));

    let alg = *rng.pick(&Algorithm::ALL);
    let sum = alg.hex_digest(&[call.as_bytes(), query_text.as_bytes(), secret.as_bytes()]);
    assert_eq!(
        checksum::verify_api(&call, &query_text, &secret, &sum, &allowed),
        allowed.contains(&alg)
    );
    let all = Algorithm::ALL;
    assert!(checksum::verify_api(
        &call,
        &query_text,
        &secret,
        &sum,
        &all
    ));
    // Any one character of the checksum changed: refused.
    let mut chars: Vec<char> = sum.chars().collect();
    let i = rng.below(chars.len());
    let old = chars[i];
    while chars[i] == old {
        chars[i] = rng.char();
    }
    let changed: String = chars.into_iter().collect();
    assert!(!checksum::verify_api(
        &call,
        &query_text,
        &secret,
        &changed,
        &all
    ));
    // Any one character of what was signed changed: refused.
    let mutate = |rng: &mut Rng, s: &str| -> String {
        let mut chars: Vec<char> = s.chars().collect();
        if chars.is_empty() || rng.chance(4) {
            let at = rng.below(chars.len() + 1);
            let c = rng.char();
            chars.insert(at, c);
        } else {
            let i = rng.below(chars.len());
            let old = chars[i];
            while chars[i] == old {
                chars[i] = rng.char();
            }
        }
        chars.into_iter().collect()
    };
    let q2 = mutate(rng, &query_text);
    assert!(!checksum::verify_api(&call, &q2, &secret, &sum, &all));
    let s2 = mutate(rng, &secret);
    assert!(!checksum::verify_api(&call, &query_text, &s2, &sum, &all));
}

#[test]
fn checksum_verification() {
    run("checksum", Budget::quick(1500), checksum_case);
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_checksum_verification() {
    run("checksum", Budget::long(), checksum_case);
}

// -------------------------------------------------------------- mapping

const NAMES: &[&str] = &[
    "MeetingCreatedEvtMsg",
    "MeetingDestroyedEvtMsg",
    "RecordingStatusChangedEvtMsg",
    "SetCurrentPresentationEvtMsg",
    "ScreenshareRtmpBroadcastStartedEvtMsg",
    "ScreenshareRtmpBroadcastStoppedEvtMsg",
    "UserJoinedMeetingEvtMsg",
    "UserLeftMeetingEvtMsg",
    "UserJoinedVoiceConfToClientEvtMsg",
    "UserLeftVoiceConfToClientEvtMsg",
    "UserMutedVoiceEvtMsg",
    "UserBroadcastCamStartedEvtMsg",
    "UserBroadcastCamStoppedEvtMsg",
    "UserEmojiChangedEvtMsg",
    "UserRaiseHandChangedEvtMsg",
    "UserReactionEmojiChangedEvtMsg",
    "PresenterAssignedEvtMsg",
    "PresenterUnassignedEvtMsg",
    "GroupChatMessageBroadcastEvtMsg",
    "PadContentEvtMsg",
    "PollStartedEvtMsg",
    "UserRespondedToPollRespMsg",
    "TranscriptUpdatedEvtMsg",
    "PublishedRecordingSysMsg",
    "UnpublishedRecordingSysMsg",
    "DeletedRecordingSysMsg",
    "archive_started",
    "archive_ended",
    "sanity_started",
    "sanity_ended",
    "process_started",
    "process_ended",
    "publish_started",
    "publish_ended",
    "post_archive_started",
    "post_archive_ended",
    "post_process_started",
    "post_process_ended",
    "post_publish_started",
    "post_publish_ended",
    "published",
    "unpublished",
    "deleted",
];

const EVENT_IDS: &[&str] = &[
    "meeting-created",
    "meeting-ended",
    "user-joined",
    "user-left",
    "user-presenter-assigned",
    "user-raise-hand-changed",
    "user-emoji-changed",
    "TestEvent",
    "rap-published",
];

const KEYS: &[&str] = &[
    "envelope",
    "core",
    "header",
    "body",
    "name",
    "routing",
    "meetingId",
    "userId",
    "intId",
    "extId",
    "props",
    "meetingProp",
    "breakoutProps",
    "parentId",
    "metadata",
    "metadataProp",
    "user",
    "users",
    "msg",
    "sender",
    "chatId",
    "poll",
    "answers",
    "answerIds",
    "pollId",
    "payload",
    "meeting_id",
    "record_id",
    "recordId",
    "current_time",
    "workflow",
    "success",
    "step_time",
    "playback",
    "emoji",
    "raiseHand",
    "reactionEmoji",
    "muted",
    "listenOnly",
    "presenter",
    "guest",
    "role",
    "stream",
    "data",
    "id",
    "attributes",
    "event",
    "meetingID",
    "meeting",
    "internal-meeting-id",
    "external-meeting-id",
    "internal-user-id",
    "external-user-id",
    "userdata",
    "userCustomData",
    "durationProps",
    "createdTime",
    "internalMeetingId",
    "recording",
    "screenshare",
    "presentationId",
    "timestamp",
    "format",
    "external_meeting_id",
    "isBreakout",
    "record",
    "voiceConf",
    "duration",
];

/// A JSON value built from BBB's names, of depth at most `depth`.
fn json_value(rng: &mut Rng, depth: usize) -> Value {
    let kind = if depth == 0 {
        rng.below(6)
    } else {
        rng.below(9)
    };
    match kind {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(2)),
        2 => match rng.below(4) {
            0 => json!(rng.next() as i64),
            1 => json!(rng.below(5)),
            2 => json!(f64::from_bits(rng.next())),
            _ => json!(-1),
        },
        3 => Value::from(*rng.pick(NAMES)),
        4 => Value::from(*rng.pick(KEYS)),
        5 => Value::from(rng.string()),
        6 => Value::Array(
            (0..rng.below(4))
                .map(|_| json_value(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let mut m = Map::new();
            for _ in 0..rng.below(6) {
                m.insert((*rng.pick(KEYS)).to_owned(), json_value(rng, depth - 1));
            }
            Value::Object(m)
        }
    }
}

/// Real messages as BBB publishes them, one per kind, to mutate.
fn corpus() -> Vec<Value> {
    let meeting = "int-f";
    let mut v: Vec<Value> = include_str!("fixtures/meeting-part1.jsonl")
        .lines()
        .chain(include_str!("fixtures/meeting-part2.jsonl").lines())
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("fixture is JSON"))
        .collect();
    for name in NAMES {
        v.push(json!({
            "envelope": {"name": name, "routing": {"meetingId": meeting, "userId": "w_1"}, "timestamp": 1},
            "core": {"header": {"name": name, "meetingId": meeting, "userId": "w_1"}, "body": {
                "intId": "w_1", "extId": "e_1", "name": "N", "role": "MODERATOR", "guest": false,
                "presenter": true, "userId": "w_2", "meetingId": meeting, "recordId": meeting,
                "emoji": "raiseHand", "raiseHand": true, "muted": true, "listenOnly": false,
                "stream": "s", "reactionEmoji": "👍", "chatId": "MAIN-PUBLIC-GROUP-CHAT",
                "msg": {"sender": {"id": "w_1", "name": "N"}, "message": "hi"},
                "poll": {"id": "p", "questions": [{"answers": [{"id": 0, "key": "A"}]}]},
                "pollId": "p", "answerIds": [0], "recording": true,
                "props": {"meetingProp": {"intId": meeting, "extId": "ext-f", "name": "M"},
                          "breakoutProps": {"parentId": "bbb-none"}}
            }}
        }));
        v.push(json!({
            "header": {"name": name, "current_time": 1, "timestamp": 1},
            "payload": {"meeting_id": meeting, "record_id": meeting, "external_meeting_id": "ext-f",
                        "success": true, "step_time": 1, "workflow": "presentation",
                        "metadata": {"k": "v"}, "playback": {"format": "presentation"}}
        }));
    }
    for id in EVENT_IDS {
        v.push(json!({"data": {"type": "event", "id": id, "attributes": {
            "meeting": {"internal-meeting-id": meeting, "external-meeting-id": "ext-f"},
            "user": {"internal-user-id": "w_1", "external-user-id": "e_1", "raise-hand": true}},
            "event": {"ts": 1}}}));
    }
    v.push(json!({"data": "d", "meetingID": meeting, "event": "TestEvent"}));
    v
}

/// Changes one place of `v`: a value replaced, a key removed or added, a
/// name swapped for another message's.
fn mutate(rng: &mut Rng, v: &mut Value) {
    let mut here = v;
    loop {
        let go_deeper = rng.below(4) != 0;
        let next_key = match &*here {
            Value::Object(m) if go_deeper && !m.is_empty() => {
                let keys: Vec<String> = m.keys().cloned().collect();
                Some(Ok(rng.pick(&keys).clone()))
            }
            Value::Array(a) if go_deeper && !a.is_empty() => Some(Err(rng.below(a.len()))),
            _ => None,
        };
        match next_key {
            Some(Ok(k)) => here = here.get_mut(&k).expect("key exists"),
            Some(Err(i)) => here = here.get_mut(i).expect("index exists"),
            None => break,
        }
    }
    match rng.below(5) {
        0 => *here = json_value(rng, 3),
        1 => {
            if let Value::Object(m) = here {
                if let Some(k) = m.keys().next().cloned() {
                    m.remove(&k);
                }
            }
        }
        2 => {
            if let Value::Object(m) = here {
                m.insert((*rng.pick(KEYS)).to_owned(), json_value(rng, 2));
            }
        }
        3 => *here = Value::from(*rng.pick(NAMES)),
        _ => *here = Value::from(*rng.pick(EVENT_IDS)),
    }
}

fn check_output(msg: &Value, out: &mapping::Output) {
    for e in &out.events {
        assert!(e.json.is_object(), "not an object from {msg}");
        let data_id = e.json.pointer("/data/id").and_then(Value::as_str);
        let draft = e.json.get("event").and_then(Value::as_str);
        assert!(
            data_id == Some(e.id.as_str()) || (data_id.is_none() && draft == Some(e.id.as_str())),
            "event {} without its id as data.id: {} from {msg}",
            e.id,
            e.json
        );
        // What delivery does with it.
        let text = e.json.to_string();
        assert!(serde_json::from_str::<Value>(&text).is_ok());
    }
}

fn mapping_case(rng: &mut Rng, corpus: &[Value]) {
    let mut state = State::default();
    let mut now = 1_700_000_000_000u64;
    for _ in 0..1 + rng.below(12) {
        let msg = match rng.below(4) {
            0 => json_value(rng, 6),
            _ => {
                let mut m = rng.pick(corpus).clone();
                for _ in 0..rng.below(4) {
                    mutate(rng, &mut m);
                }
                m
            }
        };
        now += rng.below(100_000) as u64;
        let out = mapping::map(&msg, &state, now);
        check_output(&msg, &out);
        for c in &out.changes {
            state.apply(c);
        }
        if rng.chance(10) {
            for c in state.expired(now, rng.below(200_000) as u64) {
                state.apply(&c);
            }
        }
    }
}

#[test]
fn event_mapping() {
    let corpus = corpus();
    run("mapping", Budget::quick(1500), |rng| {
        mapping_case(rng, &corpus)
    });
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_event_mapping() {
    let corpus = corpus();
    run("mapping", Budget::long(), |rng| mapping_case(rng, &corpus));
}

// --------------------------------------------------------------- config

const VALUES: &[&str] = &[
    "",
    " ",
    "0",
    "1",
    "-1",
    "20",
    "21",
    "1024",
    "1025",
    "18446744073709551616",
    "true",
    "FALSE",
    "yes",
    "off",
    "sha1",
    "SHA256",
    "md5",
    "sha1,sha512",
    ",",
    "checksum",
    "bearer",
    "redis://127.0.0.1:1",
    "unix:///tmp/r.sock",
    "http://x",
    "127.0.0.1:0",
    "[::1]:0",
    "localhost:80",
    "/bigbluebutton/api",
    "/",
    "//",
    "/a?b",
    "no-slash",
    "raw:http://a/b",
    "http://a/b, raw:https://c/d",
    "raw:",
    "raw:ftp://x",
    "100,500",
    "1,,2",
    "a,b",
    "debug",
    "trace",
    "loud",
    "\"quoted\"",
    "'single'",
    "\"",
    "x=y",
    "é",
];

fn config_key(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => format!("BBB_WEBHOOKS_{}", rng.string()),
        1 => rng.string(),
        2 => format!(" {} ", rng.pick(config::KEYS).0),
        _ => rng.pick(config::KEYS).0.to_owned(),
    }
}

fn config_value(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => rng.string(),
        1 => format!("{}{}", rng.pick(VALUES), rng.pick(VALUES)),
        _ => (*rng.pick(VALUES)).to_owned(),
    }
}

fn config_case(rng: &mut Rng, dir: &Path) {
    let file = dir.join("fuzz.conf");
    let props = dir.join("fuzz.properties");
    let mut env: HashMap<String, String> = HashMap::new();
    if !rng.chance(4) {
        env.insert("BBB_WEBHOOKS_SHARED_SECRET".into(), rng.string());
    }
    if !rng.chance(4) {
        env.insert("BBB_WEBHOOKS_SERVER_DOMAIN".into(), rng.string());
    }
    for _ in 0..rng.below(6) {
        env.insert(config_key(rng), config_value(rng));
    }
    // Only files of this case are read, never the machine's.
    env.insert(
        "BBB_WEBHOOKS_BBB_PROPERTIES".into(),
        match rng.below(3) {
            0 => String::new(),
            1 => format!("{},{}", dir.join("missing").display(), props.display()),
            _ => props.display().to_string(),
        },
    );
    let mut text: Vec<u8> = Vec::new();
    for _ in 0..rng.below(6) {
        match rng.below(6) {
            0 => text.extend(rng.bytes()),
            1 => text.extend(format!("# {}", rng.string()).bytes()),
            2 => text.extend(rng.string().bytes()),
            _ => text.extend(format!("{}={}", config_key(rng), config_value(rng)).bytes()),
        }
        text.extend(rng.pick(&["\n", "\r\n", "\n\n", ""]).bytes());
    }
    let mut props_text = String::new();
    for _ in 0..rng.below(5) {
        let line = match rng.below(5) {
            0 => format!(
                "securitySalt{}{}",
                rng.pick(&["=", ":", " ", "\\=", "\t"]),
                rng.string()
            ),
            1 => format!(
                "bigbluebutton.web.serverURL={}",
                rng.string_from(&["https://", "http://", "[::1]", ":", "@", "/"])
            ),
            2 => format!("{}\\", rng.string()),
            _ => rng.string(),
        };
        props_text.push_str(&line);
        props_text.push('\n');
    }
    std::fs::write(&file, &text).expect("write config");
    std::fs::write(&props, &props_text).expect("write properties");

    // A key set to an empty value, in the environment or the file, loads as
    // if it were not set at all.
    if rng.chance(3) {
        let key = rng.pick(config::KEYS).0;
        if key != "BBB_WEBHOOKS_BBB_PROPERTIES" {
            env.remove(key);
            let unset = describe(Config::load(&env, Some(&file)));
            env.insert(key.to_owned(), (*rng.pick(&["", " ", "\t"])).to_owned());
            assert_eq!(
                describe(Config::load(&env, Some(&file))),
                unset,
                "{key} empty"
            );
            env.remove(key);
            let mut with_empty = text.clone();
            with_empty.extend(format!("\n{key}=\n").bytes());
            std::fs::write(&file, &with_empty).expect("write config");
            let empty = describe(Config::load(&env, Some(&file)));
            std::fs::write(&file, &text).expect("write config");
            assert_eq!(empty, unset, "{key} empty in the file");
        }
    }
    match Config::load(&env, Some(&file)) {
        Ok(c) => {
            assert!(!c.retry_intervals.is_empty());
            assert!((1..=1024).contains(&c.delivery_workers));
            assert!((1..=1000).contains(&c.multi_event));
            assert!(c.max_queue >= 1 && c.max_hooks >= 1 && c.max_redirects <= 20);
            assert!(!c.channels.is_empty() && !c.api_algorithms.is_empty());
            assert!(!c.api_path.ends_with('/'));
            assert!(c
                .permanent_hooks
                .iter()
                .all(|h| hooks::valid_callback_url(&h.url)));
        }
        Err(e) => {
            let e = e.to_string();
            let named = e.contains("BBB_WEBHOOKS_")
                || e.contains(&file.display().to_string())
                || e.contains(&props.display().to_string());
            assert!(named, "the error names no key or file: {e}");
        }
    }
}

/// A load's result as text, to compare two loads.
fn describe(r: bbb_webhooks::error::Result<Config>) -> String {
    match r {
        Ok(c) => format!("{c:?}"),
        Err(e) => e.to_string(),
    }
}

fn config_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bbbwh-fuzz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn config_parsing() {
    let dir = config_dir("quick");
    run("config", Budget::quick(1000), |rng| config_case(rng, &dir));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_config_parsing() {
    let dir = config_dir("long");
    run("config", Budget::long(), |rng| config_case(rng, &dir));
    std::fs::remove_dir_all(&dir).ok();
}

// ---------------------------------------------------------------- hooks

fn hooks_case(rng: &mut Rng) {
    let url = rng.string_from(&[
        "http://", "https://", "HTTPS://", "HtTp://", "/", ":", "?", "#", "é",
    ]);
    if hooks::valid_callback_url(&url) {
        let lower = url.to_ascii_lowercase();
        assert!(
            lower.starts_with("http://") || lower.starts_with("https://"),
            "{url:?}"
        );
        assert!(
            !url.chars().any(|c| c.is_whitespace() || c.is_control()),
            "{url:?}"
        );
    }
    let ids = rng.string_from(&[",", " ", "user-joined", "TestEvent", ", ,"]);
    if let Some(ids) = hooks::parse_event_ids(&ids) {
        assert!(!ids.is_empty());
        assert!(ids
            .iter()
            .all(|i| !i.is_empty() && !i.contains(',') && *i == i.to_lowercase()));
    }
}

#[test]
fn hook_fields() {
    run("hooks", Budget::quick(3000), hooks_case);
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_hook_fields() {
    run("hooks", Budget::long(), hooks_case);
}

// ------------------------------------------------------- callback body

fn callback_body_case(rng: &mut Rng) {
    // Whatever the events and the domain hold, the body decodes back to the
    // domain, the JSON array of the events in order, and the timestamp.
    let events: Vec<String> = (0..1 + rng.below(4))
        .map(|_| {
            rng.string_from(&[
                "{", "}", "\"", ",", "[", "]", "%2C", "&", "=", "+", " ", "é",
            ])
        })
        .collect();
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    let domain = rng.string_from(&["&", "=", "+", " ", "%", "."]);
    let ts = rng.next();
    let body = bbb_webhooks::callback::body(&refs, &domain, ts);
    assert!(body.is_ascii(), "{body:?}");
    let fields: Vec<(String, String)> = body
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("key=value");
            (query::decode(k), query::decode(v))
        })
        .collect();
    let want = vec![
        ("domain".to_owned(), domain.clone()),
        ("event".to_owned(), format!("[{}]", events.join(","))),
        ("timestamp".to_owned(), ts.to_string()),
    ];
    assert_eq!(fields, want);
}

#[test]
fn callback_body() {
    run("callback body", Budget::quick(3000), callback_body_case);
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_callback_body() {
    run("callback body", Budget::long(), callback_body_case);
}

// ------------------------------------------------------- stored records

const HOOKS_SET: &str = "bigbluebutton:webhooks:out:hooks";
const MAPPINGS: &str = "bigbluebutton:webhooks:proc:mappings";
const USER_MAPS: &str = "bigbluebutton:webhooks:proc:userMaps";

/// How a generated record is broken, if it is.
enum Record {
    Fields(Vec<(String, Vec<u8>)>),
    /// The key holds a list, not a hash.
    WrongType,
    /// A set member without a hash.
    Missing,
}

/// Writes record `id` of `set` under `key`.
fn write_record(c: &mut redis::Connection, set: &str, id: &[u8], key: &[u8], r: &Record) {
    let mut pipe = redis::pipe();
    pipe.cmd("SADD").arg(set).arg(id).ignore();
    match r {
        Record::Fields(f) if !f.is_empty() => {
            pipe.cmd("HSET").arg(key);
            for (k, v) in f {
                pipe.arg(k).arg(v);
            }
            pipe.ignore();
        }
        Record::Fields(_) | Record::Missing => {}
        Record::WrongType => {
            pipe.cmd("RPUSH").arg(key).arg("x").ignore();
        }
    }
    pipe.exec(c).expect("write record");
}

fn some_bytes(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(2) {
        rng.string().into_bytes()
    } else {
        rng.bytes()
    }
}

fn not_utf8(rng: &mut Rng) -> Vec<u8> {
    let mut b = rng.string().into_bytes();
    let at = rng.below(b.len() + 1);
    b.insert(at, *rng.pick(&[0xff_u8, 0xfe, 0x80, 0xc3]));
    b
}

/// Breaks one field: removes one of `required`, or gives one of `checked`
/// bytes that are not UTF-8 or one of its bad values.
fn break_fields(
    rng: &mut Rng,
    fields: &mut Vec<(String, Vec<u8>)>,
    required: &[&str],
    checked: &[(&str, &[&[u8]])],
) {
    if rng.chance(3) {
        let name = *rng.pick(required);
        fields.retain(|(k, _)| k != name);
        return;
    }
    let (name, bad_values) = *rng.pick(checked);
    let bad = if bad_values.is_empty() || rng.chance(2) {
        not_utf8(rng)
    } else {
        rng.pick(bad_values).to_vec()
    };
    fields.retain(|(k, _)| k != name);
    fields.push((name.to_owned(), bad));
}

fn stored_case(rng: &mut Rng, c: &mut redis::Connection) {
    redis::cmd("FLUSHALL").exec(c).expect("flushall");
    let mut good_hooks = Vec::new();
    let mut bad_hooks = 0;
    for i in 0..rng.below(6) {
        let id = format!("h{i}-{}", rng.string());
        let url = format!(
            "{}h{i}.example/{}",
            rng.pick(&["http://", "https://", "HTTP://"]),
            rng.string()
                .replace(|c: char| c.is_whitespace() || c.is_control(), "")
        );
        let mut fields = vec![
            ("id".to_owned(), id.clone().into_bytes()),
            ("callbackURL".to_owned(), url.clone().into_bytes()),
        ];
        for name in ["externalMeetingID", "eventID", "permanent", "getRaw"] {
            if rng.chance(2) {
                fields.push((name.to_owned(), rng.string().into_bytes()));
            }
        }
        let record = match rng.below(4) {
            0 => {
                bad_hooks += 1;
                match rng.below(4) {
                    0 => Record::WrongType,
                    1 => Record::Missing,
                    _ => {
                        break_fields(
                            rng,
                            &mut fields,
                            &["id", "callbackURL"],
                            &[
                                ("id", &[b""]),
                                (
                                    "callbackURL",
                                    &[b"", b"ftp://x/", b"http://", b"http:// x/", b"//x"],
                                ),
                            ],
                        );
                        Record::Fields(fields)
                    }
                }
            }
            _ => {
                good_hooks.push((id.clone(), url));
                Record::Fields(fields)
            }
        };
        let key = format!("bigbluebutton:webhooks:out:hook:{id}");
        write_record(c, HOOKS_SET, id.as_bytes(), key.as_bytes(), &record);
    }
    if rng.chance(5) {
        bad_hooks += 1;
        let id = not_utf8(rng);
        let mut key = b"bigbluebutton:webhooks:out:hook:".to_vec();
        key.extend(&id);
        write_record(c, HOOKS_SET, &id, &key, &Record::Missing);
    }

    let mut good_meetings = Vec::new();
    let mut bad_records = 0;
    for i in 0..rng.below(6) {
        let id = format!("m{i}-{}", rng.string());
        let internal = format!("int-{i}-{}", rng.string());
        let external = rng.string();
        let mut fields = vec![
            ("id".to_owned(), some_bytes(rng)),
            (
                "internalMeetingID".to_owned(),
                internal.clone().into_bytes(),
            ),
            (
                "externalMeetingID".to_owned(),
                external.clone().into_bytes(),
            ),
        ];
        match rng.below(3) {
            0 => {}
            1 => fields.push(("lastActivity".into(), rng.next().to_string().into_bytes())),
            _ => fields.push(("lastActivity".into(), b"1.7e12".to_vec())),
        }
        fields.push(("extra".into(), some_bytes(rng)));
        let record = if rng.chance(3) {
            bad_records += 1;
            match rng.below(4) {
                0 => Record::WrongType,
                1 => Record::Missing,
                _ => {
                    break_fields(
                        rng,
                        &mut fields,
                        &["internalMeetingID", "externalMeetingID"],
                        &[
                            ("internalMeetingID", &[b""]),
                            ("externalMeetingID", &[]),
                            ("lastActivity", &[b"", b"-1", b"NaN", b"1e400", b"soon"]),
                        ],
                    );
                    Record::Fields(fields)
                }
            }
        } else {
            good_meetings.push((internal, external));
            Record::Fields(fields)
        };
        let key = format!("bigbluebutton:webhooks:proc:mapping:{id}");
        write_record(c, MAPPINGS, id.as_bytes(), key.as_bytes(), &record);
    }
    let mut good_users = Vec::new();
    for i in 0..rng.below(6) {
        let id = format!("u{i}-{}", rng.string());
        let internal = format!("w_{i}-{}", rng.string());
        let meeting = match good_meetings.first() {
            Some((m, _)) if rng.chance(2) => m.clone(),
            _ => format!("int-{}", rng.string()),
        };
        let external = rng.string();
        let user = Value::Object(
            (0..rng.below(4))
                .map(|_| ((*rng.pick(KEYS)).to_owned(), json_value(rng, 2)))
                .collect(),
        );
        let mut fields = vec![
            ("internalUserID".to_owned(), internal.clone().into_bytes()),
            ("externalUserID".to_owned(), external.clone().into_bytes()),
            ("meetingId".to_owned(), meeting.clone().into_bytes()),
            ("user".to_owned(), user.to_string().into_bytes()),
        ];
        let record = if rng.chance(3) {
            bad_records += 1;
            match rng.below(4) {
                0 => Record::WrongType,
                1 => Record::Missing,
                _ => {
                    break_fields(
                        rng,
                        &mut fields,
                        &["internalUserID", "meetingId", "user"],
                        &[
                            ("internalUserID", &[b""]),
                            ("meetingId", &[b""]),
                            ("externalUserID", &[]),
                            ("user", &[b"", b"{", b"[1]", b"\"s\"", b"null"]),
                        ],
                    );
                    Record::Fields(fields)
                }
            }
        } else {
            good_users.push((meeting, internal, external));
            Record::Fields(fields)
        };
        let key = format!("bigbluebutton:webhooks:proc:userMap:{id}");
        write_record(c, USER_MAPS, id.as_bytes(), key.as_bytes(), &record);
    }
    if rng.chance(5) {
        bad_records += 1;
        let set = *rng.pick(&[MAPPINGS, USER_MAPS]);
        write_record(c, set, &not_utf8(rng), b"unused", &Record::Missing);
    }

    let (hooks, skipped) = hooks::store::load(c).expect("hooks load");
    assert_eq!(skipped, bad_hooks, "hooks skipped");
    assert_eq!(hooks.len(), good_hooks.len());
    for (id, url) in &good_hooks {
        let h = hooks
            .iter()
            .find(|h| &h.id == id)
            .expect("good hook loaded");
        assert_eq!(&h.callback_url, url);
    }
    let (state, skipped) = bbb_webhooks::store::mapping::load(c).expect("mappings load");
    assert_eq!(skipped, bad_records, "mapping records skipped");
    for (internal, external) in &good_meetings {
        assert_eq!(state.external_meeting_id(internal), Some(external.as_str()));
    }
    for (meeting, internal, external) in &good_users {
        let u = state.user(meeting, internal).expect("good user loaded");
        assert_eq!(&u.external, external);
    }
}

/// What the ingest thread does with the changes of a message.
fn persist_and_apply(c: &mut redis::Connection, state: &mut State, changes: &[mapping::Change]) {
    bbb_webhooks::store::mapping::persist(c, changes).expect("persist");
    for change in changes {
        state.apply(change);
    }
}

/// The mapping state written by `persist` as messages go by loads back
/// whole: nothing skipped, the same meetings and users.
fn persisted_state_case(rng: &mut Rng, c: &mut redis::Connection, corpus: &[Value]) {
    redis::cmd("FLUSHALL").exec(c).expect("flushall");
    let mut state = State::default();
    let mut now = 1_700_000_000_000u64;
    let mut meetings: Vec<String> = Vec::new();
    for _ in 0..1 + rng.below(12) {
        let mut msg = rng.pick(corpus).clone();
        for _ in 0..rng.below(3) {
            mutate(rng, &mut msg);
        }
        now += rng.below(100_000) as u64;
        let out = mapping::map(&msg, &state, now);
        persist_and_apply(c, &mut state, &out.changes);
        if rng.chance(10) {
            // The periodic sweep, as the ingest thread runs it.
            let expired = state.expired(now, rng.below(200_000) as u64);
            persist_and_apply(c, &mut state, &expired);
        }
        meetings.extend(
            out.events
                .iter()
                .filter_map(|e| e.internal_meeting_id.clone()),
        );
    }
    let (loaded, skipped) = bbb_webhooks::store::mapping::load(c).expect("load");
    assert_eq!(skipped, 0, "a record written could not be read back");
    assert_eq!(loaded.meeting_count(), state.meeting_count());
    assert_eq!(loaded.user_count(), state.user_count());
    let users = |s: &State, m: &str| {
        let mut u: Vec<(String, String)> = s
            .users(m)
            .iter()
            .map(|u| (u.internal.clone(), u.external.clone()))
            .collect();
        u.sort();
        u
    };
    for m in &meetings {
        assert_eq!(loaded.external_meeting_id(m), state.external_meeting_id(m));
        assert_eq!(users(&loaded, m), users(&state, m), "users of {m}");
    }
}

#[test]
fn persisted_state() {
    let redis = support::Redis::start();
    let mut c = redis.conn();
    let corpus = corpus();
    run("persisted", Budget::quick(300), |rng| {
        persisted_state_case(rng, &mut c, &corpus)
    });
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_persisted_state() {
    let redis = support::Redis::start();
    let mut c = redis.conn();
    let corpus = corpus();
    run("persisted", Budget::long(), |rng| {
        persisted_state_case(rng, &mut c, &corpus)
    });
}

#[test]
fn stored_records() {
    let redis = support::Redis::start();
    let mut c = redis.conn();
    run("stored", Budget::quick(400), |rng| stored_case(rng, &mut c));
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_stored_records() {
    let redis = support::Redis::start();
    let mut c = redis.conn();
    run("stored", Budget::long(), |rng| stored_case(rng, &mut c));
}

// ---------------------------------------------------------- regressions

/// Found by `config_parsing`: a key set to an empty value (`KEY=` in a
/// systemd environment file) stopped startup with "has the value \"\"" where
/// the README promises that an empty value means unset.
#[test]
fn regressions_empty_value_means_unset() {
    let dir = config_dir("regression");
    let file = dir.join("empty.conf");
    let env: HashMap<String, String> = [
        ("BBB_WEBHOOKS_SHARED_SECRET", "s"),
        ("BBB_WEBHOOKS_SERVER_DOMAIN", "d"),
        ("BBB_WEBHOOKS_BBB_PROPERTIES", ""),
        ("BBB_WEBHOOKS_RETRY_INTERVALS_MS", ""),
        ("BBB_WEBHOOKS_DELIVERY_WORKERS", " "),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    std::fs::write(
        &file,
        "BBB_WEBHOOKS_DELIVERY_WORKERS=3\nBBB_WEBHOOKS_CHANNELS=\nBBB_WEBHOOKS_MAX_QUEUE=\"\"\n",
    )
    .expect("write config");
    let c = Config::load(&env, Some(&file)).expect("empty values load as unset");
    assert_eq!(c.retry_intervals.len(), 12);
    assert_eq!(
        c.delivery_workers, 3,
        "the file's value, as the env's is empty"
    );
    assert_eq!(c.channels.len(), 8);
    assert_eq!(c.max_queue, 10_000);
    std::fs::remove_dir_all(&dir).ok();
}

/// Found by `long_config_parsing` (seed 105145): an algorithm list with no
/// algorithm in it (`,`) loaded, and then the API refused every checksum.
#[test]
fn regressions_no_api_algorithm_is_refused() {
    let dir = config_dir("regression-alg");
    let file = dir.join("alg.conf");
    std::fs::write(&file, "BBB_WEBHOOKS_API_CHECKSUM_ALGORITHMS=,\n").expect("write config");
    let env: HashMap<String, String> = [
        ("BBB_WEBHOOKS_SHARED_SECRET", "s"),
        ("BBB_WEBHOOKS_SERVER_DOMAIN", "d"),
        ("BBB_WEBHOOKS_BBB_PROPERTIES", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let e = Config::load(&env, Some(&file))
        .expect_err("no algorithm")
        .to_string();
    assert!(e.contains("BBB_WEBHOOKS_API_CHECKSUM_ALGORITHMS"), "{e}");
    assert!(e.contains("alg.conf, line 1"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Found by `long_persisted_state` (seed 777047815): a `meeting-created` with
/// an empty internal meeting ID was remembered under "" and written to
/// Redis, where loading skips it as corrupt; a `user-joined` with an empty
/// meeting or user ID likewise. The events are still delivered.
#[test]
fn regressions_empty_internal_ids_change_no_state() {
    let event = |id: &str, meeting: &str, user: &str| {
        json!({"data": {"type": "event", "id": id, "attributes": {
            "meeting": {"internal-meeting-id": meeting, "external-meeting-id": "ext-f"},
            "user": {"internal-user-id": user, "external-user-id": "e_1"}},
            "event": {"ts": 1}}})
    };
    let mut state = State::default();
    for msg in [
        event("meeting-created", "", "w_1"),
        event("user-joined", "", "w_1"),
        event("user-joined", "int-f", ""),
    ] {
        let out = mapping::map(&msg, &state, 1);
        assert!(out.changes.is_empty(), "{msg}: {:?}", out.changes);
        assert_eq!(out.events.len(), 1);
        for c in &out.changes {
            state.apply(c);
        }
    }
    assert_eq!(state.external_meeting_id(""), None);
    let out = mapping::map(&event("meeting-created", "int-f", "w_1"), &state, 1);
    assert_eq!(
        out.changes.len(),
        1,
        "a meeting with an ID is still remembered"
    );
}
