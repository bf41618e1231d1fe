//! `authrace explore`: a web UI over the model.
//!
//! A path is the list of action indices from the initial state (as
//! `stateright` numbers them), so `/#/0/2/1` is linkable and a counterexample
//! is a link. The server answers JSON under `/api/`; a malformed or unknown
//! path answers 404, never a panic. It binds loopback unless told otherwise.

use std::io::Cursor;
use std::path::Path;

use serde::Serialize;
use stateright::Model;
use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

use crate::check::report::Report;
use crate::check::trace::{self, TraceStep};
use crate::check::{CheckOptions, check};
use crate::model::AuthModel;
use crate::scenario::Scenario;
use crate::scenario::properties::{PropertyKind, Verdict};

const PAGE: &str = include_str!("explorer.html");

/// The explorer's data: the model and the check report it links to.
pub struct Explorer {
    model: AuthModel,
    scenario_name: String,
    report: Report,
    /// Each property's counterexample (or liveness path) as action indices.
    links: Vec<Option<Vec<usize>>>,
}

#[derive(Serialize)]
struct PropertyInfo<'a> {
    id: &'a str,
    kind: PropertyKind,
    verdict: Verdict,
    reason: Option<&'a str>,
    path: Option<&'a [usize]>,
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

#[derive(Serialize)]
struct StateView {
    path: Vec<usize>,
    actors: Vec<(String, String)>,
    actions: Vec<EnabledAction>,
    steps: Vec<TraceStep>,
    violated: Vec<&'static str>,
}

impl Explorer {
    pub fn new(path: &Path, scenario: &Scenario) -> Explorer {
        Explorer::from_report(scenario, check(path, scenario, &CheckOptions::default()))
    }

    /// The explorer over a check already made (with the caller's limits).
    pub fn from_report(scenario: &Scenario, report: Report) -> Explorer {
        let model = AuthModel::new(scenario);
        let links = report
            .properties
            .iter()
            .map(|p| {
                let actions: Vec<_> = p.steps.as_ref()?.iter().filter_map(|s| s.raw).collect();
                trace::action_indices(&model, &actions)
            })
            .collect();
        Explorer {
            model,
            scenario_name: scenario.name.clone(),
            report,
            links,
        }
    }

    fn info(&self) -> String {
        let info = Info {
            scenario: &self.scenario_name,
            path: &self.report.scenario.path,
            hash: &self.report.scenario.hash,
            properties: self
                .report
                .properties
                .iter()
                .zip(&self.links)
                .map(|(p, l)| PropertyInfo {
                    id: p.id.as_str(),
                    kind: p.kind,
                    verdict: p.verdict,
                    reason: p.reason.as_deref(),
                    path: l.as_deref(),
                })
                .collect(),
            unique_states: self.report.stats.unique_states,
        };
        serde_json::to_string(&info).expect("serializable")
    }

    /// The state at `path`, or `None` when the path does not exist.
    fn state_view(&self, path: &[usize]) -> Option<String> {
        let mut s = self.model.init_state();
        let mut steps = Vec::with_capacity(path.len());
        let mut enabled = Vec::new();
        for (i, &idx) in path.iter().enumerate() {
            enabled.clear();
            self.model.actions(&s, &mut enabled);
            let a = *enabled.get(idx)?;
            let (mut step, next) = trace::describe_step(&self.model, &s, a)?;
            step.step = i + 1;
            steps.push(step);
            s = next;
        }
        enabled.clear();
        self.model.actions(&s, &mut enabled);
        let actions = enabled
            .iter()
            .enumerate()
            .filter_map(|(index, a)| {
                let (step, _) = trace::describe_step(&self.model, &s, *a)?;
                Some(EnabledAction {
                    index,
                    actor: step.actor,
                    label: step.action,
                    fault: a.is_fault(),
                    user: a.is_user_action(),
                })
            })
            .collect();
        let rendered = crate::model::describe::render_state(&self.model.ctx, &s);
        let actors = rendered
            .lines()
            .map(|l| match l.split_once(": ") {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (String::new(), l.to_string()),
            })
            .collect();
        let violated = crate::scenario::properties::PropertyId::ALL
            .iter()
            .filter(|p| !self.model.holds(**p, &s) && p.kind() == PropertyKind::Safety)
            .map(|p| p.as_str())
            .collect();
        let view = StateView {
            path: path.to_vec(),
            actors,
            actions,
            steps,
            violated,
        };
        Some(serde_json::to_string(&view).expect("serializable"))
    }

    /// Answers one request: `(status, content type, body)`.
    pub fn respond(&self, method: &Method, url: &str) -> (u16, &'static str, String) {
        const JSON: &str = "application/json";
        if *method != Method::Get {
            return (405, JSON, r#"{"error":"only GET"}"#.to_string());
        }
        let path = url.split(['?', '#']).next().unwrap_or("");
        match path {
            "/" | "/index.html" => (200, "text/html; charset=utf-8", PAGE.to_string()),
            "/api/info" => (200, JSON, self.info()),
            p if p == "/api/path" || p.starts_with("/api/path/") => {
                let rest = p.trim_start_matches("/api/path").trim_matches('/');
                let indices: Option<Vec<usize>> = if rest.is_empty() {
                    Some(Vec::new())
                } else {
                    rest.split('/').map(|x| x.parse().ok()).collect()
                };
                match indices.and_then(|ix| self.state_view(&ix)) {
                    Some(body) => (200, JSON, body),
                    None => (404, JSON, r#"{"error":"no such path"}"#.to_string()),
                }
            }
            _ => (404, JSON, r#"{"error":"not found"}"#.to_string()),
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

    fn answer(&self, req: Request) {
        let (status, ctype, body) = self.respond(req.method(), req.url());
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
