//! Fidelity II: what the model does that a verdict alone would not show,
//! checked over every reachable transition of small scenarios.

use std::collections::{HashSet, VecDeque};

use authrace::model::client::Via;
use authrace::model::msg::ServerFrame;
use authrace::model::{Action, AuthModel, Fx, MutationOutcome, Obs, State};
use stateright::Model;

use crate::common::parse;

/// Every reachable transition `(state, action, next, observations)`, each
/// state once (canonical states, as the checker stores them).
fn transitions(text: &str, mut visit: impl FnMut(&State, Action, &State, &[Obs])) -> usize {
    let model = AuthModel::new(&parse(text));
    let mut seen = HashSet::new();
    let mut queue = VecDeque::new();
    for s in model.init_states() {
        seen.insert(s.clone());
        queue.push_back(s);
    }
    let mut actions = Vec::new();
    while let Some(s) = queue.pop_front() {
        actions.clear();
        model.actions(&s, &mut actions);
        for &a in &actions {
            let mut fx = Fx::observing();
            let Some(next) = model.step(&s, a, &mut fx) else {
                continue;
            };
            visit(&s, a, &next, &fx.obs.unwrap_or_default());
            let canonical = model.next_state(&s, a).expect("the same step");
            if seen.insert(canonical.clone()) {
                queue.push_back(canonical);
            }
        }
    }
    seen.len()
}

const QUERY: &str = r#"
[[function]]
name = "q:f"
auth = "required"
[[component]]
name = "C"
query = "q:f"
gate = "convex-auth"
"#;

/// Expiry is found lazily: the moment a token expires the server sends
/// nothing; an AuthError for an expired identity follows only a
/// ModifyQuerySet, a mutation or a users-table change on that connection.
#[test]
fn expiry_is_found_lazily() {
    let text = format!(
        "name = \"x\"\n[provider]\nat_load = \"signed-in\"\nsign_out = true\n[app]\nstore_user = true\n[faults]\nexpiries = 1\nsocket_drops = 1\n{QUERY}"
    );
    let (mut expiries, mut found) = (0, 0);
    transitions(&text, |s, a, next, obs| {
        let sent_auth_error = obs.iter().any(|o| {
            matches!(
                o,
                Obs::ServerSend(
                    _,
                    ServerFrame::AuthError {
                        update_attempted: false,
                        ..
                    }
                )
            )
        });
        match a {
            Action::TokenExpires { .. } => {
                expiries += 1;
                assert!(!sent_auth_error, "expiry itself sends nothing");
                assert_eq!(
                    s.net.iter().map(|c| c.down.len()).collect::<Vec<_>>(),
                    next.net.iter().map(|c| c.down.len()).collect::<Vec<_>>()
                );
            }
            Action::ServerReceives { .. } | Action::ServerWebhook { .. } => {
                found += sent_auth_error as usize
            }
            _ => assert!(!sent_auth_error, "{a:?} sent an expiry AuthError"),
        }
    });
    assert!(
        expiries > 0 && found > 0,
        "{expiries} expiries, {found} found"
    );
}

/// A re-sent committed `users.store` is answered from the server's record,
/// and never runs twice on connections that sent a Connect.
#[test]
fn committed_mutations_are_not_run_again() {
    let text = format!(
        "name = \"x\"\n[provider]\nat_load = \"signed-in\"\nsign_out = true\n[app]\nstore_user = true\n[faults]\nsocket_drops = 1\nrefreshes = 0\n{QUERY}"
    );
    let mut stored = 0;
    transitions(&text, |s, _, _, obs| {
        for o in obs {
            if let Obs::ServerMutation { outcome, conn, .. } = o {
                let connected = s
                    .net
                    .iter()
                    .find(|c| c.id == *conn)
                    .is_some_and(|c| c.server.session);
                let committed_before = !s.server.committed.is_empty();
                match outcome {
                    MutationOutcome::Stored => {
                        stored += 1;
                        assert!(connected && committed_before)
                    }
                    _ => assert!(
                        !(connected && committed_before),
                        "a committed request ran again: {outcome:?}"
                    ),
                }
            }
        }
    });
    assert!(stored > 0, "a re-sent committed mutation is reachable");
}

