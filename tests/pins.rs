//! Pinned state counts: a change that grows or shrinks the explored space
//! must show up here in review (as stateright's own tests pin
//! `unique_state_count()`).

use authrace::check::{CheckOptions, check};
use authrace::properties::Verdict;

use crate::common::{model_files, root};

/// (scenario, unique states stored by stateright's BFS).
const PINS: &[(&str, usize)] = &[
    ("models/matrix/authenticated-no-faults.toml", 58),
    ("models/matrix/authenticated-socket-drop.toml", 638),
    ("models/matrix/convex-auth-no-faults.toml", 58),
    ("models/matrix/convex-auth-socket-drop.toml", 638),
    ("models/matrix/current-user-no-faults.toml", 299),
    ("models/matrix/current-user-socket-drop.toml", 9016),
    ("models/matrix/none-no-faults.toml", 70),
    ("models/matrix/none-socket-drop.toml", 851),
    ("models/matrix/provider-no-faults.toml", 37),
    ("models/matrix/provider-socket-drop.toml", 469),
    ("models/seed-better-auth-ungated.toml", 70),
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
