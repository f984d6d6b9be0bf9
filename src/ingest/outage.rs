//! Why the Redis subscription was lost, told apart from what Redis says of
//! itself before and after: a server that kept running (same `run_id`)
//! closed the connection on purpose, which for a subscriber almost always
//! means it fell behind and hit `client-output-buffer-limit pubsub`
//! (messages published meanwhile are lost); a new `run_id` means Redis
//! restarted. Pure functions of `INFO` texts.

/// What `INFO` says that matters here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerInfo {
    /// Changes when the server restarts.
    pub run_id: String,
    /// Clients Redis closed for exceeding an output buffer limit, where the
    /// server reports it (Redis 7.2 and later).
    pub buffer_limit_disconnections: Option<u64>,
}

/// Reads the fields of [`ServerInfo`] from the text of `INFO`.
pub fn parse_info(text: &str) -> Option<ServerInfo> {
    let mut info = ServerInfo::default();
    for line in text.lines() {
        let Some((k, v)) = line.trim().split_once(':') else {
            continue;
        };
        match k {
            "run_id" => info.run_id = v.to_owned(),
            "client_output_buffer_limit_disconnections" => {
                info.buffer_limit_disconnections = v.parse().ok();
            }
            _ => {}
        }
    }
    Some(info).filter(|i| !i.run_id.is_empty())
}

/// Why the subscription was lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// Redis closed it for exceeding the pubsub output buffer limit.
    BufferLimit,
    /// Redis kept running but closed the connection (most likely the
    /// buffer limit, on a server that does not count it).
    ClosedByServer,
    /// Redis restarted.
    Restarted,
    /// Nothing to compare with.
    Unknown,
}

impl Cause {
    /// What an admin should read in the log.
    pub fn explain(self) -> &'static str {
        match self {
            Cause::BufferLimit => "Redis closed it because the service fell behind (client-output-buffer-limit pubsub); messages published meanwhile are lost: raise the limit (see docs/delivery.md)",
            Cause::ClosedByServer => "Redis kept running but closed the connection, most likely because the service fell behind (client-output-buffer-limit pubsub); messages published meanwhile are lost: raise the limit (see docs/delivery.md)",
            Cause::Restarted => "Redis restarted",
            Cause::Unknown => "the connection broke",
        }
    }
}

/// Tells why a subscription was lost from the server's info when it was
/// made (`before`) and when it was made again (`after`).
pub fn cause(before: Option<&ServerInfo>, after: Option<&ServerInfo>) -> Cause {
    let (Some(before), Some(after)) = (before, after) else {
        return Cause::Unknown;
    };
    if before.run_id != after.run_id {
        return Cause::Restarted;
    }
    match (
        before.buffer_limit_disconnections,
        after.buffer_limit_disconnections,
    ) {
        (Some(b), Some(a)) if a > b => Cause::BufferLimit,
        _ => Cause::ClosedByServer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(run_id: &str, limit: Option<u64>) -> ServerInfo {
        ServerInfo {
            run_id: run_id.into(),
            buffer_limit_disconnections: limit,
        }
    }

    #[test]
    fn parses_the_fields_of_info() {
        let text = "# Server\r\nredis_version:7.2.4\r\nrun_id:abc123\r\n# Stats\r\nclient_output_buffer_limit_disconnections:3\r\n";
        assert_eq!(parse_info(text), Some(info("abc123", Some(3))));
        assert_eq!(parse_info("run_id:x\n"), Some(info("x", None)));
        assert_eq!(parse_info("garbage"), None);
    }

    #[test]
    fn a_counted_disconnection_is_the_buffer_limit() {
        let c = cause(Some(&info("a", Some(1))), Some(&info("a", Some(2))));
        assert_eq!(c, Cause::BufferLimit);
    }

    #[test]
    fn the_same_server_closing_without_a_count_is_closed_by_server() {
        assert_eq!(
            cause(Some(&info("a", None)), Some(&info("a", None))),
            Cause::ClosedByServer
        );
        assert_eq!(
            cause(Some(&info("a", Some(2))), Some(&info("a", Some(2)))),
            Cause::ClosedByServer
        );
    }

    #[test]
    fn another_run_id_is_a_restart() {
        assert_eq!(
            cause(Some(&info("a", Some(5))), Some(&info("b", Some(0)))),
            Cause::Restarted
        );
    }

    #[test]
    fn without_both_infos_the_cause_is_unknown() {
        assert_eq!(cause(None, Some(&info("a", None))), Cause::Unknown);
        assert_eq!(cause(Some(&info("a", None)), None), Cause::Unknown);
    }
}
