//! The event mapping: any message, real ones mutated or JSON made of BBB's
//! names, maps without a panic to events that carry their id and serialise,
//! and the mapping state it changes stays consistent. Also the corpus and
//! the mutations that `stored.rs` writes to Redis.

use bbb_webhooks::mapping::{self, State};
use serde_json::{json, Map, Value};

use crate::{run, Budget, Rng};

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

pub(crate) const KEYS: &[&str] = &[
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
pub(crate) fn json_value(rng: &mut Rng, depth: usize) -> Value {
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
pub(crate) fn corpus() -> Vec<Value> {
    let meeting = "int-f";
    let mut v: Vec<Value> = include_str!("../fixtures/meeting-part1.jsonl")
        .lines()
        .chain(include_str!("../fixtures/meeting-part2.jsonl").lines())
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
pub(crate) fn mutate(rng: &mut Rng, v: &mut Value) {
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

/// Any message maps to events that carry their id as `data.id` (or the
/// draft's `event`) and serialise to JSON.
#[test]
fn any_message_maps_to_events_that_carry_their_id() {
    let corpus = corpus();
    run("mapping", Budget::quick(1500), |rng| {
        mapping_case(rng, &corpus)
    });
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_any_message_maps_to_events_that_carry_their_id() {
    let corpus = corpus();
    run("mapping", Budget::long(), |rng| mapping_case(rng, &corpus));
}

/// Found by the long run of the persisted state in `stored.rs` (then
/// `long_persisted_state`, seed 777047815): a `meeting-created` with an
/// empty internal meeting ID was remembered under "" and written to Redis,
/// where loading skips it as corrupt; a `user-joined` with an empty meeting
/// or user ID likewise. The events are still delivered.
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
