//! The relay URLs cluster mode has registered, remembered in this service's
//! own Redis ([`keys::CLUSTER_RELAY_URLS`]) so that after
//! `BBB_WEBHOOKS_CLUSTER_RELAY_URL` changes the reconciler still knows the
//! old relay hooks for its own and removes them. Never touches Scalelite's
//! Redis.

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::tests::support::TestRedis;

    #[test]
    fn a_changed_relay_url_leaves_the_old_one_to_clean_up() {
        let r = TestRedis::start();
        let mut c = r.conn();
        let first = RelayUrl::parse("https://lb/bigbluebutton/api/hooks/relay").expect("url");
        let second = RelayUrl::parse("https://lb2/bigbluebutton/api/hooks/relay").expect("url");
        assert_eq!(remember(&mut c, &first).expect("redis"), vec![]);
        assert_eq!(remember(&mut c, &first).expect("redis"), vec![]);
        assert_eq!(
            remember(&mut c, &second).expect("redis"),
            vec![first.clone()]
        );
        let _: () = c
            .sadd(keys::CLUSTER_RELAY_URLS, "not a url")
            .expect("redis");
        assert_eq!(remember(&mut c, &first).expect("redis"), vec![second]);
    }
}
