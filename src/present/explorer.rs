//! `authrace explore`: a web UI over the model.
//!
//! A path is the list of action indices from the initial state (as
//! `stateright` numbers them), so `/#/0/2/1` is linkable and a counterexample
//! is a link. Links carry the scenario's hash (`?h=`): indices point
//! elsewhere once the scenario changes, and the page says so when the hash
//! no longer matches. The server answers JSON under `/api/`; a malformed or
//! unknown path answers 404 with what went wrong, never a panic. Traces
//! export as the JSON `authrace trace --format json` prints, and that JSON
//! (or a `check --format json` report) imports back into a path. It binds
//! loopback unless told otherwise.
//!
//! - `GET /api/info`: the scenario, its hash, each property's verdict and
//!   link (counterexample, or witness when it holds; a liveness
//!   counterexample's `then_from` is where its fault-free continuation starts).
//! - `GET /api/path/0/2/1`: the state there, each actor's fields marked when
//!   the last step changed them, the messages in flight per channel and
//!   direction (oldest first), the enabled actions, the steps, and every
//!   violation on the path with its step.
//! - `GET /api/export/0/2/1?p=PROPERTY&then=STEP&end=STEP`: the path as a
//!   trace (steps `then..=end` marked `(then)`; `cycle=` marks `(cycle)`).
//! - `POST /api/import?p=PROPERTY`: a trace or report back to a path.

use std::io::{Cursor, Read};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use stateright::Model;
use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

use crate::check::liveness::{Limits, StateGraph};
use crate::check::report::Report;
use crate::check::trace::{self, TraceStep};
use crate::check::{CheckOptions, check, witness};
use crate::model::{AuthModel, State};
use crate::scenario::Scenario;
use crate::scenario::properties::{PropertyId, PropertyKind, Verdict};

const PAGE: &str = include_str!("explorer.html");

/// The largest request body (an imported trace) the server reads.
const MAX_BODY: u64 = 8 << 20;

/// A path from the initial state to a property's verdict, as action indices.
struct Link {
    path: Vec<usize>,
    /// `counterexample`, `witness` or `cycle`.
    kind: &'static str,
    /// The first step (1-based) of a liveness counterexample's fault-free
    /// continuation (`(then)` in the text trace), or of a repeating cycle.
    then_from: Option<usize>,
}

/// The explorer's data: the model and the check report it links to.
pub struct Explorer {
    model: AuthModel,
    scenario_name: String,
    report: Report,
    /// Each property's counterexample, or its witness when it holds.
    links: Vec<Option<Link>>,
    /// A property that holds but is not inevitable: its fair cycle.
    cycles: Vec<Option<Link>>,
}

#[derive(Serialize)]
struct LinkInfo<'a> {
    path: &'a [usize],
    kind: &'static str,
    then_from: Option<usize>,
}

#[derive(Serialize)]
struct PropertyInfo<'a> {
    id: &'a str,
    kind: PropertyKind,
    verdict: Verdict,
    reason: Option<&'a str>,
    /// The counterexample (violated) or witness (holds) path.
    path: Option<&'a [usize]>,
    link: Option<LinkInfo<'a>>,
    cycle: Option<LinkInfo<'a>>,
}

#[derive(Serialize)]
struct Info<'a> {
    scenario: &'a str,
    path: &'a str,
    hash: &'a str,
    properties: Vec<PropertyInfo<'a>>,
    unique_states: usize,
}

#[derive(Serialize)]
struct EnabledAction {
    index: usize,
    actor: String,
    label: String,
    fault: bool,
    user: bool,
}

/// One part of an actor's state, and whether the last step changed it.
#[derive(Serialize)]
struct Field {
    text: String,
    changed: bool,
}

/// One actor's state (a line of the state view), split into fields.
#[derive(Serialize)]
struct ActorView {
    name: String,
    fields: Vec<Field>,
    /// Some field differs from the previous state (or the actor is new).
    changed: bool,
    /// The actor did not exist in the previous state (a new connection).
    added: bool,
}

/// The messages on one channel, oldest first.
#[derive(Serialize)]
struct Channel {
    from: &'static str,
    to: &'static str,
    /// The connection, for socket channels.
    conn: Option<u8>,
    messages: Vec<String>,
}

