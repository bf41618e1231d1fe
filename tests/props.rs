//! Property tests of the checker: relations that must hold for any
//! scenario. Strategies generate valid scenarios over every key of the
//! contract (small enough that one check stays fast) and raw scenario text.
//! Case counts come from `PROPTEST_CASES` (each relation runs at most that
//! many; a smaller per-relation default keeps CI fast; see
//! `docs/testing.md` for a long campaign). Failures shrink to a minimal
//! scenario; `proptest-regressions/` keeps them.

use std::path::Path;

use authrace::check::report::Report;
use authrace::check::{CheckOptions, check, replay};
use authrace::model::AuthModel;
use authrace::scenario::properties::{PropertyId, PropertyKind, Verdict};
use authrace::scenario::{Scenario, Strategy as Search};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};

/// Cases per relation: `PROPTEST_CASES`, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(default: u32) -> Config {
    Config {
        cases: cases(default),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct("proptest-regressions/props.txt"),
        )),
        ..Config::default()
    }
}

/// A scenario as data, rendered to TOML: every key of the contract.
#[derive(Clone, Debug)]
pub struct Spec {
    pub kind: &'static str,
    pub at_load: &'static str,
    pub ssr_token: bool,
    pub sign_in: bool,
    pub sign_out: bool,
    pub switch_user: bool,
    pub new_fetcher: bool,
    pub forced_refresh: Option<&'static str>,
    pub after_sign_out: Option<&'static str>,
    pub rebuild_fetcher: Option<&'static str>,
    pub sync_render: Option<bool>,
    pub expect_auth: bool,
    pub initial_token_reuse: bool,
    pub store_user: bool,
    /// socket_drops, refreshes, expiries, reject_tokens, transient_null.
    pub faults: [u8; 5],
    pub functions: Vec<(String, &'static str)>,
    /// (name, function index, gate, instances).
    pub components: Vec<(String, usize, &'static str, u8)>,
}

pub const FAULT_KEYS: [&str; 5] = [
    "socket_drops",
    "refreshes",
    "expiries",
    "reject_tokens",
    "transient_null",
];

impl Spec {
    pub fn toml(&self) -> String {
        let mut s = String::from("name = \"generated\"\n[provider]\n");
        s += &format!("kind = \"{}\"\nat_load = \"{}\"\n", self.kind, self.at_load);
        s += &format!(
            "ssr_token = {}\nsign_in = {}\nsign_out = {}\nswitch_user = {}\nnew_fetcher = {}\n",
            self.ssr_token, self.sign_in, self.sign_out, self.switch_user, self.new_fetcher
        );
        if let Some(v) = self.forced_refresh {
            s += &format!("forced_refresh = \"{v}\"\n");
        }
        if let Some(v) = self.after_sign_out {
            s += &format!("after_sign_out = \"{v}\"\n");
        }
        if let Some(v) = self.rebuild_fetcher {
            s += &format!("rebuild_fetcher = \"{v}\"\n");
        }
        if let Some(v) = self.sync_render {
            s += &format!("sync_render = {v}\n");
        }
        s += &format!(
            "[client]\nexpect_auth = {}\ninitial_token_reuse = {}\n[app]\nstore_user = {}\n[faults]\n",
            self.expect_auth, self.initial_token_reuse, self.store_user
        );
        for (k, v) in FAULT_KEYS.iter().zip(self.faults) {
            s += &format!("{k} = {v}\n");
        }
        for (name, auth) in &self.functions {
            s += &format!("[[function]]\nname = \"{name}\"\nauth = \"{auth}\"\n");
        }
        for (name, f, gate, n) in &self.components {
            s += &format!(
                "[[component]]\nname = \"{name}\"\nquery = \"{}\"\ngate = \"{gate}\"\ninstances = {n}\n",
                self.functions[*f].0
            );
        }
        s
    }

    pub fn scenario(&self) -> Scenario {
        Scenario::parse(Path::new("generated.toml"), &self.toml()).unwrap_or_else(|e| {
            panic!(
                "generated scenario invalid:\n{}\n{}",
                self.toml(),
                e.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
    }
}

/// Valid scenarios, bounded so that one check stays fast: at most one
/// fault and one user action (relations may add one more of each), one or
/// two components of one instance each (two for a single component).
pub fn spec() -> impl proptest::strategy::Strategy<Value = Spec> {
    let kind = prop::sample::select(vec![
        "better-auth",
        "clerk",
        "authkit",
        "convex-auth",
        "custom",
    ]);
    let at_load = prop::sample::select(vec!["loading", "signed-in", "signed-out"]);
    let actions = (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>());
    let opts = (
        prop::option::of(prop::sample::select(vec!["new", "same", "stale"])),
        prop::option::of(prop::sample::select(vec!["null", "stale"])),
        prop::option::of(prop::sample::select(vec!["never", "on-session-change"])),
        prop::option::of(any::<bool>()),
    );
    let client = (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>());
    let faults = prop::collection::vec(0usize..5, 0..=1);
    let functions = prop::collection::vec(
        prop::sample::select(vec!["none", "required", "user-row", "optional"]),
        1..=2,
    );
    let components = prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            prop::sample::select(vec![
                "none",
                "provider",
                "convex-auth",
                "authenticated",
                "current-user",
            ]),
            1u8..=2,
        ),
        1..=2,
    );
    (
        kind, at_load, actions, opts, client, faults, functions, components,
    )
        .prop_map(
            |(
                kind,
                at_load,
                (a, b, c, d),
                (fr, aso, rb, sr),
                (ssr, ea, itr, su),
                faults,
                functions,
                components,
            )| {
                // Keep checks fast: at most one user action.
                let (sign_in, sign_out, switch_user, new_fetcher) = {
                    let mut v = [a, b, c, d];
                    let mut on = 0;
                    for x in v.iter_mut() {
                        if *x {
                            on += 1;
                            if on > 1 {
                                *x = false;
                            }
                        }
                    }
                    (v[0], v[1], v[2], v[3])
                };
                let mut f = [0u8; 5];
                for i in faults {
                    f[i] = (f[i] + 1).min(1);
                }
                let functions: Vec<(String, &'static str)> = functions
                    .into_iter()
                    .enumerate()
                    .map(|(i, auth)| (format!("q:f{i}"), auth))
                    .collect();
                let mut components: Vec<(String, usize, &'static str, u8)> = components
                    .into_iter()
                    .enumerate()
                    .map(|(i, (fi, gate, n))| (format!("C{i}"), fi.index(functions.len()), gate, n))
                    .collect();
                // Keep checks fast: two instances only for a lone component.
                if components.len() > 1 {
                    for c in components.iter_mut() {
                        c.3 = 1;
                    }
                }
                let store_user = su || components.iter().any(|c| c.2 == "current-user");
                Spec {
                    kind,
                    at_load,
                    ssr_token: ssr && matches!(kind, "better-auth" | "convex-auth" | "custom"),
                    sign_in,
                    sign_out,
                    switch_user,
                    new_fetcher,
                    forced_refresh: fr,
                    after_sign_out: aso,
                    rebuild_fetcher: rb,
                    sync_render: sr,
                    expect_auth: ea,
                    initial_token_reuse: itr,
                    store_user,
                    faults: f,
                    functions,
                    components,
                }
            },
        )
}

/// Generated scenarios larger than this are discarded (not decided), so
/// that one check stays fast; the share discarded is small (proptest
/// fails a relation that discards too many).
const MAX_STATES: usize = 40_000;

/// Checks `s`; `None` when it is over [`MAX_STATES`].
fn run_bounded(s: &Scenario) -> Option<Report> {
    let r = check(
        Path::new("generated.toml"),
        s,
        &CheckOptions {
            max_states: Some(MAX_STATES),
            ..CheckOptions::default()
        },
    );
    r.complete.then_some(r)
}

/// Checks `s`, discarding the case when it is too large.
macro_rules! run {
    ($s:expr) => {
        match run_bounded(&$s) {
            Some(r) => r,
            None => return Err(TestCaseError::reject("scenario over the state bound")),
        }
    };
}

fn verdict(r: &Report, p: PropertyId) -> Verdict {
    r.property(p).verdict
}

/// `a` has every violation `b` has (for the given properties).
fn violations_kept(weaker: &Report, stronger: &Report, props: &[PropertyId]) -> Result<(), String> {
    for &p in props {
        if verdict(weaker, p) == Verdict::Violated && verdict(stronger, p) != Verdict::Violated {
            return Err(format!(
                "{p}: violated before, {} after",
                verdict(stronger, p)
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(24))]

    /// More faults or more user actions: more behaviours, never fewer. A
    /// violated verdict stays violated.
    #[test]
    fn faults_and_user_actions_are_monotone(s in spec(), which in 0usize..9) {
        let base = run!(s.scenario());
        let mut more = s.clone();
        match which {
            0..=4 => more.faults[which] += 1,
            5 => more.sign_in = true,
            6 => more.sign_out = true,
            7 => more.switch_user = true,
            _ => more.new_fetcher = true,
        }
        let bigger = run!(more.scenario());
        if let Err(e) = violations_kept(&base, &bigger, &PropertyId::ALL) {
            prop_assert!(false, "{e}\nbase:\n{}\nmore:\n{}", s.toml(), more.toml());
        }
    }

    /// A gate never makes a component more dangerous than no gate.
    #[test]
    fn no_gate_is_weaker_than_none(s in spec(), ci in any::<prop::sample::Index>()) {
        let i = ci.index(s.components.len());
        let gated = run!(s.scenario());
        if verdict(&gated, PropertyId::QueryRunsAuthenticated) == Verdict::Violated {
            let mut ungated = s.clone();
            ungated.components[i].2 = "none";
            let r = run!(ungated.scenario());
            prop_assert_eq!(
                verdict(&r, PropertyId::QueryRunsAuthenticated),
                Verdict::Violated,
                "{}\nungated:\n{}", s.toml(), ungated.toml()
            );
        }
    }

    /// Renaming functions and components changes no verdict.
    #[test]
    fn names_do_not_matter(s in spec()) {
        let a = run!(s.scenario());
        let mut renamed = s.clone();
        for (i, f) in renamed.functions.iter_mut().enumerate() {
            f.0 = format!("module{i}:renamed_{i}");
        }
        for (i, c) in renamed.components.iter_mut().enumerate() {
            c.0 = format!("Renamed{i}");
        }
        let b = run!(renamed.scenario());
        for p in PropertyId::ALL {
            prop_assert_eq!(verdict(&a, p), verdict(&b, p), "{}: {}", p, s.toml());
        }
        prop_assert_eq!(a.stats.unique_states, b.stats.unique_states);
    }

    /// Declaring functions in another order changes no verdict.
    #[test]
    fn function_order_does_not_matter(s in spec()) {
        prop_assume!(s.functions.len() == 2);
        let a = run!(s.scenario());
        let mut swapped = s.clone();
        swapped.functions.swap(0, 1);
        for c in swapped.components.iter_mut() {
            c.1 = 1 - c.1;
        }
        let b = run!(swapped.scenario());
        for p in PropertyId::ALL {
            prop_assert_eq!(verdict(&a, p), verdict(&b, p), "{}: {}", p, s.toml());
        }
    }

    /// Declaring components in another order changes no verdict.
    #[test]
    fn component_order_does_not_matter(s in spec()) {
        prop_assume!(s.components.len() == 2);
        let a = run!(s.scenario());
        let mut swapped = s.clone();
        swapped.components.swap(0, 1);
        let b = run!(swapped.scenario());
        for p in PropertyId::ALL {
            prop_assert_eq!(verdict(&a, p), verdict(&b, p), "{}: {}", p, s.toml());
        }
    }

    /// Every printed counterexample replays from the initial state to a
    /// state violating its property; DFS agrees with BFS on every verdict.
    #[test]
    fn counterexamples_replay_and_dfs_agrees(s in spec()) {
        let scenario = s.scenario();
        let model = AuthModel::new(&scenario);
        let bfs = run!(scenario);
        for p in &bfs.properties {
            if p.verdict != Verdict::Violated || p.kind != PropertyKind::Safety {
                continue;
            }
            let actions: Vec<_> = p.steps.as_ref().unwrap().iter().filter_map(|s| s.raw).collect();
            let end = replay(&model, &actions);
            prop_assert!(end.is_some(), "{}: trace does not replay\n{}", p.id, s.toml());
            prop_assert!(!model.holds(p.id, &end.unwrap()), "{}: trace ends in a state that holds\n{}", p.id, s.toml());
        }
        let dfs = check(
            Path::new("generated.toml"),
            &scenario,
            &CheckOptions { strategy: Some(Search::Dfs), ..CheckOptions::default() },
        );
        for p in PropertyId::ALL {
            prop_assert_eq!(verdict(&bfs, p), verdict(&dfs, p), "{}: {}", p, s.toml());
        }
    }

    /// The same scenario gives byte-identical JSON (elapsed time excluded).
    #[test]
    fn reports_are_deterministic(s in spec()) {
        let scenario = s.scenario();
        let json = |mut r: Report| {
            r.stats.elapsed_ms = 0;
            serde_json::to_string(&r).unwrap()
        };
        let r = run!(scenario);
        // The states where the real client throws (`model::Anomaly`) are
        // unreachable: no `configVersion`-current token continuation runs
        // in noAuth (see docs/model.md, "Anomalies").
        prop_assert!(r.anomalies.is_empty(), "{:?}\n{}", r.anomalies, s.toml());
        let a = json(r);
        let b = json(run!(scenario));
        prop_assert_eq!(&a, &b);
        // The JSON report parses back to the same report.
        let back: Report = serde_json::from_str(&a).unwrap();
        prop_assert_eq!(json(back), a);
    }

    /// TOML -> struct -> TOML -> struct is the identity.
    #[test]
    fn scenario_toml_round_trips(s in spec()) {
        let one = s.scenario();
        let text = toml::to_string(&one).unwrap();
        let two = Scenario::parse(Path::new("round-trip.toml"), &text)
            .unwrap_or_else(|e| panic!("{text}\n{e:?}"));
        prop_assert_eq!(&one, &two);
        prop_assert_eq!(toml::to_string(&two).unwrap(), text);
        prop_assert_eq!(one.hash(), two.hash());
    }

    /// A violation random simulation finds, BFS finds too.
    #[test]
    fn random_simulation_agrees_with_bfs(s in spec(), seed in any::<u64>()) {
        use stateright::{Checker, Model, UniformChooser};
        let scenario = s.scenario();
        let model = AuthModel::new(&scenario);
        let sim = model
            .clone()
            .checker()
            .target_state_count(2_000)
            .spawn_simulation(seed, UniformChooser)
            .join();
        let bfs = run!(scenario);
        for (name, _) in sim.discoveries() {
            let Some(p) = PropertyId::parse(name) else { continue }; // vacuity witnesses
            prop_assert_eq!(verdict(&bfs, p), Verdict::Violated, "{}: simulation found it\n{}", p, s.toml());
        }
    }

    /// Canonical states are exact: along random walks, the canonical form
    /// of the concrete state (dead values reset, names renamed) is the
    /// state the canonical run reached, and both enable the same actions
    /// (up to renaming) with the same property facts. (Dead-value resets,
    /// token ranks, version shifts and the client's version floor of
    /// `model::canon` lose nothing.)
    #[test]
    fn canonical_runs_are_concrete_runs(s in spec(), seed in any::<u64>()) {
        let scenario = s.scenario();
        let model = AuthModel::new(&scenario);
        if let Err(e) = walks_agree(&model, seed, 8, 60) {
            prop_assert!(false, "{}\n{}", e, s.toml());
        }
    }
}

/// Random walks of `steps` steps from the initial state, `walks` of them:
/// the concrete run (plain `step`) and the explored run (`next_state`:
/// dead values reset, names renamed) take the same choices; at each step
/// the concrete state, normalised, must be the explored one, with the same
/// number of enabled actions, the same violations and the same facts.
fn walks_agree(model: &AuthModel, seed: u64, walks: usize, steps: usize) -> Result<(), String> {
    use authrace::model::{
        Fx,
        canon::{canonicalize, normalize_dead},
    };
    use stateright::Model;
    let mut rng = seed;
    for _ in 0..walks {
        let mut concrete = model.init_state();
        let mut canonical = model.init_state();
        for step in 0..steps {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            model.actions(&concrete, &mut a);
            model.actions(&canonical, &mut b);
            if a.len() != b.len() {
                return Err(format!(
                    "step {step}: {} actions enabled, {} explored",
                    a.len(),
                    b.len()
                ));
            }
            if a.is_empty() {
                break;
            }
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let k = (rng >> 33) as usize % a.len();
            concrete = model
                .step(&concrete, a[k], &mut Fx::off())
                .expect("enabled");
            canonical = model.next_state(&canonical, b[k]).expect("enabled");
            let mut c = concrete.clone();
            normalize_dead(&model.ctx, &mut c);
            canonicalize(&mut c);
            if c != canonical {
                return Err(format!(
                    "step {step} ({:?}): the states differ\n{c:?}\n{canonical:?}",
                    a[k]
                ));
            }
            if concrete.violations != canonical.violations {
                return Err(format!("step {step}: violations differ"));
            }
            let facts = authrace::check::liveness::facts_of;
            if facts(model, &concrete) != facts(model, &canonical) {
                return Err(format!("step {step} ({:?}): facts differ", a[k]));
            }
        }
    }
    Ok(())
}

/// The same on every scenario in `models/` and on the lifecycle benchmark
/// (many user actions and faults, which the random scenarios above bound
/// to one each).
#[test]
fn dead_values_are_dead_on_every_model_and_the_lifecycle() {
    let mut files = crate::common::model_files();
    files.push(crate::common::root().join("bench/lifecycle.toml"));
    for (i, f) in files.iter().enumerate() {
        let s = authrace::scenario::Scenario::load(f).unwrap();
        let model = AuthModel::new(&s);
        let walks = if f.ends_with("lifecycle.toml") {
            400
        } else {
            40
        };
        if let Err(e) = walks_agree(&model, 0x5eed + i as u64, walks, 80) {
            panic!("{}: {e}", f.display());
        }
    }
}
