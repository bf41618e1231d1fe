//! The Convex client (`BaseConvexClient`, npm `convex@1.48.0`).
//!
//! Four cooperating parts, each mirrored field by field:
//! * `AuthenticationManager` (`src/browser/sync/authentication_manager.ts`):
//!   the six auth states, the `configVersion` race guard (a pending token
//!   fetch is *current* until another fetch starts), the confirmation attempts;
//! * `WebSocketManager` (`web_socket_manager.ts`): disconnected / connecting /
//!   ready with its pause flag / stopped;
//! * `LocalSyncState` (`local_state.ts`): query set, pending modifications
//!   while paused, the auth token and identity version;
//! * `RequestManager` (`request_manager.ts`) for the `users:store` mutation.
//!
//! JavaScript runs one macrotask at a time; an `async` function runs until
//! its first `await` inside the step that called it, and its continuation is
//! a later step ([`Action::ClientTokenResolves`], [`Action::ClientCloseCompletes`]).

use super::msg::{
    ClientFrame, ConnId, FnIdx, Outcome, QueryId, QueryMod, Sent, ServerFrame, Small, Token,
};
use super::server::Conn;
use super::{Action, Actor, Anomaly, Call, Ctx, Fx, Obs, State, TimerKind};
use crate::scenario::properties::PropertyId;
use crate::scenario::{Era, Patch};

/// `Socket` of `web_socket_manager.ts` (`terminated` is unreachable: the app
/// never closes the client). `Uncreated`: `ConvexReactClient.sync` has not
/// been read yet, so no `BaseConvexClient` exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ws {
    Uncreated,
    Disconnected,
    Connecting {
        conn: ConnId,
        paused: bool,
    },
    Ready {
        conn: ConnId,
        paused: Paused,
    },
    Stopped,
    /// `terminate()` ran (after a `FatalError`): nothing reconnects, ever.
    Terminated,
}

/// The `paused` flag of a ready socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Paused {
    No,
    Yes,
    /// Opened while paused: `onOpen` has not run yet.
    Uninitialized,
}

/// `AuthState` of `authentication_manager.ts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthState {
    NoAuth,
    WaitingForServerConfirmationOfCachedToken {
        has_retried: bool,
    },
    InitialRefetch,
    WaitingForServerConfirmationOfFreshToken {
        had_auth: bool,
        token: Token,
    },
    /// `timer`: the refetch timeout is still armed.
    WaitingForScheduledRefetch {
        timer: bool,
    },
    NotRefetching,
}

impl AuthState {
    pub fn name(self) -> &'static str {
        match self {
            AuthState::NoAuth => "noAuth",
            AuthState::WaitingForServerConfirmationOfCachedToken { .. } => {
                "waitingForServerConfirmationOfCachedToken"
            }
            AuthState::InitialRefetch => "initialRefetch",
            AuthState::WaitingForServerConfirmationOfFreshToken { .. } => {
                "waitingForServerConfirmationOfFreshToken"
            }
            AuthState::WaitingForScheduledRefetch { .. } => "waitingForScheduledRefetch",
            AuthState::NotRefetching => "notRefetching",
        }
    }
}

/// What runs when a token fetch resolves: the code after the `await` in
/// the function that started it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cont {
    /// `setConfig` after `fetchToken({forceRefreshToken:false})`.
    SetConfig,
    /// `refetchToken` awaited by `setConfig` (state `initialRefetch`); the
    /// rest of `setConfig` (`resumeSocket`) runs after it, even when stale.
    SetConfigRefetch,
    /// `refetchToken` (after a cached-token confirmation, or the timer).
    Refetch,
    /// `tryToReauthenticate` after its forced fetch.
    Reauth,
}

/// How a token request settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Answer {
    /// The promise resolved with a token or null.
    Token(Option<Token>),
    /// The promise rejected (Convex Auth's `fetchAccessToken` throws on
    /// network and server errors; nothing in the client catches it).
    Threw,
}

/// How a token request is answered (see [`crate::model::provider`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Via {
    /// From memory: settled before the calling task ends; the continuation
    /// runs at the end of the calling step (`State::run_microtasks`).
    Memory,
    /// A request to the provider's backend, named `req` (calls that joined
    /// it share it), sent with the session cookie of `cookie`.
    Network {
        req: u8,
        cookie: Option<super::msg::User>,
    },
    /// A `custom` provider: answered in a later step from its state then.
    Deferred,
}

/// A token request in flight (`fetchTokenAndGuardAgainstRace`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fetch {
    /// The request's number over the whole run (for conformance traces;
    /// never read by the model, so not part of the state's identity).
    pub request: Meta<u16>,
    /// `configVersion` has not moved since this fetch started.
    pub current: bool,
    pub forced: bool,
    pub cont: Cont,
    pub via: Via,
    /// `None` until the provider answers.
    pub answer: Option<Answer>,
}

/// Bookkeeping that the model never reads: equal and hashed as nothing, so
/// it cannot split states.
#[derive(Clone, Copy, Debug, Default)]
pub struct Meta<T>(pub T);

impl<T> PartialEq for Meta<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<T> Eq for Meta<T> {}
impl<T> std::hash::Hash for Meta<T> {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// An entry of `LocalSyncState.querySet`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LocalQuery {
    pub f: FnIdx,
    pub id: QueryId,
    pub subscribers: u8,
}

/// An entry of `RequestManager.inflightRequests` (the `users:store` mutation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    pub id: u8,
    pub status: RequestStatus,
}