/// Where a property was violated on the path.
#[derive(Serialize)]
struct PathViolation {
    property: &'static str,
    step: usize,
}

#[derive(Serialize)]
struct StateView {
    path: Vec<usize>,
    actors: Vec<(String, String)>,
    actor_fields: Vec<ActorView>,
    in_flight: Vec<Channel>,
    actions: Vec<EnabledAction>,
    steps: Vec<TraceStep>,
    /// Safety properties the last step violated.
    violated: Vec<&'static str>,
    /// Every violation on the path, with its step.
    path_violations: Vec<PathViolation>,
}

/// Why a path does not exist.
#[derive(Serialize)]
struct PathError {
    error: String,
    /// The longest prefix of the path that exists.
    prefix: Vec<usize>,
}

/// An imported trace, as a path.
#[derive(Serialize)]
struct Imported {
    path: Vec<usize>,
    property: Option<String>,
    then_from: Option<usize>,
    /// What the marked steps from `then_from` are: `then` or `cycle`.
    mark: Option<&'static str>,
    /// Set when the trace names a scenario hash other than this one.
    notice: Option<String>,
}

impl Explorer {
    pub fn new(path: &Path, scenario: &Scenario) -> Explorer {
        Explorer::from_report(scenario, check(path, scenario, &CheckOptions::default()))
    }

