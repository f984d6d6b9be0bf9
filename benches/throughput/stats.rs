//! Figures from recorded deliveries: throughput, latency percentiles, and lost,
//! duplicated and out-of-order deliveries per hook. Pure functions, no I/O.

use crate::receiver::Delivery;

/// Delivery quality of one run.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Quality {
    /// Deliveries expected: events x hooks.
    pub expected: u64,
    /// Unique (hook, seq) pairs received.
    pub unique: u64,
    /// expected - unique.
    pub lost: u64,
    /// Deliveries of a (hook, seq) already received.
    pub duplicated: u64,
    /// Deliveries whose seq is below the highest seq the hook had already received.
    pub out_of_order: u64,
    /// Deliveries with a hook or seq outside the expected range.
    pub unexpected: u64,
}

/// Counts loss, duplicates and order over deliveries in arrival order.
pub fn quality(deliveries: &[Delivery], hooks: usize, events: u64) -> Quality {
    let mut seen = vec![vec![false; events as usize]; hooks];
    let mut max_seq: Vec<Option<u64>> = vec![None; hooks];
    let mut q = Quality {
        expected: hooks as u64 * events,
        ..Quality::default()
    };
    for d in deliveries {
        let Some(slot) = seen.get_mut(d.hook).and_then(|s| s.get_mut(d.seq as usize)) else {
            q.unexpected += 1;
            continue;
        };
        if *slot {
            q.duplicated += 1;
        } else {
            *slot = true;
            q.unique += 1;
        }
        let m = &mut max_seq[d.hook];
        match *m {
            Some(top) if d.seq < top => q.out_of_order += 1,
            _ => *m = Some(d.seq),
        }
    }
    q.lost = q.expected - q.unique;
    q
}

/// Latency percentiles in ns.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Latency {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
    pub count: u64,
}

/// Latency (arrival - publish) over the deliveries that `keep` accepts.
pub fn latency(deliveries: &[Delivery], keep: impl Fn(&Delivery) -> bool) -> Latency {
    let mut l: Vec<u64> = deliveries
        .iter()
        .filter(|d| keep(d))
        .map(|d| d.arrived_ns.saturating_sub(d.sent_ns))
        .collect();
    if l.is_empty() {
        return Latency::default();
    }
    l.sort_unstable();
    let pick = |p: f64| l[(((l.len() as f64) * p).ceil() as usize).clamp(1, l.len()) - 1];
    Latency {
        p50: pick(0.50),
        p90: pick(0.90),
        p99: pick(0.99),
        max: l[l.len() - 1],
        count: l.len() as u64,
    }
}

/// Formats ns as ms with 3 decimals.
pub fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

/// Self-checks of this module; panics on failure.
pub fn selftest() {
    let d = |hook, seq, arrived_ns| Delivery {
        hook,
        seq,
        sent_ns: 0,
        arrived_ns,
    };
    let ds = [
        d(0, 0, 10),
        d(0, 2, 20),
        d(0, 1, 30),
        d(0, 2, 40),
        d(1, 0, 5),
        d(3, 0, 1),
    ];
    let q = quality(&ds, 2, 3);
    assert_eq!(
        q,
        Quality {
            expected: 6,
            unique: 4,
            lost: 2,
            duplicated: 1,
            out_of_order: 1,
            unexpected: 1,
        }
    );
    let lat: Vec<Delivery> = (1..=100).map(|i| d(0, i, i * 1000)).collect();
    let l = latency(&lat, |_| true);
    assert_eq!(
        (l.p50, l.p90, l.p99, l.max, l.count),
        (50_000, 90_000, 99_000, 100_000, 100)
    );
    assert_eq!(latency(&[], |_| true), Latency::default());
    assert_eq!(ms(1_234_567), "1.235");
}
