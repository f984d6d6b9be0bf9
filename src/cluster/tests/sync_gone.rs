//! [`crate::cluster::sync::Reconciler`] on servers that leave the pool, are
//! disabled, or cannot be read: one test per transition.

use std::time::Instant;

use super::fake_api::*;
use crate::cluster::reconcile::{Doom, Gone};
use crate::cluster::relay::RelayUrl;
use crate::cluster::sync::{Change, Reason, Reconciler, Settings};
use crate::cluster::{Pool, State};

#[test]
fn a_server_that_left_the_pool_loses_its_relay_hook_only() {
    let (mut r, mut api, t0) = (reconciler(), Fake::default(), Instant::now());
    api.add("bbb2", "app", APP);
    let both = pool(&[
        server("bbb1", State::Enabled, true),
        server("bbb2", State::Enabled, true),
    ]);
    r.sync(&both, &[], &mut api, t0);
    api.take_calls();
    let one = pool(&[server("bbb1", State::Enabled, true)]);
    let changes = r.sync(&one, &[], &mut api, t0 + secs(10));
    assert_eq!(
        changes,
        vec![
            Change::Left { id: "bbb2".into() },
            Change::Removed {
                id: "bbb2".into(),
                count: 1,
                doom: Doom::Unwanted(Gone::LeftPool)
            },
            Change::Forgotten { id: "bbb2".into() },
        ]
    );
    assert_eq!(api.urls("bbb2"), vec![APP.to_owned()]);
    assert_eq!(
        api.take_calls(),
        vec!["list bbb1", "list bbb2", "destroy bbb2"]
    );
    assert_eq!(r.sync(&one, &[], &mut api, t0 + secs(20)), vec![]);
    assert_eq!(api.take_calls(), vec!["list bbb1"]);
}

#[test]
fn a_departed_server_that_stays_unreachable_is_given_up() {
    let (mut r, mut api, t0) = (reconciler(), Fake::default(), Instant::now());
    r.sync(
        &pool(&[server("bbb1", State::Enabled, true)]),
        &[],
        &mut api,
        t0,
    );
    api.server("bbb1").down = true;
    let empty = Pool::default();
    let changes = r.sync(&empty, &[], &mut api, t0 + secs(10));
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0], Change::Left { id: "bbb1".into() });
    let mut last = Vec::new();
    for n in 2..=400 {
        last = r.sync(&empty, &[], &mut api, t0 + secs(10 * n));
        if !last.is_empty() {
            break;
        }
    }
    assert!(
        matches!(&last[..], [Change::GaveUp { id, .. }] if id == "bbb1"),
        "{last:?}"
    );
    assert!(r.status().is_empty());
    api.take_calls();
    r.sync(&empty, &[], &mut api, t0 + secs(9999));
    assert!(api.take_calls().is_empty());
}

#[test]
fn a_disabled_server_loses_its_hook_and_gets_one_when_enabled_again() {
    let (mut r, mut api, t0) = (reconciler(), Fake::default(), Instant::now());
    r.sync(
        &pool(&[server("bbb1", State::Enabled, true)]),
        &[],
        &mut api,
        t0,
    );
    let disabled = pool(&[server("bbb1", State::Disabled, true)]);
    assert_eq!(
        r.sync(&disabled, &[], &mut api, t0 + secs(10)),
        vec![Change::Removed {
            id: "bbb1".into(),
            count: 1,
            doom: Doom::Unwanted(Gone::Disabled)
        }]
    );
    api.take_calls();
    assert_eq!(r.sync(&disabled, &[], &mut api, t0 + secs(20)), vec![]);
    assert!(
        api.take_calls().is_empty(),
        "a cleaned disabled server is left alone"
    );
    let enabled = pool(&[server("bbb1", State::Enabled, true)]);
    assert_eq!(
        r.sync(&enabled, &[], &mut api, t0 + secs(30)),
        vec![created("bbb1", "h2", Reason::Enabled)]
    );
}

#[test]
fn a_disabled_server_keeps_its_hook_through_the_grace() {
    let settings = Settings {
        disabled_grace: secs(3600),
        ..Settings::default()
    };
    let mut r = Reconciler::new(RelayUrl::parse(RELAY).expect("url"), vec![], settings);
    let (mut api, t0) = (Fake::default(), Instant::now());
    r.sync(
        &pool(&[server("bbb1", State::Cordoned, true)]),
        &[],
        &mut api,
        t0,
    );
    let disabled = pool(&[server("bbb1", State::Disabled, true)]);
    assert_eq!(r.sync(&disabled, &[], &mut api, t0 + secs(10)), vec![]);
    assert_eq!(r.sync(&disabled, &[], &mut api, t0 + secs(3600)), vec![]);
    assert_eq!(api.urls("bbb1"), vec![relay_of("bbb1")]);
    let changes = r.sync(&disabled, &[], &mut api, t0 + secs(3610));
    assert!(
        matches!(&changes[..], [Change::Removed { .. }]),
        "{changes:?}"
    );
}

#[test]
fn a_server_whose_record_cannot_be_read_is_held() {
    let (mut r, mut api, t0) = (reconciler(), Fake::default(), Instant::now());
    let p = pool(&[server("bbb1", State::Enabled, true)]);
    r.sync(&p, &[], &mut api, t0);
    api.take_calls();
    let held = ["bbb1".to_owned()];
    let empty = Pool::default();
    assert_eq!(
        r.sync(&empty, &held, &mut api, t0 + secs(10)),
        vec![Change::Held { id: "bbb1".into() }]
    );
    assert_eq!(r.sync(&empty, &held, &mut api, t0 + secs(20)), vec![]);
    assert!(api.take_calls().is_empty());
    assert_eq!(api.urls("bbb1"), vec![relay_of("bbb1")]);
    assert_eq!(r.sync(&p, &[], &mut api, t0 + secs(30)), vec![]);
}

#[test]
fn a_permanent_relay_hook_that_should_go_is_reported_once() {
    let (mut r, mut api, t0) = (reconciler(), Fake::default(), Instant::now());
    api.add("bbb1", "p", &relay_of("bbb1"));
    api.server("bbb1").hooks[0].permanent = true;
    let disabled = pool(&[server("bbb1", State::Disabled, true)]);
    let changes = r.sync(&disabled, &[], &mut api, t0);
    assert_eq!(
        changes[1],
        Change::Stuck {
            id: "bbb1".into(),
            hooks: vec!["p".into()]
        }
    );
    assert_eq!(r.sync(&disabled, &[], &mut api, t0 + secs(10)), vec![]);
}