/// `RequestStatus` of `request_manager.ts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    /// `sendMessage` dropped it; `resume()`/`restart()` send it.
    NotSent,
    Requested,
    /// A successful response arrived; it stays until a Transition reaches
    /// the commit's timestamp, and `restart()` sends it again meanwhile.
    Completed,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Client {
    pub ws: Ws,
    pub next_conn: ConnId,
    /// Sockets `stop()` (or `terminate()`) is closing, oldest first, each
    /// with the number of `tryToReauthenticate` calls awaiting its close:
    /// every `stop()` awaits its own socket's close (`web_socket_manager.ts`
    /// `close()` resolves on that socket's `onclose`).
    pub closing: Small<(ConnId, u8), 2>,
    // LocalSyncState
    pub auth: Option<Token>,
    pub identity_version: u8,
    pub paused: bool,
    pub queries: Small<LocalQuery, 4>,
    pub next_query: QueryId,
    /// `LocalSyncState.querySetVersion`.
    pub query_set_version: u8,
    pub pending: Small<QueryMod, 4>,
    // RemoteQuerySet of the current socket, by query id.
    pub remote: Small<(QueryId, Outcome), 4>,
    /// The connection whose Transitions the RemoteQuerySet applied since it
    /// was last reset (`None`: reset by onOpen, at the initial version).
    pub remote_from: Option<ConnId>,
    /// OptimisticQueryResults as of the last Transition, by function
    /// (the query token: every component passes the same arguments).
    pub view: Small<(FnIdx, Outcome), 4>,
    // AuthenticationManager
    pub auth_state: AuthState,
    pub attempts: u8,
    /// The `onChange` callback of the last `setAuth` is still relevant
    /// (`isThisEffectRelevant` of `ConvexAuthStateFirstEffect`).
    pub callbacks_live: bool,
    pub fetches: Small<Fetch, 3>,
    // RequestManager
    pub requests: Small<Request, 2>,
    pub next_request: u8,
    /// Token requests made so far (bookkeeping, see [`Meta`]).
    pub token_requests: Meta<u16>,
}

impl Client {
    pub fn initial() -> Client {
        Client {
            ws: Ws::Uncreated,
            next_conn: 0,
            closing: Small::new(),
            auth: None,
            identity_version: 0,
            paused: false,
            queries: Small::new(),
            next_query: 0,
            query_set_version: 0,
            pending: Small::new(),
            remote: Small::new(),
            remote_from: None,
            view: Small::new(),
            auth_state: AuthState::NoAuth,
            attempts: 0,
            callbacks_live: false,
            fetches: Small::new(),
            requests: Small::new(),
            next_request: 0,
            token_requests: Meta(0),
        }
    }

    /// The connection the client's socket is on, if any.
    pub fn conn(&self) -> Option<ConnId> {
        match self.ws {
            Ws::Connecting { conn, .. } | Ws::Ready { conn, .. } => Some(conn),
            _ => None,
        }
    }

    pub fn view_of(&self, f: FnIdx) -> Option<Outcome> {
        self.view.iter().find(|(g, _)| *g == f).map(|(_, o)| *o)
    }

    /// Whether a `stop()` or `terminate()` is closing `conn`.
    pub fn is_closing(&self, conn: ConnId) -> bool {
        self.closing.iter().any(|(c, _)| *c == conn)
    }

    fn query_of(&self, f: FnIdx) -> Option<LocalQuery> {
        self.queries.iter().find(|q| q.f == f).copied()
    }
}

impl State {
    pub(crate) fn client_actions(&self, ctx: &Ctx, actions: &mut Vec<Action>) {
        let c = &self.client;
        for (i, f) in c.fetches.iter().enumerate() {
            if f.answer.is_some() && f.via != Via::Memory {
                actions.push(Action::ClientTokenResolves { fetch: i as u8 });
            }
        }
        match c.ws {
            Ws::Disconnected => actions.push(Action::ClientReconnects),
            Ws::Connecting { conn, .. } if self.conn(conn).is_some() => {
                actions.push(Action::ClientSocketOpens)
            }
            _ => {}
        }
        for conn in &self.net {
            let listening = c.conn() == Some(conn.id) || c.is_closing(conn.id);
            if listening && !conn.down.is_empty() {
                actions.push(Action::ClientReceives { conn: conn.id });
            }
            if c.is_closing(conn.id) && conn.up.is_empty() && !conn.server.closed {
                actions.push(Action::ClientCloseCompletes { conn: conn.id });
            }
        }
        if matches!(
            c.auth_state,
            AuthState::WaitingForScheduledRefetch { timer: true }
        ) && self.budgets.refreshes > 0
        {
            actions.push(Action::ClientRefetchTimer);
        }
        let _ = ctx;
    }

    pub(crate) fn conn(&self, id: ConnId) -> Option<&Conn> {
        self.net.iter().find(|c| c.id == id)
    }

    pub(crate) fn conn_mut(&mut self, id: ConnId) -> Option<&mut Conn> {
        self.net.iter_mut().find(|c| c.id == id)
    }

    // ---------------------------------------------------------------------
    // WebSocketManager
    // ---------------------------------------------------------------------

    /// `ConvexReactClient.sync`: the first read constructs `BaseConvexClient`,
    /// whose `WebSocketManager` constructor calls `connect()`, and whose
    /// constructor ends with `pauseSocket()` when `expectAuth` is set.
    pub(crate) fn client_sync(&mut self, ctx: &Ctx, fx: &mut Fx) {
        if self.client.ws == Ws::Uncreated {
            fx.obs(|| Obs::ClientCreated);
            self.ws_connect(fx);
            if ctx.expect_auth {
                self.pause_socket();
                fx.note(Actor::Client, Actor::Client, || {
                    "expectAuth: socket paused until the first token".to_string()
                });
            }
        }
    }

    /// `WebSocketManager.connect()`: a new socket, `paused: "no"`.
    fn ws_connect(&mut self, fx: &mut Fx) {
        let conn = self.client.next_conn;
        self.client.next_conn += 1;
        self.net.push(Conn::new(conn));
        self.client.ws = Ws::Connecting {
            conn,
            paused: false,
        };
        fx.note(Actor::Client, Actor::Client, || {
            format!("connect(): new WebSocket (conn {conn})")
        });
        fx.obs(|| Obs::SocketCreated(conn));
    }

