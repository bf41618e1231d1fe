//! The user guide matches the tool: the README tutorial's outputs are what
//! the commands print now, `docs/keys.md` is the schema, and the README's
//! example scenario and `authrace init`'s starter load and check as they say.

use std::process::Command;

use authrace::present::guide;

use crate::common::root;

fn authrace(args: &[String]) -> Result<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_authrace"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| e.to_string())?;
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

#[test]
fn readme_outputs_are_what_the_commands_print() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut runs = 0;
    let fresh = guide::refresh_runs(&readme, &mut |args| {
        runs += 1;
        authrace(args)
    })
    .unwrap();
    assert!(runs >= 5, "the tutorial quotes {runs} commands");
    if fresh != readme {
        let line = readme
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .map_or(0, |i| i + 1);
        panic!("README.md is stale from line {line}: run `cargo run --release -- docs`");
    }
}

#[test]
fn keys_doc_is_the_schema() {
    let on_disk = std::fs::read_to_string(root().join("docs/keys.md")).unwrap_or_default();
    assert!(
        on_disk == guide::keys_markdown(),
        "docs/keys.md is stale: run `cargo run --release -- docs`"
    );
}

/// The README's scenario example (every key) loads, and checks as its
/// `[expect]` says.
#[test]
fn readme_example_scenario_checks_as_expected() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = &readme[readme.find("## Scenario files").expect("the section")..];
    let start = section.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + section[start..].find("```").expect("closed");
    let dir = std::env::temp_dir().join(format!("authrace-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("example.toml");
    std::fs::write(&file, &section[start..end]).unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_authrace"))
        .arg("check")
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&status.stdout),
        String::from_utf8_lossy(&status.stderr)
    );
}
