//! Builders shared by the cluster's pure tests. Tests that need Redis, HTTP
//! servers or a running service are in `tests/cluster_core.rs` and
//! `tests/cluster.rs`, with the one harness of `tests/support`.

/// A pool server named `id` at `url` with `secret`, enabled and online.
pub fn pool_server(id: &str, url: &str, secret: &str) -> crate::cluster::Server {
    crate::cluster::Server {
        id: id.to_owned(),
        url: url.to_owned(),
        secret: crate::config::Secret::new(secret),
        state: crate::cluster::State::Enabled,
        online: true,
    }
}