    /// `WebSocketManager.sendMessage`: sent only when ready and not paused;
    /// otherwise dropped (local state rebuilds what must be sent).
    fn send(&mut self, frame: ClientFrame, ctx: &Ctx, fx: &mut Fx) -> bool {
        if let Ws::Ready {
            conn,
            paused: Paused::No,
        } = self.client.ws
        {
            if fx.on() {
                let d = frame.describe(&|f| ctx.fn_short(f));
                fx.note(Actor::Client, Actor::Client, || format!("sends {d}"));
            }
            fx.obs(|| Obs::Send(conn, frame.clone()));
            let stamp = self.app.signed_out;
            if let ClientFrame::Authenticate { token: Some(t), .. } = frame
                && stamp & (1 << t.user) != 0
            {
                self.violate(PropertyId::NoStaleIdentity);
                fx.violation(Actor::Client, PropertyId::NoStaleIdentity, || {
                    format!("Authenticate carries {t} after the app committed its user's sign-out")
                });
            }
            let c = self.conn_mut(conn).expect("ready socket has a connection");
            c.up.push(Sent {
                frame,
                signed_out_at_send: stamp,
            });
            true
        } else {
            if fx.on() {
                let d = frame.describe(&|f| ctx.fn_short(f));
                let why = match self.client.ws {
                    Ws::Ready { .. } => "socket paused",
                    Ws::Connecting { .. } => "socket connecting",
                    Ws::Disconnected => "socket disconnected",
                    Ws::Stopped => "socket stopped",
                    Ws::Terminated => "client terminated",
                    Ws::Uncreated => "no socket",
                };
                fx.note(Actor::Client, Actor::Client, || {
                    format!("{d} not sent ({why})")
                });
            }
            false
        }
    }

    /// `BaseConvexClient` `pauseSocket`: `webSocketManager.pause()` (ignored
    /// unless connecting or ready) and `state.pause()`.
    fn pause_socket(&mut self) {
        match &mut self.client.ws {
            Ws::Connecting { paused, .. } => *paused = true,
            Ws::Ready { paused, .. } => *paused = Paused::Yes,
            _ => {}
        }
        self.client.paused = true;
    }

    /// `WebSocketManager.resume()`.
    fn resume_socket(&mut self, ctx: &Ctx, fx: &mut Fx) {
        match self.client.ws {
            Ws::Connecting { conn, .. } => {
                self.client.ws = Ws::Connecting {
                    conn,
                    paused: false,
                }
            }
            Ws::Ready {
                conn,
                paused: Paused::Uninitialized,
            } => {
                self.client.ws = Ws::Ready {
                    conn,
                    paused: Paused::No,
                };
                self.on_open(ctx, fx);
            }
            Ws::Ready {
                conn,
                paused: Paused::Yes,
            } => {
                self.client.ws = Ws::Ready {
                    conn,
                    paused: Paused::No,
                };
                self.on_resume(ctx, fx);
            }
            _ => {}
        }
    }

    /// `WebSocketManager.stop()`: closes the socket; the returned promise
    /// resolves when that socket has closed. Returns the connection whose
    /// close it awaits, or `None` when it resolves at once (no socket: from
    /// `stopped`, `close()` returns a resolved promise).
    fn stop_socket(&mut self, fx: &mut Fx) -> Option<ConnId> {
        if self.client.ws == Ws::Terminated {
            return None;
        }
        let closing = self.client.conn();
        self.client.ws = Ws::Stopped;
        let conn = closing?;
        self.client.closing.push((conn, 0));
        fx.obs(|| Obs::ClientClose(conn));
        Some(conn)
    }

    /// `WebSocketManager.tryRestart()`: only from `stopped`.
    fn try_restart_socket(&mut self, fx: &mut Fx) {
        if self.client.ws == Ws::Stopped {
            fx.note(Actor::Client, Actor::Client, || {
                "tryRestartSocket(): restarting the stopped socket".to_string()
            });
            self.ws_connect(fx);
        }
    }

    /// `ws.onclose` with the reconnecting handler: `scheduleReconnect` (the
    /// pause flag is forgotten; the next socket starts unpaused).
    fn on_close(&mut self, conn: ConnId, fx: &mut Fx) {
        fx.obs(|| Obs::Closed(conn));
        fx.obs(|| Obs::TimerSet(TimerKind::Reconnect));
        self.client.ws = Ws::Disconnected;
        fx.note(Actor::Client, Actor::Client, || {
            "socket closed: scheduleReconnect (pause flag forgotten)".to_string()
        });
    }

    pub(crate) fn reconnect_timer(&mut self, _ctx: &Ctx, fx: &mut Fx) -> bool {
        self.ws_connect(fx);
        true
    }

    /// `ws.onopen`: ready; `onOpen` runs unless paused.
    pub(crate) fn socket_opens(&mut self, ctx: &Ctx, fx: &mut Fx) -> bool {
        let Ws::Connecting { conn, paused } = self.client.ws else {
            return false;
        };
        self.conn_mut(conn)
            .expect("connecting socket has a connection")
            .opened = true;
        if paused {
            self.client.ws = Ws::Ready {
                conn,
                paused: Paused::Uninitialized,
            };
            fx.note(Actor::Client, Actor::Client, || {
                format!("socket open (conn {conn}) but paused: onOpen deferred")
            });
        } else {
            self.client.ws = Ws::Ready {
                conn,
                paused: Paused::No,
            };
            fx.note(Actor::Client, Actor::Client, || {
                format!("socket open (conn {conn})")
            });
            self.on_open(ctx, fx);
        }
        true
    }

    /// `BaseConvexClient` `onOpen`: Connect, a fresh `RemoteQuerySet`, then
    /// `LocalSyncState.restart()`: Authenticate (if auth is set),
    /// ModifyQuerySet of every query, then `RequestManager.restart()`.
    fn on_open(&mut self, ctx: &Ctx, fx: &mut Fx) {
        self.send(ClientFrame::Connect, ctx, fx);
        self.client.remote.clear();
        self.client.remote_from = None;
        // LocalSyncState.restart()
        self.client.paused = false;
        self.client.pending.clear();
        let mods: Small<QueryMod, 4> = self
            .client
            .queries
            .iter()
            .map(|q| QueryMod::Add(q.id, q.f))
            .collect();
        let auth = self.client.auth;
        self.client.identity_version = if auth.is_some() { 1 } else { 0 };
        if let Some(t) = auth {
            self.send(
                ClientFrame::Authenticate {
                    token: Some(t),
                    base: 0,
                },
                ctx,
                fx,
            );
        }
        self.client.query_set_version = 1;
        self.send(
            ClientFrame::ModifyQuerySet {
                base: 0,
                new: 1,
                mods,
            },
            ctx,
            fx,
        );
        // RequestManager.restart(): every in-flight mutation is sent again.
        let ids: Vec<u8> = self.client.requests.iter().map(|r| r.id).collect();
        for r in &mut self.client.requests {
            if r.status == RequestStatus::NotSent {
                r.status = RequestStatus::Requested;
            }
        }
        for id in ids {
            self.send(ClientFrame::StoreUser { request: id }, ctx, fx);
        }
    }

