//! Sound liveness on the explored state graph.
//!
//! `stateright`'s `eventually` is documented as unsound on cycles and on
//! paths that rejoin, so `eventually-*` properties are decided here instead:
//! the whole reachable graph is built with `petgraph`, each edge labelled
//! *progress* unless it is a fault or a user action.
//!
//! The verdict is **recoverability**: a property holds when from every
//! reachable state satisfying the premise some goal state is reachable along
//! progress edges only — whatever faults and user actions happened before,
//! the system *can* still get there without more of them. It is decided
//! exactly with a backward search from the goal states. It is weaker than
//! "every run gets there": a run may keep taking progress steps that avoid
//! the goal. That stronger notion, **inevitability** under weak fairness
//! (no progress action stays enabled forever without being taken), is
//! checked too and reported beside the verdict: it fails when a strongly
//! connected set of goal-free states reachable by progress from a premise
//! state admits a weakly fair cycle — one in which every progress action
//! enabled in all of its states is taken somewhere in it. (For weak
//! fairness, checking each maximal such component is exact: if a component
//! as a whole is unfair because of an action, every cycle inside it is.)

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};

use petgraph::graph::{DiGraph, NodeIndex};
use stateright::Model;

use crate::model::client::{AuthState, Ws};
use crate::model::msg::user_name;
use crate::model::{Action, AuthModel, State, is_success_for};
use crate::scenario::properties::PropertyId;

/// Limits for building the graph, and how much of it to keep.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits<'a> {
    pub max_depth: Option<usize>,
    pub max_states: Option<usize>,
    /// Updated as the build goes, for progress reports and memory limits.
    pub progress: Option<&'a GraphProgress>,
    /// Keep only what deciding properties needs: each state's [`fact`] bits
    /// and the progress edges, not the states themselves nor the fault and
    /// user-action edges (which diagrams need). States are then told apart
    /// by a 128-bit fingerprint (hash compaction).
    pub compact: bool,
    /// Threads expanding states (0 or 1: this one only). The graph is the
    /// same for every count.
    pub threads: usize,
}

/// What the checks read off a state, as bits: the graph keeps these, so a
/// compact graph need not keep the states.
pub mod fact {
    use crate::scenario::properties::PropertyId;
    /// The state violates safety property `p` (`AuthModel::holds` is false).
    pub fn violates(p: PropertyId) -> u32 {
        p.bit() as u32
    }
    /// The step into the state triggered safety property `p`.
    pub fn triggered(p: PropertyId) -> u32 {
        (p.bit() as u32) << 8
    }
    /// The liveness premise: the provider is signed in.
    pub const PREMISE: u32 = 1 << 16;
    /// [`super::authenticated_goal`] holds.
    pub const AUTH_GOAL: u32 = 1 << 17;
    /// [`super::results_goal`] holds.
    pub const RESULTS_GOAL: u32 = 1 << 18;
}

/// How far a graph build has got (updated every 1024 states).
#[derive(Debug, Default)]
pub struct GraphProgress {
    /// States found.
    pub states: AtomicUsize,
    /// Edges kept (the progress edges of a compact graph).
    pub kept_edges: AtomicUsize,
    /// States the index holds before its table next grows.
    pub index_capacity: AtomicUsize,
    /// States found but not yet expanded (the breadth-first frontier).
    pub frontier: AtomicUsize,
    /// The breadth-first level being expanded.
    pub depth: AtomicUsize,
    /// The build has ended with every reachable state explored.
    pub complete: std::sync::atomic::AtomicBool,
    /// States per breadth-first level, for the levels found whole.
    pub levels: std::sync::Mutex<Vec<usize>>,
}

impl GraphProgress {
    fn record(&self, g: &StateGraph, index: &Index, frontier: usize, depth: u32) {
        self.depth.store(depth as usize, Ordering::Relaxed);
        self.states.store(g.len(), Ordering::Relaxed);
        self.kept_edges.store(g.pending_edges, Ordering::Relaxed);
        self.index_capacity
            .store(index.compact.capacity(), Ordering::Relaxed);
        self.frontier.store(frontier, Ordering::Relaxed);
    }

    /// Bytes the graph's build may need at once on top of what it holds:
    /// its index's next growth (the table doubles in one step) when that is
    /// near. What deciding properties afterwards needs is checked then
    /// ([`StateGraph::finish_bytes`]): stopping the build early for it would
    /// only leave liveness undecided sooner.
    pub fn reserve_bytes(&self) -> u64 {
        let near =
            |len: u64, capacity: u64| capacity.saturating_sub(len) <= (capacity / 8).max(1 << 16);
        let states = self.states.load(Ordering::Relaxed) as u64;
        let capacity = self.index_capacity.load(Ordering::Relaxed) as u64;
        // The index's slots (a power of two, at most 3/4 used): growing
        // allocates twice as many while the old ones are still held.
        let index = if near(states, capacity) {
            let slots = (capacity * 4 / 3).max(1).next_power_of_two();
            slots * 2 * std::mem::size_of::<Slot>() as u64
        } else {
            0
        };
        // The frontier grows a block at a time (no copy): what it adds
        // between two polls is within the margin the caller keeps.
        index
    }
}

/// The fact bits of one state.
pub fn facts_of(model: &AuthModel, s: &State) -> u32 {
    let mut f = 0;
    for p in PropertyId::ALL {
        if p.kind() == crate::scenario::properties::PropertyKind::Safety && !model.holds(p, s) {
            f |= fact::violates(p);
        }
    }
    f |= (s.triggered as u32) << 8;
    if premise(s).is_some() {
        f |= fact::PREMISE;
    }
    if authenticated_goal(s) {
        f |= fact::AUTH_GOAL;
    }
    if results_goal(model, s) {
        f |= fact::RESULTS_GOAL;
    }
    f
}

