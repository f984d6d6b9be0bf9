//! What people read of the key table, rendered from it: the keys part of
//! `--help` and the settings table of `docs/configuration.md`. Its tests check
//! that the shipped conffile, that file and the docs of `Config`'s fields
//! agree with the table. It parses no value.

use super::keys::TABLE;

/// The keys part of `--help`: each key, what it means and its default, in
/// the layout `packaging/check-deb.sh` reads (a `default:` line per key).
pub(super) fn help() -> String {
    let mut s = String::new();
    for k in TABLE {
        let default = if k.default.is_empty() {
            "(unset)"
        } else {
            k.default
        };
        s.push_str(&format!(
            "  {}\n      {}\n      default: {default}\n",
            k.name, k.help
        ));
    }
    s
}

/// The settings table of `docs/configuration.md`, in Markdown.
pub(super) fn markdown_table() -> String {
    let mut s = String::from("| key | default | meaning |\n|---|---|---|\n");
    for k in TABLE {
        let default = if k.default.is_empty() {
            "unset".to_owned()
        } else {
            format!("`{}`", k.default)
        };
        // A `|` in a cell ends it, in code spans too, unless escaped.
        let help = k.help.replace('|', "\\|");
        s.push_str(&format!("| `{}` | {default} | {help} |\n", k.name));
    }
    s
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::PathBuf;

    use super::super::keys::find;
    use super::super::Config;
    use super::*;

    fn repo_file(path: &str) -> (PathBuf, String) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        (path, text)
    }

    #[test]
    fn help_shows_each_key_its_help_and_default() {
        let help = help();
        for k in TABLE {
            let default = Some(k.default).filter(|d| !d.is_empty());
            let entry = format!(
                "  {}\n      {}\n      default: {}\n",
                k.name,
                k.help,
                default.unwrap_or("(unset)")
            );
            assert!(help.contains(&entry), "{entry:?} in --help");
        }
        assert_eq!(help.lines().count(), 3 * TABLE.len());
    }

    #[test]
    fn the_docs_table_is_the_rendered_one() {
        let (path, text) = repo_file("docs/configuration.md");
        let mut lines = text.lines().skip_while(|l| l.trim() != "## Settings");
        assert!(
            lines.next().is_some(),
            "{} has a ## Settings heading",
            path.display()
        );
        let table: String = lines
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .map(|l| format!("{l}\n"))
            .collect();
        for k in TABLE {
            let default = Some(k.default).filter(|d| !d.is_empty());
            let cell = default.map_or("unset".to_owned(), |d| format!("`{d}`"));
            let row = format!("| `{}` | {cell} |", k.name);
            assert!(table.contains(&row), "{} lists {row}", path.display());
        }
        assert_eq!(
            table,
            markdown_table(),
            "the table under ## Settings in {} (left) must be the one rendered from the key table (right)",
            path.display()
        );
    }

    /// The `KEY=value` lines of the conffile, commented out (`#KEY=value`:
    /// the default, shown) or not (a value the package sets on purpose),
    /// as `packaging/check-deb.sh` reads them.
    fn conffile_lines(text: &str) -> Vec<(&str, bool, &str)> {
        text.lines()
            .filter_map(|l| {
                let (commented, l) = match l.strip_prefix('#') {
                    Some(rest) => (true, rest),
                    None => (false, l),
                };
                let (key, value) = l.split_once('=')?;
                let is_key = key.starts_with("BBB_WEBHOOKS_")
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
                Some((key, commented, value)).filter(|_| is_key)
            })
            .collect()
    }

    #[test]
    fn the_conffile_lists_each_key_once_with_its_default() {
        let (path, text) = repo_file("packaging/bbb-webhooks.conf");
        let lines = conffile_lines(&text);
        for (key, commented, value) in &lines {
            let k = find(key)
                .unwrap_or_else(|| panic!("{key} of {} is not in the key table", path.display()));
            if *commented {
                assert_eq!(*value, k.default, "{key}'s default in {}", path.display());
            }
        }
        for k in TABLE {
            let n = lines.iter().filter(|(key, _, _)| *key == k.name).count();
            assert_eq!(n, 1, "{} lines of {} in {}", n, k.name, path.display());
        }
        // The values the package sets are valid ones.
        let env: HashMap<String, String> = [
            ("BBB_WEBHOOKS_SHARED_SECRET", "s"),
            ("BBB_WEBHOOKS_SERVER_DOMAIN", "d"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        if let Err(e) = Config::load(&env, Some(&path)) {
            panic!("{} does not load: {e}", path.display());
        }
    }

    /// Each key is named in the docs of a `Config` field, with its default.
    #[test]
    fn config_fields_document_their_key_and_default() {
        let source = include_str!("mod.rs");
        let body = source
            .split_once("pub struct Config {")
            .and_then(|(_, rest)| rest.split_once("\n}\n"))
            .map(|(body, _)| body)
            .expect("struct Config in mod.rs");
        let mut fields: Vec<String> = vec![String::new()];
        for line in body.lines().map(str::trim) {
            match line.strip_prefix("///") {
                Some(doc) => fields.last_mut().into_iter().for_each(|f| f.push_str(doc)),
                None => fields.push(String::new()),
            }
        }
        for k in TABLE {
            let named = format!("`{}`", k.name);
            let said = match k.default {
                "" => format!("{named}, unset by default"),
                d => format!("{named}, default `{d}`"),
            };
            let docs: Vec<&String> = fields.iter().filter(|f| f.contains(&named)).collect();
            assert!(!docs.is_empty(), "no Config field names {named}");
            assert!(
                docs.iter().any(|d| d.contains(&said)),
                "a Config field's doc says {said:?}: {docs:?}"
            );
        }
    }
}
