//! Resource limits and honest results: memory, states and time limits stop
//! a check with a partial report that says what was explored; the shape and
//! exit codes of the output depend on the arguments only.

use std::process::{Command, Stdio};

use crate::common::{authrace, root, temp_dir, temp_file};

/// Convex Auth with sign-in, sign-out and switch-user, the fetcher rebuilt
/// on each session change, the user row stored, one socket drop and one
/// transient null: millions of states, past any memory a test can give.
const LIFECYCLE: &str = include_str!("../bench/lifecycle.toml");

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn property<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report}"))
}

#[test]
fn a_memory_limit_is_never_passed_and_gives_a_partial_report() {
    let p = temp_file("lifecycle.toml", LIFECYCLE);
    let cap: u64 = 200 << 20;
    let (code, out, err) = authrace(&[
        "check",
        p.to_str().unwrap(),
        "--max-memory",
        "200MiB",
        "--format",
        "json",
    ]);
    // Violations found before the limit exit 1; otherwise 3.
    assert!(code == 1 || code == 3, "exit {code}: {err}");
    let v = json(&out);
    assert_eq!(v["complete"], false, "{out}");
    let peak = v["stats"]["peak_memory"]
        .as_u64()
        .expect("Linux reports it");
    assert!(
        peak < cap,
        "peak resident memory {peak} passed the limit {cap}"
    );
    for id in ["eventually-authenticated", "eventually-results"] {
        let p = property(&v, id);
        assert_eq!(p["verdict"], "unknown", "{p}");
        assert!(
            p["reason"].as_str().unwrap().contains("--max-memory"),
            "{p}"
        );
    }
    // Progress only on a terminal: none in a pipe.
    assert!(!err.contains('\r') && !err.contains("state graph"), "{err}");
    // What the rest would need, and a bounded search that fits.
    let b = &v["beyond_memory"];
    assert_eq!(b["max_memory"], cap, "{b}");
    assert_eq!(b["states"], v["stats"]["unique_states"], "{b}");
    assert!(b["bytes_per_state"].as_u64().unwrap() > 0, "{b}");
    let levels = b["last_levels"].as_array().unwrap();
    assert!(!levels.is_empty() && levels.len() <= 8, "{b}");
    // This scenario is still growing where 200 MiB stops it.
    assert!(b["growth"].as_f64().unwrap() > 1.0, "{b}");
    assert!(b["needs_at_least"].as_u64().unwrap() > cap, "{b}");
    let size = b["bitstate"].as_str().unwrap();
    let (code, _, err) = authrace(&[
        "check",
        p.to_str().unwrap(),
        "--max-memory",
        "200MiB",
        "--bitstate",
        size,
        "--timeout",
        "1",
    ]);
    assert!(
        code == 1 || code == 3,
        "--bitstate {size}: exit {code}: {err}"
    );
}

#[test]
fn the_estimate_beyond_memory_follows_the_levels() {
    use authrace::check::report::BeyondMemory;
    let cap = 1 << 30;
    // Growing by 1.5, 1.4, 1.3: the growth slows by 0.1 a level, so two
    // more levels grow (x1.2, x1.1) and the levels then shrink as they grew.
    let levels = [100, 150, 210, 273];
    let found: usize = levels.iter().sum();
    let b = BeyondMemory::project(cap, &levels, found + 50, 1 << 20);
    assert!((b.growth.unwrap() - 1.3).abs() < 1e-9, "{b:?}");
    let rising = 273.0 * 1.2 + 273.0 * 1.2 * 1.1;
    let peak = 273.0 * 1.2 * 1.1;
    let expect = 2.0 * (found as f64 + rising) - peak;
    let got = b.estimated_states.unwrap() as f64;
    assert!((got - expect).abs() <= 1.0, "{got} {expect}");
    assert_eq!(
        b.estimated_memory.unwrap(),
        b.estimated_states.unwrap() as u64 * b.bytes_per_state
    );
    // The next level alone, at the measured bytes per state.
    let next = (273.0_f64 * 1.3) as u64;
    assert_eq!(
        b.needs_at_least.unwrap(),
        (found as u64 + 50 + next) * b.bytes_per_state
    );
    // Growth not slowing: no guess at the peak; shrinking: no lower bound.
    let steady = BeyondMemory::project(cap, &[100, 200, 400, 800], 1500, 1 << 20);
    assert_eq!(steady.estimated_states, None);
    assert!(steady.needs_at_least.is_some());
    let shrinking = BeyondMemory::project(cap, &[400, 300, 200, 100], 1000, 1 << 20);
    assert_eq!(shrinking.estimated_states, None);
    assert_eq!(shrinking.needs_at_least, None);
    assert!(!shrinking.likely_does_not_fit());
    // The bounded search's array: a power of two, at most half the limit.
    for (cap, size) in [
        (200u64 << 20, "64MiB"),
        (1 << 30, "512MiB"),
        (3 << 30, "1GiB"),
    ] {
        assert_eq!(BeyondMemory::project(cap, &levels, 1, 1).bitstate, size);
    }
}

