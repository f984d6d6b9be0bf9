//! The LRS destinations that have statements queued, kept in Redis
//! ([`keys::XAPI_DESTINATIONS`]) so that their queues can still be
//! delivered after a restart, even when no meeting names them any more:
//! id -> URL and `Authorization`, encrypted with the server secret (the
//! scheme of the per-meeting LRS payload), since the header is a credential.

use std::collections::HashMap;
use std::sync::Arc;

use redis::Commands;
use serde_json::{json, Value};

use crate::config::Secret;
use crate::delivery::Lrs;
use crate::store::keys;
use crate::xapi::payload;

/// The stored form of `lrs`: its URL and `Authorization` as JSON, encrypted.
pub fn encode(lrs: &Lrs, secret: &Secret) -> std::io::Result<String> {
    let plain = json!({"url": lrs.url, "authorization": lrs.authorization.expose()}).to_string();
    payload::encrypt(&plain, secret.expose())
}

/// The destination stored as `text` under `id`, if it decrypts and is whole.
fn decode(id: &str, text: &str, secret: &Secret) -> Option<Lrs> {
    let plain = payload::decrypt(text, secret.expose()).ok()?;
    let v: Value = serde_json::from_str(&plain).ok()?;
    Some(Lrs {
        id: id.to_owned(),
        url: v.get("url")?.as_str()?.to_owned(),
        authorization: Secret::new(v.get("authorization")?.as_str()?),
    })
}

/// Every stored destination that can be read. One that cannot (the server
/// secret changed, or a corrupt record) is logged and left alone: its
/// statements stay queued in Redis but cannot be sent.
pub fn load(c: &mut redis::Connection, secret: &Secret) -> redis::RedisResult<Vec<Arc<Lrs>>> {
    let stored: Vec<(String, String)> = redis::cmd("HGETALL")
        .arg(keys::XAPI_DESTINATIONS)
        .query(c)?;
    let mut out = Vec::with_capacity(stored.len());
    for (id, text) in stored {
        match decode(&id, &text, secret) {
            Some(lrs) => out.push(Arc::new(lrs)),
            None => log::warn!(
                "cannot read LRS destination {id} (the shared secret changed?); its queued statements are not sent"
            ),
        }
    }
    Ok(out)
}

/// What waits in Redis per LRS, for `check`: each queue's LRS id, its
/// statements URL when its stored destination can be read, and its length,
/// by id.
pub fn backlog(
    c: &mut redis::Connection,
    secret: &Secret,
) -> redis::RedisResult<Vec<(String, Option<String>, usize)>> {
    let prefix = keys::XAPI_QUEUE;
    let scan = redis::ScanOptions::default()
        .with_pattern(format!("{prefix}*"))
        .with_count(1000);
    let lists: Vec<String> = c
        .scan_options::<String>(scan)?
        .collect::<redis::RedisResult<_>>()?;
    let mut lens: Vec<usize> = Vec::with_capacity(lists.len());
    for chunk in lists.chunks(super::CHUNK) {
        let mut pipe = redis::pipe();
        for list in chunk {
            pipe.llen(list);
        }
        lens.extend(pipe.query::<Vec<usize>>(c)?);
    }
    let known: HashMap<String, String> = load(c, secret)?
        .into_iter()
        .map(|l| (l.id.clone(), l.url.clone()))
        .collect();
    let mut out = Vec::with_capacity(lists.len());
    for (list, len) in lists.into_iter().zip(lens) {
        let id = list.strip_prefix(prefix).unwrap_or(&list).to_owned();
        let url = known.get(&id).cloned();
        out.push((id, url, len));
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_round_trips_only_with_the_same_secret() {
        let lrs = Lrs {
            id: "ab".into(),
            url: "https://lrs.example/xAPI/statements".into(),
            authorization: Secret::new("Basic dTpw"),
        };
        let text = encode(&lrs, &Secret::new("s1")).expect("encrypts");
        assert!(!text.contains("dTpw"));
        let back = decode("ab", &text, &Secret::new("s1")).expect("decodes");
        assert_eq!(back.url, lrs.url);
        assert_eq!(back.authorization.expose(), "Basic dTpw");
        assert!(decode("ab", &text, &Secret::new("s2")).is_none());
        assert!(decode("ab", "garbage", &Secret::new("s1")).is_none());
    }
}
