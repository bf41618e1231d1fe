//! Pictures generated from the model: sequence diagrams of traces, and each
//! actor's state machine as the projection of the explored state graph.
//!
//! Nothing here is drawn by hand: a sequence diagram replays a trace through
//! the model, and a state machine maps every explored state to an abstract
//! local state of one actor (version counters, tokens and connection numbers
//! folded away) and keeps the edges whose step changes that local state.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use petgraph::visit::EdgeRef;

use crate::check::liveness::StateGraph;
use crate::check::trace::TraceStep;
use crate::model::client::{Answer, Cont, Paused, Ws};
use crate::model::msg::{ClientFrame, ServerFrame, user_name};
use crate::model::provider::Session;
use crate::model::{Action, Actor, AuthModel, State};
use crate::scenario::Gate;

/// Participants of every sequence diagram, left to right.
pub const PARTICIPANTS: [Actor; 4] = [Actor::Provider, Actor::React, Actor::Client, Actor::Server];

fn mermaid_text(s: &str) -> String {
    // Mermaid treats `;` and `#` specially in messages; keep the text literal.
    s.replace(';', ",").replace('#', "&#35;").replace('\n', " ")
}

/// A Mermaid `sequenceDiagram` of a trace: calls and deliveries are arrows,
/// local happenings are notes, the violating event is highlighted.
pub fn sequence_mermaid(steps: &[TraceStep]) -> String {
    let mut out = String::from("sequenceDiagram\n");
    for p in PARTICIPANTS {
        let _ = writeln!(out, "    participant {}", p.as_str());
    }
    for step in steps {
        let _ = writeln!(
            out,
            "    %% step {}: {}",
            step.step,
            mermaid_text(&step.actor)
        );
        for e in &step.events {
            let text = mermaid_text(&e.text);
            let line = if e.arrow {
                format!(
                    "{}->>{}: {}. {}",
                    e.from.as_str(),
                    e.to.as_str(),
                    step.step,
                    text
                )
            } else if e.from == e.to {
                format!("Note over {}: {}. {}", e.from.as_str(), step.step, text)
            } else {
                format!(
                    "Note over {},{}: {}. {}",
                    e.from.as_str(),
                    e.to.as_str(),
                    step.step,
                    text
                )
            };
            match e.violates {
                Some(p) => {
                    let _ = writeln!(out, "    rect rgb(255, 215, 215)");
                    let _ = writeln!(out, "    {line}");
                    let _ = writeln!(
                        out,
                        "    Note over {}: VIOLATES {}",
                        e.from.as_str(),
                        p.as_str()
                    );
                    let _ = writeln!(out, "    end");
                }
                None => {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
    }
    out
}

/// An actor whose state machine can be drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiagramActor {
    Provider,
    Client,
    App,
    Server,
}

impl DiagramActor {
    pub const ALL: [DiagramActor; 4] = [
        DiagramActor::Provider,
        DiagramActor::Client,
        DiagramActor::App,
        DiagramActor::Server,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DiagramActor::Provider => "provider",
            DiagramActor::Client => "client",
            DiagramActor::App => "app",
            DiagramActor::Server => "server",
        }
    }
    pub fn parse(s: &str) -> Option<DiagramActor> {
        DiagramActor::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// The abstract local state of `actor` in `s`.
pub fn local_state(model: &AuthModel, actor: DiagramActor, s: &State) -> String {
    let ctx = &model.ctx;
    match actor {
        DiagramActor::Provider => {
            let h = s.provider.hook(ctx);
            let session = match s.provider.session {
                Session::Loading => "loading".to_string(),
                Session::SignedIn(u) => format!("signed in ({})", user_name(u)),
                Session::SignedOut => "signed out".to_string(),
            };
            format!(
                "{session} / hook isLoading={} isAuthenticated={}",
                h.loading, h.authenticated
            )
        }
        DiagramActor::Client => {
            let ws = match s.client.ws {
                Ws::Uncreated => "no socket".to_string(),
                Ws::Disconnected => "disconnected".to_string(),
                Ws::Connecting { paused, .. } => {
                    format!("connecting{}", if paused { " paused" } else { "" })
                }
                Ws::Ready { paused, .. } => format!(
                    "ready{}",
                    match paused {
                        Paused::No => "",
                        Paused::Yes => " paused",
                        Paused::Uninitialized => " paused before onOpen",
                    }
                ),
                Ws::Stopped => "stopped".to_string(),
                Ws::Terminated => "terminated".to_string(),
            };
            format!(
                "{} / socket {} / {}",
                s.client.auth_state.name(),
                ws,
                if s.client.auth.is_some() {
                    "token set"
                } else {
                    "no token"
                }
            )
        }
        DiagramActor::App => match s.app.committed {
            None => "not rendered".to_string(),
            Some(r) => {
                let mut parts = vec![format!(
                    "useConvexAuth isLoading={} isAuthenticated={}",
                    r.is_loading, r.is_authenticated
                )];
                // One entry per distinct component definition, not per instance.
                let mut seen = BTreeSet::new();
                for (i, c) in ctx.components.iter().enumerate() {
                    let base = c.name.split('#').next().unwrap_or(&c.name).to_string();
                    if !seen.insert(base.clone()) {
                        continue;
                    }
                    let st = if !r.is_mounted(i) {
                        "unmounted"
                    } else if r.is_active(i) || c.gate == Gate::None {
                        "subscribed"
                    } else {
                        "skip"
                    };
                    parts.push(format!("{base} {st}"));
                }
                parts.join(" / ")
            }
        },
        DiagramActor::Server => {
            let conn = s
                .client
                .conn()
                .and_then(|id| s.net.iter().find(|c| c.id == id));
            match conn {
                None => "no live connection".to_string(),
                Some(c) if c.server.closed => "connection closed by server".to_string(),
                Some(c) => {
                    let who = match c.server.identity {
                        None => "no identity".to_string(),
                        Some(t) => format!("identity {}", user_name(t.user)),
                    };
                    let subs = if c.server.subs.is_empty() {
                        "no subscriptions"
                    } else {
                        "subscriptions"
                    };
                    format!("{who} / {subs}")
                }
            }
        }
    }
}

/// A short, generic label for a step (counters folded away).
pub fn step_label(s: &State, a: &Action) -> String {
    match a {
        Action::Commit => "React commit".to_string(),
        Action::Effects => "React effects".to_string(),
        Action::ProviderResolves => "session loads".to_string(),
        Action::ProviderSignIn { .. } => "sign in".to_string(),
        Action::ProviderSignOut { switching: false } => "sign out".to_string(),
        Action::ProviderSignOut { switching: true } => "sign out to switch".to_string(),
        Action::ProviderNewFetcher => "new fetcher".to_string(),
        Action::ProviderSignOutSeen => "sign-out reaches the hook".to_string(),
        Action::ProviderAnswers {
            transient_null: false,
            ..
        } => "provider answers token request".to_string(),
        Action::ProviderAnswers {
            transient_null: true,
            ..
        } => "token request fails (fault)".to_string(),
        Action::ClientTokenResolves { fetch } => {
            let f = s.client.fetches[*fetch as usize];
            let who = match f.cont {
                Cont::SetConfig => "setConfig",
                Cont::SetConfigRefetch | Cont::Refetch => "refetchToken",
                Cont::Reauth => "tryToReauthenticate",
            };
            let what = match f.answer {
                Some(Answer::Token(Some(_))) => "token",
                Some(Answer::Token(None)) => "null",
                Some(Answer::Threw) => "throws",
                None => "?",
            };
            if f.current {
                format!("{who} gets {what}")
            } else {
                format!("{who} gets a stale answer")
            }
        }
        Action::ClientReconnects => "reconnect".to_string(),
        Action::ClientSocketOpens => "socket opens".to_string(),
        Action::ClientReceives { conn } => {
            let frame = s
                .net
                .iter()
                .find(|c| c.id == *conn)
                .and_then(|c| c.down.first());
            match frame {
                Some(ServerFrame::Transition { start, end, .. }) if end > start => {
                    "identity Transition".to_string()
                }
                Some(ServerFrame::Transition { .. }) => "Transition".to_string(),
                Some(ServerFrame::AuthError {
                    update_attempted, ..
                }) => format!("AuthError(attempted={update_attempted})"),
                Some(ServerFrame::StoreResponse { .. }) => "MutationResponse".to_string(),
                Some(ServerFrame::FatalError) => "FatalError".to_string(),
                Some(ServerFrame::Close) => "server close".to_string(),
                None => "receive".to_string(),
            }
        }
        Action::ClientCloseCompletes { .. } => "close completes".to_string(),
        Action::ClientRefetchTimer => "refetch timer (fault)".to_string(),
        Action::ServerWebhook { .. } => "webhook inserts row".to_string(),
        Action::ServerReceives { conn, reject, .. } => {
            let frame = s
                .net
                .iter()
                .find(|c| c.id == *conn)
                .and_then(|c| c.up.first())
                .map(|f| &f.frame);
            let name = match frame {
                Some(ClientFrame::Connect) => "Connect",
                Some(ClientFrame::Authenticate { token: Some(_), .. }) => "Authenticate",
                Some(ClientFrame::Authenticate { token: None, .. }) => "Authenticate None",
                Some(ClientFrame::ModifyQuerySet { .. }) => "ModifyQuerySet",
                Some(ClientFrame::StoreUser { .. }) => "users.store",
                None => "frame",
            };
            if *reject {
                format!("server rejects {name} (fault)")
            } else {
                format!("server gets {name}")
            }
        }
        Action::TokenExpires { .. } => "token expires (fault)".to_string(),
        Action::NetworkDrops { .. } => "socket drop (fault)".to_string(),
    }
}

/// One actor's state machine.
pub struct Machine {
    pub actor: DiagramActor,
    pub nodes: Vec<String>,
    pub initial: usize,
    /// (from, to) -> the labels of the steps that move it.
    pub edges: BTreeMap<(usize, usize), BTreeSet<String>>,
}

impl Machine {
    /// Projects the explored graph onto `actor`'s abstract local state.
    pub fn project(model: &AuthModel, graph: &StateGraph, actor: DiagramActor) -> Machine {
        let mut ids: BTreeMap<String, usize> = BTreeMap::new();
        let mut nodes = Vec::new();
        let node_of: Vec<usize> = graph
            .states
            .iter()
            .map(|s| {
                let label = local_state(model, actor, s);
                *ids.entry(label.clone()).or_insert_with(|| {
                    nodes.push(label);
                    nodes.len() - 1
                })
            })
            .collect();
        let mut edges: BTreeMap<(usize, usize), BTreeSet<String>> = BTreeMap::new();
        for e in graph.graph.edge_references() {
            let (a, b) = (e.source().index(), e.target().index());
            let (na, nb) = (node_of[a], node_of[b]);
            if na != nb {
                edges.entry((na, nb)).or_default().insert(observed_label(
                    actor,
                    &graph.states[a],
                    &graph.states[b],
                    e.weight(),
                ));
            }
        }
        Machine {
            actor,
            nodes,
            initial: node_of.first().copied().unwrap_or(0),
            edges,
        }
    }

    /// An edge's labels, one per line (at most [`Machine::MAX_LABELS`]).
    fn edge_lines(labels: &BTreeSet<String>) -> Vec<String> {
        let mut v: Vec<String> = labels
            .iter()
            .take(Self::MAX_LABELS)
            .flat_map(|l| wrap(l, WRAP))
            .collect();
        let more = labels.len().saturating_sub(Self::MAX_LABELS);
        if more > 0 {
            v.push(format!("+{more} more"));
        }
        v
    }

    /// Most step labels written on one edge.
    pub const MAX_LABELS: usize = 3;

    /// A Mermaid `stateDiagram-v2`, laid out top to bottom with wrapped labels.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("stateDiagram-v2\n    direction TB\n");
        for (i, n) in self.nodes.iter().enumerate() {
            let lines: Vec<String> = wrap_state(n)
                .iter()
                .map(|l| mermaid_text(l).replace('"', "'"))
                .collect();
            let _ = writeln!(out, "    state \"{}\" as s{i}", lines.join("<br/>"));
        }
        let _ = writeln!(out, "    [*] --> s{}", self.initial);
        for ((a, b), labels) in &self.edges {
            let lines: Vec<String> = Self::edge_lines(labels)
                .iter()
                .map(|l| mermaid_text(l).replace(':', " "))
                .collect();
            let _ = writeln!(out, "    s{a} --> s{b}: {}", lines.join("<br/>"));
        }
        out
    }

    /// A Graphviz `digraph`, laid out top to bottom with wrapped labels.
    pub fn to_dot(&self) -> String {
        let mut out = format!(
            "digraph {} {{\n    rankdir=TB;\n    nodesep=0.3;\n    ranksep=0.45;\n    node [shape=box, style=rounded, fontsize=11];\n    edge [fontsize=10];\n    init [shape=point];\n",
            self.actor.as_str()
        );
        let dot_lines = |lines: Vec<String>| -> String {
            lines
                .iter()
                .map(|l| l.replace('\\', "\\\\").replace('"', "\\\""))
                .collect::<Vec<_>>()
                .join("\\n")
        };
        for (i, n) in self.nodes.iter().enumerate() {
            let _ = writeln!(out, "    s{i} [label=\"{}\"];", dot_lines(wrap_state(n)));
        }
        let _ = writeln!(out, "    init -> s{};", self.initial);
        for ((a, b), labels) in &self.edges {
            let _ = writeln!(
                out,
                "    s{a} -> s{b} [label=\"{}\"];",
                dot_lines(Self::edge_lines(labels))
            );
        }
        out.push_str("}\n");
        out
    }
}

/// The widest a line of a state-machine label gets, in characters (a single
/// word longer than this, such as an auth-manager state name, stays whole).
pub const WRAP: usize = 28;

/// Breaks `text` into lines of at most `width` characters at spaces (a
/// word longer than `width` gets a line of its own).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// A local state's lines: each ` / `-separated part starts a line, and
/// long parts wrap.
fn wrap_state(label: &str) -> Vec<String> {
    label
        .split(" / ")
        .flat_map(|part| wrap(part, WRAP))
        .collect()
}

/// The label of a step that changes `actor`'s local state, as that actor
/// sees it: a step of another actor that gives the server a connection is
/// the client opening one, not the step's own headline (`React effects`).
pub fn observed_label(actor: DiagramActor, before: &State, after: &State, a: &Action) -> String {
    if actor == DiagramActor::Server {
        let (b, n) = (before.client.conn(), after.client.conn());
        if b != n {
            return match (b, n) {
                (None, Some(_)) => "client opens a connection".to_string(),
                (Some(_), Some(_)) => "client opens a new connection".to_string(),
                _ => match a {
                    Action::NetworkDrops { .. } => "socket drop (fault)".to_string(),
                    _ => "client closes the connection".to_string(),
                },
            };
        }
    }
    step_label(before, a)
}