    /// `BaseConvexClient` `onResume`: `LocalSyncState.resume()` — Authenticate
    /// (if auth is set) then the pending ModifyQuerySet — then the unsent mutations.
    fn on_resume(&mut self, ctx: &Ctx, fx: &mut Fx) {
        let mods = std::mem::take(&mut self.client.pending);
        let query_set = (!mods.is_empty()).then(|| {
            let base = self.client.query_set_version;
            self.client.query_set_version += 1;
            ClientFrame::ModifyQuerySet {
                base,
                new: base + 1,
                mods,
            }
        });
        let auth = self.client.auth.map(|t| {
            let base = self.client.identity_version;
            self.client.identity_version += 1;
            ClientFrame::Authenticate {
                token: Some(t),
                base,
            }
        });
        self.client.paused = false;
        if let Some(a) = auth {
            self.send(a, ctx, fx);
        }
        if let Some(q) = query_set {
            self.send(q, ctx, fx);
        }
        let unsent: Vec<u8> = self
            .client
            .requests
            .iter()
            .filter(|r| r.status == RequestStatus::NotSent)
            .map(|r| r.id)
            .collect();
        for r in &mut self.client.requests {
            if r.status == RequestStatus::NotSent {
                r.status = RequestStatus::Requested;
            }
        }
        for id in unsent {
            self.send(ClientFrame::StoreUser { request: id }, ctx, fx);
        }
    }

    // ---------------------------------------------------------------------
    // LocalSyncState + BaseConvexClient query and auth entry points
    // ---------------------------------------------------------------------

    /// `BaseConvexClient.subscribe` -> `LocalSyncState.subscribe`.
    pub(crate) fn client_subscribe(&mut self, ctx: &Ctx, f: FnIdx, fx: &mut Fx) {
        self.client_sync(ctx, fx);
        fx.obs(|| Obs::Call(Call::Subscribe(f)));
        if let Some(q) = self.client.queries.iter_mut().find(|q| q.f == f) {
            q.subscribers += 1;
            return;
        }
        let id = self.client.next_query;
        self.client.next_query += 1;
        self.client.queries.push(LocalQuery {
            f,
            id,
            subscribers: 1,
        });
        if self.client.paused {
            self.client.pending.push(QueryMod::Add(id, f));
            fx.note(Actor::Client, Actor::Client, || {
                format!("subscribe {} parked (paused)", ctx.fn_short(f))
            });
        } else {
            let base = self.client.query_set_version;
            self.client.query_set_version += 1;
            self.send(
                ClientFrame::ModifyQuerySet {
                    base,
                    new: base + 1,
                    mods: Small::one(QueryMod::Add(id, f)),
                },
                ctx,
                fx,
            );
        }
    }

    /// The `unsubscribe` closure of `BaseConvexClient.subscribe` ->
    /// `LocalSyncState.removeSubscriber`.
    pub(crate) fn client_unsubscribe(&mut self, ctx: &Ctx, f: FnIdx, fx: &mut Fx) {
        let Some(q) = self.client.query_of(f) else {
            return;
        };
        fx.obs(|| Obs::Call(Call::Unsubscribe(f)));
        if q.subscribers > 1 {
            if let Some(q) = self.client.queries.iter_mut().find(|q| q.f == f) {
                q.subscribers -= 1;
            }
            return;
        }
        self.client.queries.retain(|x| x.f != f);
        if self.client.paused {
            if let Some(pos) = self
                .client
                .pending
                .iter()
                .position(|m| *m == QueryMod::Add(q.id, f))
            {
                self.client.pending.remove(pos);
            } else {
                self.client.pending.push(QueryMod::Remove(q.id));
            }
            fx.note(Actor::Client, Actor::Client, || {
                format!("unsubscribe {} parked (paused)", ctx.fn_short(f))
            });
        } else {
            let base = self.client.query_set_version;
            self.client.query_set_version += 1;
            self.send(
                ClientFrame::ModifyQuerySet {
                    base,
                    new: base + 1,
                    mods: Small::one(QueryMod::Remove(q.id)),
                },
                ctx,
                fx,
            );
        }
    }

    /// `BaseConvexClient.clearAuth()` -> `LocalSyncState.clearAuth()` and an
    /// `Authenticate{tokenType:"None"}`. The AuthenticationManager is not
    /// touched: its refetch timer and any fetch in flight survive.
    pub(crate) fn client_clear_auth(&mut self, ctx: &Ctx, fx: &mut Fx) {
        self.client_sync(ctx, fx);
        fx.obs(|| Obs::Call(Call::ClearAuth));
        let base = self.local_clear_auth();
        self.send(ClientFrame::Authenticate { token: None, base }, ctx, fx);
    }

    /// The app's `clearAuth()` (`ConvexAuthStateLastEffect`'s cleanup). With
    /// `clear-auth-resets-manager` it also resets the AuthenticationManager:
    /// `configVersion` bumps (every fetch in flight is discarded when it
    /// returns), the refetch timer is cancelled, a socket paused by the
    /// superseded `setAuth` resumes and one a reauthentication stopped
    /// restarts.
    pub(crate) fn app_clear_auth(&mut self, ctx: &Ctx, fx: &mut Fx) {
        self.client_clear_auth(ctx, fx);
        if !ctx.patched(Patch::ClearAuthResetsManager) {
            return;
        }
        for f in &mut self.client.fetches {
            f.current = false;
        }
        fx.note(Actor::Client, Actor::Client, || {
            "clearAuth resets the auth manager (patch clear-auth-resets-manager)".to_string()
        });
        // Clears an armed refetch timer.
        self.set_auth_state(AuthState::NoAuth, fx);
        self.resume_socket(ctx, fx);
        // A socket a reauthentication stopped: its continuation is now
        // stale, so nothing else would restart it.
        self.try_restart_socket(fx);
    }

