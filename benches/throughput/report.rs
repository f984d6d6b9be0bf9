//! The printed report: the run's header, a table per scenario and the summary of
//! targets as pass/fail. It measures nothing.

use std::time::Duration;

use crate::load::ProbeResult;
use crate::service;
use crate::stats::ms;
use crate::{Opts, Outcome};

pub fn print_outcome(o: &Outcome, opts: &Opts, baseline: Option<&Outcome>) {
    let q = &o.quality;
    let which = match (&opts.compare, o.service) {
        (None, _) => String::new(),
        (Some(_), 0) => format!(" [{}]", opts.binary),
        (Some(c), _) => format!(" [{c}]"),
    };
    println!(
        "\n== {}{which}{}: {} hooks{} x {} events = {} deliveries",
        o.name,
        if opts.repeat > 1 {
            format!(" (run {} of {})", o.run, opts.repeat)
        } else {
            String::new()
        },
        o.hooks,
        if o.black_holes > 0 {
            format!(" (+{} that never answer)", o.black_holes)
        } else {
            String::new()
        },
        o.events,
        q.expected
    );
    let done = if o.completed { "yes" } else { o.stop_reason };
    println!(
        "  completed      {done}; published in {:.3} s, last arrival {:.3} s after first publish",
        o.publish.as_secs_f64(),
        o.span.as_secs_f64()
    );
    let frac = o
        .ceiling
        .map(|(c, _)| format!(" ({:.2} of the receiver ceiling)", o.rate / c))
        .unwrap_or_default();
    println!("  deliveries/s   {:.0}{frac}", o.rate);
    if let Some((c, failed)) = o.ceiling {
        println!(
            "  ceiling        {c:.0}/s: {} POSTs of 1 event from 10 keep-alive clients straight to the receiver, {failed} failed",
            opts.ceiling
        );
    }
    println!("  load average   {} (before)", o.load_before);
    let l = &o.latency;
    println!(
        "  latency ms     p50 {}  p90 {}  p99 {}  max {}  (n={})",
        ms(l.p50),
        ms(l.p90),
        ms(l.p99),
        ms(l.max),
        l.count
    );
    if let Some(b) = baseline {
        let (w, wo) = (&o.latency, &b.latency);
        println!(
            "  vs {:<11} healthy hooks with / without the silent ones: p50 {} / {}  p90 {} / {}  p99 {} / {}  max {} / {}",
            b.name,
            ms(w.p50),
            ms(wo.p50),
            ms(w.p90),
            ms(wo.p90),
            ms(w.p99),
            ms(wo.p99),
            ms(w.max),
            ms(wo.max)
        );
    }
    println!(
        "  lost/dup/ooo   {} / {} / {}  (unexpected {}, other events {}, malformed {})",
        q.lost, q.duplicated, q.out_of_order, q.unexpected, o.other_events, o.malformed
    );
    let per_post = if o.posts > 0 {
        (q.unique + q.duplicated) as f64 / o.posts as f64
    } else {
        0.0
    };
    println!(
        "  POSTs          {} ({per_post:.2} events per POST, {} unsigned, {} with a wrong checksum)",
        o.posts, o.unsigned, o.bad_checksum
    );
    println!(
        "  RSS MB         idle {:.1}  peak {:.1}  VmHWM {:.1}  ({} samples)",
        o.rss_idle_kb as f64 / 1024.0,
        o.rss_peak_kb as f64 / 1024.0,
        o.hwm_kb as f64 / 1024.0,
        o.rss_samples
    );
    println!(
        "  CPU            {:.2} s; {:.3} s per 1000 deliveries ({:.4} ms per delivery); {:.2} context switches per delivery",
        o.cpu_s,
        o.cpu_ms_per_delivery(),
        o.cpu_ms_per_delivery(),
        o.switches_per_delivery()
    );
    let p = &o.probe;
    println!(
        "  API max ms     ping {}  list {}  ({} calls, {} errors)",
        ms(p.max_ping.as_nanos() as u64),
        ms(p.max_list.as_nanos() as u64),
        p.calls,
        p.errors
    );
}

/// One row of the summary.
fn target(name: &str, measured: Option<String>, pass: Option<bool>) {
    let verdict = match pass {
        Some(true) => "PASS",
        Some(false) => "FAIL",
        None => "n/a",
    };
    println!(
        "  {name:<46} {:<28} {verdict}",
        measured.unwrap_or_else(|| "not measured".into())
    );
}

/// The median run of scenario `name`: by rate for bursts, by p99 for paced scenarios.
fn median<'a>(outcomes: &'a [Outcome], name: &str) -> Option<&'a Outcome> {
    let mut runs: Vec<&Outcome> = outcomes.iter().filter(|o| o.name == name).collect();
    let paced = matches!(name, "steady" | "isolation");
    runs.sort_by(|a, b| {
        if paced {
            a.latency.p99.cmp(&b.latency.p99)
        } else {
            a.rate.total_cmp(&b.rate)
        }
    });
    runs.get(runs.len() / 2).copied()
}

