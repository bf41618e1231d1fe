//! Counterexamples and witnesses as readable steps.
//!
//! A trace is the list of actions from the initial state, replayed through
//! [`AuthModel::step`] with recording on, so every step lists what happened
//! inside it (messages between actors, evaluations, violations).

use serde::Serialize;

use crate::model::client::{AuthState, Paused, Ws};
use crate::model::msg::user_name;
use crate::model::{Action, Actor, AuthModel, Ctx, Event, Fx, State};
use crate::properties::PropertyId;

/// One step of a trace (`{"step","actor","action"}` in JSON reports).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceStep {
    pub step: usize,
    /// Who acts, or which way the message goes (`Client -> Server`).
    pub actor: String,
    /// What happens, in one line.
    pub action: String,
    /// Everything that happened inside the step, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    /// The model action (replayable).
    #[serde(skip)]
    pub raw: Option<Action>,
}

/// A short, state-independent title for an action (the explorer's list).
pub fn action_title(ctx: &Ctx, action: &Action) -> String {
    let _ = ctx;
    match action {
        Action::Commit => "React: render and commit".to_string(),
        Action::ProviderResolves => "Provider: session loads (signed in as A)".to_string(),
        Action::ProviderSignIn { user } => {
            format!("Provider: user signs in as {}", user_name(*user))
        }
        Action::ProviderSignOut { switching: false } => "Provider: user signs out".to_string(),
        Action::ProviderSignOut { switching: true } => {
            "Provider: user signs out to switch user".to_string()
        }
        Action::ProviderNewFetcher => "Provider: new fetchAccessToken (same user)".to_string(),
        Action::ProviderAnswers {
            fetch,
            transient_null: false,
        } => format!("Provider -> Client: answer token request #{fetch}"),
        Action::ProviderAnswers {
            fetch,
            transient_null: true,
        } => format!("Provider -> Client: token request #{fetch} fails transiently (null)"),
        Action::ClientTokenResolves { fetch } => {
            format!("Client: token request #{fetch} resolves")
        }
        Action::ClientReconnects => "Client: reconnect timer fires".to_string(),
        Action::ClientSocketOpens => "Client: socket opens".to_string(),
        Action::ClientReceives { conn } => format!("Server -> Client: next frame on conn {conn}"),
        Action::ClientCloseCompletes { conn } => format!("Client: close of conn {conn} completes"),
        Action::ClientRefetchTimer => "Client: scheduled token refetch fires".to_string(),
        Action::ServerReceives {
            conn,
            reject: false,
        } => format!("Client -> Server: next frame on conn {conn}"),
        Action::ServerReceives { conn, reject: true } => {
            format!("Client -> Server: next frame on conn {conn}, token rejected")
        }
        Action::ServerExpires { conn } => format!("Server: token on conn {conn} expires"),
        Action::NetworkDrops { conn } => format!("Network: conn {conn} drops"),
    }
}

fn arrow(from: Actor, to: Actor) -> String {
    if from == to {
        from.as_str().to_string()
    } else {
        format!("{} -> {}", from.as_str(), to.as_str())
    }
}

/// Replays `actions` from the initial state, describing each step.
///
/// `actions` is a path of the checker, whose states are canonical
/// (`model::canon`): names in actions (connection ids) are canonical too.
/// The replay runs on the concrete states, so the trace shows the numbers
/// the run really used; each action is matched by its position among the
/// enabled actions, which renaming does not change.
pub fn describe(model: &AuthModel, actions: &[Action]) -> (Vec<TraceStep>, State) {
    use stateright::Model;
    let mut state = model.init_state();
    let mut canonical = model.init_state();
    let mut steps = Vec::with_capacity(actions.len());
    let (mut enabled_c, mut enabled) = (Vec::new(), Vec::new());
    for (i, a) in actions.iter().enumerate() {
        enabled_c.clear();
        model.actions(&canonical, &mut enabled_c);
        enabled.clear();
        model.actions(&state, &mut enabled);
        let a = enabled_c
            .iter()
            .position(|x| x == a)
            .and_then(|k| enabled.get(k).copied())
            .unwrap_or(*a);
        let mut fx = Fx::recording();
        let next = model
            .step(&state, a, &mut fx)
            .expect("a trace replays through the model");
        if let Some(c) = model.next_state(&canonical, *actions.get(i).unwrap()) {
            canonical = c;
        }
        let events = fx.events.unwrap_or_default();
        let (actor, action) = headline(model, &state, &a, &events);
        steps.push(TraceStep {
            step: i + 1,
            actor,
            action,
            events,
            raw: Some(a),
        });
        state = next;
    }
    (steps, state)
}

