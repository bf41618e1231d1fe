//! Every scenario key is live: for each key, a scenario whose verdict
//! changes when only that key changes (teeth for the key itself).

use authrace::scenario::properties::{PropertyId, Verdict};

use crate::common::{parse, run};

/// Checks `template` with `@` replaced by `a`, then by `b`, and asserts the
/// verdicts of `p` are `va` and `vb`.
fn live(key: &str, template: &str, a: &str, b: &str, p: PropertyId, va: Verdict, vb: Verdict) {
    for (line, want) in [(a, va), (b, vb)] {
        let text = template.replace('@', line);
        let r = run(&parse(&text));
        let got = r.property(p).verdict;
        assert_eq!(
            got,
            want,
            "key `{key}`: with `{line}`, {p} is {got}, expected {want}\n{}",
            authrace::present::text::report(&r)
        );
    }
}

use PropertyId::*;
use Verdict::*;

const ONE_COMPONENT: &str = r#"
[[function]]
name = "q:f"
auth = "required"
[[component]]
name = "C"
query = "q:f"
"#;

fn with_component(head: &str, gate: &str) -> String {
    format!("{head}\n{ONE_COMPONENT}gate = \"{gate}\"\n")
}

#[test]
fn kind() {
    // Better Auth rebuilds fetchAccessToken when the session loads, and with
    // an SSR token its hook is authenticated before that: clearAuth, then
    // setAuth, flips isAuthenticated. A custom provider keeps its fetcher.
    let t = with_component(
        "name = \"k\"\n[provider]\n@\nssr_token = true",
        "convex-auth",
    );
    live(
        "kind",
        &t,
        "kind = \"custom\"",
        "kind = \"better-auth\"",
        StableAuth,
        Holds,
        Violated,
    );
}

#[test]
fn at_load() {
    let t = with_component(
        "name = \"k\"\n[provider]\nkind = \"better-auth\"\n@",
        "none",
    );
    live(
        "at_load",
        &t,
        "at_load = \"signed-in\"",
        "at_load = \"loading\"",
        QueryRunsAuthenticated,
        Holds,
        Violated,
    );
}

#[test]
fn ssr_token() {
    let t = with_component(
        "name = \"k\"\n[provider]\nkind = \"better-auth\"\n@",
        "convex-auth",
    );
    live(
        "ssr_token",
        &t,
        "ssr_token = false",
        "ssr_token = true",
        StableAuth,
        Holds,
        Violated,
    );
}

#[test]
fn sign_in() {
    // Never signed in: the liveness premise never holds (vacuous).
    let t = with_component(
        "name = \"k\"\n[provider]\nat_load = \"signed-out\"\n@",
        "convex-auth",
    );
    live(
        "sign_in",
        &t,
        "sign_in = false",
        "sign_in = true",
        EventuallyAuthenticated,
        Vacuous,
        Holds,
    );
}

#[test]
fn sign_out() {
    // Under <Authenticated>, a token refetch answered after sign-out clears
    // auth while the component is still mounted.
    let t = with_component(
        "name = \"k\"\n[provider]\nat_load = \"signed-in\"\n@",
        "authenticated",
    );
    live(
        "sign_out",
        &t,
        "sign_out = false",
        "sign_out = true",
        QueryRunsAuthenticated,
        Holds,
        Violated,
    );
}

#[test]
fn switch_user() {
    let t = with_component(
        "name = \"k\"\n[provider]\nat_load = \"signed-in\"\n@",
        "convex-auth",
    );
    live(
        "switch_user",
        &t,
        "switch_user = false",
        "switch_user = true",
        NoStaleIdentity,
        Vacuous,
        Violated,
    );
}

#[test]
fn forced_refresh() {
    // After an expiry, tryToReauthenticate needs a NEW token: `same` hands
    // back the token it had refreshed already, and the client gives up.
    let t = with_component(
        "name = \"k\"\n[provider]\nat_load = \"signed-in\"\n@\n[faults]\nreject_tokens = 1",
        "convex-auth",
    );
    live(
        "forced_refresh",
        &t,
        "forced_refresh = \"new\"",
        "forced_refresh = \"same\"",
        EventuallyAuthenticated,
        Holds,
        Violated,
    );
}

#[test]
fn after_sign_out() {
    // A refetch answered after sign-out: null clears auth while the
    // component is still mounted; a stale token keeps the old identity
    // (which no-stale-identity catches instead).
    let t = with_component(
        "name = \"k\"\n[provider]\nat_load = \"signed-in\"\nsign_out = true\n@",
        "authenticated",
    );
    live(
        "after_sign_out",
        &t,
        "after_sign_out = \"null\"",
        "after_sign_out = \"stale\"",
        QueryRunsAuthenticated,
        Violated,
        Holds,
    );
}

