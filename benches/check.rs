//! `cargo bench`: wall time to decide each scenario in `models/` (median of
//! several runs, release build). A benchmark, never a test: compare ratios
//! within one run on a shared machine.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use authrace::check::{CheckOptions, check};
use authrace::scenario::Scenario;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("models/ exists")
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    files(&root.join("models"), &mut all);
    let runs = 7;
    println!("| scenario | unique states | median ms | unique states / s |\n|---|---:|---:|---:|");
    let mut total = Duration::ZERO;
    for f in &all {
        let s = Scenario::load(f).expect("valid scenario");
        let mut times = Vec::new();
        let mut unique = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let r = check(f, &s, &CheckOptions::default());
            times.push(t.elapsed());
            unique = r.stats.unique_states;
        }
        times.sort();
        let median = times[runs / 2];
        total += median;
        println!(
            "| {} | {} | {:.2} | {:.0} |",
            f.strip_prefix(&root).unwrap().display(),
            unique,
            median.as_secs_f64() * 1e3,
            unique as f64 / median.as_secs_f64()
        );
    }
    println!(
        "\nwhole folder (sum of medians): {:.1} ms",
        total.as_secs_f64() * 1e3
    );
}
