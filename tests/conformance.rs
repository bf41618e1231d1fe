//! The model against the real client (`tests/conformance/`, npm
//! `convex@1.48.0` under Node): recorded traces must be ones the model can
//! produce, step by step.

use std::path::PathBuf;

use authrace::conformance::{Harness, Schedule, validate};

use crate::common::root;

pub fn harness_dir() -> PathBuf {
    root().join("tests/conformance")
}

pub fn harness() -> Harness {
    assert!(
        harness_dir().join("node_modules/convex").exists(),
        "tests/conformance/node_modules is missing: run ./scripts/test.sh (it runs `npm ci` there)"
    );
    Harness::start(&harness_dir()).expect("node starts")
}

#[test]
fn hand_written_schedules_are_traces_the_model_produces() {
    let mut h = harness();
    let mut files: Vec<PathBuf> = std::fs::read_dir(harness_dir().join("schedules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 5);
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let schedule: Schedule = match serde_json::from_str(&text) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!(
                    "{}: not a client-level schedule the model takes: {e}",
                    f.display()
                ));
                continue;
            }
        };
        let trace = h.run(&schedule).expect("the harness runs");
        if let Err(d) = validate(&schedule, &trace) {
            failures.push(format!("{}: {d}", f.file_name().unwrap().to_string_lossy()));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

mod random {
    use std::cell::RefCell;

    use authrace::conformance::{FnDecl, Options, Schedule, schedule_from_choices, validate};
    use authrace::scenario::{AuthReq, Patch};
    use proptest::prelude::*;
    use proptest::test_runner::{
        Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
    };

    fn functions() -> Vec<FnDecl> {
        vec![
            FnDecl {
                name: "q:req".into(),
                auth: AuthReq::Required,
            },
            FnDecl {
                name: "q:opt".into(),
                auth: AuthReq::Optional,
            },
            FnDecl {
                name: "q:pub".into(),
                auth: AuthReq::None,
            },
        ]
    }

    /// AUTHRACE_SEED (hex), or one from the clock.
    fn seed() -> [u8; 32] {
        match std::env::var("AUTHRACE_SEED") {
            Ok(hex) => {
                let mut s = [0u8; 32];
                for (i, b) in s.iter_mut().enumerate() {
                    *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("00"), 16)
                        .unwrap_or(0);
                }
                s
            }
            Err(_) => {
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos();
                let mut s = [0u8; 32];
                s[..16].copy_from_slice(&t.to_le_bytes());
                s
            }
        }
    }

    /// How many random schedules a test runs: PROPTEST_CASES, or `default`.
    fn cases(default: u32) -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
            .max(1)
    }

    /// A runner of `cases` schedules from `seed` (nothing persisted).
    fn runner(cases: u32, seed: &[u8; 32]) -> TestRunner {
        TestRunner::new_with_rng(
            Config {
                cases,
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, seed),
        )
    }

    /// Panics with the seed, `what`, and the shrunk schedule of a failed run.
    fn fail_on(result: Result<(), TestError<Schedule>>, hex: &str, what: &str) {
        match result {
            Ok(()) => {}
            Err(TestError::Fail(reason, minimal)) => panic!(
                "AUTHRACE_SEED={hex}{what}\n{reason}\nminimal schedule (for `node tests/conformance/run.mjs`):\n{}",
                serde_json::to_string(&minimal).unwrap()
            ),
            Err(e) => panic!("AUTHRACE_SEED={hex}{what}\n{e}"),
        }
    }

    /// Schedules built by walking the model with random choices (see
    /// `schedule_from_choices`): every step kind, mostly applicable.
    pub fn schedule(max_steps: usize) -> impl Strategy<Value = Schedule> {
        schedule_with(max_steps, Vec::new(), None)
    }

    /// [`schedule`] on a client (and a model) with `patches` applied, of
    /// release `version` (1.48.0 when `None`); options a release lacks are
    /// left off.
    pub fn schedule_with(
        max_steps: usize,
        patches: Vec<Patch>,
        version: Option<&'static str>,
    ) -> impl Strategy<Value = Schedule> {
        (0u8..4, prop::collection::vec(any::<u16>(), 1..=max_steps)).prop_map(
            move |(opt, choices)| {
                let options = Options {
                    // expectAuth came with 1.26.0, initialAuthTokenReuse
                    // with 1.42.1.
                    expect_auth: opt == 1 && version != Some("1.20.0"),
                    initial_auth_token_reuse: opt == 2 && version.is_none(),
                    patches: patches.clone(),
                    version: version.map(str::to_string),
                };
                schedule_from_choices(&functions(), options, &choices).expect("valid functions")
            },
        )
    }

    /// Where the client-level patches act, in a run: a token request
    /// pending at a `clearAuth` step answered with a token after it
    /// (discarded with `clear-auth-resets-manager`), and the forced fetch
    /// that follows an AuthError answered with the token the client last
    /// sent (presented again with `same-token-is-success`).
    fn patch_sites(s: &Schedule, trace: &[serde_json::Value]) -> (bool, bool) {
        use authrace::conformance::Step;
        let mut pending = std::collections::BTreeSet::new();
        let mut pending_at_clear = std::collections::BTreeSet::new();
        let mut answered_after_clear = false;
        let mut last_sent: Option<String> = None;
        let mut auth_error = false;
        let mut reauth_requests = std::collections::BTreeSet::new();
        let mut same_token = false;
        let mut step = None;
        for e in trace {
            match e["type"].as_str().unwrap_or("") {
                "step" => {
                    step = e["index"].as_u64().and_then(|k| s.steps.get(k as usize));
                    if let Some(Step::AnswerToken { request, token }) = step {
                        let r = u64::from(*request);
                        pending.remove(&r);
                        if token.as_deref().is_some_and(|t| t != "throw")
                            && pending_at_clear.contains(&r)
                        {
                            answered_after_clear = true;
                        }
                        if reauth_requests.contains(&r) && token.is_some() && *token == last_sent {
                            same_token = true;
                        }
                    }
                }
                "tokenRequest" => {
                    let r = e["index"].as_u64().unwrap_or(u64::MAX);
                    pending.insert(r);
                    if auth_error && e["forceRefreshToken"] == true {
                        reauth_requests.insert(r);
                        auth_error = false;
                    }
                }
                "clearAuth" if matches!(step, Some(Step::ClearAuth)) => {
                    pending_at_clear = pending.clone();
                }
                "setAuth" => auth_error = false,
                "serverSend" if e["frame"]["type"] == "AuthError" => auth_error = true,
                "send" if e["frame"]["type"] == "Authenticate" => {
                    last_sent = e["frame"]["value"].as_str().map(str::to_string);
                }
                _ => {}
            }
        }
        (answered_after_clear, same_token)
    }

    /// Random schedules on the older releases pinned in the harness
    /// (`convex-1.20.0`, `convex-1.42.0`): every trace of the real old
    /// client is one the model of that release produces. 300 schedules per
    /// release (PROPTEST_CASES overrides); AUTHRACE_SEED replays.
    #[test]
    fn random_schedules_on_older_releases_are_their_model_traces() {
        let cases = cases(300);
        let seed = seed();
        let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
        eprintln!("release conformance: {cases} random schedules per release, AUTHRACE_SEED={hex}");
        let harness = RefCell::new(super::harness());
        for version in ["1.20.0", "1.42.0"] {
            let result =
                runner(cases, &seed).run(&schedule_with(60, Vec::new(), Some(version)), |s| {
                    let trace = harness
                        .borrow_mut()
                        .run(&s)
                        .map_err(|e| TestCaseError::fail(format!("harness: {e}")))?;
                    validate(&s, &trace).map_err(|d| TestCaseError::fail(d.to_string()))
                });
            fail_on(result, &hex, &format!(" convex {version}"));
        }
    }

    /// The client-level patches (`clear-auth-resets-manager`,
    /// `same-token-is-success`, alone and together) on random schedules:
    /// every trace of the patched real client is one the patched model
    /// produces. 500 schedules per patch set (PROPTEST_CASES overrides);
    /// AUTHRACE_SEED replays.
    #[test]
    fn random_schedules_on_the_patched_client_are_patched_model_traces() {
        let cases = cases(500);
        let seed = seed();
        let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
        eprintln!(
            "patched conformance: {cases} random schedules per patch set, AUTHRACE_SEED={hex}"
        );
        let harness = RefCell::new(super::harness());
        for set in [
            vec![Patch::ClearAuthResetsManager],
            vec![Patch::SameTokenIsSuccess],
            vec![Patch::ClearAuthResetsManager, Patch::SameTokenIsSuccess],
        ] {
            let sites = RefCell::new((0usize, 0usize));
            let result = runner(cases, &seed).run(&schedule_with(60, set.clone(), None), |s| {
                let trace = harness
                    .borrow_mut()
                    .run(&s)
                    .map_err(|e| TestCaseError::fail(format!("harness: {e}")))?;
                let (a, b) = patch_sites(&s, &trace);
                let mut n = sites.borrow_mut();
                n.0 += usize::from(a);
                n.1 += usize::from(b);
                validate(&s, &trace).map_err(|d| TestCaseError::fail(d.to_string()))
            });
            let ids: Vec<&str> = set.iter().map(|p| p.id()).collect();
            fail_on(result, &hex, &format!(" patches {ids:?}"));
            let (a, b) = sites.into_inner();
            eprintln!(
                "patches {ids:?}: {a} schedules answered a token after clearAuth, {b} answered the forced fetch after an AuthError with the token last sent"
            );
            if cases >= 500 && set.contains(&Patch::ClearAuthResetsManager) {
                assert!(a > 0, "{ids:?}: no token answered after clearAuth");
            }
        }
    }

    /// At least 500 random schedules (PROPTEST_CASES overrides) run on the
    /// real client; every trace must be one the model produces. The seed is
    /// printed; AUTHRACE_SEED=<hex> replays a run. A failure is shrunk to a
    /// minimal schedule, printed as JSON for `node tests/conformance/run.mjs`.
    #[test]
    fn random_schedules_on_the_real_client_are_model_traces() {
        let cases = cases(500);
        let seed = seed();
        let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
        eprintln!("conformance: {cases} random schedules, AUTHRACE_SEED={hex}");
        let mut runner = runner(cases, &seed);
        let harness = RefCell::new(super::harness());
        // What the schedules exercised: a generator that never reaches the
        // interesting paths would make this test pass vacuously.
        let seen = RefCell::new(std::collections::BTreeMap::<String, usize>::new());
        let result = runner.run(&schedule(60), |s| {
            let trace = harness
                .borrow_mut()
                .run(&s)
                .map_err(|e| TestCaseError::fail(format!("harness: {e}")))?;
            let mut seen = seen.borrow_mut();
            for e in &trace {
                let key = match e["type"].as_str() {
                    Some("step") => "applied step".to_string(),
                    Some("skipped") => "skipped step".to_string(),
                    Some("serverEval") if e["identity"].is_null() => {
                        "evaluation without identity".to_string()
                    }
                    Some("serverEval") => "evaluation with identity".to_string(),
                    Some("serverSend") => format!(
                        "server sends {}",
                        e["frame"]["type"].as_str().unwrap_or("?")
                    ),
                    Some(
                        t @ ("onAuthChange" | "clientClose" | "tokenRequest" | "socketCreated"),
                    ) => t.to_string(),
                    Some("timerSet") => format!("timer {}", e["kind"].as_str().unwrap_or("?")),
                    Some("error") => "unhandled rejection".to_string(),
                    _ => continue,
                };
                *seen.entry(key).or_default() += 1;
            }
            validate(&s, &trace).map_err(|d| TestCaseError::fail(d.to_string()))
        });
        fail_on(result, &hex, "");
        let seen = seen.into_inner();
        eprintln!("conformance coverage: {seen:?}");
        if cases >= 500 {
            for key in [
                "evaluation without identity",
                "evaluation with identity",
                "server sends AuthError",
                "server sends Transition",
                "server sends MutationResponse",
                "onAuthChange",
                "clientClose",
                "timer refetch",
                "timer reconnect",
                "unhandled rejection",
            ] {
                assert!(
                    seen.get(key).copied().unwrap_or(0) > 0,
                    "no schedule exercised: {key}"
                );
            }
            let applied = seen["applied step"];
            let skipped = seen.get("skipped step").copied().unwrap_or(0);
            assert!(
                applied * 2 > skipped,
                "too many skipped steps: {applied} applied, {skipped} skipped"
            );
        }
    }
}

