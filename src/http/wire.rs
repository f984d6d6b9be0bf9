//! HTTP/1.1 on the wire, for the server in [`super`]: a request read with
//! every part bounded (request line, headers, body), and an answer written.
//! Functions of a reader or writer; no sockets or threads here.

use std::io::{self, BufRead, Read, Write};

use super::Limits;
use crate::query;

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target as received: path and query.
    pub target: String,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
    /// Header names lower-case, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header named `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        query::get(&self.headers, name)
    }
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type", content_type.to_owned())],
            body: body.into(),
        }
    }
}

/// Why a request could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The connection closed or timed out between requests: nothing to answer.
    Closed,
    /// Answer with this status and close.
    Status(u16),
}

/// Reads one line of at most `max` bytes (without its line end).
fn read_line(reader: &mut impl BufRead, max: usize, too_long: u16) -> Result<Vec<u8>, ReadError> {
    let mut line = Vec::new();
    let mut limited = reader.take(max as u64 + 2);
    match limited.read_until(b'\n', &mut line) {
        Ok(0) => return Err(ReadError::Closed),
        Ok(_) => {}
        Err(_) => return Err(ReadError::Closed),
    }
    if line.last() != Some(&b'\n') {
        return Err(if line.len() > max {
            ReadError::Status(too_long)
        } else {
            ReadError::Closed
        });
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(line)
}

/// Reads one request: its line and headers within `limits.max_request_bytes`
/// each, its body within what [`Limits::max_body`] allows for its target.
pub fn read_request(reader: &mut impl BufRead, limits: &Limits) -> Result<Request, ReadError> {
    let max = limits.max_request_bytes;
    // Blank lines before a request are allowed (RFC 9112, 2.2).
    let mut line = read_line(reader, max, 414)?;
    while line.is_empty() {
        line = read_line(reader, max, 414)?;
    }
    let line = String::from_utf8(line).map_err(|_| ReadError::Status(400))?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Status(400));
    };
    let valid_method = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
    if !valid_method || !target.starts_with('/') || !version.starts_with("HTTP/1.") {
        return Err(ReadError::Status(400));
    }
    let mut headers = Vec::new();
    let mut header_bytes = 0;
    loop {
        let h = read_line(reader, max, 431)?;
        header_bytes += h.len() + 2;
        if header_bytes > max {
            return Err(ReadError::Status(431));
        }
        if h.is_empty() {
            break;
        }
        let h = String::from_utf8(h).map_err(|_| ReadError::Status(400))?;
        let Some((k, v)) = h.split_once(':') else {
            return Err(ReadError::Status(400));
        };
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    if query::get(&headers, "transfer-encoding").is_some() {
        // Bodies are small here; a chunked one is refused rather than parsed.
        return Err(ReadError::Status(411));
    }
    let len = match query::get(&headers, "content-length") {
        None => 0,
        Some(v) => v.parse::<u64>().map_err(|_| ReadError::Status(400))?,
    };
    if len > limits.max_body(target) as u64 {
        return Err(ReadError::Status(413));
    }
    let mut body = vec![0; len as usize];
    reader
        .read_exact(&mut body)
        .map_err(|_| ReadError::Closed)?;
    Ok(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        version: version.to_owned(),
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

pub fn write_response(w: &mut impl Write, resp: &Response, keep_alive: bool) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    head.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    w.write_all(head.as_bytes())?;
    w.write_all(&resp.body)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    fn parse(raw: &str, max: usize) -> Result<Request, ReadError> {
        let limits = Limits::new(max, 1, crate::http::text_refusal);
        read_request(&mut BufReader::new(raw.as_bytes()), &limits)
    }

    #[test]
    fn parses_a_get() {
        let r = parse("GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-Y:  z \r\n\r\n", 1024).expect("parses");
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, "/a?b=c");
        assert_eq!(r.header("x-y"), Some("z"));
        assert!(r.body.is_empty());
    }

    #[test]
    fn bounds_every_part() {
        let long_line = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(2000));
        assert_eq!(parse(&long_line, 1024), Err(ReadError::Status(414)));
        let long_header = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(2000));
        assert_eq!(parse(&long_header, 1024), Err(ReadError::Status(431)));
        let many = format!("GET / HTTP/1.1\r\n{}\r\n", "X: y\r\n".repeat(500));
        assert_eq!(parse(&many, 1024), Err(ReadError::Status(431)));
        let huge_body = "POST / HTTP/1.1\r\nContent-Length: 99999999999999999\r\n\r\nabc";
        assert_eq!(parse(huge_body, 1024), Err(ReadError::Status(413)));
        let chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        assert_eq!(parse(chunked, 1024), Err(ReadError::Status(411)));
    }

    #[test]
    fn a_larger_body_only_under_its_path() {
        let limits = Limits {
            large_bodies: Some(crate::http::LargeBodies {
                under: "/api/relay".into(),
                max: 4096,
            }),
            ..Limits::new(1024, 1, crate::http::text_refusal)
        };
        let post = |target: &str, len: usize| {
            let raw = format!(
                "POST {target} HTTP/1.1\r\nContent-Length: {len}\r\n\r\n{}",
                "x".repeat(len)
            );
            read_request(&mut BufReader::new(raw.as_bytes()), &limits).map(|r| r.body.len())
        };
        assert_eq!(post("/api/relay/bbb1?checksum=x", 3000), Ok(3000));
        assert_eq!(post("/api/relay/bbb1", 4097), Err(ReadError::Status(413)));
        assert_eq!(post("/api/relay", 3000), Err(ReadError::Status(413)));
        assert_eq!(post("/api/relayx/bbb1", 3000), Err(ReadError::Status(413)));
        assert_eq!(post("/api/hooks/create", 1025), Err(ReadError::Status(413)));
        assert_eq!(post("/api/hooks/create", 1024), Ok(1024));
        assert_eq!(limits.max_body("/api/relay/x?a=/b"), 4096);
    }

    #[test]
    fn refuses_garbage() {
        for raw in [
            "HELLO\r\n\r\n",
            "GET / HTTP/1.1 extra\r\n\r\n",
            "get / HTTP/1.1\r\n\r\n",
            "GET nopath HTTP/1.1\r\n\r\n",
            "GET / SPDY/3\r\n\r\n",
            "GET / HTTP/1.1\r\nno colon\r\n\r\n",
            "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        ] {
            assert_eq!(parse(raw, 1024), Err(ReadError::Status(400)), "{raw:?}");
        }
        assert_eq!(parse("", 1024), Err(ReadError::Closed));
        assert_eq!(
            read_request(
                &mut BufReader::new(&b"GET /\xff HTTP/1.1\r\n\r\n"[..]),
                &Limits::new(1024, 1, crate::http::text_refusal)
            ),
            Err(ReadError::Status(400))
        );
    }
}
