//! The `authrace` binary: exit codes, output formats, errors with positions.

use std::process::Command;

use crate::common::{authrace, root, temp_file};

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
    assert_eq!(
        props.len(),
        authrace::scenario::properties::PropertyId::ALL.len()
    );
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
    let back: authrace::check::report::Report = serde_json::from_str(&out).unwrap();
    assert_eq!(
        back.properties.len(),
        authrace::scenario::properties::PropertyId::ALL.len()
    );
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
    assert_eq!(steps.len(), 5);
    let last = &steps[4];
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

/// `authrace schema` is a JSON Schema that every file in models/ satisfies
/// (checked by ajv, an independent validator), and that rejects what the
/// loader rejects.
#[test]
fn schema_accepts_every_model_and_rejects_bad_shapes() {
    let (code, schema, _) = authrace(&["schema"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&schema).unwrap();
    assert_eq!(v["required"], serde_json::json!(["name"]));
    let dir = std::env::temp_dir().join(format!("authrace-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("schema.json"), &schema).unwrap();
    let mut docs = serde_json::Map::new();
    for f in crate::common::model_files() {
        let t: toml::Value = toml::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        docs.insert(f.display().to_string(), serde_json::to_value(t).unwrap());
    }
    docs.insert(
        "starter".into(),
        serde_json::to_value(toml::from_str::<toml::Value>(authrace::scenario::STARTER).unwrap())
            .unwrap(),
    );
    let n = docs.len();
    std::fs::write(
        dir.join("docs.json"),
        serde_json::Value::Object(docs).to_string(),
    )
    .unwrap();
    let run = |docs: &str| {
        Command::new("node")
            .arg("schema.mjs")
            .arg(dir.join("schema.json"))
            .arg(dir.join(docs))
            .current_dir(root().join("tests/browser"))
            .output()
            .expect("node runs")
    };
    let out = run("docs.json");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(&format!("{n} valid")));
    let bad = serde_json::json!({
        "unknown key": {"name": "x", "nmae": "y"},
        "bad gate": {"name": "x", "component": [{"name": "C", "query": "q", "gate": "sometimes"}]},
        "budget": {"name": "x", "faults": {"socket_drops": 9}},
        "no name": {"provider": {"kind": "clerk"}},
        "bad verdict": {"name": "x", "expect": {"stable-auth": "fine"}},
    });
    std::fs::write(dir.join("bad.json"), bad.to_string()).unwrap();
    let out = run("bad.json");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("0 valid, 5 invalid"));
}

#[test]
fn init_writes_a_starter_that_checks_as_written() {
    let dir = std::env::temp_dir().join(format!("authrace-init-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("starter.toml");
    let _ = std::fs::remove_file(&p);
    let (code, out, _) = authrace(&["init", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = authrace(&["check", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("query-runs-authenticated   safety    violated (as expected)"),
        "{out}"
    );
    // It does not overwrite without --force.
    let (code, _, err) = authrace(&["init", p.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("pass --force"), "{err}");
    let (code, _, _) = authrace(&["init", p.to_str().unwrap(), "--force"]);
    assert_eq!(code, 0);
    // The suggestions it points to really fix it.
    let (_, out, _) = authrace(&["check", p.to_str().unwrap(), "--suggest"]);
    assert!(
        out.contains("OrganizationsList: gate none -> convex-auth makes all properties hold"),
        "{out}"
    );
}

/// A scenario big enough that limits stop it (its liveness graph has tens of
/// millions of states).
const BIG: &str = r#"name = "big"
[provider]
kind = "clerk"
at_load = "loading"
switch_user = true
sign_out = true
[app]
store_user = true
[faults]
socket_drops = 2
refreshes = 1
reject_tokens = 1
expiries = 1
[[function]]
name = "q:f"
auth = "user-row"
[[component]]
name = "C"
query = "q:f"
gate = "current-user"
instances = 2
"#;

fn assert_partial(out: &str, why: &str) {
    let v: serde_json::Value = serde_json::from_str(out).unwrap();
    assert_eq!(v["complete"], false, "{out}");
    let props = v["properties"].as_array().unwrap();
    assert!(
        props
            .iter()
            .any(|p| p["verdict"] == "unknown"
                && p["reason"].as_str().is_some_and(|r| r.contains(why))),
        "no property unknown because of {why}: {out}"
    );
    assert!(v["stats"]["states"].as_u64().unwrap() > 0);
}

#[test]
fn timeout_and_memory_limits_stop_with_a_partial_report() {
    let p = temp_file("big.toml", BIG);
    let (code, out, _) = authrace(&[
        "check",
        p.to_str().unwrap(),
        "--timeout",
        "0.3",
        "--format",
        "json",
    ]);
    assert!(code == 3 || code == 1, "exit {code}");
    assert_partial(&out, "timeout");
    let (code, out, _) = authrace(&[
        "check",
        p.to_str().unwrap(),
        "--max-memory",
        "1MiB",
        "--format",
        "json",
    ]);
    assert!(code == 3 || code == 1, "exit {code}");
    assert_partial(&out, "--max-memory");
    let (code, _, err) = authrace(&["check", p.to_str().unwrap(), "--max-memory", "lots"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a size"), "{err}");
}

#[test]
fn ctrl_c_stops_with_a_partial_report() {
    let p = temp_file("big-interrupt.toml", BIG);
    let child = Command::new(env!("CARGO_BIN_EXE_authrace"))
        .args(["check", p.to_str().unwrap(), "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let code = out.status.code().expect("exited, not killed by the signal");
    assert!(code == 3 || code == 1, "exit {code}");
    assert_partial(&String::from_utf8_lossy(&out.stdout), "interrupted");
}

/// Each class of scenario error: message and position asserted, and all
/// errors of one file reported together.
#[test]
fn every_error_class_has_a_message_and_a_position() {
    use authrace::scenario::Scenario;
    let errs = |text: &str| -> Vec<(usize, usize, String)> {
        Scenario::parse(std::path::Path::new("e.toml"), text)
            .expect_err("invalid")
            .into_iter()
            .map(|e| (e.line, e.column, e.message))
            .collect()
    };
    // TOML syntax.
    let e = errs("name = \"x\"\n[provider\n");
    assert_eq!((e[0].0, e[0].1), (2, 10), "{e:?}");
    // Unknown key, with a suggestion; wrong type; unknown enum value with
    // the accepted ones; out-of-range budget; all in one file.
    let e = errs(
        "name = \"x\"\n[provider]\nknd = \"clerk\"\nsign_out = 1\nat_load = \"loadng\"\n[faults]\nexpiries = 4\n",
    );
    assert_eq!(e.len(), 4, "{e:?}");
    assert_eq!((e[0].0, e[0].1), (3, 1));
    assert!(
        e[0].2
            .contains("unknown key `provider.knd`: did you mean `kind`?"),
        "{e:?}"
    );
    assert_eq!((e[1].0, e[1].1), (4, 12));
    assert!(e[1].2.contains("must be a boolean"), "{e:?}");
    assert_eq!((e[2].0, e[2].1), (5, 11));
    assert!(e[2].2.contains("accepted values: \"loading\", \"signed-in\", \"signed-out\" (did you mean \"loading\"?)"), "{e:?}");
    assert_eq!((e[3].0, e[3].1), (7, 12));
    assert!(e[3].2.contains("out of range: 0 to 3"), "{e:?}");
    // Unknown function, a reserved name, duplicate names.
    let e = errs(
        "name = \"x\"\n[[function]]\nname = \"q:a\"\nauth = \"none\"\n[[function]]\nname = \"q:a\"\nauth = \"none\"\n[[component]]\nname = \"C\"\nquery = \"q:b\"\ngate = \"current-user\"\n[[function]]\nname = \"users:store\"\nauth = \"none\"\n",
    );
    assert_eq!(e.len(), 3, "{e:?}");
    assert_eq!((e[0].0, e[0].1), (6, 8));
    assert!(e[0].2.contains("duplicate function `q:a`"));
    assert_eq!((e[1].0, e[1].1), (13, 8));
    assert!(e[1].2.contains("`users:store` is reserved"), "{e:?}");
    assert_eq!((e[2].0, e[2].1), (10, 9));
    assert!(
        e[2].2
            .contains("queries unknown function `q:b`; declared functions: q:a")
    );
    // A missing required key, and an unknown property in [expect].
    let e = errs("[provider]\nkind = \"clerk\"\n[expect]\nstable-auht = \"holds\"\n");
    assert!(
        e.iter()
            .any(|x| x.2.starts_with("missing key `name` in the scenario")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|x| x.2.contains("did you mean `stable-auth`?")),
        "{e:?}"
    );
    // Through the CLI: exit 2, file:line:col, the offending line shown.
    let p = temp_file("errs.toml", "name = \"x\"\n[provider]\nknd = \"clerk\"\n");
    let (code, _, err) = authrace(&["check", p.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("errs.toml:3:1: unknown key `provider.knd`: did you mean `kind`?"),
        "{err}"
    );
    assert!(err.contains("3 | knd = \"clerk\""), "{err}");
}