/// The reachable state graph of a model, explored breadth first: node ids
/// are in BFS order, so the first node with some fact is a shallowest one.
pub struct StateGraph {
    /// Every edge, or only the progress edges of a compact graph; empty
    /// until [`StateGraph::seal`] (which `build` calls unless compact).
    pub graph: DiGraph<(), Action, u32>,
    /// Edges found by the exploration, in fixed-size chunks (no reallocation
    /// doubles their memory), until `seal` moves them into `graph`.
    pending: Vec<Vec<(u32, u32, Action)>>,
    pending_edges: usize,
    /// The fact bits of each node.
    pub facts: Vec<u32>,
    /// The states, unless the graph is compact.
    pub states: Vec<State>,
    /// BFS parent of each node (`None` for the initial state).
    pub parent: Vec<Option<(u32, Action)>>,
    pub depth: Vec<u32>,
    /// The anomalies (points where the real client would throw, see
    /// `model::Anomaly`) reached in any state.
    pub anomalies: std::collections::BTreeSet<String>,
    /// False when a limit stopped the exploration.
    pub complete: bool,
    /// Which limit stopped it.
    pub stopped_by: Option<&'static str>,
    /// Edges explored (all of them, also in a compact graph).
    pub edges: usize,
    compact: bool,
    /// The progress edges reversed (see [`StateGraph::reverse`]), built
    /// once for every liveness property.
    reverse: std::sync::OnceLock<Reverse>,
}

/// The progress edges by target: the sources of node `t`'s incoming
/// progress edges are `sources[start[t]..start[t + 1]]`.
struct Reverse {
    start: Vec<u32>,
    sources: Vec<u32>,
}

/// Finds node ids by state: exactly (states kept) or by fingerprint.
struct Index {
    exact: HashMap<u64, Vec<u32>>,
    compact: FpTable,
}

impl Index {
    fn new() -> Index {
        Index {
            exact: HashMap::new(),
            compact: FpTable::new(),
        }
    }
}

/// The index of a compact graph: fingerprint -> node id, open addressing
/// with linear probing on the fingerprint's first word (already a hash of
/// the state). Its own table, not a `HashMap`, so the slot a successor will
/// be looked up in can be prefetched while the other successors of the
/// state are built: on a large table every lookup is a cache miss.
struct FpTable {
    slots: Vec<Slot>,
    len: usize,
}

/// One slot: the fingerprint and the node id plus one (0: empty).
#[derive(Clone, Copy, Default)]
struct Slot {
    fp: [u64; 2],
    id: u32,
}

impl FpTable {
    /// At most this share of the slots is used (then the table doubles).
    const LOAD: (usize, usize) = (3, 4);

    fn new() -> FpTable {
        FpTable {
            slots: vec![Slot::default(); 1 << 10],
            len: 0,
        }
    }

    /// Entries it holds before it next grows.
    fn capacity(&self) -> usize {
        self.slots.len() / Self::LOAD.1 * Self::LOAD.0
    }

    fn home(&self, fp: [u64; 2]) -> usize {
        fp[0] as usize & (self.slots.len() - 1)
    }

    /// Asks the processor to load the slot `fp` starts probing at.
    fn prefetch(&self, fp: [u64; 2]) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: prefetching reads nothing and faults on no address; the
        // pointer is in bounds of `slots` anyway.
        unsafe {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let p = self.slots.as_ptr().add(self.home(fp)) as *const i8;
            _mm_prefetch::<_MM_HINT_T0>(p);
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = fp;
    }

    /// The slot holding `fp`, or the empty slot where it belongs.
    fn probe(&self, fp: [u64; 2]) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = self.home(fp);
        while self.slots[i].id != 0 && self.slots[i].fp != fp {
            i = (i + 1) & mask;
        }
        i
    }

    /// The id of `fp`, or `id` after inserting it: `(id, inserted)`.
    fn get_or_insert(&mut self, fp: [u64; 2], id: u32) -> (u32, bool) {
        if (self.len + 1) * Self::LOAD.1 > self.slots.len() * Self::LOAD.0 {
            self.grow();
        }
        let i = self.probe(fp);
        let slot = &mut self.slots[i];
        if slot.id != 0 {
            return (slot.id - 1, false);
        }
        *slot = Slot { fp, id: id + 1 };
        self.len += 1;
        (id, true)
    }

    fn grow(&mut self) {
        let bigger = vec![Slot::default(); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, bigger);
        for s in old.into_iter().filter(|s| s.id != 0) {
            let i = self.probe(s.fp);
            self.slots[i] = s;
        }
    }
}

/// The fingerprint function of every exploration: XXH3-128 with a fixed
/// seed, so the same scenario explores the same graph every run.
#[derive(Clone, Copy)]
pub(crate) struct Fingerprinter(u64);

impl Fingerprinter {
    pub(crate) const FIXED: Fingerprinter = Fingerprinter(0x6175_7468_7261_6365);

    /// A 128-bit fingerprint of `s` (hash compaction: two states with the
    /// same one are taken to be the same).
    ///
    /// One walk over the state writes what `Hash` feeds a hasher into a
    /// byte buffer; XXH3-128 then hashes the buffer in bulk. The walk is the
    /// same as hashing the state, so equal states give equal buffers, and
    /// the buffer determines the state: `Hash` writes a length before every
    /// sequence and a discriminant before every variant, so the stream of
    /// writes parses one way.
    pub(crate) fn fingerprint(&self, s: &State) -> [u64; 2] {
        use std::hash::Hash;
        thread_local! {
            static BUF: std::cell::RefCell<Stream> = std::cell::RefCell::new(Stream(Vec::with_capacity(1024)));
        }
        BUF.with_borrow_mut(|b| {
            b.0.clear();
            s.hash(b);
            let h = xxhash_rust::xxh3::xxh3_128_with_seed(&b.0, self.0);
            [h as u64, (h >> 64) as u64]
        })
    }
}

/// What `Hash` writes, as bytes: little-endian; lengths and discriminants
/// (`usize`, `isize`) in one byte when below 255, else 255 and eight bytes
/// (self-delimiting, so the stream still parses one way).
struct Stream(Vec<u8>);