    /// `LocalSyncState.clearAuth()`; returns the message's base version.
    fn local_clear_auth(&mut self) -> u8 {
        self.client.auth = None;
        let base = self.client.identity_version;
        if !self.client.paused {
            self.client.identity_version += 1;
        }
        base
    }

    /// The `authenticate` callback: `LocalSyncState.setAuth` + send.
    fn authenticate(&mut self, t: Token, ctx: &Ctx, fx: &mut Fx) {
        self.client.auth = Some(t);
        let base = self.client.identity_version;
        if !self.client.paused {
            self.client.identity_version += 1;
        }
        self.send(
            ClientFrame::Authenticate {
                token: Some(t),
                base,
            },
            ctx,
            fx,
        );
    }

    /// `BaseConvexClient.mutation(users.store)` -> `RequestManager.request`.
    pub(crate) fn client_store_user(&mut self, ctx: &Ctx, fx: &mut Fx) {
        self.client_sync(ctx, fx);
        fx.obs(|| Obs::Call(Call::StoreUser));
        let id = self.client.next_request;
        self.client.next_request += 1;
        let sent = self.send(ClientFrame::StoreUser { request: id }, ctx, fx);
        self.client.requests.push(Request {
            id,
            status: if sent {
                RequestStatus::Requested
            } else {
                RequestStatus::NotSent
            },
        });
    }

    // ---------------------------------------------------------------------
    // AuthenticationManager
    // ---------------------------------------------------------------------

    /// `setAuthState`: leaving `waitingForScheduledRefetch` clears the
    /// timeout; entering a settled state resets the confirmation attempts.
    fn set_auth_state(&mut self, s: AuthState, fx: &mut Fx) {
        if matches!(
            self.client.auth_state,
            AuthState::WaitingForScheduledRefetch { timer: true }
        ) {
            fx.obs(|| Obs::TimerCleared(TimerKind::Refetch));
        }
        if matches!(
            s,
            AuthState::WaitingForScheduledRefetch { .. }
                | AuthState::NotRefetching
                | AuthState::NoAuth
        ) {
            self.client.attempts = 0;
        }
        self.client.auth_state = s;
    }

    /// `client.setAuth` -> `AuthenticationManager.setConfig`, up to its
    /// first `await`: reset to noAuth, pause the socket, start a
    /// non-forced token fetch.
    pub(crate) fn client_set_auth(&mut self, ctx: &Ctx, fx: &mut Fx) {
        self.client_sync(ctx, fx);
        fx.obs(|| Obs::Call(Call::SetAuth));
        self.set_auth_state(AuthState::NoAuth, fx);
        self.pause_socket();
        self.client.callbacks_live = true;
        fx.note(Actor::React, Actor::Client, || {
            "setAuth(fetchAccessToken): socket paused for the token fetch".to_string()
        });
        self.start_fetch(ctx, false, Cont::SetConfig, fx);
    }

    /// `fetchTokenAndGuardAgainstRace` up to its `await`: bumps
    /// `configVersion` (every fetch in flight becomes stale) and asks the provider.
    fn start_fetch(&mut self, ctx: &Ctx, forced: bool, cont: Cont, fx: &mut Fx) {
        for f in &mut self.client.fetches {
            f.current = false;
        }
        // A stale fetch whose continuation does nothing once stale need not
        // be kept after the provider answered it.
        self.client.fetches.retain(|f| {
            f.answer.is_none()
                || (f.cont == Cont::SetConfigRefetch && f.answer != Some(Answer::Threw))
        });
        let request = self.client.token_requests.0;
        self.client.token_requests.0 = request.wrapping_add(1);
        let (via, answer) = self.fetch_via(ctx, forced);
        self.client.fetches.push(Fetch {
            request: Meta(request),
            current: true,
            forced,
            cont,
            via,
            answer,
        });
        fx.note(Actor::Client, Actor::Provider, || {
            let how = match (via, answer) {
                (Via::Memory, Some(Answer::Token(Some(t)))) => format!(" answers {t} from memory"),
                (Via::Memory, _) => " answers null from memory".to_string(),
                (Via::Network { .. }, _) => " (a request to the provider's backend)".to_string(),
                (Via::Deferred, _) => String::new(),
            };
            format!("fetchAccessToken({{forceRefreshToken:{forced}}}){how}")
        });
        fx.obs(|| Obs::TokenRequest { request, forced });
    }

    /// The microtasks at the end of a task: the continuations of token
    /// requests answered from memory during it, in the order they were made
    /// (each may start another).
    pub(crate) fn run_microtasks(&mut self, ctx: &Ctx, fx: &mut Fx) {
        while self.anomaly.is_none() {
            let Some(i) = self
                .client
                .fetches
                .iter()
                .position(|f| f.via == Via::Memory && f.answer.is_some())
            else {
                return;
            };
            self.token_resolves(ctx, i, fx);
        }
    }

