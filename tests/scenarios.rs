//! Every scenario in `models/` against its `[expect]`.

use authrace::check::{CheckOptions, check};
use authrace::scenario::properties::Verdict;

use crate::common::{model_files, root};

#[test]
fn every_model_matches_its_expectations() {
    let files = model_files();
    assert!(!files.is_empty(), "models/ holds scenarios");
    let mut failures = Vec::new();
    for f in &files {
        let s = authrace::scenario::Scenario::load(f).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !s.expect.is_empty(),
            "{}: every scenario in models/ declares [expect]",
            f.display()
        );
        let r = check(f, &s, &CheckOptions::default());
        assert!(r.complete, "{}: exploration incomplete", f.display());
        for p in &r.properties {
            if p.mismatch() {
                failures.push(format!(
                    "{}: {} is {} but [expect] says {}",
                    f.strip_prefix(root()).unwrap_or(f).display(),
                    p.id,
                    p.verdict,
                    p.expected.unwrap()
                ));
            }
            if p.verdict == Verdict::Violated {
                assert!(p.trace.as_ref().is_some_and(|t| !t.is_empty()));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The seed: the query's ModifyQuerySet reaches the server before any
/// Authenticate, and the shortest trace says so at its last step.
#[test]
fn seed_trace_shows_query_before_authenticate() {
    let s = crate::common::load("models/seed-better-auth-ungated.toml");
    let r = crate::common::run(&s);
    let p = r.property(authrace::scenario::properties::PropertyId::QueryRunsAuthenticated);
    assert_eq!(p.verdict, Verdict::Violated);
    let trace = p.trace.as_ref().unwrap();
    let last = trace.last().unwrap();
    assert_eq!(last.actor, "Client -> Server");
    assert!(
        last.action
            .starts_with("ModifyQuerySet +listOrganizations (no Authenticate yet)")
    );
    assert!(
        trace.iter().all(|s| !s.action.starts_with("Authenticate")),
        "no Authenticate reaches the server before the query"
    );
    assert_eq!(
        trace.len(),
        5,
        "commit, its passive effects, socket opens, Connect, ModifyQuerySet"
    );
}

/// The same app with the provider already signed in at the first render:
/// FirstEffect's setAuth pauses the socket before the child subscribes.
#[test]
fn signed_in_at_load_is_safe_without_faults() {
    let s = crate::common::parse(
        r#"
name = "signed in at load"
[provider]
kind = "better-auth"
at_load = "signed-in"
[[function]]
name = "q:list"
auth = "required"
[[component]]
name = "List"
query = "q:list"
"#,
    );
    let r = crate::common::run(&s);
    let p = r.property(authrace::scenario::properties::PropertyId::QueryRunsAuthenticated);
    assert_eq!(
        p.verdict,
        Verdict::Holds,
        "{}",
        authrace::present::text::report(&r)
    );
}

/// No scenario reaches a point where the real client throws
/// (`model::Anomaly`): the model explores past every step it can take.
#[test]
fn no_model_reaches_an_anomaly() {
    for f in crate::common::model_files() {
        let s = authrace::scenario::Scenario::load(&f).unwrap();
        let r = crate::common::run(&s);
        assert!(r.anomalies.is_empty(), "{}: {:?}", f.display(), r.anomalies);
    }
}

/// Every property has teeth: some scenario in `models/` declares it
/// violated and some declares it holding (the test above makes the
/// declarations true).
#[test]
fn every_property_is_both_violated_and_satisfied_in_models() {
    use authrace::scenario::properties::PropertyId;
    let expectations: Vec<_> = model_files()
        .iter()
        .map(|f| {
            authrace::scenario::Scenario::load(f)
                .unwrap()
                .expectations()
        })
        .collect();
    for id in PropertyId::ALL {
        for verdict in [Verdict::Violated, Verdict::Holds] {
            assert!(
                expectations.iter().any(|e| e.get(&id) == Some(&verdict)),
                "no scenario in models/ declares {} {verdict}",
                id.as_str()
            );
        }
    }
}
