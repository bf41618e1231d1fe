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
    ("models/matrix/authenticated-no-faults.toml", 77),
    ("models/matrix/authenticated-socket-drop.toml", 1049),
    ("models/matrix/convex-auth-no-faults.toml", 77),
    ("models/matrix/convex-auth-socket-drop.toml", 1049),
    ("models/matrix/current-user-no-faults.toml", 410),
    ("models/matrix/current-user-socket-drop.toml", 13486),
    ("models/matrix/none-no-faults.toml", 75),
    ("models/matrix/none-socket-drop.toml", 634),
    ("models/matrix/provider-no-faults.toml", 53),
    ("models/matrix/provider-socket-drop.toml", 551),
    (
        "models/reports/authkit-template-8-forced-refresh-fixed.toml",
        2992,
    ),
    (
        "models/reports/authkit-template-8-forced-refresh.toml",
        2327,
    ),
    ("models/reports/better-auth-408-token-5xx.toml", 341),
    ("models/reports/better-auth-79-hard-reload-fixed.toml", 77),
    ("models/reports/better-auth-79-hard-reload.toml", 75),
    (
        "models/reports/clerk-4112-org-switch-stale-token-fixed.toml",
        11677,
    ),
    (
        "models/reports/clerk-4112-org-switch-stale-token.toml",
        8621,
    ),
    ("models/reports/collabute-132-user-row-fixed.toml", 415),
    ("models/reports/collabute-132-user-row.toml", 123),
    (
        "models/reports/convex-auth-178-reauth-after-expiry.toml",
        1461,
    ),
    (
        "models/reports/convex-backend-237-clerk-signin-fixed.toml",
        1050,
    ),
    (
        "models/reports/convex-backend-237-clerk-signin-no-faults.toml",
        54,
    ),
    ("models/reports/convex-backend-237-clerk-signin.toml", 552),
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
        1201,
    ),
    (
        "models/reports/convex-backend-523-workos-transient-null-fixed.toml",
        7654,
    ),
    (
        "models/reports/convex-backend-523-workos-transient-null.toml",
        2367,
    ),
    (
        "models/reports/convex-js-156-clerk-session-replaced-fixed.toml",
        12557,
    ),
    (
        "models/reports/convex-js-156-clerk-session-replaced.toml",
        9460,
    ),
    ("models/reports/convex-js-82-fetcher-swap-fixed.toml", 123),
    ("models/reports/convex-js-82-fetcher-swap.toml", 680),
    ("models/reports/convex-js-98-preload-clerk-fixed.toml", 78),
    ("models/reports/convex-js-98-preload-clerk-loaded.toml", 52),
    ("models/reports/convex-js-98-preload-clerk.toml", 81),
    (
        "models/reports/convex-react-query-19-ssr-auth-fixed-socket-drop.toml",
        583,
    ),
    (
        "models/reports/convex-react-query-19-ssr-auth-fixed.toml",
        58,
    ),
    ("models/reports/convex-react-query-19-ssr-auth.toml", 81),
    ("models/reports/devto-clerk-best-practices-fixed.toml", 1501),
    ("models/reports/devto-clerk-best-practices.toml", 858),
    (
        "models/reports/discord-router-refresh-useuser-fixed.toml",
        1050,
    ),
    ("models/reports/discord-router-refresh-useuser.toml", 552),
    (
        "models/reports/discord-signout-unauthenticated-fixed.toml",
        361,
    ),
    ("models/reports/discord-signout-unauthenticated.toml", 174),
    (
        "models/reports/templates-253-authkit-refocus-flash.toml",
        1201,
    ),
    (
        "models/reports/worldmonitor-3746-provider-gated-shell-fixed.toml",
        519,
    ),
    (
        "models/reports/worldmonitor-3746-provider-gated-shell.toml",
        621,
    ),
    ("models/seed-better-auth-ungated.toml", 75),
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
