//! The hooks API and the draft API over real HTTP, against a real Redis:
//! every call's success, every error key, checksums in all algorithms and
//! encodings, and the answers' exact XML.

mod support;

use bbb_webhooks::checksum::Algorithm;
use support::*;

/// Byte for byte as the reference answers, CDATA escaping included.
#[test]
fn create_list_and_destroy_answer_in_the_reference_xml() {
    let redis = Redis::start();
    let svc = Service::start(&redis, &[]);
    let cb = "http://127.0.0.1:9/cb?a=1&b=]]>";
    let body = svc.call(
        "hooks/create",
        &format!(
            "callbackURL={}&meetingID=m%201&eventID=User-Joined,meeting-ended&getRaw=TRUE",
            enc(cb)
        ),
    );
    let id = between(&body, "<hookID>", "</hookID>");
    assert_eq!(
        body,
        format!("<response><returncode>SUCCESS</returncode><hookID>{id}</hookID><permanentHook>false</permanentHook><rawData>true</rawData></response>")
    );
    assert_eq!(id.len(), 36, "a UUID: {id}");

    let dup = svc.call("hooks/create", &format!("callbackURL={}", enc(cb)));
    assert_eq!(
        dup,
        format!("<response><returncode>SUCCESS</returncode><hookID>{id}</hookID><messageKey>duplicateWarning</messageKey><message>There is already a hook for this callback URL.</message></response>")
    );

    let global = svc.create_hook(&format!("callbackURL={}", enc("http://127.0.0.1:9/global")));
    let other = svc.create_hook(&format!(
        "callbackURL={}&meetingID=other",
        enc("http://127.0.0.1:9/other")
    ));

    let list = svc.call("hooks/list", "");
    let mut ids = vec![id.clone(), global.clone(), other.clone()];
    ids.sort();
    let listed: Vec<String> = list
        .split("<hookID>")
        .skip(1)
        .map(|s| s[..36].to_owned())
        .collect();
    assert_eq!(listed, ids, "sorted by id: {list}");
    assert!(list.contains(&format!(
        "<hook><hookID>{id}</hookID><callbackURL><![CDATA[http://127.0.0.1:9/cb?a=1&b=]]]]><![CDATA[>]]></callbackURL><meetingID><![CDATA[m 1]]></meetingID><eventID>user-joined,meeting-ended</eventID><permanentHook>false</permanentHook><rawData>true</rawData></hook>"
    )), "{list}");
    assert!(list.contains(&format!(
        "<hook><hookID>{global}</hookID><callbackURL><![CDATA[http://127.0.0.1:9/global]]></callbackURL><permanentHook>false</permanentHook><rawData>false</rawData></hook>"
    )), "{list}");

    let for_meeting = svc.call("hooks/list", "meetingID=m+1");
    assert!(
        for_meeting.contains(&id) && for_meeting.contains(&global),
        "{for_meeting}"
    );
    assert!(!for_meeting.contains(&other), "{for_meeting}");

    assert_eq!(
        svc.call("hooks/destroy", &format!("hookID={other}")),
        "<response><returncode>SUCCESS</returncode><removed>true</removed></response>"
    );
    assert_eq!(
        svc.call("hooks/destroy", &format!("hookID={other}")),
        "<response><returncode>FAILED</returncode><messageKey>destroyMissingHook</messageKey><message>The hook informed was not found.</message></response>"
    );
    assert!(!svc.call("hooks/list", "").contains(&other));
}

