//! Deciding every property of a scenario.
//!
//! One exploration decides everything: the breadth-first state graph
//! ([`liveness::StateGraph`], on `threads` threads, the same graph for any
//! count) records what each state makes true — each safety property's
//! violation and trigger, the liveness premise and goals — so safety
//! verdicts and shortest counterexamples are read off it (a property whose
//! trigger never happens is `vacuous`, never `holds`), and liveness is
//! decided on its progress edges. With `--strategy dfs`, `stateright`'s
//! depth-first checker runs beside it and its path is reported; stateright's
//! BFS is kept as a cross-check in the tests. [`bitstate`] is the bounded
//! mode for scenarios too large to decide: it proves nothing.
//!
//! Limits (`max_states`, `timeout`, `max_memory`, an interrupt) stop the
//! exploration; the report then says what was decided and what is
//! `unknown`. The memory limit is kept by stopping early: each poll adds to
//! the resident memory what the check may still allocate (the next growth
//! of the index, the graph's adjacency lists and the liveness decisions)
//! and stops when that would pass the limit.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use stateright::{Checker, Model};

pub mod bitstate;
pub mod dump;
pub mod liveness;
pub mod report;
pub mod suggest;
pub mod trace;

use crate::model::{Action, AuthModel};
use crate::scenario::properties::{PropertyId, PropertyKind, Verdict};
use crate::scenario::{Scenario, Strategy};
use liveness::{GraphProgress, LiveOutcome, StateGraph, fact};
use report::{BeyondMemory, PropertyReport, Report, ScenarioInfo, Stats};

/// How to run a check. `None` fields fall back to the scenario's `[check]`.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    pub strategy: Option<Strategy>,
    pub threads: usize,
    pub max_depth: Option<usize>,
    /// Stop each exploration (the safety checker's and the state graph's)
    /// after this many distinct states.
    pub max_states: Option<usize>,
    pub timeout: Option<Duration>,
    /// Keep the process's resident memory under this many bytes: the check
    /// stops, with a partial report, before it would go over. `None`:
    /// [`default_max_memory`].
    pub max_memory: Option<u64>,
    /// Set (e.g. by a Ctrl-C handler) to stop the check early.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Show progress on standard error (a terminal).
    pub progress: bool,
    /// Turn symmetry reduction off: explore every renaming of token,
    /// connection, query and request numbers separately (to measure what
    /// the reduction saves; verdicts are the same).
    pub no_symmetry: bool,
    /// For each property that holds, keep a witness that it is exercised
    /// ([`PropertyReport::witness`]).
    pub witnesses: bool,
    /// Instead of deciding, search with a bit array of this many bits
    /// ([`bitstate`]): violations found are real, nothing is proved.
    pub bitstate: Option<u64>,
}

/// The share of the available memory a check may use when no
/// `max_memory` is given.
pub const DEFAULT_MEMORY_SHARE: f64 = 0.6;

/// Resident memory of this process in bytes (Linux), if known.
pub fn resident_memory() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// A `Key:   123 kB` line of a `/proc` file, in bytes.
fn proc_kib(file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Peak resident memory of this process in bytes (Linux), if known.
pub fn peak_memory() -> Option<u64> {
    proc_kib("/proc/self/status", "VmHWM:")
}

/// Memory available to this process beyond what it holds, in bytes: the
/// kernel's estimate (`MemAvailable` in `/proc/meminfo`), or what is left
/// under the cgroup's limit (a container's) when that is less.
pub fn available_memory() -> Option<u64> {
    let mut available = proc_kib("/proc/meminfo", "MemAvailable:")?;
    let read = |p: &str| -> Option<u64> { std::fs::read_to_string(p).ok()?.trim().parse().ok() };
    if let (Some(max), Some(current)) = (
        read("/sys/fs/cgroup/memory.max"),
        read("/sys/fs/cgroup/memory.current"),
    ) {
        available = available.min(max.saturating_sub(current));
    }
    Some(available)
}

/// The memory limit of a check given none: [`DEFAULT_MEMORY_SHARE`] of the
/// memory available to the process now (what it holds included). `None`
/// where the system does not say (not Linux).
pub fn default_max_memory() -> Option<u64> {
    let available = available_memory()? + resident_memory().unwrap_or(0);
    Some((available as f64 * DEFAULT_MEMORY_SHARE) as u64)
}

/// Slack under a memory limit for what grows between two polls.
fn memory_margin(cap: u64) -> u64 {
    (cap / 64).max(8 << 20)
}

/// A byte count for people: `812 MiB`, `1.4 GiB`.
pub fn human_bytes(b: u64) -> String {
    const MIB: f64 = (1u64 << 20) as f64;
    const GIB: f64 = (1u64 << 30) as f64;
    let b = b as f64;
    if b >= GIB {
        format!("{:.1} GiB", b / GIB)
    } else {
        format!("{:.0} MiB", b / MIB)
    }
}

/// A count for a progress line: `950`, `12.3K`, `4.56M`.
fn human_count(n: usize) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}K", n as f64 / 1e3),
        _ => format!("{:.2}M", n as f64 / 1e6),
    }
}