/// Describes one step from `state` (the explorer's action list).
pub fn describe_step(model: &AuthModel, state: &State, a: Action) -> Option<(TraceStep, State)> {
    let mut fx = Fx::recording();
    let next = model.step(state, a, &mut fx)?;
    let events = fx.events.unwrap_or_default();
    let (actor, action) = headline(model, state, &a, &events);
    Some((
        TraceStep {
            step: 0,
            actor,
            action,
            events,
            raw: Some(a),
        },
        next,
    ))
}

/// The action indices (as `stateright` numbers them) of a list of actions
/// of a concrete (trace) run.
pub fn action_indices(model: &AuthModel, actions: &[Action]) -> Option<Vec<usize>> {
    use stateright::Model;
    let mut s = model.init_state();
    let mut out = Vec::with_capacity(actions.len());
    let mut enabled = Vec::new();
    for a in actions {
        enabled.clear();
        model.actions(&s, &mut enabled);
        out.push(enabled.iter().position(|e| e == a)?);
        s = model.step(&s, *a, &mut Fx::off())?;
    }
    Some(out)
}

/// The one-line summary of a step: its main event.
fn headline(model: &AuthModel, before: &State, a: &Action, events: &[Event]) -> (String, String) {
    let ctx = &model.ctx;
    let first = events.first();
    let violation = events.iter().find(|e| e.violates.is_some());
    let mark = |s: String| match violation {
        Some(v) => format!("{s}  [violates {}: {}]", v.violates.unwrap(), v.text),
        None => s,
    };
    match a {
        Action::Commit => {
            let r = before.render(ctx).0;
            let effects = commit_effects(events.get(1..).unwrap_or_default());
            let mut s = format!(
                "commit: provider {}, useConvexAuth().isAuthenticated={}",
                r.session.describe(),
                r.is_authenticated
            );
            if !effects.is_empty() {
                s.push_str(&format!("; effects: {}", effects.join("; ")));
            }
            ("React".to_string(), mark(s))
        }
        Action::ServerReceives { .. } => {
            let frame = first.map(|e| e.text.clone()).unwrap_or_default();
            let evals: Vec<String> = events.iter().skip(1).map(|e| e.text.clone()).collect();
            let s = if evals.is_empty() {
                frame
            } else {
                format!("{frame}: {}", evals.join("; "))
            };
            ("Client -> Server".to_string(), mark_plain(violation, s))
        }
        Action::ClientReceives { .. } => {
            let frame = first.map(|e| e.text.clone()).unwrap_or_default();
            let rest: Vec<String> = events.iter().skip(1).map(|e| e.text.clone()).collect();
            let s = if rest.is_empty() {
                frame
            } else {
                format!("{frame}: {}", rest.join("; "))
            };
            ("Server -> Client".to_string(), mark(s))
        }
        Action::ProviderResolves
        | Action::ProviderSignIn { .. }
        | Action::ProviderSignOut { .. }
        | Action::ProviderNewFetcher => {
            // With `sync_render`, React commits the change within this step.
            let mut s = first.map(|e| e.text.clone()).unwrap_or_default();
            if events.iter().any(|e| e.text.starts_with("render:")) {
                let effects = commit_effects(&events[1..]);
                s.push_str("; React commits at once");
                if !effects.is_empty() {
                    s.push_str(&format!(": {}", effects.join("; ")));
                }
            }
            ("Provider".to_string(), mark(s))
        }
        _ => {
            let actor = first
                .map(|e| arrow(e.from, e.to))
                .unwrap_or_else(|| "Client".to_string());
            let parts: Vec<String> = events.iter().map(|e| e.text.clone()).collect();
            (actor, mark(parts.join("; ")))
        }
    }
}

/// The effects a commit ran, as the trace shows them: the app's calls on
/// the client and components unmounting.
fn commit_effects(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.from == Actor::React && e.to != Actor::React || e.text.contains("unmounts"))
        .map(|e| e.text.clone())
        .collect()
}

