//! Redis plumbing shared by the threads: the key layout the reference
//! application uses (so a server switching from it keeps its data) and a
//! connection that reconnects on its next use after an error. What is stored
//! under the keys is up to the modules that own the data.

use std::time::Duration;

use crate::error::Result;

/// SET of hook ids.
pub const HOOKS_SET: &str = "bigbluebutton:webhooks:out:hooks";
/// HASH prefix of one hook: `HOOK_PREFIX` + id.
pub const HOOK_PREFIX: &str = "bigbluebutton:webhooks:out:hook:";

/// How long a Redis command may take before the connection is given up.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// A Redis connection that is opened on first use and opened again after a
/// connection error. One per thread; never shared.
pub struct Conn {
    client: redis::Client,
    conn: Option<redis::Connection>,
}

impl Conn {
    /// A connection to `url`; nothing is opened yet.
    pub fn new(url: &str) -> Result<Conn> {
        Ok(Conn {
            client: redis::Client::open(url)?,
            conn: None,
        })
    }

    /// Runs `f` on the connection, opening it if needed. After a connection
    /// error (I/O, timeout, dropped) the next call opens a new connection.
    pub fn run<T>(
        &mut self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T> {
        let conn = match &mut self.conn {
            Some(c) => c,
            None => self.conn.insert(open(&self.client)?),
        };
        let res = f(conn);
        if let Err(e) = &res {
            if e.is_io_error()
                || e.is_timeout()
                || e.is_connection_dropped()
                || e.is_connection_refusal()
            {
                self.conn = None;
            }
        }
        Ok(res?)
    }
}

/// Opens a connection with the command timeout set.
pub fn open(client: &redis::Client) -> redis::RedisResult<redis::Connection> {
    let conn = client.get_connection_with_timeout(COMMAND_TIMEOUT)?;
    conn.set_read_timeout(Some(COMMAND_TIMEOUT))?;
    conn.set_write_timeout(Some(COMMAND_TIMEOUT))?;
    Ok(conn)
}
