//! [`crate::cluster::sync::Reconciler`] on servers in the pool, one test
//! per transition: new, found in place, hook deleted, unreachable, back
//! from maintenance, duplicates, relay URL changed, create refused.

use std::time::Instant;

use super::fake_api::*;
use crate::cluster::reconcile::Doom;
use crate::cluster::relay::RelayUrl;
use crate::cluster::sync::{Change, Reason, Reconciler, Relay, Settings};
use crate::cluster::State;

#[test]
fn a_new_server_gets_its_relay_hook_and_other_hooks_stay() {
    let (mut r, mut api, t0) = (reconciler(), Fake::default(), Instant::now());
    api.add("bbb1", "app", APP);
    let p = pool(&[server("bbb1", State::Enabled, true)]);
    let changes = r.sync(&p, &[], &mut api, t0);
    assert_eq!(
        changes,
        vec![
            Change::Joined { id: "bbb1".into() },
            created("bbb1", "h1", Reason::NotFound)
        ]
    );
    assert_eq!(api.urls("bbb1"), vec![APP.to_owned(), relay_of("bbb1")]);
    assert_eq!(api.take_calls(), vec!["list bbb1", "create bbb1"]);
    // In place: the next syncs only look, and report nothing.
    for n in 1..4 {
        assert_eq!(r.sync(&p, &[], &mut api, t0 + secs(10 * n)), vec![]);
    }
    assert_eq!(api.take_calls(), vec!["list bbb1"; 3]);
    assert_eq!(r.status()[0].relay, Relay::InPlace("h1".into()));
}

#[test]
fn a_relay_hook_found_in_place_is_kept() {
    let (mut r, mut api, t0) = (reconciler(), Fake::default(), Instant::now());
    api.add("bbb1", "x", &relay_of("bbb1"));
    let p = pool(&[server("bbb1", State::Cordoned, false)]);
    assert_eq!(
        r.sync(&p, &[], &mut api, t0),
        vec![
            Change::Joined { id: "bbb1".into() },
            Change::Found {
                id: "bbb1".into(),
                hook_id: "x".into()
            }
        ]
    );
    assert_eq!(api.take_calls(), vec!["list bbb1"]);
}

#[test]
fn a_deleted_relay_hook_is_created_again() {
    let (mut r, mut api, t0) = (reconciler(), Fake::default(), Instant::now());
    let p = pool(&[server("bbb1", State::Enabled, true)]);
    r.sync(&p, &[], &mut api, t0);
    api.server("bbb1").hooks.clear();
    assert_eq!(
        r.sync(&p, &[], &mut api, t0 + secs(10)),
        vec![created("bbb1", "h2", Reason::Missing)]
    );
}

#[test]
fn an_unreachable_server_keeps_its_state_and_is_retried_with_a_growing_wait() {
    let (mut r, mut api, t0) = (reconciler(), Fake::default(), Instant::now());
    let p = pool(&[server("bbb1", State::Enabled, true)]);
    r.sync(&p, &[], &mut api, t0);
    api.take_calls();
    api.server("bbb1").down = true;
    let failing = Change::Failing {
        id: "bbb1".into(),
        error: "no answer: connection failed".into(),
    };
    assert_eq!(r.sync(&p, &[], &mut api, t0 + secs(10)), vec![failing]);
    let status = &r.status()[0];
    assert_eq!(
        status.relay,
        Relay::InPlace("h1".into()),
        "last known state kept"
    );
    assert_eq!(
        status.failing.as_deref(),
        Some("no answer: connection failed")
    );
    // Retried at the next sync, then after 10 s, 20 s, 40 s, 60 s, 60 s: quietly.
    let mut tried = Vec::new();
    for n in 2..=30 {
        let now = t0 + secs(10 * n);
        assert_eq!(r.sync(&p, &[], &mut api, now), vec![]);
        if !api.take_calls().is_empty() {
            tried.push(10 * n);
        }
    }
    assert_eq!(tried, vec![20, 30, 50, 90, 150, 210, 270]);
    api.server("bbb1").down = false;
    let changes = r.sync(&p, &[], &mut api, t0 + secs(330));
    assert_eq!(
        changes,
        vec![Change::Recovered {
            id: "bbb1".into(),
            after: secs(320)
        }]
    );
}

