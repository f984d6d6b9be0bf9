//! Records stored in a private `redis-server`: hook and mapping records,
//! good ones next to corrupt ones (missing, of the wrong type, fields
//! missing or not UTF-8), load with exactly the corrupt ones skipped; and
//! the mapping state written as messages go by loads back whole.

use bbb_webhooks::hooks;
use bbb_webhooks::mapping::{self, State};
use serde_json::Value;

use crate::mapping::{corpus, json_value, mutate, KEYS};
use crate::support::{hook_key, Redis, HOOKS, MAPPING, MAPPINGS, USER_MAP, USER_MAPS};
use crate::{run, Budget, Rng};

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
        let key = hook_key(&id);
        write_record(c, HOOKS, id.as_bytes(), key.as_bytes(), &record);
    }
    if rng.chance(5) {
        bad_hooks += 1;
        let id = not_utf8(rng);
        let mut key = hook_key("").into_bytes();
        key.extend(&id);
        write_record(c, HOOKS, &id, &key, &Record::Missing);
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
        let key = format!("{MAPPING}:{id}");
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
        let key = format!("{USER_MAP}:{id}");
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

/// Good records load, and exactly the corrupt ones are skipped.
#[test]
fn corrupt_records_are_skipped_and_the_good_ones_load() {
    let redis = Redis::start();
    let mut c = redis.conn();
    run("stored", Budget::quick(400), |rng| stored_case(rng, &mut c));
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_corrupt_records_are_skipped_and_the_good_ones_load() {
    let redis = Redis::start();
    let mut c = redis.conn();
    run("stored", Budget::long(), |rng| stored_case(rng, &mut c));
}

#[test]
fn mapping_state_written_as_messages_go_by_loads_back_whole() {
    let redis = Redis::start();
    let mut c = redis.conn();
    let corpus = corpus();
    run("persisted", Budget::quick(300), |rng| {
        persisted_state_case(rng, &mut c, &corpus)
    });
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_mapping_state_written_as_messages_go_by_loads_back_whole() {
    let redis = Redis::start();
    let mut c = redis.conn();
    let corpus = corpus();
    run("persisted", Budget::long(), |rng| {
        persisted_state_case(rng, &mut c, &corpus)
    });
}
