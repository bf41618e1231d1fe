//! Conformance: the model against the real Convex client.
//!
//! `tests/conformance/` runs the real `convex@1.48.0` client against an
//! in-memory WebSocket and a scripted server, one **schedule** step at a
//! time, and records a **trace**. This module feeds the same schedule to the
//! model's actors ([`Driver`]) and accepts a trace only if the model
//! produces exactly the same observable events in the same order, step by
//! step ([`validate`]); otherwise it reports the first step where model and
//! client disagree. It also turns model counterexamples into schedules
//! ([`schedule_from_trace`]) so they can be replayed on the real client.

use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::model::client::{Answer, AuthState, Ws};
use crate::model::msg::{
    ClientFrame, ConnId, FnIdx, Outcome, QueryError, QueryMod, ServerFrame, Token, user_name,
};
use crate::model::{Action, AuthModel, Call, Ctx, Fx, Obs, State, TimerKind};
use crate::scenario::{AuthReq, Patch, Scenario};

/// A function of the scripted server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnDecl {
    pub name: String,
    pub auth: AuthReq,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    #[serde(default)]
    pub expect_auth: bool,
    #[serde(default)]
    pub initial_auth_token_reuse: bool,
    /// Proposed changes applied to a copy of the real package
    /// (`tests/conformance/patches/<id>.diff`) and to the model that
    /// validates the trace (`[client] patches`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<Patch>,
    /// The npm `convex` release to run (`[client] version`; the harness pins
    /// 1.48.0 and, as `convex-<version>`, 1.20.0 and 1.42.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One step of a schedule (`tests/conformance/README.md`, "Steps").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum Step {
    Subscribe {
        query: String,
    },
    Unsubscribe {
        query: String,
    },
    SetAuth,
    ClearAuth,
    /// `token`: a label `"A#3"`, `null`, or `"throw"`.
    AnswerToken {
        request: u16,
        token: Option<String>,
    },
    SocketOpen,
    ServerReceive {
        conn: ConnId,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        reject: bool,
    },
    ServerExpire {
        conn: ConnId,
    },
    /// Time: the token of `conn`'s identity expires; the server finds out
    /// lazily.
    Expire {
        conn: ConnId,
    },
    ClientReceive {
        conn: ConnId,
    },
    CloseComplete {
        conn: ConnId,
    },
    Drop {
        conn: ConnId,
    },
    Timer {
        kind: String,
    },
    Mutation {
        name: String,
    },
    /// React mode: the provider hook's state changes (fields left out keep
    /// their value; `signedIn` follows `isAuthenticated`).
    #[serde(rename_all = "camelCase")]
    Provider {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        is_loading: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        is_authenticated: Option<bool>,
    },
    /// React mode: the provider hook hands over a new `fetchAccessToken`.
    NewFetcher,
    /// The auth provider's webhook inserts `user`'s row (`"A"` or `"B"`).
    Webhook {
        user: String,
    },
}

/// The provider hook's state in a React-mode schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderInit {
    pub is_loading: bool,
    pub is_authenticated: bool,
}

/// A component of a React-mode schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompDecl {
    pub name: String,
    pub query: String,
    pub gate: crate::scenario::Gate,
    #[serde(default = "one")]
    pub instances: u8,
}

fn one() -> u8 {
    1
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppDecl {
    #[serde(default)]
    pub store_user: bool,
}

/// A schedule: client level, or React mode (`mode = "react"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `"react"` for a React-mode schedule; client level otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderInit>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<CompDecl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<AppDecl>,
    pub functions: Vec<FnDecl>,
    #[serde(default)]
    pub options: Options,
    pub steps: Vec<Step>,
}

fn label(t: Token) -> String {
    format!("{}#{}", user_name(t.user), t.seq)
}

fn parse_label(s: &str) -> Result<Token, String> {
    let (u, n) = s
        .split_once('#')
        .ok_or_else(|| format!("token label `{s}`: want USER#N"))?;
    let user = match u {
        "A" => 0,
        "B" => 1,
        _ => return Err(format!("token label `{s}`: the model knows users A and B")),
    };
    let seq = n
        .parse()
        .map_err(|_| format!("token label `{s}`: bad issue number"))?;
    Ok(Token { user, seq })
}

impl Schedule {
    pub fn is_react(&self) -> bool {
        self.mode.as_deref() == Some("react")
    }
}

fn session_of(p: ProviderInit) -> Result<crate::model::provider::Session, String> {
    use crate::model::provider::Session;
    match (p.is_loading, p.is_authenticated) {
        (true, false) => Ok(Session::Loading),
        (false, true) => Ok(Session::SignedIn(0)),
        (false, false) => Ok(Session::SignedOut),
        (true, true) => Err(
            "a provider both loading and authenticated is not a session the model has".to_string(),
        ),
    }
}

/// The model's actors driven by a schedule.
pub struct Driver {
    pub model: AuthModel,
    pub state: State,
    /// React mode: the app renders and commits after every step.
    pub react: bool,
}

/// Why a step could not run now (the harness reports it as `skipped`).
pub type Skip = String;

