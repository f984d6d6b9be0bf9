//! Where values come from before they are parsed: the defaults, a `KEY=value`
//! file and the environment, merged into [`Values`] with each value's
//! [`Origin`] (highest first: environment, file, default). It parses no value.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::keys;
use super::parse::Key;
use crate::error::{Error, Result};

/// Where a value came from, for error messages.
#[derive(Clone, Debug)]
pub(super) enum Origin {
    Env,
    File(PathBuf, usize),
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Env => f.write_str("the environment"),
            Origin::File(p, line) => write!(f, "{}, line {line}", p.display()),
            Origin::Default => f.write_str("the default"),
        }
    }
}

/// Values by key, each with its origin.
pub(super) struct Values(HashMap<&'static str, (String, Origin)>);

impl Values {
    /// Every key at its default, overridden by the lines of `file` (when
    /// given), overridden by the `BBB_WEBHOOKS_*` variables of `env`. An
    /// unknown key is an error naming where it was found; an empty value
    /// counts as absent.
    pub(super) fn read(env: &HashMap<String, String>, file: Option<&Path>) -> Result<Values> {
        let mut values = Values(HashMap::new());
        for k in keys::TABLE {
            let default = (k.default.to_owned(), Origin::Default);
            values.0.insert(k.name, default);
        }
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Error::Config(format!("cannot read config file {}: {e}", path.display()))
            })?;
            for (line_no, key, value) in parse_env_file(&text, path)? {
                let key = canonical_key(&key).ok_or_else(|| {
                    Error::Config(format!(
                        "unknown key {key} in {}, line {line_no} (see --help)",
                        path.display()
                    ))
                })?;
                // An empty value means unset: the line counts as absent.
                if !value.trim().is_empty() {
                    values
                        .0
                        .insert(key, (value, Origin::File(path.to_path_buf(), line_no)));
                }
            }
        }
        let mut env_keys: Vec<&String> = env.keys().collect();
        env_keys.sort();
        for key in env_keys {
            if !key.starts_with("BBB_WEBHOOKS_") {
                continue;
            }
            let canon = canonical_key(key).ok_or_else(|| {
                Error::Config(format!("unknown key {key} in the environment (see --help)"))
            })?;
            if !env[key].trim().is_empty() {
                values.0.insert(canon, (env[key].clone(), Origin::Env));
            }
        }
        Ok(values)
    }

    /// The trimmed value of key `name` ("" when unset) and where it came
    /// from. Err: the key is not in the table, a bug that fails every load.
    fn lookup(&self, name: &str) -> Result<(&str, &Origin)> {
        let (value, origin) = self
            .0
            .get(name)
            .ok_or_else(|| Error::Config(format!("{name} is missing from the key table")))?;
        Ok((value.trim(), origin))
    }

    /// The value of `key`, parsed by its own parser; an error names the
    /// key, where the value came from and what was wrong with it.
    pub(super) fn parse<T>(&self, key: &Key<T>) -> Result<T> {
        let (value, origin) = self.lookup(key.name)?;
        (key.parse)(value).map_err(|part| bad(key.name, origin, part, key.expects))
    }

    /// Where the value of `key` came from.
    pub(super) fn origin<T>(&self, key: &Key<T>) -> Result<&Origin> {
        Ok(self.lookup(key.name)?.1)
    }
}

fn bad(key: &str, origin: &Origin, value: &str, what: &str) -> Error {
    if keys::SECRET_VALUES.contains(&key) {
        return Error::Config(format!(
            "{key} (from {origin}) has a value (not shown: a secret) that is not {what}"
        ));
    }
    Error::Config(format!(
        "{key} (from {origin}) has the value {:?}, which is not {what}",
        crate::redact::credentials(value)
    ))
}

fn canonical_key(key: &str) -> Option<&'static str> {
    keys::find(key).map(|k| k.name)
}

