//! Sound liveness on the explored state graph.
//!
//! `stateright`'s `eventually` is documented as unsound on cycles and on
//! paths that rejoin, so `eventually-*` properties are decided here instead:
//! the whole reachable graph is built with `petgraph`, each edge labelled
//! *progress* unless it is a fault or a user action, and a property holds when
//! from every reachable state satisfying the premise some goal state is
//! reachable along progress edges only. This is reachability under the
//! assumption that the system keeps taking non-fault steps (weak fairness of
//! progress), checked exactly with a backward search from the goal states.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hash};

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use stateright::Model;

use crate::model::client::{AuthState, Ws};
use crate::model::msg::user_name;
use crate::model::{Action, AuthModel, State, is_success_for};
use crate::properties::PropertyId;

/// Limits for building the graph.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits<'a> {
    pub max_depth: Option<usize>,
    pub max_states: Option<usize>,
    /// Updated with the number of states found, for progress reports.
    pub progress: Option<&'a std::sync::atomic::AtomicUsize>,
}

/// The full reachable state graph of a model.
pub struct StateGraph {
    pub graph: DiGraph<(), Action, u32>,
    pub states: Vec<State>,
    /// BFS parent of each node (`None` for the initial state).
    pub parent: Vec<Option<(u32, Action)>>,
    pub depth: Vec<u32>,
    /// False when a limit stopped the exploration.
    pub complete: bool,
    /// Which limit stopped it.
    pub stopped_by: Option<&'static str>,
    pub edges: usize,
}

impl StateGraph {
    /// Explores the reachable graph breadth first.
    pub fn build(model: &AuthModel, limits: Limits<'_>) -> StateGraph {
        // A fast, seeded hasher: equal hashes are confirmed by comparing states.
        let hasher = ahash::RandomState::with_seeds(1, 2, 3, 4);
        let mut index: HashMap<u64, Vec<u32>> = HashMap::new();
        let mut g = StateGraph {
            graph: DiGraph::default(),
            states: Vec::new(),
            parent: Vec::new(),
            depth: Vec::new(),
            complete: true,
            stopped_by: None,
            edges: 0,
        };
        let mut queue = VecDeque::new();
        for s in model.init_states() {
            let (id, _) = g.intern(&hasher, &mut index, s, None, 0);
            queue.push_back(id);
        }
        let mut actions = Vec::new();
        let mut checked = 0usize;
        while let Some(id) = queue.pop_front() {
            checked += 1;
            if checked % 1024 == 0 {
                if let Some(p) = limits.progress {
                    p.store(g.states.len(), std::sync::atomic::Ordering::Relaxed);
                }
                if model.cancelled() {
                    g.complete = false;
                    g.stopped_by = Some("a limit");
                    break;
                }
            }
            let depth = g.depth[id as usize];
            if limits.max_depth.is_some_and(|m| depth as usize >= m) {
                model.actions(&g.states[id as usize], &mut actions);
                if !actions.is_empty() {
                    g.complete = false;
                    g.stopped_by = Some("max-depth");
                }
                actions.clear();
                continue;
            }
            let state = g.states[id as usize].clone();
            model.actions(&state, &mut actions);
            for a in actions.drain(..) {
                let Some(next) = model.next_state(&state, a) else {
                    continue;
                };
                let (nid, fresh) = g.intern(&hasher, &mut index, next, Some((id, a)), depth + 1);
                g.graph
                    .add_edge(NodeIndex::new(id as usize), NodeIndex::new(nid as usize), a);
                g.edges += 1;
                if fresh {
                    queue.push_back(nid);
                }
            }
            if limits.max_states.is_some_and(|m| g.states.len() >= m) && !queue.is_empty() {
                g.complete = false;
                g.stopped_by = Some("max-states");
                break;
            }
        }
        g
    }

    fn intern(
        &mut self,
        hasher: &impl BuildHasher,
        index: &mut HashMap<u64, Vec<u32>>,
        s: State,
        parent: Option<(u32, Action)>,
        depth: u32,
    ) -> (u32, bool) {
        let mut h = hasher.build_hasher();
        s.hash(&mut h);
        let key = std::hash::Hasher::finish(&h);
        let bucket = index.entry(key).or_default();
        for &id in bucket.iter() {
            if self.states[id as usize] == s {
                return (id, false);
            }
        }
        let id = self.states.len() as u32;
        bucket.push(id);
        self.states.push(s);
        self.parent.push(parent);
        self.depth.push(depth);
        self.graph.add_node(());
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

    /// A shortest path from the initial state to a state satisfying `pred`.
    pub fn shortest_to(&self, pred: impl Fn(&State) -> bool) -> Option<Vec<Action>> {
        // Node ids are assigned in BFS order, so the first match is the shallowest.
        let id = self.states.iter().position(pred)?;
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
        let mut seen = vec![false; self.states.len()];
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
    Holds,
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

/// The premise of both liveness properties: the provider is signed in.
fn premise(s: &State) -> Option<u8> {
    s.provider.session.user()
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
                .is_some_and(|o| is_success_for(&o, u))
    })
}

/// Decides a liveness property on a complete graph.
pub fn decide(model: &AuthModel, g: &StateGraph, p: PropertyId) -> LiveOutcome {
    let goal: Vec<bool> = g
        .states
        .iter()
        .map(|s| match p {
            PropertyId::EventuallyAuthenticated => authenticated_goal(s),
            PropertyId::EventuallyResults => results_goal(model, s),
            _ => unreachable!("not a liveness property"),
        })
        .collect();
    let ok = g.can_reach(&goal);
    let mut any_premise = false;
    let mut worst: Option<u32> = None;
    for (i, s) in g.states.iter().enumerate() {
        if premise(s).is_none() {
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
        return LiveOutcome::Holds;
    };
    let mut path = g.path_to(bad);
    let prefix = path.len();
    let (tail, stuck, quiescent) = g.progress_path_to_stuck(bad);
    path.extend(tail);
    let reason = explain(model, &g.states[stuck as usize], p, quiescent);
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
                        Some(o) if !is_success_for(&o, s.provider.session.user().unwrap_or(0)) => {
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
