//! Pinned state counts: a change that grows or shrinks the explored space
//! must show up here in review (as stateright's own tests pin
//! `unique_state_count()`).

use authrace::check::{CheckOptions, check};
use authrace::scenario::properties::{PropertyKind, Verdict};

use crate::common::{model_files, root};

/// (scenario, unique states of the breadth-first state graph; stateright's
/// own BFS must find as many whenever it explores everything).
const PINS: &[(&str, usize)] = &[
    ("models/fidelity/effects-run-in-a-later-task.toml", 242),
    ("models/fidelity/effects-with-a-sync-provider.toml", 169),
    ("models/fidelity/opaque-tokens-no-refresh.toml", 52),
    (
        "models/fidelity/optional-anonymous-null-is-no-result.toml",
        176,
    ),
    ("models/fidelity/routine-refresh-bounded.toml", 52),
    ("models/fidelity/routine-refresh-transient-null.toml", 475),
    ("models/fidelity/sign-out-window.toml", 1220),
    (
        "models/fidelity/store-runs-in-the-sign-out-window.toml",
        4370,
    ),
    ("models/fidelity/user-rows-existing.toml", 171),
    ("models/findings/reauth-same-token-patched.toml", 4927),
    ("models/findings/reauth-same-token.toml", 2334),
    (
        "models/findings/sign-out-skip-after-clear-auth-patched.toml",
        791,
    ),
    ("models/findings/sign-out-skip-after-clear-auth.toml", 871),
    ("models/findings/sign-out-token-in-flight-patched.toml", 481),
    ("models/findings/sign-out-token-in-flight.toml", 791),
    ("models/matrix/authenticated-no-faults.toml", 143),
    ("models/matrix/authenticated-socket-drop.toml", 1960),
    ("models/matrix/convex-auth-no-faults.toml", 143),
    ("models/matrix/convex-auth-socket-drop.toml", 1960),
    ("models/matrix/current-user-no-faults.toml", 1103),
    ("models/matrix/current-user-socket-drop.toml", 32511),
    ("models/matrix/none-no-faults.toml", 86),
    ("models/matrix/none-socket-drop.toml", 794),
    ("models/matrix/provider-no-faults.toml", 64),
    ("models/matrix/provider-socket-drop.toml", 711),
    (
        "models/reports/authkit-template-8-forced-refresh-fixed.toml",
        9020,
    ),
    (
        "models/reports/authkit-template-8-forced-refresh.toml",
        2334,
    ),
    ("models/reports/better-auth-408-token-5xx.toml", 510),
    ("models/reports/better-auth-79-hard-reload-fixed.toml", 143),
    ("models/reports/better-auth-79-hard-reload.toml", 86),
    (
        "models/reports/clerk-4112-org-switch-stale-token-fixed.toml",
        24512,
    ),
    (
        "models/reports/clerk-4112-org-switch-stale-token.toml",
        16162,
    ),
    ("models/reports/collabute-132-user-row-fixed.toml", 1453),
    ("models/reports/collabute-132-user-row.toml", 296),
    (
        "models/reports/convex-auth-178-reauth-after-expiry.toml",
        3114,
    ),
    (
        "models/reports/convex-backend-237-clerk-signin-fixed.toml",
        2495,
    ),
    (
        "models/reports/convex-backend-237-clerk-signin-no-faults.toml",
        76,
    ),
    ("models/reports/convex-backend-237-clerk-signin.toml", 865),
    (
        "models/reports/convex-backend-242-authkit-hydration-fixed.toml",
        30,
    ),
    (
        "models/reports/convex-backend-242-authkit-hydration.toml",
        56,
    ),
    (
        "models/reports/convex-backend-259-authkit-expiry-stuck.toml",
        932,
    ),
    (
        "models/reports/convex-backend-523-workos-transient-null-fixed.toml",
        4349,
    ),
    (
        "models/reports/convex-backend-523-workos-transient-null.toml",
        2634,
    ),
    (
        "models/reports/convex-js-156-clerk-session-replaced-fixed.toml",
        27207,
    ),
    (
        "models/reports/convex-js-156-clerk-session-replaced.toml",
        17439,
    ),
    ("models/reports/convex-js-82-fetcher-swap-fixed.toml", 148),
    ("models/reports/convex-js-82-fetcher-swap.toml", 519),
    ("models/reports/convex-js-98-preload-clerk-fixed.toml", 175),
    ("models/reports/convex-js-98-preload-clerk-loaded.toml", 72),
    ("models/reports/convex-js-98-preload-clerk.toml", 108),
    (
        "models/reports/convex-react-query-19-ssr-auth-fixed-socket-drop.toml",
        968,
    ),
    (
        "models/reports/convex-react-query-19-ssr-auth-fixed.toml",
        145,
    ),
    ("models/reports/convex-react-query-19-ssr-auth.toml", 108),
    ("models/reports/devto-clerk-best-practices-fixed.toml", 3507),
    ("models/reports/devto-clerk-best-practices.toml", 1259),
    (
        "models/reports/discord-router-refresh-useuser-fixed.toml",
        2495,
    ),
    ("models/reports/discord-router-refresh-useuser.toml", 865),
    (
        "models/reports/discord-signout-unauthenticated-fixed.toml",
        1300,
    ),
    ("models/reports/discord-signout-unauthenticated.toml", 572),
    (
        "models/reports/templates-253-authkit-refocus-flash.toml",
        932,
    ),
    (
        "models/reports/worldmonitor-3746-provider-gated-shell-fixed.toml",
        955,
    ),
    (
        "models/reports/worldmonitor-3746-provider-gated-shell.toml",
        1141,
    ),
    ("models/seed-better-auth-ungated.toml", 86),
    ("models/tutorial/1-ungated.toml", 86),
    ("models/tutorial/2-convex-auth.toml", 143),
    ("models/tutorial/3-sign-out.toml", 1483),
    ("models/tutorial/4-authenticated.toml", 1294),
    ("models/versions/clerk-session-replaced-1.42.0.toml", 17439),
    ("models/versions/clerk-session-replaced-1.48.0.toml", 27207),
    ("models/versions/fresh-token-rejected-1.20.0.toml", 3109),
    ("models/versions/fresh-token-rejected-1.48.0.toml", 9020),
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
        // stateright's own BFS, as a cross-check of the state graph: the
        // same safety verdicts, the same triggers, the same state space.
        let sr = authrace::check::stateright_safety(&s);
        for p in r
            .properties
            .iter()
            .filter(|p| p.id.kind() == PropertyKind::Safety)
        {
            assert_eq!(
                p.verdict == Verdict::Violated,
                sr.violated.contains(&p.id),
                "{rel}: {} is {} on the state graph; stateright violated {:?}",
                p.id,
                p.verdict,
                sr.violated
            );
            if p.verdict != Verdict::Violated {
                assert_eq!(
                    p.verdict == Verdict::Holds,
                    sr.triggered.contains(&p.id),
                    "{rel}: {} is {}; stateright saw triggers of {:?}",
                    p.id,
                    p.verdict,
                    sr.triggered
                );
            }
        }
        assert_eq!(r.stats.graph_states, r.stats.unique_states, "{rel}");
        if sr.explored_all {
            assert_eq!(sr.unique_states, r.stats.unique_states, "{rel}");
        }
    }
    for (p, _) in PINS {
        if !root().join(p).exists() {
            problems.push(format!("{p}: pinned but missing"));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
