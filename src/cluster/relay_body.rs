//! The body of a relay POST, as BBB webhooks services send callbacks:
//! `application/x-www-form-urlencoded` with `domain`, `event` (a JSON array
//! of one or more events) and `timestamp`, in any order. Pure. Each event
//! keeps its exact JSON text, so it is passed on byte for byte.

use std::fmt;

use serde_json::Value;

use crate::query;

/// A parsed relay body.
#[derive(Clone, Debug, PartialEq)]
pub struct Body {
    /// The BBB server's domain, as it sent it.
    pub domain: String,
    /// The events, in the order sent.
    pub events: Vec<RelayEvent>,
    /// Milliseconds since the epoch, as the server stamped the POST.
    pub timestamp: u64,
    /// The decoded `event` field (for the legacy checksum).
    pub(crate) event_field: String,
}

/// One event of a relay POST.
#[derive(Clone, Debug, PartialEq)]
pub struct RelayEvent {
    /// Its JSON text exactly as sent.
    pub json: String,
    /// The same, parsed.
    pub value: Value,
}

/// Why a body is not a callback body (answered 400).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Malformed {
    NotUtf8,
    /// A required field is missing or empty.
    Missing(&'static str),
    /// `event` is not JSON (the parser's message).
    NotJson(String),
    /// `event` is JSON but not an array.
    NotArray,
    /// `event` is an empty array.
    NoEvents,
    /// Event `n` (from 0) is not a JSON object.
    NotAnObject(usize),
    /// `timestamp` is not a number of milliseconds.
    BadTimestamp,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::NotUtf8 => f.write_str("the body is not UTF-8"),
            Malformed::Missing(field) => write!(f, "no {field} in the body"),
            Malformed::NotJson(e) => write!(f, "event is not JSON: {e}"),
            Malformed::NotArray => f.write_str("event is not a JSON array"),
            Malformed::NoEvents => f.write_str("event is an empty array"),
            Malformed::NotAnObject(n) => write!(f, "event {n} is not a JSON object"),
            Malformed::BadTimestamp => f.write_str("timestamp is not a number"),
        }
    }
}

/// Parses a relay POST's body.
pub fn parse(body: &[u8]) -> Result<Body, Malformed> {
    let body = std::str::from_utf8(body).map_err(|_| Malformed::NotUtf8)?;
    let params = query::params(body);
    let field = |name: &'static str| {
        query::get(&params, name)
            .filter(|v| !v.is_empty())
            .ok_or(Malformed::Missing(name))
    };
    let domain = field("domain")?.to_owned();
    let event_field = field("event")?.to_owned();
    let timestamp = field("timestamp")?;
    let timestamp = timestamp
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| timestamp.parse().ok())
        .flatten()
        .ok_or(Malformed::BadTimestamp)?;
    let events = events(&event_field)?;
    Ok(Body {
        domain,
        events,
        timestamp,
        event_field,
    })
}

/// The elements of a JSON array of objects, each with its own text.
fn events(json: &str) -> Result<Vec<RelayEvent>, Malformed> {
    let parsed: Value =
        serde_json::from_str(json).map_err(|e| Malformed::NotJson(e.to_string()))?;
    let Value::Array(values) = parsed else {
        return Err(Malformed::NotArray);
    };
    if values.is_empty() {
        return Err(Malformed::NoEvents);
    }
    if let Some(n) = values.iter().position(|v| !v.is_object()) {
        return Err(Malformed::NotAnObject(n));
    }
    let texts = element_texts(json);
    if texts.len() != values.len() {
        return Err(Malformed::NotJson(
            "elements could not be told apart".into(),
        ));
    }
    Ok(texts
        .into_iter()
        .zip(values)
        .map(|(text, value)| RelayEvent {
            json: text.to_owned(),
            value,
        })
        .collect())
}

