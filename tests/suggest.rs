//! `check --suggest`: what it names really fixes the scenario.

use std::path::Path;

use authrace::check::report::Change;
use authrace::check::suggest::suggest;
use authrace::check::{CheckOptions, check};
use authrace::scenario::Gate;
use authrace::scenario::properties::Verdict;

use crate::common::{load, parse};

fn recheck_each(scenario: &authrace::scenario::Scenario, s: &authrace::check::report::Suggestions) {
    for fix in &s.fixes {
        let mut v = scenario.clone();
        v.expect.clear();
        for c in &fix.changes {
            match c {
                Change::Gate { component, to, .. } => {
                    let comp = v
                        .components
                        .iter_mut()
                        .find(|x| x.name.get_ref() == component)
                        .unwrap();
                    comp.gate = toml::Spanned::new(0..0, *to);
                    if *to == Gate::CurrentUser {
                        v.app.store_user = true;
                    }
                }
                Change::ExpectAuth => v.client.expect_auth = true,
            }
        }
        let r = check(Path::new("fixed.toml"), &v, &CheckOptions::default());
        for p in &r.properties {
            assert!(
                matches!(p.verdict, Verdict::Holds | Verdict::Vacuous),
                "suggestion `{fix}` leaves {} {}",
                p.id,
                p.verdict
            );
        }
    }
}

#[test]
fn seed_suggestions_name_the_gates_that_fix_it() {
    let s = load("models/seed-better-auth-ungated.toml");
    let r = crate::common::run(&s);
    let sug =
        suggest(Path::new("seed.toml"), &s, &r, &CheckOptions::default()).expect("violations");
    let text: Vec<String> = sug.fixes.iter().map(|f| f.to_string()).collect();
    for want in [
        "OrganizationsList: gate none -> convex-auth makes all properties hold",
        "OrganizationsList: gate none -> authenticated makes all properties hold",
        "[client] expect_auth = true makes all properties hold",
    ] {
        assert!(
            text.iter().any(|t| t.starts_with(want)),
            "missing `{want}` in {text:#?}"
        );
    }
    // Smallest change first: single changes only, in gate order.
    assert!(sug.fixes.iter().all(|f| f.changes.len() == 1));
    recheck_each(&s, &sug);
}

#[test]
fn a_drop_rules_out_the_provider_gate_and_expect_auth() {
    let s = load("models/matrix/provider-socket-drop.toml");
    let r = crate::common::run(&s);
    let sug = suggest(Path::new("x.toml"), &s, &r, &CheckOptions::default()).unwrap();
    assert!(
        !sug.fixes
            .iter()
            .any(|f| f.changes.contains(&Change::ExpectAuth))
    );
    assert!(sug.fixes.iter().any(|f| {
        f.to_string()
            .starts_with("OrganizationsList: gate provider -> convex-auth")
    }));
    recheck_each(&s, &sug);
}

#[test]
fn nothing_in_reach_is_said_plainly() {
    // Sign-out makes every gate violate query-runs-authenticated (see docs/gates.md).
    let s = parse(
        r#"
name = "sign-out"
[provider]
kind = "better-auth"
at_load = "signed-in"
sign_out = true
[[function]]
name = "q:f"
auth = "required"
[[component]]
name = "C"
query = "q:f"
gate = "none"
"#,
    );
    let r = crate::common::run(&s);
    let sug = suggest(Path::new("x.toml"), &s, &r, &CheckOptions::default()).unwrap();
    assert!(sug.fixes.is_empty(), "{:?}", sug.fixes);
    assert!(sug.checked >= 5);
    assert!(authrace::present::text::suggestions(&sug).contains("nothing in reach fixes it"));
}

#[test]
fn nothing_to_suggest_without_violations() {
    let s = load("models/matrix/convex-auth-no-faults.toml");
    let r = crate::common::run(&s);
    assert!(suggest(Path::new("x.toml"), &s, &r, &CheckOptions::default()).is_none());
}
