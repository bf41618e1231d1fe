//! Scenarios: one per equivalence class of call sites (the function's auth
//! class and the gate, under the app's provider, client options and users
//! rows) and per trigger, each checked once (cached by scenario hash, the
//! distinct ones in parallel), and the smallest checked fix per call site.
//!
//! A violation is a call site's risk only when the violating evaluation is
//! of that site's function, or the stale result shown is that component's;
//! a client-level race (an `Authenticate` carrying a signed-out user's
//! token, `stable-auth`, the users-store mutation running without identity)
//! is reported once for the app, not per call site.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;
use toml::Spanned;

use super::{Analysis, CallSite};
use crate::check::report::Report;
use crate::check::trace::TraceStep;
use crate::check::{CheckOptions, check};
use crate::scenario::properties::{PropertyId, PropertyKind, Verdict};
use crate::scenario::{
    AppCfg, AtLoad, AuthReq, ComponentCfg, Faults, FunctionCfg, Gate, ProviderCfg, Scenario,
    UserRows,
};

/// The function every derived scenario queries (one per class, whatever the
/// site's function is called: classes share their checks).
pub const FN: &str = "app:query";
/// The component every derived scenario mounts.
pub const COMPONENT: &str = "CallSite";

/// An event under which a call site is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    FirstLoad,
    SignUp,
    SignIn,
    SignOut,
    SwitchUser,
    Reconnect,
    TokenRefresh,
    TokenExpiry,
}

impl Trigger {
    pub const ALL: [Trigger; 8] = [
        Trigger::FirstLoad,
        Trigger::SignUp,
        Trigger::SignIn,
        Trigger::SignOut,
        Trigger::SwitchUser,
        Trigger::Reconnect,
        Trigger::TokenRefresh,
        Trigger::TokenExpiry,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::FirstLoad => "first-load",
            Trigger::SignUp => "sign-up",
            Trigger::SignIn => "sign-in",
            Trigger::SignOut => "sign-out",
            Trigger::SwitchUser => "switch-user",
            Trigger::Reconnect => "reconnect",
            Trigger::TokenRefresh => "token-refresh",
            Trigger::TokenExpiry => "token-expiry",
        }
    }
    pub fn parse(s: &str) -> Option<Trigger> {
        Trigger::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// The trigger → scenario mapping, in one place (`docs/scan.md` has the table).
///
/// Every trigger starts from the app as found and sets every fault budget
/// explicitly — `refreshes = 0` included, so the token refetch timer is a
/// bound of zero, not "whenever armed" — then adds exactly one thing:
///
/// | trigger | keys |
/// |---|---|
/// | `first-load` | `at_load` as the provider kind restores a session (loading), no user action, no fault, `user_rows = "existing"` |
/// | `sign-up` | `at_load = "signed-out"`, `sign_in = true`, `user_rows` as the app makes them (store effect, webhook) |
/// | `sign-in` | `at_load = "signed-out"`, `sign_in = true` |
/// | `sign-out` | `sign_out = true` |
/// | `switch-user` | `switch_user = true` |
/// | `reconnect` | `socket_drops = 1` |
/// | `token-refresh` | `refreshes = 1`, `transient_null = 1` (one refetch, a null answer allowed) |
/// | `token-expiry` | `expiries = 1` |
///
/// Every trigger but `sign-up` is a returning user's: `user_rows = "existing"`.
pub fn apply_trigger(s: &mut Scenario, t: Trigger, rows: UserRows) {
    s.faults = Faults::default();
    // A returning user's row exists; a new account's comes as the app makes it.
    s.app.user_rows = Some(if t == Trigger::SignUp {
        rows
    } else {
        UserRows::Existing
    });
    s.faults.refreshes = Some(Spanned::new(0..0, 0));
    s.provider.sign_in = false;
    s.provider.sign_out = false;
    s.provider.switch_user = false;
    match t {
        Trigger::FirstLoad => {}
        Trigger::SignUp | Trigger::SignIn => {
            s.provider.at_load = Some(AtLoad::SignedOut);
            s.provider.sign_in = true;
        }
        Trigger::SignOut => s.provider.sign_out = true,
        Trigger::SwitchUser => s.provider.switch_user = true,
        Trigger::Reconnect => s.faults.socket_drops = Spanned::new(0..0, 1),
        Trigger::TokenRefresh => {
            s.faults.refreshes = Some(Spanned::new(0..0, 1));
            s.faults.transient_null = Spanned::new(0..0, 1);
        }
        Trigger::TokenExpiry => s.faults.expiries = Spanned::new(0..0, 1),
    }
}

/// What a call site is checked as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Class {
    pub auth: AuthReq,
    pub gate: Gate,
    pub expect_auth: bool,
}

