//! `bbb-webhooks check`: tells an admin what is wrong, one line per check
//! (configuration, secret, Redis, xAPI, API port, metrics port; in cluster
//! mode the pool and each server's relay hook) with a hint on failure. Never
//! prints the secret, only where it was found.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Config, DEFAULT_FILE};
use crate::error::{Error, Result};

use super::{local_addr, Context};

const TIMEOUT: Duration = Duration::from_secs(3);

/// One line of the report.
struct Report {
    failed: bool,
}

impl Report {
    fn ok(&mut self, what: &str, text: &str) {
        println!("ok    {what}: {text}");
    }

    fn fail(&mut self, what: &str, text: &str, hint: &str) {
        self.failed = true;
        println!("FAIL  {what}: {text}; {hint}");
    }
}

pub fn run(args: &[String], ctx: &Context) -> Result<bool> {
    if let Some(extra) = args.first() {
        return Err(Error::Usage(format!(
            "unexpected argument {extra:?} (see --help)"
        )));
    }
    let mut r = Report { failed: false };
    let file = ctx
        .config_file
        .clone()
        .or_else(|| Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.exists()));
    let config = match ctx.config() {
        Ok(c) => {
            let from = match &file {
                Some(f) => format!("read from {} and the environment", f.display()),
                None => {
                    format!("no file ({DEFAULT_FILE} does not exist): environment and defaults")
                }
            };
            r.ok("config", &from);
            c
        }
        Err(e) => {
            r.fail(
                "config",
                &e.to_string(),
                "fix the setting named (bbb-webhooks --help lists every key)",
            );
            return Ok(false);
        }
    };
    r.ok("secret", &format!("found: {}", config.secret_origin));
    // One connection for every check that reads this service's Redis; None
    // once the redis line has said why there is none.
    let mut redis = check_redis(&mut r, &config);
    check_xapi(&mut r, &config, redis.as_mut());
    check_api(&mut r, &config);
    if let Some(bind) = config.metrics_bind {
        check_metrics(&mut r, bind);
    }
    if let Some(cluster) = &config.cluster {
        for l in super::cluster::check(cluster, redis.as_mut()) {
            match l.ok {
                true => r.ok(&l.what, &l.text),
                false => r.fail(&l.what, &l.text, l.hint),
            }
        }
    }
    Ok(!r.failed)
}

/// The redis line; the connection when Redis answers.
fn check_redis(r: &mut Report, config: &Config) -> Option<redis::Connection> {
    let url = config.redis_url.to_string();
    let answer = redis::Client::open(config.redis_url.expose())
        .and_then(|c| c.get_connection_with_timeout(TIMEOUT))
        .and_then(|mut c| {
            c.set_read_timeout(Some(TIMEOUT))?;
            redis::cmd("PING").query::<String>(&mut c)?;
            Ok(c)
        });
    match answer {
        Ok(c) => {
            r.ok("redis", &format!("{url} answers"));
            Some(c)
        }
        Err(e) => {
            r.fail(
                "redis",
                &format!("{url} does not answer ({e})"),
                "start redis-server or fix BBB_WEBHOOKS_REDIS_URL",
            );
            None
        }
    }
}

/// Whether xAPI is on, where its statements go (never the credentials),
/// and what waits in Redis per LRS (a queue left from when it was on is
/// still delivered).
fn check_xapi(r: &mut Report, config: &Config, redis: Option<&mut redis::Connection>) {
    let x = &config.xapi;
    if x.enabled {
        let lrs = x.lrs_shown().map_or_else(
            || {
                "no BBB_WEBHOOKS_XAPI_LRS_URL: only meetings with their own secret-lrs-payload send"
                    .to_owned()
            },
            |l| format!("statements go to {l}, or to a meeting's own LRS"),
        );
        r.ok("xapi", &format!("on; {lrs}"));
    } else {
        r.ok("xapi", "off (BBB_WEBHOOKS_XAPI_ENABLED)");
    }
    // Without Redis the redis line has said so already.
    let waiting = redis.and_then(|c| crate::delivery::lrs_backlog(c, &config.secret).ok());
    for (id, url, n) in waiting.unwrap_or_default() {
        let url = url.map_or_else(
            || "its destination cannot be read with this secret".to_owned(),
            |u| crate::redact::url(&u),
        );
        r.ok("xapi", &format!("{n} statements wait for LRS {id} ({url})"));
    }
}

fn check_api(r: &mut Report, config: &Config) {
    let bind = config.api_bind;
    if TcpListener::bind(bind).is_ok() {
        r.ok(
            "api",
            &format!("{bind} is free (the service is not running; it can listen there)"),
        );
        return;
    }
    let base = super::api_base(config);
    match super::http_get(&format!("{base}/hooks/ping"), TIMEOUT) {
        Ok((200, body)) if body.contains("bbb-webhooks API up") => {}
        Ok((status, _)) => {
            return r.fail(
                "api",
                &format!("{bind} is in use by something else (hooks/ping answered HTTP {status})"),
                "stop that program or change BBB_WEBHOOKS_API_BIND",
            )
        }
        Err(e) => {
            return r.fail(
                "api",
                &format!("{bind} is in use but {base}/hooks/ping does not answer ({e})"),
                "stop the program holding the port or change BBB_WEBHOOKS_API_BIND",
            )
        }
    }
    // The service answers: does it take this configuration's checksums?
    let alg = config.api_algorithms.first().copied();
    let Some(alg) = alg else {
        return r.ok("api", &format!("the service answers on {base}"));
    };
    let url = super::signed_url(config, "hooks/list", &[], alg);
    match super::http_get(&url, TIMEOUT) {
        Ok((200, body)) if body.contains("<returncode>SUCCESS</returncode>") => r.ok(
            "api",
            &format!("the service answers on {base} and accepts this secret"),
        ),
        Ok((_, body)) if body.contains("checksumError") => r.fail(
            "api",
            &format!("the service on {base} refuses checksums made with this secret"),
            "it runs with another secret or configuration: compare BBB_WEBHOOKS_SHARED_SECRET and securitySalt",
        ),
        Ok((status, body)) => r.fail(
            "api",
            &format!("hooks/list on {base} answered HTTP {status}: {}", body.trim()),
            "see the service's log",
        ),
        Err(e) => r.fail(
            "api",
            &format!("hooks/list on {base} failed ({e})"),
            "see the service's log",
        ),
    }
}

fn check_metrics(r: &mut Report, bind: SocketAddr) {
    if TcpListener::bind(bind).is_ok() {
        return r.ok("metrics", &format!("{bind} is free"));
    }
    let url = format!("http://{}/metrics", local_addr(bind));
    match super::http_get(&url, TIMEOUT) {
        Ok((200, body)) if body.contains("bbb_webhooks_") => {
            r.ok("metrics", &format!("the service answers on {url}"))
        }
        Ok((status, _)) => r.fail(
            "metrics",
            &format!("{bind} is in use by something else ({url} answered HTTP {status})"),
            "stop that program or change BBB_WEBHOOKS_METRICS_BIND",
        ),
        Err(e) => r.fail(
            "metrics",
            &format!("{bind} is in use but {url} does not answer ({e})"),
            "stop that program or change BBB_WEBHOOKS_METRICS_BIND",
        ),
    }
}
