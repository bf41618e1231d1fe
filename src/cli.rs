//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "authrace",
    version,
    about = "Model checker for the authentication races of Convex web clients",
    long_about = "authrace explores every interleaving of an auth provider, the Convex client \
(convex@1.48.0), React components with their gates, the server and the network, and proves \
that gated queries never reach the server unauthenticated, or prints the shortest counterexample.",
    after_help = "Example:\n  authrace check models/seed-better-auth-ungated.toml\n  authrace check models/ --format json\n\nExit codes: 0 as expected, 1 a property violated or a verdict differs from [expect], 2 bad input or usage, 3 a limit stopped the check."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check scenario files: every property's verdict, and the shortest trace for each violation.
    #[command(
        after_help = "Example:\n  authrace check models/seed-better-auth-ungated.toml\n  authrace check models/ --format json --threads 2\n\nOutput: one report per file; with several files, a last line sums them up (text). JSON: one object when the only argument is a file, otherwise (a folder, or several arguments) an array of them, however many files are found.\n\nExit codes: 0 as expected, 1 a property violated or a verdict differs from [expect], 2 bad input or usage (also a folder with no *.toml), 3 a limit stopped the check."
    )]
    Check(CheckArgs),
    /// Scan a Convex + React app: every query call site, its gate, and the risks under each trigger, with checked fixes.
    #[command(
        after_help = "Example:\n  authrace scan .\n  authrace scan . --format sarif > authrace.sarif\n  authrace scan . --triggers first-load,sign-out --explain\n\nExit codes: 0 no finding, 1 findings, 2 bad input, 3 a limit stopped a check."
    )]
    Scan(ScanArgs),
    /// Check proposed client patches: per scenario, every property unpatched, with each patch and with all, marking what each fixes and what it makes worse.
    #[command(
        after_help = "Example:\n  authrace patches models/findings/reauth-same-token.toml\n  authrace patches models/ --format json\n\nExit codes: 0 no patch makes a property worse, 1 some patch does (a new violation), 2 bad input, 3 a limit left a verdict unknown."
    )]
    Patches(PatchesArgs),
    /// Print the shortest counterexample of a property (or, when it holds, a witness of it being exercised).
    #[command(
        after_help = "Example:\n  authrace trace models/seed-better-auth-ungated.toml --property query-runs-authenticated --format mermaid\n\nExit codes: 0 a trace printed (a counterexample when the property is violated, a witness when it holds; the first line, or the JSON's kind and verdict, say which), 2 bad input or usage, or no trace exists (the property is vacuous: its trigger never happens), 3 a limit stopped the check before the property was decided."
    )]
    Trace(TraceArgs),
    /// Draw one actor's state machine: the explored state graph projected onto that actor.
    #[command(
        after_help = "Example:\n  authrace diagram models/seed-better-auth-ungated.toml --actor client --format dot | dot -Tsvg > client.svg"
    )]
    Diagram(DiagramArgs),
    /// Regenerate the diagrams and tables in docs/ from the model (or check they are fresh).
    #[command(
        after_help = "Example:\n  authrace docs          # rewrite docs/diagrams.md and docs/gates.md\n  authrace docs --check  # exit 1 if they are stale"
    )]
    Docs(DocsArgs),
    /// Explore the model in a web UI: step through states, follow counterexamples.
    #[command(
        after_help = "Example:\n  authrace explore models/seed-better-auth-ungated.toml\n  # then open http://127.0.0.1:3000/\n\nThe scenario is checked first, with the limits below and progress on a terminal; when a limit stops it, the explorer still opens, and the verdicts not decided show as unknown."
    )]
    Explore(ExploreArgs),
    /// Run conformance schedules on the real client (tests/conformance, Node) and check the model produces the same traces.
    #[command(
        after_help = "Example:\n  authrace conform tests/conformance/schedules/*.json\n  authrace conform --show-trace schedule.json"
    )]
    Conform(ConformArgs),
    /// Write a commented starter scenario (the seed app) that checks as written.
    #[command(
        after_help = "Example:\n  authrace init my-app.toml && authrace check my-app.toml --suggest"
    )]
    Init(InitArgs),
    /// Measure: every scenario in models/, scaling series, symmetry, threads and a SPIN peer; writes docs/performance.md.
    #[command(
        after_help = "Example:\n  authrace bench --out docs/performance.md   # minutes; the table states which targets are met\n  authrace bench --quick                      # a smaller run, to standard output\n  authrace bench --only scan                  # seconds: the `authrace scan` rows and targets alone"
    )]
    Bench(BenchArgs),
    /// One measured run (used by `bench`, one process per run): prints its numbers as JSON.
    #[command(hide = true)]
    Measure(MeasureArgs),
    /// Print the scenario format as a JSON Schema (for editors).
    #[command(after_help = "Example:\n  authrace schema > authrace.schema.json")]
    Schema,
}

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Write the table here (Markdown) instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Smaller series: seconds instead of minutes.
    #[arg(long)]
    pub quick: bool,
    /// Stop any one run after this many seconds (it is reported as stopped).
    #[arg(long, default_value_t = 120.0)]
    pub timeout: f64,
    /// The project folder (with models/ and bench/peers/).
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Measure only this part (to standard output or --out).
    #[arg(long, value_enum)]
    pub only: Option<BenchPart>,
}

