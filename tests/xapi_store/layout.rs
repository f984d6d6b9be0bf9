//! What is written: the reference's fields (plus this service's), and what
//! is skipped when reading back.

use serde_json::json;

use super::*;

#[test]
fn records_are_written_in_the_reference_format() {
    let redis = Redis::start();
    let mut conn = redis.conn();
    let mut state = State::default();
    ingest(
        &mut conn,
        &mut state,
        &created(json!({"xapi-create-end-actor-name": "Teacher"})),
        NOW,
    );
    ingest(&mut conn, &mut state, &joined("w_1", json!("Ann")), NOW);
    ingest(&mut conn, &mut state, &poll_started(), NOW);
    let ns = settings().namespace;
    let text = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>()
    };
    let registration = ns.uuid("ext-1_20231031");
    assert_eq!(
        hash(&mut conn, "bigbluebutton:webhooks:xapi:meeting:int-1"),
        text(&[
            ("id", "int-1"),
            ("internal_meeting_id", "int-1"),
            ("context_registration", &registration),
            ("planned_duration", "90"),
            ("create_time", "1698771157700"),
            ("meeting_name", "Room"),
            ("xapi_enabled", "true"),
            ("create_end_actor_name", "Teacher"),
            (
                "json",
                r#"{"planned_duration":90,"meeting_name":"Room","create_end_actor_name":"Teacher"}"#
            ),
            ("last_activity", "1700000000000")
        ])
    );
    assert_eq!(
        hash(&mut conn, "bigbluebutton:webhooks:xapi:user:int-1:w_1"),
        text(&[
            ("id", "int-1:w_1"),
            ("external_user_id", "w_1"),
            ("name", "Ann"),
            ("internal_meeting_id", "int-1"),
            ("json", r#"{"name":"Ann"}"#)
        ])
    );
    let poll = ns.uuid("poll-1");
    let record = format!("int-1:{poll}");
    let choices = r#"["{\"id\":\"0\",\"description\":\"{\\\"en\\\":\\\"A\\\"}\"}","{\"id\":\"1\",\"description\":\"{\\\"en\\\":\\\"B\\\"}\"}"]"#;
    assert_eq!(
        hash(
            &mut conn,
            &format!("bigbluebutton:webhooks:xapi:poll:{record}")
        ),
        text(&[
            ("id", &record),
            ("object_id", &poll),
            ("question", "ABCD Poll Test"),
            ("choices", choices),
            ("internal_meeting_id", "int-1"),
            (
                "json",
                &json!({"question": "ABCD Poll Test", "choices": [
                {"id": "0", "description": {"en": "A"}}, {"id": "1", "description": {"en": "B"}}]})
                .to_string()
            )
        ])
    );
    for (set, member) in [
        ("meetings", "int-1".to_owned()),
        ("users", "int-1:w_1".to_owned()),
        ("polls", record),
    ] {
        let members: Vec<String> = redis::cmd("SMEMBERS")
            .arg(format!("bigbluebutton:webhooks:xapi:{set}"))
            .query(&mut conn)
            .expect("SMEMBERS");
        assert_eq!(members, vec![member]);
    }
    // Activity and end are fields of the meeting's hash.
    ingest(
        &mut conn,
        &mut state,
        &mapped("meeting-ended", json!({"meeting": mtg()}), 9),
        NOW + 5,
    );
    assert_eq!(
        hash(&mut conn, "bigbluebutton:webhooks:xapi:meeting:int-1")
            .get("ended_at")
            .map(String::as_str),
        Some("1700000000005")
    );
    let (loaded, _) = load_at(&mut conn, &settings(), NOW + 6).expect("load");
    assert_eq!(loaded.ended_at("int-1"), Some(NOW + 5));
    ingest(&mut conn, &mut state, &created(json!({})), NOW + 7);
    assert_eq!(
        hash(&mut conn, "bigbluebutton:webhooks:xapi:meeting:int-1").get("ended_at"),
        None,
        "created again"
    );
}

#[test]
fn corrupt_records_are_skipped_and_the_rest_load() {
    let redis = Redis::start();
    let mut conn = redis.conn();
    let key = |id: &str| format!("bigbluebutton:webhooks:xapi:meeting:{id}");
    for id in ["good", "no-hash", "a-string", "bad-time"] {
        sadd(&mut conn, "bigbluebutton:webhooks:xapi:meetings", id);
    }
    let fields = [
        ("internal_meeting_id", "int-g"),
        ("context_registration", "r"),
        ("create_time", "1"),
    ];
    hset(&mut conn, &key("good"), &fields);
    hset(
        &mut conn,
        &key("bad-time"),
        &[fields[0], fields[1], ("create_time", "soon")],
    );
    redis::cmd("SET")
        .arg(key("a-string"))
        .arg("x")
        .exec(&mut conn)
        .expect("SET");
    let not_utf8 = b"\xff\xfe".as_slice();
    redis::cmd("SADD")
        .arg("bigbluebutton:webhooks:xapi:users")
        .arg(not_utf8)
        .exec(&mut conn)
        .expect("SADD");
    sadd(&mut conn, "bigbluebutton:webhooks:xapi:polls", "p");
    hset(
        &mut conn,
        "bigbluebutton:webhooks:xapi:poll:p",
        &[("object_id", "o"), ("choices", "not json")],
    );
    let (state, skipped) = load_at(&mut conn, &settings(), NOW).expect("load");
    assert_eq!(skipped, 5);
    assert_eq!(state.counts(), (1, 0, 0));
    let good = state.meeting("int-g").expect("loaded");
    assert_eq!(
        (good.enabled, &good.actor_name),
        (false, &json!("<unknown>")),
        "no xapi_enabled: not \"true\""
    );
}
