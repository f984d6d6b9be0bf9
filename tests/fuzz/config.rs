//! The configuration: whatever the environment, the config file and BBB's
//! properties file hold, loading gives values within their bounds or an
//! error that names the key or the file, and an empty value means unset.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bbb_webhooks::config::{self, Config};
use bbb_webhooks::hooks;

use crate::{run, Budget, Rng};

const VALUES: &[&str] = &[
    "",
    " ",
    "0",
    "1",
    "-1",
    "20",
    "21",
    "1024",
    "1025",
    "18446744073709551616",
    "true",
    "FALSE",
    "yes",
    "off",
    "sha1",
    "SHA256",
    "md5",
    "sha1,sha512",
    ",",
    "checksum",
    "bearer",
    "redis://127.0.0.1:1",
    "unix:///tmp/r.sock",
    "http://x",
    "127.0.0.1:0",
    "[::1]:0",
    "localhost:80",
    "/bigbluebutton/api",
    "/",
    "//",
    "/a?b",
    "no-slash",
    "raw:http://a/b",
    "http://a/b, raw:https://c/d",
    "raw:",
    "raw:ftp://x",
    "100,500",
    "1,,2",
    "a,b",
    "debug",
    "trace",
    "loud",
    "\"quoted\"",
    "'single'",
    "\"",
    "x=y",
    "é",
];

fn config_key(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => format!("BBB_WEBHOOKS_{}", rng.string()),
        1 => rng.string(),
        2 => format!(" {} ", rng.pick(config::KEYS).0),
        _ => rng.pick(config::KEYS).0.to_owned(),
    }
}

fn config_value(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => rng.string(),
        1 => format!("{}{}", rng.pick(VALUES), rng.pick(VALUES)),
        _ => (*rng.pick(VALUES)).to_owned(),
    }
}

fn config_case(rng: &mut Rng, dir: &Path) {
    let file = dir.join("fuzz.conf");
    let props = dir.join("fuzz.properties");
    let mut env: HashMap<String, String> = HashMap::new();
    if !rng.chance(4) {
        env.insert("BBB_WEBHOOKS_SHARED_SECRET".into(), rng.string());
    }
    if !rng.chance(4) {
        env.insert("BBB_WEBHOOKS_SERVER_DOMAIN".into(), rng.string());
    }
    for _ in 0..rng.below(6) {
        env.insert(config_key(rng), config_value(rng));
    }
    // Only files of this case are read, never the machine's.
    env.insert(
        "BBB_WEBHOOKS_BBB_PROPERTIES".into(),
        match rng.below(3) {
            0 => String::new(),
            1 => format!("{},{}", dir.join("missing").display(), props.display()),
            _ => props.display().to_string(),
        },
    );
    let mut text: Vec<u8> = Vec::new();
    for _ in 0..rng.below(6) {
        match rng.below(6) {
            0 => text.extend(rng.bytes()),
            1 => text.extend(format!("# {}", rng.string()).bytes()),
            2 => text.extend(rng.string().bytes()),
            _ => text.extend(format!("{}={}", config_key(rng), config_value(rng)).bytes()),
        }
        text.extend(rng.pick(&["\n", "\r\n", "\n\n", ""]).bytes());
    }
    let mut props_text = String::new();
    for _ in 0..rng.below(5) {
        let line = match rng.below(5) {
            0 => format!(
                "securitySalt{}{}",
                rng.pick(&["=", ":", " ", "\\=", "\t"]),
                rng.string()
            ),
            1 => format!(
                "bigbluebutton.web.serverURL={}",
                rng.string_from(&["https://", "http://", "[::1]", ":", "@", "/"])
            ),
            2 => format!("{}\\", rng.string()),
            _ => rng.string(),
        };
        props_text.push_str(&line);
        props_text.push('\n');
    }
    std::fs::write(&file, &text).expect("write config");
    std::fs::write(&props, &props_text).expect("write properties");

    // A key set to an empty value, in the environment or the file, loads as
    // if it were not set at all.
    if rng.chance(3) {
        let key = rng.pick(config::KEYS).0;
        if key != "BBB_WEBHOOKS_BBB_PROPERTIES" {
            env.remove(key);
            let unset = describe(Config::load(&env, Some(&file)));
            env.insert(key.to_owned(), (*rng.pick(&["", " ", "\t"])).to_owned());
            assert_eq!(
                describe(Config::load(&env, Some(&file))),
                unset,
                "{key} empty"
            );
            env.remove(key);
            let mut with_empty = text.clone();
            with_empty.extend(format!("\n{key}=\n").bytes());
            std::fs::write(&file, &with_empty).expect("write config");
            let empty = describe(Config::load(&env, Some(&file)));
            std::fs::write(&file, &text).expect("write config");
            assert_eq!(empty, unset, "{key} empty in the file");
        }
    }
    match Config::load(&env, Some(&file)) {
        Ok(c) => {
            assert!(!c.retry_intervals.is_empty());
            assert!((1..=1024).contains(&c.delivery_workers));
            assert!((1..=1000).contains(&c.multi_event));
            assert!(c.max_queue >= 1 && c.max_hooks >= 1 && c.max_redirects <= 20);
            assert!(!c.channels.is_empty() && !c.api_algorithms.is_empty());
            assert!(!c.api_path.ends_with('/'));
            assert!(c
                .permanent_hooks
                .iter()
                .all(|h| hooks::valid_callback_url(&h.url)));
        }
        Err(e) => {
            let e = e.to_string();
            let named = e.contains("BBB_WEBHOOKS_")
                || e.contains(&file.display().to_string())
                || e.contains(&props.display().to_string());
            assert!(named, "the error names no key or file: {e}");
        }
    }
}

