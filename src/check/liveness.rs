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

use petgraph::Direction;
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
    /// States the frontier's queue holds before it next grows.
    pub frontier_capacity: AtomicUsize,
    /// The build has ended with every reachable state explored.
    pub complete: std::sync::atomic::AtomicBool,
}

impl GraphProgress {
    fn record(&self, g: &StateGraph, index: &Index, queue: &VecDeque<(u32, State)>) {
        let frontier = queue.len();
        self.frontier_capacity
            .store(queue.capacity(), Ordering::Relaxed);
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
        // A hashbrown table of `([u64; 2], u32)` entries: 24 bytes and a
        // control byte per bucket, buckets a power of two at most 7/8 full;
        // growing allocates a table twice as large.
        let index = if near(states, capacity) {
            (capacity * 8 / 7).max(1).next_power_of_two() * 2 * 25
        } else {
            0
        };
        // The frontier's ring buffer grows in place (a large block is
        // remapped, not copied) and moves the shorter of its two parts into
        // the new room: up to half of it is written at once.
        let frontier = self.frontier.load(Ordering::Relaxed) as u64;
        let room = self.frontier_capacity.load(Ordering::Relaxed) as u64;
        let queue = if near(frontier, room) {
            room / 2 * std::mem::size_of::<(u32, State)>() as u64
        } else {
            0
        };
        index + queue
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
}

/// Finds node ids by state: exactly (states kept) or by fingerprint.
struct Index {
    hashers: (ahash::RandomState, ahash::RandomState),
    exact: HashMap<u64, Vec<u32>>,
    compact: HashMap<[u64; 2], u32, ahash::RandomState>,
}

impl Index {
    fn new() -> Index {
        // Fixed seeds: the same scenario explores the same graph every run.
        Index {
            hashers: (
                ahash::RandomState::with_seeds(1, 2, 3, 4),
                ahash::RandomState::with_seeds(5, 6, 7, 8),
            ),
            exact: HashMap::new(),
            compact: HashMap::with_hasher(ahash::RandomState::with_seeds(9, 10, 11, 12)),
        }
    }
}

impl StateGraph {
    /// Explores the reachable graph breadth first.
    pub fn build(model: &AuthModel, limits: Limits<'_>) -> StateGraph {
        let mut index = Index::new();
        let mut g = StateGraph {
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
        };
        let mut queue: VecDeque<(u32, State)> = VecDeque::new();
        for s in model.init_states() {
            if let (id, true) = g.intern(model, &mut index, &s, None, 0) {
                queue.push_back((id, s));
            }
        }
        let mut actions = Vec::new();
        let mut checked = 0usize;
        while let Some((id, state)) = queue.pop_front() {
            checked += 1;
            if checked.is_multiple_of(1024) {
                if let Some(p) = limits.progress {
                    p.record(&g, &index, &queue);
                }
                if model.cancelled() {
                    g.complete = false;
                    g.stopped_by = Some("a limit");
                    break;
                }
            }
            let depth = g.depth[id as usize];
            model.actions(&state, &mut actions);
            if limits.max_depth.is_some_and(|m| depth as usize >= m) {
                if !actions.is_empty() {
                    g.complete = false;
                    g.stopped_by = Some("max-depth");
                }
                actions.clear();
                continue;
            }
            for a in actions.drain(..) {
                let Some(next) = model.next_state(&state, a) else {
                    continue;
                };
                g.edges += 1;
                let (nid, fresh) = g.intern(model, &mut index, &next, Some((id, a)), depth + 1);
                if !g.compact || Self::is_progress(&a) {
                    g.push_edge(id, nid, a);
                }
                if fresh {
                    queue.push_back((nid, next));
                }
            }
            if limits.max_states.is_some_and(|m| g.len() >= m) && !queue.is_empty() {
                g.complete = false;
                g.stopped_by = Some("max-states");
                break;
            }
        }
        if let Some(p) = limits.progress {
            p.record(&g, &index, &queue);
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
        // and its output (8), the stuck-state search's map (24).
        let per_state = 4 + 16 + 8 + 2 * 16 * 8 / 7 + node + 24 + 8 + 24;
        seal + n * per_state + e * edge
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

    /// The id of `s`, and whether it is new (then it was added).
    fn intern(
        &mut self,
        model: &AuthModel,
        index: &mut Index,
        s: &State,
        parent: Option<(u32, Action)>,
        depth: u32,
    ) -> (u32, bool) {
        let id = self.facts.len() as u32;
        if self.compact {
            let a = index.hashers.0.hash_one(s);
            let b = index.hashers.1.hash_one(s);
            match index.compact.entry([a, b]) {
                std::collections::hash_map::Entry::Occupied(o) => return (*o.get(), false),
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(id);
                }
            }
        } else {
            let bucket = index.exact.entry(index.hashers.0.hash_one(s)).or_default();
            if let Some(&k) = bucket.iter().find(|&&k| self.states[k as usize] == *s) {
                return (k, false);
            }
            bucket.push(id);
            self.states.push(s.clone());
        }
        self.facts.push(facts_of(model, s));
        if let Some(a) = s.anomaly {
            self.anomalies.insert(a.to_string());
        }
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

    /// Nodes from which a goal node is reachable along progress edges.
    fn can_reach(&self, goal: &[bool]) -> Vec<bool> {
        let mut ok = goal.to_vec();
        let mut queue: VecDeque<usize> = (0..goal.len()).filter(|&i| goal[i]).collect();
        while let Some(n) = queue.pop_front() {
            for e in self
                .graph
                .edges_directed(NodeIndex::new(n), Direction::Incoming)
            {
                if !Self::is_progress(e.weight()) {
                    continue;
                }
                let src = petgraph::visit::EdgeRef::source(&e).index();
                if !ok[src] {
                    ok[src] = true;
                    queue.push_back(src);
                }
            }
        }
        ok
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
        let local: HashMap<usize, u32> = members
            .iter()
            .enumerate()
            .map(|(k, &i)| (i, k as u32))
            .collect();
        let mut sub: DiGraph<(), Action, u32> = DiGraph::with_capacity(members.len(), 0);
        for _ in &members {
            sub.add_node(());
        }
        for (k, &i) in members.iter().enumerate() {
            for e in self.graph.edges(NodeIndex::new(i)) {
                let t = petgraph::visit::EdgeRef::target(&e).index();
                if let (true, Some(&lt)) = (Self::is_progress(e.weight()), local.get(&t))
                    && lt as usize != k
                {
                    sub.add_edge(NodeIndex::new(k), NodeIndex::new(lt as usize), *e.weight());
                }
            }
        }
        for scc in petgraph::algo::tarjan_scc(&sub) {
            if scc.len() < 2 {
                continue; // no cycle (self-loops are stutter steps)
            }
            let inside: std::collections::HashSet<NodeIndex<u32>> = scc.iter().copied().collect();
            let mut taken = std::collections::HashSet::new();
            let mut always: Option<std::collections::HashSet<Action>> = None;
            for &n in &scc {
                let mut enabled = std::collections::HashSet::new();
                for e in self.graph.edges(NodeIndex::new(members[n.index()])) {
                    if Self::is_progress(e.weight()) {
                        enabled.insert(*e.weight());
                    }
                }
                for e in sub.edges(n) {
                    if inside.contains(&petgraph::visit::EdgeRef::target(&e)) {
                        taken.insert(*e.weight());
                    }
                }
                always = Some(match always {
                    None => enabled,
                    Some(a) => a.intersection(&enabled).copied().collect(),
                });
            }
            if always.is_some_and(|a| a.is_subset(&taken)) {
                // A lasso: the shortest path to the component's shallowest
                // state, then a cycle back to it inside the component.
                let entry = *scc
                    .iter()
                    .min_by_key(|n| self.depth[members[n.index()]])
                    .expect("a component has states");
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
