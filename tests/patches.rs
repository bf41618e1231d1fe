//! Proposed client patches: each finding's race is removed by its patch over
//! every interleaving, no patch makes a property worse, and
//! `docs/findings.md` is what the findings produce now.

use authrace::check::CheckOptions;
use authrace::commands::patches::{self, Effect};
use authrace::scenario::Patch;
use authrace::scenario::properties::{PropertyId, PropertyKind, Verdict};

use crate::common::{authrace, load, root, temp_file};

fn findings() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join("models/findings"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml") && !n.ends_with("-patched.toml"))
        .map(|n| format!("models/findings/{n}"))
        .collect();
    out.sort();
    out
}

/// Every finding violates a safety property unpatched; its `-patched` twin
/// names the patches, and every violation the twin declares to hold is
/// fixed by them in the table, with nothing made worse.
#[test]
fn each_finding_is_removed_by_its_patch() {
    let files = findings();
    assert!(files.len() >= 3, "{files:?}");
    for rel in files {
        let s = load(&rel);
        let twin = load(&rel.replace(".toml", "-patched.toml"));
        assert!(
            !twin.client.patches.is_empty(),
            "{rel}: the twin names its patch"
        );
        let t = patches::table(std::path::Path::new(&rel), &s, &CheckOptions::default());
        assert!(t.complete(), "{rel}");
        assert!(!t.worse(), "{rel}: a patch makes a property worse");
        let base = &t.baseline().report;
        let violated: Vec<PropertyId> = PropertyId::ALL
            .into_iter()
            .filter(|&id| {
                id.kind() == PropertyKind::Safety && base.property(id).verdict == Verdict::Violated
            })
            .collect();
        assert!(!violated.is_empty(), "{rel}: no safety violation unpatched");
        let with_twin = t
            .variants
            .iter()
            .find(|v| v.patches == twin.client.patches)
            .expect("the twin's patch set is a variant");
        // The race the finding is about: what its twin declares to hold.
        let fixed: Vec<PropertyId> = violated
            .into_iter()
            .filter(|id| {
                twin.expect
                    .iter()
                    .any(|(k, v)| k.get_ref() == id.as_str() && *v == Verdict::Holds)
            })
            .collect();
        assert!(
            !fixed.is_empty(),
            "{rel}: the twin declares no fixed property"
        );
        for id in fixed {
            assert_eq!(
                t.effect(with_twin, id),
                Effect::Fixed,
                "{rel}: {} with {:?}",
                id.as_str(),
                twin.client.patches
            );
        }
    }
}

/// A patch changes behaviour only where it says: with no patch the model is
/// the unpatched one (same state count as the file without the key).
#[test]
fn patches_key_changes_only_what_it_names() {
    let s = load("models/findings/sign-out-token-in-flight.toml");
    let mut p = s.clone();
    p.client.patches = vec![Patch::SameTokenIsSuccess];
    let a = crate::common::run(&s);
    let b = crate::common::run(&p);
    // No forced fetch meets a refused token here: the same-token patch has
    // nothing to change.
    assert_eq!(a.stats.unique_states, b.stats.unique_states);
    p.client.patches = vec![Patch::ClearAuthResetsManager];
    let c = crate::common::run(&p);
    assert_ne!(a.stats.unique_states, c.stats.unique_states);
}

#[test]
fn effects_compare_verdicts() {
    use Verdict::*;
    assert_eq!(Effect::of(Violated, Holds), Effect::Fixed);
    assert_eq!(Effect::of(Violated, Vacuous), Effect::Vacuous);
    assert_eq!(Effect::of(Holds, Violated), Effect::Worse);
    assert_eq!(Effect::of(Vacuous, Violated), Effect::Worse);
    assert_eq!(Effect::of(Holds, Holds), Effect::Same);
    assert_eq!(Effect::of(Unknown, Holds), Effect::Unknown);
}

#[test]
fn patches_command_prints_tables_and_json() {
    let (code, out, _) = authrace(&[
        "patches",
        "models/findings/reauth-same-token.toml",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let t = &v.as_array().expect("an array")[0];
    let variants = t["variants"].as_array().unwrap();
    assert_eq!(variants.len(), Patch::ALL.len() + 2);
    let same = variants
        .iter()
        .find(|v| v["label"] == "same-token-is-success")
        .unwrap();
    assert_eq!(same["effects"]["query-runs-authenticated"], "fixed");
    assert_eq!(same["verdicts"]["stable-auth"], "holds");
    let (_, text, _) = authrace(&["patches", "models/findings/reauth-same-token.toml"]);
    assert!(text.contains(
        "same-token-is-success: fixes query-runs-authenticated, stable-auth, eventually-authenticated; makes nothing worse"
    ), "{text}");
}

#[test]
fn bad_patch_names_are_input_errors() {
    let f = temp_file(
        "bad.toml",
        "name = \"x\"\n[client]\npatches = [\"clear-auth-reset-manager\", \"same-token-is-success\", \"same-token-is-success\"]\n",
    );
    let (code, _, err) = authrace(&["patches", f.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.toml:3:"), "{err}");
    assert!(
        err.contains("did you mean \"clear-auth-resets-manager\""),
        "{err}"
    );
    assert!(err.contains("listed twice"), "{err}");
}

#[test]
fn findings_doc_is_fresh() {
    let on_disk = std::fs::read_to_string(root().join("docs/findings.md")).unwrap_or_default();
    let now = patches::findings_markdown(&root()).unwrap();
    assert!(
        on_disk == now,
        "docs/findings.md is stale: run `cargo run --release -- docs`"
    );
    for f in findings() {
        assert!(on_disk.contains(&format!("`{f}`")), "{f} has no section");
    }
}

/// 1.49.0 to 1.51.0 carry 1.48.0's auth code: the same model, state for
/// state; 1.20.0 and 1.42.0 differ where `models/versions/` says.
#[test]
fn newer_releases_are_the_pinned_model() {
    let base = load("models/versions/fresh-token-rejected-1.48.0.toml");
    let r = crate::common::run(&base);
    for v in ["1.49.0", "1.50.0", "1.51.0"] {
        let mut s = base.clone();
        s.client.version = Some(toml::Spanned::new(0..0, v.to_string()));
        let rv = crate::common::run(&s);
        assert_eq!(rv.stats.unique_states, r.stats.unique_states, "{v}");
        for id in PropertyId::ALL {
            assert_eq!(rv.property(id).verdict, r.property(id).verdict, "{v} {id}");
        }
    }
    let old = crate::common::run(&load("models/versions/fresh-token-rejected-1.20.0.toml"));
    assert_eq!(r.property(PropertyId::StableAuth).verdict, Verdict::Holds);
    assert_eq!(
        old.property(PropertyId::StableAuth).verdict,
        Verdict::Violated
    );
}

#[test]
fn options_a_release_lacks_are_input_errors() {
    let f = temp_file(
        "old.toml",
        "name = \"x\"\n[client]\nexpect_auth = true\nversion = \"1.20.0\"\n",
    );
    let (code, _, err) = authrace(&["check", f.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("old.toml:4:"), "{err}");
    assert!(err.contains("has no expectAuth (added in 1.26.0)"), "{err}");
}
