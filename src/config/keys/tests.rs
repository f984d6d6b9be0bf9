//! The key table's own tests: well formed, and each parser keeps to its
//! key's values.

use super::*;

#[test]
fn the_table_is_well_formed() {
    for (i, k) in TABLE.iter().enumerate() {
        assert!(k.name.starts_with("BBB_WEBHOOKS_"), "{}", k.name);
        assert!(!k.help.is_empty(), "{} has help", k.name);
        assert!(
            TABLE[..i].iter().all(|o| o.name != k.name),
            "{} declared once",
            k.name
        );
        assert_eq!(find(k.name).map(|f| f.help), Some(k.help));
        assert_eq!(TRIPLES[i], (k.name, k.default, k.help));
    }
    assert!(find("BBB_WEBHOOKS_NOPE").is_none());
}

#[test]
fn numbers_keep_to_their_key_s_range() {
    assert_eq!((DELIVERY_WORKERS.parse)("1024"), Ok(1024));
    assert_eq!((DELIVERY_WORKERS.parse)("1025"), Err("1025"));
    assert_eq!((MULTI_EVENT.parse)("1001"), Err("1001"));
    assert_eq!((MAX_REDIRECTS.parse)("0"), Ok(0));
    assert_eq!((API_MAX_REQUEST_BYTES.parse)("1023"), Err("1023"));
    assert_eq!((REQUEST_TIMEOUT_MS.parse)("0"), Err("0"));
    let secs = Duration::from_secs;
    assert_eq!((MEETING_TTL_SECS.parse)("60"), Ok(secs(60)));
    let ms = |l: &[u64]| l.iter().map(|n| Duration::from_millis(*n)).collect();
    assert_eq!((RETRY_INTERVALS_MS.parse)("1, 2"), Ok(ms(&[1, 2])));
    assert_eq!((RETRY_INTERVALS_MS.parse)("1,x"), Err("1,x"));
    assert_eq!((RETRY_INTERVALS_MS.parse)(","), Err(","));
}

#[test]
fn text_values() {
    assert_eq!((API_PATH.parse)("/api//").as_deref(), Ok("/api"));
    assert!((API_PATH.parse)("api").is_err());
    assert!((API_PATH.parse)("/a?b").is_err());
    assert!((REDIS_URL.parse)("unix:///run/redis.sock").is_ok());
    assert!((REDIS_URL.parse)("http://x").is_err());
    assert_eq!((CALLBACK_AUTH.parse)("Bearer"), Ok(AuthMode::Bearer));
    assert_eq!((CHANNELS.parse)(" ,"), Err(" ,"));
    assert_eq!(
        (EXCLUDE_EVENTS.parse)("User-Left"),
        Ok(vec!["user-left".into()])
    );
    assert_eq!((METRICS_BIND.parse)(""), Ok(None));
    assert_eq!((METRICS_BIND.parse)("localhost"), Err("localhost"));
    assert_eq!((SHARED_SECRET.parse)(""), Ok(None));
}

#[test]
fn a_bad_permanent_hook_is_named_alone() {
    let hook = |url: &str, raw| PermanentHook {
        url: url.into(),
        raw,
    };
    assert_eq!(
        (PERMANENT_HOOKS.parse)("http://a/x, raw: https://b/y"),
        Ok(vec![hook("http://a/x", false), hook("https://b/y", true)])
    );
    let bad = (PERMANENT_HOOKS.parse)("http://a/x, raw:ftp://b");
    assert_eq!(bad, Err("raw:ftp://b"));
    assert_eq!((PERMANENT_HOOKS.parse)(""), Ok(vec![]));
}
