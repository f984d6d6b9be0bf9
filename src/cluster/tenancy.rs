//! Multi-tenant Scalelite: the one decision about it. Cluster mode refuses
//! to run on a Scalelite that has tenants, with a message that says why and
//! what to do; it does not try to keep tenants' events apart. Pure.
//!
//! Why refuse rather than give each tenant its own hooks: a multi-tenant
//! Scalelite picks the tenant from the first label of the request's host
//! and checks the checksum against that tenant's own secrets
//! (`tenant_name:<name>` -> `tenant:<id>` `secrets`), and it keeps which
//! tenant a meeting belongs to only in `meeting:<id>` (`tenant_id`) while the
//! meeting runs: its `end` call deletes that hash before it ends the meeting
//! on the server, its poller deletes the hashes of meetings that ended, and
//! they expire after `DEFAULT_MEETING_TTL`. The events apps want most
//! (`meeting-ended`, every `rap-*` recording step) would find no tenant, so a
//! tenant's hook would either miss them or, failing open, receive another
//! tenant's. Separating tenants correctly needs a meeting -> tenant record of
//! this service's own, learned from the `tenant-id` metadata Scalelite adds
//! to `create`; until that exists, refusing is the honest answer.

use std::fmt;

/// A Scalelite tenant, as much of it as the decision needs. Its secrets are
/// never read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    /// Scalelite's id (a UUID).
    pub id: String,
    /// The tenant's name (its subdomain); `None` when its hash has none.
    pub name: Option<String>,
}

/// How many tenant names a refusal lists.
const NAMES_SHOWN: usize = 5;

/// Why cluster mode does not start: Scalelite has tenants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantsFound {
    /// The key that lists them, e.g. `scalelite:tenants`.
    pub key: String,
    pub count: usize,
    /// Up to five names (or ids, for tenants without a name).
    pub names: Vec<String>,
}

impl fmt::Display for TenantsFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Scalelite has {} tenant{} ({}: {}{}); cluster mode does not support \
             multi-tenant Scalelite: it answers with one secret (LOADBALANCER_SECRET) \
             and cannot keep one tenant's events from another's, so it does not start. \
             Use it on a Scalelite without tenants, or run one webhooks service per \
             BBB server instead",
            self.count,
            if self.count == 1 { "" } else { "s" },
            self.key,
            self.names.join(", "),
            if self.count > self.names.len() {
                ", ..."
            } else {
                ""
            },
        )
    }
}

/// Whether cluster mode may run, given the tenants found under `key`: yes
/// when there are none.
pub fn check(key: &str, tenants: &[Tenant]) -> Result<(), TenantsFound> {
    if tenants.is_empty() {
        return Ok(());
    }
    Err(TenantsFound {
        key: key.to_owned(),
        count: tenants.len(),
        names: tenants
            .iter()
            .take(NAMES_SHOWN)
            .map(|t| t.name.clone().unwrap_or_else(|| t.id.clone()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(id: &str, name: Option<&str>) -> Tenant {
        Tenant {
            id: id.into(),
            name: name.map(Into::into),
        }
    }

    #[test]
    fn no_tenants_may_run() {
        assert_eq!(check("scalelite:tenants", &[]), Ok(()));
    }

    #[test]
    fn tenants_refuse_with_names_and_what_to_do() {
        let e = check(
            "scalelite:tenants",
            &[tenant("t1", Some("acme")), tenant("t2", None)],
        )
        .expect_err("refuses");
        assert_eq!(e.count, 2);
        let msg = e.to_string();
        assert!(
            msg.starts_with("Scalelite has 2 tenants (scalelite:tenants: acme, t2); "),
            "{msg}"
        );
        assert!(msg.contains("does not start"), "{msg}");
    }

    #[test]
    fn many_tenants_are_cut_short() {
        let many: Vec<Tenant> = (0..8)
            .map(|i| tenant(&format!("t{i}"), Some(&format!("n{i}"))))
            .collect();
        let e = check("x:tenants", &many).expect_err("refuses");
        assert_eq!(e.names.len(), NAMES_SHOWN);
        assert!(e.to_string().contains("n4, ...)"), "{e}");
        let one = check("x:tenants", &many[..1]).expect_err("refuses");
        assert!(one
            .to_string()
            .starts_with("Scalelite has 1 tenant (x:tenants: n0); "));
    }
}