#[test]
fn rebuild_fetcher() {
    // Switching users without a new fetchAccessToken: if React does not
    // commit the signed-out moment, nothing re-runs setAuth for B.
    let t = with_component(
        "name = \"k\"\n[provider]\nat_load = \"signed-in\"\nswitch_user = true\n@",
        "convex-auth",
    );
    live(
        "rebuild_fetcher",
        &t,
        "rebuild_fetcher = \"on-session-change\"",
        "rebuild_fetcher = \"never\"",
        EventuallyAuthenticated,
        Holds,
        Violated,
    );
}

#[test]
fn expect_auth() {
    let t = with_component(
        "name = \"k\"\n[provider]\nkind = \"better-auth\"\n[client]\n@",
        "none",
    );
    live(
        "expect_auth",
        &t,
        "expect_auth = false",
        "expect_auth = true",
        QueryRunsAuthenticated,
        Violated,
        Holds,
    );
}

#[test]
fn initial_token_reuse() {
    // With reuse, the first refetch waits for the timer (bounded here to
    // never fire); without, the cached token's confirmation is followed at
    // once by a forced refetch, and a transient null there leaves the client
    // in noAuth.
    let t = with_component(
        "name = \"k\"\n[provider]\nat_load = \"signed-in\"\n[client]\n@\n[faults]\ntransient_null = 1\nrefreshes = 0",
        "convex-auth",
    );
    live(
        "initial_token_reuse",
        &t,
        "initial_token_reuse = false",
        "initial_token_reuse = true",
        EventuallyAuthenticated,
        Violated,
        Holds,
    );
}

#[test]
fn store_user() {
    // Without users.store the row never exists: a user-row query never succeeds.
    let t = r#"
name = "k"
[provider]
at_load = "signed-in"
[app]
@
[[function]]
name = "q:me"
auth = "user-row"
[[component]]
name = "C"
query = "q:me"
gate = "convex-auth"
"#;
    live(
        "store_user",
        t,
        "store_user = false",
        "store_user = true",
        EventuallyResults,
        Violated,
        Holds,
    );
}

#[test]
fn user_rows() {
    // A row that exists from the start is there before any evaluation; a
    // webhook's row can arrive after the gate opened (but it does arrive,
    // so results follow); nobody creates it under client-store without
    // users.store.
    let t = r#"
name = "k"
[provider]
at_load = "signed-in"
[app]
@
[[function]]
name = "q:me"
auth = "user-row"
[[component]]
name = "C"
query = "q:me"
gate = "convex-auth"
"#;
    live(
        "user_rows",
        t,
        "user_rows = \"existing\"",
        "user_rows = \"webhook\"",
        UserRowReady,
        Holds,
        Violated,
    );
    live(
        "user_rows",
        t,
        "user_rows = \"client-store\"",
        "user_rows = \"webhook\"",
        EventuallyResults,
        Violated,
        Holds,
    );
}

#[test]
fn users_current_declared() {
    // A declared users:current keeps its auth: `required` throws with no
    // identity where the model's default (`optional`) returns null.
    let t = r#"
name = "k"
[provider]
at_load = "loading"
[app]
store_user = true
@
[[component]]
name = "C"
query = "users:current"
gate = "none"
"#;
    live(
        "function.auth of users:current",
        t,
        "[[function]]\nname = \"users:current\"\nauth = \"optional\"",
        "[[function]]\nname = \"users:current\"\nauth = \"required\"",
        QueryRunsAuthenticated,
        Vacuous,
        Violated,
    );
}

#[test]
fn tokens() {
    // A routine refresh that fails transiently clears auth under an open
    // gate; opaque tokens schedule no refresh at all.
    let t = with_component(
        "name = \"k\"\n[provider]\nat_load = \"signed-in\"\n@\n[client]\ninitial_token_reuse = true\n[faults]\ntransient_null = 1",
        "convex-auth",
    );
    live(
        "tokens",
        &t,
        "tokens = \"jwt\"",
        "tokens = \"opaque\"",
        QueryRunsAuthenticated,
        Violated,
        Holds,
    );
}

#[test]
fn socket_drops() {
    let t = with_component(
        "name = \"k\"\n[provider]\nkind = \"better-auth\"\n[faults]\n@",
        "provider",
    );
    live(
        "socket_drops",
        &t,
        "socket_drops = 0",
        "socket_drops = 1",
        QueryRunsAuthenticated,
        Holds,
        Violated,
    );
}

#[test]
fn refreshes() {
    let t = with_component(
        "name = \"k\"\n[provider]\nat_load = \"signed-in\"\n[client]\ninitial_token_reuse = true\n[faults]\ntransient_null = 1\n@",
        "convex-auth",
    );
    live(
        "refreshes",
        &t,
        "refreshes = 0",
        "refreshes = 1",
        EventuallyAuthenticated,
        Holds,
        Violated,
    );
}

