//! Tests of [`super::map`], table-driven: one or more cases per event id,
//! the derived events, state changes and edge cases. Whole JSON values are
//! compared, with a fixed clock.

mod content;
mod derived;
mod rap;
mod robustness;
mod users;

use serde_json::{json, Value};

use super::{map, Output, State};

const NOW: u64 = 1_700_000_000_000;
const MID: &str = "int-1";

/// An akka-apps message as BBB publishes it.
fn akka(name: &str, user: &str, body: Value) -> Value {
    json!({
        "envelope": {
            "name": name,
            "routing": {"msgType": "BROADCAST_TO_MEETING", "meetingId": MID, "userId": user},
            "timestamp": 1
        },
        "core": {"header": {"name": name, "meetingId": MID, "userId": user}, "body": body}
    })
}

/// The expected event around `attributes`.
fn ev(id: &str, attributes: Value) -> Value {
    json!({"data": {"type": "event", "id": id, "attributes": attributes, "event": {"ts": NOW}}})
}

fn meeting() -> Value {
    json!({"internal-meeting-id": MID, "external-meeting-id": "ext-1"})
}

fn created_msg(int: &str, ext: &str, parent: &str) -> Value {
    json!({
        "envelope": {"name": "MeetingCreatedEvtMsg", "routing": {"sender": "bbb-apps-akka"}, "timestamp": 1},
        "core": {"header": {"name": "MeetingCreatedEvtMsg"}, "body": {"props": {
            "meetingProp": {"name": "Room <b>1</b>", "extId": ext, "intId": int, "isBreakout": parent != "bbb-none"},
            "breakoutProps": {"parentId": parent, "sequence": 0},
            "durationProps": {"duration": 0, "createdTime": 1698771157700_u64, "createdDate": "Tue Oct 31 13:52:37 BRT 2023"},
            "password": {"moderatorPass": "mp", "viewerPass": "ap"},
            "recordProp": {"record": false},
            "voiceProp": {"voiceConf": "71347", "dialNumber": "613-555-1234"},
            "usersProp": {"maxUsers": 0},
            "metadataProp": {"metadata": {"bbb-origin": "Greenlight"}}
        }}}
    })
}

fn run(state: &mut State, msg: &Value) -> Output {
    let out = map(msg, state, NOW);
    for c in &out.changes {
        state.apply(c);
    }
    out
}

fn jsons(out: &Output) -> Vec<Value> {
    out.events.iter().map(|e| e.json.clone()).collect()
}

/// Meeting `int-1`/`ext-1` with a presenter moderator and a guest viewer.
fn state() -> State {
    let mut s = State::default();
    run(&mut s, &created_msg(MID, "ext-1", "bbb-none"));
    let join = |id: &str, ext: &str, name: &str, role: &str, guest: bool| {
        akka(
            "UserJoinedMeetingEvtMsg",
            id,
            json!({"intId": id, "extId": ext, "name": name, "role": role, "guest": guest, "presenter": false}),
        )
    };
    run(
        &mut s,
        &join("w_mod", "ext-mod", "John", "MODERATOR", false),
    );
    run(&mut s, &join("w_view", "ext-view", "Mary", "VIEWER", true));
    run(
        &mut s,
        &akka(
            "PresenterAssignedEvtMsg",
            "w_mod",
            json!({"presenterId": "w_mod"}),
        ),
    );
    s
}

fn user(id: &str, ext: &str, extra: Value) -> Value {
    let mut u = json!({"internal-user-id": id, "external-user-id": ext});
    if let (Some(u), Some(extra)) = (u.as_object_mut(), extra.as_object()) {
        u.extend(extra.clone());
    }
    u
}

/// Maps each case's message on a fresh [`state`] and compares the events.
fn check(cases: Vec<(&str, Value, Vec<Value>)>) {
    for (label, msg, want) in cases {
        let out = map(&msg, &state(), NOW);
        assert_eq!(jsons(&out), want, "{label}");
        for e in &out.events {
            let id = e.json.pointer("/data/id").and_then(Value::as_str);
            assert_eq!(Some(e.id.as_str()), id, "{label}");
        }
    }
}