    /// The continuation of the `await fetchToken(...)` of fetch `i`.
    pub(crate) fn token_resolves(&mut self, ctx: &Ctx, i: usize, fx: &mut Fx) -> bool {
        let f = self.client.fetches.remove(i);
        let answer = f.answer.expect("only answered fetches resolve");
        fx.obs(|| Obs::TokenResolved {
            request: f.request.0,
            answer,
        });
        let token = match answer {
            Answer::Token(t) => t,
            Answer::Threw => {
                // `await fetchToken(...)` rethrows: the async function (and
                // `setConfig` awaiting `refetchToken`) rejects; nothing after
                // the await runs, so a paused socket stays paused and a
                // stopped one stays stopped.
                fx.note(Actor::Client, Actor::Client, || {
                    "fetchAccessToken threw: the awaiting auth flow rejects (uncaught)".to_string()
                });
                fx.obs(|| Obs::UnhandledRejection);
                return true;
            }
        };
        if !f.current {
            fx.note(Actor::Client, Actor::Client, || {
                "token from an outdated config version: discarded".to_string()
            });
            if f.cont == Cont::SetConfigRefetch && ctx.era > Era::V1_20 {
                // refetchToken returned early; setConfig goes on to resume
                // (before 1.21.0 setConfig resumes only after a cached
                // token, so a stale initial refetch leaves the socket paused).
                self.resume_socket(ctx, fx);
            }
            return true;
        }
        match f.cont {
            Cont::SetConfig => {
                if let Some(t) = token {
                    self.set_auth_state(
                        AuthState::WaitingForServerConfirmationOfCachedToken { has_retried: false },
                        fx,
                    );
                    self.authenticate(t, ctx, fx);
                    self.resume_socket(ctx, fx);
                } else {
                    self.set_auth_state(AuthState::InitialRefetch, fx);
                    self.refetch_token(ctx, Cont::SetConfigRefetch, fx);
                }
            }
            Cont::SetConfigRefetch | Cont::Refetch => {
                self.refetch_continues(token, ctx, fx);
                if f.cont == Cont::SetConfigRefetch && ctx.era > Era::V1_20 {
                    self.resume_socket(ctx, fx);
                }
            }
            Cont::Reauth => self.reauth_continues(token, ctx, fx),
        }
        true
    }

    /// `refetchToken` up to its `await`.
    fn refetch_token(&mut self, ctx: &Ctx, cont: Cont, fx: &mut Fx) {
        if self.client.auth_state == AuthState::NoAuth {
            return;
        }
        self.start_fetch(ctx, true, cont, fx);
    }

    /// `refetchToken` after its fetch.
    fn refetch_continues(&mut self, token: Option<Token>, ctx: &Ctx, fx: &mut Fx) {
        if self.client.auth_state == AuthState::NoAuth {
            // `this.authState.config` of noAuth is undefined: the null
            // branch reads `.onAuthChange` of it and throws after its
            // clearAuth(); the token branches go on with `config:
            // undefined`, which throws at the next confirmation or setAuth.
            if token.is_none() && self.client.auth.is_some() {
                self.client_clear_auth(ctx, fx);
            }
            let a = if token.is_none() {
                Anomaly::ConfigReadInNoAuth
            } else {
                Anomaly::ConfigLost
            };
            self.anomaly(a, fx);
            return;
        }
        match token {
            Some(t) if self.client.auth != Some(t) => {
                let had_auth = self.client.auth.is_some();
                self.set_auth_state(
                    AuthState::WaitingForServerConfirmationOfFreshToken { had_auth, token: t },
                    fx,
                );
                self.authenticate(t, ctx, fx);
            }
            Some(_) => {
                fx.note(Actor::Client, Actor::Client, || {
                    "refetch returned the same token: notRefetching (nothing rescheduled)"
                        .to_string()
                });
                self.set_auth_state(AuthState::NotRefetching, fx);
            }
            None => {
                fx.note(Actor::Client, Actor::Client, || {
                    "refetch returned null: auth failed".to_string()
                });
                if self.client.auth.is_some() {
                    self.client_clear_auth(ctx, fx);
                }
                self.auth_failed(fx);
            }
        }
        if ctx.era == Era::V1_20 {
            // Before 1.21.0: "Resuming in case this refetch was triggered by
            // an invalid cached token" -- a stopped socket stays stopped.
            self.resume_socket(ctx, fx);
        } else {
            self.try_restart_socket(fx);
        }
    }

    /// `setAndReportAuthFailed`: `onAuthChange(false)`, then noAuth.
    fn auth_failed(&mut self, fx: &mut Fx) {
        self.on_auth_change(false, fx);
        self.set_auth_state(AuthState::NoAuth, fx);
    }

    /// The `onChange` callback given to `setAuth` by `ConvexAuthStateFirstEffect`.
    fn on_auth_change(&mut self, authenticated: bool, fx: &mut Fx) {
        fx.obs(|| Obs::OnAuthChange(authenticated));
        if self.client.callbacks_live {
            self.app_convex_auth_changed(authenticated);
            fx.note(Actor::Client, Actor::React, || {
                format!("onAuthChange({authenticated})")
            });
        } else {
            fx.note(Actor::Client, Actor::Client, || {
                format!("onAuthChange({authenticated}) ignored: its effect was cleaned up")
            });
        }
    }

    /// `scheduleTokenRefetch`: arms the timer (`waitingForScheduledRefetch`).
    /// Returns whether it armed the timer: not in noAuth, and not for a
    /// token that is not a JWT with `iat`/`exp` living more than 2 s (it logs
    /// an error and leaves the state as it is).
    fn schedule_token_refetch(&mut self, ctx: &Ctx, fx: &mut Fx) -> bool {
        if self.client.auth_state == AuthState::NoAuth {
            return false;
        }
        if !ctx.refetchable_tokens {
            fx.note(Actor::Client, Actor::Client, || {
                "the token is not a JWT that lives more than 2 s: no refetch scheduled".to_string()
            });
            return false;
        }
        fx.obs(|| Obs::TimerSet(TimerKind::Refetch));
        self.set_auth_state(AuthState::WaitingForScheduledRefetch { timer: true }, fx);
        true
    }

    /// The refetch timer fires: `refetchToken` (the callback `setTimeout`
    /// was given in `scheduleTokenRefetch`).
    pub(crate) fn refetch_timer(&mut self, ctx: &Ctx, fx: &mut Fx) -> bool {
        if self.budgets.refreshes != super::Budgets::UNBOUNDED {
            self.budgets.refreshes -= 1;
        }
        self.client.auth_state = AuthState::WaitingForScheduledRefetch { timer: false };
        // The timer fires `refreshTokenLeewaySeconds` before the token expires.
        if let Some(t) = self.client.auth {
            self.expiring_upto = Some(self.expiring_upto.map_or(t.seq, |e| e.max(t.seq)));
        }
        fx.note(Actor::Client, Actor::Client, || {
            "scheduled token refetch fires".to_string()
        });
        self.refetch_token(ctx, Cont::Refetch, fx);
        true
    }