/// A part of `authrace bench` that runs alone.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchPart {
    /// `authrace scan` on a synthetic 250-file app: reading, checks, the whole scan.
    Scan,
}

#[derive(clap::Args, Debug)]
pub struct MeasureArgs {
    pub scenario: PathBuf,
    #[arg(long, default_value_t = 1, value_parser = parse_threads)]
    pub threads: usize,
    #[arg(long, value_enum)]
    pub strategy: Option<StrategyArg>,
    #[arg(long)]
    pub no_symmetry: bool,
    /// Only stateright's safety exploration (no state graph, no traces).
    #[arg(long)]
    pub safety_only: bool,
    /// Only the state graph's breadth-first build.
    #[arg(long, conflicts_with = "safety_only")]
    pub graph_only: bool,
    #[arg(long)]
    pub timeout: Option<f64>,
    #[arg(long, value_parser = parse_size)]
    pub max_memory: Option<u64>,
    /// A bounded search with a bit array of this size (`check --bitstate`).
    #[arg(long, value_parser = parse_size)]
    pub bitstate: Option<u64>,
}

#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// Where to write it.
    #[arg(default_value = "scenario.toml")]
    pub path: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Args, Debug)]
pub struct ConformArgs {
    /// Schedule files (JSON, tests/conformance/README.md).
    #[arg(required = true)]
    pub schedules: Vec<PathBuf>,
    /// The harness folder.
    #[arg(long, default_value = "tests/conformance")]
    pub harness: PathBuf,
    /// Also print the model's events for each step.
    #[arg(long)]
    pub show_trace: bool,
}

#[derive(clap::Args, Debug)]
pub struct ExploreArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Address to bind (loopback by default; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: String,
    #[arg(long, help = MAX_STATES_HELP)]
    pub max_states: Option<usize>,
    #[arg(long, help = TIMEOUT_HELP)]
    pub timeout: Option<f64>,
    #[arg(long, value_parser = parse_size, help = MAX_MEMORY_HELP)]
    pub max_memory: Option<u64>,
}

const MAX_STATES_HELP: &str = "Stop exploring after this many distinct states (verdicts not yet decided become `unknown`, exit 3; traces found are the shortest within what was explored)";
const TIMEOUT_HELP: &str =
    "Stop after this many seconds (verdicts not yet decided become `unknown`, exit 3)";
const MAX_MEMORY_HELP: &str = "Keep the process's memory under this (e.g. 2GiB, 512MiB, 800M): the check stops before it would go over, with a partial report (undecided verdicts become `unknown`, exit 3). Default: 60% of the memory available when the check starts (MemAvailable in /proc/meminfo, or what is left under the cgroup's limit when that is less)";

#[derive(clap::Args, Debug)]
pub struct DocsArgs {
    /// Only check that the files are up to date (exit 1 if not).
    #[arg(long)]
    pub check: bool,
    /// The repository root.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// The property id (e.g. query-runs-authenticated).
    #[arg(long)]
    pub property: String,
    #[arg(long, value_enum, default_value_t = TraceFormat::Text)]
    pub format: TraceFormat,
    #[arg(long, help = MAX_STATES_HELP)]
    pub max_states: Option<usize>,
    #[arg(long, help = TIMEOUT_HELP)]
    pub timeout: Option<f64>,
    #[arg(long, value_parser = parse_size, help = MAX_MEMORY_HELP)]
    pub max_memory: Option<u64>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    Text,
    Json,
    Mermaid,
}