impl Stream {
    fn word(&mut self, i: u64) {
        if i < 255 {
            self.0.push(i as u8);
        } else {
            self.0.push(255);
            self.0.extend_from_slice(&i.to_le_bytes());
        }
    }
}

impl std::hash::Hasher for Stream {
    fn finish(&self) -> u64 {
        unreachable!("a stream is hashed in bulk, not finished")
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
    fn write_u8(&mut self, i: u8) {
        self.0.push(i);
    }
    fn write_u16(&mut self, i: u16) {
        self.0.extend_from_slice(&i.to_le_bytes());
    }
    fn write_u32(&mut self, i: u32) {
        self.0.extend_from_slice(&i.to_le_bytes());
    }
    fn write_u64(&mut self, i: u64) {
        self.0.extend_from_slice(&i.to_le_bytes());
    }
    fn write_usize(&mut self, i: usize) {
        self.word(i as u64);
    }
    fn write_isize(&mut self, i: isize) {
        self.word(i as u64);
    }
}

/// States to expand (each with its node id), in breadth-first order.
type Block = Vec<(u32, State)>;

/// The states of one breadth-first level, in blocks of a fixed size: a
/// block is freed as soon as it is expanded, and growing never copies.
#[derive(Default)]
struct Frontier {
    blocks: VecDeque<Block>,
    len: usize,
}

impl Frontier {
    const BLOCK: usize = 1024;

    fn push(&mut self, s: (u32, State)) {
        if self.blocks.back().is_none_or(|b| b.len() == Self::BLOCK) {
            self.blocks.push_back(Vec::with_capacity(Self::BLOCK));
        }
        self.blocks
            .back_mut()
            .expect("a block was just pushed")
            .push(s);
        self.len += 1;
    }
}

/// What expanding one state found (computed on any thread).
struct Expanded {
    id: u32,
    facts: u32,
    anomaly: Option<crate::model::Anomaly>,
    /// Whether any action is enabled (for a state at the depth bound).
    enabled: bool,
    /// How many of the part's successors are this state's.
    successors: u32,
}

/// One successor: the action, the state (taken when numbering finds it
/// new; a duplicate is never moved) and its fingerprint.
type Successor = (Action, Option<State>, [u64; 2]);

/// A block of states expanded: one [`Expanded`] per state, and all their
/// successors in order.
#[derive(Default)]
struct Part {
    states: Vec<Expanded>,
    successors: Vec<Successor>,
}

impl Part {
    /// Expands `states` (past the depth bound, `expand` is false: only their
    /// facts are read), appending to this part.
    fn expand(
        &mut self,
        model: &AuthModel,
        fingerprinter: &Fingerprinter,
        states: &[(u32, State)],
        expand: bool,
    ) {
        let mut actions = Vec::new();
        for (id, s) in states {
            actions.clear();
            model.actions(s, &mut actions);
            let before = self.successors.len();
            if expand {
                for &a in &actions {
                    // The copy is made in its place in the part.
                    self.successors.push((a, Some(s.clone()), [0; 2]));
                    let (_, next, fp) = self.successors.last_mut().expect("just pushed");
                    let next = next.as_mut().expect("just pushed");
                    if model.next_in_place(next, a) {
                        *fp = fingerprinter.fingerprint(next);
                    } else {
                        self.successors.pop();
                    }
                }
            }
            self.states.push(Expanded {
                id: *id,
                facts: facts_of(model, s),
                anomaly: s.anomaly,
                enabled: !actions.is_empty(),
                successors: (self.successors.len() - before) as u32,
            });
        }
    }

    /// Expands a block on the pool's threads, in tasks of a few states:
    /// one part per task, in the block's order.
    fn expand_parallel(
        model: &AuthModel,
        fingerprinter: &Fingerprinter,
        states: &[(u32, State)],
        expand: bool,
    ) -> Vec<Part> {
        use rayon::prelude::*;
        states
            .par_chunks(StateGraph::PAR_TASK)
            .map(|chunk| {
                let mut p = Part::default();
                p.expand(model, fingerprinter, chunk, expand);
                p
            })
            .collect()
    }
}

/// The numbering side of a build: interns successors in breadth-first
/// order and collects the next level.
struct Numbering<'a> {
    g: StateGraph,
    index: Index,
    next: Frontier,
    depth: u32,
    expand: bool,
    max_states: Option<usize>,
    progress: Option<&'a GraphProgress>,
}

