//! The `authrace` binary: parse arguments, run, turn the outcome into an exit code.

mod cli;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;

use authrace::check::liveness::{Limits, StateGraph};
use authrace::check::report::Outcome;
use authrace::check::{CheckOptions, check};
use authrace::model::AuthModel;
use authrace::present::diagram::{self, DiagramActor, Machine};
use authrace::scenario::properties::{PropertyId, Verdict};
use authrace::scenario::{LoadError, Scenario, Strategy};
use cli::{
    Cli, Command, DiagramArgs, DiagramFormat, DocsArgs, Format, StrategyArg, TraceArgs, TraceFormat,
};

/// Set by Ctrl-C: the running check stops and reports what it found.
fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        // A second Ctrl-C ends the process at once.
        let _ = ctrlc::set_handler(move || {
            if f.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
        flag
    })
    .clone()
}

/// Exit code for bad input or usage.
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_INPUT } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Patches(args) => run_patches(args),
        Command::Trace(args) => run_trace(args),
        Command::Diagram(args) => run_diagram(args),
        Command::Docs(args) => run_docs(args),
        Command::Conform(args) => run_conform(args),
        Command::Init(args) => {
            if args.path.exists() && !args.force {
                eprintln!(
                    "error: {} exists; pass --force to overwrite it",
                    args.path.display()
                );
                return Ok(EXIT_BAD_INPUT);
            }
            std::fs::write(&args.path, starter_for(&args.path))
                .with_context(|| format!("writing {}", args.path.display()))?;
            println!(
                "wrote {}; check it with: authrace check {}",
                args.path.display(),
                args.path.display()
            );
            Ok(0)
        }
        Command::Bench(args) => {
            if !(args.timeout.is_finite() && args.timeout > 0.0) {
                bail!("--timeout must be a positive number of seconds");
            }
            let md = authrace::commands::bench::run(&authrace::commands::bench::BenchOptions {
                root: args.root.clone(),
                quick: args.quick,
                timeout_s: args.timeout,
                verbose: std::io::stderr().is_terminal(),
                only_scan: args.only == Some(cli::BenchPart::Scan),
            })
            .map_err(anyhow::Error::msg)?;
            match &args.out {
                Some(out) => std::fs::write(out, md)
                    .with_context(|| format!("cannot write {}", out.display()))?,
                None => print!("{md}"),
            }
            Ok(0)
        }
        Command::Measure(args) => {
            let Some(scenario) = load_one(&args.scenario) else {
                return Ok(EXIT_BAD_INPUT);
            };
            let spec = authrace::commands::bench::MeasureSpec {
                strategy: args.strategy.map(|s| match s {
                    StrategyArg::Bfs => Strategy::Bfs,
                    StrategyArg::Dfs => Strategy::Dfs,
                }),
                threads: args.threads,
                no_symmetry: args.no_symmetry,
                safety_only: args.safety_only,
                graph_only: args.graph_only,
                timeout_s: args.timeout,
                max_memory: args.max_memory,
                bitstate: args.bitstate,
            };
            let m = authrace::commands::bench::measure(&args.scenario, &scenario, &spec);
            println!("{}", serde_json::to_string(&m)?);
            Ok(0)
        }
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&authrace::scenario::schema::json_schema())?
            );
            Ok(0)
        }
        Command::Explore(args) => {
            let Some(scenario) = load_one(&args.scenario) else {
                return Ok(EXIT_BAD_INPUT);
            };
            let opts = limit_options(args.max_states, args.timeout, args.max_memory)?;
            let report = check(&args.scenario, &scenario, &opts);
            if !report.complete {
                let undecided: Vec<&str> = report
                    .properties
                    .iter()
                    .filter(|p| p.verdict == Verdict::Unknown)
                    .map(|p| p.id.as_str())
                    .collect();
                eprintln!(
                    "note: a limit stopped the check after {} states; undecided: {}",
                    report.stats.unique_states,
                    if undecided.is_empty() {
                        "none".to_string()
                    } else {
                        undecided.join(", ")
                    }
                );
                if opts
                    .interrupt
                    .as_ref()
                    .is_some_and(|f| f.load(Ordering::Relaxed))
                {
                    return Ok(3);
                }
            }
            let explorer = authrace::present::explorer::Explorer::from_report(&scenario, report);
            explorer
                .serve(&args.addr)
                .with_context(|| format!("serving on {}", args.addr))?;
            Ok(0)
        }
        Command::Check(args) => {
            let files = collect(&args.paths)?;
            // The JSON shape depends on the arguments only: one object for a
            // single file argument, an array otherwise.
            let one_file = args.paths.len() == 1 && !args.paths[0].is_dir();
            let mut scenarios = Vec::new();
            let mut errors = Vec::new();
            for f in &files {
                match Scenario::load(f) {
                    Ok(s) => scenarios.push((f.clone(), s)),
                    Err(LoadError::Invalid(errs)) => {
                        errors.extend(errs.iter().map(|e| e.to_string()))
                    }
                    Err(e) => errors.push(e.to_string()),
                }
            }
            if !errors.is_empty() {
                for e in &errors {
                    eprintln!("error: {e}");
                }
                return Ok(EXIT_BAD_INPUT);
            }
            let opts = CheckOptions {
                strategy: args.strategy.map(|s| match s {
                    StrategyArg::Bfs => Strategy::Bfs,
                    StrategyArg::Dfs => Strategy::Dfs,
                }),
                threads: args.threads,
                max_depth: args.max_depth,
                no_symmetry: args.no_symmetry,
                witnesses: false,
                bitstate: args.bitstate.map(|bytes| bytes.saturating_mul(8)),
                ..limit_options(args.max_states, args.timeout, args.max_memory)?
            };
            if let Some(bytes) = args.bitstate {
                let cap = opts.max_memory.or_else(authrace::check::default_max_memory);
                if bytes < 8 {
                    eprintln!("error: --bitstate needs at least 8 bytes of bit array");
                    return Ok(EXIT_BAD_INPUT);
                }
                if let Some(cap) = cap
                    && bytes.next_power_of_two() >= cap
                {
                    eprintln!(
                        "error: a --bitstate array of {} (rounded up to a power of two) does not fit under the memory limit of {}",
                        authrace::check::human_bytes(bytes.next_power_of_two()),
                        authrace::check::human_bytes(cap)
                    );
                    return Ok(EXIT_BAD_INPUT);
                }
                if args.suggest {
                    eprintln!(
                        "error: --suggest needs decided verdicts; it cannot follow a --bitstate search"
                    );
                    return Ok(EXIT_BAD_INPUT);
                }
            }
            let mut worst = Outcome::Ok;
            let mut reports = Vec::new();
            let mut not_checked = 0;
            for (path, scenario) in &scenarios {
                if opts
                    .interrupt
                    .as_ref()
                    .is_some_and(|f| f.load(Ordering::Relaxed))
                {
                    eprintln!("interrupted: {} not checked", path.display());
                    worst = worst.max(Outcome::Incomplete);
                    not_checked += 1;
                    continue;
                }
                let mut report = check(path, scenario, &opts);
                if args.suggest {
                    report.suggestions =
                        authrace::check::suggest::suggest(path, scenario, &report, &opts);
                }
                worst = worst.max(report.outcome());
                if args.format == Format::Text {
                    print!("{}", authrace::present::text::report(&report));
                }
                reports.push(report);
            }
            match args.format {
                Format::Json => {
                    let json = match reports.as_slice() {
                        [only] if one_file => serde_json::to_string_pretty(only),
                        _ => serde_json::to_string_pretty(&reports),
                    }
                    .context("serializing the report")?;
                    println!("{json}");
                }
                Format::Text if scenarios.len() > 1 => {
                    println!("{}", summary(&reports, not_checked));
                }
                Format::Text => {}
            }
            Ok(worst as u8)
        }
    }
}

