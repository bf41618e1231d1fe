//! Pinned state counts: a change that grows or shrinks the explored space
//! must show up here in review (as stateright's own tests pin
//! `unique_state_count()`).

use authrace::check::{CheckOptions, check};
use authrace::scenario::properties::Verdict;

use crate::common::{model_files, root};

/// (scenario, unique states stored by stateright's BFS).
const PINS: &[(&str, usize)] = &[
    (
        "models/fidelity/optional-anonymous-null-is-no-result.toml",
        175,
    ),
    ("models/fidelity/routine-refresh-bounded.toml", 45),
    ("models/fidelity/routine-refresh-transient-null.toml", 335),
    ("models/matrix/authenticated-no-faults.toml", 136),
    ("models/matrix/authenticated-socket-drop.toml", 1900),
    ("models/matrix/convex-auth-no-faults.toml", 136),
    ("models/matrix/convex-auth-socket-drop.toml", 1900),
    ("models/matrix/current-user-no-faults.toml", 791),
    ("models/matrix/current-user-socket-drop.toml", 18489),
    ("models/matrix/none-no-faults.toml", 94),
    ("models/matrix/none-socket-drop.toml", 944),
    ("models/matrix/provider-no-faults.toml", 72),
    ("models/matrix/provider-socket-drop.toml", 861),
    (
        "models/reports/authkit-template-8-forced-refresh-fixed.toml",
        20266,
    ),
    (
        "models/reports/authkit-template-8-forced-refresh.toml",
        6088,
    ),
    ("models/reports/better-auth-408-token-5xx.toml", 341),
    ("models/reports/better-auth-79-hard-reload-fixed.toml", 136),
    ("models/reports/better-auth-79-hard-reload.toml", 94),
    (
        "models/reports/clerk-4112-org-switch-stale-token-fixed.toml",
        18989,
    ),
    (
        "models/reports/clerk-4112-org-switch-stale-token.toml",
        14504,
    ),
    ("models/reports/collabute-132-user-row-fixed.toml", 796),
    ("models/reports/collabute-132-user-row.toml", 256),
    (
        "models/reports/convex-auth-178-reauth-after-expiry.toml",
        4064,
    ),
    (
        "models/reports/convex-backend-237-clerk-signin-fixed.toml",
        1901,
    ),
    (
        "models/reports/convex-backend-237-clerk-signin-no-faults.toml",
        73,
    ),
    ("models/reports/convex-backend-237-clerk-signin.toml", 862),
    (
        "models/reports/convex-backend-242-authkit-hydration-fixed.toml",
        52,
    ),
    (
        "models/reports/convex-backend-242-authkit-hydration.toml",
        70,
    ),
    (
        "models/reports/convex-backend-259-authkit-expiry-stuck.toml",
        2081,
    ),
    (
        "models/reports/convex-backend-523-workos-transient-null-fixed.toml",
        7585,
    ),
    (
        "models/reports/convex-backend-523-workos-transient-null.toml",
        5910,
    ),
    (
        "models/reports/convex-js-156-clerk-session-replaced-fixed.toml",
        20192,
    ),
    (
        "models/reports/convex-js-156-clerk-session-replaced.toml",
        15215,
    ),
    ("models/reports/convex-js-82-fetcher-swap-fixed.toml", 171),
    ("models/reports/convex-js-82-fetcher-swap.toml", 996),
    ("models/reports/convex-js-98-preload-clerk-fixed.toml", 137),
    ("models/reports/convex-js-98-preload-clerk-loaded.toml", 71),
    ("models/reports/convex-js-98-preload-clerk.toml", 100),
    (
        "models/reports/convex-react-query-19-ssr-auth-fixed-socket-drop.toml",
        893,
    ),
    (
        "models/reports/convex-react-query-19-ssr-auth-fixed.toml",
        77,
    ),
    ("models/reports/convex-react-query-19-ssr-auth.toml", 100),
    ("models/reports/devto-clerk-best-practices-fixed.toml", 2850),
    ("models/reports/devto-clerk-best-practices.toml", 1238),
    (
        "models/reports/discord-router-refresh-useuser-fixed.toml",
        1901,
    ),
    ("models/reports/discord-router-refresh-useuser.toml", 862),
    (
        "models/reports/discord-signout-unauthenticated-fixed.toml",
        670,
    ),
    ("models/reports/discord-signout-unauthenticated.toml", 248),
    (
        "models/reports/templates-253-authkit-refocus-flash.toml",
        2081,
    ),
    (
        "models/reports/worldmonitor-3746-provider-gated-shell-fixed.toml",
        749,
    ),
    (
        "models/reports/worldmonitor-3746-provider-gated-shell.toml",
        883,
    ),
    ("models/seed-better-auth-ungated.toml", 94),
];

#[test]
fn unique_state_counts_are_pinned() {
    let mut problems = Vec::new();
    for f in model_files() {
        let rel = f
            .strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let Some((_, pinned)) = PINS.iter().find(|(p, _)| *p == rel) else {
            problems.push(format!(
                "{rel}: no pinned state count; add it to tests/pins.rs"
            ));
            continue;
        };
        let s = authrace::scenario::Scenario::load(&f).unwrap();
        let r = check(&f, &s, &CheckOptions::default());
        if r.stats.unique_states != *pinned {
            problems.push(format!(
                "{rel}: {} unique states, pinned {pinned}",
                r.stats.unique_states
            ));
        }
        // The liveness graph explores the same space as stateright whenever
        // stateright had to explore all of it (some safety property not violated).
        assert!(r.stats.graph_states >= r.stats.unique_states, "{rel}");
        if r.properties.iter().any(|p| p.verdict != Verdict::Violated) {
            assert_eq!(r.stats.graph_states, r.stats.unique_states, "{rel}");
        }
    }
    for (p, _) in PINS {
        if !root().join(p).exists() {
            problems.push(format!("{p}: pinned but missing"));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