pub fn summary(outcomes: &[Outcome], repeat: usize) {
    let find = |n: &str| median(outcomes, n);
    if repeat > 1 {
        println!("\n== summary (targets; median run of {repeat}, losses summed and maxima over all runs)");
    } else {
        println!("\n== summary (targets)");
    }
    let b = find("burst10");
    target(
        "burst10 >= 20000 deliveries/s",
        b.map(|b| format!("{:.0}/s", b.rate)),
        b.map(|b| b.completed && b.rate >= 20_000.0),
    );
    target(
        "burst10 >= 1/3 of the receiver ceiling",
        b.and_then(|b| b.ceiling.map(|(c, _)| (b.rate, c)))
            .map(|(r, c)| format!("{:.2} of {c:.0}/s", r / c)),
        b.and_then(|b| b.ceiling.map(|(c, _)| (b.rate, c)))
            .map(|(r, c)| r * 3.0 >= c),
    );
    let mut names: Vec<&str> = Vec::new();
    for o in outcomes {
        if !names.contains(&o.name) {
            names.push(o.name);
        }
    }
    for name in names {
        let (mut lost, mut dup, mut ooo) = (0, 0, 0);
        for q in outcomes
            .iter()
            .filter(|o| o.name == name)
            .map(|o| &o.quality)
        {
            lost += q.lost;
            dup += q.duplicated;
            ooo += q.out_of_order;
        }
        target(
            &format!("{name}: lost / dup / out-of-order = 0"),
            Some(format!("{lost} / {dup} / {ooo}")),
            Some(lost == 0 && dup == 0 && ooo == 0),
        );
    }
    // The API figure is the worst over all burst10 runs.
    let api = outcomes
        .iter()
        .filter(|o| o.name == "burst10")
        .map(|o| o.probe)
        .reduce(|a, b| ProbeResult {
            calls: a.calls + b.calls,
            errors: a.errors + b.errors,
            max_ping: a.max_ping.max(b.max_ping),
            max_list: a.max_list.max(b.max_list),
        });
    target(
        "burst10: API answers within 50 ms",
        api.map(|p| {
            format!(
                "max {} ms, {} errors",
                ms(p.max_ping.max(p.max_list).as_nanos() as u64),
                p.errors
            )
        }),
        api.map(|p| {
            p.calls > 0 && p.errors == 0 && p.max_ping.max(p.max_list) <= Duration::from_millis(50)
        }),
    );
    let s = find("steady");
    target(
        "steady p50 < 1 ms",
        s.map(|s| format!("{} ms", ms(s.latency.p50))),
        s.map(|s| s.completed && s.latency.p50 < 1_000_000),
    );
    target(
        "steady p99 < 3 ms",
        s.map(|s| format!("{} ms", ms(s.latency.p99))),
        s.map(|s| s.completed && s.latency.p99 < 3_000_000),
    );
    let i = find("isolation");
    target(
        "isolation healthy p99 <= 1.5 x steady p99",
        i.zip(s)
            .map(|(i, s)| format!("{} vs {} ms", ms(i.latency.p99), ms(s.latency.p99))),
        i.zip(s)
            .map(|(i, s)| i.completed && i.latency.p99 as f64 <= 1.5 * s.latency.p99 as f64),
    );
    let idle = outcomes.iter().map(|o| o.rss_idle_kb).max();
    let peak = outcomes.iter().map(|o| o.rss_peak_kb.max(o.hwm_kb)).max();
    target(
        "RSS idle < 10 MB (max over scenarios)",
        idle.map(|k| format!("{:.1} MB", k as f64 / 1024.0)),
        idle.map(|k| k < 10 * 1024),
    );
    target(
        "RSS peak < 40 MB (max of sampled, VmHWM)",
        peak.map(|k| format!("{:.1} MB", k as f64 / 1024.0)),
        peak.map(|k| k < 40 * 1024),
    );
    // At 100 events/s the fixed costs (timers, the API prober) dominate; the per-delivery
    // cost is what a burst shows, so the target applies to burst10.
    let cpu = b
        .map(Outcome::cpu_ms_per_delivery)
        .filter(|c| c.is_finite());
    target(
        "burst10 CPU < 0.05 ms per delivery",
        cpu.map(|c| format!("{c:.4} ms")),
        cpu.map(|c| c < 0.05),
    );
}

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
}

