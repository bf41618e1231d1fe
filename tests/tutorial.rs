//! The user guide matches the tool: the README tutorial's outputs are what
//! the commands print now, `docs/keys.md` is the schema, and the README's
//! example scenario and `authrace init`'s starter load and check as they say.

use authrace::present::guide;

use crate::common::{authrace, root, temp_file};

#[test]
fn readme_outputs_are_what_the_commands_print() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut runs = 0;
    let fresh = guide::refresh_runs(&readme, &mut |args| {
        runs += 1;
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Ok(authrace(&args).1)
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
    let file = temp_file("example.toml", &section[start..end]);
    let (code, out, err) = authrace(&["check", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
}