/// Missing and bad parameters, unknown ids, the hook limit and every way a
/// checksum can be wrong.
#[test]
fn every_failure_answers_with_its_message_key() {
    let redis = Redis::start();
    let svc = Service::start(&redis, &[("BBB_WEBHOOKS_MAX_HOOKS", "1")]);
    let fails = |body: String, key: &str| {
        assert!(
            body.starts_with("<response><returncode>FAILED</returncode>"),
            "{body}"
        );
        assert!(
            body.contains(&format!("<messageKey>{key}</messageKey>")),
            "{key}: {body}"
        );
    };
    fails(svc.call("hooks/create", ""), "missingParamCallbackURL");
    fails(
        svc.call("hooks/create", "callbackURL="),
        "missingParamCallbackURL",
    );
    fails(
        svc.call("hooks/create", "callbackURL=not-a-url"),
        "invalidCallbackURL",
    );
    fails(
        svc.call("hooks/create", "callbackURL=ftp%3A%2F%2Fx%2F"),
        "invalidCallbackURL",
    );
    fails(svc.call("hooks/destroy", ""), "missingParamHookID");
    fails(
        svc.call("hooks/destroy", "hookID=nope"),
        "destroyMissingHook",
    );
    fails(
        svc.call("subscribeEvent", "callbackURL=http%3A%2F%2Fa%2F"),
        "missingParamMeetingID",
    );
    fails(
        svc.call("subscribeEvent", "meetingID=m"),
        "missingParamCallbackURL",
    );
    fails(
        svc.call("unsubscribeEvent", "subscriptionID=x"),
        "missingParamMeetingID",
    );
    fails(
        svc.call("unsubscribeEvent", "meetingID=m"),
        "missingParamSubscriptionID",
    );
    fails(
        svc.call("unsubscribeEvent", "meetingID=m&subscriptionID=x"),
        "subscriptionNotFound",
    );
    fails(svc.call("listSubscriptions", ""), "missingParamMeetingID");

    svc.create_hook("callbackURL=http%3A%2F%2Fa%2F1");
    let body = svc.call("hooks/create", "callbackURL=http%3A%2F%2Fa%2F2");
    fails(body.clone(), "createHookError");
    assert!(body.contains("maximum number of hooks (1)"), "{body}");

    // Checksum failures.
    let checksum_error = "<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey><message>You did not pass the checksum security check.</message></response>";
    let base = format!("{}/hooks/list", svc.api);
    assert_eq!(svc.get(&base).1, checksum_error);
    assert_eq!(svc.get(&format!("{base}?checksum=")).1, checksum_error);
    assert_eq!(svc.get(&format!("{base}?checksum=abc")).1, checksum_error);
    let good = svc.url("hooks/list", "");
    assert_eq!(
        svc.get(&good.to_uppercase().replace("HTTP://", "http://").replace(
            "/BIGBLUEBUTTON/API/HOOKS/LIST",
            "/bigbluebutton/api/hooks/list"
        ))
        .1,
        checksum_error,
        "upper-case hex is refused"
    );
    let sum = Algorithm::Sha1.hex_digest(&[b"hooks/create", b"", SECRET.as_bytes()]);
    assert_eq!(
        svc.get(&format!("{base}?checksum={sum}")).1,
        checksum_error,
        "checksum of another call"
    );
    let list_sum = Algorithm::Sha1.hex_digest(&[b"hooks/list", b"", b"wrong secret"]);
    assert_eq!(
        svc.get(&format!("{base}?checksum={list_sum}")).1,
        checksum_error
    );
}

#[test]
fn checksums_verify_in_every_algorithm_and_encoding() {
    let redis = Redis::start();
    let svc = Service::start(&redis, &[]);
    for (i, alg) in Algorithm::ALL.into_iter().enumerate() {
        // Clients encode spaces as + or %20 and sign their own bytes.
        for (j, q) in [
            format!(
                "callbackURL=http%3A%2F%2F127.0.0.1%3A9%2F{i}x{j}&meetingID=room+one",
                j = 0
            ),
            format!(
                "callbackURL=http%3A%2F%2F127.0.0.1%3A9%2F{i}x{j}&meetingID=room%20one",
                j = 1
            ),
            format!(
                "meetingID=room%20one&callbackURL=http://127.0.0.1:9/{i}x{j}",
                j = 2
            ),
        ]
        .iter()
        .enumerate()
        {
            let (status, body) = http_get(&svc.url_with("hooks/create", q, alg));
            assert_eq!(status, 200);
            assert!(
                body.contains("<returncode>SUCCESS</returncode>"),
                "{} {j}: {body}",
                alg.name()
            );
        }
    }
    let list = svc.call("hooks/list", "meetingID=room%20one");
    assert_eq!(list.matches("<hook>").count(), 12, "{list}");
    assert_eq!(
        list.matches("<meetingID><![CDATA[room one]]></meetingID>")
            .count(),
        12
    );

    // A restricted list of algorithms refuses the others.
    drop(svc);
    let svc = Service::start(
        &redis,
        &[("BBB_WEBHOOKS_API_CHECKSUM_ALGORITHMS", "sha256")],
    );
    let (_, body) = http_get(&svc.url_with("hooks/list", "", Algorithm::Sha1));
    assert!(body.contains("checksumError"), "{body}");
    let (_, body) = http_get(&svc.url_with("hooks/list", "", Algorithm::Sha256));
    assert!(body.contains("SUCCESS"), "{body}");
}

