//! The mapping state in Redis (`bbb_webhooks::store::mapping`) against a
//! real, private `redis-server` per test: what is written, in the
//! reference's layout, and what loads back.

mod support;

use serde_json::{json, Value};

use bbb_webhooks::mapping::{map, State};
use bbb_webhooks::store::mapping::{load, persist};
use support::{dbsize, hset, sadd, Redis};

const NOW: u64 = 1_700_000_000_000;

fn akka(name: &str, meeting: &str, user: &str, body: Value) -> Value {
    json!({"envelope": {"name": name, "routing": {"meetingId": meeting, "userId": user}},
           "core": {"header": {"name": name, "meetingId": meeting, "userId": user}, "body": body}})
}

fn created(int: &str, ext: &str) -> Value {
    json!({"envelope": {"name": "MeetingCreatedEvtMsg", "routing": {"sender": "bbb-apps-akka"}},
           "core": {"header": {"name": "MeetingCreatedEvtMsg"},
                    "body": {"props": {"meetingProp": {"intId": int, "extId": ext, "name": "Room"}}}}})
}

fn ended(int: &str) -> Value {
    json!({"envelope": {"name": "MeetingDestroyedEvtMsg", "routing": {"sender": "bbb-apps-akka"}},
           "core": {"header": {"name": "MeetingDestroyedEvtMsg"}, "body": {"meetingId": int}}})
}

/// Maps, persists, applies: what the ingest thread does.
fn ingest(conn: &mut redis::Connection, state: &mut State, msg: &Value, now: u64) -> Vec<Value> {
    let out = map(msg, state, now);
    persist(conn, &out.changes).expect("persist");
    for c in &out.changes {
        state.apply(c);
    }
    out.events.into_iter().map(|e| e.json).collect()
}

#[test]
fn state_survives_a_restart_and_meeting_end_cleans_up() {
    let redis = Redis::start();
    let mut conn = redis.conn();
    let mut state = State::default();
    ingest(&mut conn, &mut state, &created("int-1", "ext-1"), NOW);
    let join = akka(
        "UserJoinedMeetingEvtMsg",
        "int-1",
        "w_1",
        json!({"extId": "e1", "name": "Zoë", "role": "MODERATOR", "guest": "true", "presenter": false,
               "userdata": {"bbb_a": "1"}}),
    );
    ingest(&mut conn, &mut state, &join, NOW);
    let assign = akka("PresenterAssignedEvtMsg", "int-1", "w_1", json!({}));
    ingest(&mut conn, &mut state, &assign, NOW);

    let (loaded, skipped) = load(&mut conn).expect("load");
    assert_eq!(skipped, 0);
    assert_eq!(loaded.external_meeting_id("int-1"), Some("ext-1"));
    assert_eq!(loaded.user("int-1", "w_1"), state.user("int-1", "w_1"));
    assert_eq!(loaded.last_activity("int-1"), Some(NOW));

    // After the restart, the screen share is credited to the presenter.
    let mut state = loaded;
    let share = akka(
        "ScreenshareRtmpBroadcastStartedEvtMsg",
        "int-1",
        "not-used",
        json!({}),
    );
    let events = ingest(&mut conn, &mut state, &share, NOW + 61_000);
    assert_eq!(
        events[0].pointer("/data/attributes/user"),
        Some(&json!({"internal-user-id": "w_1", "external-user-id": "e1"}))
    );
    let (reloaded, _) = load(&mut conn).expect("load");
    assert_eq!(reloaded.last_activity("int-1"), Some(NOW + 61_000));

    let events = ingest(&mut conn, &mut state, &ended("int-1"), NOW + 62_000);
    assert_eq!(events.len(), 2);
    assert_eq!(dbsize(&mut conn), 0, "meeting end removes every record");
}

