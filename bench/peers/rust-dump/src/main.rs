//! Prints every reachable state of authrace's model for one scenario, in
//! breadth-first order, as the `Debug` of `authrace::model::State`, so
//! `bench/peers/compare_states.py` can compare them with seed.pml's
//! (`authrace::check::dump::reachable_states`, which the test of the port
//! uses too).
//!
//! Usage: rust-dump SCENARIO.toml
//!
//! * default: states as the checker stores them (`AuthModel::next_state`:
//!   `canon::normalize_dead`, then `canon::canonicalize`);
//! * env RAW=1: `next_state` with symmetry reduction off (`normalize_dead`,
//!   then `canon::normalize_time` only), so connection, query and fetcher
//!   numbers are the ones the run used; the Promela port does not rename.
//! * env TRANS=1: also prints every transition, `EDGE <from> -> <to> via
//!   <action>`, state numbers as in the `STATE` lines (for debugging a port).
//!
//! Prints `unique=N edges=M max_depth=D` on stderr (depth in steps, the
//! initial state at 0).

use authrace::check::dump::reachable_states;
use authrace::model::AuthModel;
use authrace::scenario::Scenario;
use std::path::Path;

fn main() {
    let path = std::env::args().nth(1).expect("usage: rust-dump SCENARIO.toml");
    let s = Scenario::load(Path::new(&path)).unwrap_or_else(|_| panic!("cannot load {path}"));
    let mut m = AuthModel::new(&s);
    m.canonical = std::env::var("RAW").is_err();
    let d = reachable_states(&m, std::env::var("TRANS").is_ok());
    print!("{}", d.text);
    eprintln!("unique={} edges={} max_depth={}", d.unique, d.edges, d.max_depth);
}