/// The texts of the top-level elements of `json`, a valid JSON array: a
/// scan that only tracks strings and nesting, which is enough once the
/// parser has accepted the text.
fn element_texts(json: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let Some(open) = json.find('[') else {
        return out;
    };
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let mut start: Option<usize> = None;
    for (i, b) in json.bytes().enumerate().skip(open + 1) {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b',' | b']' if depth == 0 => {
                if let Some(s) = start.take() {
                    out.push(json[s..i].trim_end());
                }
                if b == b']' {
                    break;
                }
            }
            b'{' | b'[' => {
                start.get_or_insert(i);
                depth += 1;
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                start.get_or_insert(i);
                in_string = true;
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_events_keep_their_order_and_bytes() {
        let events = r#"[ {"data":{"id":"user-joined","s":"a,]}\"b"}} ,{"data":{"id":"user-left","n":1.50}}]"#;
        let body = format!(
            "domain=bbb1.example.com&event={}&timestamp=1700000000000",
            query::form_encode(events)
        );
        let b = parse(body.as_bytes()).expect("parses");
        assert_eq!(b.domain, "bbb1.example.com");
        assert_eq!(b.timestamp, 1_700_000_000_000);
        assert_eq!(b.events.len(), 2);
        assert_eq!(
            b.events[0].json,
            r#"{"data":{"id":"user-joined","s":"a,]}\"b"}}"#
        );
        assert_eq!(b.events[1].json, r#"{"data":{"id":"user-left","n":1.50}}"#);
        assert_eq!(b.events[0].value["data"]["s"], "a,]}\"b");
        assert_eq!(b.events[1].value["data"]["id"], "user-left");
    }

    /// Webhooks 2.x send the fields in another order, spaces as %20.
    #[test]
    fn field_order_does_not_matter() {
        let b =
            parse(b"event=%5B%7B%22a%22%3A%22x%20y%22%7D%5D&timestamp=5&domain=d").expect("parses");
        assert_eq!(b.events[0].json, r#"{"a":"x y"}"#);
        assert_eq!((b.domain.as_str(), b.timestamp), ("d", 5));
    }

    #[test]
    fn malformed_bodies() {
        let ev = |e: &str| format!("domain=d&event={}&timestamp=1", query::form_encode(e));
        let cases: Vec<(Vec<u8>, Malformed)> = vec![
            (b"\xff".to_vec(), Malformed::NotUtf8),
            (
                b"event=%5B%7B%7D%5D&timestamp=1".to_vec(),
                Malformed::Missing("domain"),
            ),
            (
                b"domain=&event=%5B%7B%7D%5D&timestamp=1".to_vec(),
                Malformed::Missing("domain"),
            ),
            (
                b"domain=d&timestamp=1".to_vec(),
                Malformed::Missing("event"),
            ),
            (
                b"domain=d&event=%5B%7B%7D%5D".to_vec(),
                Malformed::Missing("timestamp"),
            ),
            (
                b"domain=d&event=%5B%7B%7D%5D&timestamp=-1".to_vec(),
                Malformed::BadTimestamp,
            ),
            (
                b"domain=d&event=%5B%7B%7D%5D&timestamp=1e3".to_vec(),
                Malformed::BadTimestamp,
            ),
            (ev("{}").into_bytes(), Malformed::NotArray),
            (ev("[]").into_bytes(), Malformed::NoEvents),
            (ev("[{},1]").into_bytes(), Malformed::NotAnObject(1)),
        ];
        for (body, want) in cases {
            assert_eq!(
                parse(&body),
                Err(want),
                "{}",
                String::from_utf8_lossy(&body)
            );
        }
        assert!(matches!(
            parse(ev("[{}").as_bytes()),
            Err(Malformed::NotJson(_))
        ));
        assert!(matches!(
            parse(ev("[{}] x").as_bytes()),
            Err(Malformed::NotJson(_))
        ));
    }

    #[test]
    fn element_texts_of_nested_arrays() {
        assert_eq!(
            element_texts(r#"[{"a":[1,[2]],"b":"]"} , {"c":{}}]"#),
            vec![r#"{"a":[1,[2]],"b":"]"}"#, r#"{"c":{}}"#]
        );
        assert_eq!(element_texts("[]"), Vec::<&str>::new());
    }
}
