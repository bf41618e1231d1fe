//! Every reachable state of a model, printed: what a port of the model to
//! another tool is compared with, state for state (`bench/peers/`).

use std::collections::{HashMap, VecDeque};
use std::fmt::Write;

use stateright::Model;

use crate::model::{AuthModel, State};

/// The reachable states of a model, breadth first.
pub struct Dump {
    /// One line per state, `STATE <id> depth=<d> [via <action>] <Debug>`,
    /// and with transitions one line per step, `EDGE <from> -> <to> via
    /// <action>`.
    pub text: String,
    pub unique: usize,
    pub edges: usize,
    pub max_depth: usize,
}

/// Explores `model` breadth first, telling states apart by `State`'s own
/// `Eq`/`Hash` as the checker does (so the bookkeeping `Debug` shows never
/// splits them), with its own `next_state` (whatever normalization the
/// model is set to). `transitions`: also print every step.
pub fn reachable_states(model: &AuthModel, transitions: bool) -> Dump {
    let mut text = String::new();
    let mut seen: HashMap<State, usize> = HashMap::new();
    let mut queue = VecDeque::new();
    let (mut edges, mut max_depth) = (0, 0);
    for s in model.init_states() {
        let id = seen.len();
        let _ = writeln!(text, "STATE {id} depth=0 {s:?}");
        seen.insert(s.clone(), id);
        queue.push_back((s, id, 0));
    }
    let mut actions = Vec::new();
    while let Some((s, id, depth)) = queue.pop_front() {
        actions.clear();
        model.actions(&s, &mut actions);
        for &a in &actions {
            let Some(next) = model.next_state(&s, a) else {
                continue;
            };
            edges += 1;
            let to = match seen.get(&next) {
                Some(&to) => to,
                None => {
                    let to = seen.len();
                    let _ = writeln!(text, "STATE {to} depth={} via {a:?} {next:?}", depth + 1);
                    seen.insert(next.clone(), to);
                    max_depth = max_depth.max(depth + 1);
                    queue.push_back((next, to, depth + 1));
                    to
                }
            };
            if transitions {
                let _ = writeln!(text, "EDGE {id} -> {to} via {a:?}");
            }
        }
    }
    Dump {
        text,
        unique: seen.len(),
        edges,
        max_depth,
    }
}
