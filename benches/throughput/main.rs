//! Throughput benchmark of the real `bbb-webhooks` binary, driven from outside: a private
//! redis-server, the service process, an HTTP receiver; it prints per-scenario figures
//! and the targets as pass/fail. Run: `cargo bench --bench throughput -- --help`.
#![forbid(unsafe_code)]

mod load;
mod receiver;
// The integration tests' Redis harness, so both start Redis the same way;
// the bench uses a part of it.
#[allow(dead_code)]
#[path = "../../tests/support/redis_server.rs"]
mod redis_server;
mod report;
mod selftest;
mod service;
mod stats;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use load::{MessageKind, ProbeResult, Prober, Publisher};
use receiver::{BlackHole, Receiver};
use redis_server::Redis;
use report::{header, loadavg, print_outcome, summary};
use service::{RssSampler, Service, ServiceConfig};
use stats::{Latency, Quality};

const SECRET: &str = "bench-shared-secret-0123456789";
const HELP: &str = "\
usage: cargo bench --bench throughput -- [options]

  --scenario NAME        burst1 | burst10 | steady | isolation | all (default all; repeatable,
                         or comma-separated). isolation also runs steady, its baseline.
                         burst1000 (1,000 hooks; not in all) measures memory at scale.
  --message KIND         raw-chat (default) | mapped-chat
  --events N             events per burst (default 2000)
  --rate N               steady events per second (default 100)
  --seconds S            steady duration in seconds (default 10)
  --timeout S            seconds to wait for deliveries after the last publish (default 60)
  --stall S              stop waiting earlier when nothing new arrived for S seconds
                         (default 15; isolation's black holes cost 5 s per attempt)
  --workers N            BBB_WEBHOOKS_DELIVERY_WORKERS (default: the service's own)
  --request-timeout-ms N BBB_WEBHOOKS_REQUEST_TIMEOUT_MS (default 5000)
  --ceiling N            POSTs of the receiver-ceiling measurement before each burst
                         (default 20000)
  --repeat N             run the scenario list N times (default 1); the summary takes
                         each scenario's median run, and losses and maxima over all runs
  --env KEY=VALUE        extra service environment, e.g. BBB_WEBHOOKS_MULTI_EVENT=20
                         (repeatable)
  --service-bin PATH     run another build of the service (same environment interface)
                         instead of this crate's bbb-webhooks
  --compare PATH         also run every scenario against this service (same environment
                         interface, e.g. a wrapper that starts another implementation),
                         alternating with the first one under the same receiver ceiling,
                         and print both side by side with their ratios
  --selftest             check the receiver, parser, Redis and publisher, then exit
                         (also what runs without any argument, e.g. under cargo test)
";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Scenario {
    Burst1,
    Burst10,
    Steady,
    Isolation,
    /// 1,000 hooks: the memory one event shared by many hooks costs. Not in
    /// `all`; pick it by name (with `--events 100`, say).
    Burst1000,
}

impl Scenario {
    const ALL: [Scenario; 4] = [
        Scenario::Burst1,
        Scenario::Burst10,
        Scenario::Steady,
        Scenario::Isolation,
    ];

    fn name(self) -> &'static str {
        match self {
            Scenario::Burst1 => "burst1",
            Scenario::Burst10 => "burst10",
            Scenario::Steady => "steady",
            Scenario::Isolation => "isolation",
            Scenario::Burst1000 => "burst1000",
        }
    }
}

struct Opts {
    scenarios: Vec<Scenario>,
    kind: MessageKind,
    events: u64,
    rate: f64,
    seconds: f64,
    timeout: Duration,
    stall: Duration,
    workers: Option<usize>,
    request_timeout_ms: u64,
    ceiling: u64,
    binary: String,
    /// Another service run next to `binary` (`--compare`).
    compare: Option<String>,
    env: Vec<(String, String)>,
    repeat: usize,
    selftest: bool,
}