/// Options with the limits given on the command line, stopped by Ctrl-C,
/// with progress on a terminal.
fn limit_options(
    max_states: Option<usize>,
    timeout: Option<f64>,
    max_memory: Option<u64>,
) -> Result<CheckOptions> {
    if let Some(t) = timeout
        && !(t.is_finite() && t > 0.0)
    {
        bail!("--timeout must be a positive number of seconds, got {t}");
    }
    Ok(CheckOptions {
        max_states,
        timeout: timeout.map(Duration::from_secs_f64),
        max_memory,
        interrupt: Some(interrupt_flag()),
        progress: std::io::stderr().is_terminal(),
        ..CheckOptions::default()
    })
}

/// The starter scenario, its comments naming the file it is written to.
fn starter_for(path: &Path) -> String {
    let shown = path.display().to_string();
    let shown = if shown.contains(|c: char| c.is_whitespace() || "'\"$`\\".contains(c)) {
        format!("'{}'", shown.replace('\'', "'\\''"))
    } else {
        shown
    };
    authrace::scenario::STARTER.replace(
        "authrace check scenario.toml",
        &format!("authrace check {shown}"),
    )
}

/// The last line of a check of several files.
fn summary(reports: &[authrace::check::report::Report], not_checked: usize) -> String {
    let count = |o: Outcome| reports.iter().filter(|r| r.outcome() == o).count();
    let files = reports.len() + not_checked;
    format!(
        "{files} file{}: {} as expected, {} violated or not as expected, {} incomplete",
        if files == 1 { "" } else { "s" },
        count(Outcome::Ok),
        count(Outcome::Failed),
        count(Outcome::Incomplete) + not_checked,
    )
}

