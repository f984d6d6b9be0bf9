//! Tests of [`super`]: reading records field by field, ours and the
//! reference's, and refusing corrupt ones. Writing is checked against a real
//! Redis in `tests/xapi_store`.

use serde_json::json;

use super::*;
use crate::xapi::lrs::Unroutable;

fn hash(fields: &[(&str, &str)]) -> Hash {
    fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect()
}

fn no_route(_: Option<&str>) -> Result<Destination, Skip> {
    Err(Skip::Unroutable(Unroutable::NoEndpoint))
}

const MEETING: [(&str, &str); 4] = [
    ("internal_meeting_id", "int"),
    ("context_registration", "reg"),
    ("create_time", "1698771157700"),
    ("xapi_enabled", "true"),
];

#[test]
fn the_reference_strings_are_read_when_there_is_no_json() {
    let mut fields = MEETING.to_vec();
    fields.extend([
        ("planned_duration", "90"),
        ("meeting_name", "Room"),
        ("create_end_actor_name", "T"),
        ("lrs_payload", "U2F"),
    ]);
    let mut seen = None;
    let m = meeting("r", &hash(&fields), 1_800_000_000_000, |p| {
        seen = p.map(str::to_owned);
        no_route(p)
    })
    .expect("valid");
    assert_eq!(seen.as_deref(), Some("U2F"), "the payload is resolved");
    assert_eq!(
        (m.at_ms, m.ended_at),
        (1698771157700, None),
        "creation stands in for activity"
    );
    let r = m.record;
    assert_eq!(
        (
            r.record.as_str(),
            r.internal_meeting_id.as_str(),
            r.registration.as_str()
        ),
        ("r", "int", "reg")
    );
    assert_eq!(
        (r.planned_duration, r.meeting_name, r.actor_name),
        (Some(json!("90")), Some(json!("Room")), json!("T"))
    );
    assert!(r.enabled);
    // Creation in the future, or no valid one: the load time.
    let future = meeting("r", &hash(&MEETING), 1_000, no_route).expect("valid");
    assert_eq!(future.at_ms, 1_000);
    let (user_id, u) =
        user("u", &hash(&[("external_user_id", "w_1"), ("name", "Ann")])).expect("valid");
    assert_eq!(
        (user_id.as_str(), u.meeting, u.name),
        ("w_1", None, Some(json!("Ann")))
    );
}

#[test]
fn our_json_field_keeps_the_types() {
    let mut fields = MEETING.to_vec();
    let values = r#"{"planned_duration": [5], "meeting_name": null, "create_end_actor_name": 7}"#;
    fields.extend([
        ("json", values),
        ("meeting_name", "ignored"),
        ("last_activity", "5"),
        ("ended_at", "6"),
        ("xapi_enabled", "false"),
    ]);
    let m = meeting("r", &hash(&fields), 10, no_route).expect("valid");
    assert_eq!(
        (m.record.planned_duration, m.record.meeting_name),
        (Some(json!([5])), Some(json!(null)))
    );
    assert_eq!(
        (m.record.actor_name, m.record.enabled, m.at_ms, m.ended_at),
        (json!(7), false, 5, Some(6))
    );
    let (_, u) = user(
        "u",
        &hash(&[("external_user_id", "w"), ("json", "{}"), ("name", "x")]),
    )
    .expect("valid");
    assert_eq!(u.name, None, "absent from json: absent");
    let choices = r#"[{"id":"0","description":{"en":1}}]"#;
    let (_, p) = poll(
        "p",
        &hash(&[
            ("object_id", "o"),
            ("choices", "junk"),
            ("json", &format!(r#"{{"choices": {choices}}}"#)),
        ]),
    )
    .expect("valid");
    assert_eq!(
        p.choices,
        serde_json::from_str::<serde_json::Value>(choices).expect("JSON")
    );
}

#[test]
fn fields_are_written_the_reference_way() {
    let u = UserRecord {
        record: "m:w".into(),
        meeting: Some("m".into()),
        name: Some(json!({"a": null, "b": [1, null, {"c": true}]})),
    };
    let fields = user_fields("w", &u);
    let name = fields
        .iter()
        .find(|(k, _)| *k == "name")
        .map(|(_, v)| v.as_str());
    assert_eq!(
        name,
        Some(r#"{"b":"[\"1\",null,\"{\\\"c\\\":\\\"true\\\"}\"]"}"#)
    );
    let nameless = UserRecord {
        name: None,
        ..u.clone()
    };
    assert!(user_fields("w", &nameless)
        .iter()
        .all(|(k, _)| *k != "name"));
    let null = UserRecord {
        name: Some(json!(null)),
        ..u
    };
    let fields = user_fields("w", &null);
    assert!(
        fields.iter().all(|(k, _)| *k != "name"),
        "null is left out, as the reference does"
    );
    assert!(fields.contains(&("json", r#"{"name":null}"#.to_owned())));
    let numbers = PollRecord {
        record: "r".into(),
        meeting: None,
        question: Some(json!(1e21)),
        choices: json!([]),
    };
    let fields = poll_fields("o", &numbers);
    assert!(
        fields.contains(&("question", "1e+21".to_owned()))
            && fields.contains(&("choices", "[]".to_owned()))
    );
    assert!(fields.iter().all(|(k, _)| *k != "internal_meeting_id"));
}

#[test]
fn corrupt_records_say_why() {
    let without = |name: &str| {
        hash(
            &MEETING
                .iter()
                .copied()
                .filter(|(k, _)| *k != name)
                .collect::<Vec<_>>(),
        )
    };
    for missing in ["internal_meeting_id", "context_registration", "create_time"] {
        let err = meeting("r", &without(missing), 0, no_route)
            .map(|_| ())
            .unwrap_err();
        assert!(err.contains(missing), "{err}");
    }
    let with = |extra: (&str, &str)| {
        let mut fields = MEETING.to_vec();
        fields.push(extra);
        meeting("r", &hash(&fields), 0, no_route).map(|_| ())
    };
    assert!(with(("create_time", "soon")).is_err());
    assert!(with(("create_time", "Infinity")).is_err());
    assert!(with(("last_activity", "-1")).is_err());
    assert!(with(("ended_at", "later")).is_err());
    assert!(with(("json", "[1]")).is_err());
    let mut bad_utf8 = hash(&MEETING);
    bad_utf8.insert("meeting_name".into(), vec![0xff]);
    assert!(meeting("r", &bad_utf8, 0, no_route).is_err());
    assert!(
        user("u", &hash(&[("name", "N")])).is_err(),
        "no external_user_id"
    );
    for choices in [
        "not json",
        r#"[{"id":"0"}]"#,
        r#"["{\"id\":\"0\",\"description\":\"x\"}"]"#,
        r#"["[1]"]"#,
        "{}",
    ] {
        assert!(
            poll("p", &hash(&[("object_id", "o"), ("choices", choices)])).is_err(),
            "{choices}"
        );
    }
    assert!(
        poll("p", &hash(&[("choices", "[]")])).is_err(),
        "no object_id"
    );
    assert!(
        poll("p", &hash(&[("object_id", "o")])).is_err(),
        "no choices"
    );
}