#[derive(clap::Args, Debug)]
pub struct DiagramArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Which actor: provider, client, app or server.
    #[arg(long)]
    pub actor: String,
    #[arg(long, value_enum, default_value_t = DiagramFormat::Mermaid)]
    pub format: DiagramFormat,
    /// Stop, with exit 3, when the state graph has more states than this: a diagram needs all of it, kept in memory with its states (about a kilobyte each).
    #[arg(long, default_value_t = 500_000)]
    pub max_states: usize,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiagramFormat {
    Mermaid,
    Dot,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Scenario files, or folders searched recursively for `*.toml`.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exploration strategy (overrides the scenario's [check] strategy).
    #[arg(long, value_enum)]
    pub strategy: Option<StrategyArg>,
    /// Threads exploring the state graph, at least 1 (the graph, its verdicts and its shortest counterexamples are the same for every count). With --strategy dfs: threads of stateright's depth-first search, beside the graph. With --bitstate: randomised searches.
    #[arg(long, default_value_t = 1, value_parser = parse_threads)]
    pub threads: usize,
    /// Turn symmetry reduction off (every renaming of token and connection numbers explored separately); verdicts are the same, only to measure what the reduction saves.
    #[arg(long)]
    pub no_symmetry: bool,
    /// Depth bound (overrides the scenario's [check] max_depth).
    #[arg(long)]
    pub max_depth: Option<usize>,
    #[arg(long, help = MAX_STATES_HELP)]
    pub max_states: Option<usize>,
    #[arg(long, help = TIMEOUT_HELP)]
    pub timeout: Option<f64>,
    #[arg(long, value_parser = parse_size, help = MAX_MEMORY_HELP)]
    pub max_memory: Option<u64>,
    /// For violated properties, re-check with stronger gates and expectAuth and report what fixes them.
    #[arg(long)]
    pub suggest: bool,
    /// Bounded mode for scenarios too large to decide: a bitstate search (SPIN's supertrace) with a bit array of this size (e.g. 1GiB), one randomised depth-first search per --threads. NOT A PROOF: violations it finds are real runs (not necessarily shortest); every other verdict is unknown (exit 3), with the coverage stated.
    #[arg(long, value_parser = parse_size)]
    pub bitstate: Option<u64>,
}

#[derive(clap::Args, Debug)]
pub struct PatchesArgs {
    /// Scenario files, or folders searched recursively for `*.toml`.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format (JSON: an array, one table per scenario).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Stop each check after this many seconds (verdicts not yet decided become `unknown`, exit 3).
    #[arg(long)]
    pub timeout: Option<f64>,
}

#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// The app's folder (its repository root).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub format: ScanFormat,
    /// Add the shortest trace of every risk (text format).
    #[arg(long)]
    pub explain: bool,
    /// Write each derived scenario as TOML into this folder (re-check them with `authrace check`).
    #[arg(long)]
    pub emit_scenarios: Option<PathBuf>,
    /// Which triggers to check, comma-separated: first-load, sign-up, sign-in, sign-out, switch-user, reconnect, token-refresh, token-expiry (default: all).
    #[arg(long, value_delimiter = ',')]
    pub triggers: Vec<String>,
    /// Threads for each check's safety exploration, at least 1.
    #[arg(long, default_value_t = 1, value_parser = parse_threads)]
    pub threads: usize,
    /// Depth bound for each check.
    #[arg(long)]
    pub max_depth: Option<usize>,
    /// Stop each check after this many states (exit 3 if any stops).
    #[arg(long)]
    pub max_states: Option<usize>,
    /// Stop each check after this many seconds (exit 3 if any stops).
    #[arg(long)]
    pub timeout: Option<f64>,
    /// Keep each check's memory under this (e.g. 2GiB): it stops before it would go over (exit 3). Default: 60% of the memory available when the check starts.
    #[arg(long, value_parser = parse_size)]
    pub max_memory: Option<u64>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    Bfs,
    Dfs,
}

/// Parses a thread count: a whole number, at least 1.
pub fn parse_threads(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("at least 1 thread is needed (0 is not a thread count)".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a number of threads")),
    }
}

/// Parses a size: a number with an optional unit (B, K/KB/KiB, M/MB/MiB, G/GB/GiB).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| {
        format!("`{s}` is not a size: expected a number and a unit such as 512MiB or 2GiB")
    })?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown size unit `{other}`: use B, KB, KiB, MB, MiB, GB or GiB"
            ));
        }
    };
    if n <= 0.0 {
        return Err(format!("`{s}`: a memory limit must be positive"));
    }
    Ok((n * mult) as u64)
}
