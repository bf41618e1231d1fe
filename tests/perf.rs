//! The performance machinery gives the same answers as the plain one:
//! symmetry reduction, the compact liveness graph, the measuring child
//! process, and the generated `docs/performance.md` (its deterministic
//! columns). No timing is asserted anywhere.

use std::path::Path;
use std::process::Command;

use authrace::check::liveness::{self, Limits, LiveOutcome, StateGraph};
use authrace::check::{CheckOptions, check, explore_safety};
use authrace::commands::bench::{Measure, scale_scenario};
use authrace::model::AuthModel;
use authrace::scenario::properties::{PropertyId, PropertyKind};
use authrace::scenario::{Scenario, Strategy};

use crate::common::{model_files, parse, root};

/// One component gated on `useConvexAuth()`, one rejected token: the
/// rejection renames tokens and connections, so symmetry has work to do.
fn renaming_scenario() -> Scenario {
    parse(&scale_scenario(1, &[("reject_tokens", 1)], 1))
}

#[test]
fn symmetry_reduces_states_and_keeps_every_verdict() {
    let s = renaming_scenario();
    let bfs = explore_safety(&s, Strategy::Bfs, 1, true, None);
    let off = explore_safety(&s, Strategy::Bfs, 1, false, None);
    let dfs = explore_safety(&s, Strategy::Dfs, 1, true, None);
    assert!(bfs.complete && off.complete && dfs.complete);
    // Canonical states under BFS and stateright's `Representative` under
    // DFS are the same reduction: the same number of classes.
    assert_eq!(bfs.unique_states, dfs.unique_states);
    assert!(
        off.unique_states > bfs.unique_states,
        "symmetry must reduce this scenario: {} vs {}",
        off.unique_states,
        bfs.unique_states
    );
    let with = check(Path::new("inline.toml"), &s, &CheckOptions::default());
    let without = check(
        Path::new("inline.toml"),
        &s,
        &CheckOptions {
            no_symmetry: true,
            ..CheckOptions::default()
        },
    );
    assert_eq!(with.stats.unique_states, bfs.unique_states);
    assert_eq!(without.stats.unique_states, off.unique_states);
    for p in PropertyId::ALL {
        let (a, b) = (with.property(p), without.property(p));
        assert_eq!(a.verdict, b.verdict, "{p}");
        // Shortest traces have the same length in both spaces.
        assert_eq!(
            a.steps.as_ref().map(|t| t.len()),
            b.steps.as_ref().map(|t| t.len()),
            "{p}"
        );
    }
}

#[test]
fn dfs_with_representative_gives_bfs_verdicts_on_every_model() {
    for f in model_files() {
        let s = Scenario::load(&f).unwrap();
        let bfs = check(&f, &s, &CheckOptions::default());
        let dfs = check(
            &f,
            &s,
            &CheckOptions {
                strategy: Some(Strategy::Dfs),
                ..CheckOptions::default()
            },
        );
        for p in PropertyId::ALL {
            assert_eq!(
                bfs.property(p).verdict,
                dfs.property(p).verdict,
                "{}: {p}",
                f.display()
            );
        }
    }
}

/// Threads change how fast the graph is built, never the graph: node ids,
/// parents, depths, facts and edges are those of one thread, also when a
/// state limit stops the build part way.
#[test]
fn the_graph_is_the_same_for_every_thread_count() {
    let scenario = parse(&scale_scenario(
        2,
        &[("socket_drops", 1), ("reject_tokens", 1)],
        1,
    ));
    let model = AuthModel::new(&scenario);
    for max_states in [None, Some(20_000)] {
        let build = |threads| {
            let mut g = StateGraph::build(
                &model,
                Limits {
                    compact: true,
                    threads,
                    max_states,
                    ..Limits::default()
                },
            );
            g.seal();
            g
        };
        let one = build(1);
        assert!(one.len() > 10_000, "{}", one.len());
        assert_eq!(one.complete, max_states.is_none());
        for threads in [2, 3] {
            let many = build(threads);
            let what = format!("{threads} threads, max_states {max_states:?}");
            assert_eq!(one.len(), many.len(), "{what}");
            assert_eq!(one.facts, many.facts, "{what}");
            assert_eq!(one.parent, many.parent, "{what}");
            assert_eq!(one.depth, many.depth, "{what}");
            assert_eq!(one.edges, many.edges, "{what}");
            assert_eq!(one.complete, many.complete, "{what}");
            let edges = |g: &StateGraph| {
                g.graph
                    .raw_edges()
                    .iter()
                    .map(|e| (e.source().index(), e.target().index(), e.weight))
                    .collect::<Vec<_>>()
            };
            assert_eq!(edges(&one), edges(&many), "{what}");
        }
    }
}

