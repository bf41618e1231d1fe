//! A bounded search for scenarios whose state space does not fit in memory:
//! bitstate hashing (SPIN's supertrace) with a swarm of randomised
//! depth-first searches. **Not a proof.**
//!
//! Each visited state sets `k` bits, chosen from its 128-bit fingerprint, in
//! one bit array shared by every search; a state whose `k` bits are all set
//! is taken as visited. A state that was not visited but whose bits happen
//! to be set by others is skipped with everything only reachable through
//! it: the search may miss states, never report a violation that does not
//! exist. Each search is a depth-first search from the initial state that
//! tries the enabled actions in its own pseudo-random order (search 0 in
//! the model's order), so several searches cover different parts of the
//! space before the array fills (a swarm, one search per thread).
//!
//! What it reports: every safety violation it meets, with the depth-first
//! path to it (a real run of the model, not necessarily the shortest), and
//! for the rest `unknown`, with the coverage it can state: how many states
//! it stored, the array's bits per state (SPIN's *hash factor*), and the
//! expected number of states lost to hash collisions, summed over every
//! insertion (`fill^k` at the time). Liveness needs the whole graph: a
//! bounded search decides none.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use stateright::Model;

use super::liveness::{fact, facts_of};
use crate::model::{Action, AuthModel, State};
use crate::scenario::properties::{PropertyId, PropertyKind};

/// Hash functions per state (bits set in the array).
pub const HASHES: u32 = 3;

/// What a bounded search covered (the report's `bounded` field).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Coverage {
    /// Always `bitstate`.
    pub mode: String,
    /// Randomised depth-first searches run (one per thread).
    pub searches: usize,
    /// Size of the shared bit array.
    pub bits: u64,
    pub hash_functions: u32,
    /// States stored (insertions that set a bit), all searches together:
    /// two searches that meet a new state at the same moment may both
    /// store it, so this can exceed the distinct states slightly.
    pub states: usize,
    /// Bits per stored state: SPIN's hash factor (above 100, few losses).
    pub hash_factor: f64,
    /// Expected states missed because their bits were already set.
    pub expected_omissions: f64,
    /// The deepest path followed.
    pub max_depth: usize,
    /// False when a limit (timeout, interrupt, `max_states`) stopped the
    /// searches before they ran out of new states.
    pub exhausted: bool,
    pub note: String,
}

/// A violation found: the property and the actions from the initial state.
pub struct Found {
    pub property: PropertyId,
    pub actions: Vec<Action>,
}

/// What the searches found.
pub struct Outcome {
    pub coverage: Coverage,
    /// The first violation each property got (by the search that found it
    /// first).
    pub violations: Vec<Found>,
    /// Safety properties whose trigger some search saw happen.
    pub triggered: Vec<PropertyId>,
    /// Anomalies met (see `model::Anomaly`).
    pub anomalies: std::collections::BTreeSet<String>,
    pub transitions: usize,
}

/// The shared bit array.
struct Bits {
    words: Vec<AtomicU64>,
    mask: u64,
    set: AtomicUsize,
}

impl Bits {
    fn new(bits: u64) -> Bits {
        let bits = bits.max(64).next_power_of_two();
        Bits {
            words: (0..bits / 64).map(|_| AtomicU64::new(0)).collect(),
            mask: bits - 1,
            set: AtomicUsize::new(0),
        }
    }

    /// Sets the state's bits; true when at least one was clear (a new state).
    fn insert(&self, fp: [u64; 2]) -> bool {
        let mut fresh = false;
        for i in 0..HASHES as u64 {
            // Double hashing (Kirsch and Mitzenmacher): h1 + i * h2.
            let bit = fp[0].wrapping_add(i.wrapping_mul(fp[1] | 1)) & self.mask;
            let (w, b) = ((bit / 64) as usize, 1u64 << (bit % 64));
            if self.words[w].fetch_or(b, Ordering::Relaxed) & b == 0 {
                fresh = true;
                self.set.fetch_add(1, Ordering::Relaxed);
            }
        }
        fresh
    }

    fn len(&self) -> u64 {
        self.mask + 1
    }
}

/// Limits of a bounded search.
pub struct Limits<'a> {
    pub bits: u64,
    pub searches: usize,
    pub max_depth: Option<usize>,
    pub max_states: Option<usize>,
    /// Set to stop (timeout, interrupt).
    pub stop: &'a AtomicBool,
    /// States stored so far, for progress lines.
    pub stored: &'a AtomicUsize,
}

/// A small pseudo-random generator (xorshift64*) for action orders.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// One depth-first search's findings.
#[derive(Default)]
struct SearchResult {
    violations: Vec<(PropertyId, Vec<Action>)>,
    triggered: u32,
    anomalies: std::collections::BTreeSet<String>,
    transitions: usize,
    max_depth: usize,
    omissions: f64,
    stopped: bool,
}