fn parse_args(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        scenarios: Vec::new(),
        kind: MessageKind::RawChat,
        events: 2000,
        rate: 100.0,
        seconds: 10.0,
        timeout: Duration::from_secs(60),
        stall: Duration::from_secs(15),
        workers: None,
        request_timeout_ms: 5000,
        ceiling: 20_000,
        binary: service::OWN_BINARY.to_owned(),
        compare: None,
        env: Vec::new(),
        repeat: 1,
        // Without arguments (cargo test runs bench targets so), only check ourselves.
        selftest: args.is_empty(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |what: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs {what}"))
        };
        let num = |s: String, a: &str| -> Result<f64, String> {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| format!("{a}: not a positive number: {s}"))
        };
        match a.as_str() {
            "--bench" => {}
            "--selftest" => o.selftest = true,
            "--help" | "-h" => return Err(String::new()),
            "--scenario" => {
                for name in value("a name")?.split(',') {
                    let picked: Vec<Scenario> = match name {
                        "all" => Scenario::ALL.to_vec(),
                        "burst1000" => vec![Scenario::Burst1000],
                        n => Scenario::ALL
                            .into_iter()
                            .filter(|s| s.name() == n)
                            .collect(),
                    };
                    if picked.is_empty() {
                        return Err(format!("unknown scenario {name}"));
                    }
                    o.scenarios.extend(picked);
                }
            }
            "--message" => {
                o.kind = match value("a kind")?.as_str() {
                    "raw-chat" => MessageKind::RawChat,
                    "mapped-chat" => MessageKind::MappedChat,
                    k => return Err(format!("unknown message kind {k}")),
                }
            }
            "--events" => o.events = num(value("a count")?, a)? as u64,
            "--rate" => o.rate = num(value("a rate")?, a)?,
            "--seconds" => o.seconds = num(value("seconds")?, a)?,
            "--timeout" => o.timeout = Duration::from_secs_f64(num(value("seconds")?, a)?),
            "--stall" => o.stall = Duration::from_secs_f64(num(value("seconds")?, a)?),
            "--workers" => o.workers = Some(num(value("a count")?, a)? as usize),
            "--request-timeout-ms" => o.request_timeout_ms = num(value("ms")?, a)? as u64,
            "--ceiling" => o.ceiling = num(value("a count")?, a)? as u64,
            "--repeat" => o.repeat = num(value("a count")?, a)? as usize,
            "--service-bin" => o.binary = value("a path")?,
            "--compare" => o.compare = Some(value("a path")?),
            "--env" => {
                let kv = value("KEY=VALUE")?;
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| format!("--env {kv}: expected KEY=VALUE"))?;
                o.env.push((k.to_owned(), v.to_owned()));
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if o.scenarios.is_empty() {
        o.scenarios = Scenario::ALL.to_vec();
    }
    if o.scenarios.contains(&Scenario::Isolation) && !o.scenarios.contains(&Scenario::Steady) {
        let at = o
            .scenarios
            .iter()
            .position(|s| *s == Scenario::Isolation)
            .unwrap_or(0);
        o.scenarios.insert(at, Scenario::Steady);
    }
    o.scenarios.dedup();
    Ok(o)
}

/// What one scenario asks for.
struct Spec {
    scenario: Scenario,
    hooks: usize,
    black_holes: usize,
    events: u64,
    rate: Option<f64>,
}

impl Spec {
    fn of(s: Scenario, o: &Opts) -> Spec {
        let steady_events = (o.rate * o.seconds).round().max(1.0) as u64;
        let (hooks, black_holes, events, rate) = match s {
            Scenario::Burst1 => (1, 0, o.events, None),
            Scenario::Burst10 => (10, 0, o.events, None),
            Scenario::Steady => (10, 0, steady_events, Some(o.rate)),
            Scenario::Isolation => (10, 3, steady_events, Some(o.rate)),
            Scenario::Burst1000 => (1000, 0, o.events, None),
        };
        Spec {
            scenario: s,
            hooks,
            black_holes,
            events,
            rate,
        }
    }
}

/// What one scenario measured.
struct Outcome {
    name: &'static str,
    /// Which service ran: 0 is `--service-bin` (or this crate's), 1 is `--compare`.
    service: usize,
    hooks: usize,
    black_holes: usize,
    events: u64,
    completed: bool,
    /// Why waiting stopped, when not complete.
    stop_reason: &'static str,
    /// First publish to last unique arrival.
    span: Duration,
    publish: Duration,
    rate: f64,
    quality: Quality,
    latency: Latency,
    posts: u64,
    other_events: u64,
    malformed: u64,
    unsigned: u64,
    bad_checksum: u64,
    rss_idle_kb: u64,
    rss_peak_kb: u64,
    rss_samples: u64,
    hwm_kb: u64,
    cpu_s: f64,
    /// Context switches of the service's threads during the scenario.
    switches: u64,
    probe: ProbeResult,
    /// Which run of the scenario list (from 1).
    run: usize,
    /// Receiver ceiling measured before the scenario (deliveries/s, failed POSTs).
    ceiling: Option<(f64, u64)>,
    /// /proc/loadavg before the scenario.
    load_before: String,
}

