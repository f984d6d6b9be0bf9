//! Which relay hooks one server should gain or lose: a pure function of
//! what the cluster wants there and what its `hooks/list` shows. Only hooks
//! whose callbackURL is this cluster's relay URL for that server (now, or a
//! relay URL it used before) are ever touched; every other hook is the
//! server's own business. Carrying the plan out, and remembering what
//! happened, is [`super::sync`]'s job.

use super::answer::RemoteHook;

/// What the cluster wants on one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// One relay hook: global, every event, not raw.
    Relay,
    /// No relay hook, and why.
    Nothing(Gone),
}

/// Why a server should carry no relay hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gone {
    Disabled,
    LeftPool,
}

/// Why a hook is to be destroyed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Doom {
    /// A second relay hook for the current URL.
    Duplicate,
    /// A relay hook for a relay URL this cluster used before.
    Stale,
    /// A relay hook for the current URL that does not relay everything (a
    /// meeting or event filter, or raw data): replaced by one that does.
    Misfit,
    /// The server should have none.
    Unwanted(Gone),
}

/// What to do on one server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The relay hook in place, kept.
    pub keep: Option<String>,
    /// Hooks to destroy, first.
    pub destroy: Vec<(String, Doom)>,
    /// Register the relay hook, after the destroys.
    pub create: bool,
    /// Hooks that should go but are permanent on the server (its own
    /// configuration lists the relay URL), so cannot be destroyed.
    pub stuck: Vec<String>,
}

/// Whether a hook relays everything: global, no event filter, not raw.
fn fits(h: &RemoteHook) -> bool {
    h.meeting_id.is_none() && h.event_ids.is_none() && !h.raw
}

