//! Deciding every property of a scenario.
//!
//! Safety properties are decided by `stateright`'s checker (BFS by default,
//! which makes every counterexample a shortest one when run on one thread);
//! each has a `sometimes` witness of its trigger so a property whose trigger
//! never happens is reported `vacuous`, never `holds`. Liveness properties
//! are decided on the full state graph ([`liveness`]).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use stateright::{Checker, Model};

pub mod liveness;
pub mod report;
pub mod suggest;
pub mod trace;

use crate::model::{Action, AuthModel};
use crate::scenario::properties::{PropertyId, PropertyKind, Verdict};
use crate::scenario::{Scenario, Strategy};
use liveness::{LiveOutcome, StateGraph, fact};
use report::{PropertyReport, Report, ScenarioInfo, Stats};

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
    /// Turn symmetry reduction off: explore every renaming of token,
    /// connection, query and request numbers separately (to measure what
    /// the reduction saves; verdicts are the same).
    pub no_symmetry: bool,
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

    fn poll(&mut self, p: Progress) {
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
            let rate = p.unique as f64 / elapsed.as_secs_f64();
            let safety = if p.checker_done { "done" } else { "exploring" };
            eprint!(
                "\r\x1b[2K{safety}: {} states, {} unique, depth {}, {:.0} unique/s; liveness graph: {} states; {:.1}s",
                p.states,
                p.unique,
                p.depth,
                rate,
                p.graph,
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

/// What a running check has done so far.
#[derive(Clone, Copy)]
struct Progress {
    states: usize,
    unique: usize,
    depth: usize,
    checker_done: bool,
    graph: usize,
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

fn run_checker<C: Checker<AuthModel>>(
    c: C,
    watch: &mut Watch<'_>,
    graph: &AtomicUsize,
) -> (C, Progress) {
    let mut backoff = Backoff::new();
    let progress = |c: &C, done| Progress {
        states: c.state_count(),
        unique: c.unique_state_count(),
        depth: c.max_depth(),
        checker_done: done,
        graph: graph.load(Ordering::Relaxed),
    };
    while !c.is_done() {
        watch.poll(progress(&c, false));
        backoff.wait();
    }
    let c = c.join();
    let p = progress(&c, true);
    (c, p)
}

/// Checks one scenario.
pub fn check(path: &Path, scenario: &Scenario, opts: &CheckOptions) -> Report {
    let start = Instant::now();
    let mut model = AuthModel::new(scenario);
    model.canonical = !opts.no_symmetry;
    let strategy = opts.strategy.unwrap_or(scenario.check.strategy);
    let max_depth = opts.max_depth.or(scenario.check.max_depth);
    let threads = opts.threads.max(1);
    let mut watch = Watch::new(&model, opts);

    // Symmetry: BFS stores canonical states (so the liveness graph and
    // shortest traces see the reduced space); DFS lets stateright apply the
    // same reduction through `Representative`, exploring concrete states.
    let mut checker_model = model.clone();
    let dfs_symmetry = strategy == Strategy::Dfs && !opts.no_symmetry;
    if dfs_symmetry {
        checker_model.canonical = false;
    }

    // --- safety, by stateright; meanwhile, on another thread, the state
    // graph: liveness is decided on it, and it gives every safety violation
    // its shortest trace (stateright keeps the last violating path it
    // popped, which is not the shortest one).
    let mut builder = checker_model.clone().checker().threads(threads);
    if let Some(d) = max_depth {
        builder = builder.target_max_depth(d);
    }
    if let Some(n) = opts.max_states {
        builder = builder.target_state_count(n);
    }
    if dfs_symmetry {
        builder = builder.symmetry();
    }
    let built = AtomicUsize::new(0);
    let (checker, graph, safety_stopped_by) = std::thread::scope(|scope| {
        let h = scope.spawn(|| {
            StateGraph::build(
                &model,
                liveness::Limits {
                    max_depth,
                    max_states: opts.max_states,
                    progress: Some(&built),
                    compact: true,
                },
            )
        });
        let (checker, mut last) = match strategy {
            Strategy::Bfs => {
                let (c, p) = run_checker(builder.spawn_bfs(), &mut watch, &built);
                (CheckerRun::Bfs(Box::new(c)), p)
            }
            Strategy::Dfs => {
                let (c, p) = run_checker(builder.spawn_dfs(), &mut watch, &built);
                (CheckerRun::Dfs(Box::new(c)), p)
            }
        };
        // A limit hit from now on stops the graph, not the finished checker.
        let safety_stopped_by = watch.stopped_by;
        let mut backoff = Backoff::new();
        while !h.is_finished() {
            last.graph = built.load(Ordering::Relaxed);
            watch.poll(last);
            backoff.wait();
        }
        (
            checker,
            h.join().expect("the graph builder does not panic"),
            safety_stopped_by,
        )
    });
    let (discoveries, states, unique, depth) = {
        let c: &dyn Checker<AuthModel> = checker.as_dyn();
        (
            c.discoveries(),
            c.state_count(),
            c.unique_state_count(),
            c.max_depth(),
        )
    };
    // Free the safety checker's memory before the graph's edges are indexed.
    drop(checker);
    let mut graph = graph;
    graph.seal();
    let hit_states = opts.max_states.is_some_and(|n| states >= n);
    let hit_depth = max_depth.is_some_and(|d| depth >= d);
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
            let (steps, _) = match strategy {
                Strategy::Bfs => graph.shortest_to(|f| f & fact::violates(p) != 0),
                Strategy::Dfs => None,
            }
            .map(|actions| trace::describe(&model, &actions))
            .unwrap_or_else(|| {
                let actions = cut_at_violation(&checker_model, p, path.clone().into_actions());
                trace::describe(&checker_model, &actions)
            });
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
                LiveOutcome::Holds { fair_cycle } => {
                    let cycle = fair_cycle.map(|(path, prefix)| {
                        let (mut steps, _) = trace::describe(&model, &path);
                        for s in steps.iter_mut().skip(prefix) {
                            s.actor = format!("(cycle) {}", s.actor);
                        }
                        steps
                    });
                    let reason = if cycle.is_none() {
                        "recoverable (from every signed-in state, progress steps can get there) and inevitable (every weakly fair run of progress steps does)"
                    } else {
                        "recoverable (from every signed-in state, progress steps can get there) but not inevitable: a weakly fair run of progress steps can cycle forever without getting there (the (cycle) steps repeat)"
                    };
                    props.push(
                        PropertyReport::new(
                            p,
                            Verdict::Holds,
                            expected.get(&p).copied(),
                            None,
                            Some(reason.to_string()),
                        )
                        .with_inevitability(cycle),
                    );
                    continue;
                }
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

    let anomalies = graph.anomalies.iter().cloned().collect();

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
            graph_states: graph.len(),
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
        PropertyId::StoreRunsAuthenticated => "trigger:store-runs-authenticated",
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
pub fn witness(graph: &StateGraph, p: PropertyId) -> Option<Vec<Action>> {
    match p.kind() {
        PropertyKind::Safety => graph.shortest_to(|f| f & fact::triggered(p) != 0),
        PropertyKind::Liveness => {
            let goal = match p {
                PropertyId::EventuallyAuthenticated => fact::AUTH_GOAL,
                _ => fact::RESULTS_GOAL | fact::PREMISE,
            };
            graph.shortest_to(|f| f & goal == goal)
        }
    }
}

/// What an exploration by `stateright` alone found: for measuring the
/// checker without the liveness graph.
#[derive(Clone, Copy, Debug)]
pub struct Exploration {
    pub states: usize,
    pub unique_states: usize,
    pub max_depth: usize,
    pub elapsed: Duration,
    /// False when `timeout` stopped it.
    pub complete: bool,
}

/// Explores `scenario`'s safety properties with `stateright` only (no
/// liveness graph, no traces). With `symmetry` and DFS the checker applies
/// the reduction itself (`Representative`); with BFS the model stores
/// canonical states.
pub fn explore_safety(
    scenario: &Scenario,
    strategy: Strategy,
    threads: usize,
    symmetry: bool,
    timeout: Option<Duration>,
) -> Exploration {
    let mut model = AuthModel::new(scenario);
    model.canonical = symmetry && strategy == Strategy::Bfs;
    let cancel = model.cancel.clone();
    let start = Instant::now();
    let mut builder = model.checker().threads(threads.max(1));
    if symmetry && strategy == Strategy::Dfs {
        builder = builder.symmetry();
    }
    let run = |c: &dyn Checker<AuthModel>| {
        let mut backoff = Backoff::new();
        let mut stopped = false;
        while !c.is_done() {
            if timeout.is_some_and(|t| start.elapsed() >= t) {
                cancel.store(true, Ordering::Relaxed);
                stopped = true;
            }
            backoff.wait();
        }
        stopped
    };
    let (c, stopped): (Box<dyn Checker<AuthModel>>, bool) = match strategy {
        Strategy::Bfs => {
            let c = builder.spawn_bfs();
            let stopped = run(&c);
            (Box::new(c.join()), stopped)
        }
        Strategy::Dfs => {
            let c = builder.spawn_dfs();
            let stopped = run(&c);
            (Box::new(c.join()), stopped)
        }
    };
    Exploration {
        states: c.state_count(),
        unique_states: c.unique_state_count(),
        max_depth: c.max_depth(),
        elapsed: start.elapsed(),
        complete: !stopped,
    }
}
