//! Templates for recordings: the recording-processing steps published by the
//! record-and-playback scripts on `bigbluebutton:from-rap` (`rap-archive-started`
//! ... `rap-post-publish-ended`, and `rap-post-events-*` of bbb-webhooks 3.7)
//! and bbb-web's published / unpublished / deleted recording messages. A
//! step the reference does not report (`archive_norecord`) maps to nothing.

use serde_json::{Map, Value};

use super::js::{at, or, put, truthy};
use super::{event, internal_meeting_id, meeting_attribute, State};

/// Maps a recording message, or `None` when `name` is not one.
pub(super) fn map(name: &str, msg: &Value, state: &State, now_ms: u64) -> Option<Value> {
    if let Some(id) = sys_msg_id(name) {
        let meeting = internal_meeting_id(msg);
        let mut attributes = Map::new();
        attributes.insert(
            "meeting".into(),
            Value::Object(meeting_attribute(meeting, state)),
        );
        put(
            &mut attributes,
            "record-id",
            at(msg, &["core", "body", "recordId"]),
        );
        return Some(event(id, attributes, Value::from(now_ms)));
    }
    let id = step_id(name)?;
    Some(step(id, msg, state, now_ms))
}

fn sys_msg_id(name: &str) -> Option<&'static str> {
    Some(match name {
        "PublishedRecordingSysMsg" => "rap-published",
        "UnpublishedRecordingSysMsg" => "rap-unpublished",
        "DeletedRecordingSysMsg" => "rap-deleted",
        _ => return None,
    })
}

fn step_id(name: &str) -> Option<&'static str> {
    Some(match name {
        "archive_started" => "rap-archive-started",
        "archive_ended" => "rap-archive-ended",
        "sanity_started" => "rap-sanity-started",
        "sanity_ended" => "rap-sanity-ended",
        "post_archive_started" => "rap-post-archive-started",
        "post_archive_ended" => "rap-post-archive-ended",
        "process_started" => "rap-process-started",
        "process_ended" => "rap-process-ended",
        "post_process_started" => "rap-post-process-started",
        "post_process_ended" => "rap-post-process-ended",
        "publish_started" => "rap-publish-started",
        "publish_ended" => "rap-publish-ended",
        "post_publish_started" => "rap-post-publish-started",
        "post_publish_ended" => "rap-post-publish-ended",
        // The scripts run after a meeting's events are kept (bbb-webhooks
        // 3.7.0); shaped like the other post-script steps, the script's
        // name in `workflow`.
        "post_events_started" => "rap-post-events-started",
        "post_events_ended" => "rap-post-events-ended",
        "published" => "rap-published",
        "unpublished" => "rap-unpublished",
        "deleted" => "rap-deleted",
        _ => return None,
    })
}

/// One recording-processing step. Its time is the step's own `current_time`
/// (the wall clock when the message has none).
fn step(id: &str, msg: &Value, state: &State, now_ms: u64) -> Value {
    let null = Value::Null;
    let data = msg.get("payload").unwrap_or(&null);
    let internal = internal_meeting_id(msg);
    let mut meeting = meeting_attribute(internal, state);
    let known = meeting.remove("external-meeting-id");
    put(
        &mut meeting,
        "external-meeting-id",
        or(&[data.get("external_meeting_id"), known.as_ref()]),
    );
    let mut attributes = Map::new();
    attributes.insert("meeting".into(), Value::Object(meeting));

    if matches!(id, "rap-published" | "rap-unpublished" | "rap-deleted") {
        put(&mut attributes, "record-id", internal);
        put(&mut attributes, "format", data.get("format"));
    } else {
        put(&mut attributes, "record-id", data.get("record_id"));
        put(&mut attributes, "success", data.get("success"));
        put(&mut attributes, "step-time", data.get("step_time"));
    }
    if id == "rap-archive-ended" {
        let (no, zero) = (Value::Bool(false), Value::from(0));
        put(
            &mut attributes,
            "recorded",
            or(&[data.get("recorded"), Some(&no)]),
        );
        put(
            &mut attributes,
            "duration",
            or(&[data.get("duration"), Some(&zero)]),
        );
    }
    if let Some(workflow) = data.get("workflow").filter(|w| truthy(w)) {
        attributes.insert("workflow".into(), workflow.clone());
    }
    if id == "rap-publish-ended" {
        attributes.insert("recording".into(), Value::Object(recording(data)));
    }
    let ts = at(msg, &["header", "current_time"])
        .filter(|t| !t.is_null())
        .cloned()
        .unwrap_or_else(|| Value::from(now_ms));
    event(id, attributes, ts)
}

/// The `recording` attribute of `rap-publish-ended`.
fn recording(data: &Value) -> Map<String, Value> {
    let fields: [(&str, &[&str]); 9] = [
        ("name", &["metadata", "meetingName"]),
        ("is-breakout", &["metadata", "isBreakout"]),
        ("start-time", &["start_time"]),
        ("end-time", &["end_time"]),
        ("size", &["playback", "size"]),
        ("raw-size", &["raw_size"]),
        ("metadata", &["metadata"]),
        ("playback", &["playback"]),
        ("download", &["download"]),
    ];
    let mut recording = Map::new();
    for (key, path) in fields {
        put(&mut recording, key, at(data, path));
    }
    recording
}