impl Driver {
    /// The model of a schedule: its functions (plus `users:current`), its
    /// client options, unlimited faults (the schedule decides).
    pub fn new(s: &Schedule) -> Result<Driver, String> {
        let react = s.is_react();
        let at_load = match s.provider.map(session_of).transpose()? {
            None | Some(crate::model::provider::Session::SignedIn(_)) => "signed-in",
            Some(crate::model::provider::Session::Loading) => "loading",
            Some(crate::model::provider::Session::SignedOut) => "signed-out",
        };
        let store_user = !react || s.app.as_ref().is_some_and(|a| a.store_user);
        let mut text = format!(
            "name = \"schedule\"\n[provider]\nkind = \"custom\"\nat_load = \"{at_load}\"\nrebuild_fetcher = \"never\"\n[app]\nstore_user = {store_user}\n"
        );
        let patches: Vec<String> = s
            .options
            .patches
            .iter()
            .map(|p| format!("\"{}\"", p.id()))
            .collect();
        text.push_str(&format!(
            "[client]\nexpect_auth = {}\ninitial_token_reuse = {}\npatches = [{}]\n",
            s.options.expect_auth,
            s.options.initial_auth_token_reuse,
            patches.join(", ")
        ));
        if let Some(v) = &s.options.version {
            text.push_str(&format!("version = {}\n", Value::String(v.clone())));
        }
        for f in &s.functions {
            let auth = serde_json::to_value(f.auth).map_err(|e| e.to_string())?;
            text.push_str(&format!(
                "[[function]]\nname = {}\nauth = {}\n",
                Value::String(f.name.clone()),
                auth
            ));
        }
        for c in &s.components {
            text.push_str(&format!(
                "[[component]]\nname = {}\nquery = {}\ngate = \"{}\"\ninstances = {}\n",
                Value::String(c.name.clone()),
                Value::String(c.query.clone()),
                c.gate.as_str(),
                c.instances
            ));
        }
        let scenario = Scenario::parse(Path::new("schedule.toml"), &text).map_err(|e| {
            e.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        let model = AuthModel::new(&scenario);
        let state = model.init_state();
        Ok(Driver {
            model,
            state,
            react,
        })
    }

    fn ctx(&self) -> &Ctx {
        &self.model.ctx
    }

    fn fn_idx(&self, name: &str) -> Result<FnIdx, Skip> {
        self.ctx()
            .functions
            .iter()
            .position(|f| f.name == name)
            .map(|i| i as FnIdx)
            .ok_or_else(|| format!("unknown function {name}"))
    }

    /// React runs its tasks — renders, commits and passive effects — until
    /// it has nothing left to do (the harness's `reactAuto`).
    fn settle(&mut self, fx: &mut Fx) {
        let ctx = self.model.ctx.clone();
        for _ in 0..32 {
            if self.state.anomaly.is_some() {
                return;
            }
            if self.state.needs_commit(&ctx) {
                self.state.commit(&ctx, fx);
            } else if self.state.app.effects.is_some() {
                self.state.flush_effects(&ctx, fx);
            } else {
                return;
            }
            self.state.run_microtasks(&ctx, fx);
        }
    }

    /// What happens before the first step: the client is constructed (the
    /// harness builds `BaseConvexClient` up front, which connects), or in
    /// React mode the app's first render and everything it sets off.
    pub fn start(&mut self) -> Vec<Obs> {
        let mut fx = Fx::observing();
        if self.react {
            self.settle(&mut fx);
        } else {
            let ctx = self.model.ctx.clone();
            self.state.client_sync(&ctx, &mut fx);
        }
        fx.obs.unwrap_or_default()
    }

    /// Runs one step on the model; `Err` when it does not apply now.
    pub fn step(&mut self, step: &Step) -> Result<Vec<Obs>, Skip> {
        let ctx = self.model.ctx.clone();
        let mut fx = Fx::observing();
        let s = &mut self.state;
        s.violations = 0;
        s.triggered = 0;
        if s.anomaly.is_some() {
            return Err("the model stopped at an anomaly".to_string());
        }
        // The schedule decides which faults happen: never out of budget.
        s.budgets.socket_drops = u8::MAX;
        s.budgets.refreshes = u8::MAX;
        s.budgets.expiries = u8::MAX;
        s.budgets.reject_tokens = u8::MAX;
        s.budgets.transient_null = u8::MAX;
        match step {
            Step::Subscribe { query } => {
                let f = self.fn_idx(query)?;
                self.state.client_subscribe(&ctx, f, &mut fx);
            }
            Step::Unsubscribe { query } => {
                let f = self.fn_idx(query)?;
                if !self.state.client.queries.iter().any(|q| q.f == f) {
                    return Err(format!("no live subscription to {query}"));
                }
                self.state.client_unsubscribe(&ctx, f, &mut fx);
            }
            Step::SetAuth => self.state.client_set_auth(&ctx, &mut fx),
            // The app's clearAuth() (with `clear-auth-resets-manager` it also
            // resets the auth manager).
            Step::ClearAuth => self.state.app_clear_auth(&ctx, &mut fx),
            Step::AnswerToken { request, token } => {
                let i = self
                    .state
                    .client
                    .fetches
                    .iter()
                    .position(|f| f.request.0 == *request && f.answer.is_none())
                    .ok_or_else(|| format!("token request {request} is not pending"))?;
                let answer = match token.as_deref() {
                    None => Answer::Token(None),
                    Some("throw") => Answer::Threw,
                    Some(l) => Answer::Token(Some(parse_label(l)?)),
                };
                self.state.client.fetches[i].answer = Some(answer);
                self.state.token_resolves(&ctx, i, &mut fx);
            }
            Step::SocketOpen => match self.state.client.ws {
                Ws::Connecting { conn, .. } if self.state.conn(conn).is_some() => {
                    self.state.socket_opens(&ctx, &mut fx);
                }
                _ => return Err("no connecting socket".to_string()),
            },
            Step::ServerReceive { conn, reject } => {
                let c = self.state.conn(*conn).ok_or("no such connection")?;
                if !c.opened || c.server.closed || c.up.is_empty() {
                    return Err("no client frame in flight".to_string());
                }
                if *reject
                    && !matches!(
                        c.up[0].frame,
                        ClientFrame::Authenticate { token: Some(_), .. }
                    )
                {
                    return Err("not an Authenticate with a user token".to_string());
                }
                self.state
                    .server_receives(&ctx, *conn, *reject, false, &mut fx);
            }
            Step::ServerExpire { conn } => {
                let c = self.state.conn(*conn).ok_or("no such connection")?;
                if c.server.closed || c.server.identity.is_none() {
                    return Err("no identity to expire".to_string());
                }
                self.state.server_expires(&ctx, *conn, &mut fx);
            }
            Step::Expire { conn } => {
                let c = self.state.conn(*conn).ok_or("no such connection")?;
                if c.server.closed || c.server.identity.is_none() {
                    return Err("no identity to expire".to_string());
                }
                self.state.token_expires(&ctx, *conn, &mut fx);
            }
            Step::ClientReceive { conn } => {
                let c = self.state.conn(*conn).ok_or("no such connection")?;
                let listening =
                    self.state.client.conn() == Some(*conn) || self.state.client.is_closing(*conn);
                if c.down.is_empty() || !listening {
                    return Err("no server frame in flight".to_string());
                }
                self.state.client_receives(&ctx, *conn, &mut fx);
            }
            Step::CloseComplete { conn } => {
                let c = self.state.conn(*conn).ok_or("no such connection")?;
                if !self.state.client.is_closing(*conn) || !c.up.is_empty() || c.server.closed {
                    return Err("no client-initiated close can complete".to_string());
                }
                self.state.close_completes(&ctx, *conn, &mut fx);
            }
            Step::Drop { conn } => {
                self.state.conn(*conn).ok_or("no such connection")?;
                self.state.network_drops(&ctx, *conn, &mut fx);
            }
            Step::Timer { kind } => match kind.as_str() {
                "reconnect" if self.state.client.ws == Ws::Disconnected => {
                    self.state.reconnect_timer(&ctx, &mut fx);
                }
                "refetch"
                    if self.state.client.auth_state
                        == (AuthState::WaitingForScheduledRefetch { timer: true }) =>
                {
                    self.state.refetch_timer(&ctx, &mut fx);
                }
                _ => return Err(format!("no pending {kind} timer")),
            },
            Step::Mutation { name } => {
                if name != crate::model::USERS_STORE {
                    return Err(format!(
                        "the model knows only the {} mutation",
                        crate::model::USERS_STORE
                    ));
                }
                self.state.client_store_user(&ctx, &mut fx);
            }
            Step::Provider {
                is_loading,
                is_authenticated,
            } => {
                if !self.react {
                    return Err("provider steps need React mode".to_string());
                }
                let hook = self.state.provider.hook(&ctx);
                let session = session_of(ProviderInit {
                    is_loading: is_loading.unwrap_or(hook.loading),
                    is_authenticated: is_authenticated.unwrap_or(hook.authenticated),
                })?;
                self.state.set_session(&ctx, session);
            }
            Step::NewFetcher => {
                if !self.react {
                    return Err("newFetcher needs React mode".to_string());
                }
                self.state.provider.fetcher += 1;
            }
            Step::Webhook { user } => {
                let u = match user.as_str() {
                    "A" => 0,
                    "B" => 1,
                    _ => return Err(format!("unknown user {user:?}")),
                };
                if self.state.server.rows & (1 << u) != 0 {
                    return Err(format!("{user}'s row exists"));
                }
                self.state.server_webhook(&ctx, u, &mut fx);
            }
        }
        self.state.run_microtasks(&ctx, &mut fx);
        if self.react {
            self.settle(&mut fx);
        }
        Ok(fx.obs.unwrap_or_default())
    }
}

fn outcome_str(o: &Outcome) -> String {
    match o {
        Outcome::Value { null: true, .. } => "null".to_string(),
        Outcome::Value {
            for_user: Some(u), ..
        } => format!("value:{}", user_name(*u)),
        Outcome::Value { for_user: None, .. } => "value:public".to_string(),
        Outcome::Failed(QueryError::Unauthenticated) => "Unauthenticated".to_string(),
        Outcome::Failed(QueryError::UserRowMissing) => "UserRowMissing".to_string(),
    }
}

fn client_frame_json(ctx: &Ctx, f: &ClientFrame) -> Value {
    match f {
        ClientFrame::Connect => json!({"type": "Connect"}),
        ClientFrame::Authenticate {
            token: Some(t),
            base,
        } => {
            json!({"type": "Authenticate", "tokenType": "User", "value": label(*t), "baseVersion": base})
        }
        ClientFrame::Authenticate { token: None, base } => {
            json!({"type": "Authenticate", "tokenType": "None", "baseVersion": base})
        }
        ClientFrame::ModifyQuerySet { base, new, mods } => {
            let m: Vec<Value> = mods
                .iter()
                .map(|m| match m {
                    QueryMod::Add(q, f) => {
                        json!({"type": "Add", "queryId": q, "udfPath": ctx.fn_name(*f)})
                    }
                    QueryMod::Remove(q) => json!({"type": "Remove", "queryId": q}),
                })
                .collect();
            json!({"type": "ModifyQuerySet", "baseVersion": base, "newVersion": new, "modifications": m})
        }
        ClientFrame::StoreUser { request } => {
            json!({"type": "Mutation", "requestId": request, "udfPath": crate::model::USERS_STORE})
        }
    }
}

fn server_frame_json(f: &ServerFrame) -> Value {
    match f {
        ServerFrame::Transition {
            start,
            end,
            results,
            ..
        } => {
            let r: Vec<Value> = results
                .iter()
                .map(|(q, o)| match o {
                    Some(o) => json!({"queryId": q, "outcome": outcome_str(o)}),
                    None => json!({"queryId": q, "removed": true}),
                })
                .collect();
            json!({"type": "Transition", "startIdentity": start, "endIdentity": end, "results": r})
        }
        ServerFrame::AuthError {
            update_attempted,
            base,
        } => {
            json!({"type": "AuthError", "authUpdateAttempted": update_attempted, "baseVersion": base})
        }
        ServerFrame::StoreResponse { request, success } => {
            json!({"type": "MutationResponse", "requestId": request, "success": success})
        }
        ServerFrame::FatalError => json!({"type": "FatalError"}),
        ServerFrame::Close => json!({"type": "Close"}),
    }
}

fn timer(k: TimerKind) -> &'static str {
    match k {
        TimerKind::Reconnect => "reconnect",
        TimerKind::Refetch => "refetch",
    }
}

/// A model observation in the trace's vocabulary.
pub fn obs_json(ctx: &Ctx, o: &Obs, react: bool) -> Option<Value> {
    let id = |t: &Option<Token>| t.map(label).map(Value::String).unwrap_or(Value::Null);
    Some(match o {
        Obs::Call(Call::SetAuth) => json!({"type": "setAuth"}),
        Obs::Call(Call::ClearAuth) => json!({"type": "clearAuth"}),
        Obs::Call(Call::Subscribe(f)) => json!({"type": "subscribe", "query": ctx.fn_name(*f)}),
        Obs::Call(Call::Unsubscribe(f)) => json!({"type": "unsubscribe", "query": ctx.fn_name(*f)}),
        Obs::Call(Call::StoreUser) if react => json!({"type": "storeUser"}),
        Obs::Call(Call::StoreUser) => return None,
        Obs::ClientCreated if react => json!({"type": "clientCreated"}),
        Obs::ClientCreated => return None,
        Obs::TokenResolved { .. } => return None,
        Obs::ConvexAuth {
            loading,
            authenticated,
        } => json!({"type": "convexAuth", "isLoading": loading, "isAuthenticated": authenticated}),
        Obs::Mount(i) => json!({"type": "mount", "component": ctx.components[*i as usize].name}),
        Obs::Unmount(i) => {
            json!({"type": "unmount", "component": ctx.components[*i as usize].name})
        }
        Obs::SocketCreated(c) => json!({"type": "socketCreated", "conn": c}),
        Obs::Send(c, f) => json!({"type": "send", "conn": c, "frame": client_frame_json(ctx, f)}),
        Obs::TokenRequest { request, forced } => {
            json!({"type": "tokenRequest", "index": request, "forceRefreshToken": forced})
        }
        Obs::OnAuthChange(b) => json!({"type": "onAuthChange", "value": b}),
        Obs::ServerEval {
            conn,
            f,
            identity,
            outcome,
        } => {
            json!({"type": "serverEval", "conn": conn, "udfPath": ctx.fn_name(*f), "identity": id(identity), "outcome": outcome_str(outcome)})
        }
        Obs::ServerMutation {
            conn,
            identity,
            outcome,
        } => {
            json!({"type": "serverMutation", "conn": conn, "udfPath": crate::model::USERS_STORE, "identity": id(identity), "outcome": outcome.as_str()})
        }
        Obs::ServerSend(c, f) => {
            json!({"type": "serverSend", "conn": c, "frame": server_frame_json(f)})
        }
        Obs::ClientClose(c) => json!({"type": "clientClose", "conn": c}),
        Obs::Closed(c) => json!({"type": "closed", "conn": c}),
        Obs::TimerSet(k) => json!({"type": "timerSet", "kind": timer(*k)}),
        Obs::TimerCleared(k) => json!({"type": "timerCleared", "kind": timer(*k)}),
        Obs::UnhandledRejection => json!({"type": "error", "where": "unhandledRejection"}),
        Obs::Fatal => json!({"type": "error", "where": "fatal"}),
        Obs::InvalidStartVersion => {
            json!({"type": "error", "where": "invalid start version"})
        }
    })
}

/// A client trace event in the comparison vocabulary: fields the model does
/// not follow (query-set versions, close codes, timer delays) are removed;
/// events it need not produce are `None`.
pub fn event_json(e: &Value) -> Option<Value> {
    let ty = e["type"].as_str()?;
    let mut v = e.clone();
    let obj = v.as_object_mut()?;
    match ty {
        "socketCreated" | "tokenRequest" | "onAuthChange" | "clientClose" | "serverEval"
        | "serverMutation" | "setAuth" | "clearAuth" | "subscribe" | "unsubscribe"
        | "clientCreated" | "convexAuth" | "mount" | "unmount" | "storeUser" => {}
        "closed" => {
            obj.remove("code");
        }
        "send" | "sendDiscarded" => {
            obj.insert("type".into(), json!("send"));
        }
        "serverSend" => {
            if let Some(f) = obj.get_mut("frame").and_then(Value::as_object_mut) {
                match f.get("type").and_then(Value::as_str) {
                    Some("Transition") => {
                        f.remove("startQuerySet");
                        f.remove("endQuerySet");
                        if let Some(rs) = f.get_mut("results").and_then(Value::as_array_mut) {
                            for r in rs.iter_mut().filter_map(Value::as_object_mut) {
                                r.remove("udfPath");
                            }
                        }
                    }
                    Some("Close") => {
                        f.remove("code");
                        f.remove("reason");
                    }
                    Some("MutationResponse") => {
                        f.remove("udfPath");
                    }
                    Some("FatalError") => {
                        f.remove("error");
                    }
                    _ => {}
                }
            }
        }
        "timerSet" | "timerCleared" => {
            if !matches!(e["kind"].as_str(), Some("reconnect" | "refetch")) {
                return None;
            }
            obj.remove("delay");
        }
        "error" => {
            if e["where"] == "unhandledRejection" {
                return Some(json!({"type": "error", "where": "unhandledRejection"}));
            }
            if e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("[CONVEX FATAL ERROR]"))
            {
                return Some(json!({"type": "error", "where": "fatal"}));
            }
            if e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Invalid start version"))
            {
                return Some(json!({"type": "error", "where": "invalid start version"}));
            }
        }
        _ => return None,
    }
    Some(v)
}

