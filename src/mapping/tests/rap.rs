//! Recording-processing steps.

use serde_json::json;

use super::*;

#[test]
fn recording_processing_steps_map_to_rap_events() {
    let steps = [
        ("archive_started", "rap-archive-started"),
        ("sanity_started", "rap-sanity-started"),
        ("sanity_ended", "rap-sanity-ended"),
        ("post_archive_started", "rap-post-archive-started"),
        ("post_archive_ended", "rap-post-archive-ended"),
        ("process_started", "rap-process-started"),
        ("process_ended", "rap-process-ended"),
        ("post_process_started", "rap-post-process-started"),
        ("post_process_ended", "rap-post-process-ended"),
        ("publish_started", "rap-publish-started"),
        ("post_publish_started", "rap-post-publish-started"),
        ("post_publish_ended", "rap-post-publish-ended"),
        ("post_events_started", "rap-post-events-started"),
        ("post_events_ended", "rap-post-events-ended"),
    ];
    for (name, id) in steps {
        let msg = json!({"header": {"timestamp": 1, "name": name, "current_time": 1500, "version": "0.0.1"},
                         "payload": {"success": true, "step_time": 12, "workflow": "presentation",
                                     "meeting_id": MID, "record_id": MID}});
        let want = json!({"data": {"type": "event", "id": id, "attributes": {
            "meeting": meeting(), "record-id": MID, "success": true, "step-time": 12, "workflow": "presentation"},
            "event": {"ts": 1500}}});
        assert_eq!(jsons(&map(&msg, &state(), NOW)), vec![want], "{name}");
    }
}

#[test]
fn archive_and_publish_ends_carry_their_extras() {
    let archive = json!({"header": {"name": "archive_ended", "current_time": 1500},
                         "payload": {"success": true, "step_time": 3, "meeting_id": "old", "record_id": "old",
                                     "external_meeting_id": "ext-old"}});
    let want = json!({"data": {"type": "event", "id": "rap-archive-ended", "attributes": {
        "meeting": {"internal-meeting-id": "old", "external-meeting-id": "ext-old"}, "record-id": "old",
        "success": true, "step-time": 3, "recorded": false, "duration": 0}, "event": {"ts": 1500}}});
    assert_eq!(jsons(&map(&archive, &State::default(), NOW)), vec![want]);

    let publish = json!({"header": {"name": "publish_ended"},
        "payload": {"success": true, "step_time": 9, "workflow": "presentation", "meeting_id": MID, "record_id": MID,
                    "metadata": {"meetingName": "Room", "isBreakout": "false", "meetingId": "ext-1"},
                    "playback": {"format": "presentation", "link": "https://x/p", "size": 1234},
                    "download": {}, "start_time": 10, "end_time": 20, "raw_size": 99}});
    let want = json!({"data": {"type": "event", "id": "rap-publish-ended", "attributes": {
        "meeting": meeting(), "record-id": MID, "success": true, "step-time": 9, "workflow": "presentation",
        "recording": {"name": "Room", "is-breakout": "false", "start-time": 10, "end-time": 20, "size": 1234,
            "raw-size": 99, "metadata": {"meetingName": "Room", "isBreakout": "false", "meetingId": "ext-1"},
            "playback": {"format": "presentation", "link": "https://x/p", "size": 1234}, "download": {}}},
        "event": {"ts": NOW}}});
    assert_eq!(jsons(&map(&publish, &state(), NOW)), vec![want]);

    for (name, id) in [
        ("published", "rap-published"),
        ("unpublished", "rap-unpublished"),
        ("deleted", "rap-deleted"),
    ] {
        let msg = json!({"header": {"name": name, "current_time": 7},
                         "payload": {"meeting_id": MID, "format": "presentation"}});
        let want = json!({"data": {"type": "event", "id": id, "attributes": {
            "meeting": meeting(), "record-id": MID, "format": "presentation"}, "event": {"ts": 7}}});
        assert_eq!(jsons(&map(&msg, &state(), NOW)), vec![want], "{name}");
    }
}

/// A step as the record-and-playback scripts publish it around a post script:
/// `workflow` is the script's name; only the end carries the outcome.
fn post_step(name: &str, meeting_id: &str, ended: bool) -> Value {
    let mut payload = json!({"workflow": "post_events_analytics_callback",
                             "meeting_id": meeting_id, "record_id": meeting_id});
    if ended {
        payload["success"] = json!(false);
        payload["step_time"] = json!(2048);
    }
    json!({"header": {"timestamp": 77, "name": name, "current_time": 1_700_000_123, "version": "0.0.1"},
           "payload": payload})
}

#[test]
fn post_events_steps_carry_what_the_post_archive_steps_carry() {
    // The events scripts run after the meeting ended: its ID pair is
    // forgotten by then, and no raw recording names the external ID.
    let ended = "int-gone";
    let cases = [
        (
            "post_events_started",
            false,
            json!({"meeting": {"internal-meeting-id": ended}, "record-id": ended,
                   "workflow": "post_events_analytics_callback"}),
        ),
        (
            "post_events_ended",
            true,
            json!({"meeting": {"internal-meeting-id": ended}, "record-id": ended,
                   "success": false, "step-time": 2048, "workflow": "post_events_analytics_callback"}),
        ),
    ];
    for (name, is_end, attributes) in cases {
        let id = format!("rap-{}", name.replace('_', "-"));
        let want = json!({"data": {"type": "event", "id": id, "attributes": attributes,
                                   "event": {"ts": 1_700_000_123}}});
        let out = map(&post_step(name, ended, is_end), &state(), NOW);
        assert_eq!(jsons(&out), vec![want], "{name}");
        assert!(out.changes.is_empty(), "{name}");

        // Same payload as the sibling post_archive step: same attributes.
        let sibling = name.replace("events", "archive");
        let archive = map(&post_step(&sibling, ended, is_end), &state(), NOW);
        assert_eq!(
            archive.events[0].json["data"]["attributes"], out.events[0].json["data"]["attributes"],
            "{name} vs {sibling}"
        );
    }
    // A meeting still known gets its external ID, as every step does.
    let out = map(&post_step("post_events_ended", MID, true), &state(), NOW);
    assert_eq!(
        out.events[0].json["data"]["attributes"]["meeting"],
        meeting()
    );
    assert_eq!(out.events[0].external_meeting_id.as_deref(), Some("ext-1"));
}

#[test]
fn steps_the_reference_does_not_report_yield_nothing() {
    // `archive_norecord`: a meeting with recording enabled but no recording
    // marks; the reference (3.7) has no event for it, and `archive_ended`
    // follows it anyway.
    let msg = json!({"header": {"timestamp": 5, "name": "archive_norecord", "current_time": 1500, "version": "0.0.1"},
                     "payload": {"meeting_id": MID, "record_id": MID, "external_meeting_id": "ext-1"}});
    assert_eq!(map(&msg, &state(), NOW), Output::default());
}