/// The scenario a class implies under a trigger.
pub fn scenario(a: &Analysis, class: Class, t: Trigger) -> Scenario {
    let c = &a.client;
    let store_user = c.store_user;
    let mut s = Scenario {
        name: format!(
            "scan: {} function, gate {}, {}{}, {}",
            class.auth_str(),
            class.gate.as_str(),
            c.kind.as_str(),
            if class.expect_auth {
                " + expectAuth"
            } else {
                ""
            },
            t.as_str()
        ),
        about: None,
        provider: ProviderCfg {
            kind: c.kind,
            ssr_token: c.ssr_token.then(|| Spanned::new(0..0, true)),
            ..ProviderCfg::default()
        },
        client: crate::scenario::ClientCfg {
            expect_auth: class.expect_auth,
            ..Default::default()
        },
        app: AppCfg {
            store_user,
            user_rows: None,
        },
        faults: Faults::default(),
        functions: vec![FunctionCfg {
            name: Spanned::new(0..0, FN.to_string()),
            auth: class.auth,
        }],
        components: vec![ComponentCfg {
            name: Spanned::new(0..0, COMPONENT.to_string()),
            query: Spanned::new(0..0, FN.to_string()),
            gate: Spanned::new(0..0, class.gate),
            instances: Spanned::new(0..0, 1),
        }],
        check: Default::default(),
        expect: BTreeMap::new(),
    };
    apply_trigger(&mut s, t, c.user_rows);
    s
}

impl Class {
    fn key(&self) -> (u8, Gate, bool) {
        let a = match self.auth {
            AuthReq::None => 0,
            AuthReq::Optional => 1,
            AuthReq::Required => 2,
            AuthReq::UserRow => 3,
        };
        (a, self.gate, self.expect_auth)
    }
}

impl PartialOrd for Class {
    fn partial_cmp(&self, o: &Class) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Class {
    fn cmp(&self, o: &Class) -> std::cmp::Ordering {
        self.key().cmp(&o.key())
    }
}

impl Class {
    fn auth_str(&self) -> &'static str {
        match self.auth {
            AuthReq::None => "none",
            AuthReq::Optional => "optional",
            AuthReq::Required => "required",
            AuthReq::UserRow => "user-row",
        }
    }
}

/// The class a site is checked as: its function's auth (`unknown` as
/// `required`) and its gate (`unknown` as `none`).
pub fn class_of(a: &Analysis, site: &CallSite) -> Class {
    let gate = site.gate.checked_as();
    Class {
        auth: site.auth.checked_as(),
        gate,
        expect_auth: a.client.expect_auth,
    }
}

/// A risk of a call site under a trigger.
#[derive(Clone, Debug, Serialize)]
pub struct Risk {
    pub trigger: Trigger,
    pub property: PropertyId,
    /// The smallest checked change that removes the site's risks under this trigger.
    #[serde(skip)]
    pub fix: Option<Fix>,
    #[serde(skip)]
    pub trace: Vec<TraceStep>,
}

/// A change that removes a site's risks, as checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "change")]
pub enum Fix {
    Gate { to: Gate },
    ExpectAuth,
}

impl Fix {
    pub fn describe(&self) -> String {
        match self {
            Fix::Gate { to: Gate::Provider } => {
                "skip unless the auth provider says signed in".to_string()
            }
            Fix::Gate {
                to: Gate::ConvexAuth,
            } => "skip unless useConvexAuth().isAuthenticated".to_string(),
            Fix::Gate {
                to: Gate::Authenticated,
            } => "render it inside <Authenticated>".to_string(),
            Fix::Gate {
                to: Gate::CurrentUser,
            } => "skip unless useCurrentUser().isAuthenticated (users row stored by an effect)"
                .to_string(),
            Fix::Gate { to: Gate::None } => "no gate".to_string(),
            Fix::ExpectAuth => "new ConvexReactClient(url, { expectAuth: true })".to_string(),
        }
    }
}

