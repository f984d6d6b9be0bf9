//! A delivery worker: the job loop. It takes one job (the head of one target's
//! queue), posts it request by request with [`client::post`] and reports how
//! it went. It never waits for a retry; the scheduler does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::client;
use super::outcome::Failure;
use super::Item;
use super::Target;
use crate::config::Config;

/// Successes of one job not yet reported are reported once the oldest is
/// this old: the journal trims a delivered event at most this much later
/// than it would one at a time.
pub const ACK_EVERY: Duration = Duration::from_millis(1);

/// Successes of a job not yet reported.
#[derive(Default)]
struct Acked {
    events: usize,
    requests: usize,
    /// Time the requests took.
    elapsed: Duration,
    since: Option<Instant>,
}

impl Acked {
    fn add(&mut self, events: usize, took: Duration) {
        self.events += events;
        self.requests += 1;
        self.elapsed += took;
        self.since.get_or_insert_with(Instant::now);
    }

    fn due(&self) -> bool {
        self.since.is_some_and(|t| t.elapsed() >= ACK_EVERY)
    }

    fn take(&mut self, hook_id: &Arc<str>, last: bool) -> Done {
        let done = Done {
            hook_id: hook_id.clone(),
            count: self.events,
            requests: self.requests,
            elapsed: self.elapsed,
            result: Ok(()),
            last,
        };
        *self = Acked::default();
        done
    }
}

/// Deliver these events to this target: a lease of the head of its queue.
#[derive(Debug)]
pub struct Job {
    /// The target's queue id, as the scheduler keys its queue.
    pub id: Arc<str>,
    pub target: Target,
    /// The head of the target's queue, posted in order, `per_post` events a
    /// request, one request at a time.
    pub items: Vec<Item>,
    pub per_post: usize,
    /// Set when the hook is removed: the job ends after its current request.
    pub cancelled: Arc<AtomicBool>,
    /// Post on a new connection per request (see `stall.rs`).
    pub fresh: bool,
    /// An LRS target's `Authorization`, made once for its queue.
    pub authorization: Option<client::LrsAuthorization>,
}

/// How a job went.
#[derive(Debug)]
pub struct Done {
    pub hook_id: Arc<str>,
    /// Number of events the requests carried.
    pub count: usize,
    /// Number of requests reported: several successes can come in one
    /// `Done`; a failure comes alone.
    pub requests: usize,
    /// Time the reported requests took.
    pub elapsed: Duration,
    pub result: Result<(), Failure>,
    /// The job is over: the worker is free and the hook's lease ends.
    pub last: bool,
}

/// A job's requests: up to `per_post` events each, in order, never two
/// callback domains in one request (a callback body names one).
struct Chunks<'a> {
    items: &'a [Item],
    per_post: usize,
}

impl<'a> Iterator for Chunks<'a> {
    type Item = &'a [Item];

    fn next(&mut self) -> Option<&'a [Item]> {
        let first = self.items.first()?;
        let n = self
            .items
            .iter()
            .take(self.per_post)
            .take_while(|i| i.domain == first.domain)
            .count();
        let (chunk, rest) = self.items.split_at(n);
        self.items = rest;
        Some(chunk)
    }
}

/// One worker thread's parts.
pub struct Worker {
    pub config: Arc<Config>,
    /// Set when the service stops: a job ends after its current request.
    pub stopping: Arc<AtomicBool>,
    /// Keeps connections alive between requests.
    pub agent: ureq::Agent,
    /// Opens a connection per request, for hooks that stall on kept-alive ones.
    pub fresh_agent: ureq::Agent,
    pub jobs: Receiver<Job>,
    pub done: Sender<Done>,
}

impl Worker {
    /// Runs jobs until the scheduler drops its sender.
    pub fn run(self) {
        for job in self.jobs.iter() {
            if !self.run_job(&job) {
                break;
            }
        }
    }

    /// Posts the job's events request by request and stops at the first
    /// failure or when the service is stopping. Successes are reported
    /// together, at the latest [`ACK_EVERY`] after the oldest unreported one
    /// and always before a failure or the job's end, so a fast endpoint does
    /// not wake the scheduler and the journal once per request. Returns
    /// false when the scheduler is gone.
    fn run_job(&self, job: &Job) -> bool {
        let mut acked = Acked::default();
        let mut chunks = Chunks {
            items: &job.items,
            per_post: job.per_post.max(1),
        }
        .peekable();
        while let Some(chunk) = chunks.next() {
            let start = Instant::now();
            let result = self.post(job, chunk);
            let took = start.elapsed();
            let stop = result.is_err()
                || self.stopping.load(Ordering::Relaxed)
                || job.cancelled.load(Ordering::Relaxed);
            let last = stop || chunks.peek().is_none();
            let sent = match result {
                Ok(()) => {
                    acked.add(chunk.len(), took);
                    let due = last || acked.due();
                    !due || self.report(acked.take(&job.id, last))
                }
                Err(failure) => {
                    // The successes before it first, so they are trimmed
                    // before the failed request is retried.
                    let earlier = acked.requests == 0 || self.report(acked.take(&job.id, false));
                    earlier
                        && self.report(Done {
                            hook_id: job.id.clone(),
                            count: chunk.len(),
                            requests: 1,
                            elapsed: took,
                            result: Err(failure),
                            last: true,
                        })
                }
            };
            if !sent {
                return false;
            }
            if last {
                break;
            }
        }
        true
    }

    /// Tells the scheduler; false when it is gone.
    fn report(&self, done: Done) -> bool {
        self.done.send(done).is_ok()
    }