/// The plan for a server whose `hooks/list` shows `hooks`, given its relay
/// URL now (`current`) and the relay URLs it had before (`retired`). Of
/// several relay hooks that fit, a permanent one is kept first, then the
/// lowest id.
pub fn plan(want: Want, hooks: &[RemoteHook], current: &str, retired: &[String]) -> Plan {
    let mut out = Plan::default();
    let mut doomed: Vec<(&RemoteHook, Doom)> = Vec::new();
    let mut fitting: Vec<&RemoteHook> = Vec::new();
    for h in hooks {
        if h.callback_url == current {
            match want {
                Want::Relay if fits(h) => fitting.push(h),
                Want::Relay => doomed.push((h, Doom::Misfit)),
                Want::Nothing(gone) => doomed.push((h, Doom::Unwanted(gone))),
            }
        } else if retired.contains(&h.callback_url) {
            doomed.push((h, Doom::Stale));
        }
    }
    fitting.sort_by(|a, b| (!a.permanent, &a.id).cmp(&(!b.permanent, &b.id)));
    let mut fitting = fitting.into_iter();
    out.keep = fitting.next().map(|h| h.id.clone());
    doomed.extend(fitting.map(|h| (h, Doom::Duplicate)));
    for (h, doom) in doomed {
        if h.permanent {
            out.stuck.push(h.id.clone());
        } else {
            out.destroy.push((h.id.clone(), doom));
        }
    }
    // A permanent misfit keeps the URL taken: creating would only get its
    // id back as a duplicate.
    let url_taken = hooks
        .iter()
        .any(|h| h.permanent && h.callback_url == current);
    out.create = want == Want::Relay && out.keep.is_none() && !url_taken;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "https://lb/relay/bbb1";
    const OLD: &str = "https://old-lb/relay/bbb1";

    fn hook(id: &str, url: &str) -> RemoteHook {
        RemoteHook {
            id: id.into(),
            callback_url: url.into(),
            meeting_id: None,
            event_ids: None,
            permanent: false,
            raw: false,
        }
    }

    fn plan_now(want: Want, hooks: &[RemoteHook]) -> Plan {
        plan(want, hooks, NOW, &[OLD.to_owned()])
    }

    #[test]
    fn missing_relay_is_created_and_other_hooks_are_left_alone() {
        let hooks = [
            hook("1", "https://app/cb"),
            hook("2", "https://lb/relay/bbb2"),
        ];
        let p = plan_now(Want::Relay, &hooks);
        assert_eq!(
            p,
            Plan {
                create: true,
                ..Plan::default()
            }
        );
        assert!(plan_now(Want::Relay, &[]).create);
    }

    #[test]
    fn a_relay_in_place_is_kept() {
        let p = plan_now(Want::Relay, &[hook("1", "https://app/cb"), hook("9", NOW)]);
        assert_eq!(
            p,
            Plan {
                keep: Some("9".into()),
                ..Plan::default()
            }
        );
    }

    #[test]
    fn duplicates_go_keeping_a_permanent_one_then_the_lowest_id() {
        let p = plan_now(
            Want::Relay,
            &[hook("b", NOW), hook("a", NOW), hook("c", NOW)],
        );
        assert_eq!(p.keep.as_deref(), Some("a"));
        assert_eq!(
            p.destroy,
            vec![("b".into(), Doom::Duplicate), ("c".into(), Doom::Duplicate)]
        );
        assert!(!p.create);
        let mut perm = hook("z", NOW);
        perm.permanent = true;
        let p = plan_now(Want::Relay, &[hook("a", NOW), perm]);
        assert_eq!(p.keep.as_deref(), Some("z"));
        assert_eq!(p.destroy, vec![("a".into(), Doom::Duplicate)]);
    }

    #[test]
    fn a_relay_for_the_old_url_is_replaced() {
        let p = plan_now(Want::Relay, &[hook("1", OLD)]);
        assert_eq!(p.destroy, vec![("1".into(), Doom::Stale)]);
        assert!(p.create);
        let p = plan_now(Want::Relay, &[hook("1", OLD), hook("2", NOW)]);
        assert_eq!(p.keep.as_deref(), Some("2"));
        assert_eq!(p.destroy, vec![("1".into(), Doom::Stale)]);
    }

    #[test]
    fn misfits_are_replaced() {
        let mut raw = hook("1", NOW);
        raw.raw = true;
        let mut scoped = hook("2", NOW);
        scoped.meeting_id = Some("m".into());
        let mut filtered = hook("3", NOW);
        filtered.event_ids = Some("user-joined".into());
        let p = plan_now(Want::Relay, &[raw, scoped, filtered]);
        assert_eq!(p.destroy.len(), 3);
        assert!(p.destroy.iter().all(|(_, d)| *d == Doom::Misfit));
        assert!(p.create);
    }

    #[test]
    fn disabled_or_departed_servers_lose_every_relay_hook_and_nothing_else() {
        for gone in [Gone::Disabled, Gone::LeftPool] {
            let hooks = [
                hook("1", NOW),
                hook("2", OLD),
                hook("3", "https://app/cb"),
                hook("4", NOW),
            ];
            let p = plan_now(Want::Nothing(gone), &hooks);
            assert_eq!(
                p.destroy,
                vec![
                    ("1".into(), Doom::Unwanted(gone)),
                    ("2".into(), Doom::Stale),
                    ("4".into(), Doom::Unwanted(gone)),
                ]
            );
            assert!(p.keep.is_none() && !p.create);
        }
    }

    #[test]
    fn permanent_hooks_that_should_go_are_stuck() {
        let mut perm = hook("p", NOW);
        perm.permanent = true;
        let p = plan_now(Want::Nothing(Gone::Disabled), &[perm.clone()]);
        assert_eq!(p.stuck, vec!["p".to_owned()]);
        assert!(p.destroy.is_empty());
        perm.raw = true;
        let p = plan_now(Want::Relay, &[perm]);
        assert_eq!(p.stuck, vec!["p".to_owned()]);
        assert!(!p.create, "the URL is taken by a permanent hook");
    }
}