/// A client-level race, reported once.
#[derive(Clone, Debug, Serialize)]
pub struct AppFinding {
    pub trigger: Trigger,
    pub property: PropertyId,
    pub what: String,
    #[serde(skip)]
    pub trace: Vec<TraceStep>,
}

/// How to scan.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub triggers: Vec<Trigger>,
    pub check: CheckOptions,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            triggers: Trigger::ALL.to_vec(),
            check: CheckOptions::default(),
        }
    }
}

/// A scenario that was checked, with the sites it stands for.
#[derive(Clone, Debug)]
pub struct Derived {
    pub class: Class,
    pub trigger: Trigger,
    pub scenario: Scenario,
    /// Indices into `Analysis::sites`.
    pub sites: Vec<usize>,
}

/// The whole scan.
#[derive(Debug)]
pub struct ScanReport {
    pub analysis: Analysis,
    pub triggers: Vec<Trigger>,
    /// Per call site (same order as `analysis.sites`).
    pub risks: Vec<Vec<Risk>>,
    pub fixes: Vec<Option<Fix>>,
    pub app_findings: Vec<AppFinding>,
    pub derived: Vec<Derived>,
    /// Distinct scenarios checked (fix search included).
    pub checks: usize,
    pub check_time: Duration,
    /// A limit stopped some check: some verdicts are unknown.
    pub incomplete: Vec<String>,
}

impl ScanReport {
    pub fn findings(&self) -> usize {
        self.risks.iter().map(Vec::len).sum::<usize>() + self.app_findings.len()
    }
}

/// What one checked scenario says, split into the site's risks and the app's.
#[derive(Clone, Debug, Default)]
struct Verdicts {
    site: Vec<(PropertyId, Vec<TraceStep>)>,
    app: Vec<(PropertyId, String, Vec<TraceStep>)>,
    unknown: bool,
}

fn attribute(report: &Report) -> Verdicts {
    let mut v = Verdicts::default();
    for p in &report.properties {
        if p.kind != PropertyKind::Safety {
            continue;
        }
        if p.verdict == Verdict::Unknown {
            v.unknown = true;
            continue;
        }
        if p.verdict != Verdict::Violated {
            continue;
        }
        let steps = p.steps.clone().unwrap_or_default();
        let event = steps
            .iter()
            .rev()
            .flat_map(|s| s.events.iter())
            .find(|e| e.violates == Some(p.id));
        let of_site = match (p.id, event) {
            (PropertyId::StableAuth, _) => false,
            (PropertyId::UserRowReady, _) => true,
            // The component shows a signed-out user's result.
            (PropertyId::NoStaleIdentity, None) => true,
            (_, Some(e)) => e.text.contains(FN),
            (_, None) => false,
        };
        if of_site {
            v.site.push((p.id, steps));
        } else {
            let what = event
                .map(|e| e.text.clone())
                .unwrap_or_else(|| p.id.to_string());
            v.app.push((p.id, what, steps));
        }
    }
    v
}