/// Where model and client first disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence {
    /// The step (0-based), or `None` before the first step.
    pub step: Option<usize>,
    pub op: String,
    /// What the real client did (events, or why the step was skipped).
    pub client: Vec<Value>,
    /// What the model did.
    pub model: Vec<Value>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.step {
            Some(k) => writeln!(f, "model and client disagree at step {k} ({}):", self.op)?,
            None => writeln!(f, "model and client disagree before the first step:")?,
        }
        writeln!(f, "  client:")?;
        for e in &self.client {
            writeln!(f, "    {e}")?;
        }
        writeln!(f, "  model:")?;
        for e in &self.model {
            writeln!(f, "    {e}")?;
        }
        Ok(())
    }
}

/// One step of a trace: its events, or why the harness skipped it.
type StepEvents = Result<Vec<Value>, String>;

/// The trace split into the part before the first step and one part per step.
fn segments(trace: &[Value]) -> Result<(Vec<Value>, Vec<StepEvents>), String> {
    let mut pre = Vec::new();
    let mut steps: Vec<StepEvents> = Vec::new();
    for e in trace {
        match e["type"].as_str() {
            Some("harnessError") => return Err(format!("harness error: {}", e["message"])),
            Some("step") => steps.push(Ok(Vec::new())),
            Some("skipped") => steps.push(Err(e["why"].as_str().unwrap_or("skipped").to_string())),
            _ => {
                if let Some(v) = event_json(e) {
                    match steps.last_mut() {
                        Some(Ok(evs)) => evs.push(v),
                        Some(Err(_)) => {}
                        None => pre.push(v),
                    }
                }
            }
        }
    }
    Ok((pre, steps))
}