/// The progress line: what the check is doing now, shown on standard error
/// every 200 ms (from the first second on) by a thread of its own, so a
/// long phase still shows its time going.
struct Status {
    line: Mutex<String>,
    /// Lines to print once, above the progress line.
    notes: Mutex<Vec<String>>,
    done: AtomicBool,
    start: Instant,
    cap: Option<u64>,
}

impl Status {
    fn new(start: Instant, cap: Option<u64>) -> Status {
        Status {
            line: Mutex::new(String::from("starting")),
            notes: Mutex::new(Vec::new()),
            done: AtomicBool::new(false),
            start,
            cap,
        }
    }

    fn set(&self, line: String) {
        *self.line.lock().unwrap_or_else(|e| e.into_inner()) = line;
    }

    /// A line printed once, above the progress line (only on a terminal).
    fn note(&self, line: String) {
        self.notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }

    /// Prints the line until [`Status::done`] is set, then clears it.
    fn print_until_done(&self) {
        let mut shown = false;
        let mut last: Option<Instant> = None;
        while !self.done.load(Ordering::Relaxed) {
            std::thread::park_timeout(Duration::from_millis(20));
            let elapsed = self.start.elapsed();
            if elapsed < Duration::from_secs(1)
                || last.is_some_and(|l| l.elapsed() < Duration::from_millis(200))
            {
                continue;
            }
            last = Some(Instant::now());
            let memory = match (resident_memory(), self.cap) {
                (Some(r), Some(c)) => format!(" | {} of {}", human_bytes(r), human_bytes(c)),
                (Some(r), None) => format!(" | {}", human_bytes(r)),
                _ => String::new(),
            };
            for note in self
                .notes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .drain(..)
            {
                eprintln!("\r\x1b[2K{note}");
            }
            let line = self.line.lock().unwrap_or_else(|e| e.into_inner()).clone();
            eprint!("\r\x1b[2K{line}{memory} | {:.1}s", elapsed.as_secs_f64());
            shown = true;
        }
        if shown {
            eprint!("\r\x1b[2K");
        }
    }
}

/// Why a check started at `start` must stop now, short of memory: an
/// interrupt, or its timeout passed.
fn interrupted_or_late(opts: &CheckOptions, start: Instant) -> Option<&'static str> {
    if opts
        .interrupt
        .as_ref()
        .is_some_and(|f| f.load(Ordering::Relaxed))
    {
        Some("interrupted")
    } else if opts.timeout.is_some_and(|t| start.elapsed() >= t) {
        Some("the timeout")
    } else {
        None
    }
}

/// Watches the state graph (and stateright's DFS beside it): stops them at
/// a limit or on interrupt (by cancelling their models, so they drain), and
/// keeps the progress line.
struct Watch<'a> {
    opts: &'a CheckOptions,
    status: &'a Status,
    /// Whether stateright's DFS runs beside the state graph.
    checker: bool,
    /// The memory limit.
    cap: Option<u64>,
    /// Stops the state graph's exploration.
    graph_cancel: &'a AtomicBool,
    /// Stops the safety checker's.
    checker_cancel: &'a AtomicBool,
    graph: &'a GraphProgress,
    /// The limit that stopped both explorations.
    stopped_by: Option<&'static str>,
    /// `max_states` stopped the safety checker.
    checker_hit_states: bool,
    /// Said that the graph will not fit.
    warned: bool,
}

