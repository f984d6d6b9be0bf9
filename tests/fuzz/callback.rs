//! The callback body: whatever the events and the domain hold, the form
//! body is ASCII and decodes back to them and the timestamp.

use bbb_webhooks::query;

use crate::{run, Budget, Rng};

fn callback_body_case(rng: &mut Rng) {
    // Whatever the events and the domain hold, the body decodes back to the
    // domain, the JSON array of the events in order, and the timestamp.
    let events: Vec<String> = (0..1 + rng.below(4))
        .map(|_| {
            rng.string_from(&[
                "{", "}", "\"", ",", "[", "]", "%2C", "&", "=", "+", " ", "é",
            ])
        })
        .collect();
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    let domain = rng.string_from(&["&", "=", "+", " ", "%", "."]);
    let ts = rng.next();
    let body = bbb_webhooks::callback::body(&refs, &domain, ts);
    assert!(body.is_ascii(), "{body:?}");
    let fields: Vec<(String, String)> = body
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("key=value");
            (query::decode(k), query::decode(v))
        })
        .collect();
    let want = vec![
        ("domain".to_owned(), domain.clone()),
        ("event".to_owned(), format!("[{}]", events.join(","))),
        ("timestamp".to_owned(), ts.to_string()),
    ];
    assert_eq!(fields, want);
}

#[test]
fn a_body_decodes_back_to_its_domain_events_and_timestamp() {
    run("callback body", Budget::quick(3000), callback_body_case);
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_a_body_decodes_back_to_its_domain_events_and_timestamp() {
    run("callback body", Budget::long(), callback_body_case);
}