    /// `AuthenticationManager.onTransition`.
    fn auth_on_transition(&mut self, ctx: &Ctx, start: u8, end: u8, fx: &mut Fx) {
        if end < self.client.identity_version {
            return; // stale: the client moved on to a newer identity version
        }
        if end <= start {
            return; // not a response to Authenticate
        }
        match self.client.auth_state {
            AuthState::WaitingForServerConfirmationOfCachedToken { .. } => {
                if ctx.initial_token_reuse && self.client.auth.is_some() {
                    fx.note(Actor::Client, Actor::Client, || {
                        "server confirmed the cached token: refetch scheduled (initialAuthTokenReuse)"
                            .to_string()
                    });
                    self.schedule_token_refetch(ctx, fx);
                } else {
                    fx.note(Actor::Client, Actor::Client, || {
                        "server confirmed the cached token: forced refetch".to_string()
                    });
                    self.refetch_token(ctx, Cont::Refetch, fx);
                }
                self.on_auth_change(true, fx);
            }
            AuthState::WaitingForServerConfirmationOfFreshToken { had_auth, .. } => {
                fx.note(Actor::Client, Actor::Client, || {
                    "server confirmed the fresh token".to_string()
                });
                let armed = self.schedule_token_refetch(ctx, fx);
                self.client.attempts = 0;
                // `if (!this.authState.hadAuth)` reads the state that
                // scheduleTokenRefetch just installed when it armed the
                // timer, which has no `hadAuth`: then onAuthChange(true)
                // runs every time; otherwise the state's real `hadAuth`.
                if armed || !had_auth {
                    self.on_auth_change(true, fx);
                }
            }
            _ => {}
        }
    }

    /// `AuthenticationManager.onAuthError`.
    fn auth_on_error(&mut self, ctx: &Ctx, update_attempted: bool, base: u8, fx: &mut Fx) {
        let waiting = matches!(
            self.client.auth_state,
            AuthState::WaitingForServerConfirmationOfFreshToken { .. }
                | AuthState::WaitingForServerConfirmationOfCachedToken { .. }
        );
        if !update_attempted && waiting && ctx.era > Era::V1_20 {
            fx.note(Actor::Client, Actor::Client, || {
                "AuthError ignored: not about the token being confirmed".to_string()
            });
            return;
        }
        if base + 1 < self.client.identity_version {
            fx.note(Actor::Client, Actor::Client, || {
                "AuthError ignored: about a previous auth attempt".to_string()
            });
            return;
        }
        self.try_to_reauthenticate(ctx, fx);
    }

    /// `tryToReauthenticate` up to `await this.stopSocket()`.
    fn try_to_reauthenticate(&mut self, ctx: &Ctx, fx: &mut Fx) {
        let give_up = match self.client.auth_state {
            AuthState::NoAuth => true,
            // Before 1.21.0: "We failed on a fresh token, trying another one
            // won't help" -- no confirmation retries.
            AuthState::WaitingForServerConfirmationOfFreshToken { .. } => {
                ctx.era == Era::V1_20 || self.client.attempts >= 2
            }
            _ => false,
        };
        if give_up {
            fx.note(Actor::Client, Actor::Client, || {
                "tryToReauthenticate gives up: auth cleared".to_string()
            });
            if self.client.auth.is_some() {
                self.local_clear_auth();
            }
            if self.client.auth_state != AuthState::NoAuth {
                self.auth_failed(fx);
            }
            return;
        }
        if matches!(
            self.client.auth_state,
            AuthState::WaitingForServerConfirmationOfFreshToken { .. }
        ) {
            self.client.attempts += 1;
        }
        fx.note(Actor::Client, Actor::Client, || {
            "tryToReauthenticate: stop the socket, then a forced fetch".to_string()
        });
        match self.stop_socket(fx) {
            None => self.reauth_after_stop(ctx, fx),
            Some(conn) => {
                for (c, waiters) in &mut self.client.closing {
                    if *c == conn {
                        *waiters += 1;
                    }
                }
            }
        }
    }

    /// `tryToReauthenticate` after `await this.stopSocket()`.
    fn reauth_after_stop(&mut self, ctx: &Ctx, fx: &mut Fx) {
        if self.client.auth_state == AuthState::NoAuth && ctx.era == Era::V1_20 {
            self.anomaly(Anomaly::ReauthConfigGone, fx);
            return;
        }
        if self.client.auth_state == AuthState::NoAuth {
            fx.note(Actor::Client, Actor::Client, || {
                "tryToReauthenticate: auth was reset meanwhile; socket stays stopped".to_string()
            });
            return;
        }
        self.start_fetch(ctx, true, Cont::Reauth, fx);
    }

    /// `tryToReauthenticate` after its forced fetch.
    fn reauth_continues(&mut self, token: Option<Token>, ctx: &Ctx, fx: &mut Fx) {
        if self.client.auth_state == AuthState::NoAuth {
            // A new token: authenticate, then a fresh-token state with
            // `config: undefined`; null or the same token: read
            // `.onAuthChange` of undefined and throw.
            let new_token = token.is_some_and(|t| self.client.auth != Some(t));
            self.anomaly(
                if new_token {
                    Anomaly::ConfigLost
                } else {
                    Anomaly::ConfigReadInNoAuth
                },
                fx,
            );
            return;
        }
        let present_same = ctx.patched(Patch::SameTokenIsSuccess);
        match token {
            Some(t) if present_same || self.client.auth != Some(t) => {
                let had_auth = matches!(
                    self.client.auth_state,
                    AuthState::NotRefetching | AuthState::WaitingForScheduledRefetch { .. }
                );
                self.authenticate(t, ctx, fx);
                self.set_auth_state(
                    AuthState::WaitingForServerConfirmationOfFreshToken { had_auth, token: t },
                    fx,
                );
            }
            _ => {
                fx.note(Actor::Client, Actor::Client, || {
                    "reauthentication failed: no new token".to_string()
                });
                if self.client.auth.is_some() {
                    self.local_clear_auth();
                }
                self.auth_failed(fx);
            }
        }
        if ctx.era == Era::V1_20 {
            // Before 1.21.0: `restartSocket()` is `WebSocketManager.restart()`,
            // which throws unless the socket is stopped.
            match self.client.ws {
                Ws::Stopped => self.try_restart_socket(fx),
                Ws::Terminated => {}
                _ => self.anomaly(Anomaly::RestartNotStopped, fx),
            }
        } else {
            self.try_restart_socket(fx);
        }
    }