#[test]
fn draft_calls_subscribe_list_and_unsubscribe() {
    let redis = Redis::start();
    let svc = Service::start(&redis, &[]);
    let body = svc.call(
        "subscribeEvent",
        "meetingID=meet-1&callbackURL=http%3A%2F%2F127.0.0.1%3A9%2Fsub",
    );
    let id = between(&body, "<subscriptionID>", "</subscriptionID>");
    assert_eq!(body, format!("<response><returncode>SUCCESS</returncode><subscriptionID>{id}</subscriptionID></response>"));
    let dup = svc.call(
        "subscribeEvent",
        "meetingID=meet-1&callbackURL=http%3A%2F%2F127.0.0.1%3A9%2Fsub",
    );
    assert!(
        dup.contains(&format!(
            "<subscriptionID>{id}</subscriptionID><messageKey>duplicateWarning</messageKey>"
        )),
        "{dup}"
    );

    let list = svc.call("listSubscriptions", "meetingID=meet-1");
    assert_eq!(
        list,
        format!("<response><returncode>SUCCESS</returncode><meetingID><![CDATA[meet-1]]></meetingID><subscriptions><subscription><subscriptionID>{id}</subscriptionID><callbackURL><![CDATA[http://127.0.0.1:9/sub]]></callbackURL><status>active</status><pending>0</pending></subscription></subscriptions></response>")
    );
    // A subscription is a meeting hook: hooks/list shows it.
    assert!(svc.call("hooks/list", "").contains(&id));
    assert!(svc
        .call("listSubscriptions", "meetingID=other")
        .contains("<subscriptions></subscriptions>"));
    assert!(svc
        .call(
            "unsubscribeEvent",
            &format!("meetingID=other&subscriptionID={id}")
        )
        .contains("subscriptionNotFound"));
    assert_eq!(
        svc.call(
            "unsubscribeEvent",
            &format!("meetingID=meet-1&subscriptionID={id}")
        ),
        "<response><returncode>SUCCESS</returncode><unsubscribed>true</unsubscribed></response>"
    );
    assert!(!svc.call("hooks/list", "").contains(&id));
}

/// And a trailing slash is part of the signed call name.
#[test]
fn ping_answers_and_other_methods_and_paths_are_refused() {
    let redis = Redis::start();
    let svc = Service::start(&redis, &[]);
    assert_eq!(svc.ping(), (200, "bbb-webhooks API up!".to_owned()));
    let (status, body) = request("POST", &svc.url("hooks/list", ""));
    assert_eq!(status, 405);
    assert!(body.contains("methodNotAllowed"), "{body}");
    let (status, body) = http_get(&svc.url("hooks/nope", ""));
    assert_eq!(status, 404);
    assert!(body.contains("unsupportedRequest"), "{body}");
    let root = svc.api.trim_end_matches("/bigbluebutton/api");
    assert_eq!(http_get(&format!("{root}/elsewhere")).0, 404);
    // The trailing slash is part of the signed call name.
    let (status, body) = http_get(&svc.url("hooks/list/", ""));
    assert_eq!(status, 200);
    assert!(body.contains("SUCCESS"), "{body}");
}