    fn post(&self, job: &Job, items: &[Item]) -> Result<(), Failure> {
        let agent = if job.fresh {
            &self.fresh_agent
        } else {
            &self.agent
        };
        match &job.target {
            Target::Hook(hook) => client::post(agent, &self.config, hook, items),
            Target::Lrs(lrs) => match items.first() {
                Some(statement) => {
                    let made;
                    let authorization = match &job.authorization {
                        Some(a) => a,
                        None => {
                            made = client::LrsAuthorization::of(lrs);
                            &made
                        }
                    };
                    client::post_statement(agent, lrs, authorization, statement)
                }
                None => Ok(()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::Event;
    use std::collections::HashMap;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// An HTTP/1.1 keep-alive endpoint on port 0 that answers 200 to the
    /// first `ok` requests and 500 after that.
    fn endpoint(ok: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
        let addr = listener.local_addr().expect("has an address");
        std::thread::spawn(move || {
            let mut served = 0;
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let mut reader = BufReader::new(conn);
                loop {
                    let mut length = 0;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => break,
                            Ok(_) if line == "\r\n" => break,
                            Ok(_) => {
                                let lower = line.to_ascii_lowercase();
                                if let Some(v) = lower.strip_prefix("content-length:") {
                                    length = v.trim().parse().unwrap_or(0);
                                }
                            }
                        }
                    }
                    if line != "\r\n" {
                        break;
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        break;
                    }
                    served += 1;
                    let status = if served <= ok { "200 OK" } else { "500 Oops" };
                    let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
                    if reader.get_mut().write_all(answer.as_bytes()).is_err() {
                        break;
                    }
                }
            }
        });
        format!("http://{addr}/hook")
    }

    /// Runs one job of `n` events against an endpoint that accepts `ok`
    /// requests, and returns what the worker reported.
    fn run(n: usize, ok: usize) -> Vec<Done> {
        let env: HashMap<String, String> = [
            ("BBB_WEBHOOKS_SHARED_SECRET", "secret"),
            ("BBB_WEBHOOKS_SERVER_DOMAIN", "example.org"),
            ("BBB_WEBHOOKS_BBB_PROPERTIES", ""),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let config = Arc::new(
            Config::load(&env, Some(std::path::Path::new("/dev/null"))).expect("config loads"),
        );
        let (_jobs_tx, jobs) = crossbeam_channel::bounded(1);
        let (done, done_rx) = crossbeam_channel::unbounded();
        let worker = Worker {
            agent: client::agent(&config, true),
            fresh_agent: client::agent(&config, false),
            config,
            stopping: Arc::new(AtomicBool::new(false)),
            jobs,
            done,
        };
        let hook = crate::hooks::Hook::new(endpoint(ok), None, None, false, false);
        let items = (0..n)
            .map(|i| Event::new(format!("1-{i}"), format!(r#"{{"seq":{i}}}"#)))
            .collect();
        let job = Job {
            id: hook.id.as_str().into(),
            target: Target::Hook(Arc::new(hook)),
            items,
            per_post: 1,
            cancelled: Arc::new(AtomicBool::new(false)),
            fresh: false,
            authorization: None,
        };
        assert!(worker.run_job(&job), "the scheduler's side is open");
        drop(worker);
        done_rx.iter().collect()
    }

    #[test]
    fn a_request_carries_one_domain_and_at_most_per_post_events() {
        let d = |n: u32, domain: Option<&str>| {
            crate::delivery::Event::from_domain(format!("e{n}"), "{}", domain.map(Into::into))
        };
        let items = vec![
            d(0, None),
            d(1, None),
            d(2, None),
            d(3, Some("bbb1")),
            d(4, Some("bbb2")),
            d(5, Some("bbb2")),
        ];
        let sizes: Vec<usize> = Chunks {
            items: &items,
            per_post: 2,
        }
        .map(<[Item]>::len)
        .collect();
        assert_eq!(sizes, [2, 1, 1, 2]);
    }

    #[test]
    fn successes_are_reported_together_and_before_a_failure() {
        let mut acked = Acked::default();
        acked.add(2, Duration::from_millis(3));
        acked.add(1, Duration::from_millis(4));
        let id: Arc<str> = "h1".into();
        let done = acked.take(&id, false);
        assert_eq!(
            (&*done.hook_id, done.count, done.requests, done.elapsed),
            ("h1", 3, 2, Duration::from_millis(7)),
            "one report carries both"
        );
        assert!(done.result.is_ok() && !done.last);
        assert_eq!((acked.events, acked.requests), (0, 0), "taken: none left");
        assert!(!acked.due(), "nothing unreported is due");

        let all = run(8, 100);
        assert!(!all.is_empty(), "{all:?}");
        assert!(all.iter().all(|d| d.result.is_ok()), "{all:?}");
        assert_eq!(all.iter().map(|d| d.count).sum::<usize>(), 8);
        assert_eq!(all.iter().map(|d| d.requests).sum::<usize>(), 8);
        assert_eq!(all.iter().filter(|d| d.last).count(), 1, "{all:?}");
        assert!(all.last().is_some_and(|d| d.last));

        let failed = run(8, 5);
        let (last, before) = failed.split_last().expect("reports");
        assert!(last.last && last.result.is_err(), "{last:?}");
        assert_eq!((last.count, last.requests), (1, 1));
        assert!(
            before.iter().all(|d| d.result.is_ok() && !d.last),
            "{before:?}"
        );
        assert_eq!(before.iter().map(|d| d.count).sum::<usize>(), 5);
        assert_eq!(before.iter().map(|d| d.requests).sum::<usize>(), 5);
    }
}
