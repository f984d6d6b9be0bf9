//! The hooks API from the outside: plain HTTP/1.1 requests with std only
//! (GET, and POST for the cluster's relay), signed API URLs, and picking
//! values out of the answers' XML.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

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

/// Sends `method url` and returns status and body; panics if there is no
/// HTTP answer within `WAIT`.
pub fn request(method: &str, url: &str) -> (u16, String) {
    try_request(method, url, WAIT).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// Sends `method url` and returns status and body, or why not: no
/// connection, no answer within `timeout`, or not an HTTP answer.
pub fn try_request(method: &str, url: &str, timeout: Duration) -> io::Result<(u16, String)> {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = match host.parse::<SocketAddr>() {
        Ok(addr) => TcpStream::connect_timeout(&addr, timeout)?,
        Err(_) => TcpStream::connect(host)?,
    };
    s.set_read_timeout(Some(timeout))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad HTTP response: {resp:?}"),
            )
        })?;
    let body = resp
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Ok((status, body))
}

/// POSTs `body` to `url` with `headers` (besides Host, Content-Length and
/// Connection): returns status and body; panics if there is no answer.
pub fn http_post(url: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = TcpStream::connect(host).unwrap_or_else(|e| panic!("POST {url}: {e}"));
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("write head");
    s.write_all(body.as_bytes()).expect("write body");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read answer");
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad HTTP response: {resp:?}"));
    let body = resp.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_owned())
}

/// The text between `a` and the next `b` in `s`.
pub fn between(s: &str, a: &str, b: &str) -> String {
    let start = s.find(a).unwrap_or_else(|| panic!("{a} not in {s}")) + a.len();
    let len = s[start..]
        .find(b)
        .unwrap_or_else(|| panic!("{b} not in {s}"));
    s[start..start + len].to_owned()
}