    /// The explorer over a check already made (with the caller's limits).
    pub fn from_report(scenario: &Scenario, report: Report) -> Explorer {
        let model = AuthModel::new(scenario);
        let to_link = |steps: &[TraceStep], kind: &'static str, mark: &str| -> Option<Link> {
            let actions: Vec<_> = steps.iter().filter_map(|s| s.raw).collect();
            Some(Link {
                path: trace::action_indices(&model, &actions)?,
                kind,
                then_from: steps
                    .iter()
                    .find(|s| s.actor.starts_with(mark))
                    .map(|s| s.step),
            })
        };
        let mut graph: Option<StateGraph> = None;
        let links = report
            .properties
            .iter()
            .map(|p| match (p.verdict, &p.steps) {
                (Verdict::Violated, Some(steps)) => to_link(steps, "counterexample", "(then) "),
                (Verdict::Holds, _) => {
                    let g =
                        graph.get_or_insert_with(|| StateGraph::build(&model, Limits::default()));
                    if !g.complete {
                        return None;
                    }
                    let actions = witness(g, p.id)?;
                    let (steps, _) = trace::describe(&model, &actions);
                    to_link(&steps, "witness", "\u{0}")
                }
                _ => None,
            })
            .collect();
        let cycles = report
            .properties
            .iter()
            .map(|p| to_link(p.cycle_steps.as_deref()?, "cycle", "(cycle) "))
            .collect();
        Explorer {
            model,
            scenario_name: scenario.name.clone(),
            report,
            links,
            cycles,
        }
    }

    fn info(&self) -> String {
        fn link_info(l: &Option<Link>) -> Option<LinkInfo<'_>> {
            l.as_ref().map(|l| LinkInfo {
                path: &l.path,
                kind: l.kind,
                then_from: l.then_from,
            })
        }
        let info = Info {
            scenario: &self.scenario_name,
            path: &self.report.scenario.path,
            hash: &self.report.scenario.hash,
            properties: self
                .report
                .properties
                .iter()
                .zip(self.links.iter().zip(&self.cycles))
                .map(|(p, (l, c))| PropertyInfo {
                    id: p.id.as_str(),
                    kind: p.kind,
                    verdict: p.verdict,
                    reason: p.reason.as_deref(),
                    path: l.as_ref().map(|l| l.path.as_slice()),
                    link: link_info(l),
                    cycle: link_info(c),
                })
                .collect(),
            unique_states: self.report.stats.unique_states,
        };
        serde_json::to_string(&info).expect("serializable")
    }

    /// Replays `path`: the steps and every state along it, or why the path
    /// does not exist.
    fn replay(&self, path: &[usize]) -> Result<(Vec<TraceStep>, Vec<State>), PathError> {
        let mut s = self.model.init_state();
        let mut steps = Vec::with_capacity(path.len());
        let mut states = vec![s.clone()];
        let mut enabled = Vec::new();
        for (i, &idx) in path.iter().enumerate() {
            enabled.clear();
            self.model.actions(&s, &mut enabled);
            let described = enabled
                .get(idx)
                .and_then(|a| trace::describe_step(&self.model, &s, *a));
            let Some((mut step, next)) = described else {
                return Err(PathError {
                    error: format!(
                        "step {} chooses action {idx}, but {} enabled there (numbered from 0)",
                        i + 1,
                        match enabled.len() {
                            0 => "no action is".to_string(),
                            1 => "only 1 action is".to_string(),
                            n => format!("only {n} actions are"),
                        }
                    ),
                    prefix: path[..i].to_vec(),
                });
            };
            step.step = i + 1;
            steps.push(step);
            s = next;
            states.push(s.clone());
        }
        Ok((steps, states))
    }

    /// The state at `path`, or why there is none.
    fn state_view(&self, path: &[usize]) -> Result<String, PathError> {
        let (steps, states) = self.replay(path)?;
        let s = states.last().expect("the initial state");
        let mut enabled = Vec::new();
        self.model.actions(s, &mut enabled);
        let actions = enabled
            .iter()
            .enumerate()
            .filter_map(|(index, a)| {
                let (step, _) = trace::describe_step(&self.model, s, *a)?;
                Some(EnabledAction {
                    index,
                    actor: step.actor,
                    label: step.action,
                    fault: a.is_fault(),
                    user: a.is_user_action(),
                })
            })
            .collect();
        let lines = |s: &State| -> Vec<(String, String)> {
            crate::model::describe::render_state(&self.model.ctx, s)
                .lines()
                .filter(|l| !l.starts_with("Violated by the last step"))
                .map(|l| match l.split_once(": ") {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (String::new(), l.to_string()),
                })
                .collect()
        };
        let now = lines(s);
        let before = (states.len() > 1).then(|| lines(&states[states.len() - 2]));
        let actor_fields = actor_diff(&now, before.as_deref());
        let violated = PropertyId::ALL
            .iter()
            .filter(|p| !self.model.holds(**p, s) && p.kind() == PropertyKind::Safety)
            .map(|p| p.as_str())
            .collect();
        let mut path_violations = Vec::new();
        for step in &steps {
            for e in &step.events {
                if let Some(p) = e.violates
                    && !path_violations
                        .iter()
                        .any(|v: &PathViolation| v.property == p.as_str() && v.step == step.step)
                {
                    path_violations.push(PathViolation {
                        property: p.as_str(),
                        step: step.step,
                    });
                }
            }
        }
        let view = StateView {
            path: path.to_vec(),
            actors: now,
            actor_fields,
            in_flight: self.in_flight(s),
            actions,
            steps,
            violated,
            path_violations,
        };
        Ok(serde_json::to_string(&view).expect("serializable"))
    }

    /// The messages in flight in `s`, per channel and direction, oldest first.
    fn in_flight(&self, s: &State) -> Vec<Channel> {
        let ctx = &self.model.ctx;
        let fn_name = |f| ctx.fn_short(f).to_string();
        let mut out = Vec::new();
        let (mut requests, mut answers) = (Vec::new(), Vec::new());
        for (i, f) in s.client.fetches.iter().enumerate() {
            let what = format!(
                "#{i} fetchAccessToken({{forceRefreshToken:{}}}){}",
                f.forced,
                if f.current { "" } else { " (stale)" }
            );
            match f.answer {
                None => requests.push(what),
                Some(a) => answers.push(format!(
                    "{what} answers {}",
                    match a {
                        crate::model::client::Answer::Token(Some(t)) => t.to_string(),
                        crate::model::client::Answer::Token(None) => "null".to_string(),
                        crate::model::client::Answer::Threw => "by throwing".to_string(),
                    }
                )),
            }
        }
        out.push(Channel {
            from: "Client",
            to: "Provider",
            conn: None,
            messages: requests,
        });
        out.push(Channel {
            from: "Provider",
            to: "Client",
            conn: None,
            messages: answers,
        });
        for c in &s.net {
            out.push(Channel {
                from: "Client",
                to: "Server",
                conn: Some(c.id),
                messages: c.up.iter().map(|m| m.frame.describe(&fn_name)).collect(),
            });
            out.push(Channel {
                from: "Server",
                to: "Client",
                conn: Some(c.id),
                messages: c.down.iter().map(|m| m.describe()).collect(),
            });
        }
        out
    }

    /// The trace at `path` as `authrace trace --format json` prints it.
    fn export(&self, path: &[usize], query: &str) -> Result<String, PathError> {
        let (mut steps, _) = self.replay(path)?;
        let param = |k: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
        };
        let property = param("p").and_then(PropertyId::parse);
        let end: usize = param("end")
            .and_then(|t| t.parse().ok())
            .unwrap_or(usize::MAX);
        for mark in ["then", "cycle"] {
            if let Some(t) = param(mark).and_then(|t| t.parse::<usize>().ok()) {
                for s in steps.iter_mut().filter(|s| s.step >= t && s.step <= end) {
                    s.actor = format!("({mark}) {}", s.actor);
                }
            }
        }
        let (verdict, kind) = match property {
            Some(p) => {
                let v = self.report.property(p).verdict;
                let kind = match v {
                    Verdict::Violated => "counterexample",
                    Verdict::Holds => "witness",
                    _ => "path",
                };
                (Some(v), kind)
            }
            None => (None, "path"),
        };
        let v = serde_json::json!({
            "scenario": self.report.scenario.path,
            "hash": self.report.scenario.hash,
            "property": property,
            "verdict": verdict,
            "kind": kind,
            "steps": steps,
        });
        Ok(serde_json::to_string_pretty(&v).expect("serializable"))
    }

    /// A trace (the JSON of `trace --format json`, or a `check --format
    /// json` report and the property to take) back to a path.
    fn import(&self, body: &str, query: &str) -> Result<Imported, String> {
        let v: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
        let wanted = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("p=").map(str::to_string))
            .filter(|p| !p.is_empty());
        let mut notice = None;
        let check_hash = |hash: Option<&str>, notice: &mut Option<String>| {
            if let Some(h) = hash
                && h != self.report.scenario.hash
            {
                *notice = Some(format!(
                    "the trace was made for scenario hash {h}, this scenario's is {}",
                    self.report.scenario.hash
                ));
            }
        };
        let (steps, property): (&Vec<Value>, Option<String>) = if let Some(steps) =
            v.get("steps").and_then(Value::as_array)
        {
            check_hash(v.get("hash").and_then(Value::as_str), &mut notice);
            // `trace --format json` names the scenario file, not its hash.
            if let Some(file) = v.get("scenario").and_then(Value::as_str)
                && Path::new(file).file_name() != Path::new(&self.report.scenario.path).file_name()
                && notice.is_none()
            {
                notice = Some(format!(
                    "the trace names scenario {file}, this explorer shows {}; its steps matched this one's",
                    self.report.scenario.path
                ));
            }
            let p = v
                .get("property")
                .and_then(Value::as_str)
                .map(str::to_string);
            (steps, p)
        } else {
            // A check report, or the list `check` prints for several files.
            let reports: Vec<&Value> = match &v {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            let report = reports
                .iter()
                .find(|r| r["scenario"]["hash"].as_str() == Some(&self.report.scenario.hash))
                .or_else(|| {
                    reports.iter().find(|r| {
                        r["scenario"]["path"].as_str() == Some(&self.report.scenario.path)
                    })
                })
                .or(reports.first())
                .ok_or("an empty list: no report to import")?;
            let props = report["properties"].as_array().ok_or(
                "neither a trace (`authrace trace --format json`: a `steps` list) nor a check report (`properties`)",
            )?;
            check_hash(report["scenario"]["hash"].as_str(), &mut notice);
            let prop = props
                .iter()
                .find(|p| match &wanted {
                    Some(w) => p["id"].as_str() == Some(w),
                    None => p["trace"].is_array(),
                })
                .ok_or_else(|| match &wanted {
                    Some(w) => format!("the report has no property `{w}`"),
                    None => "the report has no trace to import".to_string(),
                })?;
            let steps = prop["trace"].as_array().ok_or_else(|| {
                format!(
                    "`{}` has no trace in the report",
                    prop["id"].as_str().unwrap_or("?")
                )
            })?;
            (steps, prop["id"].as_str().map(str::to_string))
        };
        let mut wanted_steps = Vec::with_capacity(steps.len());
        let mut then_from = None;
        let mut mark_kind = None;
        for (i, st) in steps.iter().enumerate() {
            let (Some(actor), Some(action)) = (
                st.get("actor").and_then(Value::as_str),
                st.get("action").and_then(Value::as_str),
            ) else {
                return Err(format!(
                    "step {}: needs `actor` and `action` strings",
                    i + 1
                ));
            };
            let mut actor = actor;
            for (mark, kind) in [("(then) ", "then"), ("(cycle) ", "cycle")] {
                if let Some(rest) = actor.strip_prefix(mark) {
                    actor = rest;
                    then_from.get_or_insert(i + 1);
                    mark_kind.get_or_insert(kind);
                }
            }
            wanted_steps.push((actor.to_string(), action.to_string()));
        }
        let mut path = Vec::new();
        let mut deepest = (0, String::new());
        if self.match_steps(
            &self.model.init_state(),
            &wanted_steps,
            &mut path,
            &mut deepest,
        ) {
            Ok(Imported {
                path,
                property,
                then_from,
                mark: mark_kind,
                notice,
            })
        } else {
            let (i, why) = deepest;
            Err(format!(
                "step {} ({}: {}) matches no enabled action here{}; the trace was made for another scenario or version",
                i + 1,
                wanted_steps[i].0,
                wanted_steps[i].1,
                why
            ))
        }
    }

    /// Finds action indices whose steps read as `want`, backtracking over
    /// actions that read the same.
    fn match_steps(
        &self,
        s: &State,
        want: &[(String, String)],
        path: &mut Vec<usize>,
        deepest: &mut (usize, String),
    ) -> bool {
        let i = path.len();
        let Some((actor, action)) = want.get(i) else {
            return true;
        };
        let mut enabled = Vec::new();
        self.model.actions(s, &mut enabled);
        let mut candidates = 0;
        for (k, a) in enabled.iter().enumerate() {
            let Some((step, next)) = trace::describe_step(&self.model, s, *a) else {
                continue;
            };
            if step.actor == *actor && step.action == *action {
                candidates += 1;
                path.push(k);
                if self.match_steps(&next, want, path, deepest) {
                    return true;
                }
                path.pop();
            }
        }
        if candidates == 0 && i >= deepest.0 {
            let why = match i {
                0 => String::new(),
                1 => " (after 1 matching step)".to_string(),
                n => format!(" (after {n} matching steps)"),
            };
            *deepest = (i, why);
        }
        false
    }

    /// Answers one request: `(status, content type, body)`.
    pub fn respond(&self, method: &Method, url: &str, body: &str) -> (u16, &'static str, String) {
        const JSON: &str = "application/json";
        const HTML: &str = "text/html; charset=utf-8";
        let (path, query) = match url.split_once('?') {
            Some((p, q)) => (p, q.split('#').next().unwrap_or("")),
            None => (url.split('#').next().unwrap_or(""), ""),
        };
        let error = |e: &str| serde_json::json!({ "error": e }).to_string();
        if path == "/api/import" {
            if *method != Method::Post {
                return (405, JSON, error("POST the trace JSON to /api/import"));
            }
            return match self.import(body, query) {
                Ok(i) => (200, JSON, serde_json::to_string(&i).expect("serializable")),
                Err(e) => (422, JSON, error(&e)),
            };
        }
        if *method != Method::Get {
            return (405, JSON, error("only GET (and POST to /api/import)"));
        }
        let indices = |rest: &str| -> Result<Vec<usize>, PathError> {
            let rest = rest.trim_matches('/');
            if rest.is_empty() {
                return Ok(Vec::new());
            }
            let mut out = Vec::new();
            for (i, x) in rest.split('/').enumerate() {
                match x.parse() {
                    Ok(n) => out.push(n),
                    Err(_) => {
                        return Err(PathError {
                            error: format!(
                                "step {} is `{x}`, not an action number; a path is action numbers separated by `/`",
                                i + 1
                            ),
                            prefix: out,
                        });
                    }
                }
            }
            Ok(out)
        };
        let not_found =
            |e: PathError| (404, JSON, serde_json::to_string(&e).expect("serializable"));
        match path {
            "/" | "/index.html" => (200, HTML, PAGE.to_string()),
            "/api/info" => (200, JSON, self.info()),
            p if p == "/api/path" || p.starts_with("/api/path/") => {
                match indices(p.trim_start_matches("/api/path")).and_then(|ix| self.state_view(&ix))
                {
                    Ok(body) => (200, JSON, body),
                    Err(e) => not_found(e),
                }
            }
            p if p == "/api/export" || p.starts_with("/api/export/") => {
                match indices(p.trim_start_matches("/api/export"))
                    .and_then(|ix| self.export(&ix, query))
                {
                    Ok(body) => (200, JSON, body),
                    Err(e) => not_found(e),
                }
            }
            p if p.starts_with("/api/") => (404, JSON, error("no such API")),
            p => (404, HTML, not_found_page(p)),
        }
    }

    /// Serves until the process ends.
    pub fn serve(self, addr: &str) -> std::io::Result<()> {
        let server = Server::http(addr).map_err(std::io::Error::other)?;
        let bound = server
            .server_addr()
            .to_ip()
            .map(|a| a.to_string())
            .unwrap_or_else(|| addr.to_string());
        println!(
            "authrace explorer for \"{}\" at http://{bound}/",
            self.scenario_name
        );
        for req in server.incoming_requests() {
            self.answer(req);
        }
        Ok(())
    }

    fn answer(&self, mut req: Request) {
        let mut body = String::new();
        let read = req
            .as_reader()
            .take(MAX_BODY)
            .read_to_string(&mut body)
            .is_ok();
        let (status, ctype, body) = if read {
            self.respond(req.method(), req.url(), &body)
        } else {
            (
                400,
                "application/json",
                r#"{"error":"the request body is not UTF-8"}"#.to_string(),
            )
        };
        let header = Header::from_bytes("Content-Type", ctype).expect("valid header");
        let len = body.len();
        let response = Response::new(
            StatusCode(status),
            vec![header],
            Cursor::new(body.into_bytes()),
            Some(len),
            None,
        );
        let _ = req.respond(response);
    }
}