    /// The close of `conn` that `stop()` started has completed: the
    /// `tryToReauthenticate` calls awaiting it go on.
    fn stop_resolved(&mut self, ctx: &Ctx, conn: ConnId, fx: &mut Fx) {
        let Some(i) = self.client.closing.iter().position(|(c, _)| *c == conn) else {
            return;
        };
        let (_, waiting) = self.client.closing.remove(i);
        for _ in 0..waiting {
            self.reauth_after_stop(ctx, fx);
        }
    }

    pub(crate) fn close_completes(&mut self, ctx: &Ctx, conn: ConnId, fx: &mut Fx) -> bool {
        self.net.retain(|c| c.id != conn);
        fx.obs(|| Obs::Closed(conn));
        fx.note(Actor::Client, Actor::Client, || {
            format!("conn {conn} closed")
        });
        self.stop_resolved(ctx, conn, fx);
        true
    }

    /// The client's `ws.onmessage` / `ws.onclose` for the next frame on `conn`.
    pub(crate) fn client_receives(&mut self, ctx: &Ctx, conn: ConnId, fx: &mut Fx) -> bool {
        let frame = {
            let c = self
                .conn_mut(conn)
                .expect("listening on an open connection");
            c.down.remove(0)
        };
        if fx.on() {
            let d = frame.describe();
            fx.note(Actor::Server, Actor::Client, || d);
        }
        if self.client.is_closing(conn) {
            // close() replaced onmessage with a no-op; onclose resolves stop().
            if frame == ServerFrame::Close {
                self.net.retain(|c| c.id != conn);
                fx.obs(|| Obs::Closed(conn));
                self.stop_resolved(ctx, conn, fx);
            }
            return true;
        }
        match frame {
            ServerFrame::Transition {
                start,
                end,
                results,
                first,
            } => {
                self.auth_on_transition(ctx, start, end, fx);
                if self.anomaly.is_some() {
                    return true;
                }
                // `RemoteQuerySet.transition` throws when the transition does
                // not start where the query set is (it was not reset for this
                // socket because onOpen never ran on it): the rest of
                // `onMessage` is skipped.
                let chained = if first {
                    self.client.remote_from.is_none()
                } else {
                    self.client.remote_from == Some(conn)
                };
                if !chained {
                    fx.note(Actor::Client, Actor::Client, || {
                        "RemoteQuerySet throws \"Invalid start version\": results not applied"
                            .to_string()
                    });
                    fx.obs(|| Obs::InvalidStartVersion);
                    return true;
                }
                self.client.remote_from = Some(conn);
                for (q, o) in results {
                    self.client.remote.retain(|(id, _)| *id != q);
                    if let Some(o) = o {
                        self.client.remote.push((q, o));
                    }
                }
                self.client.remote.sort();
                self.refresh_view();
                // `RequestManager.removeCompleted`: the server's Transition
                // after a commit carries a timestamp past it.
                self.client
                    .requests
                    .retain(|r| r.status != RequestStatus::Completed);
            }
            ServerFrame::AuthError {
                update_attempted,
                base,
            } => self.auth_on_error(ctx, update_attempted, base, fx),
            ServerFrame::StoreResponse { request, success } => {
                // `RequestManager.onResponse`: a failure completes at once; a
                // success waits for a Transition past its commit.
                if success {
                    for r in &mut self.client.requests {
                        if r.id == request {
                            r.status = RequestStatus::Completed;
                        }
                    }
                } else {
                    // `client.ts` `onMessage`: a failed response resolves the
                    // mutation at once and runs `notifyOnQueryResultChanges`,
                    // which rebuilds the view from the remote query set
                    // (empty after a reconnect until the first Transition).
                    self.client.requests.retain(|r| r.id != request);
                    self.refresh_view();
                }
            }
            ServerFrame::FatalError => {
                // `logFatalError`, `void this.webSocketManager.terminate()`,
                // then the handler throws: the client never reconnects.
                fx.note(Actor::Client, Actor::Client, || {
                    "FatalError: the client terminates its socket for good".to_string()
                });
                fx.obs(|| Obs::ClientClose(conn));
                self.client.ws = Ws::Terminated;
                self.client.closing.push((conn, 0));
                fx.obs(|| Obs::Fatal);
            }
            ServerFrame::Close => {
                self.net.retain(|c| c.id != conn);
                self.on_close(conn, fx);
            }
        }
        true
    }

    /// `notifyOnQueryResultChanges`: the view becomes the remote results of
    /// the queries still subscribed.
    fn refresh_view(&mut self) {
        let mut view: Small<(FnIdx, Outcome), 4> = self
            .client
            .remote
            .iter()
            .filter_map(|(id, o)| {
                self.client
                    .queries
                    .iter()
                    .find(|q| q.id == *id)
                    .map(|q| (q.f, *o))
            })
            .collect();
        view.sort();
        self.client.view = view;
    }

    /// A socket drop seen by the client: `ws.onclose`.
    pub(crate) fn client_socket_dropped(&mut self, ctx: &Ctx, conn: ConnId, fx: &mut Fx) {
        if self.client.is_closing(conn) {
            fx.obs(|| Obs::Closed(conn));
            self.stop_resolved(ctx, conn, fx);
        } else if self.client.conn() == Some(conn) {
            self.on_close(conn, fx);
        }
    }
}
