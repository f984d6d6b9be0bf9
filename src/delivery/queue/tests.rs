//! Transition by transition: [`Queue`] as a function of its inputs.

use super::*;
use crate::delivery::outcome::classify;
use crate::delivery::retry::{GiveUp, Policy};
use crate::delivery::Event;
use std::time::Duration;

fn item(n: u32) -> Item {
    Event::new(format!("e-{n}"), format!("{{\"n\":{n}}}"))
}

fn queue(n: u32) -> Queue {
    Queue::with_items((0..n).map(item))
}

fn ids(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i.id.to_string()).collect()
}

fn policy() -> Policy {
    Policy {
        intervals: vec![Duration::from_millis(100), Duration::from_millis(500)],
        remove_failed: false,
    }
}

fn http(status: u16) -> Failure {
    classify(status, None, None).expect_err("a failure")
}

#[test]
fn push_below_the_cap_queues_in_order() {
    let mut q = Queue::default();
    assert_eq!(q.push(item(1), 2), Pushed::Queued);
    assert_eq!(q.push(item(2), 2), Pushed::Queued);
    assert_eq!(ids(&q.lease(10).expect("ready")), ["e-1", "e-2"]);
}

#[test]
fn push_at_the_cap_drops_and_says_first_once_until_drained() {
    let mut q = queue(4);
    assert_eq!(q.push(item(9), 4), Pushed::Dropped { first: true });
    assert_eq!(q.push(item(9), 4), Pushed::Dropped { first: false });
    assert_eq!(q.status(3).dropped, 2);
    q.lease(1);
    q.ack(1, 4);
    assert_eq!(q.push(item(9), 4), Pushed::Queued);
    assert_eq!(
        q.push(item(9), 4),
        Pushed::Dropped { first: false },
        "not below half yet"
    );
    q.lease(3);
    q.ack(3, 4);
    q.push(item(9), 4);
    q.push(item(9), 4);
    q.push(item(9), 4);
    assert_eq!(
        q.push(item(9), 4),
        Pushed::Dropped { first: true },
        "drained below half"
    );
}

#[test]
fn lease_takes_up_to_n_from_the_head_and_only_one_lease_at_a_time() {
    let mut q = queue(5);
    assert_eq!(ids(&q.lease(3).expect("ready")), ["e-0", "e-1", "e-2"]);
    assert_eq!(q.leased(), 3);
    assert!(!q.is_ready());
    assert!(q.lease(3).is_none());
    assert!(Queue::default().lease(3).is_none(), "nothing pending");
}

#[test]
fn acks_remove_from_the_front_as_the_lease_goes_on() {
    let mut q = queue(5);
    q.lease(3);
    assert_eq!(q.ack(2, 100).items.len(), 2);
    assert_eq!(q.leased(), 1);
    assert!(!q.is_ready(), "still leased");
    q.ack(1, 100);
    assert_eq!(q.leased(), 0);
    assert_eq!(ids(&q.lease(10).expect("ready")), ["e-3", "e-4"]);
}

#[test]
fn an_ended_lease_leases_the_unacknowledged_events_again_first() {
    let mut q = queue(4);
    q.lease(3);
    q.ack(1, 100);
    q.end_lease();
    assert_eq!(ids(&q.lease(10).expect("ready")), ["e-1", "e-2", "e-3"]);
}

#[test]
fn after_a_failure_the_same_events_come_again_in_order_once_the_retry_is_due() {
    let mut q = queue(4);
    q.lease(4);
    q.ack(1, 100);
    let now = Instant::now();
    let (d, at) = q.fail(&http(500), &policy(), false, now);
    assert!(matches!(
        d,
        Decision::Retry {
            exhausted: false,
            ..
        }
    ));
    let at = at.expect("a retry time");
    assert_eq!(at, now + Duration::from_millis(100));
    assert!(!q.is_ready(), "waits for the retry");
    assert!(!q.retry_due(now), "a stale timer is ignored");
    assert!(q.retry_due(at));
    assert_eq!(ids(&q.lease(10).expect("ready")), ["e-1", "e-2", "e-3"]);
    let s = q.status(policy().attempts());
    assert_eq!((s.failures, s.last_error.as_deref()), (1, Some("HTTP 500")));
}