/// Loads one scenario, printing its errors; `None` means exit 2.
fn load_one(path: &Path) -> Option<Scenario> {
    match Scenario::load(path) {
        Ok(s) => Some(s),
        Err(LoadError::Invalid(errs)) => {
            for e in errs {
                eprintln!("error: {e}");
            }
            None
        }
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

fn run_scan(args: cli::ScanArgs) -> Result<u8> {
    use authrace::scan::{self, Trigger, report};
    let mut triggers = Vec::new();
    for t in &args.triggers {
        match Trigger::parse(t.trim()) {
            Some(t) => triggers.push(t),
            None => {
                eprintln!(
                    "error: unknown trigger `{t}`; accepted: {}",
                    Trigger::ALL.map(|t| t.as_str()).join(", ")
                );
                return Ok(EXIT_BAD_INPUT);
            }
        }
    }
    if triggers.is_empty() {
        triggers = Trigger::ALL.to_vec();
    }
    // A scan runs many checks: no progress line for each.
    let check = CheckOptions {
        threads: args.threads,
        max_depth: args.max_depth,
        progress: false,
        ..limit_options(args.max_states, args.timeout, args.max_memory)?
    };
    let analysis = match scan::analyse_dir(&args.dir) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_BAD_INPUT);
        }
    };
    let opts = scan::ScanOptions { triggers, check };
    let r = scan::check_analysis(analysis, &opts);
    if let Some(dir) = &args.emit_scenarios {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (name, text) in report::scenarios(&r) {
            let p = dir.join(name);
            std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
        }
    }
    match args.format {
        cli::ScanFormat::Text => print!("{}", report::text(&r, args.explain)),
        cli::ScanFormat::Json => println!("{}", serde_json::to_string_pretty(&report::json(&r))?),
        cli::ScanFormat::Sarif => println!("{}", serde_json::to_string_pretty(&report::sarif(&r))?),
    }
    Ok(if !r.incomplete.is_empty() {
        3
    } else if r.findings() > 0 {
        1
    } else {
        0
    })
}

