//! Helpers of the reconciler tests: a fake hooks API that keeps each
//! server's hooks in memory and can be taken down, and small builders.

use std::collections::BTreeMap;
use std::time::Duration;

use super::support::pool_server;
use crate::cluster::answer::RemoteHook;
use crate::cluster::relay::RelayUrl;
use crate::cluster::remote::{Created, Destroyed, HooksApi, RemoteError};
use crate::cluster::sync::{Change, Reason, Reconciler, Settings};
use crate::cluster::{Pool, Server, State};

pub const RELAY: &str = "https://lb/bigbluebutton/api/hooks/relay";
pub const APP: &str = "https://app.example.com/cb";

#[derive(Default)]
pub struct FakeServer {
    pub hooks: Vec<RemoteHook>,
    pub down: bool,
    pub refuse_create: bool,
}

#[derive(Default)]
pub struct Fake {
    servers: BTreeMap<String, FakeServer>,
    calls: Vec<String>,
    next: u32,
}

impl Fake {
    pub fn server(&mut self, id: &str) -> &mut FakeServer {
        self.servers.entry(id.to_owned()).or_default()
    }

    pub fn add(&mut self, id: &str, hook_id: &str, url: &str) {
        self.server(id).hooks.push(RemoteHook {
            id: hook_id.into(),
            callback_url: url.into(),
            meeting_id: None,
            event_ids: None,
            permanent: false,
            raw: false,
        });
    }

    pub fn urls(&mut self, id: &str) -> Vec<String> {
        self.server(id)
            .hooks
            .iter()
            .map(|h| h.callback_url.clone())
            .collect()
    }

    pub fn take_calls(&mut self) -> Vec<String> {
        std::mem::take(&mut self.calls)
    }

    fn up(&mut self, s: &Server, call: &str) -> Result<&mut FakeServer, RemoteError> {
        self.calls.push(format!("{call} {}", s.id));
        let f = self.server(&s.id);
        if f.down {
            return Err(RemoteError::Transport("connection failed".into()));
        }
        Ok(f)
    }
}

impl HooksApi for Fake {
    fn list(&mut self, s: &Server) -> Result<Vec<RemoteHook>, RemoteError> {
        Ok(self.up(s, "list")?.hooks.clone())
    }

    fn create(&mut self, s: &Server, url: &str) -> Result<Created, RemoteError> {
        self.next += 1;
        let id = format!("h{}", self.next);
        let f = self.up(s, "create")?;
        if f.refuse_create {
            return Err(RemoteError::Failed {
                key: "createHookError".into(),
                message: "An error happened while creating your hook. Check the logs.".into(),
            });
        }
        let server_id = s.id.clone();
        self.add(&server_id, &id, url);
        Ok(Created {
            hook_id: id,
            duplicate: false,
        })
    }

    fn destroy(&mut self, s: &Server, hook_id: &str) -> Result<Destroyed, RemoteError> {
        let f = self.up(s, "destroy")?;
        let before = f.hooks.len();
        f.hooks.retain(|h| h.id != hook_id);
        Ok(if f.hooks.len() < before {
            Destroyed::Removed
        } else {
            Destroyed::Missing
        })
    }
}

pub fn server(id: &str, state: State, online: bool) -> Server {
    let mut s = pool_server(id, &format!("https://{id}/bigbluebutton/api"), "s");
    s.state = state;
    s.online = online;
    s
}

pub fn pool(servers: &[Server]) -> Pool {
    let mut p = Pool::default();
    for s in servers {
        p.insert(s.clone()).expect("unique ids");
    }
    p
}

pub fn relay_of(id: &str) -> String {
    format!("{RELAY}/{id}")
}

pub fn reconciler() -> Reconciler {
    Reconciler::new(
        RelayUrl::parse(RELAY).expect("url"),
        vec![],
        Settings::default(),
    )
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub fn created(id: &str, hook: &str, reason: Reason) -> Change {
    Change::Created {
        id: id.into(),
        hook_id: hook.into(),
        reason,
    }
}
