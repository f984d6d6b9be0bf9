//! A restart keeps the state: records of this service and of the reference
//! load back and produce the same statements, and expire.

use serde_json::{json, Value};

use super::*;

#[test]
fn a_restart_mid_meeting_keeps_names_polls_and_the_destination() {
    let redis = Redis::start();
    let mut conn = redis.conn();
    let cfg = settings();
    let sealed = payload::encrypt_with_salt(
        r#"{"lrs_endpoint": "https://tenant.example.com/", "lrs_token": "T"}"#,
        SECRET,
        *b"fixedslt",
    );
    let mut state = State::default();
    ingest(
        &mut conn,
        &mut state,
        &created(json!({"secret-lrs-payload": sealed})),
        NOW,
    );
    ingest(&mut conn, &mut state, &joined("w_1", json!("Zoë")), NOW);
    ingest(&mut conn, &mut state, &joined("w_2", Value::Null), NOW);
    ingest(&mut conn, &mut state, &poll_started(), NOW);

    let (loaded, skipped) = load_at(&mut conn, &cfg, NOW + 10).expect("load");
    assert_eq!(skipped, 0);
    assert_eq!(loaded.counts(), (1, 2, 1));
    assert_eq!(
        loaded.meeting("int-1"),
        state.meeting("int-1"),
        "the same record, the destination resolved again"
    );
    assert_eq!(loaded.last_activity("int-1"), Some(NOW));
    assert_eq!(loaded.user("w_1"), state.user("w_1"));
    assert_eq!(
        loaded.poll(&cfg.namespace.uuid("poll-1")),
        state.poll(&cfg.namespace.uuid("poll-1"))
    );
    // The same statements with the loaded state as with the one kept in memory.
    let later = [
        mapped(
            "user-cam-broadcast-start",
            json!({"meeting": mtg(), "user": {"internal-user-id": "w_1"}}),
            4,
        ),
        mapped(
            "user-cam-broadcast-start",
            json!({"meeting": mtg(), "user": {"internal-user-id": "w_2"}}),
            4,
        ),
        mapped(
            "poll-responded",
            json!({"meeting": mtg(), "user": {"internal-user-id": "w_1"}, "poll": {"id": "poll-1", "answerIds": [1]}}),
            5,
        ),
        mapped("meeting-ended", json!({"meeting": mtg()}), 6),
    ];
    for e in &later {
        let (kept, reloaded) = (
            process(e, &state, &cfg, NOW),
            process(e, &loaded, &cfg, NOW),
        );
        assert!(kept.statement.is_some());
        assert_eq!(body(&reloaded), body(&kept), "{e}");
        assert_eq!(
            reloaded.statement.map(|s| s.destination),
            kept.statement.map(|s| s.destination)
        );
    }
    // A null name too, which the reference's strings alone would lose.
    let cam = body(&process(&later[1], &loaded, &cfg, NOW)).unwrap_or_default();
    assert!(cam.contains("null's camera"), "{cam}");
}

