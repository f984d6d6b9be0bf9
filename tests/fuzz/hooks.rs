//! Callback URLs and event filters: what `hooks/create` accepts is an
//! absolute http(s) URL without whitespace or control characters, and an
//! event filter of non-empty, lower-case ids.

use bbb_webhooks::hooks;

use crate::{run, Budget, Rng};

fn hooks_case(rng: &mut Rng) {
    let url = rng.string_from(&[
        "http://", "https://", "HTTPS://", "HtTp://", "/", ":", "?", "#", "é",
    ]);
    if hooks::valid_callback_url(&url) {
        let lower = url.to_ascii_lowercase();
        assert!(
            lower.starts_with("http://") || lower.starts_with("https://"),
            "{url:?}"
        );
        assert!(
            !url.chars().any(|c| c.is_whitespace() || c.is_control()),
            "{url:?}"
        );
    }
    let ids = rng.string_from(&[",", " ", "user-joined", "TestEvent", ", ,"]);
    if let Some(ids) = hooks::parse_event_ids(&ids) {
        assert!(!ids.is_empty());
        assert!(ids
            .iter()
            .all(|i| !i.is_empty() && !i.contains(',') && *i == i.to_lowercase()));
    }
}

#[test]
fn accepted_callback_urls_and_event_filters_are_well_formed() {
    run("hooks", Budget::quick(3000), hooks_case);
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_accepted_callback_urls_and_event_filters_are_well_formed() {
    run("hooks", Budget::long(), hooks_case);
}
