//! Pinned state counts: a change that grows or shrinks the explored space
//! must show up here in review (as stateright's own tests pin
//! `unique_state_count()`).

use authrace::check::{CheckOptions, check};
use authrace::properties::Verdict;

use crate::common::{model_files, root};

/// (scenario, unique states stored by stateright's BFS).
const PINS: &[(&str, usize)] = &[
    ("models/matrix/authenticated-no-faults.toml", 57),
    ("models/matrix/authenticated-socket-drop.toml", 758),
    ("models/matrix/convex-auth-no-faults.toml", 57),
    ("models/matrix/convex-auth-socket-drop.toml", 758),
    ("models/matrix/current-user-no-faults.toml", 294),
    ("models/matrix/current-user-socket-drop.toml", 12024),
    ("models/matrix/none-no-faults.toml", 65),
    ("models/matrix/none-socket-drop.toml", 831),
    ("models/matrix/provider-no-faults.toml", 36),
    ("models/matrix/provider-socket-drop.toml", 468),
    (
        "models/reports/authkit-template-8-forced-refresh-fixed.toml",
        2601,
    ),
    (
        "models/reports/authkit-template-8-forced-refresh.toml",
        3020,
    ),
    ("models/reports/better-auth-408-token-5xx.toml", 243),
    ("models/reports/better-auth-79-hard-reload-fixed.toml", 57),
    ("models/reports/better-auth-79-hard-reload.toml", 65),
    (
        "models/reports/clerk-4112-org-switch-stale-token-fixed.toml",
        12745,
    ),
    (
        "models/reports/clerk-4112-org-switch-stale-token.toml",
        9298,
    ),
    ("models/reports/collabute-132-user-row-fixed.toml", 305),
    ("models/reports/collabute-132-user-row.toml", 85),
    (
        "models/reports/convex-auth-178-reauth-after-expiry.toml",
        1499,
    ),
    (
        "models/reports/convex-backend-237-clerk-signin-fixed.toml",
        759,
    ),
    (
        "models/reports/convex-backend-237-clerk-signin-no-faults.toml",
        37,
    ),
    ("models/reports/convex-backend-237-clerk-signin.toml", 469),
    (
        "models/reports/convex-backend-242-authkit-hydration-fixed.toml",
        39,
    ),
    (
        "models/reports/convex-backend-242-authkit-hydration.toml",
        58,
    ),
    (
        "models/reports/convex-backend-259-authkit-expiry-stuck.toml",
        1092,
    ),
    (
        "models/reports/convex-backend-523-workos-transient-null-fixed.toml",
        7085,
    ),
    (
        "models/reports/convex-backend-523-workos-transient-null.toml",
        2131,
    ),
    (
        "models/reports/convex-js-156-clerk-session-replaced-fixed.toml",
        13295,
    ),
    (
        "models/reports/convex-js-156-clerk-session-replaced.toml",
        9438,
    ),
    ("models/reports/convex-js-82-fetcher-swap-fixed.toml", 79),
    ("models/reports/convex-js-82-fetcher-swap.toml", 443),
    ("models/reports/convex-js-98-preload-clerk-fixed.toml", 58),
    ("models/reports/convex-js-98-preload-clerk-loaded.toml", 35),
    ("models/reports/convex-js-98-preload-clerk.toml", 70),
    (
        "models/reports/convex-react-query-19-ssr-auth-fixed-socket-drop.toml",
        497,
    ),
    (
        "models/reports/convex-react-query-19-ssr-auth-fixed.toml",
        41,
    ),
    ("models/reports/convex-react-query-19-ssr-auth.toml", 70),
    ("models/reports/devto-clerk-best-practices-fixed.toml", 1004),
    ("models/reports/devto-clerk-best-practices.toml", 955),
    (
        "models/reports/discord-router-refresh-useuser-fixed.toml",
        759,
    ),
    ("models/reports/discord-router-refresh-useuser.toml", 469),
    (
        "models/reports/discord-signout-unauthenticated-fixed.toml",
        314,
    ),
    ("models/reports/discord-signout-unauthenticated.toml", 190),
    (
        "models/reports/templates-253-authkit-refocus-flash.toml",
        1092,
    ),
    (
        "models/reports/worldmonitor-3746-provider-gated-shell-fixed.toml",
        786,
    ),
    (
        "models/reports/worldmonitor-3746-provider-gated-shell.toml",
        786,
    ),
    ("models/seed-better-auth-ungated.toml", 65),
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
