//! Deciding every property of a scenario.
//!
//! Safety properties are decided by `stateright`'s checker (BFS by default,
//! which makes every counterexample a shortest one when run on one thread);
//! each has a `sometimes` witness of its trigger so a property whose trigger
//! never happens is reported `vacuous`, never `holds`. Liveness properties
//! are decided on the full state graph ([`crate::liveness`]).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use stateright::{Checker, Model};

use crate::liveness::{self, LiveOutcome, StateGraph};
use crate::model::{Action, AuthModel};
use crate::properties::{PropertyId, PropertyKind, Verdict};
use crate::report::{PropertyReport, Report, ScenarioInfo, Stats};
use crate::scenario::{Scenario, Strategy};
use crate::trace;

/// How to run a check. `None` fields fall back to the scenario's `[check]`.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    pub strategy: Option<Strategy>,
    pub threads: usize,
    pub max_depth: Option<usize>,
    pub max_states: Option<usize>,
    pub timeout: Option<Duration>,
    /// Stop when the process's resident memory exceeds this many bytes.
    pub max_memory: Option<u64>,
    /// Set (e.g. by a Ctrl-C handler) to stop the check early.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Show progress on standard error (a terminal).
    pub progress: bool,
}

/// Resident memory of this process in bytes (Linux), if known.
pub fn resident_memory() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Watches a running check: stops it at a limit or on interrupt (by
/// cancelling the model, so the exploration drains), and shows progress.
struct Watch<'a> {
    model: &'a AuthModel,
    opts: &'a CheckOptions,
    start: Instant,
    stopped_by: Option<&'static str>,
    shown: bool,
    last: Instant,
}

impl<'a> Watch<'a> {
    fn new(model: &'a AuthModel, opts: &'a CheckOptions) -> Watch<'a> {
        Watch {
            model,
            opts,
            start: Instant::now(),
            stopped_by: None,
            shown: false,
            last: Instant::now(),
        }
    }

    fn poll(&mut self, phase: &str, states: usize, unique: usize, depth: usize) {
        if self.stopped_by.is_none() {
            let why = if self
                .opts
                .interrupt
                .as_ref()
                .is_some_and(|f| f.load(Ordering::Relaxed))
            {
                Some("interrupted")
            } else if self.opts.timeout.is_some_and(|t| self.start.elapsed() >= t) {
                Some("the timeout")
            } else if self
                .opts
                .max_memory
                .is_some_and(|m| resident_memory().is_some_and(|r| r > m))
            {
                Some("--max-memory")
            } else {
                None
            };
            if let Some(why) = why {
                self.stopped_by = Some(why);
                self.model.cancel.store(true, Ordering::Relaxed);
            }
        }
        let elapsed = self.start.elapsed();
        if self.opts.progress
            && elapsed >= Duration::from_secs(1)
            && self.last.elapsed() >= Duration::from_millis(200)
        {
            self.last = Instant::now();
            self.shown = true;
            let rate = unique as f64 / elapsed.as_secs_f64();
            eprint!(
                "\r\x1b[2K{phase}: {states} states, {unique} unique, depth {depth}, {:.0} unique/s, {:.1}s",
                rate,
                elapsed.as_secs_f64()
            );
        }
    }

    fn finish(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
            self.shown = false;
        }
    }
}

/// Sleeps between polls: briefly at first (most checks take milliseconds),
/// then up to 20 ms.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Backoff {
        Backoff(Duration::from_micros(20))
    }
    fn wait(&mut self) {
        std::thread::sleep(self.0);
        self.0 = (self.0 * 2).min(Duration::from_millis(20));
    }
}

fn run_checker<C: Checker<AuthModel>>(c: C, watch: &mut Watch<'_>) -> C {
    let mut backoff = Backoff::new();
    while !c.is_done() {
        watch.poll(
            "exploring",
            c.state_count(),
            c.unique_state_count(),
            c.max_depth(),
        );
        backoff.wait();
    }
    c.join()
}