impl Numbering<'_> {
    /// Records what expanding state `id` found about it.
    fn visited(
        &mut self,
        id: u32,
        facts: u32,
        anomaly: Option<crate::model::Anomaly>,
        enabled: bool,
    ) {
        let g = &mut self.g;
        g.facts[id as usize] = facts;
        if let Some(a) = anomaly {
            g.anomalies.insert(a.to_string());
        }
        if enabled && !self.expand {
            g.complete = false;
            g.stopped_by = Some("max-depth");
        }
    }

    /// Numbers one successor of `from`: its id, if it is new.
    fn successor(&mut self, from: u32, a: Action, next: &State, fp: [u64; 2]) -> Option<u32> {
        let g = &mut self.g;
        g.edges += 1;
        let (nid, fresh) = g.intern(&mut self.index, fp, next, Some((from, a)), self.depth + 1);
        if !g.compact || StateGraph::is_progress(&a) {
            g.push_edge(from, nid, a);
        }
        fresh.then_some(nid)
    }

    /// After a state: whether `max_states` is reached with `remaining`
    /// states left to expand (then the build stops, incomplete).
    fn full(&mut self, remaining: usize) -> bool {
        let full = self.max_states.is_some_and(|m| self.g.len() >= m) && remaining > 0;
        if full {
            self.g.complete = false;
            self.g.stopped_by = Some("max-states");
        }
        full
    }

    /// One thread: expands a few states of `block` at a time and numbers
    /// their successors while they are still in the cache. `waiting`:
    /// states to expand after the block. Returns the states not expanded
    /// when `max_states` stops the build.
    fn expand_and_number(
        &mut self,
        model: &AuthModel,
        fingerprinter: &Fingerprinter,
        block: &[(u32, State)],
        waiting: usize,
    ) -> Option<Block> {
        let mut part = Part::default();
        let mut done = 0;
        for states in block.chunks(StateGraph::SEQ_STEP) {
            part.expand(model, fingerprinter, states, self.expand);
            done += states.len();
            if let Some(mut rest) = self.number(states, &mut part, waiting + block.len() - done) {
                rest.extend_from_slice(&block[done..]);
                return Some(rest);
            }
        }
        None
    }

    /// Numbers the parts the pool expanded from `block` (one per task, in
    /// order). Returns the states not numbered when `max_states` stops the
    /// build.
    fn number_parts(
        &mut self,
        block: &[(u32, State)],
        parts: &mut [Part],
        waiting: usize,
    ) -> Option<Block> {
        let mut done = 0;
        for part in parts {
            let states = &block[done..done + part.states.len()];
            done += states.len();
            if let Some(mut rest) = self.number(states, part, waiting + block.len() - done) {
                rest.extend_from_slice(&block[done..]);
                return Some(rest);
            }
        }
        None
    }

    /// Numbers the successors of expanded states (`block`, in order),
    /// prefetching each one's index slot a few successors ahead. Returns
    /// the states not numbered from when `max_states` stops the build.
    fn number(&mut self, block: &[(u32, State)], part: &mut Part, waiting: usize) -> Option<Block> {
        // Prefetch the slot of the successor this many ahead.
        const AHEAD: usize = 8;
        let fps: Vec<[u64; 2]> = part.successors.iter().map(|(_, _, fp)| *fp).collect();
        if self.g.compact {
            for &fp in fps.iter().take(AHEAD) {
                self.index.compact.prefetch(fp);
            }
        }
        let mut successors = part.successors.iter_mut().enumerate();
        for (k, e) in part.states.drain(..).enumerate() {
            self.visited(e.id, e.facts, e.anomaly, e.enabled);
            for (j, (a, next, fp)) in successors.by_ref().take(e.successors as usize) {
                if self.g.compact
                    && let Some(&ahead) = fps.get(j + AHEAD)
                {
                    self.index.compact.prefetch(ahead);
                }
                let state = next.as_ref().expect("each successor is numbered once");
                if let Some(nid) = self.successor(e.id, *a, state, *fp) {
                    let state = next.take().expect("each successor is numbered once");
                    self.next.push((nid, state));
                }
            }
            if self.full(waiting + block.len() - k - 1 + self.next.len) {
                part.successors.clear();
                return Some(block[k + 1..].to_vec());
            }
        }
        part.successors.clear();
        None
    }
}

impl StateGraph {
    /// States one task expands when threads share a block.
    const PAR_TASK: usize = 16;
    /// States expanded, then numbered, at a time on one thread.
    const SEQ_STEP: usize = 8;

