//! The command line: help, version, and configuration errors that stop
//! startup with a message naming the key.

mod support;

use support::*;

/// And `--version` prints the crate version.
#[test]
fn help_lists_every_key_with_its_default() {
    let out = run_within(&[], &["--help"], WAIT);
    assert!(out.status.success());
    let text = stdout(&out);
    for (key, default, _) in bbb_webhooks::config::KEYS {
        assert!(text.contains(key), "{key} in --help");
        if !default.is_empty() {
            assert!(text.contains(default), "{default} in --help");
        }
    }
    let out = run_within(&[], &["--version"], WAIT);
    assert_eq!(
        stdout(&out).trim(),
        format!("bbb-webhooks {}", env!("CARGO_PKG_VERSION"))
    );
}

/// `pairs` for a run that should stop at its configuration, on top of
/// where it would go if it did not: a Redis port nothing listens on (never
/// the machine's 6379), the API on port 0 (never the fixed 3005), no
/// metrics endpoint.
fn env_nowhere(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut e = vec![
        (
            "BBB_WEBHOOKS_REDIS_URL".to_owned(),
            format!("redis://127.0.0.1:{}", free_port()),
        ),
        ("BBB_WEBHOOKS_API_BIND".to_owned(), "127.0.0.1:0".to_owned()),
        ("BBB_WEBHOOKS_METRICS_BIND".to_owned(), String::new()),
    ];
    for (k, v) in pairs {
        e = with(e, k, v);
    }
    e
}

#[test]
fn bad_config_values_stop_startup_naming_the_key() {
    let base = [
        ("BBB_WEBHOOKS_SHARED_SECRET", "s"),
        ("BBB_WEBHOOKS_SERVER_DOMAIN", "d"),
        ("BBB_WEBHOOKS_BBB_PROPERTIES", ""),
    ];
    for (key, value) in [
        ("BBB_WEBHOOKS_API_BIND", "not an address"),
        ("BBB_WEBHOOKS_REQUEST_TIMEOUT_MS", "-5"),
        ("BBB_WEBHOOKS_CALLBACK_AUTH", "magic"),
        ("BBB_WEBHOOKS_RETRY_INTERVALS_MS", "1,x"),
        ("BBB_WEBHOOKS_NOT_A_KEY", "1"),
    ] {
        let mut pairs = base.to_vec();
        pairs.push((key, value));
        let out = run_within(&env_nowhere(&pairs), &[], WAIT);
        assert!(!out.status.success(), "{key}={value} must stop startup");
        let err = stderr(&out);
        assert!(err.contains(key), "{key}: {err}");
    }
    // No secret anywhere: the error says where it looked.
    let out = run_within(
        &env_nowhere(&[(
            "BBB_WEBHOOKS_BBB_PROPERTIES",
            "/nonexistent/bbb-web.properties",
        )]),
        &[],
        WAIT,
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("no shared secret") && err.contains("/nonexistent/bbb-web.properties"),
        "{err}"
    );
    // An unknown argument.
    let out = run_within(&env_nowhere(&[]), &["--frobnicate"], WAIT);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--frobnicate"));
}

#[test]
fn an_api_port_in_use_stops_startup_naming_the_address_and_key() {
    let redis = Redis::start();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let mut e = base_env(&redis);
    e.retain(|(k, _)| k != "BBB_WEBHOOKS_API_BIND");
    e.push(("BBB_WEBHOOKS_API_BIND".into(), addr.clone()));
    let out = run_within(&e, &[], WAIT);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&addr) && err.contains("BBB_WEBHOOKS_API_BIND"),
        "{err}"
    );
}