impl Watch<'_> {
    /// Bytes of headroom the check still needs: the graph's next growth and
    /// what deciding properties on it allocates, the safety checker's next
    /// growth while it runs, and slack for what grows between polls.
    fn reserve(&self, cap: u64, p: &Progress) -> u64 {
        // stateright's fingerprint map: 16-byte entries and a control byte,
        // at most 7/8 full, growing by doubling.
        let checker = if p.checker_done {
            0
        } else {
            p.unique as u64 * 2 * 17 * 8 / 7
        };
        // Once the graph is whole, it decides every property: the checker,
        // if still running, must leave room for deciding liveness on it.
        let graph = if !p.graph_done {
            self.graph.reserve_bytes()
        } else if self.graph.complete.load(Ordering::Relaxed) {
            StateGraph::finish_bytes(
                self.graph.states.load(Ordering::Relaxed),
                self.graph.kept_edges.load(Ordering::Relaxed),
            )
        } else {
            0
        };
        graph + checker + memory_margin(cap)
    }

    /// Says once, as soon as the levels found show it, that the state
    /// graph will not fit under the memory limit, and what to do instead.
    fn warn_if_it_cannot_fit(&mut self, p: &Progress) {
        let (Some(cap), false, false) = (self.cap, self.warned, p.graph_done) else {
            return;
        };
        let (Some(memory), states) = (resident_memory(), self.graph.states.load(Ordering::Relaxed))
        else {
            return;
        };
        let levels = self
            .graph
            .levels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        // A few levels and some memory first: early levels say little.
        if levels.len() < 4 || memory < cap / 8 {
            return;
        }
        let b = BeyondMemory::project(cap, &levels, states, memory);
        if b.likely_does_not_fit() {
            self.warned = true;
            let estimate = match (b.estimated_states, b.estimated_memory) {
                (Some(n), Some(m)) => format!(
                    "; extrapolated, the whole graph has about {} states and needs about {}",
                    human_count(n),
                    human_bytes(m)
                ),
                _ => String::new(),
            };
            self.status.note(format!(
                "note: the state graph will likely not fit under --max-memory {}: {} states at depth {}, {:.2}x per level{estimate}. A bounded search goes beyond memory (its violations are real runs; it proves nothing): --bitstate {}",
                human_bytes(cap),
                human_count(states),
                levels.len(),
                b.growth.unwrap_or(0.0),
                b.bitstate
            ));
        }
    }

    fn poll(&mut self, p: Progress) {
        if self.stopped_by.is_none() {
            let why = if let Some(why) = interrupted_or_late(self.opts, self.status.start) {
                Some(why)
            } else if self.cap.is_some_and(|cap| {
                resident_memory().is_some_and(|r| r.saturating_add(self.reserve(cap, &p)) > cap)
            }) {
                Some("--max-memory")
            } else {
                None
            };
            if let Some(why) = why {
                self.stopped_by = Some(why);
                self.graph_cancel.store(true, Ordering::Relaxed);
                self.checker_cancel.store(true, Ordering::Relaxed);
            }
        }
        self.warn_if_it_cannot_fit(&p);
        if !p.checker_done
            && !self.checker_hit_states
            && self.opts.max_states.is_some_and(|n| p.unique >= n)
        {
            self.checker_hit_states = true;
            self.checker_cancel.store(true, Ordering::Relaxed);
        }
        if self.opts.progress {
            let graph = self.graph.states.load(Ordering::Relaxed);
            let graph_stopped =
                self.stopped_by.is_some() || self.opts.max_states.is_some_and(|n| graph >= n);
            let name = if self.checker {
                "state graph"
            } else {
                "state graph (BFS)"
            };
            let graph = match (p.graph_done, graph_stopped) {
                (true, false) => format!("{name} done ({} states)", human_count(graph)),
                (true, true) => format!("{name} stopped at {} states", human_count(graph)),
                (false, _) => format!(
                    "{name}: {} states, depth {}, {} to expand",
                    human_count(graph),
                    self.graph.depth.load(Ordering::Relaxed),
                    human_count(self.graph.frontier.load(Ordering::Relaxed)),
                ),
            };
            let line = if self.checker {
                let safety = if p.checker_done {
                    format!("safety DFS done ({} unique states)", human_count(p.unique))
                } else {
                    format!(
                        "safety DFS: {} states, {} unique, depth {}",
                        human_count(p.states),
                        human_count(p.unique),
                        p.depth
                    )
                };
                format!("{safety} | {graph}")
            } else {
                graph
            };
            let line = match self.stopped_by {
                Some(why) => format!("stopping ({why}): {line}"),
                None => line,
            };
            self.status.set(line);
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
    graph_done: bool,
}

/// Sleeps between polls: briefly at first (most checks take milliseconds),
/// then up to `max`.
struct Backoff {
    wait: Duration,
    max: Duration,
}

impl Backoff {
    /// Up to 5 ms between polls, 1 ms when counting states to a limit
    /// (fewer states past it).
    fn new() -> Backoff {
        Backoff {
            wait: Duration::from_micros(20),
            max: Duration::from_millis(5),
        }
    }
    fn for_states(max_states: Option<usize>) -> Backoff {
        let mut b = Backoff::new();
        if max_states.is_some() {
            b.max = Duration::from_millis(1);
        }
        b
    }
    fn wait(&mut self) {
        std::thread::sleep(self.wait);
        self.wait = (self.wait * 2).min(self.max);
    }
}

fn run_checker<C: Checker<AuthModel>>(
    c: C,
    watch: &mut Watch<'_>,
    graph_done: &dyn Fn() -> bool,
) -> (C, Progress) {
    let mut backoff = Backoff::for_states(watch.opts.max_states);
    let progress = |c: &C, done| Progress {
        states: c.state_count(),
        unique: c.unique_state_count(),
        depth: c.max_depth(),
        checker_done: done,
        graph_done: graph_done(),
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
    let cap = opts.max_memory.or_else(default_max_memory);
    let status = Status::new(start, cap);
    std::thread::scope(|scope| {
        let printer = opts
            .progress
            .then(|| scope.spawn(|| status.print_until_done()));
        let report = match opts.bitstate {
            Some(bits) => check_bounded(path, scenario, opts, bits, &status),
            None => check_inner(path, scenario, opts, cap, &status),
        };
        status.done.store(true, Ordering::Relaxed);
        if let Some(p) = printer {
            p.thread().unpark();
        }
        report
    })
}

/// A bounded search ([`bitstate`]): the violations it finds, `unknown`
/// for everything else, and what it covered.
fn check_bounded(
    path: &Path,
    scenario: &Scenario,
    opts: &CheckOptions,
    bits: u64,
    status: &Status,
) -> Report {
    let start = status.start;
    let mut model = AuthModel::new(scenario);
    model.canonical = !opts.no_symmetry;
    let stop = AtomicBool::new(false);
    let stored = std::sync::atomic::AtomicUsize::new(0);
    let limits = bitstate::Limits {
        bits,
        searches: opts.threads.max(1),
        max_depth: opts.max_depth.or(scenario.check.max_depth),
        max_states: opts.max_states,
        stop: &stop,
        stored: &stored,
    };
    let outcome = std::thread::scope(|scope| {
        let h = scope.spawn(|| bitstate::search(&model, &limits));
        let mut backoff = Backoff::new();
        while !h.is_finished() {
            if interrupted_or_late(opts, start).is_some() {
                stop.store(true, Ordering::Relaxed);
            }
            if opts.progress {
                let n = stored.load(Ordering::Relaxed);
                status.set(format!(
                    "bitstate search (not a proof), {} searches: {} states stored, {:.0} bits per state",
                    limits.searches,
                    human_count(n),
                    bits as f64 / n.max(1) as f64
                ));
            }
            backoff.wait();
        }
        h.join().expect("the bounded search does not panic")
    });
    let expected = scenario.expectations();
    let cov = &outcome.coverage;
    let not_proved = format!(
        "no violation found by a bitstate search of {} states ({} search{}, {:.0} bits per state, about {:.1} states missed by hash collisions{}): not a proof",
        cov.states,
        cov.searches,
        if cov.searches == 1 { "" } else { "es" },
        cov.hash_factor,
        cov.expected_omissions,
        if cov.exhausted {
            ""
        } else {
            ", stopped by a limit"
        }
    );
    let mut props = Vec::new();
    for p in PropertyId::ALL {
        let (verdict, steps, reason) = if p.kind() == PropertyKind::Liveness {
            (
                Verdict::Unknown,
                None,
                "a bitstate search decides no liveness property (it needs the whole state graph)"
                    .to_string(),
            )
        } else if let Some(f) = outcome.violations.iter().find(|f| f.property == p) {
            (
                Verdict::Violated,
                Some(trace::describe(&model, &f.actions).0),
                "found by a bitstate search: a real run of the model, not necessarily the shortest"
                    .to_string(),
            )
        } else {
            let seen = if outcome.triggered.contains(&p) {
                "its trigger happened"
            } else {
                "its trigger never happened in what was searched"
            };
            (Verdict::Unknown, None, format!("{not_proved}; {seen}"))
        };
        props.push(PropertyReport::new(
            p,
            verdict,
            expected.get(&p).copied(),
            steps,
            Some(reason),
        ));
    }
    Report {
        scenario: ScenarioInfo {
            path: path.display().to_string(),
            name: scenario.name.clone(),
            hash: scenario.hash(),
        },
        complete: false,
        stats: Stats {
            states: outcome.transitions + 1,
            unique_states: cov.states,
            max_depth: cov.max_depth + 1,
            elapsed_ms: start.elapsed().as_millis() as u64,
            graph_states: 0,
            graph_edges: 0,
            peak_memory: peak_memory(),
        },
        properties: props,
        anomalies: outcome.anomalies.into_iter().collect(),
        suggestions: None,
        bounded: Some(outcome.coverage),
        beyond_memory: None,
    }
}

/// How a violated safety property's trace was found.
enum Found {
    /// On the breadth-first state graph: a shortest one.
    Graph(Vec<Action>),
    /// By the safety checker: not necessarily a shortest one.
    Checker(Vec<Action>),
}

fn check_inner(
    path: &Path,
    scenario: &Scenario,
    opts: &CheckOptions,
    cap: Option<u64>,
    status: &Status,
) -> Report {
    let start = status.start;
    let mut model = AuthModel::new(scenario);
    model.canonical = !opts.no_symmetry;
    let strategy = opts.strategy.unwrap_or(scenario.check.strategy);
    let max_depth = opts.max_depth.or(scenario.check.max_depth);
    let threads = opts.threads.max(1);

    // Symmetry: BFS stores canonical states (so the liveness graph and
    // shortest traces see the reduced space); DFS lets stateright apply the
    // same reduction through `Representative`, exploring concrete states.
    // The checker has a cancel flag of its own, so `max_states` can stop it
    // and not the graph.
    let mut checker_model = model.clone();
    checker_model.cancel = Arc::new(AtomicBool::new(false));
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
    if dfs_symmetry {
        builder = builder.symmetry();
    }
    let built = GraphProgress::default();
    let mut watch = Watch {
        opts,
        status,
        checker: strategy == Strategy::Dfs,
        cap,
        graph_cancel: &model.cancel,
        checker_cancel: &checker_model.cancel,
        graph: &built,
        stopped_by: None,
        checker_hit_states: false,
        warned: false,
    };
    // BFS: the state graph alone decides everything (one exploration, on
    // `threads` threads). DFS: stateright's depth-first search runs beside
    // it (it may find a violation deep down first).
    let use_checker = strategy == Strategy::Dfs;
    let graph_threads = if use_checker { 1 } else { threads };
    let (checker, graph) = std::thread::scope(|scope| {
        let h = scope.spawn(|| {
            StateGraph::build(
                &model,
                liveness::Limits {
                    max_depth,
                    max_states: opts.max_states,
                    progress: Some(&built),
                    compact: true,
                    threads: graph_threads,
                },
            )
        });
        let graph_done = || h.is_finished();
        let (checker, mut last) = if use_checker {
            let (c, p) = run_checker(builder.spawn_dfs(), &mut watch, &graph_done);
            (Some(c), p)
        } else {
            (
                None,
                Progress {
                    states: 0,
                    unique: 0,
                    depth: 0,
                    checker_done: true,
                    graph_done: false,
                },
            )
        };
        let mut backoff = Backoff::new();
        while !h.is_finished() {
            watch.poll(last);
            backoff.wait();
        }
        last.graph_done = true;
        watch.poll(last);
        (checker, h.join().expect("the graph builder does not panic"))
    });
    let (discoveries, states, unique, depth) = match &checker {
        Some(c) => (
            c.discoveries(),
            c.state_count(),
            c.unique_state_count(),
            c.max_depth(),
        ),
        None => (
            Default::default(),
            graph.edges + 1,
            graph.len(),
            graph.depth.iter().max().map_or(0, |d| *d as usize + 1),
        ),
    };
    // Free the safety checker's memory before the graph's edges are indexed.
    drop(checker);
    let stopped_by = watch.stopped_by;
    let hit_states = watch.checker_hit_states;
    let hit_depth = max_depth.is_some_and(|d| depth >= d);
    // Without stateright (BFS), the graph alone says what was decided.
    let checker_complete = use_checker && !(stopped_by.is_some() || hit_states || hit_depth);
    let graph_stopped_by = graph.stopped_by;
    let limit = || {
        let mut why: Vec<&str> = stopped_by.into_iter().collect();
        if hit_states || graph_stopped_by == Some("max-states") {
            why.push("--max-states");
        }
        if hit_depth || graph_stopped_by == Some("max-depth") {
            why.push("the depth bound");
        }
        if why.is_empty() {
            why.push("a limit");
        }
        why.join(" and ")
    };
    // Safety is decided once either exploration has seen every state.
    let safety_complete = checker_complete || graph.complete;

    // Liveness needs the graph's edges indexed, and memory for deciding.
    let mut graph = graph;
    let mut liveness_memory: Option<String> = None;
    if graph.complete {
        let need = StateGraph::finish_bytes(graph.len(), graph.kept_edges());
        let have = resident_memory().unwrap_or(0);
        match cap {
            Some(cap) if have + need + memory_margin(cap) > cap => {
                liveness_memory = Some(format!(
                    "deciding it on the state graph ({} states) needs about {} more, and --max-memory {} leaves {}",
                    graph.len(),
                    human_bytes(need),
                    human_bytes(cap),
                    human_bytes(cap.saturating_sub(have))
                ));
            }
            _ => {
                status.set(format!(
                    "indexing the state graph ({} states, {} progress edges)",
                    human_count(graph.len()),
                    human_count(graph.kept_edges())
                ));
                graph.seal();
            }
        }
    }

    let expected = scenario.expectations();
    // A trace read off an incomplete graph is shortest among the states it
    // reached (breadth first, they include every shallower state).
    let incomplete = !graph.complete;
    status.set("traces".to_string());
    let mut props = Vec::new();
    for p in PropertyId::ALL
        .into_iter()
        .filter(|p| p.kind() == PropertyKind::Safety)
    {
        let discovered = discoveries.get(p.as_str());
        let on_graph = || graph.shortest_to(|f| f & fact::violates(p) != 0);
        let found = match (strategy, discovered) {
            (Strategy::Bfs, Some(path)) => {
                Some(on_graph().map(Found::Graph).unwrap_or_else(|| {
                    Found::Checker(cut_at_violation(
                        &checker_model,
                        p,
                        path.clone().into_actions(),
                    ))
                }))
            }
            (Strategy::Dfs, Some(path)) => Some(Found::Checker(cut_at_violation(
                &checker_model,
                p,
                path.clone().into_actions(),
            ))),
            // The checker stopped first: the graph may have seen it.
            (_, None) => on_graph().map(Found::Graph),
        };
        let triggered = discoveries.contains_key(trigger_name(p))
            || graph.facts.iter().any(|&f| f & fact::triggered(p) != 0);
        let (verdict, trace, reason) = if let Some(found) = found {
            let (steps, reason) = match found {
                Found::Graph(actions) => (
                    trace::describe(&model, &actions).0,
                    incomplete.then(|| {
                        format!(
                            "shortest within what was explored ({} stopped the check)",
                            limit()
                        )
                    }),
                ),
                Found::Checker(actions) => (
                    trace::describe(&checker_model, &actions).0,
                    incomplete.then(|| match strategy {
                        Strategy::Bfs => format!(
                            "not necessarily the shortest: the safety checker found it beyond what the breadth-first state graph explored before {} stopped the check",
                            limit()
                        ),
                        Strategy::Dfs => format!(
                            "not necessarily the shortest: found depth first, and {} stopped the check",
                            limit()
                        ),
                    }),
                ),
            };
            (Verdict::Violated, Some(steps), reason)
        } else if !safety_complete {
            (
                Verdict::Unknown,
                None,
                Some(format!(
                    "stopped by {} before the property was decided",
                    limit()
                )),
            )
        } else if !triggered {
            (
                Verdict::Vacuous,
                None,
                Some(format!("vacuous: {}", p.trigger())),
            )
        } else {
            (Verdict::Holds, None, None)
        };
        let witness = (verdict == Verdict::Holds && opts.witnesses)
            .then(|| witness(&graph, p))
            .flatten()
            .map(|actions| trace::describe(&model, &actions).0);
        props.push(
            PropertyReport::new(p, verdict, expected.get(&p).copied(), trace, reason)
                .with_witness(witness),
        );
    }

    // --- liveness, on the explored graph ---
    for p in [
        PropertyId::EventuallyAuthenticated,
        PropertyId::EventuallyResults,
    ] {
        status.set(format!(
            "liveness: {p} on the state graph ({} states)",
            human_count(graph.len())
        ));
        let (verdict, trace, reason) = if p == PropertyId::EventuallyResults
            && model.ctx.components.is_empty()
        {
            (
                Verdict::Vacuous,
                None,
                Some("vacuous: the scenario has no component, so there is no query result to wait for".to_string()),
            )
        } else if !graph.complete {
            (
                Verdict::Unknown,
                None,
                Some(format!(
                    "the state graph is incomplete ({}); liveness needs all of it",
                    limit()
                )),
            )
        } else if let Some(why) = &liveness_memory {
            (Verdict::Unknown, None, Some(why.clone()))
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
                    let witness = opts
                        .witnesses
                        .then(|| witness(&graph, p))
                        .flatten()
                        .map(|actions| trace::describe(&model, &actions).0);
                    props.push(
                        PropertyReport::new(
                            p,
                            Verdict::Holds,
                            expected.get(&p).copied(),
                            None,
                            Some(reason.to_string()),
                        )
                        .with_inevitability(cycle)
                        .with_witness(witness),
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
    let beyond_memory = match (stopped_by, cap) {
        (Some("--max-memory"), Some(cap)) if !graph.complete => Some(BeyondMemory::project(
            cap,
            &built.levels.lock().unwrap_or_else(|e| e.into_inner()),
            graph.len(),
            peak_memory().or_else(resident_memory).unwrap_or(0),
        )),
        _ => None,
    };

    Report {
        scenario: ScenarioInfo {
            path: path.display().to_string(),
            name: scenario.name.clone(),
            hash: scenario.hash(),
        },
        complete: safety_complete && graph.complete && liveness_memory.is_none(),
        stats: Stats {
            states,
            unique_states: unique,
            max_depth: depth,
            elapsed_ms: start.elapsed().as_millis() as u64,
            graph_states: graph.len(),
            graph_edges: graph.edges,
            peak_memory: peak_memory(),
        },
        properties: props,
        anomalies,
        suggestions: None,
        bounded: None,
        beyond_memory,
    }
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

/// What `stateright`'s own breadth-first search says about the safety
/// properties: the cross-check of the state graph's verdicts (tests).
#[derive(Clone, Debug)]
pub struct StaterightSafety {
    /// Safety properties it found violated.
    pub violated: Vec<PropertyId>,
    /// Safety properties whose trigger it saw happen.
    pub triggered: Vec<PropertyId>,
    pub unique_states: usize,
    /// False when it stopped early because every property had a discovery
    /// (then `unique_states` counts only what it explored).
    pub explored_all: bool,
}

/// Runs `stateright`'s BFS checker (one thread, canonical states) on
/// `scenario` and reads its discoveries.
pub fn stateright_safety(scenario: &Scenario) -> StaterightSafety {
    let model = AuthModel::new(scenario);
    let c = model.checker().spawn_bfs().join();
    let d = c.discoveries();
    let safety = || {
        PropertyId::ALL
            .into_iter()
            .filter(|p| p.kind() == PropertyKind::Safety)
    };
    let violated: Vec<PropertyId> = safety().filter(|p| d.contains_key(p.as_str())).collect();
    let triggered = safety()
        .filter(|p| d.contains_key(trigger_name(*p)))
        .collect();
    let explored_all = d.len() < 2 * safety().count();
    StaterightSafety {
        violated,
        triggered,
        unique_states: c.unique_state_count(),
        explored_all,
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