    /// Explores the reachable graph breadth first, level by level, a block
    /// of states at a time. With `limits.threads` above 1, one block is
    /// expanded on the pool's threads (each state's facts, successors and
    /// their fingerprints) while the block before it is numbered: its
    /// successors interned in the order a sequential breadth-first search
    /// meets them, so node ids, parents and depths are the same for every
    /// thread count.
    pub fn build(model: &AuthModel, limits: Limits<'_>) -> StateGraph {
        let index = Index::new();
        let fingerprinter = Fingerprinter::FIXED;
        let g = StateGraph {
            graph: DiGraph::default(),
            pending: Vec::new(),
            pending_edges: 0,
            facts: Vec::new(),
            states: Vec::new(),
            parent: Vec::new(),
            depth: Vec::new(),
            anomalies: Default::default(),
            complete: true,
            stopped_by: None,
            edges: 0,
            compact: limits.compact,
            reverse: Default::default(),
        };
        let pool = (limits.threads > 1)
            .then(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(limits.threads)
                    .build()
                    .ok()
            })
            .flatten();
        let mut num = Numbering {
            g,
            index,
            next: Frontier::default(),
            depth: 0,
            expand: true,
            max_states: limits.max_states,
            progress: limits.progress,
        };
        for s in model.init_states() {
            let fp = fingerprinter.fingerprint(&s);
            if let (id, true) = num.g.intern(&mut num.index, fp, &s, None, 0) {
                num.next.push((id, s));
            }
        }
        // States found but not expanded when a limit stops the build: their
        // facts are computed at the end.
        let mut unexpanded: Block = Vec::new();
        let mut level = std::mem::take(&mut num.next);
        let found_whole = |len: usize| {
            if let Some(p) = limits.progress {
                p.levels.lock().unwrap_or_else(|e| e.into_inner()).push(len);
            }
        };
        found_whole(level.len);
        'levels: while level.len > 0 {
            num.expand = limits.max_depth.is_none_or(|m| (num.depth as usize) < m);
            let expand = num.expand;
            let mut in_flight: Option<(Block, Vec<Part>)> = None;
            loop {
                let block = level.blocks.pop_front();
                if let Some(b) = &block {
                    level.len -= b.len();
                }
                if block.is_none() && in_flight.is_none() {
                    break;
                }
                if let Some(p) = num.progress {
                    let pending = in_flight.as_ref().map_or(0, |(b, _)| b.len());
                    let waiting = block.as_ref().map_or(0, Vec::len);
                    p.record(
                        &num.g,
                        &num.index,
                        level.len + waiting + pending + num.next.len,
                        num.depth,
                    );
                }
                if model.cancelled() {
                    num.g.complete = false;
                    num.g.stopped_by = Some("a limit");
                    unexpanded.extend(in_flight.into_iter().flat_map(|(b, _)| b));
                    unexpanded.extend(block.into_iter().flatten());
                    break 'levels;
                }
                let waiting = level.len + block.as_ref().map_or(0, Vec::len);
                let Some(pool) = &pool else {
                    let Some(block) = block else { break };
                    if let Some(rest) =
                        num.expand_and_number(model, &fingerprinter, &block, level.len)
                    {
                        unexpanded.extend(rest);
                        break 'levels;
                    }
                    continue;
                };
                let (expanded, stopped) = pool.install(|| {
                    rayon::join(
                        || {
                            block.map(|b| {
                                let p = Part::expand_parallel(model, &fingerprinter, &b, expand);
                                (b, p)
                            })
                        },
                        || {
                            in_flight
                                .take()
                                .and_then(|(b, mut p)| num.number_parts(&b, &mut p, waiting))
                        },
                    )
                });
                in_flight = expanded;
                if let Some(rest) = stopped {
                    unexpanded.extend(rest);
                    unexpanded.extend(in_flight.into_iter().flat_map(|(b, _)| b));
                    break 'levels;
                }
            }
            level = std::mem::take(&mut num.next);
            found_whole(level.len);
            num.depth += 1;
        }
        // What a stop left unexpanded: the rest of the level being expanded
        // and the next level found so far.
        // Each block is freed once read, so this never copies the frontier.
        let mut g = num.g;
        let leftover = level.blocks.into_iter().chain(num.next.blocks);
        for (id, s) in leftover.flatten().chain(unexpanded) {
            g.facts[id as usize] = facts_of(model, &s);
            if let Some(a) = s.anomaly {
                g.anomalies.insert(a.to_string());
            }
        }
        if let Some(p) = limits.progress {
            p.record(&g, &num.index, 0, num.depth);
            p.complete.store(g.complete, Ordering::Relaxed);
        }
        if !g.compact {
            g.seal();
        }
        g
    }

    /// An upper bound of the bytes that deciding properties on a graph of
    /// `states` states and `edges` kept edges allocates on top of the
    /// build: [`StateGraph::seal`]'s adjacency lists, then, for each
    /// liveness property in turn (each frees its own before the next), the
    /// goal and reachability vectors, the queue, the goal-free region's
    /// subgraph with its node map and strongly connected components, and
    /// the search to a stuck state.
    pub fn finish_bytes(states: usize, edges: usize) -> u64 {
        let node = std::mem::size_of::<petgraph::graph::Node<(), u32>>() as u64;
        let edge = std::mem::size_of::<petgraph::graph::Edge<Action, u32>>() as u64;
        let (n, e) = (states as u64, edges as u64);
        let seal = n * node + e * edge;
        // goal + ok + region + seen (1 byte each), two queues (8 each),
        // members (8), the node map (16 per entry at most 7/8 full, doubled
        // while it grows), subgraph nodes, Tarjan's work vectors (about 24)
        // and its output (8), the stuck-state search's map (24), the
        // reversed progress edges (4 per state and 4 per edge, kept for
        // every property, and 4 per state while they are built).
        let per_state = 4 + 16 + 8 + 2 * 16 * 8 / 7 + node + 24 + 8 + 24 + 8;
        seal + n * per_state + e * (edge + 4)
    }

    const CHUNK: usize = 1 << 16;

    fn push_edge(&mut self, from: u32, to: u32, a: Action) {
        if self.pending.last().is_none_or(|c| c.len() == Self::CHUNK) {
            self.pending.push(Vec::with_capacity(Self::CHUNK));
        }
        self.pending
            .last_mut()
            .expect("a chunk was just pushed")
            .push((from, to, a));
        self.pending_edges += 1;
    }

    /// Moves the explored edges into `graph` (sized exactly, chunk by chunk,
    /// so the two copies never coexist whole). Liveness needs it; a compact
    /// graph is sealed by its user when memory allows (after the safety
    /// checker's memory is freed).
    pub fn seal(&mut self) {
        if self.pending.is_empty() && self.graph.node_count() == self.len() {
            return;
        }
        let mut graph = DiGraph::with_capacity(self.len(), self.pending_edges);
        for _ in 0..self.len() {
            graph.add_node(());
        }
        for chunk in std::mem::take(&mut self.pending) {
            for (a, b, w) in chunk {
                graph.add_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize), w);
            }
        }
        self.graph = graph;
        self.pending_edges = 0;
        self.reverse = Default::default();
    }

    /// Edges kept so far (all, or the progress edges of a compact graph).
    pub fn kept_edges(&self) -> usize {
        self.pending_edges.max(self.graph.edge_count())
    }

    /// Number of states.
    pub fn len(&self) -> usize {
        self.facts.len()
    }

    /// Whether the graph has no state.
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }

    /// The id of `s` (whose fingerprint is `fp`), and whether it is new:
    /// then it was added, its facts to be set when it is expanded.
    fn intern(
        &mut self,
        index: &mut Index,
        fp: [u64; 2],
        s: &State,
        parent: Option<(u32, Action)>,
        depth: u32,
    ) -> (u32, bool) {
        let id = self.facts.len() as u32;
        if self.compact {
            if let (old, false) = index.compact.get_or_insert(fp, id) {
                return (old, false);
            }
        } else {
            let bucket = index.exact.entry(fp[0]).or_default();
            if let Some(&k) = bucket.iter().find(|&&k| self.states[k as usize] == *s) {
                return (k, false);
            }
            bucket.push(id);
            self.states.push(s.clone());
        }
        self.facts.push(0);
        self.parent.push(parent);
        self.depth.push(depth);
        (id, true)
    }

    /// The actions from the initial state to node `id` (a shortest path).
    pub fn path_to(&self, mut id: u32) -> Vec<Action> {
        let mut path = Vec::new();
        while let Some((p, a)) = self.parent[id as usize] {
            path.push(a);
            id = p;
        }
        path.reverse();
        path
    }

    /// The state of node `id`: kept, or replayed along its BFS path.
    pub fn state(&self, model: &AuthModel, id: u32) -> State {
        if let Some(s) = self.states.get(id as usize) {
            return s.clone();
        }
        let mut s = model.init_state();
        for a in self.path_to(id) {
            s = model
                .next_state(&s, a)
                .expect("a path of the graph replays");
        }
        s
    }

    /// A shortest path from the initial state to a state whose facts
    /// satisfy `pred`.
    pub fn shortest_to(&self, pred: impl Fn(u32) -> bool) -> Option<Vec<Action>> {
        // Node ids are assigned in BFS order, so the first match is the shallowest.
        let id = self.facts.iter().position(|&f| pred(f))?;
        Some(self.path_to(id as u32))
    }

    fn is_progress(a: &Action) -> bool {
        !a.is_fault() && !a.is_user_action()
    }

    /// Nodes from which a goal node is reachable along progress edges: a
    /// backward breadth-first search, over the progress edges indexed by
    /// target in two flat arrays (walking petgraph's per-node lists of
    /// incoming edges jumps all over memory).
    fn can_reach(&self, goal: &[bool]) -> Vec<bool> {
        let n = self.len();
        let Reverse { start, sources } = self.reverse();
        let mut ok = goal.to_vec();
        let mut queue: VecDeque<u32> = (0..n as u32).filter(|&i| goal[i as usize]).collect();
        while let Some(t) = queue.pop_front() {
            let t = t as usize;
            for &src in &sources[start[t] as usize..start[t + 1] as usize] {
                if !ok[src as usize] {
                    ok[src as usize] = true;
                    queue.push_back(src);
                }
            }
        }
        ok
    }

    /// The progress edges reversed, in compressed rows (built on first use).
    fn reverse(&self) -> &Reverse {
        self.reverse.get_or_init(|| {
            let n = self.len();
            let mut start = vec![0u32; n + 1];
            for e in self.graph.raw_edges() {
                if Self::is_progress(&e.weight) {
                    start[e.target().index() + 1] += 1;
                }
            }
            for i in 0..n {
                start[i + 1] += start[i];
            }
            let mut fill = start.clone();
            let mut sources = vec![0u32; start[n] as usize];
            for e in self.graph.raw_edges() {
                if Self::is_progress(&e.weight) {
                    let t = e.target().index();
                    sources[fill[t] as usize] = e.source().index() as u32;
                    fill[t] += 1;
                }
            }
            Reverse { start, sources }
        })
    }

    /// From `from`, the progress steps to the nearest state with no
    /// progress step out (or, when progress cycles forever, the state the
    /// cycle closes on).
    fn progress_path_to_stuck(&self, from: u32) -> (Vec<Action>, u32, bool) {
        let mut prev: HashMap<u32, (u32, Action)> = HashMap::new();
        let mut seen = vec![false; self.len()];
        let mut queue = VecDeque::from([from]);
        seen[from as usize] = true;
        let mut last = from;
        while let Some(n) = queue.pop_front() {
            last = n;
            let mut has_progress = false;
            for e in self.graph.edges(NodeIndex::new(n as usize)) {
                if !Self::is_progress(e.weight()) {
                    continue;
                }
                has_progress = true;
                let t = petgraph::visit::EdgeRef::target(&e).index();
                if !seen[t] {
                    seen[t] = true;
                    prev.insert(t as u32, (n, *e.weight()));
                    queue.push_back(t as u32);
                }
            }
            if !has_progress {
                return (Self::unwind(&prev, from, n), n, true);
            }
        }
        (Self::unwind(&prev, from, last), last, false)
    }

    /// A weakly fair cycle of progress steps through goal-free states that
    /// some premise state reaches by progress: the path from the initial
    /// state to its first state, then the cycle, and the length of that path.
    fn fair_cycle_avoiding(&self, goal: &[bool]) -> Option<(Vec<Action>, usize)> {
        // Goal-free states reached by progress from goal-free premise states.
        let mut region = vec![false; self.len()];
        let mut queue: VecDeque<usize> = (0..self.len())
            .filter(|&i| self.facts[i] & fact::PREMISE != 0 && !goal[i])
            .collect();
        for &i in &queue {
            region[i] = true;
        }
        while let Some(n) = queue.pop_front() {
            for e in self.graph.edges(NodeIndex::new(n)) {
                let t = petgraph::visit::EdgeRef::target(&e).index();
                if Self::is_progress(e.weight()) && !goal[t] && !region[t] {
                    region[t] = true;
                    queue.push_back(t);
                }
            }
        }
        // The region's progress subgraph, and its strongly connected components.
        let members: Vec<usize> = (0..self.len()).filter(|&i| region[i]).collect();
        drop(region);
        // Each state's number in the subgraph (`u32::MAX`: not in it).
        let mut local = vec![u32::MAX; self.len()];
        for (k, &i) in members.iter().enumerate() {
            local[i] = k as u32;
        }
        let mut sub: DiGraph<(), Action, u32> = DiGraph::with_capacity(members.len(), 0);
        for _ in &members {
            sub.add_node(());
        }
        for (k, &i) in members.iter().enumerate() {
            for e in self.graph.edges(NodeIndex::new(i)) {
                let lt = local[petgraph::visit::EdgeRef::target(&e).index()];
                if Self::is_progress(e.weight()) && lt != u32::MAX && lt as usize != k {
                    sub.add_edge(NodeIndex::new(k), NodeIndex::new(lt as usize), *e.weight());
                }
            }
        }
        drop(local);
        type Set<T> = std::collections::HashSet<T, ahash::RandomState>;
        let sccs = petgraph::algo::tarjan_scc(&sub);
        // Each subgraph node's component.
        let mut component = vec![0u32; members.len()];
        for (c, scc) in sccs.iter().enumerate() {
            for n in scc {
                component[n.index()] = c as u32;
            }
        }
        for (c, scc) in sccs.iter().enumerate() {
            if scc.len() < 2 {
                continue; // no cycle (self-loops are stutter steps)
            }
            let c = c as u32;
            let mut taken: Set<Action> = Set::default();
            let mut always: Option<Set<Action>> = None;
            for &n in scc {
                let mut enabled: Set<Action> = Set::default();
                for e in self.graph.edges(NodeIndex::new(members[n.index()])) {
                    if Self::is_progress(e.weight()) {
                        enabled.insert(*e.weight());
                    }
                }
                for e in sub.edges(n) {
                    if component[petgraph::visit::EdgeRef::target(&e).index()] == c {
                        taken.insert(*e.weight());
                    }
                }
                always = Some(match always {
                    None => enabled,
                    Some(mut a) => {
                        a.retain(|x| enabled.contains(x));
                        a
                    }
                });
            }
            if always.is_some_and(|a| a.is_subset(&taken)) {
                // A lasso: the shortest path to the component's shallowest
                // state, then a cycle back to it inside the component.
                let entry = *scc
                    .iter()
                    .min_by_key(|n| self.depth[members[n.index()]])
                    .expect("a component has states");
                let inside: std::collections::HashSet<NodeIndex<u32>> =
                    scc.iter().copied().collect();
                let mut path = self.path_to(members[entry.index()] as u32);
                let prefix = path.len();
                path.extend(Self::cycle_through(&sub, &inside, entry));
                return Some((path, prefix));
            }
        }
        None
    }

    /// A cycle from `entry` back to it within `inside` (breadth first).
    fn cycle_through(
        sub: &DiGraph<(), Action, u32>,
        inside: &std::collections::HashSet<NodeIndex<u32>>,
        entry: NodeIndex<u32>,
    ) -> Vec<Action> {
        let mut prev: HashMap<NodeIndex<u32>, (NodeIndex<u32>, Action)> = HashMap::new();
        let mut queue = VecDeque::from([entry]);
        while let Some(n) = queue.pop_front() {
            for e in sub.edges(n) {
                let t = petgraph::visit::EdgeRef::target(&e);
                if !inside.contains(&t) {
                    continue;
                }
                if t == entry {
                    let mut cycle = vec![*e.weight()];
                    let mut at = n;
                    while at != entry {
                        let (p, a) = prev[&at];
                        cycle.push(a);
                        at = p;
                    }
                    cycle.reverse();
                    return cycle;
                }
                if let std::collections::hash_map::Entry::Vacant(v) = prev.entry(t) {
                    v.insert((n, *e.weight()));
                    queue.push_back(t);
                }
            }
        }
        unreachable!("a strongly connected component has a cycle through each state")
    }

    fn unwind(prev: &HashMap<u32, (u32, Action)>, from: u32, mut to: u32) -> Vec<Action> {
        let mut path = Vec::new();
        while to != from {
            let (p, a) = prev[&to];
            path.push(a);
            to = p;
        }
        path.reverse();
        path
    }
}

