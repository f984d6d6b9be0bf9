//! The body of a relay POST, as BBB webhooks services send callbacks:
//! `application/x-www-form-urlencoded` with `domain`, `event` (a JSON array
//! of one or more events) and `timestamp`, in any order. Pure. Each event
//! keeps its exact JSON text, so it is passed on byte for byte.

use std::fmt;

use serde_json::value::RawValue;
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
    let raws: Vec<&RawValue> = serde_json::from_str(json).map_err(|e| {
        // Not an array of JSON values: what is it?
        match serde_json::from_str::<Value>(json) {
            Err(e) => Malformed::NotJson(e.to_string()),
            Ok(Value::Array(_)) => Malformed::NotJson(e.to_string()),
            Ok(_) => Malformed::NotArray,
        }
    })?;
    if raws.is_empty() {
        return Err(Malformed::NoEvents);
    }
    raws.into_iter()
        .enumerate()
        .map(|(n, raw)| {
            let value: Value =
                serde_json::from_str(raw.get()).map_err(|e| Malformed::NotJson(e.to_string()))?;
            match value.is_object() {
                true => Ok(RelayEvent {
                    json: raw.get().to_owned(),
                    value,
                }),
                false => Err(Malformed::NotAnObject(n)),
            }
        })
        .collect()
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
    fn events_with_nested_arrays_keep_their_text() {
        let texts: Vec<String> = events("[{\"a\":[1,[2]],\"b\":\"]\"} ,\n\t{\"c\":{}}]")
            .expect("parses")
            .into_iter()
            .map(|e| e.json)
            .collect();
        assert_eq!(texts, [r#"{"a":[1,[2]],"b":"]"}"#, r#"{"c":{}}"#]);
    }
}