#[test]
fn a_server_back_from_maintenance_is_retried_at_once_and_gets_its_hook_again() {
    let (mut r, mut api, t0) = (reconciler(), Fake::default(), Instant::now());
    let online = pool(&[server("bbb1", State::Enabled, true)]);
    let offline = pool(&[server("bbb1", State::Enabled, false)]);
    r.sync(&online, &[], &mut api, t0);
    api.server("bbb1").down = true;
    r.sync(&offline, &[], &mut api, t0 + secs(10));
    r.sync(&offline, &[], &mut api, t0 + secs(20));
    api.take_calls();
    assert_eq!(r.sync(&offline, &[], &mut api, t0 + secs(25)), vec![]);
    assert!(api.take_calls().is_empty(), "waiting out the backoff");
    // Reinstalled: up again, its hooks gone; Scalelite sees it online.
    api.server("bbb1").down = false;
    api.server("bbb1").hooks.clear();
    let changes = r.sync(&online, &[], &mut api, t0 + secs(26));
    assert_eq!(
        changes,
        vec![
            created("bbb1", "h2", Reason::Missing),
            Change::Recovered {
                id: "bbb1".into(),
                after: secs(16)
            }
        ]
    );
}

#[test]
fn duplicate_relay_hooks_are_removed_keeping_one() {
    let (mut r, mut api, t0) = (reconciler(), Fake::default(), Instant::now());
    for id in ["b", "a", "c"] {
        api.add("bbb1", id, &relay_of("bbb1"));
    }
    let changes = r.sync(
        &pool(&[server("bbb1", State::Enabled, true)]),
        &[],
        &mut api,
        t0,
    );
    assert_eq!(
        changes[1..],
        [
            Change::Removed {
                id: "bbb1".into(),
                count: 2,
                doom: Doom::Duplicate
            },
            Change::Found {
                id: "bbb1".into(),
                hook_id: "a".into()
            },
        ]
    );
    assert_eq!(api.server("bbb1").hooks.len(), 1);
}

#[test]
fn a_changed_relay_url_replaces_the_old_hooks() {
    let old = RelayUrl::parse("https://old-lb/relay").expect("url");
    let mut r = Reconciler::new(
        RelayUrl::parse(RELAY).expect("url"),
        vec![old],
        Settings::default(),
    );
    let (mut api, t0) = (Fake::default(), Instant::now());
    api.add("bbb1", "old", "https://old-lb/relay/bbb1");
    api.add("bbb1", "other", "https://old-lb/relay/bbb2");
    let changes = r.sync(
        &pool(&[server("bbb1", State::Enabled, true)]),
        &[],
        &mut api,
        t0,
    );
    assert_eq!(
        changes[1..],
        [
            Change::Removed {
                id: "bbb1".into(),
                count: 1,
                doom: Doom::Stale
            },
            created("bbb1", "h1", Reason::NotFound),
        ]
    );
    // Only this server's relay URLs are its business.
    assert_eq!(
        api.urls("bbb1"),
        vec!["https://old-lb/relay/bbb2".to_owned(), relay_of("bbb1")]
    );
}

#[test]
fn a_refused_create_is_reported_once_and_retried() {
    let (mut r, mut api, t0) = (reconciler(), Fake::default(), Instant::now());
    api.server("bbb1").refuse_create = true;
    let p = pool(&[server("bbb1", State::Enabled, true)]);
    let changes = r.sync(&p, &[], &mut api, t0);
    assert!(
        matches!(&changes[1], Change::Failing { error, .. } if error.starts_with("createHookError")),
        "{changes:?}"
    );
    assert_eq!(r.sync(&p, &[], &mut api, t0 + secs(10)), vec![]);
    api.server("bbb1").refuse_create = false;
    let changes = r.sync(&p, &[], &mut api, t0 + secs(20));
    assert_eq!(changes[0], created("bbb1", "h3", Reason::NotFound));
}