/// The outcome of one liveness property on a complete graph.
pub enum LiveOutcome {
    /// Recoverable from every premise state. `fair_cycle`: when not
    /// inevitable, a path from the initial state into a weakly fair cycle of
    /// progress steps that never reaches the goal, and where the cycle starts.
    Holds {
        fair_cycle: Option<(Vec<Action>, usize)>,
    },
    /// The premise never holds.
    Vacuous,
    Violated {
        /// From the initial state to the stuck state.
        path: Vec<Action>,
        /// How many of those steps reach the premise state; the rest are progress steps.
        prefix: usize,
        reason: String,
    },
}

/// The premise of both liveness properties: the provider is signed in, its
/// hook and its backend alike (not in the moment between a sign-out
/// reaching the backend and reaching the hook).
fn premise(s: &State) -> Option<u8> {
    let u = s.provider.session.user()?;
    (s.provider.backend == Some(u)).then_some(u)
}

/// The server has confirmed the provider's user on the client's socket, and
/// the app knows it (`useConvexAuth().isAuthenticated`).
pub fn authenticated_goal(s: &State) -> bool {
    let Some(u) = s.provider.session.user() else {
        return false;
    };
    let Some(conn) = s.client.conn() else {
        return false;
    };
    let confirmed = s
        .net
        .iter()
        .find(|c| c.id == conn)
        .and_then(|c| c.server.identity)
        .is_some_and(|t| t.user == u);
    confirmed && s.app.committed.is_some_and(|r| r.is_authenticated)
}

