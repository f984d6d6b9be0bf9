//! The Redis layout of hooks, as the reference application writes it: a SET
//! of ids ([`keys::HOOKS`]) and one HASH per hook ([`keys::hook`]) with the
//! string fields `id`, `callbackURL`, `externalMeetingID` (absent for global
//! hooks), `eventID` (absent or a comma list), `permanent` and `getRaw`
//! (`"true"`/`"false"`). Older versions wrote `hookID` instead of `id`.

use std::collections::HashMap;

use super::{parse_event_ids, valid_callback_url, Hook};
use crate::store::{self, keys};

/// The HASH fields of `hook`, as the reference writes them.
fn fields(hook: &Hook) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("id", hook.id.clone()),
        ("callbackURL", hook.callback_url.clone()),
        ("permanent", hook.permanent.to_string()),
        ("getRaw", hook.raw.to_string()),
    ];
    if let Some(m) = &hook.meeting_id {
        f.push(("externalMeetingID", m.clone()));
    }
    if let Some(e) = hook.event_ids_joined() {
        f.push(("eventID", e));
    }
    f
}

/// Reads a hook from its HASH; `None` when a required field is missing or
/// bad. Accepts `hookID` for `id`, as older versions wrote.
fn from_fields(mut f: HashMap<String, String>) -> Option<Hook> {
    let id = f.remove("id").or_else(|| f.remove("hookID"))?;
    let callback_url = f.remove("callbackURL")?;
    if id.is_empty() || !valid_callback_url(&callback_url) {
        return None;
    }
    Some(Hook {
        id,
        callback_url,
        meeting_id: f.remove("externalMeetingID").filter(|m| !m.is_empty()),
        event_ids: f.remove("eventID").and_then(|e| parse_event_ids(&e)),
        permanent: f.get("permanent").is_some_and(|v| v == "true"),
        raw: f.get("getRaw").is_some_and(|v| v == "true"),
    })
}

/// Writes a hook (SET member and HASH), atomically.
pub fn save(conn: &mut redis::Connection, hook: &Hook) -> redis::RedisResult<()> {
    let key = keys::hook(&hook.id);
    redis::pipe()
        .atomic()
        .del(&key)
        .ignore()
        .hset_multiple(&key, &fields(hook))
        .ignore()
        .sadd(keys::HOOKS, &hook.id)
        .ignore()
        .query(conn)
}

/// Deletes a hook, atomically.
pub fn delete(conn: &mut redis::Connection, id: &str) -> redis::RedisResult<()> {
    redis::pipe()
        .atomic()
        .srem(keys::HOOKS, id)
        .ignore()
        .del(keys::hook(id))
        .ignore()
        .query(conn)
}

/// Reads every stored hook. A record that was read and is missing or
/// malformed (or a key of another type) is skipped with a warning; a
/// connection error or timeout fails the whole load, for the caller to wait
/// for Redis and load again, so a hiccup never drops a hook. Returns the
/// hooks and the number skipped.
pub fn load(conn: &mut redis::Connection) -> redis::RedisResult<(Vec<Hook>, usize)> {
    let records = store::read_records(conn, keys::HOOKS, keys::hook)?;
    let mut skipped = 0;
    let mut hooks = Vec::with_capacity(records.len());
    for (id, hash) in records {
        let hook = match hash {
            Err(why) if why == store::ID_NOT_UTF8 => {
                log::warn!("skipping a hook record whose id is not UTF-8");
                skipped += 1;
                continue;
            }
            hash => hash.ok().and_then(text_fields).and_then(from_fields),
        };
        match hook {
            Some(h) => hooks.push(h),
            None => {
                log::warn!(
                    "skipping hook record {}: missing or bad fields",
                    keys::hook(&id)
                );
                skipped += 1;
            }
        }
    }
    Ok((hooks, skipped))
}

/// The fields of `hash` as text; `None` if a value is not UTF-8.
fn text_fields(hash: store::Hash) -> Option<HashMap<String, String>> {
    hash.into_iter()
        .map(|(k, v)| String::from_utf8(v).ok().map(|v| (k, v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn fields_round_trip() {
        let h = Hook::new(
            "http://a/".into(),
            Some("m".into()),
            parse_event_ids("a,b"),
            true,
            true,
        );
        let f: HashMap<String, String> = fields(&h)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(f["eventID"], "a,b");
        assert_eq!(f["externalMeetingID"], "m");
        assert_eq!(from_fields(f), Some(h));
    }

    #[test]
    fn a_2x_record_with_hook_id_loads() {
        let h = from_fields(map(&[("hookID", "7"), ("callbackURL", "http://b/")]))
            .expect("2.x record loads");
        assert_eq!(h.id, "7");
        assert!(h.meeting_id.is_none() && !h.permanent && !h.raw);
    }

    #[test]
    fn a_record_without_a_url_is_refused() {
        assert_eq!(from_fields(map(&[("id", "8")])), None);
        assert_eq!(
            from_fields(map(&[("id", "8"), ("callbackURL", "ftp://x/")])),
            None
        );
    }
}