impl Outcome {
    fn cpu_ms_per_delivery(&self) -> f64 {
        if self.quality.unique == 0 {
            f64::NAN
        } else {
            self.cpu_s * 1000.0 / self.quality.unique as f64
        }
    }

    fn switches_per_delivery(&self) -> f64 {
        if self.quality.unique == 0 {
            f64::NAN
        } else {
            self.switches as f64 / self.quality.unique as f64
        }
    }
}

fn run_scenario(
    spec: &Spec,
    o: &Opts,
    binary: &str,
    start: Instant,
    ticks: u64,
) -> Result<Outcome, String> {
    let redis = Redis::try_start(Duration::from_secs(10))?;
    let cfg = ServiceConfig {
        redis_url: redis.url(),
        secret: SECRET.to_owned(),
        workers: o.workers,
        request_timeout_ms: o.request_timeout_ms,
        binary: binary.to_owned(),
        env: o.env.clone(),
    };
    let mut svc = Service::start(&cfg, Duration::from_secs(15))?;
    let pid = svc.guard.pid();
    let receiver = Receiver::start(start, SECRET);
    let holes: Vec<BlackHole> = (0..spec.black_holes).map(|_| BlackHole::start()).collect();
    for i in 0..spec.hooks {
        svc.api.create(&receiver.url(i))?;
    }
    for h in &holes {
        svc.api.create(&h.url())?;
    }
    let listed = svc.api.list()?;
    if listed != spec.hooks + spec.black_holes {
        return Err(format!(
            "hooks/list shows {listed} hooks, {} were created",
            spec.hooks + spec.black_holes
        ));
    }

    let mut publisher = Publisher::new(redis.conn(), o.kind, start);
    let until = Instant::now() + Duration::from_secs(10);
    while publisher.chat_subscribers()? < 1 {
        if let Some(why) = svc.guard.exited() {
            return Err(why);
        }
        if Instant::now() >= until {
            return Err(format!(
                "the service did not subscribe to {} within 10 s",
                load::CHAT_CHANNEL
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let rss_idle_kb = service::status_kb(pid, "VmRSS:").unwrap_or(0);
    if o.kind == MessageKind::RawChat {
        publisher.publish_raw(load::MEETING_CHANNEL, &load::meeting_created())?;
    }
    // Warm-up: one event through every healthy hook, so connections are open and the
    // message kind is known to be delivered before anything is measured.
    receiver.reset(spec.hooks, spec.events as usize);
    publisher.warmup()?;
    let warm = receiver.wait_until(Instant::now() + Duration::from_secs(10), |r| {
        (0..spec.hooks).all(|h| r.warmups.get(&h).copied().unwrap_or(0) > 0)
    });
    if !warm {
        let got = receiver.lock().warmups.len();
        return Err(format!(
            "the warm-up event reached {got} of {} hooks within 10 s (does the service map {} messages?)",
            spec.hooks,
            o.kind.name()
        ));
    }
    receiver.reset(spec.hooks, spec.events as usize);

    let cpu0 = service::cpu_ticks(pid).ok_or("cannot read the service's /proc stat")?;
    let switches0 = service::context_switches(pid).unwrap_or(0);
    let sampler = RssSampler::start(pid, Duration::from_millis(2));
    let prober = Prober::start(svc.api.clone(), Duration::from_millis(10));
    let first_publish_ns = start.elapsed().as_nanos() as u64;
    let publish = publisher.run(spec.events, spec.rate)?;
    let expected = spec.hooks as u64 * spec.events;
    let (completed, stop_reason) = wait_for_all(&receiver, expected, o, start);
    let cpu1 = service::cpu_ticks(pid).unwrap_or(cpu0);
    let switches1 = service::context_switches(pid).unwrap_or(switches0);
    let probe = prober.finish();
    // A short window for late duplicates.
    std::thread::sleep(Duration::from_millis(200));
    let (rss_peak_kb, rss_samples) = sampler.finish();
    let hwm_kb = service::status_kb(pid, "VmHWM:").unwrap_or(0);
    if let Some(why) = svc.guard.exited() {
        eprintln!("warning: {why} during the scenario");
    }

    let r = receiver.lock();
    let quality = stats::quality(&r.deliveries, spec.hooks, spec.events);
    let latency = stats::latency(&r.deliveries, |_| true);
    let span = Duration::from_nanos(r.last_unique_ns.saturating_sub(first_publish_ns));
    let rate = if span.is_zero() {
        0.0
    } else {
        quality.unique as f64 / span.as_secs_f64()
    };
    Ok(Outcome {
        name: spec.scenario.name(),
        service: 0,
        hooks: spec.hooks,
        black_holes: spec.black_holes,
        events: spec.events,
        completed,
        stop_reason,
        span,
        publish,
        rate,
        quality,
        latency,
        posts: r.posts,
        other_events: r.other_events,
        malformed: r.malformed,
        unsigned: r.unsigned,
        bad_checksum: r.bad_checksum,
        rss_idle_kb,
        rss_peak_kb: rss_peak_kb.max(rss_idle_kb),
        rss_samples,
        hwm_kb,
        cpu_s: cpu1.saturating_sub(cpu0) as f64 / ticks as f64,
        switches: switches1.saturating_sub(switches0),
        probe,
        ceiling: None,
        load_before: String::new(),
        run: 1,
    })
}

/// Waits until `expected` unique deliveries arrived, at most `--timeout`, and gives up
/// early when nothing new arrived for `--stall` (e.g. the service dropped events).
fn wait_for_all(
    receiver: &Receiver,
    expected: u64,
    o: &Opts,
    start: Instant,
) -> (bool, &'static str) {
    let waiting_since = start.elapsed();
    let hard = Instant::now() + o.timeout;
    loop {
        let step = (Instant::now() + Duration::from_millis(500)).min(hard);
        if receiver.wait_until(step, |r| r.unique >= expected) {
            return (true, "");
        }
        if Instant::now() >= hard {
            return (false, "NO (timed out)");
        }
        let last = Duration::from_nanos(receiver.lock().last_unique_ns).max(waiting_since);
        if start.elapsed().saturating_sub(last) >= o.stall {
            return (false, "NO (stalled: nothing new for --stall)");
        }
    }
}

/// The receiver's ceiling: deliveries/s of 10 keep-alive clients POSTing straight to it.
fn measure_ceiling(count: u64, start: Instant) -> Result<(f64, u64), String> {
    let threads = 10;
    let per_thread = count.div_ceil(threads);
    let receiver = Receiver::start(start, SECRET);
    receiver.reset(1, (per_thread * threads) as usize);
    let (failed, took) = load::ceiling(&receiver.url(0), threads as usize, per_thread)?;
    let unique = receiver.lock().unique;
    Ok((unique as f64 / took.as_secs_f64(), failed))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = match parse_args(&args) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("throughput: {e}\n\n{HELP}");
            return ExitCode::FAILURE;
        }
    };
    if o.selftest {
        return selftest::run();
    }
    header(&o);
    let start = Instant::now();
    let ticks = service::clock_ticks();
    let mut outcomes = Vec::new();
    let mut failed = false;
    let runs = (1..=o.repeat).flat_map(|run| o.scenarios.iter().map(move |&s| (run, s)));
    for (run, s) in runs {
        let spec = Spec::of(s, &o);
        // The ceiling is taken right before each burst, alone on the machine, because
        // it moves with whatever else the host runs.
        let ceiling = if spec.rate.is_none() {
            match measure_ceiling(o.ceiling, start) {
                Ok(c) => Some(c),
                Err(e) => {
                    println!("\n({}: receiver ceiling not measured: {e})", s.name());
                    None
                }
            }
        } else {
            None
        };
        // With --compare, both services run under the same ceiling, in turns that
        // alternate from one run to the next so neither always goes first.
        let mut services: Vec<(usize, &str)> = vec![(0, o.binary.as_str())];
        if let Some(c) = &o.compare {
            services.push((1, c.as_str()));
            if run % 2 == 0 {
                services.reverse();
            }
        }
        for (service, binary) in services {
            let load_before = loadavg();
            match run_scenario(&spec, &o, binary, start, ticks) {
                Ok(mut out) => {
                    out.service = service;
                    out.ceiling = ceiling;
                    out.load_before = load_before;
                    out.run = run;
                    // The baseline of isolation is the steady scenario of the same run.
                    let baseline = (out.black_holes > 0)
                        .then(|| {
                            outcomes.iter().rev().find(|b: &&Outcome| {
                                b.name == "steady" && b.run == run && b.service == service
                            })
                        })
                        .flatten();
                    print_outcome(&out, &o, baseline);
                    outcomes.push(out);
                }
                Err(e) => {
                    println!("\n== {} ({binary}): could not run: {e}", s.name());
                    failed = true;
                }
            }
        }
    }
    let (own, other): (Vec<Outcome>, Vec<Outcome>) =
        outcomes.into_iter().partition(|out| out.service == 0);
    summary(&own, o.repeat);
    if let Some(c) = &o.compare {
        report::comparison(&own, &other, &o.binary, c, o.repeat);
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