#[test]
fn records_are_written_in_the_reference_format() {
    let redis = Redis::start();
    let mut conn = redis.conn();
    let mut state = State::default();
    ingest(&mut conn, &mut state, &created("int-1", "ext-1"), NOW);
    let join = akka(
        "UserJoinedMeetingEvtMsg",
        "int-1",
        "w_1",
        json!({"extId": "e1", "name": "Ann", "role": "VIEWER", "guest": false, "presenter": false,
               "userdata": {"bbb_a": "1"}, "ipAddress": null}),
    );
    ingest(&mut conn, &mut state, &join, NOW);

    let members: Vec<String> = redis::cmd("SMEMBERS")
        .arg("bigbluebutton:webhooks:proc:mappings")
        .query(&mut conn)
        .expect("SMEMBERS");
    assert_eq!(members, vec!["int-1".to_owned()]);
    let meeting: std::collections::BTreeMap<String, String> = redis::cmd("HGETALL")
        .arg("bigbluebutton:webhooks:proc:mapping:int-1")
        .query(&mut conn)
        .expect("HGETALL");
    let want: std::collections::BTreeMap<String, String> = [
        ("id", "int-1"),
        ("internalMeetingID", "int-1"),
        ("externalMeetingID", "ext-1"),
        ("lastActivity", "1700000000000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(meeting, want);

    let users: Vec<String> = redis::cmd("SMEMBERS")
        .arg("bigbluebutton:webhooks:proc:userMaps")
        .query(&mut conn)
        .expect("SMEMBERS");
    assert_eq!(users, vec!["int-1:w_1".to_owned()]);
    let user: std::collections::BTreeMap<String, String> = redis::cmd("HGETALL")
        .arg("bigbluebutton:webhooks:proc:userMap:int-1:w_1")
        .query(&mut conn)
        .expect("HGETALL");
    let attrs: Value = serde_json::from_str(&user["user"]).expect("user is JSON");
    assert_eq!(
        attrs,
        json!({"internal-user-id": "w_1", "external-user-id": "e1", "name": "Ann", "role": "VIEWER",
               "presenter": "false", "guest": "false", "userdata": "{\"bbb_a\":\"1\"}"})
    );
    assert_eq!(user["id"], "int-1:w_1");
    assert_eq!(user["internalUserID"], "w_1");
    assert_eq!(user["externalUserID"], "e1");
    assert_eq!(user["meetingId"], "int-1");
}

#[test]
fn records_written_by_the_reference_load_and_are_removed() {
    let redis = Redis::start();
    let mut conn = redis.conn();
    let (m, u) = (
        "6f1f0c8e-0d3a-4f6e-9a55-2b0f3f1c9e01",
        "0b6c2c7d-5e7b-4bb0-8d3e-7a9f5e2d1c02",
    );
    sadd(&mut conn, "bigbluebutton:webhooks:proc:mappings", m);
    hset(
        &mut conn,
        &format!("bigbluebutton:webhooks:proc:mapping:{m}"),
        &[
            ("id", m),
            ("internalMeetingID", "int-r"),
            ("externalMeetingID", "ext-r"),
            ("lastActivity", "1700000000000"),
        ],
    );
    sadd(&mut conn, "bigbluebutton:webhooks:proc:userMaps", u);
    let attrs = r#"{"internal-user-id":"w_r","external-user-id":"e_r","name":"Bo","role":"MODERATOR","presenter":"true","guest":"false","userdata":"{\"bbb_x\":\"y\"}","raiseHand":"true"}"#;
    hset(
        &mut conn,
        &format!("bigbluebutton:webhooks:proc:userMap:{u}"),
        &[
            ("id", u),
            ("internalUserID", "w_r"),
            ("externalUserID", "e_r"),
            ("meetingId", "int-r"),
            ("user", attrs),
        ],
    );

    let (mut state, skipped) = load(&mut conn).expect("load");
    assert_eq!(skipped, 0);
    assert_eq!(state.external_meeting_id("int-r"), Some("ext-r"));
    let events = ingest(&mut conn, &mut state, &ended("int-r"), NOW);
    let want_user = json!({"internal-user-id": "w_r", "external-user-id": "e_r", "name": "Bo",
                           "role": "MODERATOR", "presenter": true, "guest": false, "userdata": {"bbb_x": "y"}});
    assert_eq!(events[0].pointer("/data/attributes/user"), Some(&want_user));
    assert_eq!(dbsize(&mut conn), 0, "the reference's records are removed");
}

#[test]
fn corrupt_records_are_skipped_and_the_rest_load() {
    let redis = Redis::start();
    let mut conn = redis.conn();
    let meetings = "bigbluebutton:webhooks:proc:mappings";
    let users = "bigbluebutton:webhooks:proc:userMaps";
    let mkey = |id: &str| format!("bigbluebutton:webhooks:proc:mapping:{id}");
    let ukey = |id: &str| format!("bigbluebutton:webhooks:proc:userMap:{id}");
    for id in ["good", "no-hash", "no-external", "bad-time"] {
        sadd(&mut conn, meetings, id);
    }
    hset(
        &mut conn,
        &mkey("good"),
        &[
            ("internalMeetingID", "int-g"),
            ("externalMeetingID", "ext-g"),
        ],
    );
    hset(
        &mut conn,
        &mkey("no-external"),
        &[("internalMeetingID", "int-x")],
    );
    hset(
        &mut conn,
        &mkey("bad-time"),
        &[
            ("internalMeetingID", "int-t"),
            ("externalMeetingID", "e"),
            ("lastActivity", "soon"),
        ],
    );
    for id in ["u-good", "u-json", "u-meeting"] {
        sadd(&mut conn, users, id);
    }
    hset(
        &mut conn,
        &ukey("u-good"),
        &[
            ("internalUserID", "w_g"),
            ("meetingId", "int-g"),
            ("user", "{}"),
        ],
    );
    hset(
        &mut conn,
        &ukey("u-json"),
        &[
            ("internalUserID", "w_j"),
            ("meetingId", "int-g"),
            ("user", "{not json"),
        ],
    );
    hset(
        &mut conn,
        &ukey("u-meeting"),
        &[("internalUserID", "w_m"), ("user", "{}")],
    );

    let (state, skipped) = load(&mut conn).expect("load");
    assert_eq!(skipped, 5);
    assert_eq!(state.external_meeting_id("int-g"), Some("ext-g"));
    assert_eq!((state.meeting_count(), state.user_count()), (1, 1));
    assert_eq!(
        state.user("int-g", "w_g").map(|u| u.external.as_str()),
        Some("")
    );
}

#[test]
fn expiry_removes_meetings_and_their_users_from_redis() {
    let redis = Redis::start();
    let mut conn = redis.conn();
    let mut state = State::default();
    ingest(&mut conn, &mut state, &created("int-1", "ext-1"), NOW);
    let join = akka("UserJoinedMeetingEvtMsg", "int-1", "w_1", json!({}));
    ingest(&mut conn, &mut state, &join, NOW);
    let orphan = akka("UserJoinedMeetingEvtMsg", "int-2", "w_2", json!({}));
    ingest(&mut conn, &mut state, &orphan, NOW + 5);
    assert_eq!(dbsize(&mut conn), 5, "two sets, three hashes");

    let changes = state.expired(NOW + 1_000, 999);
    assert_eq!(changes.len(), 1);
    persist(&mut conn, &changes).expect("persist");
    for c in &changes {
        state.apply(c);
    }
    assert_eq!((state.meeting_count(), state.user_count()), (0, 1));
    assert_eq!(
        dbsize(&mut conn),
        2,
        "only the other meeting's user is left"
    );
    persist(&mut conn, &[]).expect("nothing to persist is fine");
}