#[test]
fn expiries() {
    let t = with_component(
        "name = \"k\"\n[provider]\nkind = \"authkit\"\nat_load = \"signed-in\"\n[faults]\n@",
        "convex-auth",
    );
    live(
        "expiries",
        &t,
        "expiries = 0",
        "expiries = 1",
        EventuallyAuthenticated,
        Holds,
        Violated,
    );
}

#[test]
fn reject_tokens() {
    let t = with_component(
        "name = \"k\"\n[provider]\nkind = \"authkit\"\nat_load = \"signed-in\"\n[faults]\n@",
        "convex-auth",
    );
    live(
        "reject_tokens",
        &t,
        "reject_tokens = 0",
        "reject_tokens = 1",
        EventuallyAuthenticated,
        Holds,
        Violated,
    );
}

#[test]
fn transient_null() {
    let t = with_component(
        "name = \"k\"\n[provider]\nat_load = \"signed-in\"\n[faults]\n@",
        "convex-auth",
    );
    live(
        "transient_null",
        &t,
        "transient_null = 0",
        "transient_null = 1",
        EventuallyAuthenticated,
        Holds,
        Violated,
    );
}

#[test]
fn function_auth() {
    let t = r#"
name = "k"
[provider]
kind = "better-auth"
[[function]]
name = "q:f"
@
[[component]]
name = "C"
query = "q:f"
"#;
    live(
        "auth",
        t,
        "auth = \"optional\"",
        "auth = \"required\"",
        QueryRunsAuthenticated,
        Vacuous,
        Violated,
    );
}

#[test]
fn gate() {
    let t = format!("name = \"k\"\n[provider]\nkind = \"better-auth\"\n{ONE_COMPONENT}@\n");
    live(
        "gate",
        &t,
        "gate = \"none\"",
        "gate = \"convex-auth\"",
        QueryRunsAuthenticated,
        Violated,
        Holds,
    );
}

#[test]
fn max_depth() {
    let t = format!(
        "name = \"k\"\n[provider]\nkind = \"better-auth\"\n{ONE_COMPONENT}gate = \"convex-auth\"\n[check]\n@\n"
    );
    live(
        "max_depth",
        &t,
        "max_depth = 100",
        "max_depth = 5",
        QueryRunsAuthenticated,
        Holds,
        Unknown,
    );
}

/// `instances` cannot change a verdict: identical instances see identical
/// inputs, move together, and share one subscription (`numSubscribers` in
/// `LocalSyncState`), so the state spaces are in bijection. The key is read:
/// the client counts both subscribers.
#[test]
fn instances_share_one_subscription() {
    use authrace::check::liveness::{Limits, StateGraph};
    use authrace::model::AuthModel;
    let t = format!(
        "name = \"k\"\n[provider]\nkind = \"better-auth\"\n{ONE_COMPONENT}gate = \"authenticated\"\n@\n"
    );
    let one = parse(&t.replace('@', "instances = 1"));
    let two = parse(&t.replace('@', "instances = 2"));
    let (r1, r2) = (run(&one), run(&two));
    for p in PropertyId::ALL {
        assert_eq!(r1.property(p).verdict, r2.property(p).verdict, "{p}");
    }
    assert_eq!(r1.stats.unique_states, r2.stats.unique_states);
    let max_subscribers = |s| {
        StateGraph::build(&AuthModel::new(s), Limits::default())
            .states
            .iter()
            .flat_map(|st| st.client.queries.iter().map(|q| q.subscribers))
            .max()
            .unwrap_or(0)
    };
    assert_eq!(max_subscribers(&one), 1);
    assert_eq!(max_subscribers(&two), 2);
}

#[test]
fn new_fetcher() {
    // A new fetchAccessToken for the same user: clearAuth() re-runs the
    // still-subscribed skip-gated query without identity.
    let t = with_component(
        "name = \"k\"\n[provider]\nat_load = \"signed-in\"\n@",
        "convex-auth",
    );
    live(
        "new_fetcher",
        &t,
        "new_fetcher = false",
        "new_fetcher = true",
        QueryRunsAuthenticated,
        Holds,
        Violated,
    );
}

#[test]
fn sync_render() {
    // <Authenticated> at sign-out: with a synchronous provider the component
    // unmounts before anything else happens; otherwise a refetch answered
    // null before the commit clears auth under it.
    let t = with_component(
        "name = \"k\"\n[provider]\nat_load = \"signed-in\"\nsign_out = true\n@",
        "authenticated",
    );
    live(
        "sync_render",
        &t,
        "sync_render = true",
        "sync_render = false",
        QueryRunsAuthenticated,
        Holds,
        Violated,
    );
}