pub fn header(o: &Opts) {
    let argv: Vec<String> = std::env::args().collect();
    let user_args: Vec<&str> = argv[1..]
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--bench")
        .collect();
    println!(
        "command: cargo bench --bench throughput -- {}",
        user_args.join(" ")
    );
    println!("argv:    {}", argv.join(" "));
    println!(
        "date:    {}",
        command_output("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]).unwrap_or_else(|| "unknown".into())
    );
    if o.binary == service::OWN_BINARY {
        let dir = env!("CARGO_MANIFEST_DIR");
        let commit = command_output("git", &["-C", dir, "rev-parse", "--short", "HEAD"])
            .unwrap_or_else(|| "unknown".into());
        let dirty = command_output("git", &["-C", dir, "status", "--porcelain", "--", "src"])
            .is_some_and(|s| !s.is_empty());
        println!(
            "service: {} (commit {commit}{})",
            o.binary,
            if dirty { ", src modified" } else { "" }
        );
    } else {
        println!("service: {} (given with --service-bin)", o.binary);
    }
    println!(
        "host:    {} CPUs; message {}; workers {}; request timeout {} ms",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        o.kind.name(),
        o.workers.map_or("default".into(), |w| w.to_string()),
        o.request_timeout_ms
    );
    for (k, v) in &o.env {
        println!("env:     {k}={v}");
    }
}

/// Both services side by side, scenario by scenario (the median run of each),
/// with the ratio of the first to the compared one: above 1 means the first is
/// faster or lighter by that factor.
pub fn comparison(
    own: &[Outcome],
    other: &[Outcome],
    own_name: &str,
    other_name: &str,
    repeat: usize,
) {
    println!(
        "\n== side by side ({}; A = {own_name}, B = {other_name})",
        if repeat > 1 {
            format!("median run of {repeat} each")
        } else {
            "one run each".to_owned()
        }
    );
    let mut names: Vec<&str> = Vec::new();
    for o in own.iter().chain(other) {
        if !names.contains(&o.name) {
            names.push(o.name);
        }
    }
    for name in names {
        let (Some(a), Some(b)) = (median(own, name), median(other, name)) else {
            println!("  {name}: not measured for both");
            continue;
        };
        println!("  {name}");
        let row = |what: &str, a: String, b: String, ratio: Option<f64>| {
            let r = ratio
                .filter(|r| r.is_finite())
                .map(|r| format!("{r:.1} x"))
                .unwrap_or_default();
            println!("    {what:<30} A {a:<24} B {b:<24} {r}");
        };
        let frac = |o: &Outcome| {
            o.ceiling
                .map(|(c, _)| format!(" ({:.2} of ceiling)", o.rate / c))
                .unwrap_or_default()
        };
        row(
            "unique deliveries/s",
            format!("{:.0}{}", a.rate, frac(a)),
            format!("{:.0}{}", b.rate, frac(b)),
            Some(a.rate / b.rate),
        );
        let lost = |o: &Outcome| {
            let q = &o.quality;
            format!("{} / {} / {}", q.lost, q.duplicated, q.out_of_order)
        };
        row("lost / dup / out of order", lost(a), lost(b), None);
        row(
            "latency p50 ms",
            ms(a.latency.p50),
            ms(b.latency.p50),
            Some(b.latency.p50 as f64 / a.latency.p50 as f64),
        );
        row(
            "latency p99 ms",
            ms(a.latency.p99),
            ms(b.latency.p99),
            Some(b.latency.p99 as f64 / a.latency.p99 as f64),
        );
        let api = |o: &Outcome| {
            let p = &o.probe;
            format!(
                "{} ms, {}/{} failed",
                ms(p.max_ping.max(p.max_list).as_nanos() as u64),
                p.errors,
                p.calls
            )
        };
        row("API slowest answer", api(a), api(b), None);
        let mb = |kb: u64| format!("{:.1} MB", kb as f64 / 1024.0);
        row(
            "RSS idle",
            mb(a.rss_idle_kb),
            mb(b.rss_idle_kb),
            Some(b.rss_idle_kb as f64 / a.rss_idle_kb as f64),
        );
        let peak = |o: &Outcome| o.rss_peak_kb.max(o.hwm_kb);
        row(
            "RSS peak",
            mb(peak(a)),
            mb(peak(b)),
            Some(peak(b) as f64 / peak(a) as f64),
        );
        row(
            "CPU ms per delivery",
            format!("{:.4}", a.cpu_ms_per_delivery()),
            format!("{:.4}", b.cpu_ms_per_delivery()),
            Some(b.cpu_ms_per_delivery() / a.cpu_ms_per_delivery()),
        );
        row(
            "context switches per delivery",
            format!("{:.2}", a.switches_per_delivery()),
            format!("{:.2}", b.switches_per_delivery()),
            Some(b.switches_per_delivery() / a.switches_per_delivery()),
        );
    }
}