/// Accepts `trace` only if the model, fed `schedule`, produces exactly the
/// same events in the same order at every step (and skips the same steps).
pub fn validate(schedule: &Schedule, trace: &[Value]) -> Result<(), Divergence> {
    let fail = |step, op: &str, client, model| Divergence {
        step,
        op: op.to_string(),
        client,
        model,
    };
    let (pre, steps) =
        segments(trace).map_err(|e| fail(None, "harness", vec![json!(e)], vec![]))?;
    let mut d = Driver::new(schedule).map_err(|e| fail(None, "setup", vec![], vec![json!(e)]))?;
    let ctx = d.model.ctx.clone();
    let react = d.react;
    let to_json = |obs: Vec<Obs>| -> Vec<Value> {
        obs.iter()
            .filter_map(|o| obs_json(&ctx, o, react))
            .collect()
    };
    let start = to_json(d.start());
    if start != pre {
        return Err(fail(None, "start", pre, start));
    }
    if steps.len() != schedule.steps.len() {
        return Err(fail(
            None,
            "trace",
            vec![json!(format!("{} steps in the trace", steps.len()))],
            vec![json!(format!(
                "{} steps in the schedule",
                schedule.steps.len()
            ))],
        ));
    }
    for (k, (step, client)) in schedule.steps.iter().zip(steps).enumerate() {
        let op = serde_json::to_value(step)
            .map(|v| v["op"].to_string())
            .unwrap_or_default();
        let model = d.step(step).map(to_json);
        match (client, model) {
            (Ok(c), Ok(m)) if c == m => {
                if d.state.anomaly.is_some() {
                    // Both threw here; the model follows no further (the
                    // anomaly is reported by every check that reaches it).
                    return Ok(());
                }
            }
            (Err(_), Err(_)) => {}
            (c, m) => {
                let show = |r: Result<Vec<Value>, String>| match r {
                    Ok(v) => v,
                    Err(why) => vec![json!({"skipped": why})],
                };
                return Err(fail(Some(k), &op, show(c), show(m)));
            }
        }
    }
    Ok(())
}