#[test]
fn the_default_memory_limit_is_a_share_of_what_is_available() {
    let available = authrace::check::available_memory().expect("Linux says");
    let default = authrace::check::default_max_memory().expect("Linux says");
    let held = authrace::check::resident_memory().unwrap();
    assert!(default < available + held, "{default} {available} {held}");
    assert!(default as f64 >= 0.5 * (available + held) as f64 * 0.9);
    let (_, help, _) = authrace(&["check", "--help"]);
    assert!(
        help.contains("Default: 60% of the memory available"),
        "{help}"
    );
}

/// With a terminal for standard error, the progress line names each phase.
#[test]
fn progress_on_a_terminal_names_the_phases() {
    if !std::path::Path::new("/usr/bin/script").exists() {
        return; // no way to give the binary a terminal here
    }
    let p = temp_file("lifecycle-tty.toml", LIFECYCLE);
    let cmd = format!(
        // Large enough that the check outlives the 1 s before the first
        // progress line, small enough that the cap stops it.
        "{} check {} --max-memory 600MiB",
        env!("CARGO_BIN_EXE_authrace"),
        p.display()
    );
    let out = Command::new("/usr/bin/script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(tty.contains("state graph (BFS): "), "{tty}");
    assert!(tty.contains("to expand"), "{tty}");
    assert!(tty.contains("of 600 MiB"), "{tty}");
    // Never "done" for a graph a limit stopped; the report (on the same
    // terminal) says which limit.
    assert!(!tty.contains("state graph (BFS) done"), "{tty}");
    assert!(tty.contains("stopped by --max-memory"), "{tty}");
    // Said while the check runs, with an estimate and what to do instead;
    // then in the report.
    let note = tty
        .find("note: the state graph will likely not fit under --max-memory 600 MiB")
        .unwrap_or_else(|| panic!("{tty}"));
    let report = tty.find("beyond memory: --max-memory 600 MiB").unwrap();
    assert!(note < report, "{tty}");
    assert!(tty.contains("--bitstate 256MiB"), "{tty}");
}

#[test]
fn a_state_limit_reports_what_was_explored_and_says_traces_are_shortest_within_it() {
    let file = "models/matrix/current-user-socket-drop.toml";
    let (_, out, _) = authrace(&["check", file, "--format", "json"]);
    let full = json(&out);
    let full_unique = full["stats"]["unique_states"].as_u64().unwrap();
    assert_eq!(full["complete"], true);
    let limit = full_unique / 4;

    let p = temp_file("lifecycle-states.toml", LIFECYCLE);
    for (path, limit) in [(file.to_string(), limit), (p.display().to_string(), 3000)] {
        let (code, out, _) = authrace(&[
            "check",
            &path,
            "--max-states",
            &limit.to_string(),
            "--format",
            "json",
        ]);
        assert!(code == 1 || code == 3, "exit {code}");
        let v = json(&out);
        assert_eq!(v["complete"], false);
        let graph = v["stats"]["graph_states"].as_u64().unwrap();
        // The graph stops at the limit (plus the successors of the state
        // being expanded).
        assert!(graph >= limit && graph < limit + 64, "{graph} vs {limit}");
        if path == file {
            assert!(v["stats"]["unique_states"].as_u64().unwrap() < full_unique);
        }
        for p in v["properties"].as_array().unwrap() {
            let reason = p["reason"].as_str().unwrap_or("");
            match p["verdict"].as_str().unwrap() {
                "violated" if p["kind"] == "safety" => assert!(
                    reason.starts_with("shortest within what was explored")
                        || reason.starts_with("not necessarily the shortest"),
                    "{p}"
                ),
                "unknown" => assert!(reason.contains("--max-states"), "{p}"),
                _ => {}
            }
        }
    }
    // The lifecycle scenario violates no-stale-identity within 3000 states,
    // and says how far its trace can be trusted.
    let (_, out, _) = authrace(&[
        "check",
        p.to_str().unwrap(),
        "--max-states",
        "3000",
        "--format",
        "json",
    ]);
    let v = json(&out);
    let nsi = property(&v, "no-stale-identity");
    assert_eq!(nsi["verdict"], "violated", "{nsi}");
    assert!(
        nsi["reason"]
            .as_str()
            .unwrap()
            .starts_with("shortest within what was explored (--max-states stopped the check)"),
        "{nsi}"
    );
    // The same trace in text form carries the same note.
    let (_, text, _) = authrace(&["check", p.to_str().unwrap(), "--max-states", "3000"]);
    assert!(text.contains("shortest within what was explored"), "{text}");
    assert!(text.contains("INCOMPLETE"), "{text}");
}

#[test]
fn explore_has_the_limits_of_check() {
    let (_, help, _) = authrace(&["explore", "--help"]);
    for flag in ["--max-states", "--timeout", "--max-memory"] {
        assert!(help.contains(flag), "{flag}: {help}");
    }
    let p = temp_file("lifecycle-explore.toml", LIFECYCLE);
    let mut child = Command::new(env!("CARGO_BIN_EXE_authrace"))
        .args([
            "explore",
            p.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
            "--max-states",
            "2000",
        ])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It checks within the limit, says so, then serves.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(line.contains("http://127.0.0.1:"), "{line}");
    assert!(
        err.contains("note: a limit stopped the check") && err.contains("eventually-authenticated"),
        "{err}"
    );
    let (code, _, err) = authrace(&["explore", p.to_str().unwrap(), "--timeout", "-1"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn zero_threads_is_a_usage_error() {
    for cmd in ["check", "scan"] {
        let path = if cmd == "check" {
            "models/seed-better-auth-ungated.toml"
        } else {
            "."
        };
        let (code, out, err) = authrace(&[cmd, path, "--threads", "0"]);
        assert_eq!(code, 2, "{cmd}: {out}");
        assert!(err.contains("at least 1 thread"), "{cmd}: {err}");
    }
}

#[test]
fn a_folder_without_scenarios_is_a_usage_error() {
    let dir = temp_dir("limits-empty");
    std::fs::write(dir.join("notes.txt"), "not a scenario").unwrap();
    let (code, out, err) = authrace(&["check", dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("no scenario file (*.toml)"), "{err}");
    assert!(out.is_empty(), "{out}");
}

#[test]
fn several_files_end_with_a_summary() {
    let (code, out, _) = authrace(&["check", "models/matrix"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().last().unwrap(),
        "10 files: 10 as expected, 0 violated or not as expected, 0 incomplete"
    );
    // One of each outcome.
    let dir = temp_dir("limits-mixed");
    std::fs::copy(
        root().join("models/seed-better-auth-ungated.toml"),
        dir.join("a-seed.toml"),
    )
    .unwrap();
    let seed =
        std::fs::read_to_string(root().join("models/seed-better-auth-ungated.toml")).unwrap();
    let no_expect = seed.split("[expect]").next().unwrap();
    std::fs::write(dir.join("b-violated.toml"), no_expect).unwrap();
    std::fs::write(
        dir.join("c-big.toml"),
        LIFECYCLE.replace("socket_drops = 1", "socket_drops = 0"),
    )
    .unwrap();
    let (code, out, _) = authrace(&["check", dir.to_str().unwrap(), "--max-states", "500"]);
    let last = out.lines().last().unwrap();
    // c-big violates no-stale-identity within 500 states (it fails, exit
    // 1), or is stopped first (incomplete, exit 3): either way one file
    // is as expected and one violated.
    match code {
        1 => assert_eq!(
            last,
            "3 files: 1 as expected, 2 violated or not as expected, 0 incomplete"
        ),
        3 => assert_eq!(
            last,
            "3 files: 1 as expected, 1 violated or not as expected, 1 incomplete"
        ),
        _ => panic!("exit {code}: {out}"),
    }
    // A single file has no summary; JSON neither.
    let (_, out, _) = authrace(&["check", "models/seed-better-auth-ungated.toml"]);
    assert!(!out.contains("files:"), "{out}");
    let (_, out, _) = authrace(&["check", "models/matrix", "--format", "json"]);
    json(&out);
}

#[test]
fn the_json_shape_depends_on_the_arguments_only() {
    let dir = temp_dir("limits-one");
    std::fs::copy(
        root().join("models/seed-better-auth-ungated.toml"),
        dir.join("seed.toml"),
    )
    .unwrap();
    // A folder: an array, even of one.
    let (code, out, _) = authrace(&["check", dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(json(&out).as_array().map(|a| a.len()), Some(1), "{out}");
    // One file: an object.
    let seed = "models/seed-better-auth-ungated.toml";
    let (_, out, _) = authrace(&["check", seed, "--format", "json"]);
    assert!(json(&out).is_object(), "{out}");
    // Several files, even the same one twice: an array.
    let (_, out, _) = authrace(&["check", seed, seed, "--format", "json"]);
    assert_eq!(json(&out).as_array().map(|a| a.len()), Some(2), "{out}");
}

#[test]
fn trace_exit_codes() {
    let seed = "models/seed-better-auth-ungated.toml";
    // 0: a trace printed, a counterexample or a witness.
    let (code, out, _) = authrace(&["trace", seed, "--property", "query-runs-authenticated"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("counterexample of query-runs-authenticated"),
        "{out}"
    );
    let (code, out, _) = authrace(&["trace", seed, "--property", "stable-auth"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("witness of stable-auth"), "{out}");
    // 2: no trace exists (vacuous), or usage.
    let (code, out, err) = authrace(&["trace", seed, "--property", "user-row-ready"]);
    assert_eq!(code, 2);
    assert!(out.is_empty() && err.contains("is vacuous"), "{err}");
    let (code, _, _) = authrace(&["trace", seed]);
    assert_eq!(code, 2);
    // 3: a limit stopped the check before the property was decided.
    let p = temp_file("lifecycle-trace.toml", LIFECYCLE);
    let (code, _, err) = authrace(&[
        "trace",
        p.to_str().unwrap(),
        "--property",
        "eventually-results",
        "--max-states",
        "500",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("is unknown"), "{err}");
    // The codes are in --help.
    let (_, help, _) = authrace(&["trace", "--help"]);
    assert!(help.contains("Exit codes: 0 a trace printed"), "{help}");
}

#[test]
fn init_names_the_file_it_writes() {
    let dir = temp_dir("limits-init");
    let p = dir.join("my-app.toml");
    let (code, out, _) = authrace(&["init", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let text = std::fs::read_to_string(&p).unwrap();
    let name = p.display().to_string();
    assert!(text.contains(&format!("authrace check {name}\n")), "{text}");
    assert!(
        text.contains(&format!("authrace check {name} --suggest")),
        "{text}"
    );
    assert!(!text.contains("scenario.toml"), "{text}");
    let (code, _, _) = authrace(&["check", &name]);
    assert_eq!(code, 0);
}

#[test]
fn eventually_results_is_vacuous_without_components() {
    let p = temp_file(
        "no-component.toml",
        "name = \"no component\"\n[provider]\nkind = \"better-auth\"\nat_load = \"loading\"\n",
    );
    let (code, out, _) = authrace(&["check", p.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let v = json(&out);
    let er = property(&v, "eventually-results");
    assert_eq!(er["verdict"], "vacuous", "{er}");
    assert!(
        er["reason"].as_str().unwrap().contains("no component"),
        "{er}"
    );
    // eventually-authenticated does not depend on components.
    assert_eq!(property(&v, "eventually-authenticated")["verdict"], "holds");
}

/// `diagram` keeps the whole graph with its states: past `--max-states` it
/// stops with exit 3 instead of filling memory.
#[test]
fn diagram_stops_at_its_state_limit() {
    let p = temp_file("lifecycle-diagram.toml", LIFECYCLE);
    let (code, out, err) = authrace(&[
        "diagram",
        p.to_str().unwrap(),
        "--actor",
        "client",
        "--max-states",
        "2000",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("more than 2000 states"), "{err}");
    let (code, out, _) = authrace(&[
        "diagram",
        "models/seed-better-auth-ungated.toml",
        "--actor",
        "client",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("stateDiagram"), "{out}");
}
