//! The SPIN port of the seed scenario (`bench/peers/seed.pml`) reaches the
//! states authrace's model reaches, state for state, in both variants; and
//! SPIN finds the violation in the violating one only. A change to the
//! model that the port does not follow fails here.

use std::path::Path;
use std::process::Command;

use authrace::check::dump::reachable_states;
use authrace::check::liveness::{Limits, StateGraph};
use authrace::commands::bench::scale_scenario;
use authrace::model::AuthModel;

use crate::common::{parse, root, temp_dir};

fn tool(name: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(found, "{name} not found: scripts/test.sh installs it");
}

/// Runs `cmd` in `dir`; its standard output, or a failure with its stderr.
fn run(dir: &Path, cmd: &[&str]) -> String {
    let out = Command::new(cmd[0])
        .args(&cmd[1..])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The seed scenario, and its variant gated on `useConvexAuth()`.
fn variants() -> [(&'static str, String, &'static str); 2] {
    let seed = std::fs::read_to_string(root().join("models/seed-better-auth-ungated.toml"))
        .expect("the seed scenario");
    let fixed = seed
        .replace("gate = \"none\"", "gate = \"convex-auth\"")
        .split("[expect]")
        .next()
        .unwrap()
        .to_string();
    assert!(fixed.contains("gate = \"convex-auth\""));
    [
        ("violating", seed, "-DNOASSERT"),
        ("fixed", fixed, "-DFIXED"),
    ]
}

/// Builds `pml` with `spin_flags` and `gcc_opt`, dumps its states (pan
/// with `-DPRINTF`), and compares them with the model's for `scenario`
/// (symmetry off: the ports keep the names each run used) with `script`:
/// equal state for state, and as many as `authrace check` counts.
fn same_states(
    pml: &str,
    spin_flags: &[&str],
    gcc_opt: &str,
    script: &str,
    scenario: &str,
    what: &str,
) {
    let peers = root().join("bench/peers");
    let dir = temp_dir(&format!("peers-{what}"));
    let mut model = AuthModel::new(&parse(scenario));
    model.canonical = false;
    let dump = reachable_states(&model, false);
    std::fs::write(dir.join("rust.txt"), &dump.text).unwrap();
    std::fs::copy(peers.join(pml), dir.join(pml)).unwrap();
    let mut spin = vec!["spin", "-a", "-o2", "-DDUMP"];
    spin.extend_from_slice(spin_flags);
    spin.push(pml);
    run(&dir, &spin);
    run(
        &dir,
        &[
            "gcc",
            gcc_opt,
            "-DSAFETY",
            "-DNOREDUCE",
            "-DPRINTF",
            "-o",
            "pan",
            "pan.c",
        ],
    );
    let pan = run(&dir, &["./pan", "-w24"]);
    assert!(pan.contains("errors: 0"), "{what}: {pan}");
    std::fs::write(dir.join("spin.txt"), &pan).unwrap();
    let script = peers.join(script);
    let result = run(
        &dir,
        &["python3", script.to_str().unwrap(), "spin.txt", "rust.txt"],
    );
    assert!(
        result.contains(&format!(
            "spin_states={n} rust_states={n} common={n} only_spin=0 only_rust=0",
            n = dump.unique
        )),
        "{what}: {result}"
    );
    // And those are the states `authrace check --no-symmetry` counts.
    let graph = StateGraph::build(&model, Limits::default());
    assert_eq!(graph.len(), dump.unique, "{what}");
}

#[test]
fn the_promela_port_of_the_seed_reaches_the_same_states() {
    for t in ["spin", "gcc", "python3"] {
        tool(t);
    }
    for (variant, text, flag) in variants() {
        same_states(
            "seed.pml",
            &[flag],
            "-O2",
            "compare_states.py",
            &text,
            variant,
        );
    }
}

/// The port of the scale target's family (`bench/peers/scale.pml`), on a
/// member small enough to compare state by state here (a refresh and a
/// refused token: the refetch timer and reauthentication; building its
/// verifier takes about two minutes). `bench/peers/compare_scale.sh`
/// compares more members (socket drops among them), and `authrace bench`
/// compares the counts on the target itself.
#[test]
fn the_promela_port_of_the_scale_target_reaches_the_same_states() {
    for t in ["spin", "gcc", "python3"] {
        tool(t);
    }
    let (instances, drops, refreshes, rejects) = (1, 0, 1, 1);
    let faults = [
        ("socket_drops", drops),
        ("refreshes", refreshes),
        ("reject_tokens", rejects),
    ];
    let scenario = scale_scenario(instances, &faults, 1);
    let flags = [
        format!("-DINSTANCES={instances}"),
        format!("-DDROPS={drops}"),
        format!("-DREFRESHES={refreshes}"),
        format!("-DREJECTS={rejects}"),
    ];
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    same_states(
        "scale.pml",
        &flags,
        "-O0",
        "compare_scale.py",
        &scenario,
        &format!("scale-{instances}{drops}{refreshes}{rejects}"),
    );
}

#[test]
fn spin_finds_the_violation_in_the_violating_variant_only() {
    tool("spin");
    let out = run(&root(), &["bash", "bench/peers/run.sh", "all"]);
    let line = |v: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("variant={v} ")))
            .unwrap_or_else(|| panic!("no {v} in {out}"))
            .to_string()
    };
    for v in ["violating", "violating-full"] {
        let l = line(v);
        assert!(l.contains("violated=query-runs-authenticated"), "{l}");
        assert!(!l.contains("errors=0"), "{l}");
    }
    let fixed = line("fixed");
    assert!(fixed.contains(" errors=0 "), "{fixed}");
    // The shortest counterexample SPIN's breadth-first search finds has the
    // length of authrace's.
    let report = crate::common::run(&crate::common::load("models/seed-better-auth-ungated.toml"));
    let steps = report
        .properties
        .iter()
        .find(|p| p.id.as_str() == "query-runs-authenticated")
        .and_then(|p| p.steps.as_ref())
        .expect("a counterexample")
        .len();
    assert!(
        line("violating").contains(&format!(" shortest_steps={steps} ")),
        "{out}"
    );
}
