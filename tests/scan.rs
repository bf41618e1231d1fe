//! `authrace scan` on fixture apps written for this project
//! (`tests/fixtures/apps/<app>/`): the text report (without traces or
//! timings) and the facts per call site are pinned next to each app in
//! `expected.txt` and `expected.json`. `AUTHRACE_BLESS=1` rewrites them;
//! review the diff by reading the fixture, not the tool's output.

use std::path::{Path, PathBuf};

use authrace::scan::{self, ScanOptions, report};
use authrace::scenario::Scenario;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::common::root;

fn apps() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures/apps"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn facts(r: &scan::ScanReport) -> serde_json::Value {
    serde_json::Value::Array(
        r.analysis
            .sites
            .iter()
            .map(|s| {
                serde_json::json!({
                    "file": s.file, "line": s.line, "column": s.column, "hook": s.hook,
                    "function": s.function, "auth": s.auth, "gate": s.gate.label(),
                })
            })
            .collect(),
    )
}

fn scan_app(dir: &Path) -> scan::ScanReport {
    let mut a = scan::analyse_dir(dir).unwrap();
    a.root = PathBuf::from(dir.file_name().unwrap());
    scan::check_analysis(a, &ScanOptions::default())
}

#[test]
fn fixture_apps_match_their_pinned_findings() {
    let bless = std::env::var("AUTHRACE_BLESS").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    for app in apps() {
        let r = scan_app(&app);
        let text = report::text_with(&r, false, false);
        let json = serde_json::to_string_pretty(&facts(&r)).unwrap() + "\n";
        for (name, got) in [("expected.txt", &text), ("expected.json", &json)] {
            let path = app.join(name);
            if bless {
                std::fs::write(&path, got).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            if &want != got {
                failures.push(format!(
                    "{}:\n--- want\n{want}\n--- got\n{got}",
                    path.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What each fixture is for, asserted on its own (so a bless cannot quietly change it).
#[test]
fn fixture_gates_and_classes_are_the_ones_the_code_shows() {
    let r = scan_app(&root().join("tests/fixtures/apps/clerk-dashboard"));
    let a = &r.analysis;
    let gate = |file: &str| {
        a.sites
            .iter()
            .filter(|s| s.file.ends_with(file))
            .map(|s| (s.function.clone().unwrap_or_default(), s.gate.label()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        gate("BillingHistory.tsx"),
        [("credits:getTransactionHistory".into(), "none".into())]
    );
    assert_eq!(
        gate("Settings.tsx"),
        [(
            "credits:getTransactionHistory".into(),
            "authenticated".into()
        )]
    );
    assert_eq!(gate("Shared.tsx"), [("teams:mine".into(), "none".into())]);
    assert_eq!(
        gate("Profile.tsx"),
        [("credits:getTransactionHistory".into(), "provider".into())]
    );
    assert_eq!(
        gate("Me.tsx"),
        [
            ("users:current".into(), "none".into()),
            ("teams:mine".into(), "current-user".into())
        ]
    );
    assert_eq!(
        gate("Team.tsx"),
        [
            ("teams:mine".into(), "convex-auth".into()),
            ("teams:members".into(), "convex-auth".into())
        ]
    );
    let auth = |n: &str| {
        a.functions
            .iter()
            .find(|f| f.name == n)
            .unwrap()
            .auth
            .as_str()
    };
    assert_eq!(auth("credits:getTransactionHistory"), "required");
    assert_eq!(auth("teams:mine"), "user-row");
    assert_eq!(auth("users:current"), "optional");
    assert_eq!(auth("posts:listPublic"), "none");
    assert_eq!(a.client.kind.as_str(), "clerk");
    assert!(a.client.store_user, "the users-store effect is found");
    // The public feed never reads the identity: no risk.
    let feed = a
        .sites
        .iter()
        .position(|s| s.file.ends_with("Feed.tsx"))
        .unwrap();
    assert!(r.risks[feed].is_empty());
    // The ungated billing history is at risk at first load, and a gate fixes it.
    let bill = a
        .sites
        .iter()
        .position(|s| s.file.ends_with("BillingHistory.tsx"))
        .unwrap();
    let first = r.risks[bill]
        .iter()
        .find(|k| k.trigger == scan::Trigger::FirstLoad)
        .unwrap();
    assert_eq!(first.property.as_str(), "query-runs-authenticated");
    assert!(first.fix.is_some());

    let r = scan_app(&root().join("tests/fixtures/apps/next-convex-auth"));
    let a = &r.analysis;
    assert_eq!(a.client.kind.as_str(), "convex-auth");
    assert!(
        a.client.ssr_token,
        "ConvexAuthNextjsServerProvider gives a server token"
    );
    let auth = |n: &str| {
        a.functions
            .iter()
            .find(|f| f.name == n)
            .unwrap()
            .auth
            .as_str()
    };
    assert_eq!(
        auth("tasks:list"),
        "required",
        "through the project's customQuery builder"
    );
    assert_eq!(auth("tasks:count"), "optional");
    let dash = a
        .sites
        .iter()
        .find(|s| s.file.contains("dashboard/page"))
        .unwrap();
    assert_eq!(
        dash.gate.label(),
        "authenticated",
        "the dashboard layout returns early"
    );
    let home = a.sites.iter().find(|s| s.file == "app/page.tsx").unwrap();
    assert_eq!(home.gate.label(), "none");
    assert_eq!(
        a.outside.len(),
        1,
        "preloadQuery is listed as outside the model"
    );

    let r = scan_app(&root().join("tests/fixtures/apps/negative"));
    assert_eq!(r.findings(), 0);
}

/// `(function, gate)` of every call site in files ending with `file`.
fn gates_in(a: &scan::Analysis, file: &str) -> Vec<(String, String)> {
    a.sites
        .iter()
        .filter(|s| s.file.ends_with(file))
        .map(|s| (s.function.clone().unwrap_or_default(), s.gate.label()))
        .collect()
}

fn auth_of(a: &scan::Analysis, name: &str) -> String {
    a.functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no function {name}"))
        .auth
        .as_str()
        .to_string()
}

fn risks_in(r: &scan::ScanReport, file: &str) -> usize {
    r.analysis
        .sites
        .iter()
        .enumerate()
        .filter(|(_, s)| s.file.ends_with(file))
        .map(|(i, _)| r.risks[i].len())
        .sum()
}

fn pair(f: &str, g: &str) -> (String, String) {
    (f.to_string(), g.to_string())
}

/// The apps added for the rest of the list: Auth0 with
/// `expectAuth` and a webhook users table; Better Auth under Next.js with an
/// `initialToken` and `fetchQuery`; AuthKit with an ancestor's early return
/// and a skip on a prop; a custom `ConvexProviderWithAuth`; Clerk's
/// `useUser()`. Each fact asserted here is what the fixture's code shows.
#[test]
fn fixture_apps_cover_each_provider_and_gate_style() {
    // Auth0, expectAuth, a webhook that writes the users table.
    let r = scan_app(&root().join("tests/fixtures/apps/auth0-expect-auth"));
    let a = &r.analysis;
    assert_eq!(
        a.client.kind.as_str(),
        "custom",
        "Auth0 is checked as custom"
    );
    assert_eq!(a.client.element.as_deref(), Some("ConvexProviderWithAuth0"));
    assert!(a.client.expect_auth);
    assert!(!a.client.store_user);
    assert_eq!(a.client.user_rows.as_str(), "webhook");
    assert!(a.client.user_rows_why.contains("users:upsertFromWebhook"));
    assert_eq!(
        auth_of(a, "orders:list"),
        "required",
        "helper in model/auth.ts"
    );
    assert_eq!(
        auth_of(a, "users:me"),
        "user-row",
        "ensureUser throws on no row"
    );
    assert_eq!(auth_of(a, "orders:prices"), "none");
    assert_eq!(gates_in(a, "Orders.tsx"), [pair("orders:list", "provider")]);
    assert_eq!(
        gates_in(a, "Account.tsx"),
        [
            pair("users:me", "authenticated"),
            pair("users:me", "convex-auth")
        ],
        "a child below the early return is mounted only when authenticated; the query below it is skipped until then"
    );
    assert_eq!(
        gates_in(a, "Header.tsx"),
        [pair("users:me", "none")],
        "a query above the early return is not gated by it"
    );
    assert_eq!(risks_in(&r, "Prices.tsx"), 0, "negative control");
    let header = a
        .sites
        .iter()
        .position(|s| s.file.ends_with("Header.tsx"))
        .unwrap();
    assert!(
        r.risks[header]
            .iter()
            .all(|k| k.trigger != scan::Trigger::FirstLoad),
        "expectAuth holds every query until the first token"
    );

    // Better Auth in Next.js: an initialToken, layouts, fetchQuery.
    let r = scan_app(&root().join("tests/fixtures/apps/better-auth-next"));
    let a = &r.analysis;
    assert_eq!(a.client.kind.as_str(), "better-auth");
    assert!(a.client.ssr_token, "initialToken is a server token");
    assert_eq!(a.client.user_rows.as_str(), "existing");
    assert_eq!(auth_of(a, "notes:mine"), "required");
    assert_eq!(auth_of(a, "notes:count"), "optional");
    assert!(
        a.functions
            .iter()
            .any(|f| f.why.contains("authComponent.safeGetAuthUser"))
    );
    assert_eq!(
        gates_in(a, "notes/page.tsx"),
        [pair("notes:mine", "provider"), pair("notes:count", "none")]
    );
    assert_eq!(
        gates_in(a, "NoteList.tsx"),
        [pair("notes:mine", "none")],
        "rendered under the (dashboard) layout's early return and by the public page: the weakest"
    );
    assert_eq!(a.outside.len(), 1, "fetchQuery runs on the server");
    assert_eq!(
        risks_in(&r, "notes/page.tsx"),
        3,
        "only the gated required query's"
    );

    // AuthKit: an ancestor that returns early, a skip on a prop.
    let r = scan_app(&root().join("tests/fixtures/apps/authkit-vite"));
    let a = &r.analysis;
    assert_eq!(a.client.kind.as_str(), "authkit");
    assert_eq!(
        auth_of(a, "projects:list"),
        "required",
        "the project's own `query` from functions.ts throws without identity"
    );
    assert_eq!(auth_of(a, "projects:featured"), "none");
    assert_eq!(
        gates_in(a, "Sidebar.tsx"),
        [pair("projects:list", "provider")]
    );
    assert_eq!(
        gates_in(a, "Dashboard.tsx"),
        [pair("projects:list", "authenticated")]
    );
    assert_eq!(
        gates_in(a, "ProjectCard.tsx"),
        [pair("projects:tasks", "authenticated")],
        "two levels below the ancestor's early return"
    );
    assert_eq!(
        gates_in(a, "TaskList.tsx"),
        [pair("projects:tasks", "unknown")]
    );
    let tl = a
        .sites
        .iter()
        .find(|s| s.file.ends_with("TaskList.tsx"))
        .unwrap();
    assert!(tl.gate_why.contains("projectId"), "{}", tl.gate_why);
    assert_eq!(risks_in(&r, "Featured.tsx"), 0, "negative control");

    // A custom ConvexProviderWithAuth; usePaginatedQuery and the cached useQuery.
    let r = scan_app(&root().join("tests/fixtures/apps/custom-provider"));
    let a = &r.analysis;
    assert_eq!(a.client.kind.as_str(), "custom");
    assert_eq!(a.client.element.as_deref(), Some("ConvexProviderWithAuth"));
    assert_eq!(
        gates_in(a, "App.tsx"),
        [
            pair("inbox:announcements", "none"),
            pair("inbox:unreadCount", "none"),
            pair("inbox:messages", "convex-auth"),
            pair("inbox:thread", "none"),
            pair("search:messages", "authenticated"),
        ]
    );
    assert_eq!(auth_of(a, "inbox:unreadCount"), "optional");
    assert_eq!(
        auth_of(a, "search:messages"),
        "required",
        "through a zCustomQuery builder whose context throws"
    );
    let at_risk: Vec<&str> = a
        .sites
        .iter()
        .enumerate()
        .filter(|(i, _)| !r.risks[*i].is_empty())
        .map(|(_, s)| s.function.as_deref().unwrap())
        .collect();
    assert_eq!(
        at_risk,
        ["inbox:messages", "inbox:thread", "search:messages"]
    );

    // Clerk's useUser().
    let r = scan_app(&root().join("tests/fixtures/apps/clerk-dashboard"));
    assert_eq!(
        gates_in(&r.analysis, "Avatar.tsx"),
        [pair("teams:mine", "provider")]
    );
}

#[test]
fn emitted_scenarios_load_and_recheck() {
    let r = scan_app(&root().join("tests/fixtures/apps/clerk-dashboard"));
    let files = report::scenarios(&r);
    assert!(!files.is_empty());
    let dir = std::env::temp_dir().join(format!("authrace-emit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files.iter().take(12) {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        let s = Scenario::load(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(text.contains("src/"), "{name} cites the call sites");
        let report = authrace::check::check(&p, &s, &Default::default());
        assert!(report.complete);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sarif_has_the_required_shape() {
    let r = scan_app(&root().join("tests/fixtures/apps/clerk-dashboard"));
    let v = report::sarif(&r);
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "authrace");
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for res in results {
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], res["ruleId"]);
        assert!(res["message"]["text"].as_str().unwrap().starts_with("use"));
        assert!(
            res["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
                > 0
        );
    }
}

/// The SARIF 2.1.0 JSON schema vendored in `tests/sarif/` (see its README
/// for where it comes from), format checks on (`uri`, `uri-reference`,
/// `date-time`...). One correction is made in memory, the one OASIS made
/// in Errata 01: the `language` pattern `^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`
/// (a stray `]`, which the crate's meta-schema check rejects, so the schema
/// would not compile) becomes `^[a-zA-Z]{2}(-[a-zA-Z]{2})?$`.
fn sarif_validator() -> jsonschema::Validator {
    let mut schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/sarif/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    for def in ["run", "toolComponent"] {
        let pattern = &mut schema["definitions"][def]["properties"]["language"]["pattern"];
        assert_eq!(pattern, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$", "{def}");
        *pattern = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into();
    }
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the vendored schema compiles")
}

fn schema_errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Every fixture app's SARIF log, and one for an app whose file names need
/// escaping in a URI (Next.js dynamic segments, spaces), is valid SARIF
/// 2.1.0; and the validator does reject what the schema forbids.
#[test]
fn sarif_validates_against_the_official_schema() {
    let v = sarif_validator();
    let mut checked = 0;
    for app in apps() {
        let r = scan_app(&app);
        let doc = report::sarif(&r);
        let errs = schema_errors(&v, &doc);
        assert!(errs.is_empty(), "{}: {errs:#?}", app.display());
        let results = doc["runs"][0]["results"].as_array().unwrap();
        for res in results {
            // Errata 01 also requires a region to say where it starts.
            let region = &res["locations"][0]["physicalLocation"]["region"];
            assert!(region["startLine"].as_u64().unwrap() >= 1, "{res}");
        }
        checked += results.len();
    }
    assert!(checked > 0, "some fixture has results to validate");

    let dir = std::env::temp_dir().join(format!("authrace-sarif-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let page = dir.join("app/teams/[teamId]/my page.tsx");
    std::fs::create_dir_all(page.parent().unwrap()).unwrap();
    std::fs::create_dir_all(dir.join("convex")).unwrap();
    std::fs::write(
        dir.join("convex/teams.ts"),
        "import { query } from \"./_generated/server\";\nexport const get = query({ args: {}, handler: async (ctx) => { const id = await ctx.auth.getUserIdentity(); if (!id) throw new Error(\"no\"); return 1; } });\n",
    )
    .unwrap();
    std::fs::write(&page, "import { useQuery } from \"convex/react\";\nimport { api } from \"../../../convex/_generated/api\";\nexport default function P() { const t = useQuery(api.teams.get); return <p>{t}</p>; }\n").unwrap();
    let r = scan_app(&dir);
    std::fs::remove_dir_all(&dir).ok();
    assert!(r.findings() > 0);
    let doc = report::sarif(&r);
    let errs = schema_errors(&v, &doc);
    assert!(errs.is_empty(), "{errs:#?}");
    let uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"]
        .as_str()
        .unwrap();
    assert_eq!(uri, "app/teams/%5BteamId%5D/my%20page.tsx");

    // The validator has teeth: a log the schema forbids is rejected.
    let mut bad = doc.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    bad["runs"][0]["tool"]["driver"]
        .as_object_mut()
        .unwrap()
        .remove("name");
    assert_eq!(
        schema_errors(&v, &bad).len(),
        3,
        "{:#?}",
        schema_errors(&v, &bad)
    );
}

/// A repository is untrusted input: every hostile file is skipped and
/// reported, and the rest is still read.
#[test]
fn hostile_trees_are_reported_not_fatal() {
    let dir = std::env::temp_dir().join(format!("authrace-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src/loop")).unwrap();
    std::fs::write(dir.join("src/bad.ts"), [0x66u8, 0x6f, 0xff, 0xfe, 0x0a]).unwrap();
    std::fs::write(
        dir.join("src/broken.tsx"),
        "export function A( { return <div> }",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/deep.ts"),
        format!(
            "export const x = {}1{};",
            "(".repeat(100_000),
            ")".repeat(100_000)
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/bangs.ts"),
        format!("export const y = {}x;", "!".repeat(500_000)),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/ternary.ts"),
        format!("export const z = {}0;", "a ? b : ".repeat(40_000)),
    )
    .unwrap();
    std::fs::write(dir.join("src/big.js"), "x".repeat(2 << 20)).unwrap();
    std::fs::write(
        dir.join("src/gen.ts"),
        "// @generated by a tool\nexport const a = 1;\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/ok.tsx"), "import { useQuery } from \"convex/react\";\nimport { api } from \"../convex/_generated/api\";\nexport function A() { useQuery(api.x.y); return null; }\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&dir, dir.join("src/loop/again")).unwrap();
    let a = scan::analyse_dir(&dir).unwrap();
    let skipped: Vec<&str> = a.skipped.iter().map(|s| s.file.as_str()).collect();
    for f in [
        "src/bad.ts",
        "src/broken.tsx",
        "src/deep.ts",
        "src/bangs.ts",
        "src/big.js",
        "src/gen.ts",
    ] {
        assert!(skipped.contains(&f), "{f} not reported: {:?}", a.skipped);
    }
    assert!(!a.functions_dir_found, "there is no convex/ folder");
    assert_eq!(a.sites.len(), 1, "the readable file is still analysed");
    assert_eq!(a.sites[0].auth.as_str(), "unknown");
    std::fs::remove_dir_all(&dir).ok();
}

fn seeds() -> Vec<String> {
    let mut out = Vec::new();
    for app in apps() {
        for e in ignore::Walk::new(&app).flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "ts" || x == "tsx") {
                out.push(std::fs::read_to_string(p).unwrap());
            }
        }
    }
    out
}

/// The front end never panics or hangs on random and mutated TS/TSX.
#[test]
fn front_end_survives_random_and_mutated_sources() {
    let seeds = seeds();
    let cases: u32 = std::env::var("SCAN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strat = (
        0..seeds.len(),
        any::<usize>(),
        any::<usize>(),
        "[ -~\n]{0,40}",
        any::<bool>(),
    );
    runner
        .run(&strat, |(i, a, b, insert, tsx)| {
            let s = &seeds[i];
            let (x, y) = (a % (s.len() + 1), b % (s.len() + 1));
            let (lo, hi) = (x.min(y), x.max(y));
            let (lo, hi) = (floor(s, lo), floor(s, hi));
            let mutated = format!("{}{}{}", &s[..lo], insert, &s[hi..]);
            let path = if tsx { "src/A.tsx" } else { "convex/a.ts" };
            let a = scan::analyse_sources(&[(path, &mutated), ("convex/b.ts", s)]);
            prop_assert!(a.files + a.skipped.len() >= 1);
            Ok(())
        })
        .unwrap();
    // Pure noise too.
    runner
        .run(&"[ -~\n]{0,400}", |noise| {
            let a = scan::analyse_sources(&[("src/N.tsx", &noise)]);
            prop_assert!(a.files + a.skipped.len() == 1);
            Ok(())
        })
        .unwrap();
}

fn floor(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The benchmark's 250-file app (`scan::synth`, timed by `authrace bench`):
/// read whole, every call site with the gate its code shows, and the checks
/// shared across call sites of the same class (auth class and gate).
#[test]
fn the_250_file_benchmark_app_is_read_whole_and_checked_per_class() {
    use authrace::scan::synth;
    let dir = std::env::temp_dir().join(format!("authrace-big-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    synth::write_app(&dir, synth::BENCH_MODULES, synth::BENCH_COMPONENTS).unwrap();
    let a = scan::analyse_dir(&dir).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(a.files, 250);
    assert!(a.skipped.is_empty(), "{:?}", a.skipped);
    assert_eq!(a.functions.len(), 50);
    let count = |auth: &str| {
        a.functions
            .iter()
            .filter(|f| f.auth.as_str() == auth)
            .count()
    };
    assert_eq!((count("required"), count("optional")), (17, 33));
    assert_eq!(a.client.kind.as_str(), "clerk");
    assert_eq!(a.sites.len(), 199);
    for (i, s) in a.sites.iter().enumerate() {
        let n: usize = s
            .file
            .trim_start_matches("src/features/C")
            .trim_end_matches(".tsx")
            .parse()
            .unwrap();
        let want = ["none", "convex-auth", "provider"][n % 3];
        assert_eq!(s.gate.label(), want, "site {i}: {}", s.file);
        assert_eq!(
            s.function.as_deref(),
            Some(format!("m{}:get", n % 50).as_str())
        );
    }
    let r = scan::check_analysis(a, &ScanOptions::default());
    assert!(r.incomplete.is_empty());
    // 6 classes x 8 triggers at most for the call sites, then the fix
    // candidates of the classes at risk: far fewer than one per site.
    assert!(
        r.checks * 10 < r.analysis.sites.len() * 8,
        "{} checks",
        r.checks
    );
    // Sites of one class share their verdicts.
    let mut by_class: std::collections::BTreeMap<(String, String), Vec<String>> =
        Default::default();
    for (i, s) in r.analysis.sites.iter().enumerate() {
        let risks: Vec<String> = r.risks[i]
            .iter()
            .map(|k| format!("{}/{}", k.property, k.trigger.as_str()))
            .collect();
        let key = (s.auth.as_str().to_string(), s.gate.label());
        let prev = by_class.entry(key.clone()).or_insert_with(|| risks.clone());
        assert_eq!(prev, &risks, "{key:?}");
    }
    assert_eq!(by_class.len(), 6);
    let ungated_required = &by_class[&("required".to_string(), "none".to_string())];
    assert!(ungated_required.contains(&"query-runs-authenticated/first-load".to_string()));
    assert!(
        by_class[&("optional".to_string(), "none".to_string())]
            .iter()
            .all(|k| !k.starts_with("query-runs-authenticated")),
        "an optional function may run unauthenticated"
    );
}

/// `authrace bench --only scan` measures the scan alone: its rows and its
/// two targets, each stated met or not (the times are the benchmark's, not
/// asserted here).
#[test]
fn bench_only_scan_states_its_rows_and_targets() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_authrace"))
        .args(["bench", "--only", "scan"])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("## `authrace scan`"), "{md}");
    for row in [
        "| reading: parse and semantic analysis of every file",
        "| the whole scan |",
    ] {
        assert!(md.contains(row), "no row `{row}`:\n{md}");
    }
    let targets = md.split("## Targets").nth(1).expect("a Targets section");
    for t in [
        "a 250-file app scanned, all triggers checked, in under 5 s",
        "reading a 250-file app (parse and semantic analysis of every file) in under 50 ms",
    ] {
        let line = targets
            .lines()
            .find(|l| l.contains(t))
            .unwrap_or_else(|| panic!("`{t}` not stated:\n{md}"));
        assert!(
            line.ends_with("| yes |") || line.ends_with("| **no** |"),
            "{line}"
        );
    }
    assert!(!md.contains("models/"), "only the scan part runs");
}
