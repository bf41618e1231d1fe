//! The loader never panics: arbitrary bytes and mutated valid files give
//! either a scenario or errors that each name a line and a column. At least
//! 100,000 inputs per run (`LOADER_FUZZ_CASES` overrides), seeded from every
//! file in `models/` and the corpus of interesting inputs in
//! `tests/corpus/loader/`, which are also parsed one by one.

use std::path::Path;

use authrace::scenario::Scenario;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::common::{model_files, root};

fn seeds() -> Vec<String> {
    let mut out: Vec<String> = model_files()
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    for e in std::fs::read_dir(root().join("tests/corpus/loader")).unwrap() {
        let p = e.unwrap().path();
        out.push(String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned());
    }
    out
}

/// Parses, and checks the outcome is a scenario or well-formed errors.
fn parse_ok(text: &str) -> Result<(), String> {
    let outcome = std::panic::catch_unwind(|| Scenario::parse(Path::new("fuzz.toml"), text));
    match outcome {
        Err(_) => Err("the loader panicked".to_string()),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(errors)) => {
            if errors.is_empty() {
                return Err("an error result with no errors".to_string());
            }
            let lines = text.lines().count().max(1);
            for e in &errors {
                if e.line == 0 || e.column == 0 || e.line > lines + 1 {
                    return Err(format!("bad position {}:{} in {e}", e.line, e.column));
                }
                if e.message.trim().is_empty() {
                    return Err("an error without a message".to_string());
                }
            }
            Ok(())
        }
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Replace the byte range with these bytes.
    Splice(usize, usize, String),
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let junk = prop_oneof![
        Just(String::new()),
        Just("=".to_string()),
        Just("\"".to_string()),
        Just("[[".to_string()),
        Just("]".to_string()),
        Just("\n".to_string()),
        Just("true".to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999".to_string()),
        Just("\"\\u{0}\"".to_string()),
        Just("[provider]\n".to_string()),
        Just("gate = \"x\"".to_string()),
        Just("{ a = 1 }".to_string()),
        Just("é".to_string()),
        "\\PC{0,8}",
    ];
    prop_oneof![
        (any::<usize>(), 0usize..12, junk).prop_map(|(a, n, j)| Mutation::Splice(a, n, j)),
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn apply(text: &str, muts: &[Mutation]) -> String {
    let mut s = text.to_string();
    for m in muts {
        match m {
            Mutation::Splice(at, len, with) => {
                let mut at = at % (s.len() + 1);
                while !s.is_char_boundary(at) {
                    at -= 1;
                }
                let mut end = (at + len).min(s.len());
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                s.replace_range(at..end, with);
            }
            Mutation::DeleteLine(i) | Mutation::DuplicateLine(i) => {
                let mut lines: Vec<&str> = s.lines().collect();
                if lines.is_empty() {
                    continue;
                }
                let i = i % lines.len();
                if matches!(m, Mutation::DeleteLine(_)) {
                    lines.remove(i);
                } else {
                    lines.insert(i, lines[i]);
                }
                s = lines.join("\n");
            }
            Mutation::SwapLines(a, b) => {
                let mut lines: Vec<&str> = s.lines().collect();
                if lines.is_empty() {
                    continue;
                }
                let (a, b) = (a % lines.len(), b % lines.len());
                lines.swap(a, b);
                s = lines.join("\n");
            }
        }
    }
    s
}

#[test]
fn corpus_inputs_parse_without_panicking() {
    for text in seeds() {
        if let Err(e) = parse_ok(&text) {
            panic!("{e}\n---\n{text}");
        }
    }
}

#[test]
fn the_loader_never_panics() {
    let total: u32 = std::env::var("LOADER_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let seeds = seeds();
    // Half mutated valid files, half arbitrary text.
    let mutated = (0..seeds.len(), prop::collection::vec(mutation(), 1..4));
    let mut runner = TestRunner::new(Config {
        cases: total / 2,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&mutated, |(i, muts)| {
            let text = apply(&seeds[i], &muts);
            parse_ok(&text).map_err(|e| TestCaseError::fail(format!("{e}\n---\n{text}")))
        })
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: total - total / 2,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(any::<u8>(), 0..300), |bytes| {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            parse_ok(&text).map_err(|e| TestCaseError::fail(format!("{e}\n---\n{text:?}")))
        })
        .unwrap();
}