/// A load's result as text, to compare two loads.
fn describe(r: bbb_webhooks::error::Result<Config>) -> String {
    match r {
        Ok(c) => format!("{c:?}"),
        Err(e) => e.to_string(),
    }
}

fn config_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bbbwh-fuzz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Any settings load to values within their bounds, or to an error that
/// names the key or the file.
#[test]
fn any_settings_load_valid_values_or_an_error_naming_the_key_or_file() {
    let dir = config_dir("quick");
    run("config", Budget::quick(1000), |rng| config_case(rng, &dir));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_any_settings_load_valid_values_or_an_error_naming_the_key_or_file() {
    let dir = config_dir("long");
    run("config", Budget::long(), |rng| config_case(rng, &dir));
    std::fs::remove_dir_all(&dir).ok();
}

/// Found by the quick run of this target (then `config_parsing`): a key set
/// to an empty value (`KEY=` in a systemd environment file) stopped startup
/// with "has the value \"\"" where the README promises that an empty value
/// means unset.
#[test]
fn regressions_empty_value_means_unset() {
    let dir = config_dir("regression");
    let file = dir.join("empty.conf");
    let env: HashMap<String, String> = [
        ("BBB_WEBHOOKS_SHARED_SECRET", "s"),
        ("BBB_WEBHOOKS_SERVER_DOMAIN", "d"),
        ("BBB_WEBHOOKS_BBB_PROPERTIES", ""),
        ("BBB_WEBHOOKS_RETRY_INTERVALS_MS", ""),
        ("BBB_WEBHOOKS_DELIVERY_WORKERS", " "),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    std::fs::write(
        &file,
        "BBB_WEBHOOKS_DELIVERY_WORKERS=3\nBBB_WEBHOOKS_CHANNELS=\nBBB_WEBHOOKS_MAX_QUEUE=\"\"\n",
    )
    .expect("write config");
    let c = Config::load(&env, Some(&file)).expect("empty values load as unset");
    assert_eq!(c.retry_intervals.len(), 12);
    assert_eq!(
        c.delivery_workers, 3,
        "the file's value, as the env's is empty"
    );
    assert_eq!(c.channels.len(), 8);
    assert_eq!(c.max_queue, 10_000);
    std::fs::remove_dir_all(&dir).ok();
}

/// Found by the long run of this target (then `long_config_parsing`, seed
/// 105145): an algorithm list with no algorithm in it (`,`) loaded, and then
/// the API refused every checksum.
#[test]
fn regressions_no_api_algorithm_is_refused() {
    let dir = config_dir("regression-alg");
    let file = dir.join("alg.conf");
    std::fs::write(&file, "BBB_WEBHOOKS_API_CHECKSUM_ALGORITHMS=,\n").expect("write config");
    let env: HashMap<String, String> = [
        ("BBB_WEBHOOKS_SHARED_SECRET", "s"),
        ("BBB_WEBHOOKS_SERVER_DOMAIN", "d"),
        ("BBB_WEBHOOKS_BBB_PROPERTIES", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let e = Config::load(&env, Some(&file))
        .expect_err("no algorithm")
        .to_string();
    assert!(e.contains("BBB_WEBHOOKS_API_CHECKSUM_ALGORITHMS"), "{e}");
    assert!(e.contains("alg.conf, line 1"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}