fn mark_plain(violation: Option<&Event>, s: String) -> String {
    match violation {
        Some(v) => format!("{s}  [violates {}]", v.violates.unwrap()),
        None => s,
    }
}

/// Renders a trace as numbered text lines.
pub fn render_text(steps: &[TraceStep], indent: &str) -> String {
    let width = steps.iter().map(|s| s.actor.len()).max().unwrap_or(0);
    let mut out = String::new();
    for s in steps {
        out.push_str(&format!(
            "{indent}{:>3}. {:width$}  {}\n",
            s.step,
            s.actor,
            s.action,
            width = width
        ));
    }
    out
}

/// A readable per-actor view of a state.
pub fn render_state(ctx: &Ctx, s: &State) -> String {
    let mut out = String::new();
    let hook = s.provider.hook(ctx);
    out.push_str(&format!(
        "Provider: {} (hook isLoading={}, isAuthenticated={}, fetcher #{}); cached {}; last handed out {}\n",
        s.provider.session.describe(),
        hook.loading,
        hook.authenticated,
        s.provider.fetcher,
        s.provider.cached.map_or("none".to_string(), |t| t.to_string()),
        s.provider.last.map_or("none".to_string(), |t| t.to_string()),
    ));
    match &s.app.committed {
        None => out.push_str("React: not rendered yet\n"),
        Some(r) => {
            let comps: Vec<String> = ctx
                .components
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let st = if !r.is_mounted(i) {
                        "unmounted".to_string()
                    } else if !r.is_active(i) {
                        "skip".to_string()
                    } else {
                        match s.client.view_of(c.query) {
                            Some(o) => o.describe(),
                            None => "loading".to_string(),
                        }
                    };
                    format!("{} [{}]: {}", c.name, c.gate.as_str(), st)
                })
                .collect();
            out.push_str(&format!(
                "React: useConvexAuth() isLoading={}, isAuthenticated={}; {}\n",
                r.is_loading,
                r.is_authenticated,
                comps.join("; ")
            ));
        }
    }
    let ws = match s.client.ws {
        Ws::Uncreated => "not created".to_string(),
        Ws::Disconnected => "disconnected (reconnect pending)".to_string(),
        Ws::Connecting { conn, paused } => format!(
            "connecting (conn {conn}{})",
            if paused { ", paused" } else { "" }
        ),
        Ws::Ready { conn, paused } => format!(
            "ready (conn {conn}{})",
            match paused {
                Paused::No => "",
                Paused::Yes => ", paused",
                Paused::Uninitialized => ", paused before onOpen",
            }
        ),
        Ws::Stopped => "stopped".to_string(),
        Ws::Terminated => "terminated (after a FatalError)".to_string(),
    };
    let auth_state = match s.client.auth_state {
        AuthState::WaitingForServerConfirmationOfFreshToken { token, had_auth } => {
            format!("waitingForServerConfirmationOfFreshToken({token}, hadAuth={had_auth})")
        }
        other => other.name().to_string(),
    };
    out.push_str(&format!(
        "Client: auth manager {}; socket {}; auth token {}; identity v{}; {} token request(s) in flight; queries [{}]\n",
        auth_state,
        ws,
        s.client.auth.map_or("none".to_string(), |t| t.to_string()),
        s.client.identity_version,
        s.client.fetches.len(),
        s.client
            .queries
            .iter()
            .map(|q| format!("{}(q{})", ctx.fn_short(q.f), q.id))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    for c in &s.net {
        out.push_str(&format!(
            "Server conn {}: identity {}, v{}, {} subscription(s){}; in flight up {}, down {}\n",
            c.id,
            c.server.identity.map_or("none".to_string(), |t| format!(
                "{} ({t})",
                user_name(t.user)
            )),
            c.server.version,
            c.server.subs.len(),
            if c.server.closed { ", closed" } else { "" },
            c.up.len(),
            c.down.len()
        ));
    }
    let violated: Vec<&str> = PropertyId::ALL
        .iter()
        .filter(|p| s.violations & p.bit() != 0)
        .map(|p| p.as_str())
        .collect();
    if !violated.is_empty() {
        out.push_str(&format!(
            "Violated by the last step: {}\n",
            violated.join(", ")
        ));
    }
    out
}
