//! Counterexamples and witnesses as readable steps.
//!
//! A trace is the list of actions from the initial state, replayed through
//! [`AuthModel::step`] with recording on, so every step lists what happened
//! inside it (messages between actors, evaluations, violations).

use serde::Serialize;

use crate::model::{Action, Actor, AuthModel, Event, Fx, State};

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
        | Action::ProviderSignOutSeen
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