/// Runs the searches (one per thread) and gathers what they found.
pub fn search(model: &AuthModel, limits: &Limits<'_>) -> Outcome {
    let bits = Bits::new(limits.bits);
    let fingerprinter = super::liveness::Fingerprinter::FIXED;
    let searches = limits.searches.max(1);
    let results: Vec<SearchResult> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..searches)
            .map(|i| {
                let bits = &bits;
                let fingerprinter = &fingerprinter;
                scope.spawn(move || dfs(model, limits, bits, fingerprinter, i as u64))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a bounded search does not panic"))
            .collect()
    });
    let stored = limits.stored.load(Ordering::Relaxed);
    let mut violations: Vec<Found> = Vec::new();
    let mut triggered = 0u32;
    let mut anomalies = std::collections::BTreeSet::new();
    let mut transitions = 0;
    let mut max_depth = 0;
    let mut omissions = 0.0;
    let mut exhausted = true;
    for r in results {
        for (p, actions) in r.violations {
            if !violations.iter().any(|f| f.property == p) {
                violations.push(Found {
                    property: p,
                    actions,
                });
            }
        }
        triggered |= r.triggered;
        anomalies.extend(r.anomalies);
        transitions += r.transitions;
        max_depth = max_depth.max(r.max_depth);
        omissions += r.omissions;
        exhausted &= !r.stopped;
    }
    let hash_factor = if stored == 0 {
        f64::INFINITY
    } else {
        bits.len() as f64 / stored as f64
    };
    Outcome {
        coverage: Coverage {
            mode: "bitstate".to_string(),
            searches,
            bits: bits.len(),
            hash_functions: HASHES,
            states: stored,
            hash_factor,
            expected_omissions: omissions,
            max_depth,
            exhausted,
            note: "not a proof: a bitstate search may miss states (hash collisions), so a property it finds no violation of is unknown, not holding; liveness is not decided".to_string(),
        },
        violations,
        triggered: PropertyId::ALL
            .into_iter()
            .filter(|p| p.kind() == PropertyKind::Safety && triggered & fact::triggered(*p) != 0)
            .collect(),
        anomalies,
        transitions,
    }
}

/// One randomised depth-first search (iterative: a stack of states, each
/// with the actions still to try).
fn dfs(
    model: &AuthModel,
    limits: &Limits<'_>,
    bits: &Bits,
    fingerprinter: &super::liveness::Fingerprinter,
    seed: u64,
) -> SearchResult {
    let mut r = SearchResult::default();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);
    let safety: Vec<PropertyId> = PropertyId::ALL
        .into_iter()
        .filter(|p| p.kind() == PropertyKind::Safety)
        .collect();
    let mut found = 0u32;
    // (state, its actions in this search's order, the next one to try, the
    // action that led to it).
    let mut stack: Vec<(State, Vec<Action>, usize, Option<Action>)> = Vec::new();
    let mut visit = |s: &State, r: &mut SearchResult, stack_actions: &dyn Fn() -> Vec<Action>| {
        let f = facts_of(model, s);
        r.triggered |= f;
        if let Some(a) = s.anomaly {
            r.anomalies.insert(a.to_string());
        }
        for p in &safety {
            if f & fact::violates(*p) != 0 && found & fact::violates(*p) == 0 {
                found |= fact::violates(*p);
                r.violations.push((*p, stack_actions()));
            }
        }
    };
    let order = |s: &State, rng: &mut Rng| {
        let mut actions = Vec::new();
        model.actions(s, &mut actions);
        if seed != 0 {
            for i in (1..actions.len()).rev() {
                let j = (rng.next() % (i as u64 + 1)) as usize;
                actions.swap(i, j);
            }
        }
        actions
    };
    for s in model.init_states() {
        let fp = fingerprinter.fingerprint(&s);
        if bits.insert(fp) {
            limits.stored.fetch_add(1, Ordering::Relaxed);
        }
        visit(&s, &mut r, &Vec::new);
        let actions = order(&s, &mut rng);
        stack.push((s, actions, 0, None));
        while !stack.is_empty() {
            let depth = stack.len();
            if limits.stop.load(Ordering::Relaxed)
                || limits
                    .max_states
                    .is_some_and(|m| limits.stored.load(Ordering::Relaxed) >= m)
            {
                r.stopped = true;
                break;
            }
            let (state, actions, next, _) = stack.last_mut().expect("not empty");
            if *next >= actions.len() || limits.max_depth.is_some_and(|d| depth > d) {
                if *next < actions.len() {
                    r.stopped = true;
                }
                stack.pop();
                continue;
            }
            let a = actions[*next];
            *next += 1;
            let Some(succ) = model.next_state(state, a) else {
                continue;
            };
            r.transitions += 1;
            let fp = fingerprinter.fingerprint(&succ);
            // The chance that this insertion finds its bits set by others
            // although the state is new: the array's fill to the power k.
            let fill = bits.set.load(Ordering::Relaxed) as f64 / bits.len() as f64;
            if !bits.insert(fp) {
                continue;
            }
            // Per state stored, fill^k / (1 - fill^k) new states are
            // expected to have been taken for visited ones.
            let p = fill.powi(HASHES as i32);
            r.omissions += p / (1.0 - p).max(f64::EPSILON);
            limits.stored.fetch_add(1, Ordering::Relaxed);
            let path = || {
                stack
                    .iter()
                    .filter_map(|(_, _, _, a)| *a)
                    .chain(std::iter::once(a))
                    .collect()
            };
            visit(&succ, &mut r, &path);
            let actions = order(&succ, &mut rng);
            stack.push((succ, actions, 0, Some(a)));
            r.max_depth = r.max_depth.max(stack.len() - 1);
        }
        if r.stopped {
            break;
        }
    }
    r
}