/// Every counterexample to `query-runs-authenticated` in models/ replays on
/// the real client: the model's trace becomes a schedule, and the harness
/// server sees the same violation (a function that needs auth evaluated
/// with no identity). The replayed trace is also one the model produces.
#[test]
fn counterexamples_replay_on_the_real_client() {
    use authrace::check::{CheckOptions, check};
    use authrace::conformance::schedule_from_trace;
    use authrace::model::AuthModel;
    use authrace::scenario::properties::{PropertyId, Verdict};

    let mut h = harness();
    let mut replayed = Vec::new();
    for f in crate::common::model_files() {
        let s = authrace::scenario::Scenario::load(&f).unwrap();
        let r = check(&f, &s, &CheckOptions::default());
        let p = r.property(PropertyId::QueryRunsAuthenticated);
        if p.verdict != Verdict::Violated {
            continue;
        }
        let model = AuthModel::new(&s);
        let actions: Vec<_> = p
            .steps
            .as_ref()
            .unwrap()
            .iter()
            .filter_map(|s| s.raw)
            .collect();
        let schedule = schedule_from_trace(&model, &actions);
        let trace = h.run(&schedule).expect("the harness runs");
        let name = f.strip_prefix(root()).unwrap().display().to_string();
        if let Err(d) = validate(&schedule, &trace) {
            panic!("{name}: the replay is not a model trace: {d}");
        }
        let needs_auth: Vec<&str> = s
            .functions
            .iter()
            .filter(|f| {
                matches!(
                    f.auth,
                    authrace::scenario::AuthReq::Required | authrace::scenario::AuthReq::UserRow
                )
            })
            .map(|f| f.name.get_ref().as_str())
            .collect();
        let seen = trace.iter().any(|e| {
            (e["type"] == "serverEval"
                && e["identity"].is_null()
                && needs_auth.iter().any(|n| e["udfPath"] == *n))
                || (e["type"] == "serverMutation" && e["outcome"] == "Unauthenticated")
        });
        assert!(
            seen,
            "{name}: replaying the counterexample on the real client shows no unauthenticated evaluation\nschedule: {}",
            serde_json::to_string(&schedule).unwrap()
        );
        replayed.push(name);
    }
    for must in [
        "models/seed-better-auth-ungated.toml",
        "models/matrix/none-socket-drop.toml",
        "models/matrix/provider-socket-drop.toml",
    ] {
        assert!(
            replayed.iter().any(|r| r == must),
            "{must} was not replayed"
        );
    }
    assert!(replayed.len() >= 10, "{replayed:?}");
}