/// Tokens a provider holds in memory settle in the calling task: no
/// reachable state has a memory answer waiting for its continuation.
#[test]
fn tokens_in_memory_resolve_in_the_calling_task() {
    for kind in ["clerk", "convex-auth", "authkit"] {
        let text = format!(
            "name = \"x\"\n[provider]\nkind = \"{kind}\"\nat_load = \"signed-in\"\nsign_out = true\n[faults]\nsocket_drops = 1\n{QUERY}"
        );
        let mut memory_answers = 0;
        transitions(&text, |_, _, next, obs| {
            assert!(
                next.client.fetches.iter().all(|f| f.via != Via::Memory),
                "{kind}: a memory answer outlived its task"
            );
            memory_answers += obs
                .iter()
                .filter(|o| matches!(o, Obs::TokenRequest { .. }))
                .count();
        });
        assert!(memory_answers > 0);
    }
}

/// Better Auth's `pendingTokenRef` is shared across fetcher generations: a
/// switch from A to B can hand B's first fetch the request sent with A's
/// cookie (which then answers null: A's session ended).
#[test]
fn better_auth_shares_a_request_across_users() {
    let text = format!(
        "name = \"x\"\n[provider]\nkind = \"better-auth\"\nat_load = \"signed-in\"\nswitch_user = true\n{QUERY}"
    );
    let mut shared_across_users = false;
    transitions(&text, |_, _, next, _| {
        let Some(b) = next.provider.session.user() else {
            return;
        };
        for f in &next.client.fetches {
            if let Via::Network {
                cookie: Some(u), ..
            } = f.via
                && u != b
                && f.current
            {
                shared_across_users = true;
            }
        }
    });
    assert!(shared_across_users);
}

/// A transient failure hits only a request that goes to the provider's
/// backend, forced or not: `forced_refresh = "stale"` answers from memory
/// and cannot fail, `forced_refresh = "new"` can.
#[test]
fn transient_failures_hit_only_backend_requests() {
    for (forced, forced_can_fail) in [("stale", false), ("new", true)] {
        let text = format!(
            "name = \"x\"\n[provider]\nkind = \"clerk\"\nat_load = \"signed-in\"\nforced_refresh = \"{forced}\"\n[faults]\ntransient_null = 1\n{QUERY}"
        );
        let mut forced_failures = 0;
        transitions(&text, |s, a, _, _| {
            if let Action::ProviderAnswers {
                fetch,
                transient_null: true,
            } = a
            {
                let f = s.client.fetches[fetch as usize];
                assert!(matches!(f.via, Via::Network { .. }), "{f:?}");
                forced_failures += f.forced as usize;
            }
        });
        assert_eq!(
            forced_failures > 0,
            forced_can_fail,
            "forced_refresh = {forced}"
        );
    }
}

/// The real sync worker handles frames and builds updates concurrently: an
/// `Authenticate` refused before the update for the one accepted just
/// before it is built gets an AuthError whose base is the older version,
/// which the client ignores (`baseVersion + 1 < identityVersion`); the
/// close then makes it reconnect.
#[test]
fn auth_error_base_can_lag_the_accepted_identity() {
    let text = format!(
        "name = \"x\"\n[provider]\nkind = \"better-auth\"\nssr_token = true\nat_load = \"signed-in\"\nnew_fetcher = true\n[faults]\nreject_tokens = 1\n{QUERY}"
    );
    let (mut lagging, mut ignored) = (false, false);
    transitions(&text, |s, _, _, obs| {
        for o in obs {
            if let Obs::ServerSend(conn, ServerFrame::AuthError { base, .. }) = o
                && let Some(c) = s.net.iter().find(|c| c.id == *conn)
                && *base < c.server.version
            {
                lagging = true;
            }
        }
        // The client ignores such an AuthError.
        if let Some(c) = s.net.first()
            && let Some(ServerFrame::AuthError { base, .. }) = c.down.first()
            && base + 1 < s.client.identity_version
        {
            ignored = true;
        }
    });
    assert!(lagging, "no AuthError with a lagging base");
    assert!(
        ignored,
        "no lagging AuthError reaches a client that ignores it"
    );
}

