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

/// Runs the `authrace` binary from the repository root: its exit code,
/// standard output and standard error.
pub fn authrace(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_authrace"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs");
    (
        out.status.code().expect("exited"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A fresh folder of this test process for `tag`.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("authrace-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `text` written to `name` in a fresh folder of its own.
pub fn temp_file(name: &str, text: &str) -> PathBuf {
    let p = temp_dir(&format!("file-{}", name.trim_end_matches(".toml"))).join(name);
    std::fs::write(&p, text).unwrap();
    p
}