/// Checks every class under every trigger and searches fixes.
pub fn check_analysis(analysis: Analysis, opts: &ScanOptions) -> ScanReport {
    let start = Instant::now();
    let a = &analysis;
    // Sites with a function that reads no identity cannot be at risk.
    let classes: Vec<Option<Class>> = a
        .sites
        .iter()
        .map(|s| (s.auth.checked_as() != AuthReq::None).then(|| class_of(a, s)))
        .collect();
    let mut derived: BTreeMap<(Class, Trigger), Vec<usize>> = BTreeMap::new();
    for (i, c) in classes.iter().enumerate() {
        if let Some(c) = c {
            for t in &opts.triggers {
                derived.entry((*c, *t)).or_default().push(i);
            }
        }
    }
    let mut cache: HashMap<(Class, Trigger), Verdicts> = HashMap::new();
    let mut checks = 0;
    let run = |keys: Vec<(Class, Trigger)>,
               cache: &mut HashMap<(Class, Trigger), Verdicts>,
               checks: &mut usize| {
        let todo: Vec<(Class, Trigger)> = keys
            .into_iter()
            .filter(|k| !cache.contains_key(k))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // One check per distinct scenario (equal hashes, equal inputs).
        let mut by_hash: BTreeMap<String, (Class, Trigger, Scenario)> = BTreeMap::new();
        for (c, t) in &todo {
            let s = scenario(a, *c, *t);
            by_hash.entry(s.hash()).or_insert((*c, *t, s));
        }
        let mut check_opts = opts.check.clone();
        check_opts.progress = false;
        let results: Vec<(String, Verdicts)> = by_hash
            .par_iter()
            .map(|(h, (_, _, s))| {
                let r = check(std::path::Path::new("scan.toml"), s, &check_opts);
                (h.clone(), attribute(&r))
            })
            .collect();
        *checks += results.len();
        let results: HashMap<String, Verdicts> = results.into_iter().collect();
        for (c, t) in todo {
            let h = scenario(a, c, t).hash();
            if let Some(v) = results.get(&h) {
                cache.insert((c, t), v.clone());
            }
        }
    };
    run(derived.keys().copied().collect(), &mut cache, &mut checks);

    // Fix search: each at-risk class, stronger gates first, then expectAuth.
    let at_risk: BTreeSet<Class> = derived
        .keys()
        .filter(|k| cache.get(k).is_some_and(|v| !v.site.is_empty()))
        .map(|k| k.0)
        .collect();
    let candidates = |c: Class| -> Vec<(Fix, Class)> {
        let mut v: Vec<(Fix, Class)> = crate::check::suggest::stronger(c.gate)
            .map(|g| (Fix::Gate { to: g }, Class { gate: g, ..c }))
            .collect();
        if !c.expect_auth {
            v.push((
                Fix::ExpectAuth,
                Class {
                    expect_auth: true,
                    ..c
                },
            ));
        }
        v
    };
    let mut wanted = Vec::new();
    for c in &at_risk {
        for (_, cand) in candidates(*c) {
            for t in &opts.triggers {
                wanted.push((cand, *t));
            }
        }
    }
    run(wanted, &mut cache, &mut checks);
    // Per trigger: the smallest change that removes the site's risks there.
    let mut trigger_fix: HashMap<(Class, Trigger), Option<Fix>> = HashMap::new();
    for c in &at_risk {
        for t in &opts.triggers {
            let fix = candidates(*c).into_iter().find_map(|(fix, cand)| {
                cache
                    .get(&(cand, *t))
                    .is_some_and(|v| v.site.is_empty() && !v.unknown)
                    .then_some(fix)
            });
            trigger_fix.insert((*c, *t), fix);
        }
    }
    // For the site: the smallest change that removes them under every trigger.
    let mut class_fix: HashMap<Class, Option<Fix>> = HashMap::new();
    for c in &at_risk {
        let fix = candidates(*c).into_iter().find_map(|(fix, cand)| {
            let clean = opts.triggers.iter().all(|t| {
                cache
                    .get(&(cand, *t))
                    .is_some_and(|v| v.site.is_empty() && !v.unknown)
            });
            clean.then_some(fix)
        });
        class_fix.insert(*c, fix);
    }

    let mut risks = vec![Vec::new(); a.sites.len()];
    let mut fixes = vec![None; a.sites.len()];
    let mut app: BTreeMap<(Trigger, PropertyId), AppFinding> = BTreeMap::new();
    let mut incomplete = Vec::new();
    for ((c, t), sites) in &derived {
        let Some(v) = cache.get(&(*c, *t)) else {
            continue;
        };
        if v.unknown {
            incomplete.push(format!(
                "{} under {}: a limit stopped the check",
                scenario(a, *c, *t).name,
                t.as_str()
            ));
        }
        for i in sites {
            for (p, steps) in &v.site {
                risks[*i].push(Risk {
                    trigger: *t,
                    property: *p,
                    trace: steps.clone(),
                    fix: trigger_fix.get(&(*c, *t)).cloned().flatten(),
                });
            }
            if !v.site.is_empty() {
                fixes[*i] = class_fix.get(c).cloned().flatten();
            }
        }
        for (p, what, steps) in &v.app {
            app.entry((*t, *p)).or_insert_with(|| AppFinding {
                trigger: *t,
                property: *p,
                what: what.clone(),
                trace: steps.clone(),
            });
        }
    }
    let derived = derived
        .into_iter()
        .map(|((class, trigger), sites)| Derived {
            class,
            trigger,
            scenario: scenario(a, class, trigger),
            sites,
        })
        .collect();
    ScanReport {
        triggers: opts.triggers.clone(),
        risks,
        fixes,
        app_findings: app.into_values().collect(),
        derived,
        checks,
        check_time: start.elapsed(),
        incomplete,
        analysis,
    }
}
