//! The xAPI side of the tests: the settings that turn it on
//! ([`Launch::xapi`]), a statement as the LRS (an [`HttpReceiver`])
//! received it, UUID v5 computed apart from the crate (RFC 4122: SHA-1 over
//! the namespace's bytes and the name), the `openssl enc` command line that
//! makes a meeting's `secret-lrs-payload`, and the LRS queues in Redis.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use sha1::{Digest, Sha1};

use super::{HttpReceiver, Launch, Received, Redis};

/// The namespace of the identifiers in XAPI.md's verified examples.
pub const NAMESPACE: &str = "22946e5b-1860-4436-a025-cb133ca4c1d3";
/// The prefix of an LRS's list of undelivered statements.
pub const XAPI_QUEUE: &str = "bigbluebutton:webhooks:xapi:queue:";

impl Launch {
    /// xAPI on, in [`NAMESPACE`], with `lrs` as the configured LRS (none:
    /// only meetings with their own payload send).
    pub fn xapi(self, lrs: Option<&str>) -> Launch {
        let on = self
            .env("BBB_WEBHOOKS_XAPI_ENABLED", "true")
            .env("BBB_WEBHOOKS_XAPI_UUID_NAMESPACE", NAMESPACE);
        match lrs {
            Some(url) => on.env("BBB_WEBHOOKS_XAPI_LRS_URL", url),
            None => on,
        }
    }
}

/// `uuid5(name)` in [`NAMESPACE`], lower-case hyphenated.
pub fn uuid5(name: &str) -> String {
    let ns: Vec<u8> = (0..16)
        .map(|i| {
            let hex: String = NAMESPACE.chars().filter(|c| *c != '-').collect();
            u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex")
        })
        .collect();
    let mut h = Sha1::new();
    h.update(&ns);
    h.update(name.as_bytes());
    let mut b: Vec<u8> = h.finalize()[..16].to_vec();
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `plaintext` encrypted as an admin makes a payload:
/// `openssl enc -aes-256-cbc -pbkdf2 -a -A -pass pass:<secret>`.
pub fn openssl_payload(plaintext: &str, secret: &str) -> String {
    let mut child = Command::new("openssl")
        .args(["enc", "-aes-256-cbc", "-pbkdf2", "-a", "-A", "-pass"])
        .arg(format!("pass:{secret}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl runs (install it: apt-get install openssl)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(plaintext.as_bytes())
        .expect("write to openssl");
    let out = child.wait_with_output().expect("openssl ends");
    assert!(out.status.success(), "openssl enc failed");
    String::from_utf8(out.stdout)
        .expect("base64")
        .trim()
        .to_owned()
}

impl Received {
    /// The statement this request carried.
    pub fn statement(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("a statement is JSON ({e}): {}", self.body))
    }
}

/// The next request the LRS `rx` gets, checked to be one statement sent as
/// the reference sends it: a POST of JSON with the xAPI version header.
pub fn next_statement(rx: &HttpReceiver) -> Received {
    let r = rx.next();
    assert_eq!(r.method, "POST", "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"), "{r:?}");
    assert_eq!(r.header("x-experience-api-version"), Some("1.0.0"), "{r:?}");
    assert!(
        r.body.starts_with('{'),
        "one statement, not an array: {r:?}"
    );
    r
}

/// The lengths of every LRS queue kept in Redis, by LRS id.
pub fn xapi_queues(redis: &Redis) -> Vec<(String, usize)> {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{XAPI_QUEUE}*"))
        .query(&mut redis.conn())
        .expect("KEYS");
    let mut queues: Vec<(String, usize)> = keys
        .iter()
        .map(|k| (k[XAPI_QUEUE.len()..].to_owned(), redis.llen(k)))
        .collect();
    queues.sort();
    queues
}