#[test]
fn permanent_hooks_are_registered_and_cannot_be_destroyed() {
    let redis = Redis::start();
    let svc = Service::start(
        &redis,
        &[(
            "BBB_WEBHOOKS_PERMANENT_HOOKS",
            "http://127.0.0.1:9/perm, raw:http://127.0.0.1:9/raw",
        )],
    );
    let list = svc.call("hooks/list", "");
    assert_eq!(
        list.matches("<permanentHook>true</permanentHook>").count(),
        2,
        "{list}"
    );
    // The reference's id for a permanent hook: UUID v5 of its URL.
    let id = bbb_webhooks::uuid::v5(
        &bbb_webhooks::uuid::NAMESPACE_URL,
        "http://127.0.0.1:9/perm",
    );
    assert!(list.contains(&format!("<hookID>{id}</hookID>")), "{list}");
    assert!(list.contains("<callbackURL><![CDATA[http://127.0.0.1:9/raw]]></callbackURL><permanentHook>true</permanentHook><rawData>true</rawData>"), "{list}");
    let body = svc.call("hooks/destroy", &format!("hookID={id}"));
    assert!(body.contains("<messageKey>destroyHookError</messageKey><message>Permanent hooks cannot be destroyed.</message>"), "{body}");
    let dup = svc.call(
        "hooks/create",
        "callbackURL=http%3A%2F%2F127.0.0.1%3A9%2Fperm",
    );
    assert!(
        dup.contains("duplicateWarning") && dup.contains(&id),
        "{dup}"
    );
}

#[test]
fn redis_refusing_a_write_leaves_memory_unchanged() {
    let mut redis = Redis::start();
    let svc = Service::start(&redis, &[]);
    let kept = svc.create_hook("callbackURL=http%3A%2F%2F127.0.0.1%3A9%2Fkept");
    redis.stop();
    let body = svc.call(
        "hooks/create",
        "callbackURL=http%3A%2F%2F127.0.0.1%3A9%2Flost",
    );
    assert!(body.contains("createHookError"), "{body}");
    let body = svc.call("hooks/destroy", &format!("hookID={kept}"));
    assert!(body.contains("destroyHookError"), "{body}");
    // The API still answers from memory, unchanged.
    let list = svc.call("hooks/list", "");
    assert!(list.contains(&kept) && !list.contains("lost"), "{list}");
}

/// A Redis that refuses writes (out of memory, say) gets the reference's
/// XML error for a create or a destroy, never an empty answer, and memory
/// stays as Redis has it: the create did not happen, the hook not destroyed.
#[test]
fn a_redis_refusing_writes_gets_xml_errors_for_create_and_destroy() {
    let redis = Redis::start();
    let svc = Service::start(&redis, &[]);
    let id = svc.create_hook("callbackURL=http%3A%2F%2F127.0.0.1%3A9%2Fkept");
    let set = |v: &str| {
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory")
            .arg(v)
            .query(&mut redis.conn())
            .expect("config set");
    };
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("noeviction")
        .query(&mut redis.conn())
        .expect("config set");
    set("1");
    let body = svc.call(
        "hooks/create",
        "callbackURL=http%3A%2F%2F127.0.0.1%3A9%2Fnew",
    );
    assert_eq!(
        body,
        "<response><returncode>FAILED</returncode><messageKey>createHookError</messageKey><message>An error happened while creating your hook. Check the logs.</message></response>"
    );
    let body = svc.call("hooks/destroy", &format!("hookID={id}"));
    assert_eq!(
        body,
        "<response><returncode>FAILED</returncode><messageKey>destroyHookError</messageKey><message>An error happened while removing your hook. Check the logs.</message></response>"
    );
    let body = svc.call(
        "subscribeEvent",
        "meetingID=m&callbackURL=http%3A%2F%2F127.0.0.1%3A9%2Fsub",
    );
    assert!(
        body.contains("<messageKey>createHookError</messageKey>"),
        "{body}"
    );
    let list = svc.call("hooks/list", "");
    assert!(list.contains(&id) && !list.contains("/new"), "{list}");
    set("0");
    let body = svc.call("hooks/destroy", &format!("hookID={id}"));
    assert!(body.contains("<removed>true</removed>"), "{body}");
}
