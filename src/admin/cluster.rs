//! `check`'s lines in cluster mode: the pool as its source gives it now
//! (Scalelite's Redis read here, read only, or the static list; tenants
//! are a failure), then each pool server and whether its relay hook is in
//! place, as the running service saw it at its last sync (the status record
//! it writes to its own Redis, see `cluster::status`). Never prints a
//! secret.

use crate::cluster::scalelite::Scalelite;
use crate::cluster::status::{self, Record, ServerLine};
use crate::cluster::{tenancy, Pool, State};
use crate::config::{Cluster, PoolSource};
use crate::store::keys;

/// One line of the report.
#[derive(Debug, PartialEq, Eq)]
pub struct Line {
    pub ok: bool,
    pub what: String,
    pub text: String,
    /// What to do, on failure.
    pub hint: &'static str,
}

fn ok(what: &str, text: String) -> Line {
    Line {
        ok: true,
        what: what.to_owned(),
        text,
        hint: "",
    }
}

fn fail(what: &str, text: String, hint: &'static str) -> Line {
    Line {
        ok: false,
        what: what.to_owned(),
        text,
        hint,
    }
}

/// Every cluster line, the pool's first; the service's status record is
/// read on `redis`, this service's own Redis (None: the redis line says why).
pub fn check(cluster: &Cluster, redis: Option<&mut redis::Connection>) -> Vec<Line> {
    let mut lines = vec![pool_line(&cluster.source)];
    // A failed read: the redis line says why.
    if let Some(Ok(record)) = redis.map(status::read) {
        lines.extend(record_lines(record.as_ref(), crate::clock::now_ms()));
    }
    lines
}

/// The pool as its source gives it now.
fn pool_line(source: &PoolSource) -> Line {
    let (url, namespace) = match source {
        PoolSource::Static(pool) => {
            return ok(
                "pool",
                format!("{}: {}", counted(pool), "BBB_WEBHOOKS_CLUSTER_SERVERS"),
            )
        }
        PoolSource::Scalelite { url, namespace } => (url, namespace),
    };
    let read = Scalelite::new(url, namespace).and_then(|mut s| s.read());
    match read {
        Err(e) => fail(
            "pool",
            format!("Scalelite's Redis at {url} cannot be read ({e})"),
            "fix BBB_WEBHOOKS_SCALELITE_REDIS_URL (Scalelite's REDIS_URL) or start that Redis",
        ),
        Ok(snap) => match tenancy::check(&keys::scalelite::tenants(namespace), &snap.tenants) {
            Err(found) => fail(
                "pool",
                found.to_string(),
                "cluster mode does not run on a multi-tenant Scalelite",
            ),
            Ok(()) if snap.pool.is_empty() => fail(
                "pool",
                format!("no server in Scalelite's Redis at {url} under {namespace}:servers"),
                "check BBB_WEBHOOKS_SCALELITE_NAMESPACE (Scalelite's REDIS_NAMESPACE) and that servers are added (rake servers:add)",
            ),
            Ok(()) => {
                let skipped = match snap.skipped.len() {
                    0 => String::new(),
                    n => format!("; {n} records skipped (see the service's log)"),
                };
                ok(
                    "pool",
                    format!("{} in Scalelite's Redis at {url}{skipped}", counted(&snap.pool)),
                )
            }
        },
    }
}

/// `N servers (E enabled, C cordoned, D disabled)`.
fn counted(pool: &Pool) -> String {
    let n = |st| pool.iter().filter(|s| s.state == st).count();
    format!(
        "{} servers ({} enabled, {} cordoned, {} disabled)",
        pool.len(),
        n(State::Enabled),
        n(State::Cordoned),
        n(State::Disabled)
    )
}