#[test]
fn the_compact_graph_decides_what_the_full_graph_decides() {
    let mut files = model_files();
    files.truncate(12);
    for f in files {
        let s = Scenario::load(&f).unwrap();
        let model = AuthModel::new(&s);
        let full = StateGraph::build(&model, Limits::default());
        let mut compact = StateGraph::build(
            &model,
            Limits {
                compact: true,
                ..Limits::default()
            },
        );
        compact.seal();
        let name = f.display();
        assert_eq!(full.len(), compact.len(), "{name}");
        assert_eq!(full.facts, compact.facts, "{name}");
        assert_eq!(full.depth, compact.depth, "{name}");
        assert_eq!(full.parent, compact.parent, "{name}");
        assert_eq!(full.edges, compact.edges, "{name}");
        assert!(
            compact.states.is_empty(),
            "{name}: a compact graph keeps no state"
        );
        // The facts are those of the states.
        for (i, st) in full.states.iter().enumerate() {
            assert_eq!(full.facts[i], liveness::facts_of(&model, st), "{name}");
            // A compact graph's state is recovered by replaying its path.
            if i % 97 == 0 {
                assert_eq!(&compact.state(&model, i as u32), st, "{name}");
            }
        }
        for p in PropertyId::ALL
            .into_iter()
            .filter(|p| p.kind() == PropertyKind::Liveness)
        {
            let a = liveness::decide(&model, &full, p);
            let b = liveness::decide(&model, &compact, p);
            match (a, b) {
                (LiveOutcome::Holds { fair_cycle: ca }, LiveOutcome::Holds { fair_cycle: cb }) => {
                    assert_eq!(ca, cb, "{name}: {p} inevitability differs")
                }
                (LiveOutcome::Vacuous, LiveOutcome::Vacuous) => {}
                (
                    LiveOutcome::Violated {
                        path: pa,
                        reason: ra,
                        ..
                    },
                    LiveOutcome::Violated {
                        path: pb,
                        reason: rb,
                        ..
                    },
                ) => {
                    assert_eq!(pa, pb, "{name}: {p}");
                    assert_eq!(ra, rb, "{name}: {p}");
                }
                _ => panic!("{name}: {p}: the two graphs disagree"),
            }
        }
    }
}

#[test]
fn measure_reports_the_run_as_json() {
    let out = Command::new(env!("CARGO_BIN_EXE_authrace"))
        .args(["measure", "models/seed-better-auth-ungated.toml"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: Measure = serde_json::from_slice(&out.stdout).unwrap();
    assert!(m.complete);
    assert_eq!(m.unique_states, 86);
    assert_eq!(m.graph_states, 86);
    assert!(m.peak_rss > 0, "peak memory is read from the OS");
    assert!(
        m.verdicts
            .contains(&("query-runs-authenticated".into(), "violated".into()))
    );
    let out = Command::new(env!("CARGO_BIN_EXE_authrace"))
        .args([
            "measure",
            "models/seed-better-auth-ungated.toml",
            "--safety-only",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    let m: Measure = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((m.unique_states, m.graph_states), (86, 0));
    assert!(m.verdicts.is_empty());
}

/// The table in docs/performance.md was produced by `authrace bench` from
/// the current model: every scenario of `models/` has a row whose state
/// counts are today's, and the targets are all stated.
#[test]
fn performance_doc_matches_the_current_model() {
    let doc = std::fs::read_to_string(root().join("docs/performance.md")).unwrap();
    assert!(doc.contains("Generated by `authrace bench"));
    for f in model_files() {
        let rel = f.strip_prefix(root()).unwrap().display().to_string();
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{rel}` |")))
            .unwrap_or_else(|| panic!("docs/performance.md has no row for {rel}: rerun `authrace bench --out docs/performance.md`"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let s = Scenario::load(&f).unwrap();
        let r = check(&f, &s, &CheckOptions::default());
        assert_eq!(
            (cells[2], cells[3], cells[4]),
            (
                r.stats.states.to_string().as_str(),
                r.stats.unique_states.to_string().as_str(),
                r.stats.max_depth.to_string().as_str()
            ),
            "{rel}: docs/performance.md is stale; rerun `authrace bench --out docs/performance.md`"
        );
    }
    let targets = doc.split("## Targets").nth(1).expect("a Targets section");
    for t in [
        "seed scenario decided in under 100 ms",
        "every scenario in `models/` in under 5 s",
        "whole folder in under 60 s",
        "under 60 s",
        "under 2 GiB",
        "300,000 unique states per second",
        "two threads faster than one",
        "lifecycle scenario decided completely",
        "within 2x of SPIN",
        "grow polynomially",
        "app scanned, all triggers checked, in under 5 s",
        "(parse and semantic analysis of every file) in under 50 ms",
    ] {
        let line = targets
            .lines()
            .find(|l| l.contains(t))
            .unwrap_or_else(|| panic!("target `{t}` is not stated"));
        assert!(
            line.ends_with("| yes |") || line.ends_with("| **no** |"),
            "target `{t}` says neither met nor not met: {line}"
        );
    }
    assert!(doc.contains("## Peer comparison: SPIN"));
}

#[test]
fn bench_without_scenarios_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_authrace"))
        .args(["bench", "--quick", "--root", "no-such-folder"])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no scenario files under"), "{err}");
}
