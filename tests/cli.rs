//! The command line: help, version, and configuration errors that stop
//! startup with a message naming the key.

mod support;

use support::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// And `--version` prints the crate version.
#[test]
fn help_lists_every_key_with_its_default() {
    let (mut cmd, _dir) = command(&[]);
    let out = cmd.arg("--help").output().expect("runs");
    assert!(out.status.success());
    let text = stdout(&out);
    for (key, default, _) in bbb_webhooks::config::KEYS {
        assert!(text.contains(key), "{key} in --help");
        if !default.is_empty() {
            assert!(text.contains(default), "{default} in --help");
        }
    }
    let (mut cmd, _dir) = command(&[]);
    let out = cmd.arg("--version").output().expect("runs");
    assert_eq!(
        stdout(&out).trim(),
        format!("bbb-webhooks {}", env!("CARGO_PKG_VERSION"))
    );
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
        let (mut cmd, _dir) = command(&env(&pairs));
        let out = cmd.output().expect("runs");
        assert!(!out.status.success(), "{key}={value} must stop startup");
        let err = stderr(&out);
        assert!(err.contains(key), "{key}: {err}");
    }
    // No secret anywhere: the error says where it looked.
    let (mut cmd, _dir) = command(&env(&[(
        "BBB_WEBHOOKS_BBB_PROPERTIES",
        "/nonexistent/bbb-web.properties",
    )]));
    let out = cmd.output().expect("runs");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("no shared secret") && err.contains("/nonexistent/bbb-web.properties"),
        "{err}"
    );
    // An unknown argument.
    let (mut cmd, _dir) = command(&[]);
    let out = cmd.arg("--frobnicate").output().expect("runs");
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
    let (mut cmd, _dir) = command(&e);
    let out = cmd.output().expect("runs");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&addr) && err.contains("BBB_WEBHOOKS_API_BIND"),
        "{err}"
    );
}