/// A long-lived `node tests/conformance/run.mjs --serve` process.
pub struct Harness {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Harness {
    /// Starts the harness in `dir` (the `tests/conformance` folder).
    pub fn start(dir: &Path) -> std::io::Result<Harness> {
        let mut child = Command::new("node")
            .arg("run.mjs")
            .arg("--serve")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        Ok(Harness {
            child,
            stdin,
            stdout,
        })
    }

    /// Runs one schedule on the real client and returns its trace.
    pub fn run(&mut self, schedule: &Schedule) -> std::io::Result<Vec<Value>> {
        let line = serde_json::to_string(schedule).map_err(std::io::Error::other)?;
        self.exchange(&line)
    }

    /// Runs a raw JSON schedule (e.g. React mode) and returns its trace.
    pub fn run_json(&mut self, schedule: &Value) -> std::io::Result<Vec<Value>> {
        self.exchange(&schedule.to_string())
    }

    /// Sends one schedule (a line of JSON) and reads the trace it answers.
    fn exchange(&mut self, line: &str) -> std::io::Result<Vec<Value>> {
        writeln!(self.stdin, "{line}")?;
        self.stdin.flush()?;
        let mut out = String::new();
        if self.stdout.read_line(&mut out)? == 0 {
            return Err(std::io::Error::other("the harness exited"));
        }
        let v: Value = serde_json::from_str(&out).map_err(std::io::Error::other)?;
        v["trace"]
            .as_array()
            .cloned()
            .ok_or_else(|| std::io::Error::other(format!("no trace: {v}")))
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Turns a model trace (a path of actions from the initial state) into a
/// client-level schedule: React commits become the client calls they made,
/// provider answers become `answerToken` at the moment the client sees them,
/// and every network and timer step maps to its harness step. Provider-only
/// steps (session changes) have no client-level counterpart: they shaped
/// the answers, which the schedule states directly.
pub fn schedule_from_trace(model: &AuthModel, actions: &[Action]) -> Schedule {
    let (schedule, dropped) = schedule_from_actions(model, actions);
    assert!(dropped.is_empty(), "a trace replays");
    schedule
}

/// [`schedule_from_trace`] for actions that need not all apply in `model`
/// (e.g. a counterexample of the unpatched model replayed on a patched
/// one): an action that does not apply when its turn comes is left out.
/// Returns the schedule and the indices of the actions left out.
pub fn schedule_from_actions(model: &AuthModel, actions: &[Action]) -> (Schedule, Vec<usize>) {
    let ctx = &model.ctx;
    let mut steps = Vec::new();
    let mut dropped = Vec::new();
    let mut s = model.init_state();
    for (k, a) in actions.iter().enumerate() {
        let mut fx = Fx::observing();
        let before = s.clone();
        let Some(next) = model.step(&s, *a, &mut fx) else {
            dropped.push(k);
            continue;
        };
        let obs = fx.obs.unwrap_or_default();
        // The app's calls on the client, whichever step made them (a commit,
        // or a provider change that React committed in the same task). A
        // client or network step makes none: a `clearAuth` there is the
        // client's own (a refetch that returned null), which the harness
        // client makes by itself.
        let app_step = matches!(
            a,
            Action::Commit
                | Action::Effects
                | Action::ProviderResolves
                | Action::ProviderNewFetcher
                | Action::ProviderSignIn { .. }
                | Action::ProviderSignOut { .. }
                | Action::ProviderSignOutSeen
                | Action::ProviderAnswers { .. }
        );
        for o in obs.iter().filter(|_| app_step) {
            match o {
                Obs::Call(Call::SetAuth) => steps.push(Step::SetAuth),
                Obs::Call(Call::ClearAuth) => steps.push(Step::ClearAuth),
                Obs::Call(Call::Subscribe(f)) => steps.push(Step::Subscribe {
                    query: ctx.fn_name(*f).to_string(),
                }),
                Obs::Call(Call::Unsubscribe(f)) => steps.push(Step::Unsubscribe {
                    query: ctx.fn_name(*f).to_string(),
                }),
                Obs::Call(Call::StoreUser) => steps.push(Step::Mutation {
                    name: crate::model::USERS_STORE.to_string(),
                }),
                _ => {}
            }
        }
        match a {
            Action::Commit | Action::Effects => {}
            Action::ClientTokenResolves { fetch } => {
                let f = before.client.fetches[*fetch as usize];
                let token = match f.answer {
                    Some(Answer::Token(Some(t))) => Some(label(t)),
                    Some(Answer::Token(None)) | None => None,
                    Some(Answer::Threw) => Some("throw".to_string()),
                };
                steps.push(Step::AnswerToken {
                    request: f.request.0,
                    token,
                });
            }
            Action::ClientSocketOpens => steps.push(Step::SocketOpen),
            Action::ClientReconnects => steps.push(Step::Timer {
                kind: "reconnect".to_string(),
            }),
            Action::ClientRefetchTimer => steps.push(Step::Timer {
                kind: "refetch".to_string(),
            }),
            Action::ClientReceives { conn } => steps.push(Step::ClientReceive { conn: *conn }),
            Action::ClientCloseCompletes { conn } => {
                steps.push(Step::CloseComplete { conn: *conn })
            }
            Action::ServerReceives { conn, reject, .. } => steps.push(Step::ServerReceive {
                conn: *conn,
                reject: *reject,
            }),
            Action::TokenExpires { conn } => steps.push(Step::Expire { conn: *conn }),
            Action::NetworkDrops { conn } => steps.push(Step::Drop { conn: *conn }),
            Action::ServerWebhook { user } => steps.push(Step::Webhook {
                user: user_name(*user).to_string(),
            }),
            Action::ProviderResolves
            | Action::ProviderNewFetcher
            | Action::ProviderSignIn { .. }
            | Action::ProviderSignOut { .. }
            | Action::ProviderSignOutSeen
            | Action::ProviderAnswers { .. } => {}
        }
        // Tokens held in memory resolve at the end of the task that asked
        // for them: the schedule answers them right after that step.
        for o in &obs {
            if let Obs::TokenResolved { request, answer } = o
                && !matches!(a, Action::ClientTokenResolves { fetch }
                    if before.client.fetches[*fetch as usize].request.0 == *request)
            {
                steps.push(Step::AnswerToken {
                    request: *request,
                    token: match answer {
                        Answer::Token(Some(t)) => Some(label(*t)),
                        Answer::Token(None) => None,
                        Answer::Threw => Some("throw".to_string()),
                    },
                });
            }
        }
        s = next;
    }
    let schedule = Schedule {
        name: None,
        mode: None,
        provider: None,
        components: Vec::new(),
        app: None,
        functions: ctx
            .functions
            .iter()
            .filter(|f| f.name != crate::model::USERS_CURRENT)
            .map(|f| FnDecl {
                name: f.name.clone(),
                auth: f.auth,
            })
            .collect(),
        options: Options {
            expect_auth: ctx.expect_auth,
            initial_auth_token_reuse: ctx.initial_token_reuse,
            patches: Patch::ALL.into_iter().filter(|p| ctx.patched(*p)).collect(),
            version: match ctx.era {
                crate::scenario::Era::V1_20 => Some("1.20.0".to_string()),
                crate::scenario::Era::V1_42 => Some("1.42.0".to_string()),
                crate::scenario::Era::V1_48 => None,
            },
        },
        steps,
    };
    (schedule, dropped)
}

/// Builds a schedule by walking the model: at each point the candidate
/// steps are the ones that apply now (plus a few that do not, so skips are
/// exercised too), and `choices` picks among them. Random choices give
/// schedules that mostly do something; shrinking the choices shrinks the
/// schedule.
pub fn schedule_from_choices(
    functions: &[FnDecl],
    options: Options,
    choices: &[u16],
) -> Result<Schedule, String> {
    let base = Schedule {
        name: None,
        mode: None,
        provider: None,
        components: Vec::new(),
        app: None,
        functions: functions.to_vec(),
        options,
        steps: Vec::new(),
    };
    let mut d = Driver::new(&base)?;
    d.start();
    let mut steps = Vec::with_capacity(choices.len());
    let mut next_issue: u8 = 0;
    let mut handed: Vec<String> = Vec::new();
    for &c in choices {
        let s = &d.state;
        let mut cand: Vec<Step> = Vec::new();
        for f in functions {
            cand.push(Step::Subscribe {
                query: f.name.clone(),
            });
            if s.client
                .queries
                .iter()
                .any(|q| d.model.ctx.fn_name(q.f) == f.name)
            {
                cand.push(Step::Unsubscribe {
                    query: f.name.clone(),
                });
            }
        }
        cand.push(Step::SetAuth);
        cand.push(Step::ClearAuth);
        cand.push(Step::Mutation {
            name: crate::model::USERS_STORE.to_string(),
        });
        for f in s.client.fetches.iter().filter(|f| f.answer.is_none()) {
            let request = f.request.0;
            let fresh = format!("A#{next_issue}");
            let mut tokens = vec![
                Some(fresh.clone()),
                Some(fresh),
                None,
                Some("throw".to_string()),
            ];
            if let Some(t) = s.client.auth {
                tokens.push(Some(label(t)));
            }
            if let Some(old) = handed.first() {
                tokens.push(Some(old.clone()));
            }
            tokens.push(Some(format!("B#{next_issue}")));
            for token in tokens {
                cand.push(Step::AnswerToken { request, token });
            }
        }
        if matches!(s.client.ws, Ws::Connecting { .. }) {
            for _ in 0..3 {
                cand.push(Step::SocketOpen);
            }
        }
        for conn in &s.net {
            let id = conn.id;
            if conn.opened && !conn.server.closed && !conn.up.is_empty() {
                for _ in 0..4 {
                    cand.push(Step::ServerReceive {
                        conn: id,
                        reject: false,
                    });
                }
                if matches!(
                    conn.up[0].frame,
                    ClientFrame::Authenticate { token: Some(_), .. }
                ) {
                    cand.push(Step::ServerReceive {
                        conn: id,
                        reject: true,
                    });
                }
            }
            if !conn.server.closed && conn.server.identity.is_some() {
                cand.push(Step::ServerExpire { conn: id });
            }
            if !conn.down.is_empty() {
                for _ in 0..4 {
                    cand.push(Step::ClientReceive { conn: id });
                }
            }
            if s.client.is_closing(id) {
                cand.push(Step::CloseComplete { conn: id });
            }
            cand.push(Step::Drop { conn: id });
        }
        cand.push(Step::Timer {
            kind: "reconnect".to_string(),
        });
        cand.push(Step::Timer {
            kind: "refetch".to_string(),
        });
        let step = cand[c as usize % cand.len()].clone();
        if let Step::AnswerToken { token: Some(t), .. } = &step
            && t != "throw"
            && parse_label(t).is_ok_and(|tok| tok.seq >= next_issue)
        {
            next_issue = next_issue.saturating_add(1);
            handed.push(t.clone());
        }
        let _ = d.step(&step);
        steps.push(step);
    }
    Ok(Schedule { steps, ..base })
}

impl Driver {
    /// The provider of the model answers pending token request `request`
    /// (as `ProviderAnswers` would) and the client sees the answer at once;
    /// returns the schedule step that reproduces it.
    pub fn answer_from_provider(
        &mut self,
        request: u16,
        transient_null: bool,
    ) -> Result<Step, Skip> {
        let ctx = self.model.ctx.clone();
        let i = self
            .state
            .client
            .fetches
            .iter()
            .position(|f| f.request.0 == request && f.answer.is_none())
            .ok_or_else(|| format!("token request {request} is not pending"))?;
        let mut fx = Fx::observing();
        self.state.violations = 0;
        self.state.triggered = 0;
        self.state.budgets.transient_null = u8::MAX;
        self.state
            .provider_answers(&ctx, i, transient_null, &mut fx);
        let token = match self.state.client.fetches[i].answer {
            Some(Answer::Token(Some(t))) => Some(label(t)),
            Some(Answer::Token(None)) => None,
            Some(Answer::Threw) => Some("throw".to_string()),
            None => unreachable!("just answered"),
        };
        self.state.token_resolves(&ctx, i, &mut fx);
        self.state.run_microtasks(&ctx, &mut fx);
        if self.react {
            self.settle(&mut fx);
        }
        Ok(Step::AnswerToken { request, token })
    }
}

/// Remaining budgets and user actions of a React-mode walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
struct Allow {
    sign_out: bool,
    new_fetcher: bool,
    socket_drops: u8,
    refreshes: u8,
    expiries: u8,
    reject_tokens: u8,
    transient_null: u8,
}

/// A move of a React-mode walk: a schedule step, or the model's provider
/// answering a token request (`transient`: with a transient failure).
#[derive(Clone, Debug)]
enum Move {
    Step(Step),
    Answer { request: u16, transient: bool },
}

/// React-mode walks over a scenario, realizable in the harness: React
/// settles after every step (the harness's `reactAuto`), provider moves are
/// those the scenario allows (`at_load`, `sign_out`, `new_fetcher`; not
/// sign-in or switch), token requests are answered as the model's provider
/// would, and faults stay within their budgets.
pub struct ReactWalk {
    root: Driver,
    base: Schedule,
    allow: Allow,
}

impl ReactWalk {
    pub fn new(scenario: &Scenario) -> Option<ReactWalk> {
        let ctx = Ctx::new(scenario);
        let provider = match ctx.at_load {
            crate::scenario::AtLoad::Loading => ProviderInit {
                is_loading: true,
                is_authenticated: false,
            },
            crate::scenario::AtLoad::SignedIn => ProviderInit {
                is_loading: false,
                is_authenticated: true,
            },
            crate::scenario::AtLoad::SignedOut => ProviderInit {
                is_loading: false,
                is_authenticated: false,
            },
        };
        let base = Schedule {
            name: Some(scenario.name.clone()),
            mode: Some("react".to_string()),
            provider: Some(provider),
            components: scenario
                .components
                .iter()
                .map(|c| CompDecl {
                    name: c.name.get_ref().clone(),
                    query: c.query.get_ref().clone(),
                    gate: *c.gate.get_ref(),
                    instances: *c.instances.get_ref(),
                })
                .collect(),
            app: Some(AppDecl {
                store_user: scenario.app.store_user,
            }),
            functions: scenario
                .functions
                .iter()
                .map(|f| FnDecl {
                    name: f.name.get_ref().clone(),
                    auth: f.auth,
                })
                .collect(),
            options: Options {
                expect_auth: scenario.client.expect_auth,
                initial_auth_token_reuse: scenario.client.initial_token_reuse,
                patches: scenario.client.patches.clone(),
                version: scenario
                    .client
                    .version
                    .as_ref()
                    .map(|v| v.get_ref().clone()),
            },
            steps: Vec::new(),
        };
        let mut root = Driver::new(&base).ok()?;
        root.start();
        let allow = Allow {
            sign_out: ctx.sign_out,
            new_fetcher: ctx.new_fetcher,
            socket_drops: ctx.budgets.socket_drops,
            refreshes: ctx.budgets.refreshes,
            expiries: ctx.budgets.expiries,
            reject_tokens: ctx.budgets.reject_tokens,
            transient_null: ctx.budgets.transient_null,
        };
        Some(ReactWalk { root, base, allow })
    }

    fn moves(state: &State, allow: Allow) -> Vec<(Move, Allow)> {
        use crate::model::provider::Session;
        let mut moves = Vec::new();
        let step = |s: Step| Move::Step(s);
        match state.provider.session {
            Session::Loading => moves.push((
                step(Step::Provider {
                    is_loading: Some(false),
                    is_authenticated: Some(true),
                }),
                allow,
            )),
            Session::SignedIn(_) => {
                if allow.sign_out {
                    moves.push((
                        step(Step::Provider {
                            is_loading: Some(false),
                            is_authenticated: Some(false),
                        }),
                        Allow {
                            sign_out: false,
                            ..allow
                        },
                    ));
                }
                if allow.new_fetcher {
                    moves.push((
                        step(Step::NewFetcher),
                        Allow {
                            new_fetcher: false,
                            ..allow
                        },
                    ));
                }
            }
            Session::SignedOut => {}
        }
        for f in state.client.fetches.iter().filter(|f| f.answer.is_none()) {
            moves.push((
                Move::Answer {
                    request: f.request.0,
                    transient: false,
                },
                allow,
            ));
            if allow.transient_null > 0 {
                moves.push((
                    Move::Answer {
                        request: f.request.0,
                        transient: true,
                    },
                    Allow {
                        transient_null: allow.transient_null - 1,
                        ..allow
                    },
                ));
            }
        }
        moves.push((step(Step::SocketOpen), allow));
        for c in &state.net {
            let conn = c.id;
            moves.push((
                step(Step::ServerReceive {
                    conn,
                    reject: false,
                }),
                allow,
            ));
            if allow.reject_tokens > 0 {
                moves.push((
                    step(Step::ServerReceive { conn, reject: true }),
                    Allow {
                        reject_tokens: allow.reject_tokens - 1,
                        ..allow
                    },
                ));
            }
            if allow.expiries > 0 {
                moves.push((
                    step(Step::ServerExpire { conn }),
                    Allow {
                        expiries: allow.expiries - 1,
                        ..allow
                    },
                ));
            }
            moves.push((step(Step::ClientReceive { conn }), allow));
            moves.push((step(Step::CloseComplete { conn }), allow));
            if allow.socket_drops > 0 {
                moves.push((
                    step(Step::Drop { conn }),
                    Allow {
                        socket_drops: allow.socket_drops - 1,
                        ..allow
                    },
                ));
            }
        }
        moves.push((
            step(Step::Timer {
                kind: "reconnect".to_string(),
            }),
            allow,
        ));
        if allow.refreshes > 0 {
            moves.push((
                step(Step::Timer {
                    kind: "refetch".to_string(),
                }),
                Allow {
                    refreshes: allow.refreshes - 1,
                    ..allow
                },
            ));
        }
        moves
    }

    fn driver(&self, state: &State) -> Driver {
        Driver {
            model: self.root.model.clone(),
            state: state.clone(),
            react: true,
        }
    }

    /// Applies a move; `None` when it does not apply (a transient failure
    /// can only hit a request that goes to the network).
    fn apply(&self, state: &State, m: &Move) -> Option<(Driver, Step)> {
        let mut d = self.driver(state);
        let s = match m {
            Move::Step(s) => {
                d.step(s).ok()?;
                s.clone()
            }
            Move::Answer { request, transient } => {
                if *transient {
                    let mut probe = self.driver(state);
                    let before = probe.state.provider.issued;
                    probe.answer_from_provider(*request, false).ok()?;
                    if probe.state.provider.issued == before {
                        return None;
                    }
                }
                d.answer_from_provider(*request, *transient).ok()?
            }
        };
        (d.state.anomaly.is_none()).then_some((d, s))
    }

    /// The shortest walk into a state that violates `p`, within `max_states`.
    pub fn counterexample(
        &self,
        p: crate::scenario::properties::PropertyId,
        max_states: usize,
    ) -> Option<Schedule> {
        use std::collections::{HashSet, VecDeque};
        let violates = |d: &Driver| !d.model.holds(p, &d.state);
        if violates(&self.root) {
            return Some(self.base.clone());
        }
        let mut seen: HashSet<(State, Allow)> = HashSet::new();
        seen.insert((self.root.state.clone(), self.allow));
        let mut queue: VecDeque<(State, Allow, Vec<Step>)> = VecDeque::new();
        queue.push_back((self.root.state.clone(), self.allow, Vec::new()));
        while let Some((state, allow, path)) = queue.pop_front() {
            if seen.len() > max_states {
                return None;
            }
            for (m, next_allow) in Self::moves(&state, allow) {
                let Some((d, s)) = self.apply(&state, &m) else {
                    continue;
                };
                let mut next_path = path.clone();
                next_path.push(s);
                if violates(&d) {
                    return Some(Schedule {
                        steps: next_path,
                        ..self.base.clone()
                    });
                }
                if seen.insert((d.state.clone(), next_allow)) {
                    queue.push_back((d.state, next_allow, next_path));
                }
            }
        }
        None
    }

    /// A walk whose moves `choices` pick among those that apply.
    pub fn walk(&self, choices: &[u16]) -> Schedule {
        let mut state = self.root.state.clone();
        let mut allow = self.allow;
        let mut steps = Vec::new();
        for &c in choices {
            let options: Vec<(Driver, Step, Allow)> = Self::moves(&state, allow)
                .into_iter()
                .filter_map(|(m, a)| self.apply(&state, &m).map(|(d, s)| (d, s, a)))
                .collect();
            if options.is_empty() {
                break;
            }
            let n = options.len();
            let (d, s, a) = options.into_iter().nth(c as usize % n).expect("in range");
            state = d.state;
            allow = a;
            steps.push(s);
        }
        Schedule {
            steps,
            ..self.base.clone()
        }
    }
}