/// Checks one scenario.
pub fn check(path: &Path, scenario: &Scenario, opts: &CheckOptions) -> Report {
    let start = Instant::now();
    let model = AuthModel::new(scenario);
    let strategy = opts.strategy.unwrap_or(scenario.check.strategy);
    let max_depth = opts.max_depth.or(scenario.check.max_depth);
    let threads = opts.threads.max(1);
    let mut watch = Watch::new(&model, opts);

    // --- safety, by stateright ---
    let mut builder = model.clone().checker().threads(threads);
    if let Some(d) = max_depth {
        builder = builder.target_max_depth(d);
    }
    if let Some(n) = opts.max_states {
        builder = builder.target_state_count(n);
    }
    let checker = match strategy {
        Strategy::Bfs => CheckerRun::Bfs(Box::new(run_checker(builder.spawn_bfs(), &mut watch))),
        Strategy::Dfs => CheckerRun::Dfs(Box::new(run_checker(builder.spawn_dfs(), &mut watch))),
    };
    let checker: &dyn Checker<AuthModel> = checker.as_dyn();
    let discoveries = checker.discoveries();
    let states = checker.state_count();
    let unique = checker.unique_state_count();
    let depth = checker.max_depth();
    let hit_states = opts.max_states.is_some_and(|n| states >= n);
    let hit_depth = max_depth.is_some_and(|d| depth >= d);
    let safety_stopped_by = watch.stopped_by;

    // The state graph: liveness is decided on it, and it gives every
    // safety violation its shortest trace (stateright keeps the last
    // violating path it popped, which is not the shortest one).
    let built = AtomicUsize::new(0);
    let graph = std::thread::scope(|scope| {
        let h = scope.spawn(|| {
            StateGraph::build(
                &model,
                liveness::Limits {
                    max_depth,
                    max_states: opts.max_states,
                    progress: Some(&built),
                },
            )
        });
        let mut backoff = Backoff::new();
        while !h.is_finished() {
            let n = built.load(Ordering::Relaxed);
            watch.poll("liveness graph", n, n, 0);
            backoff.wait();
        }
        h.join().expect("the graph builder does not panic")
    });
    watch.finish();
    let stopped_by = watch.stopped_by;
    let safety_complete = !(safety_stopped_by.is_some() || hit_states || hit_depth);

    let expected = scenario.expectations();
    let mut props = Vec::new();
    for p in PropertyId::ALL
        .into_iter()
        .filter(|p| p.kind() == PropertyKind::Safety)
    {
        let (verdict, trace, reason) = if let Some(path) = discoveries.get(p.as_str()) {
            let actions = match strategy {
                Strategy::Bfs => graph.shortest_to(|s| !model.holds(p, s)),
                Strategy::Dfs => None,
            }
            .unwrap_or_else(|| cut_at_violation(&model, p, path.clone().into_actions()));
            let (steps, _) = trace::describe(&model, &actions);
            (Verdict::Violated, Some(steps), None)
        } else if !safety_complete {
            (
                Verdict::Unknown,
                None,
                Some(limit_reason(safety_stopped_by, hit_states, hit_depth)),
            )
        } else if !discoveries.contains_key(trigger_name(p)) {
            (
                Verdict::Vacuous,
                None,
                Some(format!("vacuous: {}", p.trigger())),
            )
        } else {
            (Verdict::Holds, None, None)
        };
        props.push(PropertyReport::new(
            p,
            verdict,
            expected.get(&p).copied(),
            trace,
            reason,
        ));
    }

    // --- liveness, on the explored graph ---
    for p in [
        PropertyId::EventuallyAuthenticated,
        PropertyId::EventuallyResults,
    ] {
        let (verdict, trace, reason) = if !graph.complete {
            (
                Verdict::Unknown,
                None,
                Some(format!(
                    "the state graph is incomplete ({}); liveness needs all of it",
                    stopped_by.or(graph.stopped_by).unwrap_or("a limit")
                )),
            )
        } else {
            match liveness::decide(&model, &graph, p) {
                LiveOutcome::Holds => (Verdict::Holds, None, None),
                LiveOutcome::Vacuous => (
                    Verdict::Vacuous,
                    None,
                    Some(format!("vacuous: {}", p.trigger())),
                ),
                LiveOutcome::Violated {
                    path,
                    prefix,
                    reason,
                } => {
                    let (mut steps, _) = trace::describe(&model, &path);
                    for s in steps.iter_mut().skip(prefix) {
                        s.actor = format!("(then) {}", s.actor);
                    }
                    (Verdict::Violated, Some(steps), Some(reason))
                }
            }
        };
        props.push(PropertyReport::new(
            p,
            verdict,
            expected.get(&p).copied(),
            trace,
            reason,
        ));
    }

    let anomalies = graph
        .states
        .iter()
        .filter_map(|s| s.anomaly)
        .map(|a| a.to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();

    Report {
        scenario: ScenarioInfo {
            path: path.display().to_string(),
            name: scenario.name.clone(),
            hash: scenario.hash(),
        },
        complete: safety_complete && graph.complete,
        stats: Stats {
            states,
            unique_states: unique,
            max_depth: depth,
            elapsed_ms: start.elapsed().as_millis() as u64,
            graph_states: graph.states.len(),
            graph_edges: graph.edges,
        },
        properties: props,
        anomalies,
        suggestions: None,
    }
}

fn limit_reason(stopped_by: Option<&str>, hit_states: bool, hit_depth: bool) -> String {
    let mut why: Vec<&str> = stopped_by.into_iter().collect();
    if hit_states {
        why.push("--max-states");
    }
    if hit_depth {
        why.push("the depth bound");
    }
    format!(
        "stopped by {} before the property was decided",
        why.join(" and ")
    )
}

/// The name of the `sometimes` witness of a safety property's trigger.
pub fn trigger_name(p: PropertyId) -> &'static str {
    match p {
        PropertyId::QueryRunsAuthenticated => "trigger:query-runs-authenticated",
        PropertyId::UserRowReady => "trigger:user-row-ready",
        PropertyId::NoStaleIdentity => "trigger:no-stale-identity",
        PropertyId::StableAuth => "trigger:stable-auth",
        _ => unreachable!("liveness properties have no stateright witness"),
    }
}