/// The actors of a state split into fields (`; `-separated), each marked
/// when it differs from the same actor's field in the previous state.
fn actor_diff(now: &[(String, String)], before: Option<&[(String, String)]>) -> Vec<ActorView> {
    now.iter()
        .map(|(name, text)| {
            let prev = before.map(|b| b.iter().find(|(n, _)| n == name).map(|(_, t)| t.as_str()));
            let prev_fields: Option<Vec<&str>> = prev.flatten().map(|t| t.split("; ").collect());
            let added = matches!(prev, Some(None));
            let fields: Vec<Field> = text
                .split("; ")
                .enumerate()
                .map(|(i, f)| Field {
                    text: f.to_string(),
                    changed: added
                        || prev_fields
                            .as_ref()
                            .is_some_and(|p| p.get(i).is_none_or(|old| *old != f)),
                })
                .collect();
            ActorView {
                name: name.clone(),
                changed: fields.iter().any(|f| f.changed),
                fields,
                added,
            }
        })
        .collect()
}

fn not_found_page(path: &str) -> String {
    let esc: String = path
        .chars()
        .map(|c| match c {
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            '"' => "&quot;".to_string(),
            c => c.to_string(),
        })
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found — authrace explorer</title></head>\
<body style=\"font: 15px/1.5 system-ui, sans-serif; max-width: 640px; margin: 60px auto; color: #1b1f24\">\
<h1 id=\"notfound\">Not found</h1><p>The explorer has no page <code>{esc}</code>. Paths through the model go after \
<code>#</code>, as in <code>/#/0/2/1</code>.</p><p><a id=\"home\" href=\"/\">Back to the explorer</a></p></body></html>"
    )
}