/// The React layer (React 19 in jsdom, the real `ConvexProviderWithAuth`):
/// for each gate at first load, at sign-out, after a scheduled refetch that
/// yields null, and when the provider hands over a new `fetchAccessToken`,
/// the model's `query-runs-authenticated` verdict agrees with the real
/// stack. A violation must replay there (a React-mode schedule the model
/// finds with React settling after every step, as the harness does); a
/// property that holds is sampled with random model-guided walks, each
/// validated step by step. The harness's provider publishes through
/// `useSyncExternalStore`, so the scenarios set `sync_render = true`.
#[test]
fn react_gates_agree_with_the_real_stack() {
    use authrace::check::{CheckOptions, check};
    use authrace::conformance::ReactWalk;
    use authrace::scenario::Scenario;
    use authrace::scenario::properties::{PropertyId, Verdict};

    let situations = [
        ("first load", "at_load = \"loading\"\n", ""),
        ("sign-out", "at_load = \"signed-in\"\nsign_out = true\n", ""),
        (
            "refetch null",
            "at_load = \"signed-in\"\n",
            "[faults]\nrefreshes = 1\ntransient_null = 1\n",
        ),
        (
            "new fetcher",
            "at_load = \"signed-in\"\nnew_fetcher = true\n",
            "",
        ),
    ];
    // What the model says, derived from the sources and pinned here.
    let expected = [
        ("none", [Verdict::Violated; 4]),
        (
            "provider",
            [
                Verdict::Holds,
                Verdict::Violated,
                Verdict::Violated,
                Verdict::Violated,
            ],
        ),
        (
            "convex-auth",
            [
                Verdict::Holds,
                Verdict::Violated,
                Verdict::Violated,
                Verdict::Violated,
            ],
        ),
        (
            "authenticated",
            [
                Verdict::Holds,
                Verdict::Holds,
                Verdict::Violated,
                Verdict::Violated,
            ],
        ),
    ];
    let mut h = harness();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut report = Vec::new();
    for (gate, verdicts) in expected {
        for ((situation, provider, faults), want) in situations.iter().zip(verdicts) {
            let text = format!(
                "name = \"{gate} / {situation}\"\n[provider]\nsync_render = true\n{provider}{faults}[[function]]\nname = \"q:list\"\nauth = \"required\"\n[[component]]\nname = \"List\"\nquery = \"q:list\"\ngate = \"{gate}\"\n"
            );
            let s = Scenario::parse(std::path::Path::new("react.toml"), &text).unwrap();
            let r = check(
                std::path::Path::new("react.toml"),
                &s,
                &CheckOptions::default(),
            );
            let got = r.property(PropertyId::QueryRunsAuthenticated).verdict;
            assert_eq!(got, want, "{gate} / {situation}: model verdict");
            let walk = ReactWalk::new(&s).expect("a React walk");
            let real_violation = |trace: &[serde_json::Value]| {
                trace.iter().any(|e| {
                    e["type"] == "serverEval" && e["identity"].is_null() && e["udfPath"] == "q:list"
                })
            };
            if got == Verdict::Violated {
                let schedule = walk
                    .counterexample(PropertyId::QueryRunsAuthenticated, 200_000)
                    .unwrap_or_else(|| {
                        panic!("{gate} / {situation}: no React-mode counterexample")
                    });
                let trace = h.run(&schedule).unwrap();
                if let Err(d) = validate(&schedule, &trace) {
                    panic!("{gate} / {situation}: {d}");
                }
                assert!(
                    real_violation(&trace),
                    "{gate} / {situation}: the real stack did not violate"
                );
                report.push(format!(
                    "{gate} / {situation}: violated, reproduced in {} steps",
                    schedule.steps.len()
                ));
            } else {
                for _ in 0..40 {
                    let choices = walk_choices(&mut rng);
                    let schedule = walk.walk(&choices);
                    let trace = h.run(&schedule).unwrap();
                    if let Err(d) = validate(&schedule, &trace) {
                        panic!("{gate} / {situation}: {d}");
                    }
                    assert!(
                        !real_violation(&trace),
                        "{gate} / {situation}: the real stack violated"
                    );
                }
                report.push(format!("{gate} / {situation}: holds, 40 real walks agree"));
            }
        }
    }
    eprintln!("{}", report.join("\n"));
}