#[test]
fn records_written_by_the_reference_load_and_expire() {
    let redis = Redis::start();
    let mut conn = redis.conn();
    let cfg = settings();
    let (m1, m2, u, p) = (
        "6f1f0c8e-0d3a-4f6e-9a55-2b0f3f1c9e01",
        "7a2b0c8e-0d3a-4f6e-9a55-2b0f3f1c9e02",
        "0b6c2c7d-5e7b-4bb0-8d3e-7a9f5e2d1c02",
        "1c7d3d8e-6f8c-4cc1-9e4f-8b0a6f3e2d03",
    );
    let object_id = cfg.namespace.uuid("poll-1");
    // Two records for one meeting (created twice): the older one wins.
    for (id, name, create) in [
        (m2, "Newer", "1698771157800"),
        (m1, "Older", "1698771157700"),
    ] {
        sadd(&mut conn, "bigbluebutton:webhooks:xapi:meetings", id);
        hset(
            &mut conn,
            &format!("bigbluebutton:webhooks:xapi:meeting:{id}"),
            &[
                ("id", id),
                ("internal_meeting_id", "int-1"),
                ("context_registration", "reg"),
                ("planned_duration", "0"),
                ("create_time", create),
                ("meeting_name", name),
                ("xapi_enabled", "true"),
                ("create_end_actor_name", "<unknown>"),
            ],
        );
    }
    sadd(&mut conn, "bigbluebutton:webhooks:xapi:users", u);
    hset(
        &mut conn,
        &format!("bigbluebutton:webhooks:xapi:user:{u}"),
        &[("id", u), ("external_user_id", "w_1"), ("name", "Ref")],
    );
    sadd(&mut conn, "bigbluebutton:webhooks:xapi:polls", p);
    let choices = r#"["{\"id\":\"0\",\"description\":\"{\\\"en\\\":\\\"A\\\"}\"}"]"#;
    hset(
        &mut conn,
        &format!("bigbluebutton:webhooks:xapi:poll:{p}"),
        &[
            ("id", p),
            ("object_id", &object_id),
            ("question", "Q?"),
            ("choices", choices),
        ],
    );

    let (mut state, skipped) = load_at(&mut conn, &cfg, NOW).expect("load");
    assert_eq!(skipped, 0);
    assert_eq!(
        state.meeting("int-1").map(|m| m.meeting_name.clone()),
        Some(Some(json!("Older")))
    );
    assert_eq!(
        state.last_activity("int-1"),
        Some(1698771157700),
        "the creation time stands in for activity"
    );
    let responded = mapped(
        "poll-responded",
        json!({"meeting": mtg(), "user": {"internal-user-id": "w_1"}, "poll": {"id": "poll-1", "answerIds": [0]}}),
        5,
    );
    let st = process(&responded, &state, &cfg, NOW)
        .statement
        .map(|s| s.body)
        .unwrap_or_default();
    assert_eq!(st.pointer("/actor/account/name"), Some(&json!("Ref")));
    assert_eq!(
        st.pointer("/object/definition/choices"),
        Some(&json!([{"id": "0", "description": {"en": "A"}}]))
    );
    assert_eq!(
        st.pointer("/object/definition/description"),
        Some(&json!({"en": "Q?"}))
    );
    // The meeting expires after the TTL from its creation, the records of
    // no meeting after the TTL from the load; Redis is then empty.
    let changes = state.expired(1698771157700 + TTL + 1, TTL);
    assert_eq!(changes.len(), 1);
    persist(&mut conn, &changes).expect("persist");
    changes.iter().for_each(|c| state.apply(c));
    assert_eq!(
        dbsize(&mut conn),
        4,
        "the user's and the poll's sets and hashes left: {:?}",
        state.counts()
    );
    let changes = state.expired(NOW + TTL + 1, TTL);
    persist(&mut conn, &changes).expect("persist");
    assert_eq!(dbsize(&mut conn), 0);
}

#[test]
fn an_ended_meeting_leaves_redis_after_the_retention() {
    let redis = Redis::start();
    let mut conn = redis.conn();
    let mut state = State::default();
    ingest(&mut conn, &mut state, &created(json!({})), NOW);
    ingest(&mut conn, &mut state, &joined("w_1", json!("Ann")), NOW);
    ingest(&mut conn, &mut state, &poll_started(), NOW);
    let other = mapped(
        "meeting-created",
        json!({"meeting": {"internal-meeting-id": "int-2", "external-meeting-id": "ext-2", "create-time": 1}}),
        1,
    );
    ingest(&mut conn, &mut state, &other, NOW);
    ingest(
        &mut conn,
        &mut state,
        &mapped("meeting-ended", json!({"meeting": mtg()}), 9),
        NOW + 1,
    );
    assert_eq!(dbsize(&mut conn), 3 + 4, "three sets, four hashes");
    assert!(state.expired(NOW + 1 + ENDED_RETENTION_MS, TTL).is_empty());
    let changes = state.expired(NOW + 2 + ENDED_RETENTION_MS, TTL);
    persist(&mut conn, &changes).expect("persist");
    changes.iter().for_each(|c| state.apply(c));
    assert_eq!(
        dbsize(&mut conn),
        2,
        "only the other meeting's set and hash"
    );
    assert_eq!(state.counts(), (1, 0, 0));
    persist(&mut conn, &[]).expect("nothing to persist is fine");
}
