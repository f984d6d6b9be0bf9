//! The hooks API from the outside: plain HTTP/1.1 requests with std only,
//! signed API URLs, and picking values out of the answers' XML.

use std::io::{Read, Write};
use std::net::TcpStream;

use bbb_webhooks::checksum::Algorithm;

use super::{SECRET, WAIT};

/// A signed API URL: `base/call?query&checksum=…` with `alg` over call,
/// query (already encoded) and the shared secret.
pub fn signed_url(base: &str, call: &str, query: &str, alg: Algorithm) -> String {
    let sum = alg.hex_digest(&[call.as_bytes(), query.as_bytes(), SECRET.as_bytes()]);
    let sep = if query.is_empty() { "" } else { "&" };
    format!("{base}/{call}?{query}{sep}checksum={sum}")
}

/// A plain HTTP GET with std only: returns status and body.
pub fn http_get(url: &str) -> (u16, String) {
    request("GET", url)
}

/// Sends `method url` and returns status and body.
pub fn request(method: &str, url: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = TcpStream::connect(host).expect("connect to the API");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    .expect("send request");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read response");
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad HTTP response: {resp:?}"));
    let body = resp
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// The text between `a` and the next `b` in `s`.
pub fn between(s: &str, a: &str, b: &str) -> String {
    let start = s.find(a).unwrap_or_else(|| panic!("{a} not in {s}")) + a.len();
    let len = s[start..]
        .find(b)
        .unwrap_or_else(|| panic!("{b} not in {s}"));
    s[start..start + len].to_owned()
}
