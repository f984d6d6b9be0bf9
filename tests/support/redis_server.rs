//! A private `redis-server` on a free port of 127.0.0.1, killed on drop, and
//! the two port helpers every child process needs: a free port, and whether a
//! given process is the one listening on it. The throughput benchmark
//! includes this file too (`#[path]`), so it uses std and the `redis` crate
//! only, and reports start-up failures as values as well as panics. It never
//! uses the machine's own Redis on 6379.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to answer PING after it was started.
pub const START_WITHIN: Duration = Duration::from_secs(15);
/// Fresh ports tried when a server exits at once (its port was taken meanwhile).
const ATTEMPTS: usize = 5;

/// A port that was free a moment ago on 127.0.0.1, never 6379. Another
/// process may take it before it is used: [`listens_on`] tells who got it.
pub fn free_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("bind 127.0.0.1:0 to find a free port");
        if port != 6379 {
            return port;
        }
    }
}

/// Whether process `pid` holds a listening TCP socket on `port`. So a
/// server that answers on a port is known to be ours, not another test's
/// that happened to choose the same port.
pub fn listens_on(pid: u32, port: u16) -> bool {
    listening_ports(pid).contains(&port)
}

/// The TCP ports process `pid` listens on, sorted: the inodes of its
/// sockets (`/proc/PID/fd`) found in state LISTEN (`0A`) in
/// `/proc/net/tcp` and `tcp6`.
pub fn listening_ports(pid: u32) -> Vec<u16> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    let inodes: Vec<u64> = fds
        .flatten()
        .filter_map(|fd| {
            let target = std::fs::read_link(fd.path()).ok()?;
            let target = target.to_str()?;
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect();
    let mut ports = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let inode = f.get(9).and_then(|i| i.parse::<u64>().ok());
            if f.get(3) != Some(&"0A") || !inode.is_some_and(|i| inodes.contains(&i)) {
                continue;
            }
            let port = f
                .get(1)
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            ports.extend(port);
        }
    }
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// A private Redis server, killed on drop.
pub struct Redis {
    pub port: u16,
    child: Option<Child>,
    /// With a data directory, it keeps its data across restarts.
    dir: Option<PathBuf>,
}

/// Why a server did not come up.
enum Failed {
    /// It exited at once: most likely its port was taken meanwhile.
    Exited(String),
    Other(String),
}

impl Redis {
    /// A memory-only server; panics if none starts.
    pub fn start() -> Redis {
        Redis::try_start(START_WITHIN).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A server that writes every change to an append-only file, so a
    /// restart keeps the data.
    pub fn start_persistent() -> Redis {
        let dir = std::env::temp_dir().join(format!(
            "bbbwh-redis-{}-{}",
            std::process::id(),
            free_port()
        ));
        Redis::launch(Some(dir), START_WITHIN).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A memory-only server that answers PING within `within`, or why not.
    pub fn try_start(within: Duration) -> Result<Redis, String> {
        Redis::launch(None, within)
    }

    fn launch(dir: Option<PathBuf>, within: Duration) -> Result<Redis, String> {
        let mut exits = Vec::new();
        for _ in 0..ATTEMPTS {
            let mut r = Redis {
                port: free_port(),
                child: None,
                dir: dir.clone(),
            };
            match r.spawn(within) {
                Ok(()) => return Ok(r),
                Err(Failed::Exited(why)) => exits.push(why),
                Err(Failed::Other(why)) => return Err(why),
            }
        }
        Err(format!(
            "redis-server did not start on any of {ATTEMPTS} free ports: {}",
            exits.join("; ")
        ))
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on the same port and waits until it answers.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(Failed::Exited(why) | Failed::Other(why)) = self.spawn(START_WITHIN) {
            panic!("restarting redis-server on port {}: {why}", self.port);
        }
    }

    /// Starts `redis-server` on `self.port` and waits until this very
    /// process listens there and answers PING.
    fn spawn(&mut self, within: Duration) -> Result<(), Failed> {
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--protected-mode", "no", "--daemonize", "no"]);
        match &self.dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Failed::Other(format!("redis data dir {dir:?}: {e}")))?;
                cmd.args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
                    .arg(dir);
            }
            None => {
                cmd.args(["--appendonly", "no"]);
            }
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                Failed::Other(format!(
                    "cannot start redis-server (install it: apt-get install redis-server): {e}"
                ))
            })?;
        let pid = child.id();
        self.child = Some(child);
        let until = Instant::now() + within;
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(Failed::Exited(format!(
                    "redis-server on port {} exited: {status}",
                    self.port
                )));
            }
            // PING first: reading the TCP table is slow when it is long.
            if self.ping() && listens_on(pid, self.port) {
                return Ok(());
            }
            if Instant::now() >= until {
                return Err(Failed::Other(format!(
                    "redis-server did not answer PING within {within:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn ping(&self) -> bool {
        redis::Client::open(self.url().as_str())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_ok()
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the server. A memory-only one loses its data.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A new connection.
    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url().as_str())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(2)))
            .expect("connects to the private redis-server")
    }

    /// Publishes `message` and asserts somebody got it.
    pub fn publish(&self, channel: &str, message: &str) {
        self.publish_bytes(channel, message.as_bytes());
    }

    /// Publishes arbitrary bytes (not necessarily UTF-8) and asserts
    /// somebody got them.
    pub fn publish_bytes(&self, channel: &str, message: &[u8]) {
        let n: i64 = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(message)
            .query(&mut self.conn())
            .expect("publish");
        assert!(n >= 1, "nobody subscribed to {channel}");
    }

    /// Number of subscribers of `channel`.
    pub fn subscribers(&self, channel: &str) -> i64 {
        let r: Vec<redis::Value> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query(&mut self.conn())
            .unwrap_or_default();
        match r.get(1) {
            Some(redis::Value::Int(n)) => *n,
            _ => 0,
        }
    }

    /// Length of the list at `key` (0 when there is none).
    pub fn llen(&self, key: &str) -> usize {
        redis::cmd("LLEN")
            .arg(key)
            .query(&mut self.conn())
            .expect("LLEN")
    }
}

/// `HSET key field value ..`: a record written as another writer (the
/// reference, an earlier version) would leave it. Values are text (`&str`)
/// or bytes (`&[u8]`, not UTF-8 if need be).
pub fn hset<V: redis::ToRedisArgs>(conn: &mut redis::Connection, key: &str, fields: &[(&str, V)]) {
    redis::cmd("HSET")
        .arg(key)
        .arg(fields)
        .exec(conn)
        .expect("HSET");
}

/// `SADD set member`.
pub fn sadd(conn: &mut redis::Connection, set: &str, member: &str) {
    redis::cmd("SADD")
        .arg(set)
        .arg(member)
        .exec(conn)
        .expect("SADD");
}

/// How many keys the database holds.
pub fn dbsize(conn: &mut redis::Connection) -> u64 {
    redis::cmd("DBSIZE").query(conn).expect("DBSIZE")
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
