//! Chat, notes, polls, transcripts, bbb-web recording messages, meeting creation.

use serde_json::json;

use super::*;

#[test]
fn content_messages_map_to_the_reference_events() {
    let m = meeting();
    let cases: Vec<(&str, Value, Vec<Value>)> = vec![
        (
            "public chat",
            akka(
                "GroupChatMessageBroadcastEvtMsg",
                "w_mod",
                json!({"chatId": "MAIN-PUBLIC-GROUP-CHAT", "msg": {
                "id": "c-1", "timestamp": 1698771232706_u64, "sender": {"id": "w_mod", "name": "John", "role": "MODERATOR"},
                "message": "<a href=\"x\">hi</a> & ünïcödé 🎉"}}),
            ),
            vec![ev(
                "chat-group-message-sent",
                json!({"meeting": m, "chat-id": "MAIN-PUBLIC-GROUP-CHAT", "chat-message": {
                "id": "c-1", "message": "<a href=\"x\">hi</a> & ünïcödé 🎉",
                "sender": {"internal-user-id": "w_mod", "external-user-id": "ext-mod", "name": "John", "time": 1698771232706_u64}}}),
            )],
        ),
        (
            "private chat is not reported",
            akka(
                "GroupChatMessageBroadcastEvtMsg",
                "w_mod",
                json!({"chatId": "1234-private", "msg": {"id": "c-2", "message": "secret"}}),
            ),
            vec![],
        ),
        (
            "shared notes",
            akka(
                "PadContentEvtMsg",
                "not-used",
                json!({"groupId": "g", "padId": "pad-1", "externalId": "notes", "rev": 3, "start": 0, "end": 5, "text": "hello"}),
            ),
            vec![ev(
                "pad-content",
                json!({"meeting": m, "pad": {"id": "pad-1", "external-pad-id": "notes", "rev": 3, "start": 0, "end": 5, "text": "hello"}}),
            )],
        ),
        (
            "poll started",
            akka(
                "PollStartedEvtMsg",
                "w_mod",
                json!({"userId": "w_mod", "pollId": "poll-1", "pollType": "A-2", "question": "Q?",
                "poll": {"id": "poll-1", "answers": [{"id": 0, "key": "A"}, {"id": 1, "key": "B"}]}}),
            ),
            vec![ev(
                "poll-started",
                json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({})),
                "poll": {"id": "poll-1", "question": "Q?", "answers": [{"id": 0, "key": "A"}, {"id": 1, "key": "B"}]}}),
            )],
        ),
        (
            "poll answered: the responder, not the presenter it is sent to",
            akka(
                "UserRespondedToPollRespMsg",
                "w_mod",
                json!({"pollId": "poll-1", "userId": "w_view", "answerIds": [1]}),
            ),
            vec![ev(
                "poll-responded",
                json!({"meeting": m, "user": user("w_view", "ext-view", json!({})),
                "poll": {"id": "poll-1", "answerIds": [1]}}),
            )],
        ),
        (
            "transcript",
            akka(
                "TranscriptUpdatedEvtMsg",
                "w_mod",
                json!({"transcriptId": "t-1", "transcript": "hello", "locale": "en-US", "result": true}),
            ),
            vec![ev(
                "transcript-updated",
                json!({"meeting": m, "user": user("w_mod", "ext-mod", json!({})),
                "transcript": {"id": "t-1", "transcript": "hello", "locale": "en-US", "final": true}}),
            )],
        ),
        (
            "recording published by bbb-web",
            json!({"envelope": {"name": "PublishedRecordingSysMsg", "routing": {"sender": "bbb-web"}},
                   "core": {"header": {"name": "PublishedRecordingSysMsg"}, "body": {"recordId": MID}}}),
            vec![ev("rap-published", json!({"meeting": m, "record-id": MID}))],
        ),
        (
            "recording deleted by bbb-web, meeting long gone",
            json!({"envelope": {"name": "DeletedRecordingSysMsg", "routing": {"sender": "bbb-web"}},
                   "core": {"header": {"name": "DeletedRecordingSysMsg"}, "body": {"recordId": "old-1"}}}),
            vec![ev(
                "rap-deleted",
                json!({"meeting": {"internal-meeting-id": "old-1"}, "record-id": "old-1"}),
            )],
        ),
        (
            "message of an unknown meeting: no external ID",
            json!({"envelope": {"name": "UserMutedVoiceEvtMsg", "routing": {"meetingId": "nope"}},
                   "core": {"header": {"name": "UserMutedVoiceEvtMsg", "meetingId": "nope", "userId": "w_x"}, "body": {"muted": true}}}),
            vec![ev(
                "user-audio-muted",
                json!({"meeting": {"internal-meeting-id": "nope"}, "user": user("w_x", "", json!({"muted": true}))}),
            )],
        ),
    ];
    check(cases);
}

#[test]
fn meeting_created_maps_properties_and_remembers_the_meeting() {
    let mut s = State::default();
    let out = run(&mut s, &created_msg("int-2", "ext-2", "int-1"));
    let want = ev(
        "meeting-created",
        json!({"meeting": {
            "internal-meeting-id": "int-2", "external-meeting-id": "ext-2", "name": "Room <b>1</b>",
            "is-breakout": true, "parent-id": "int-1", "duration": 0, "create-time": 1698771157700_u64,
            "create-date": "Tue Oct 31 13:52:37 BRT 2023", "moderator-pass": "mp", "viewer-pass": "ap",
            "record": false, "voice-conf": "71347", "dial-number": "613-555-1234", "max-users": 0,
            "metadata": {"bbb-origin": "Greenlight"}}}),
    );
    assert_eq!(jsons(&out), vec![want]);
    assert_eq!(out.events[0].internal_meeting_id.as_deref(), Some("int-2"));
    assert_eq!(out.events[0].external_meeting_id.as_deref(), Some("ext-2"));
    assert_eq!(s.external_meeting_id("int-2"), Some("ext-2"));
    assert_eq!(s.meeting_count(), 1);
}
