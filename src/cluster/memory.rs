//! The relay URLs cluster mode has registered, remembered in this service's
//! own Redis ([`keys::CLUSTER_RELAY_URLS`]) so that after
//! `BBB_WEBHOOKS_CLUSTER_RELAY_URL` changes the reconciler still knows the
//! old relay hooks for its own and removes them. Never touches Scalelite's
//! Redis. Tested against Redis in `tests/cluster_core.rs`.

use redis::Commands;

use super::relay::RelayUrl;
use crate::store::keys;

/// Records `current` and returns the relay URLs recorded before it (the
/// ones to clean up), sorted. Members that are not relay URLs are ignored.
pub fn remember(
    c: &mut redis::Connection,
    current: &RelayUrl,
) -> redis::RedisResult<Vec<RelayUrl>> {
    let () = c.sadd(keys::CLUSTER_RELAY_URLS, current.base())?;
    let mut members: Vec<String> = c.smembers(keys::CLUSTER_RELAY_URLS)?;
    members.sort();
    Ok(members
        .iter()
        .filter_map(|m| RelayUrl::parse(m).ok())
        .filter(|r| r != current)
        .collect())
}
