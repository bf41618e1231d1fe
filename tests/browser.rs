//! The explorer in headless Chromium (Debian `chromium`, driven by npm
//! `playwright-core`; `scripts/test.sh` installs both). Screenshots are
//! written to `tests/artifacts/`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::common::root;

struct Killed(std::process::Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `authrace explore` on `scenario` on a free port: its URL and the
/// process (ended when dropped).
fn explorer(scenario: &str) -> (String, Killed) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authrace"))
        .args(["explore", scenario, "--addr", "127.0.0.1:0"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .spawn()
        .expect("explorer starts");
    let stdout = child.stdout.take().unwrap();
    let guard = Killed(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("explorer announced its address: {line}"))
        .to_string();
    (url, guard)
}

#[test]
fn explorer_follows_counterexamples_witnesses_and_imported_traces_in_chromium() {
    let browser_dir = root().join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").exists(),
        "tests/browser/node_modules is missing: run ./scripts/test.sh (it runs `npm ci` there)"
    );
    let (seed, seed_guard) = explorer("models/seed-better-auth-ungated.toml");
    let (live, live_guard) = explorer("models/reports/convex-auth-178-reauth-after-expiry.toml");

    let artifacts = root().join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shots = [
        "explorer-seed-counterexample.png",
        "explorer-bad-path.png",
        "explorer-liveness-continuation.png",
    ];
    for s in shots {
        let _ = std::fs::remove_file(artifacts.join(s));
    }
    let out = Command::new("node")
        .arg("explorer.mjs")
        .arg(&seed)
        .arg(&live)
        .arg(env!("CARGO_BIN_EXE_authrace"))
        .arg(&artifacts)
        .current_dir(&browser_dir)
        .output()
        .expect("node runs");
    drop(seed_guard);
    drop(live_guard);
    assert!(
        out.status.success(),
        "browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for s in shots {
        let png = std::fs::read(artifacts.join(s)).expect("screenshot written");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{s}");
    }
}

/// The explorer's HTTP answers, without a browser: paths, errors, export
/// and import.
#[test]
fn explorer_api_answers_paths_errors_exports_and_imports() {
    use authrace::present::explorer::Explorer;
    use authrace::scenario::properties::PropertyId;
    use serde_json::Value;
    use tiny_http::Method;

    let file = "models/seed-better-auth-ungated.toml";
    let s = crate::common::load(file);
    let ex = Explorer::new(std::path::Path::new(file), &s);
    let get = |url: &str| ex.respond(&Method::Get, url, "");
    let json = |body: &str| serde_json::from_str::<Value>(body).unwrap();

    let (status, _, info) = get("/api/info");
    assert_eq!(status, 200);
    let info = json(&info);
    let hash = info["hash"].as_str().unwrap().to_string();
    let props = info["properties"].as_array().unwrap();
    let cex = props
        .iter()
        .find(|p| p["id"] == "query-runs-authenticated")
        .unwrap();
    assert_eq!(cex["link"]["kind"], "counterexample");
    let path: Vec<u64> = cex["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    // Every property that holds links a witness.
    for p in props.iter().filter(|p| p["verdict"] == "holds") {
        assert_eq!(p["link"]["kind"], "witness", "{p}");
    }
    let joined = path
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join("/");

    // The counterexample's state: the violation is on the path, with its step.
    let (status, _, view) = get(&format!("/api/path/{joined}"));
    assert_eq!(status, 200);
    let view = json(&view);
    assert_eq!(
        view["path_violations"][0]["property"],
        "query-runs-authenticated"
    );
    assert_eq!(view["path_violations"][0]["step"], path.len());

    // Bad paths: 404 with what is wrong and the prefix that exists.
    let (status, _, body) = get(&format!("/api/path/{}/99", path[0]));
    assert_eq!(status, 404);
    let body = json(&body);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("step 2 chooses action 99"),
        "{body}"
    );
    assert_eq!(body["prefix"], serde_json::json!([path[0]]));
    let (status, _, body) = get("/api/path/1/x");
    assert_eq!(status, 404);
    assert!(body.contains("not an action number"), "{body}");
    let (status, ctype, body) = get("/somewhere/else");
    assert_eq!((status, ctype), (404, "text/html; charset=utf-8"));
    assert!(body.contains("href=\"/\""), "a link back: {body}");
    assert_eq!(ex.respond(&Method::Delete, "/api/info", "").0, 405);

    // Export: the steps `authrace trace --format json` prints, and the hash.
    let (status, _, exported) = get(&format!("/api/export/{joined}?p=query-runs-authenticated"));
    assert_eq!(status, 200);
    let exported = json(&exported);
    let report = crate::common::run(&s);
    let steps = report
        .property(PropertyId::QueryRunsAuthenticated)
        .steps
        .clone()
        .unwrap();
    assert_eq!(exported["steps"], serde_json::to_value(&steps).unwrap());
    assert_eq!(exported["kind"], "counterexample");
    assert_eq!(exported["hash"], hash.as_str());

    // Import: the export, a check report, and refusals.
    let (status, _, imported) = ex.respond(&Method::Post, "/api/import", &exported.to_string());
    assert_eq!(status, 200, "{imported}");
    let imported = json(&imported);
    assert_eq!(imported["path"], cex["path"]);
    assert_eq!(imported["property"], "query-runs-authenticated");
    assert!(imported["notice"].is_null());
    let mut stale = exported.clone();
    stale["hash"] = "0000000000000000".into();
    let (_, _, imported) = ex.respond(&Method::Post, "/api/import", &stale.to_string());
    assert!(
        json(&imported)["notice"]
            .as_str()
            .unwrap()
            .contains("0000000000000000")
    );
    let mut renamed = exported.clone();
    renamed["scenario"] = "elsewhere/other.toml".into();
    renamed.as_object_mut().unwrap().remove("hash");
    let (_, _, imported) = ex.respond(&Method::Post, "/api/import", &renamed.to_string());
    assert!(
        json(&imported)["notice"]
            .as_str()
            .unwrap()
            .contains("elsewhere/other.toml")
    );
    let report_json = serde_json::to_string(&report).unwrap();
    let (status, _, imported) = ex.respond(
        &Method::Post,
        "/api/import?p=query-runs-authenticated",
        &report_json,
    );
    assert_eq!(status, 200, "{imported}");
    assert_eq!(json(&imported)["path"], cex["path"]);
    let (status, _, body) = ex.respond(&Method::Post, "/api/import?p=stable-auth", &report_json);
    assert_eq!(status, 422);
    assert!(body.contains("has no trace"), "{body}");
    let (status, _, body) = ex.respond(
        &Method::Post,
        "/api/import",
        "{\"steps\": [{\"actor\": \"React\", \"action\": \"nothing\"}]}",
    );
    assert_eq!(status, 422);
    assert!(
        body.contains("step 1 (React: nothing) matches no enabled action"),
        "{body}"
    );
    let (status, _, body) = ex.respond(&Method::Post, "/api/import", "[1, 2");
    assert_eq!(status, 422);
    assert!(body.contains("not JSON"), "{body}");
    assert_eq!(ex.respond(&Method::Get, "/api/import", "").0, 405);
}

/// A liveness counterexample exports with its `(then)` marks as the CLI
/// prints them, and a marked trace imports back with its marks.
#[test]
fn explorer_exports_and_imports_marked_continuations() {
    use authrace::present::explorer::Explorer;
    use authrace::scenario::properties::PropertyId;
    use serde_json::Value;
    use tiny_http::Method;

    let file = "models/reports/convex-auth-178-reauth-after-expiry.toml";
    let s = crate::common::load(file);
    let ex = Explorer::new(std::path::Path::new(file), &s);
    let json = |body: &str| serde_json::from_str::<Value>(body).unwrap();
    let info = json(&ex.respond(&Method::Get, "/api/info", "").2);
    let ea = info["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "eventually-authenticated")
        .unwrap()
        .clone();
    let then = ea["link"]["then_from"].as_u64().expect("a continuation");
    let joined: Vec<String> = ea["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.to_string())
        .collect();
    let url = format!(
        "/api/export/{}?p=eventually-authenticated&then={then}",
        joined.join("/")
    );
    let (status, _, exported) = ex.respond(&Method::Get, &url, "");
    assert_eq!(status, 200);
    let exported = json(&exported);
    let report = crate::common::run(&s);
    let cli = report
        .property(PropertyId::EventuallyAuthenticated)
        .steps
        .clone()
        .unwrap();
    assert!(cli.iter().any(|s| s.actor.starts_with("(then) ")));
    assert_eq!(exported["steps"], serde_json::to_value(&cli).unwrap());

    let (_, _, imported) = ex.respond(&Method::Post, "/api/import", &exported.to_string());
    let imported = json(&imported);
    assert_eq!(imported["path"], ea["path"]);
    assert_eq!(imported["then_from"], then);
    assert_eq!(imported["mark"], "then");

    // The same path with its tail marked as a cycle round-trips as one.
    let (_, _, cycle) = ex.respond(
        &Method::Get,
        &format!("/api/export/{}?cycle=3", joined.join("/")),
        "",
    );
    let cycle = json(&cycle);
    assert!(
        cycle["steps"][2]["actor"]
            .as_str()
            .unwrap()
            .starts_with("(cycle) ")
    );
    assert!(
        !cycle["steps"][1]["actor"]
            .as_str()
            .unwrap()
            .starts_with('(')
    );
    let (_, _, imported) = ex.respond(&Method::Post, "/api/import", &cycle.to_string());
    let imported = json(&imported);
    assert_eq!(imported["path"], ea["path"]);
    assert_eq!(imported["then_from"], 3);
    assert_eq!(imported["mark"], "cycle");
}