/// Each `stop()` waits for its own socket's close: two reauthentications can
/// wait on two sockets at once, each released by its own close.
#[test]
fn each_stop_awaits_its_own_socket() {
    let text = format!(
        "name = \"x\"\n[provider]\nat_load = \"signed-in\"\n[faults]\nrefreshes = 1\nexpiries = 1\nreject_tokens = 1\n{QUERY}"
    );
    let mut two_waiting = false;
    transitions(&text, |_, _, next, _| {
        let waiting = next.client.closing.iter().filter(|(_, w)| *w > 0).count();
        two_waiting |= waiting >= 2;
    });
    assert!(two_waiting, "two reauthentications wait on two sockets");
}

/// The docs' `useStoreUserEffect` depends on `user?.id`: when the provider's
/// user changes while `isAuthenticated` stays true, `users.store` runs again.
#[test]
fn the_store_effect_reruns_when_the_user_changes() {
    let text = format!(
        "name = \"x\"\n[provider]\nkind = \"clerk\"\nat_load = \"signed-in\"\nswitch_user = true\n[app]\nstore_user = true\n[faults]\nrefreshes = 0\n{QUERY}"
    );
    let mut rerun = false;
    transitions(&text, |s, a, next, obs| {
        if a != Action::Effects {
            return;
        }
        let (Some(prev), Some(now)) = (s.app.effects.and_then(|e| e.prev), next.app.committed)
        else {
            return;
        };
        if prev.is_authenticated
            && now.is_authenticated
            && prev.session.user() != now.session.user()
            && obs
                .iter()
                .any(|o| matches!(o, Obs::Call(authrace::model::Call::StoreUser)))
        {
            rerun = true;
        }
    });
    assert!(rerun);
}

/// A sync-lane commit (a `useSyncExternalStore` provider change) takes the
/// queued default-priority `setIsConvexAuthenticated` update with it: React
/// 19 entangles the sync and default lanes, so `useConvexAuth()` does not
/// lag behind an update queued before the store change (here the
/// `setIsConvexAuthenticated(null)` of a sign-out, met by the sign-in of
/// the next user).
#[test]
fn sync_commits_take_queued_auth_updates() {
    use authrace::model::app::Pending;
    let text = format!(
        "name = \"x\"\n[provider]\nkind = \"better-auth\"\nat_load = \"signed-in\"\nrebuild_fetcher = \"on-session-change\"\nswitch_user = true\n[faults]\nrefreshes = 0\n{QUERY}"
    );
    let mut seen = 0;
    transitions(&text, |s, a, next, _| {
        let provider_step = matches!(
            a,
            Action::ProviderSignIn { .. }
                | Action::ProviderSignOut { .. }
                | Action::ProviderSignOutSeen
                | Action::ProviderResolves
                | Action::ProviderNewFetcher
        );
        let (Some(before), Some(after)) = (s.app.committed, next.app.committed) else {
            return;
        };
        let Pending::Set(queued) = s.app.pending else {
            return;
        };
        if !provider_step || before == after || !after.hook.authenticated || after.hook.loading {
            return;
        }
        seen += 1;
        assert_eq!(
            (after.is_loading, after.is_authenticated),
            (queued.is_none(), queued == Some(true)),
            "{a:?}: the sync commit left the queued setIsConvexAuthenticated({queued:?}) behind"
        );
    });
    assert!(
        seen > 0,
        "no sync commit with a queued update: the test is vacuous"
    );
}
