//! The `authrace` binary: exit codes, output formats, errors with positions.

use std::process::Command;

use crate::common::root;

fn authrace(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_authrace"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs");
    (
        out.status.code().expect("exited"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("authrace-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn seed_matches_its_expectation_and_exits_0() {
    let (code, out, _) = authrace(&["check", "models/seed-better-auth-ungated.toml"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("query-runs-authenticated   safety    violated (as expected)"),
        "{out}"
    );
    assert!(
        out.contains("Client -> Server  ModifyQuerySet +listOrganizations (no Authenticate yet)"),
        "{out}"
    );
    assert!(out.contains("states "), "{out}");
}

#[test]
fn a_violation_without_expect_exits_1() {
    let p = temp_file(
        "no-expect.toml",
        r#"name = "ungated, no expectations"
[provider]
kind = "better-auth"
[[function]]
name = "q:list"
auth = "required"
[[component]]
name = "List"
query = "q:list"
"#,
    );
    let (code, out, _) = authrace(&["check", p.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
}

#[test]
fn a_verdict_that_differs_from_expect_exits_1() {
    let p = temp_file(
        "wrong-expect.toml",
        r#"name = "ungated, wrong expectation"
[provider]
kind = "better-auth"
[[function]]
name = "q:list"
auth = "required"
[[component]]
name = "List"
query = "q:list"
[expect]
query-runs-authenticated = "holds"
"#,
    );
    let (code, out, _) = authrace(&["check", p.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("violated (EXPECTED holds)"), "{out}");
}

#[test]
fn json_report_has_the_contract_fields() {
    let (code, out, _) = authrace(&[
        "check",
        "models/seed-better-auth-ungated.toml",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    for k in ["path", "name", "hash"] {
        assert!(v["scenario"][k].is_string(), "scenario.{k}");
    }
    assert_eq!(v["complete"], true);
    for k in ["states", "unique_states", "max_depth", "elapsed_ms"] {
        assert!(v["stats"][k].is_u64(), "stats.{k}");
    }
    let props = v["properties"].as_array().unwrap();
    assert_eq!(props.len(), 6);
    let qra = props
        .iter()
        .find(|p| p["id"] == "query-runs-authenticated")
        .unwrap();
    assert_eq!(qra["kind"], "safety");
    assert_eq!(qra["verdict"], "violated");
    assert_eq!(qra["expected"], "violated");
    let step = &qra["trace"][0];
    assert_eq!(step["step"], 1);
    assert!(step["actor"].is_string() && step["action"].is_string());
    let ev = props
        .iter()
        .find(|p| p["id"] == "eventually-authenticated")
        .unwrap();
    assert_eq!(ev["kind"], "liveness");
    assert!(ev["trace"].is_null());
    // The report parses back.
    let back: authrace::report::Report = serde_json::from_str(&out).unwrap();
    assert_eq!(back.properties.len(), 6);
}

#[test]
fn several_files_give_a_json_array() {
    let (code, out, _) = authrace(&["check", "models/matrix", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 10);
}

#[test]
fn bad_toml_is_reported_with_a_position_and_exit_2() {
    let p = temp_file("bad.toml", "name = \"x\"\n[provider]\nkind = \"okta\"\n");
    let (code, _, err) = authrace(&["check", p.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.toml:3:8:"), "{err}");
    assert!(err.contains("better-auth"), "lists accepted values: {err}");
}

#[test]
fn unknown_function_is_reported_at_the_query_key() {
    let p = temp_file(
        "unknown-fn.toml",
        "name = \"x\"\n[[function]]\nname = \"q:a\"\nauth = \"required\"\n[[component]]\nname = \"C\"\nquery = \"q:b\"\n",
    );
    let (code, _, err) = authrace(&["check", p.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown-fn.toml:7:9: component `C` queries unknown function `q:b`"),
        "{err}"
    );
}

#[test]
fn missing_file_and_bad_usage_exit_2() {
    let (code, _, err) = authrace(&["check", "models/nope.toml"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = authrace(&["check"]);
    assert_eq!(code, 2);
    let (code, _, _) = authrace(&["frobnicate"]);
    assert_eq!(code, 2);
}

#[test]
fn a_state_limit_gives_unknown_and_exit_3() {
    let (code, out, _) = authrace(&[
        "check",
        "models/matrix/current-user-socket-drop.toml",
        "--max-states",
        "50",
        "--format",
        "json",
    ]);
    assert_eq!(code, 3, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["complete"], false);
    assert!(
        v["properties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["verdict"] == "unknown")
    );
}

#[test]
fn trace_prints_counterexamples_and_witnesses() {
    let (code, out, err) = authrace(&[
        "trace",
        "models/seed-better-auth-ungated.toml",
        "--property",
        "query-runs-authenticated",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["kind"], "counterexample");
    assert_eq!(v["verdict"], "violated");
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4);
    let last = &steps[3];
    assert_eq!(last["actor"], "Client -> Server");
    let events = last["events"].as_array().unwrap();
    assert_eq!(events[0]["arrow"], true);
    assert_eq!(events[0]["from"], "Client");
    assert_eq!(events[0]["to"], "Server");
    assert_eq!(
        events.last().unwrap()["violates"],
        "query-runs-authenticated"
    );

    // A property that holds: a witness that it was exercised.
    let (code, out, _) = authrace(&[
        "trace",
        "models/seed-better-auth-ungated.toml",
        "--property",
        "eventually-authenticated",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("witness of eventually-authenticated"),
        "{out}"
    );
    assert!(out.contains("onAuthChange(true)"), "{out}");

    // A vacuous property has nothing to show.
    let (code, _, err) = authrace(&[
        "trace",
        "models/seed-better-auth-ungated.toml",
        "--property",
        "user-row-ready",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("user-row-ready is vacuous"), "{err}");

    let (code, _, err) = authrace(&[
        "trace",
        "models/seed-better-auth-ungated.toml",
        "--property",
        "nope",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown property `nope`"), "{err}");
}

#[test]
fn diagram_draws_each_actor_in_both_formats() {
    for actor in ["provider", "client", "app", "server"] {
        let (code, out, err) = authrace(&[
            "diagram",
            "models/seed-better-auth-ungated.toml",
            "--actor",
            actor,
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(out.starts_with("stateDiagram-v2\n"), "{out}");
        assert!(out.contains("[*] --> s"), "{out}");
        let (code, dot, _) = authrace(&[
            "diagram",
            "models/seed-better-auth-ungated.toml",
            "--actor",
            actor,
            "--format",
            "dot",
        ]);
        assert_eq!(code, 0);
        assert!(dot.starts_with(&format!("digraph {actor} {{")), "{dot}");
        assert!(dot.trim_end().ends_with('}'));
    }
    let (code, _, err) = authrace(&[
        "diagram",
        "models/seed-better-auth-ungated.toml",
        "--actor",
        "network",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("accepted: provider, client, app, server"),
        "{err}"
    );
}

#[test]
fn suggest_flag_prints_fixes() {
    let (code, out, _) = authrace(&["check", "models/seed-better-auth-ungated.toml", "--suggest"]);
    assert_eq!(code, 0);
    assert!(out.contains("suggestions:"), "{out}");
    assert!(
        out.contains("OrganizationsList: gate none -> convex-auth makes all properties hold"),
        "{out}"
    );
    let (_, json, _) = authrace(&[
        "check",
        "models/seed-better-auth-ungated.toml",
        "--suggest",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["suggestions"]["fixes"].as_array().unwrap().len() >= 3);
}
