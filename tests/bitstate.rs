//! The bounded mode (`check --bitstate`): what it reports is true of the
//! model, and it never claims a proof.

use authrace::check::{CheckOptions, check, replay};
use authrace::model::AuthModel;
use authrace::scenario::Scenario;
use authrace::scenario::properties::{PropertyKind, Verdict};

use crate::common::{authrace, model_files, temp_file};

/// On every scenario small enough to decide, a bitstate search with room
/// to spare meets every state the full check explores, finds exactly the
/// safety violations the full check finds, each with a trace that is a run
/// of the model ending in a violation, and decides nothing else.
#[test]
fn a_roomy_bitstate_search_finds_exactly_the_violations_and_proves_nothing() {
    for f in model_files() {
        let s = Scenario::load(&f).unwrap();
        let full = check(&f, &s, &CheckOptions::default());
        // Alternate one search and a swarm of two over the files.
        let threads = 1 + (f.to_string_lossy().len() % 2);
        let bounded = check(
            &f,
            &s,
            &CheckOptions {
                bitstate: Some(1 << 27),
                threads,
                ..CheckOptions::default()
            },
        );
        let name = f.display();
        let cov = bounded.bounded.as_ref().expect("a bounded report says so");
        assert!(
            !bounded.complete,
            "{name}: a bounded search is never complete"
        );
        assert!(cov.exhausted, "{name}");
        // One search stores each state once; two searches meeting a state at
        // the same moment may both count it.
        if threads == 1 {
            assert_eq!(cov.states, full.stats.unique_states, "{name}: states met");
        } else {
            assert!(cov.states >= full.stats.unique_states, "{name}: states met");
            assert!(cov.states <= full.stats.unique_states * 11 / 10, "{name}");
        }
        let model = AuthModel::new(&s);
        for (p, q) in full.properties.iter().zip(&bounded.properties) {
            assert_eq!(p.id, q.id);
            match (p.kind, p.verdict) {
                (PropertyKind::Safety, Verdict::Violated) => {
                    assert_eq!(q.verdict, Verdict::Violated, "{name}: {}", p.id);
                    let steps = q.steps.as_ref().expect("a violation has a trace");
                    let actions: Vec<_> = steps.iter().filter_map(|t| t.raw).collect();
                    let end = replay(&model, &actions)
                        .unwrap_or_else(|| panic!("{name}: {}'s trace is not a run", p.id));
                    assert!(
                        !model.holds(p.id, &end),
                        "{name}: {} not violated at the end",
                        p.id
                    );
                    assert!(
                        steps.len() >= p.steps.as_ref().unwrap().len(),
                        "{name}: shorter than shortest"
                    );
                }
                _ => assert_eq!(q.verdict, Verdict::Unknown, "{name}: {}", p.id),
            }
        }
    }
}

#[test]
fn bitstate_exit_codes_and_usage_errors() {
    // A violation found: exit 1; none found: exit 3 (nothing proved).
    let text = "name = \"ungated\"\n[provider]\nkind = \"better-auth\"\nat_load = \"loading\"\n\
                [[function]]\nname = \"q:list\"\nauth = \"required\"\n\
                [[component]]\nname = \"List\"\nquery = \"q:list\"\ngate = \"none\"\n";
    let ungated = temp_file("bitstate-ungated.toml", text);
    let (code, out, _) = authrace(&["check", ungated.to_str().unwrap(), "--bitstate", "1MiB"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BOUNDED SEARCH, NOT A PROOF"), "{out}");
    let gated = temp_file(
        "bitstate-gated.toml",
        &text.replace("gate = \"none\"", "gate = \"convex-auth\""),
    );
    let (code, out, _) = authrace(&["check", gated.to_str().unwrap(), "--bitstate", "1MiB"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("not a proof"), "{out}");
    // Violations that [expect] expects still prove nothing else: exit 3.
    let (code, out, _) = authrace(&[
        "check",
        "models/tutorial/3-sign-out.toml",
        "--bitstate",
        "1MiB",
    ]);
    assert_eq!(code, 3, "{out}");
    // An array larger than the memory limit is refused up front.
    let (code, _, err) = authrace(&[
        "check",
        gated.to_str().unwrap(),
        "--bitstate",
        "2GiB",
        "--max-memory",
        "1GiB",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not fit under the memory limit"), "{err}");
    let (code, _, err) = authrace(&[
        "check",
        gated.to_str().unwrap(),
        "--bitstate",
        "1MiB",
        "--suggest",
    ]);
    assert_eq!(code, 2, "{err}");
}