#[test]
fn a_success_ends_the_failure_streak() {
    let mut q = queue(2);
    q.lease(1);
    let (_, at) = q.fail(&http(500), &policy(), false, Instant::now());
    q.retry_due(at.expect("retry"));
    q.lease(1);
    let a = q.ack(1, 100);
    assert_eq!(a.recovered_after, 1);
    assert_eq!(q.failures(), 0);
    assert_eq!(q.status(3).last_error, None);
}

#[test]
fn an_exhausted_schedule_shows_as_failing() {
    let mut q = queue(1);
    let p = policy();
    for _ in 0..p.attempts() {
        q.lease(1);
        let (d, at) = q.fail(&http(503), &p, false, Instant::now());
        assert!(matches!(d, Decision::Retry { .. }));
        q.retry_due(at.expect("retry"));
    }
    let s = q.status(p.attempts());
    assert!(s.failing);
    assert_eq!(s.pending, 1);
}

#[test]
fn a_410_gives_the_hook_up_and_arms_no_timer() {
    let mut q = queue(2);
    q.lease(2);
    let (d, at) = q.fail(&http(410), &policy(), false, Instant::now());
    assert_eq!(d, Decision::GiveUp(GiveUp::Gone));
    assert_eq!(at, None);
}

#[test]
fn a_permanent_hook_is_retried_even_after_410() {
    let mut q = queue(1);
    q.lease(1);
    let (d, at) = q.fail(&http(410), &policy(), true, Instant::now());
    assert!(matches!(d, Decision::Retry { .. }));
    assert!(at.is_some());
}

#[test]
fn retry_after_sets_the_retry_time() {
    let mut q = queue(1);
    q.lease(1);
    let f = classify(429, Some("7"), None).expect_err("429");
    let now = Instant::now();
    let (_, at) = q.fail(&f, &policy(), false, now);
    assert_eq!(at, Some(now + Duration::from_secs(7)));
}

#[test]
fn a_deferred_queue_waits_without_counting_a_failure() {
    let mut q = queue(1);
    q.lease(1);
    let at = Instant::now() + Duration::from_secs(1);
    q.defer(at);
    assert!(!q.is_ready());
    assert_eq!(q.failures(), 0);
    assert!(q.retry_due(at));
    assert!(q.is_ready());
}

#[test]
fn a_queue_with_nothing_pending_or_leased_is_idle() {
    let mut q = queue(1);
    assert!(!q.is_idle());
    q.lease(1);
    q.ack(1, 10);
    assert!(q.is_idle());
}

#[test]
fn a_full_queue_says_so_and_refused_events_count_as_dropped() {
    let mut q = queue(2);
    assert!(q.is_full(2) && !q.is_full(3));
    q.refuse();
    assert_eq!(q.status(3).dropped, 1);
}

#[test]
fn taking_all_empties_the_queue_and_ends_the_lease() {
    let mut q = queue(3);
    q.lease(2);
    assert_eq!(ids(&q.take_all()), ["e-0", "e-1", "e-2"]);
    assert!(q.is_idle());
}

#[test]
fn dropping_the_head_goes_on_with_the_next_event_at_once() {
    let mut q = queue(3);
    q.lease(1);
    let refused = crate::delivery::outcome::classify_lrs(400, None, "").expect_err("400");
    let (_, at) = q.fail(&refused, &policy(), true, Instant::now());
    assert!(at.is_some());
    let dropped = q.drop_head().expect("the head");
    assert_eq!(&*dropped.id, "e-0");
    assert_eq!(q.failures(), 0);
    assert_eq!(ids(&q.lease(10).expect("ready at once")), ["e-1", "e-2"]);
    assert_eq!(q.status(3).dropped, 1);
}
