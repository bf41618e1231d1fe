//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use authrace::check::report::Report;
use authrace::check::{CheckOptions, check};
use authrace::scenario::Scenario;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every scenario file under `models/`, sorted.
pub fn model_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(&root().join("models"), &mut out);
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("models/ exists") {
        let p = e.expect("readable entry").path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

/// Loads a scenario by path relative to the repository root.
pub fn load(rel: &str) -> Scenario {
    Scenario::load(&root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Parses an inline scenario.
pub fn parse(text: &str) -> Scenario {
    Scenario::parse(Path::new("inline.toml"), text).unwrap_or_else(|e| {
        panic!(
            "{}",
            e.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// Checks with default options (BFS, one thread).
pub fn run(s: &Scenario) -> Report {
    check(Path::new("inline.toml"), s, &CheckOptions::default())
}