/// Every mounted component with an open gate holds a successful result for
/// the provider's user.
pub fn results_goal(model: &AuthModel, s: &State) -> bool {
    let Some(u) = s.provider.session.user() else {
        return false;
    };
    let Some(r) = s.app.committed else {
        return false;
    };
    model.ctx.components.iter().enumerate().all(|(i, c)| {
        !(r.is_mounted(i) && r.is_active(i))
            || s.client
                .view_of(c.query)
                .is_some_and(|o| is_success_for(&o, model.ctx.functions[c.query as usize].auth, u))
    })
}

/// Decides a liveness property on a complete graph.
pub fn decide(model: &AuthModel, g: &StateGraph, p: PropertyId) -> LiveOutcome {
    let bit = match p {
        PropertyId::EventuallyAuthenticated => fact::AUTH_GOAL,
        PropertyId::EventuallyResults => fact::RESULTS_GOAL,
        _ => unreachable!("not a liveness property"),
    };
    assert_eq!(
        g.graph.node_count(),
        g.len(),
        "liveness is decided on a sealed graph"
    );
    let goal: Vec<bool> = g.facts.iter().map(|&f| f & bit != 0).collect();
    let ok = g.can_reach(&goal);
    let mut any_premise = false;
    let mut worst: Option<u32> = None;
    for (i, &f) in g.facts.iter().enumerate() {
        if f & fact::PREMISE == 0 {
            continue;
        }
        any_premise = true;
        if !ok[i] && worst.is_none_or(|w| g.depth[i] < g.depth[w as usize]) {
            worst = Some(i as u32);
        }
    }
    if !any_premise {
        return LiveOutcome::Vacuous;
    }
    let Some(bad) = worst else {
        return LiveOutcome::Holds {
            fair_cycle: g.fair_cycle_avoiding(&goal),
        };
    };
    let mut path = g.path_to(bad);
    let prefix = path.len();
    let (tail, stuck, quiescent) = g.progress_path_to_stuck(bad);
    path.extend(tail);
    let reason = explain(model, &g.state(model, stuck), p, quiescent);
    LiveOutcome::Violated {
        path,
        prefix,
        reason,
    }
}

