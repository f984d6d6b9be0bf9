//! A fake BBB server's hooks API on 127.0.0.1:0, for the cluster tests:
//! checks each call's checksum (BBB's rule, with the algorithms allowed)
//! against its secret, records the call, and answers what the test's
//! function gives for the call and its decoded parameters; a refused
//! checksum gets the reference's `checksumError`. And a pool server record
//! pointing anywhere.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bbb_webhooks::checksum::{self, Algorithm};
use bbb_webhooks::cluster::{Server, State};
use bbb_webhooks::config::Secret;
use bbb_webhooks::{http, query};

/// `(call, algorithm)` of every call that reached a [`FakeBbb`], checksum
/// right or not.
type Seen = Arc<Mutex<Vec<(String, Option<Algorithm>)>>>;

/// What a [`FakeBbb`] answers: status and body for a call and its parameters.
pub type FakeAnswer = dyn Fn(&str, &[(String, String)]) -> (u16, String) + Send + Sync;

/// A fake BBB hooks API, stopped on drop.
pub struct FakeBbb {
    server: Option<http::Server>,
    seen: Seen,
}

impl FakeBbb {
    pub fn start(secret: &str, allowed: &[Algorithm], answer: Box<FakeAnswer>) -> FakeBbb {
        let seen: Seen = Arc::default();
        let record = seen.clone();
        let secret = secret.to_owned();
        let allowed = allowed.to_vec();
        let handler: http::Handler = Arc::new(move |req| {
            let (path, raw) = req.target.split_once('?').unwrap_or((&req.target, ""));
            let call = path.strip_prefix("/bigbluebutton/api/").unwrap_or(path);
            let (signed, sum) = query::split_checksum(raw);
            let alg = sum.and_then(|s| Algorithm::from_hex_len(s.len()));
            record
                .lock()
                .expect("seen lock")
                .push((call.to_owned(), alg));
            let ok = sum.is_some_and(|s| checksum::verify_api(call, &signed, &secret, s, &allowed));
            let (status, body) = if ok {
                answer(call, &query::params(&signed))
            } else {
                (200, "<response> <returncode>FAILED</returncode> <messageKey>checksumError</messageKey> <message>You did not pass the checksum security check.</message> </response>".to_owned())
            };
            http::Response::new(status, "text/xml", body)
        });
        let limits = http::Limits::new(64 * 1024, 2, http::text_refusal);
        let server = http::Server::start("127.0.0.1:0".parse().expect("address"), limits, handler)
            .expect("fake BBB listens");
        FakeBbb {
            server: Some(server),
            seen,
        }
    }

    /// Its API base, as a pool has it.
    pub fn url(&self) -> String {
        let addr = self.server.as_ref().map(|s| s.addr()).expect("running");
        format!("http://{addr}/bigbluebutton/api")
    }

    pub fn seen(&self) -> Vec<(String, Option<Algorithm>)> {
        self.seen.lock().expect("seen lock").clone()
    }
}

impl Drop for FakeBbb {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop(Instant::now() + Duration::from_secs(2));
        }
    }
}

/// A pool server named `id` at `url` with `secret`, enabled and online.
pub fn pool_server(id: &str, url: &str, secret: &str) -> Server {
    Server {
        id: id.to_owned(),
        url: url.to_owned(),
        secret: Secret::new(secret),
        state: State::Enabled,
        online: true,
    }
}