/// The lines of the service's last sync, at `now_ms`.
pub fn record_lines(record: Option<&Record>, now_ms: u64) -> Vec<Line> {
    let Some(r) = record else {
        return vec![fail(
            "relay hooks",
            "no status from a running service in cluster mode".to_owned(),
            "start it (systemctl start bbb-webhooks); it writes its status after each sync",
        )];
    };
    let age = now_ms.saturating_sub(r.at_ms) / 1000;
    let mut lines = Vec::new();
    if age > 3 * r.sync_secs.max(1) {
        lines.push(fail(
            "relay hooks",
            format!(
                "the service's last sync was {age} s ago (it syncs every {} s)",
                r.sync_secs
            ),
            "is it running? see journalctl -u bbb-webhooks",
        ));
    }
    if r.tenants {
        lines.push(fail(
            "relay hooks",
            format!(
                "the service found tenants in {}: it keeps its last known pool",
                r.source
            ),
            "cluster mode does not run on a multi-tenant Scalelite",
        ));
    } else if !r.source_up {
        lines.push(fail(
            "relay hooks",
            format!(
                "the service cannot read {}: it keeps its last known pool",
                r.source
            ),
            "see its log; fix or start Scalelite's Redis",
        ));
    }
    lines.extend(r.servers.iter().map(server_line));
    lines
}

fn server_line(s: &ServerLine) -> Line {
    let what = format!("pool server {}", s.id);
    let state = s.state.as_deref().unwrap_or("left the pool");
    let online = if s.online { "online" } else { "offline" };
    let about = format!("{}, {state}, {online}", s.url);
    if let Some(e) = &s.failing {
        return fail(
            &what,
            format!("{about}: its hooks API fails ({e})"),
            "its webhooks service must run and be reachable from this host, with the secret the pool has for it",
        );
    }
    match (&s.relay_hook, s.state.as_deref()) {
        (Some(id), Some(_)) => ok(&what, format!("{about}: relay hook {id} in place")),
        (Some(id), None) => ok(&what, format!("{about}: relay hook {id} being removed")),
        (None, _) if !s.looked_at => ok(&what, format!("{about}: not looked at yet")),
        (None, None) => ok(&what, format!("{about}: no relay hook left")),
        (None, Some("disabled")) => ok(&what, format!("{about}: no relay hook (disabled)")),
        (None, Some(_)) => fail(
            &what,
            format!("{about}: no relay hook"),
            "see the service's log (journalctl -u bbb-webhooks)",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(
        id: &str,
        state: Option<&str>,
        hook: Option<&str>,
        failing: Option<&str>,
    ) -> ServerLine {
        ServerLine {
            id: id.into(),
            url: format!("https://{id}/bigbluebutton/api"),
            state: state.map(Into::into),
            online: true,
            relay_hook: hook.map(Into::into),
            looked_at: true,
            failing: failing.map(Into::into),
        }
    }

    #[test]
    fn each_server_says_whether_its_relay_hook_is_in_place() {
        let r = Record {
            at_ms: 100_000,
            sync_secs: 10,
            source: "Scalelite's Redis at redis://sl".into(),
            source_up: true,
            tenants: false,
            servers: vec![
                line("a", Some("enabled"), Some("h1"), None),
                line(
                    "b",
                    Some("enabled"),
                    None,
                    Some("no answer: connection failed"),
                ),
                line("c", Some("disabled"), None, None),
                line("d", Some("cordoned"), None, None),
            ],
        };
        let lines = record_lines(Some(&r), 105_000);
        let oks: Vec<bool> = lines.iter().map(|l| l.ok).collect();
        assert_eq!(oks, vec![true, false, true, false], "{lines:?}");
        assert_eq!(lines[0].what, "pool server a");
        assert!(
            lines[0].text.ends_with("relay hook h1 in place"),
            "{lines:?}"
        );
        assert!(lines[1].text.contains("connection failed"), "{lines:?}");
        let stale = record_lines(Some(&r), 100_000 + 31_000);
        assert!(
            !stale[0].ok && stale[0].text.contains("31 s ago"),
            "{stale:?}"
        );
        let down = Record {
            source_up: false,
            servers: vec![],
            ..r
        };
        let lines = record_lines(Some(&down), 100_000);
        assert!(!lines[0].ok && lines[0].text.contains("last known pool"));
        assert!(!record_lines(None, 0)[0].ok);
    }
}