/// Why nothing leads out of a stuck state, in the terms of the client's code.
pub fn explain(model: &AuthModel, s: &State, p: PropertyId, quiescent: bool) -> String {
    let ctx = &model.ctx;
    let user = s.provider.session.user().map(user_name).unwrap_or("nobody");
    let mut why = Vec::new();
    let hook = s.provider.hook(ctx);
    let committed_same_deps = s.app.committed.is_some_and(|r| r.hook == hook);
    match s.client.auth_state {
        AuthState::NoAuth if s.client.fetches.is_empty() => {
            if committed_same_deps {
                why.push(
                    "client in noAuth with no token fetch in flight; the provider hook is unchanged, so nothing calls setAuth again"
                        .to_string(),
                );
            } else {
                why.push("client in noAuth with no token fetch in flight".to_string());
            }
        }
        AuthState::NotRefetching => why.push(
            "client in notRefetching: a refetch returned the same token, and nothing is rescheduled"
                .to_string(),
        ),
        _ => {}
    }
    match s.client.ws {
        Ws::Stopped => {
            why.push("socket stopped (tryToReauthenticate) and nothing restarts it".to_string())
        }
        Ws::Terminated => why.push(
            "the client terminated its socket after a FatalError (a ModifyQuerySet with a stale base version); nothing reconnects"
                .to_string(),
        ),
        Ws::Ready { paused, .. } if paused != crate::model::client::Paused::No => {
            why.push("socket paused for a token fetch that will never resume it".to_string())
        }
        _ => {}
    }
    if s.client.auth.is_none() && s.client.auth_state != AuthState::NoAuth {
        why.push(format!(
            "the client holds no token while its manager is in {}",
            s.client.auth_state.name()
        ));
    }
    if let Some(r) = s.app.committed {
        if !r.is_authenticated && s.client.auth.is_some() {
            why.push(
                "the server may be authenticated, but useConvexAuth().isAuthenticated stays false: the onChange(true) that would flip it was dropped (its effect was cleaned up) or never comes"
                    .to_string(),
            );
        }
        if p == PropertyId::EventuallyResults && r.is_authenticated {
            for (i, c) in ctx.components.iter().enumerate() {
                if r.is_mounted(i) && r.is_active(i) {
                    match s.client.view_of(c.query) {
                        Some(o)
                            if !is_success_for(
                                &o,
                                ctx.functions[c.query as usize].auth,
                                s.provider.session.user().unwrap_or(0),
                            ) =>
                        {
                            why.push(format!("{} holds {}", c.name, o.describe()))
                        }
                        None => why.push(format!("{} has no result", c.name)),
                        _ => {}
                    }
                }
            }
        }
    }
    if why.is_empty() {
        why.push(if quiescent {
            "no progress step is enabled".to_string()
        } else {
            "progress steps cycle without reaching the goal".to_string()
        });
    }
    format!(
        "provider signed in as {user}, but {}: {}",
        match p {
            PropertyId::EventuallyAuthenticated =>
                "no fault-free, user-action-free path leads to the server confirming that user",
            _ =>
                "no fault-free, user-action-free path leads to every open component holding that user's result",
        },
        why.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph of premise states 0 and 1 and a goal state 2, with progress
    /// edges `edges`; state 0 is the initial one.
    fn graph(edges: &[(u32, u32, Action)]) -> (StateGraph, Vec<bool>) {
        let mut g = StateGraph {
            graph: DiGraph::default(),
            pending: Vec::new(),
            pending_edges: 0,
            facts: vec![
                fact::PREMISE,
                fact::PREMISE,
                fact::PREMISE | fact::AUTH_GOAL,
            ],
            states: Vec::new(),
            parent: vec![None, Some((0, edges[0].2)), Some((0, edges[0].2))],
            depth: vec![0, 1, 1],
            anomalies: Default::default(),
            complete: true,
            stopped_by: None,
            edges: edges.len(),
            compact: true,
            reverse: Default::default(),
        };
        for &(a, b, w) in edges {
            g.push_edge(a, b, w);
        }
        g.seal();
        let goal = g.facts.iter().map(|f| f & fact::AUTH_GOAL != 0).collect();
        (g, goal)
    }

    const A: Action = Action::Commit;
    const B: Action = Action::Effects;
    const C: Action = Action::ClientReconnects;

    /// 0 -> 1 -> 0 cycles; the way out (0 -> 2) is not enabled in 1, so a
    /// weakly fair run may cycle forever: not inevitable.
    #[test]
    fn a_fair_cycle_avoiding_the_goal_is_found() {
        let (g, goal) = graph(&[(0, 1, A), (1, 0, B), (0, 2, C)]);
        assert!(g.can_reach(&goal).iter().all(|&r| r), "recoverable");
        let (path, prefix) = g.fair_cycle_avoiding(&goal).expect("a fair cycle");
        assert_eq!(prefix, 0);
        assert_eq!(path, vec![A, B]);
    }

    /// The way out is enabled in every state of the cycle and never taken
    /// in it: a weakly fair run must take it, so the goal is inevitable.
    #[test]
    fn an_unfair_cycle_is_not_a_counterexample() {
        let (g, goal) = graph(&[(0, 1, A), (1, 0, B), (0, 2, C), (1, 2, C)]);
        assert_eq!(g.fair_cycle_avoiding(&goal), None);
    }
}
