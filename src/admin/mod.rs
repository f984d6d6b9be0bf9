//! The admin subcommands of the `bbb-webhooks` binary: each reads the same
//! configuration as the service, does one job and says whether it succeeded.
//! This module dispatches and holds what they share (the API's address, a
//! small HTTP client); one file per command.

mod catch;
mod check;
mod cluster;
mod hooks;
mod sign;
mod test_event;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::config::Config;
use crate::error::{Error, Result};

pub use sign::signed_url;

/// The subcommands' usage lines, for `--help`.
pub const USAGE: &str = "\
  bbb-webhooks sign [--algorithm sha1|sha256|sha384|sha512] CALL [PARAM=VALUE ...]
  bbb-webhooks hooks list [--meeting ID]
  bbb-webhooks hooks create CALLBACK_URL [--meeting ID] [--events ID,ID] [--raw]
  bbb-webhooks hooks destroy HOOK_ID
  bbb-webhooks test-event [--meeting ID]
  bbb-webhooks catch [--port N]
  bbb-webhooks check
";

/// The names of the subcommands.
pub const COMMANDS: [&str; 5] = ["sign", "hooks", "test-event", "catch", "check"];

/// What every command gets: the environment and the `--config` file.
pub struct Context {
    pub env: HashMap<String, String>,
    pub config_file: Option<PathBuf>,
}

impl Context {
    /// The configuration, read as the service reads it.
    pub fn config(&self) -> Result<Config> {
        Config::load(&self.env, self.config_file.as_deref())
    }
}

/// Runs subcommand `name` with `args`. `Ok(false)`: it ran and reported a
/// failure (the exit status is then non-zero).
pub fn run(name: &str, args: &[String], ctx: &Context) -> Result<bool> {
    match name {
        "sign" => sign::run(args, &ctx.config()?),
        "hooks" => hooks::run(args, &ctx.config()?),
        "test-event" => test_event::run(args, &ctx.config()?),
        "catch" => catch::run(args, &ctx.config()?),
        "check" => check::run(args, ctx),
        other => Err(Error::Usage(format!(
            "unknown command {other:?} (see --help)"
        ))),
    }
}

/// The address to reach a listener bound to `bind` from this machine: an
/// unspecified address (`0.0.0.0`, `::`) becomes the loopback address.
pub fn local_addr(bind: SocketAddr) -> SocketAddr {
    match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), bind.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), bind.port())
        }
        _ => bind,
    }
}

/// `http://<API address><API path>`, reachable from this machine.
pub fn api_base(config: &Config) -> String {
    format!("http://{}{}", local_addr(config.api_bind), config.api_path)
}

/// Largest answer body read from the API.
const MAX_ANSWER: u64 = 16 * 1024 * 1024;

/// GETs `url`; returns the status and the body, whatever the status.
pub(crate) fn http_get(url: &str, timeout: Duration) -> Result<(u16, String)> {
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("bbb-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent();
    let mut resp = agent.get(url).call()?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER)
        .read_to_string()?;
    Ok((status, body))
}

/// Splits `--name VALUE` and `--name=VALUE` options from positional
/// arguments. `flags` take no value.
pub(crate) struct Args {
    pub positional: Vec<String>,
    pub options: Vec<(String, Option<String>)>,
}

impl Args {
    pub fn parse(args: &[String], with_value: &[&str], flags: &[&str]) -> Result<Args> {
        let mut out = Args {
            positional: Vec::new(),
            options: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if let Some(name) = a.strip_prefix("--") {
                let (name, inline) = match name.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_owned())),
                    None => (name, None),
                };
                if with_value.contains(&name) {
                    let v = match inline {
                        Some(v) => v,
                        None => it
                            .next()
                            .cloned()
                            .ok_or_else(|| Error::Usage(format!("--{name} needs a value")))?,
                    };
                    out.options.push((name.to_owned(), Some(v)));
                } else if flags.contains(&name) && inline.is_none() {
                    out.options.push((name.to_owned(), None));
                } else {
                    return Err(Error::Usage(format!("unknown option {a:?} (see --help)")));
                }
            } else {
                out.positional.push(a.clone());
            }
        }
        Ok(out)
    }

    /// The last value of option `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Whether flag `name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| n == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_bind_is_reached_on_loopback() {
        let a: SocketAddr = "0.0.0.0:3005".parse().expect("addr");
        assert_eq!(local_addr(a).to_string(), "127.0.0.1:3005");
        let a: SocketAddr = "[::]:3005".parse().expect("addr");
        assert_eq!(local_addr(a).to_string(), "[::1]:3005");
        let a: SocketAddr = "10.0.0.1:80".parse().expect("addr");
        assert_eq!(local_addr(a), a);
    }

    #[test]
    fn options_and_positionals() {
        let args: Vec<String> = [
            "create",
            "--meeting",
            "m",
            "http://x",
            "--raw",
            "--events=a,b",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let a = Args::parse(&args, &["meeting", "events"], &["raw"]).expect("parses");
        assert_eq!(a.positional, vec!["create", "http://x"]);
        assert_eq!(a.value("meeting"), Some("m"));
        assert_eq!(a.value("events"), Some("a,b"));
        assert!(a.flag("raw"));
        assert!(Args::parse(&args, &["meeting"], &[]).is_err());
        assert!(Args::parse(&["--meeting".to_owned()], &["meeting"], &[]).is_err());
    }
}