/// The React schedules of `tests/conformance/schedules-react/` are traces
/// the model produces, except those that use what the model's Driver does
/// not drive (listed with the reason).
#[test]
fn react_schedules_are_model_traces() {
    const NOT_DRIVEN: &[(&str, &str)] = &[
        (
            "new-fetcher-manual.json",
            "manual React scheduling (reactAuto false)",
        ),
        ("online-after-drop.json", "the browser `online` event"),
    ];
    let mut h = harness();
    let mut checked = 0;
    let mut files: Vec<PathBuf> = std::fs::read_dir(harness_dir().join("schedules-react"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
        let listed = NOT_DRIVEN.iter().any(|(n, _)| *n == name);
        if raw["provider"]["kind"].is_string() || listed {
            // Provider integrations (e.g. ConvexBetterAuthProvider) and the
            // listed features are checked by the harness's own tests.
            continue;
        }
        let schedule: Schedule =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let trace = h.run(&schedule).unwrap();
        if let Err(d) = validate(&schedule, &trace) {
            panic!("{name}: {d}");
        }
        checked += 1;
    }
    assert!(checked >= 2, "checked {checked} React schedules");
}

/// The harness's own tests (`node --test`): they pin what the real client
/// does in named situations.
#[test]
fn harness_self_tests_pass() {
    let _ = harness();
    let out = std::process::Command::new("node")
        .args(["--test", "harness.test.mjs", "react.test.mjs"])
        .current_dir(harness_dir())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The races the safety properties name, as they show in a harness trace.
mod races {
    use std::collections::BTreeSet;

    use authrace::conformance::{Schedule, Step};
    use authrace::scenario::properties::PropertyId;
    use serde_json::Value;

    /// Steps in which a `clearAuth` is the app's (a schedule step, or a
    /// React commit after a provider change); elsewhere it is the client's
    /// own fallback (a refetch that returned null).
    const APP_OPS: [&str; 3] = ["clearAuth", "provider", "newFetcher"];

    fn user(label: &str) -> &str {
        label.split('#').next().unwrap_or(label)
    }

    /// The first event of `trace` that shows the race `p` guards against,
    /// described; `None` if the run does not show it.
    /// - query-runs-authenticated: the server evaluates a function in
    ///   `needs_auth` with identity null (or `users:store` fails
    ///   Unauthenticated);
    /// - no-stale-identity: after the app's `clearAuth()`, with no `setAuth`
    ///   since, the client sends an Authenticate whose token belongs to a
    ///   user whose token it had received before that `clearAuth()`, or was
    ///   asked for before it;
    /// - stable-auth: `onAuthChange(false)` after `onAuthChange(true)` with
    ///   no app `clearAuth()` and no provider sign-out step in between.
    pub fn shown(
        p: PropertyId,
        schedule: &Schedule,
        trace: &[Value],
        needs_auth: &[String],
    ) -> Option<String> {
        let mut op = "";
        let mut received: BTreeSet<String> = BTreeSet::new();
        let mut requests_before: BTreeSet<u64> = BTreeSet::new();
        let mut requested: BTreeSet<u64> = BTreeSet::new();
        let mut cleared: Option<BTreeSet<String>> = None;
        let mut authed = false;
        for (i, e) in trace.iter().enumerate() {
            let at = || format!("event {i}: {e}");
            match e["type"].as_str().unwrap_or("") {
                "step" => {
                    op = e["op"].as_str().unwrap_or("");
                    let step = e["index"]
                        .as_u64()
                        .and_then(|k| schedule.steps.get(k as usize));
                    match step {
                        Some(Step::AnswerToken {
                            request,
                            token: Some(t),
                        }) if t != "throw" => {
                            received.insert(user(t).to_string());
                            if let Some(c) = cleared.as_mut()
                                && requests_before.contains(&u64::from(*request))
                            {
                                c.insert(user(t).to_string());
                            }
                        }
                        Some(Step::Provider {
                            is_authenticated: Some(false),
                            ..
                        }) => authed = false,
                        _ => {}
                    }
                }
                "tokenRequest" => {
                    requested.insert(e["index"].as_u64().unwrap_or(u64::MAX));
                }
                "setAuth" => cleared = None,
                "clearAuth" if APP_OPS.contains(&op) => {
                    cleared = Some(received.clone());
                    requests_before = requested.clone();
                    authed = false;
                }
                "onAuthChange" if e["value"] == true => authed = true,
                "onAuthChange" if e["value"] == false => {
                    if authed && p == PropertyId::StableAuth {
                        return Some(at());
                    }
                    authed = false;
                }
                "send"
                    if p == PropertyId::NoStaleIdentity
                        && e["frame"]["type"] == "Authenticate"
                        && e["frame"]["tokenType"] == "User" =>
                {
                    let u = user(e["frame"]["value"].as_str().unwrap_or(""));
                    if cleared.as_ref().is_some_and(|c| c.contains(u)) {
                        return Some(at());
                    }
                }
                "serverEval"
                    if p == PropertyId::QueryRunsAuthenticated
                        && e["identity"].is_null()
                        && needs_auth.iter().any(|n| e["udfPath"] == n.as_str()) =>
                {
                    return Some(at());
                }
                "serverMutation"
                    if p == PropertyId::QueryRunsAuthenticated
                        && e["outcome"] == "Unauthenticated" =>
                {
                    return Some(at());
                }
                _ => {}
            }
        }
        None
    }
}

/// Each finding in models/findings/ (a scenario whose safety properties the
/// unpatched client violates, and its `-patched` twin naming the proposed
/// change) on the real client: the shortest counterexample of every violated
/// safety property, as a client-level schedule, is a model trace and shows
/// the race (`races::shown`); the same schedule with the twin's diffs
/// applied to a copy of the package (`options.patches`) does not, and is a
/// trace of the patched model. A change in React code
/// (`unsubscribe-before-clear-auth`, in `useQuery`) cannot act on a
/// client-level schedule: there the patched schedule is the counterexample's
/// actions replayed on the patched model (its client calls in the patched
/// order), and the race is also shown and removed in React mode (the real
/// `useQuery` patched).
#[test]
fn findings_show_their_races_and_the_patches_remove_them() {
    use authrace::check::{CheckOptions, check};
    use authrace::conformance::{ReactWalk, schedule_from_actions, schedule_from_trace};
    use authrace::model::AuthModel;
    use authrace::scenario::properties::{PropertyId, Verdict};
    use authrace::scenario::{AuthReq, Patch, Scenario};

    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("models/findings"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "toml")
                && !p.to_string_lossy().ends_with("-patched.toml")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    let mut h = harness();
    let mut report = Vec::new();
    let mut removed = 0;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let twin_path = f.with_file_name(name.replace(".toml", "-patched.toml"));
        let s = Scenario::load(f).unwrap();
        let twin = Scenario::load(&twin_path).unwrap();
        let patches = twin.client.patches.clone();
        let ids: Vec<&str> = patches.iter().map(|p| p.id()).collect();
        assert!(!patches.is_empty(), "{name}: its twin names no patch");
        let r = check(f, &s, &CheckOptions::default());
        let rt = check(&twin_path, &twin, &CheckOptions::default());
        let model = AuthModel::new(&s);
        let patched_model = AuthModel::new(&twin);
        let needs_auth: Vec<String> = s
            .functions
            .iter()
            .filter(|f| matches!(f.auth, AuthReq::Required | AuthReq::UserRow))
            .map(|f| f.name.get_ref().clone())
            .collect();
        let react_level = patches.contains(&Patch::UnsubscribeBeforeClearAuth);
        let mut violated = 0;
        for p in [
            PropertyId::QueryRunsAuthenticated,
            PropertyId::NoStaleIdentity,
            PropertyId::StableAuth,
        ] {
            let pr = r.property(p);
            if pr.verdict != Verdict::Violated {
                continue;
            }
            violated += 1;
            let actions: Vec<_> = pr
                .steps
                .as_ref()
                .unwrap()
                .iter()
                .filter_map(|s| s.raw)
                .collect();
            let schedule = schedule_from_trace(&model, &actions);
            let json = |s: &Schedule| serde_json::to_string(s).unwrap();
            let trace = h.run(&schedule).expect("the harness runs");
            if let Err(d) = validate(&schedule, &trace) {
                panic!("{name} / {p}: the replay is not a model trace: {d}");
            }
            let race = races::shown(p, &schedule, &trace, &needs_auth).unwrap_or_else(|| {
                panic!(
                    "{name} / {p}: the real client does not show the race\nschedule: {}",
                    json(&schedule)
                )
            });
            let twin_verdict = rt.property(p).verdict;
            if twin_verdict == Verdict::Violated {
                // The twin's patch is for another race of this scenario.
                report.push(format!(
                    "{name} / {p}: race on the real client ({race}); the patch is not for it"
                ));
                continue;
            }
            let patched = if react_level {
                let (sch, dropped) = schedule_from_actions(&patched_model, &actions);
                eprintln!(
                    "{name} / {p}: {} model actions do not apply with the patch",
                    dropped.len()
                );
                sch
            } else {
                let mut sch = schedule.clone();
                sch.options.patches = patches.clone();
                sch
            };
            assert_eq!(patched.options.patches, patches);
            let trace = h.run(&patched).expect("the harness runs");
            if let Some(race) = races::shown(p, &patched, &trace, &needs_auth) {
                panic!(
                    "{name} / {p}: with {ids:?} the real client still shows the race: {race}\nschedule: {}",
                    json(&patched)
                );
            }
            if let Err(d) = validate(&patched, &trace) {
                panic!(
                    "{name} / {p}: the patched run is not a trace of the patched model: {d}\nschedule: {}",
                    json(&patched)
                );
            }
            removed += 1;
            report.push(format!(
                "{name} / {p}: race on the real client ({race}); none with {ids:?}"
            ));
            // React mode: the real ConvexProviderWithAuth and useQuery,
            // unpatched and patched (required for a change in React code).
            let walk = ReactWalk::new(&s).expect("a React walk");
            let Some(schedule) = walk.counterexample(p, 200_000) else {
                assert!(!react_level, "{name} / {p}: no React-mode counterexample");
                report.push(format!(
                    "{name} / {p} (React): no React-mode counterexample within the search limit"
                ));
                continue;
            };
            {
                let trace = h.run(&schedule).unwrap();
                if let Err(d) = validate(&schedule, &trace) {
                    panic!("{name} / {p} (React): {d}");
                }
                let race = races::shown(p, &schedule, &trace, &needs_auth).unwrap_or_else(|| {
                    panic!("{name} / {p} (React): the real stack does not show the race")
                });
                let mut patched = schedule.clone();
                patched.options.patches = patches.clone();
                let trace = h.run(&patched).unwrap();
                if let Some(race) = races::shown(p, &patched, &trace, &needs_auth) {
                    panic!(
                        "{name} / {p} (React): with {ids:?} the real stack still shows the race: {race}\nschedule: {}",
                        json(&patched)
                    );
                }
                if let Err(d) = validate(&patched, &trace) {
                    panic!(
                        "{name} / {p} (React): the patched run is not a trace of the patched model: {d}\nschedule: {}",
                        json(&patched)
                    );
                }
                report.push(format!(
                    "{name} / {p} (React, {} steps): race on the real stack ({race}); none with {ids:?}",
                    schedule.steps.len()
                ));
            }
        }
        assert!(violated > 0, "{name}: no safety property violated");
        // The patched app in React mode: model-guided walks of the twin,
        // each run on the real stack with the diffs applied and validated
        // against the patched model.
        let walk = ReactWalk::new(&twin).expect("a React walk");
        let mut walked = 0;
        for _ in 0..40 {
            let choices = walk_choices(&mut rng);
            let schedule = walk.walk(&choices);
            assert_eq!(schedule.options.patches, patches);
            let trace = h.run(&schedule).unwrap();
            match validate(&schedule, &trace) {
                Ok(()) => walked += 1,
                Err(d) => panic!(
                    "{name} patched, React walk: {d}\nschedule: {}",
                    serde_json::to_string(&schedule).unwrap()
                ),
            }
        }
        report.push(format!(
            "{name} patched ({ids:?}), React: {walked} walks are patched-model traces"
        ));
    }
    eprintln!("{}", report.join("\n"));
    assert!(removed >= 3, "{report:#?}");
}

/// The 30 choices of one model-guided walk, from a xorshift generator.
fn walk_choices(rng: &mut u64) -> Vec<u16> {
    (0..30)
        .map(|_| {
            *rng ^= *rng << 13;
            *rng ^= *rng >> 7;
            *rng ^= *rng << 17;
            (*rng >> 16) as u16
        })
        .collect()
}
