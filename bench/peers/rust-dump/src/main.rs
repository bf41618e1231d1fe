//! Prints every reachable state of authrace's model for one scenario, in
//! breadth-first order, as the `Debug` of `authrace::model::State`, so
//! `bench/peers/compare_states.py` can compare them with seed.pml's.
//!
//! Usage: rust-dump SCENARIO.toml  (env RAW=1: states as `step` leaves them,
//! without `canon::canonicalize`; the Promela port does not rename).
//! Prints `unique=N edges=M max_depth=D` on stderr (depth in steps, the
//! initial state at 0).

use authrace::model::{AuthModel, Fx};
use authrace::scenario::Scenario;
use stateright::Model;
use std::collections::{HashMap, VecDeque};
use std::path::Path;

fn main() {
    let path = std::env::args().nth(1).expect("usage: rust-dump SCENARIO.toml");
    let s = Scenario::load(Path::new(&path)).unwrap_or_else(|_| panic!("cannot load {path}"));
    let m = AuthModel::new(&s);
    let raw = std::env::var("RAW").is_ok();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut q = VecDeque::new();
    let (mut edges, mut max_depth) = (0usize, 0usize);
    for st in m.init_states() {
        let k = format!("{st:?}");
        println!("STATE 0 depth=0 {k}");
        seen.insert(k, 0);
        q.push_back((st, 0usize));
    }
    while let Some((st, d)) = q.pop_front() {
        let mut acts = Vec::new();
        m.actions(&st, &mut acts);
        for a in acts {
            let next = if raw {
                m.step(&st, a, &mut Fx::off())
            } else {
                m.next_state(&st, a)
            };
            let Some(n) = next else { continue };
            edges += 1;
            let k = format!("{n:?}");
            if !seen.contains_key(&k) {
                let id = seen.len();
                println!("STATE {id} depth={} via {a:?} {k}", d + 1);
                seen.insert(k, id);
                max_depth = max_depth.max(d + 1);
                q.push_back((n, d + 1));
            }
        }
    }
    eprintln!("unique={} edges={} max_depth={}", seen.len(), edges, max_depth);
}