enum CheckerRun<B, D> {
    Bfs(Box<B>),
    Dfs(Box<D>),
}

impl<B: Checker<AuthModel>, D: Checker<AuthModel>> CheckerRun<B, D> {
    fn as_dyn(&self) -> &dyn Checker<AuthModel> {
        match self {
            CheckerRun::Bfs(b) => b.as_ref(),
            CheckerRun::Dfs(d) => d.as_ref(),
        }
    }
}

/// The prefix of a counterexample up to the first state that violates `p`.
fn cut_at_violation(model: &AuthModel, p: PropertyId, actions: Vec<Action>) -> Vec<Action> {
    let mut s = model.init_state();
    for (i, a) in actions.iter().enumerate() {
        match model.next_state(&s, *a) {
            Some(next) => s = next,
            None => return actions,
        }
        if !model.holds(p, &s) {
            return actions[..=i].to_vec();
        }
    }
    actions
}

/// Replays the actions of a trace (a concrete run, as `TraceStep::raw`
/// carries them) and returns the final state if every one is enabled.
pub fn replay(model: &AuthModel, actions: &[Action]) -> Option<crate::model::State> {
    let mut s = model.init_state();
    let mut enabled = Vec::new();
    for a in actions {
        enabled.clear();
        model.actions(&s, &mut enabled);
        if !enabled.contains(a) {
            return None;
        }
        s = model.step(&s, *a, &mut crate::model::Fx::off())?;
    }
    Some(s)
}

/// A witness that a property is exercised: the shortest path to a state
/// where its trigger has happened (safety) or where its goal holds while
/// the provider is signed in (liveness).
pub fn witness(model: &AuthModel, graph: &StateGraph, p: PropertyId) -> Option<Vec<Action>> {
    match p.kind() {
        PropertyKind::Safety => graph.shortest_to(|s| s.triggered & p.bit() != 0),
        PropertyKind::Liveness => graph.shortest_to(|s| match p {
            PropertyId::EventuallyAuthenticated => liveness::authenticated_goal(s),
            _ => liveness::results_goal(model, s) && s.provider.session.user().is_some(),
        }),
    }
}