fn run_trace(args: TraceArgs) -> Result<u8> {
    let Some(p) = PropertyId::parse(&args.property) else {
        bail!(
            "unknown property `{}`; known properties: {}",
            args.property,
            PropertyId::ALL.map(|p| p.as_str()).join(", ")
        );
    };
    let Some(scenario) = load_one(&args.scenario) else {
        return Ok(EXIT_BAD_INPUT);
    };
    let opts = CheckOptions {
        witnesses: true,
        ..limit_options(args.max_states, args.timeout, args.max_memory)?
    };
    let report = check(&args.scenario, &scenario, &opts);
    let prop = report.property(p);
    let (what, steps) = match (prop.verdict, &prop.steps, &prop.witness) {
        (Verdict::Violated, Some(steps), _) => ("counterexample", steps.clone()),
        (Verdict::Holds, _, Some(steps)) => ("witness", steps.clone()),
        (Verdict::Holds, _, None) => {
            eprintln!(
                "error: {p} holds for {}, but a limit stopped the state graph before it reached a witness",
                args.scenario.display()
            );
            return Ok(3);
        }
        (v, _, _) => {
            eprintln!(
                "error: {} is {v} for {}: there is no trace to show{}",
                p,
                args.scenario.display(),
                prop.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            );
            return Ok(if v == Verdict::Unknown {
                3
            } else {
                EXIT_BAD_INPUT
            });
        }
    };
    if what == "counterexample"
        && !report.complete
        && let Some(reason) = &prop.reason
    {
        eprintln!("note: {reason}");
    }
    match args.format {
        TraceFormat::Text => {
            println!("{} of {p} in {}:", what, scenario.name);
            print!("{}", authrace::present::text::trace(&steps, ""));
        }
        TraceFormat::Json => {
            let v = serde_json::json!({
                "scenario": args.scenario.display().to_string(),
                "property": p,
                "verdict": prop.verdict,
                "kind": what,
                "steps": steps,
            });
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        TraceFormat::Mermaid => print!("{}", diagram::sequence_mermaid(&steps)),
    }
    Ok(0)
}

fn run_diagram(args: DiagramArgs) -> Result<u8> {
    let Some(actor) = DiagramActor::parse(&args.actor) else {
        bail!(
            "unknown actor `{}`; accepted: provider, client, app, server",
            args.actor
        );
    };
    let Some(scenario) = load_one(&args.scenario) else {
        return Ok(EXIT_BAD_INPUT);
    };
    let model = AuthModel::new(&scenario);
    let graph = StateGraph::build(
        &model,
        Limits {
            max_states: Some(args.max_states),
            ..Limits::default()
        },
    );
    if !graph.complete {
        eprintln!(
            "error: the state graph of {} has more than {} states; a diagram needs all of it (raise --max-states, or draw a smaller scenario)",
            args.scenario.display(),
            args.max_states
        );
        return Ok(3);
    }
    let m = Machine::project(&model, &graph, actor);
    match args.format {
        DiagramFormat::Mermaid => print!("{}", m.to_mermaid()),
        DiagramFormat::Dot => print!("{}", m.to_dot()),
    }
    Ok(0)
}

fn run_docs(args: DocsArgs) -> Result<u8> {
    let mut files = authrace::present::docs::generate(&args.root).map_err(anyhow::Error::msg)?;
    files.extend(guide_files(&args.root)?);
    let mut stale = 0;
    for g in files {
        let path = args.root.join(&g.path);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == g.text {
            continue;
        }
        if args.check {
            eprintln!("{} is stale: run `authrace docs`", g.path.display());
            stale += 1;
        } else {
            std::fs::write(&path, &g.text)
                .with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", g.path.display());
        }
    }
    Ok(if stale > 0 { 1 } else { 0 })
}

/// The guide's generated parts: `docs/keys.md`, and `README.md` with the
/// output of every command its tutorial quotes (this executable runs them).
fn guide_files(root: &std::path::Path) -> Result<Vec<authrace::present::docs::Generated>> {
    use authrace::present::docs::Generated;
    use authrace::present::guide;
    let exe = std::env::current_exe().context("locating the authrace executable")?;
    let readme = std::fs::read_to_string(root.join("README.md"))
        .with_context(|| format!("reading {}", root.join("README.md").display()))?;
    let mut run = |args: &[String]| -> std::result::Result<String, String> {
        let out = std::process::Command::new(&exe)
            .args(args)
            .current_dir(root)
            .output()
            .map_err(|e| format!("running authrace {}: {e}", args.join(" ")))?;
        String::from_utf8(out.stdout).map_err(|e| e.to_string())
    };
    let text =
        guide::refresh_runs(&readme, &mut run).map_err(|e| anyhow::anyhow!("README.md: {e}"))?;
    Ok(vec![
        Generated {
            path: "docs/keys.md".into(),
            text: guide::keys_markdown(),
        },
        Generated {
            path: "docs/findings.md".into(),
            text: authrace::commands::patches::findings_markdown(root)
                .map_err(anyhow::Error::msg)?,
        },
        Generated {
            path: "README.md".into(),
            text,
        },
    ])
}

fn run_conform(args: cli::ConformArgs) -> Result<u8> {
    use authrace::conformance::{Driver, Harness, Schedule, obs_json, validate};
    let mut harness = Harness::start(&args.harness)
        .with_context(|| format!("starting node in {}", args.harness.display()))?;
    let mut failed = false;
    for path in &args.schedules {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let schedule: Schedule = match serde_json::from_str(&text) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return Ok(EXIT_BAD_INPUT);
            }
        };
        if args.show_trace {
            let mut d = Driver::new(&schedule).map_err(anyhow::Error::msg)?;
            let ctx = d.model.ctx.clone();
            let react = d.react;
            for o in d.start() {
                if let Some(v) = obs_json(&ctx, &o, react) {
                    println!("  start: {v}");
                }
            }
            for (k, step) in schedule.steps.iter().enumerate() {
                match d.step(step) {
                    Ok(obs) => {
                        println!("  {k}: {}", serde_json::to_string(step)?);
                        for o in obs {
                            if let Some(v) = obs_json(&ctx, &o, react) {
                                println!("       {v}");
                            }
                        }
                    }
                    Err(why) => println!("  {k}: {} skipped: {why}", serde_json::to_string(step)?),
                }
            }
        }
        let trace = harness.run(&schedule).context("running the harness")?;
        match validate(&schedule, &trace) {
            Ok(()) => println!("{}: the model produces this trace", path.display()),
            Err(d) => {
                failed = true;
                println!("{}: {d}", path.display());
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}

fn run_patches(args: cli::PatchesArgs) -> Result<u8> {
    use authrace::commands::patches;
    let files = collect(&args.paths)?;
    if files.is_empty() {
        eprintln!("error: no scenario files (*.toml) in the paths given");
        return Ok(EXIT_BAD_INPUT);
    }
    let mut scenarios = Vec::new();
    for f in &files {
        let Some(s) = load_one(f) else {
            return Ok(EXIT_BAD_INPUT);
        };
        scenarios.push(s);
    }
    // Several checks per scenario: no progress line for each.
    let opts = CheckOptions {
        progress: false,
        ..limit_options(None, args.timeout, None)?
    };
    let (mut worse, mut incomplete) = (false, false);
    let mut json = Vec::new();
    for (f, s) in files.iter().zip(&scenarios) {
        let t = patches::table(f, s, &opts);
        worse |= t.worse();
        incomplete |= !t.complete();
        match args.format {
            Format::Json => json.push(patches::json(&t)),
            Format::Text => print!("{}", patches::text(&t)),
        }
    }
    if args.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&json)?);
    }
    Ok(if worse {
        1
    } else if incomplete {
        3
    } else {
        0
    })
}

/// Scenario files named on the command line; folders are searched
/// recursively for `*.toml`, in sorted order.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let before = out.len();
            walk(p, &mut out).with_context(|| format!("reading {}", p.display()))?;
            if out.len() == before {
                bail!(
                    "{}: no scenario file (*.toml) in this folder or below it",
                    p.display()
                );
            }
        } else if p.exists() {
            out.push(p.clone());
        } else {
            bail!("{}: no such file or folder", p.display());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    entries.sort();
    for e in entries {
        if e.is_dir() {
            walk(&e, out)?;
        } else if e.extension().is_some_and(|x| x == "toml") {
            out.push(e);
        }
    }
    Ok(())
}
