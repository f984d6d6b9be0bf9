//! Tests of loading the configuration: defaults, sources and their
//! precedence, BBB's properties, and errors naming the key.

use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    let mut m: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    m.entry("BBB_WEBHOOKS_BBB_PROPERTIES".into()).or_default();
    m
}

fn load(pairs: &[(&str, &str)]) -> Result<Config> {
    Config::load(&env(pairs), Some(Path::new("/dev/null")))
}

const BASE: [(&str, &str); 2] = [
    ("BBB_WEBHOOKS_SHARED_SECRET", "s3cret"),
    ("BBB_WEBHOOKS_SERVER_DOMAIN", "bbb.example.com"),
];

#[test]
fn defaults() {
    let c = load(&BASE).expect("defaults load");
    assert_eq!(c.api_bind, "127.0.0.1:3005".parse().expect("addr"));
    assert_eq!(c.api_path, "/bigbluebutton/api");
    assert_eq!(c.channels.len(), 8);
    assert_eq!(c.api_algorithms, Algorithm::ALL.to_vec());
    assert_eq!(c.callback_auth, CallbackAuth::Checksum(Algorithm::Sha1));
    assert_eq!(c.retry_intervals.len(), 12);
    assert_eq!(c.request_timeout, Duration::from_secs(5));
    assert_eq!(c.secret.expose(), "s3cret");
    assert_eq!(
        c.secret_origin,
        "BBB_WEBHOOKS_SHARED_SECRET from the environment"
    );
    assert!(c.include_events.is_empty() && c.exclude_events.is_empty());
    assert_eq!(c.meeting_ttl, Duration::from_secs(7 * 24 * 3600));
    assert_eq!(c.metrics_bind, None);
    assert!(!format!("{c:?}").contains("s3cret"));
}

#[test]
fn event_filters() {
    let mut pairs = BASE.to_vec();
    pairs.push(("BBB_WEBHOOKS_INCLUDE_EVENTS", "User-Joined, user-left"));
    pairs.push(("BBB_WEBHOOKS_EXCLUDE_EVENTS", "user-left"));
    let c = load(&pairs).expect("loads");
    assert_eq!(c.include_events, ["user-joined", "user-left"]);
    assert_eq!(c.exclude_events, ["user-left"]);
}

#[test]
fn bad_values_name_key_and_origin() {
    let mut pairs = BASE.to_vec();
    pairs.push(("BBB_WEBHOOKS_DELIVERY_WORKERS", "zero"));
    let e = load(&pairs).expect_err("bad workers").to_string();
    assert!(e.contains("BBB_WEBHOOKS_DELIVERY_WORKERS"), "{e}");
    assert!(e.contains("the environment"), "{e}");

    let mut pairs = BASE.to_vec();
    pairs.push(("BBB_WEBHOOKS_NO_SUCH_KEY", "1"));
    let e = load(&pairs).expect_err("unknown key").to_string();
    assert!(e.contains("BBB_WEBHOOKS_NO_SUCH_KEY"), "{e}");

    let mut pairs = BASE.to_vec();
    pairs.push(("BBB_WEBHOOKS_METRICS_BIND", "localhost"));
    let e = load(&pairs).expect_err("bad metrics bind").to_string();
    assert!(e.contains("BBB_WEBHOOKS_METRICS_BIND"), "{e}");
    let mut pairs = BASE.to_vec();
    pairs.push(("BBB_WEBHOOKS_METRICS_BIND", "127.0.0.1:3006"));
    let c = load(&pairs).expect("metrics bind");
    assert_eq!(
        c.metrics_bind,
        Some("127.0.0.1:3006".parse().expect("addr"))
    );

    let mut pairs = BASE.to_vec();
    pairs.push(("BBB_WEBHOOKS_CALLBACK_AUTH", "basic"));
    assert!(load(&pairs).is_err());
    let mut pairs = BASE.to_vec();
    pairs.push(("BBB_WEBHOOKS_PERMANENT_HOOKS", "ftp://x"));
    assert!(load(&pairs).is_err());
}

#[test]
fn secret_and_domain_from_bbb_properties() {
    let dir = std::env::temp_dir().join(format!("bbbwh-props-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let over = dir.join("bbb-web.properties");
    let base = dir.join("bigbluebutton.properties");
    std::fs::write(&over, "securitySalt=override\n").expect("write");
    std::fs::write(
        &base,
        "# defaults\nsecuritySalt=base\nbigbluebutton.web.serverURL=https://bbb.example.org:8443/path\n",
    )
    .expect("write");
    let files = format!("{},{}", over.display(), base.display());
    let e = env(&[("BBB_WEBHOOKS_BBB_PROPERTIES", &files)]);
    let c = Config::load(&e, Some(Path::new("/dev/null"))).expect("props load");
    assert_eq!(c.secret.expose(), "override");
    assert_eq!(
        c.secret_origin,
        format!("securitySalt in {}", over.display())
    );
    assert_eq!(c.server_domain, "bbb.example.org");

    let missing = dir.join("missing.properties");
    let e = env(&[(
        "BBB_WEBHOOKS_BBB_PROPERTIES",
        &missing.display().to_string(),
    )]);
    let err = Config::load(&e, Some(Path::new("/dev/null")))
        .expect_err("no secret")
        .to_string();
    assert!(err.contains("missing.properties"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
