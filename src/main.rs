//! The `authrace` binary: parse arguments, run, turn the outcome into an exit code.

mod cli;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;

use authrace::check::{CheckOptions, check};
use authrace::report::Outcome;
use authrace::scenario::{LoadError, Scenario, Strategy};
use cli::{Cli, Command, Format, StrategyArg};

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
        Command::Check(args) => {
            let files = collect(&args.paths)?;
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
            if let Some(t) = args.timeout {
                if !(t.is_finite() && t > 0.0) {
                    bail!("--timeout must be a positive number of seconds, got {t}");
                }
            }
            let opts = CheckOptions {
                strategy: args.strategy.map(|s| match s {
                    StrategyArg::Bfs => Strategy::Bfs,
                    StrategyArg::Dfs => Strategy::Dfs,
                }),
                threads: args.threads,
                max_depth: args.max_depth,
                max_states: args.max_states,
                timeout: args.timeout.map(Duration::from_secs_f64),
            };
            let mut worst = Outcome::Ok;
            let mut reports = Vec::new();
            for (path, scenario) in &scenarios {
                let report = check(path, scenario, &opts);
                worst = worst.max(report.outcome());
                if args.format == Format::Text {
                    print!("{}", report.render_text());
                }
                reports.push(report);
            }
            if args.format == Format::Json {
                let json = if reports.len() == 1 {
                    serde_json::to_string_pretty(&reports[0])
                } else {
                    serde_json::to_string_pretty(&reports)
                }
                .context("serializing the report")?;
                println!("{json}");
            }
            Ok(worst as u8)
        }
    }
}

/// Scenario files named on the command line; folders are searched
/// recursively for `*.toml`, in sorted order.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).with_context(|| format!("reading {}", p.display()))?;
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