/// Parses a systemd-`EnvironmentFile`-style text: `KEY=value` lines, `#` or `;`
/// comment lines, blank lines; a value may be wrapped in single or double quotes.
pub(super) fn parse_env_file(text: &str, path: &Path) -> Result<Vec<(usize, String, String)>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(Error::Config(format!(
                "{}, line {line_no}: expected KEY=value",
                path.display()
            )));
        };
        let value = value.trim();
        let value = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or(value);
        out.push((line_no, key.trim().to_owned(), value.to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::{CallbackAuth, Config, PermanentHook};
    use super::*;

    const BASE: [(&str, &str); 2] = [
        ("BBB_WEBHOOKS_SHARED_SECRET", "s3cret"),
        ("BBB_WEBHOOKS_SERVER_DOMAIN", "bbb.example.com"),
    ];

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// A file in a private temporary directory, removed with it by the caller.
    fn temp_file(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("bbbwh-src-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let file = dir.join("a.conf");
        std::fs::write(&file, text).expect("write");
        file
    }

    #[test]
    fn env_file_syntax() {
        let path = Path::new("/x/a.conf");
        let text = "# c\n; c\n\n A = 1 \nB=\"two words\"\nC='3'\nD=\"open\nE=\n";
        let lines = parse_env_file(text, path).expect("parses");
        let lines: Vec<(usize, &str, &str)> = lines
            .iter()
            .map(|(n, k, v)| (*n, k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                (4, "A", "1"),
                (5, "B", "two words"),
                (6, "C", "3"),
                (7, "D", "\"open"),
                (8, "E", "")
            ]
        );
        let e = parse_env_file("A=1\nnot a setting\n", path)
            .expect_err("a line without =")
            .to_string();
        assert!(e.contains("/x/a.conf, line 2: expected KEY=value"), "{e}");
    }

    #[test]
    fn environment_over_file_over_default() {
        let file = temp_file(
            "prec",
            "BBB_WEBHOOKS_MAX_QUEUE=5\nBBB_WEBHOOKS_MAX_HOOKS=7\nBBB_WEBHOOKS_LOG_LEVEL=\n",
        );
        let e = env(&[
            ("BBB_WEBHOOKS_MAX_HOOKS", "9"),
            ("BBB_WEBHOOKS_GET_RAW", " "),
            ("PATH", "/bin"),
        ]);
        let v = Values::read(&e, Some(&file)).expect("reads");
        let shown = |key| {
            let (v, o) = v.lookup(key).expect("a key of the table");
            Some(format!("{v} from {o}")).filter(|_| !v.is_empty())
        };
        assert_eq!(
            shown("BBB_WEBHOOKS_MAX_QUEUE").as_deref(),
            Some(format!("5 from {}, line 1", file.display()).as_str())
        );
        assert_eq!(
            shown("BBB_WEBHOOKS_MAX_HOOKS").as_deref(),
            Some("9 from the environment")
        );
        // Empty, in the file or the environment: the default stays.
        assert_eq!(
            shown("BBB_WEBHOOKS_LOG_LEVEL").as_deref(),
            Some("info from the default")
        );
        assert_eq!(
            shown("BBB_WEBHOOKS_GET_RAW").as_deref(),
            Some("true from the default")
        );
        assert_eq!(shown("BBB_WEBHOOKS_SHARED_SECRET"), None);
        if let Some(dir) = file.parent() {
            std::fs::remove_dir_all(dir).ok();
        }
    }

    #[test]
    fn unknown_keys_and_files_are_named() {
        let e = Values::read(&env(&[("BBB_WEBHOOKS_NOPE", "1")]), None)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("configuration: unknown key BBB_WEBHOOKS_NOPE in the environment (see --help)")
        );
        let file = temp_file("unknown", "\nBBB_WEBHOOKS_MAX_QUEUE=1\nNOPE=1\n");
        let e = Values::read(&env(&[]), Some(&file))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e,
            Some(format!(
                "configuration: unknown key NOPE in {}, line 3 (see --help)",
                file.display()
            ))
        );
        let missing = file.with_file_name("missing.conf");
        let e = Values::read(&env(&[]), Some(&missing))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("cannot read config file") && e.contains("missing.conf"),
            "{e}"
        );
        if let Some(dir) = file.parent() {
            std::fs::remove_dir_all(dir).ok();
        }
    }

    #[test]
    fn file_values_and_env_precedence() {
        let dir = std::env::temp_dir().join(format!("bbbwh-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let file = dir.join("a.conf");
        std::fs::write(
            &file,
            "# comment\n\nBBB_WEBHOOKS_DELIVERY_WORKERS=3\nBBB_WEBHOOKS_CALLBACK_AUTH=\"bearer\"\nBBB_WEBHOOKS_PERMANENT_HOOKS=http://a/x, raw:https://b/y\n",
        )
        .expect("write");
        let c = Config::load(&env(&BASE), Some(&file)).expect("file loads");
        assert_eq!(c.delivery_workers, 3);
        assert_eq!(c.callback_auth, CallbackAuth::Bearer);
        assert_eq!(
            c.permanent_hooks,
            vec![
                PermanentHook {
                    url: "http://a/x".into(),
                    raw: false
                },
                PermanentHook {
                    url: "https://b/y".into(),
                    raw: true
                }
            ]
        );
        let mut pairs = BASE.to_vec();
        pairs.push(("BBB_WEBHOOKS_DELIVERY_WORKERS", "5"));
        let c = Config::load(&env(&pairs), Some(&file)).expect("env wins");
        assert_eq!(c.delivery_workers, 5);

        std::fs::write(&file, "BBB_WEBHOOKS_DELIVERY_WORKERS=0\n").expect("write");
        let e = Config::load(&env(&BASE), Some(&file))
            .expect_err("bad file value")
            .to_string();
        assert!(e.contains("a.conf, line 1"), "{e}");
        std::fs::write(&file, "NOT_A_KEY=1\n").expect("write");
        let e = Config::load(&env(&BASE), Some(&file))
            .expect_err("unknown")
            .to_string();
        assert!(e.contains("NOT_A_KEY"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
