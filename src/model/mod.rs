//! The model: one `stateright` [`Model`] whose state is the whole system.
//!
//! Four actors and a network share one global state; each action is one
//! atomic step of one actor, as a JavaScript macrotask is atomic in the
//! browser:
//!
//! * [`provider`]: the auth provider's session and its `fetchAccessToken`;
//! * [`client`]: `BaseConvexClient` — `AuthenticationManager`,
//!   `WebSocketManager`, `LocalSyncState`, `RequestManager`;
//! * [`app`]: React — `ConvexProviderWithAuth`, its First/Last effects, the
//!   gated components and the root component's `users.store` effect;
//! * [`server`]: the sync worker per connection, the `users` table, and the
//!   network (per-connection FIFO queues both ways).
//!
//! Every transition cites the convex-js function it models (npm
//! `convex@1.48.0`, `src/`), or `@convex-dev/better-auth@0.12.5` for the
//! Better Auth hook. Properties read the bits the last step set
//! ([`State::violations`]) and the state itself; see [`crate::scenario::properties`].

pub mod app;
pub mod canon;
pub mod client;
pub mod describe;
pub mod msg;
pub mod provider;
pub mod server;

use std::fmt;

use stateright::{Model, Property};

use crate::scenario::properties::PropertyId;
use crate::scenario::{
    AfterSignOut, AtLoad, AuthReq, ForcedRefresh, Gate, Kind, RebuildFetcher, Scenario, UserRows,
};
use msg::{ConnId, FnIdx, Outcome, User};

pub use app::App;
pub use client::Client;
pub use provider::Provider;
pub use server::{Conn, Server};

pub use crate::scenario::{USERS_CURRENT, USERS_STORE};

/// A function as the server evaluates it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    pub auth: AuthReq,
    /// Reads the `users` table, so a `users:store` write re-runs it.
    pub reads_users: bool,
}

/// One mounted instance of a component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Component {
    /// Display name (`Name` or `Name#2` for further instances).
    pub name: String,
    pub query: FnIdx,
    pub gate: Gate,
}

/// Which token a non-forced `fetchAccessToken({forceRefreshToken:false})` yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NonForced {
    /// The provider's cached token for this session while it is valid, else
    /// a new one (Clerk `getToken` without `skipCache`, AuthKit, custom).
    Cached,
    /// The provider's in-memory token for this session even if it expired,
    /// else a new one (Convex Auth `token.current`).
    CachedIgnoringExpiry,
    /// Better Auth 0.12.5: the token in the hook's closure (the SSR
    /// `initialToken`, see `useUseAuthFromBetterAuth`), else a network fetch
    /// of a new token.
    InitialThenNetwork,
}

/// Immutable data of one checked scenario: everything the state does not
/// need to carry.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub kind: Kind,
    pub at_load: AtLoad,
    pub ssr_token: bool,
    pub sign_in: bool,
    pub sign_out: bool,
    pub switch_user: bool,
    pub new_fetcher: bool,
    pub forced_refresh: ForcedRefresh,
    pub after_sign_out: AfterSignOut,
    pub rebuild_fetcher: RebuildFetcher,
    pub non_forced: NonForced,
    /// Better Auth 0.12.5: `isAuthenticated = Boolean(session) || cachedToken !== null`
    /// and `isLoading = isSessionPending && !cachedToken`, where `cachedToken`
    /// is the value captured by the memoised hook at the first render.
    pub hook_sees_initial_token: bool,
    /// A failed token request rejects (Convex Auth) instead of yielding null.
    pub errors_throw: bool,
    /// Provider session changes are committed by React in the same step.
    pub sync_render: bool,
    /// Tokens the provider holds are answered from memory in the caller's task.
    pub answers_from_memory: bool,
    /// How the provider shares a backend token request in flight.
    pub sharing: provider::Sharing,
    /// Signing in yields a token at once (Convex Auth).
    pub token_at_sign_in: bool,
    /// A sign-out clears the tokens in memory first (Convex Auth).
    pub memory_cleared_first: bool,
    /// A sign-out reaches the backend before the provider's client state.
    pub sign_out_window: bool,
    /// The provider's tokens let `scheduleTokenRefetch` arm the timer.
    pub refetchable_tokens: bool,
    pub expect_auth: bool,
    pub initial_token_reuse: bool,
    /// `[client] patches`: one bit per [`crate::scenario::Patch`].
    pub patches: u8,
    /// `[client] version`: the release whose behaviour is modelled.
    pub era: crate::scenario::Era,
    pub store_user: bool,
    pub user_rows: UserRows,
    pub budgets: Budgets,
    pub functions: Vec<Function>,
    pub users_current: Option<FnIdx>,
    pub components: Vec<Component>,
    pub users: u8,
    pub max_depth: Option<usize>,
}

/// Remaining fault budgets, and the optional bound on the refetch timer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Budgets {
    pub socket_drops: u8,
    /// Times the refetch timer may still fire; [`Budgets::UNBOUNDED`]: as
    /// often as it is armed.
    pub refreshes: u8,
    pub expiries: u8,
    pub reject_tokens: u8,
    pub transient_null: u8,
}

impl Budgets {
    /// A bound that is never used up.
    pub const UNBOUNDED: u8 = u8::MAX;
}

impl Ctx {
    /// Whether the scenario checks proposed change `p`.
    pub fn patched(&self, p: crate::scenario::Patch) -> bool {
        self.patches & (1 << p as u8) != 0
    }

    /// Resolves a validated scenario: kind defaults first, explicit keys over them.
    pub fn new(s: &Scenario) -> Ctx {
        let p = &s.provider;
        let kind = p.kind;
        let d = provider::KindDefaults::of(kind);
        let mut functions: Vec<Function> = s
            .functions
            .iter()
            .map(|f| Function {
                name: f.name.get_ref().clone(),
                auth: f.auth,
                reads_users: f.auth == AuthReq::UserRow || f.name.get_ref() == USERS_CURRENT,
            })
            .collect();
        // `users:current`: the scenario's declaration when it has one (its
        // `auth` wins), else the docs' `optional` query, defined when the
        // store effect or a `current-user` gate reads it.
        let needs_current = s.app.store_user
            || s.components
                .iter()
                .any(|c| *c.gate.get_ref() == Gate::CurrentUser);
        let users_current = match functions.iter().position(|f| f.name == USERS_CURRENT) {
            Some(i) => Some(i as FnIdx),
            None if needs_current => {
                functions.push(Function {
                    name: USERS_CURRENT.to_string(),
                    auth: AuthReq::Optional,
                    reads_users: true,
                });
                Some((functions.len() - 1) as FnIdx)
            }
            None => None,
        };
        let mut components = Vec::new();
        for c in &s.components {
            let query = functions
                .iter()
                .position(|f| &f.name == c.query.get_ref())
                .expect("validated: component queries a declared function")
                as FnIdx;
            let n = *c.instances.get_ref();
            for i in 0..n {
                let name = if n == 1 {
                    c.name.get_ref().clone()
                } else {
                    format!("{}#{}", c.name.get_ref(), i + 1)
                };
                components.push(Component {
                    name,
                    query,
                    gate: *c.gate.get_ref(),
                });
            }
        }
        let ssr_token = p.ssr_token.as_ref().map(|s| *s.get_ref()).unwrap_or(false);
        Ctx {
            kind,
            at_load: p.at_load.unwrap_or(d.at_load),
            ssr_token,
            sign_in: p.sign_in,
            sign_out: p.sign_out,
            switch_user: p.switch_user,
            new_fetcher: p.new_fetcher,
            forced_refresh: p.forced_refresh.unwrap_or(d.forced_refresh),
            after_sign_out: p.after_sign_out.unwrap_or(d.after_sign_out),
            // Before 1.42.2, ConvexProviderWithClerk rebuilt its fetcher on
            // organisation changes only.
            rebuild_fetcher: p.rebuild_fetcher.unwrap_or(
                if kind == Kind::Clerk && s.client.era() < crate::scenario::Era::V1_48 {
                    crate::scenario::RebuildFetcher::Never
                } else {
                    d.rebuild_fetcher
                },
            ),
            non_forced: d.non_forced,
            hook_sees_initial_token: d.hook_sees_initial_token,
            errors_throw: d.errors_throw,
            sync_render: p.sync_render.unwrap_or(d.sync_render),
            answers_from_memory: d.answers_from_memory,
            sharing: d.sharing,
            token_at_sign_in: d.token_at_sign_in,
            memory_cleared_first: d.memory_cleared_first,
            sign_out_window: p.sign_out_window.unwrap_or(d.sign_out_window),
            refetchable_tokens: p.tokens.unwrap_or_default() == crate::scenario::Tokens::Jwt,
            expect_auth: s.client.expect_auth,
            initial_token_reuse: s.client.initial_token_reuse,
            era: s.client.era(),
            patches: s
                .client
                .patches
                .iter()
                .fold(0, |acc, p| acc | (1 << *p as u8)),
            store_user: s.app.store_user,
            user_rows: s.app.user_rows.unwrap_or_default(),
            budgets: Budgets {
                socket_drops: *s.faults.socket_drops.get_ref(),
                refreshes: s
                    .faults
                    .refreshes
                    .as_ref()
                    .map_or(Budgets::UNBOUNDED, |r| *r.get_ref()),
                expiries: *s.faults.expiries.get_ref(),
                reject_tokens: *s.faults.reject_tokens.get_ref(),
                transient_null: *s.faults.transient_null.get_ref(),
            },
            functions,
            users_current,
            components,
            users: if s.provider.switch_user { 2 } else { 1 },
            max_depth: s.check.max_depth,
        }
    }

    pub fn fn_name(&self, f: FnIdx) -> &str {
        &self.functions[f as usize].name
    }

    /// The short name used in traces (`queries:listOrganizations` -> `listOrganizations`).
    pub fn fn_short(&self, f: FnIdx) -> String {
        let n = self.fn_name(f);
        n.rsplit(':').next().unwrap_or(n).to_string()
    }
}

/// The global state: every actor's local state, the network, the remaining
/// fault budgets, and what properties read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    pub provider: Provider,
    pub client: Client,
    pub app: App,
    pub server: Server,
    /// Open connections (server side and the frames in flight), oldest first.
    pub net: msg::Queue<Conn, 1>,
    pub budgets: Budgets,
    /// Time: every token issued at or before this number has expired.
    pub expired_upto: Option<u8>,
    /// Time: every token issued at or before this number is about to expire
    /// (its scheduled refetch fired, `exp - 10 s`): still accepted by the
    /// server, but a provider cache that refreshes ahead of expiry no longer
    /// hands it out.
    pub expiring_upto: Option<u8>,
    /// Bit `p.bit()`: the step that reached this state violated safety
    /// property `p` (cleared by the next step).
    pub violations: u8,
    /// Bit `p.bit()`: the step that reached this state made the trigger of
    /// property `p` happen (cleared by the next step).
    pub triggered: u8,
    /// Sticky: the real client would throw here (a path convex@1.48.0 does
    /// not handle); the model stops exploring from such states.
    pub anomaly: Option<Anomaly>,
}

/// A point where the real client throws a `TypeError` that the model does
/// not follow further. Reported, never hidden.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Anomaly {
    /// A token fetch that yielded null resolved while
    /// `AuthenticationManager.authState` was `noAuth`: the continuation reads
    /// `this.authState.config.onAuthChange` and throws.
    ConfigReadInNoAuth,
    /// A token fetch that yielded a token resolved in `noAuth`: the manager
    /// goes on with `config: undefined`, so its next confirmation, `setAuth`
    /// or `stop()` throws and the client is wedged.
    ConfigLost,
    /// convex < 1.40.0: `tryToReauthenticate` reads `config.fetchToken`
    /// after its `await stopSocket()` although auth was reset meanwhile.
    ReauthConfigGone,
    /// convex < 1.21.0: `tryToReauthenticate` ends with
    /// `WebSocketManager.restart()`, which throws unless the socket is stopped.
    RestartNotStopped,
}

impl Anomaly {
    /// Whether the real client throws at this very step (an unhandled
    /// rejection of the async auth flow), rather than later.
    pub fn throws(self) -> bool {
        !matches!(self, Anomaly::ConfigLost)
    }
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anomaly::ConfigReadInNoAuth => f.write_str(
                "a token fetch resolved null while the AuthenticationManager was in noAuth; convex@1.48.0 then reads `this.authState.config.onAuthChange` of noAuth (TypeError)",
            ),
            Anomaly::ConfigLost => f.write_str(
                "a token fetch resolved with a token while the AuthenticationManager was in noAuth; convex@1.48.0 goes on with `config: undefined`, and its next confirmation, setAuth or stop() throws (TypeError)",
            ),
            Anomaly::ReauthConfigGone => f.write_str(
                "tryToReauthenticate went on after `await stopSocket()` although auth was reset meanwhile; convex before 1.40.0 reads `config.fetchToken` of noAuth (TypeError)",
            ),
            Anomaly::RestartNotStopped => f.write_str(
                "tryToReauthenticate called WebSocketManager.restart() on a socket that is not stopped; convex before 1.21.0 throws \"`restart()` is only valid after `stop()`\"",
            ),
        }
    }
}

/// One atomic step of one actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// A React render task: pending passive effects of the previous commit
    /// run first, then React renders with the current inputs and commits.
    Commit,
    /// The task that runs the last commit's passive effects, in React 19's
    /// order (all cleanups, then all setups).
    Effects,
    /// The provider's session finishes loading: signed in as A.
    ProviderResolves,
    /// User action: sign in as A (or as B to complete a switch).
    ProviderSignIn { user: User },
    /// User action: sign out (the first half of a switch when `switching`);
    /// the provider's backend ends the session.
    ProviderSignOut { switching: bool },
    /// The sign-out reaches the provider's client state: the hook shows
    /// signed out.
    ProviderSignOutSeen,
    /// Provider event: a new `fetchAccessToken` for the same user.
    ProviderNewFetcher,
    /// The provider answers pending token request `fetch` from its state now.
    /// `transient_null`: the answer is null although the session is valid (fault).
    ProviderAnswers { fetch: u8, transient_null: bool },
    /// The promise of token request `fetch` resolves in the client.
    ClientTokenResolves { fetch: u8 },
    /// The reconnect backoff timer fires: `WebSocketManager.connect()`.
    ClientReconnects,
    /// `ws.onopen` of the connecting socket.
    ClientSocketOpens,
    /// The client handles the next frame the server sent on `conn`.
    ClientReceives { conn: ConnId },
    /// The client's close of `conn` (`WebSocketManager.stop()`) completes.
    ClientCloseCompletes { conn: ConnId },
    /// The scheduled token refetch timer fires: time passes (bounded only
    /// when the scenario bounds `refreshes`).
    ClientRefetchTimer,
    /// The server handles the next frame on `conn`; `reject`: it rejects the
    /// token presented (fault budget `reject_tokens`).
    ///
    /// `before_update`: the frame is an `Authenticate` the server refuses,
    /// handled before the update for the `Authenticate` accepted just before
    /// it was built (the sync worker handles frames and builds updates
    /// concurrently): that update is never sent and the AuthError's base is
    /// the version before it.
    ServerReceives {
        conn: ConnId,
        reject: bool,
        before_update: bool,
    },
    /// Time passes: the token of `conn`'s identity (and every token issued
    /// before it) expires (fault budget `expiries`). Nothing is sent: the
    /// server finds out when it next builds an update for that connection or
    /// runs a mutation on it.
    TokenExpires { conn: ConnId },
    /// The socket breaks; everything in flight is lost (fault budget `socket_drops`).
    NetworkDrops { conn: ConnId },
    /// The auth provider's webhook reaches the server and inserts `user`'s
    /// row (`[app] user_rows = "webhook"`).
    ServerWebhook { user: User },
}

impl Action {
    /// Faults consume a budget; liveness never relies on them. (The
    /// refetch timer is time, not a fault: liveness may rely on an overdue
    /// timer firing.)
    pub fn is_fault(&self) -> bool {
        matches!(
            self,
            Action::ProviderAnswers {
                transient_null: true,
                ..
            } | Action::ServerReceives { reject: true, .. }
                | Action::TokenExpires { .. }
                | Action::NetworkDrops { .. }
        )
    }

    /// Things the user (or the provider on its own) does; liveness never
    /// relies on them.
    pub fn is_user_action(&self) -> bool {
        matches!(
            self,
            Action::ProviderSignIn { .. }
                | Action::ProviderSignOut { .. }
                | Action::ProviderNewFetcher
        )
    }
}

/// The model checked for one scenario.
#[derive(Clone, Debug)]
pub struct AuthModel {
    pub ctx: Ctx,
    /// Set to stop an exploration early (a limit, Ctrl-C): from then on no
    /// new state is inside the boundary, so the checker drains and stops.
    pub cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Store each state in canonical form ([`canon`]): symmetry reduction of
    /// token, connection, query and request numbers. On by default; off
    /// only to measure what it saves, or when the checker applies the same
    /// reduction itself (`stateright`'s `symmetry()` under DFS, through the
    /// [`stateright::Representative`] impl of [`State`]).
    pub canonical: bool,
}

impl AuthModel {
    pub fn new(scenario: &Scenario) -> AuthModel {
        AuthModel {
            ctx: Ctx::new(scenario),
            cancel: Default::default(),
            canonical: true,
        }
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn init_state(&self) -> State {
        State {
            provider: Provider::initial(&self.ctx),
            client: Client::initial(),
            app: App::initial(&self.ctx),
            server: Server::initial(&self.ctx),
            net: msg::Queue::new(),
            budgets: self.ctx.budgets,
            expired_upto: None,
            expiring_upto: None,
            violations: 0,
            triggered: 0,
            anomaly: None,
        }
    }

    /// Applies `action`, recording what happened in `fx` when it records.
    pub fn step(&self, state: &State, action: Action, fx: &mut Fx) -> Option<State> {
        let mut s = state.clone();
        self.step_in_place(&mut s, action, fx).then_some(s)
    }

    /// `next_state` on `s` itself (a copy of the state the step is taken
    /// from): false when the step changes nothing. The explorers build the
    /// copy where the successor is kept, so it is never moved.
    pub fn next_in_place(&self, s: &mut State, action: Action) -> bool {
        if !self.step_in_place(s, action, &mut Fx::off()) {
            return false;
        }
        canon::normalize_dead(&self.ctx, s);
        if self.canonical {
            canon::canonicalize(s);
        } else {
            canon::normalize_time(s);
        }
        true
    }

    /// [`AuthModel::step`] on `s` itself: false when nothing changed.
    fn step_in_place(&self, s: &mut State, action: Action, fx: &mut Fx) -> bool {
        let ctx = &self.ctx;
        // Violations and triggers mark the step that made them happen; the
        // next step clears them, so a violation splits only the state it
        // reaches, not everything after it.
        s.violations = 0;
        s.triggered = 0;
        let changed = match action {
            Action::Commit => s.commit(ctx, fx),
            Action::Effects => s.flush_effects(ctx, fx),
            Action::ProviderResolves => s.provider_resolves(ctx, fx),
            Action::ProviderSignIn { user } => s.provider_sign_in(ctx, user, fx),
            Action::ProviderSignOut { switching } => s.provider_sign_out(ctx, switching, fx),
            Action::ProviderSignOutSeen => s.provider_sign_out_seen(ctx, fx),
            Action::ProviderNewFetcher => s.provider_new_fetcher(ctx, fx),
            Action::ProviderAnswers {
                fetch,
                transient_null,
            } => s.provider_answers(ctx, fetch as usize, transient_null, fx),
            Action::ClientTokenResolves { fetch } => s.token_resolves(ctx, fetch as usize, fx),
            Action::ClientReconnects => s.reconnect_timer(ctx, fx),
            Action::ClientSocketOpens => s.socket_opens(ctx, fx),
            Action::ClientReceives { conn } => s.client_receives(ctx, conn, fx),
            Action::ClientCloseCompletes { conn } => s.close_completes(ctx, conn, fx),
            Action::ClientRefetchTimer => s.refetch_timer(ctx, fx),
            Action::ServerReceives {
                conn,
                reject,
                before_update,
            } => s.server_receives(ctx, conn, reject, before_update, fx),
            Action::TokenExpires { conn } => s.token_expires(ctx, conn, fx),
            Action::NetworkDrops { conn } => s.network_drops(ctx, conn, fx),
            Action::ServerWebhook { user } => s.server_webhook(ctx, user, fx),
        };
        if !changed {
            return false;
        }
        s.run_microtasks(ctx, fx);
        s.observe();
        true
    }

    /// The state-level checks every step ends with.
    pub fn holds(&self, p: PropertyId, s: &State) -> bool {
        match p {
            PropertyId::NoStaleIdentity => {
                s.violations & p.bit() == 0 && s.stale_result_shown(&self.ctx).is_none()
            }
            _ => s.violations & p.bit() == 0,
        }
    }
}

impl State {
    pub(crate) fn violate(&mut self, p: PropertyId) {
        self.violations |= p.bit();
    }
    pub(crate) fn trigger(&mut self, p: PropertyId) {
        self.triggered |= p.bit();
    }

    /// Bookkeeping after every step: triggers read off the state.
    fn observe(&mut self) {
        if self.app.signed_out != 0 {
            self.trigger(PropertyId::NoStaleIdentity);
        }
    }
}

/// Records what a step did, for traces and diagrams. Disabled (and free)
/// while the checker explores.
#[derive(Default)]
pub struct Fx {
    pub events: Option<Vec<Event>>,
    /// What an outside observer of the real client would see (for
    /// conformance checks against the real client).
    pub obs: Option<Vec<Obs>>,
}

/// A timer of the client that conformance checks observe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// `WebSocketManager.scheduleReconnect`.
    Reconnect,
    /// `AuthenticationManager.scheduleTokenRefetch`.
    Refetch,
}

/// A call the app makes on the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    SetAuth,
    ClearAuth,
    Subscribe(FnIdx),
    Unsubscribe(FnIdx),
    StoreUser,
}

/// Something an observer of the real client and server sees, in the
/// vocabulary of the conformance harness (`tests/conformance/README.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Obs {
    /// The app called the client.
    Call(Call),
    SocketCreated(ConnId),
    /// The client wrote a frame on a socket.
    Send(ConnId, msg::ClientFrame),
    /// The client called the token fetcher (the `request` number is global).
    TokenRequest {
        request: u16,
        forced: bool,
    },
    /// The client called `setAuth`'s `onChange`.
    OnAuthChange(bool),
    ServerEval {
        conn: ConnId,
        f: FnIdx,
        identity: Option<msg::Token>,
        outcome: Outcome,
    },
    /// The server handled `users:store`.
    ServerMutation {
        conn: ConnId,
        identity: Option<msg::Token>,
        outcome: MutationOutcome,
    },
    ServerSend(ConnId, msg::ServerFrame),
    /// The client called `ws.close()`.
    ClientClose(ConnId),
    /// The socket's `onclose` ran.
    Closed(ConnId),
    TimerSet(TimerKind),
    TimerCleared(TimerKind),
    /// An awaited token fetch rejected and nothing caught it.
    UnhandledRejection,
    /// The client's message handler threw after a `FatalError`.
    Fatal,
    /// `RemoteQuerySet.transition` threw "Invalid start version".
    InvalidStartVersion,
    /// `ConvexReactClient.sync` constructed the `BaseConvexClient`.
    ClientCreated,
    /// A commit in which `useConvexAuth()` changed (or the first one).
    ConvexAuth {
        loading: bool,
        authenticated: bool,
    },
    /// A component instance mounted / unmounted (layout phase of a commit).
    Mount(u8),
    Unmount(u8),
    /// The continuation of token request `request` ran with `answer`
    /// (whichever step ran it: a delivery from the provider, or the end of
    /// the task that asked for a token held in memory).
    TokenResolved {
        request: u16,
        answer: client::Answer,
    },
}

/// What the server did with a `users:store` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MutationOutcome {
    /// Ran with an identity and inserted the user's row.
    Inserted,
    /// Ran with an identity; the row was there.
    Exists,
    /// Ran with no identity and threw.
    Unauthenticated,
    /// The request committed before: the stored result, nothing ran.
    Stored,
}

impl MutationOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            MutationOutcome::Inserted => "inserted",
            MutationOutcome::Exists => "exists",
            MutationOutcome::Unauthenticated => "Unauthenticated",
            MutationOutcome::Stored => "stored",
        }
    }
}

/// A participant of the sequence diagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Actor {
    Provider,
    React,
    Client,
    Server,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Provider => "Provider",
            Actor::React => "React",
            Actor::Client => "Client",
            Actor::Server => "Server",
        }
    }
}

/// Something that happened inside a step: a message or call between actors
/// (`arrow`), or a note over one actor (`from == to`) or two.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Event {
    pub from: Actor,
    pub to: Actor,
    pub text: String,
    pub arrow: bool,
    /// This event is where a property was violated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violates: Option<PropertyId>,
}

impl Fx {
    pub fn recording() -> Fx {
        Fx {
            events: Some(Vec::new()),
            obs: None,
        }
    }
    pub fn off() -> Fx {
        Fx {
            events: None,
            obs: None,
        }
    }
    /// Records observations only (conformance checks).
    pub fn observing() -> Fx {
        Fx {
            events: None,
            obs: Some(Vec::new()),
        }
    }
    #[inline]
    pub fn obs(&mut self, o: impl FnOnce() -> Obs) {
        if let Some(v) = &mut self.obs {
            v.push(o());
        }
    }
    #[inline]
    pub fn on(&self) -> bool {
        self.events.is_some()
    }
    /// A note over `from` when `from == to`, else a message from `from` to `to`.
    #[inline]
    pub fn note(&mut self, from: Actor, to: Actor, text: impl FnOnce() -> String) {
        if let Some(ev) = &mut self.events {
            ev.push(Event {
                from,
                to,
                text: text(),
                arrow: from != to,
                violates: None,
            });
        }
    }
    /// A note spanning two actors (no message).
    #[inline]
    pub fn span(&mut self, from: Actor, to: Actor, text: impl FnOnce() -> String) {
        if let Some(ev) = &mut self.events {
            ev.push(Event {
                from,
                to,
                text: text(),
                arrow: false,
                violates: None,
            });
        }
    }
    /// A note over `at` where property `p` is violated.
    #[inline]
    pub fn violation(&mut self, at: Actor, p: PropertyId, text: impl FnOnce() -> String) {
        if let Some(ev) = &mut self.events {
            ev.push(Event {
                from: at,
                to: at,
                text: text(),
                arrow: false,
                violates: Some(p),
            });
        }
    }
}

impl Model for AuthModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        vec![self.init_state()]
    }

    fn actions(&self, s: &State, actions: &mut Vec<Action>) {
        if s.anomaly.is_some() {
            return;
        }
        let ctx = &self.ctx;
        if s.needs_commit(ctx) {
            actions.push(Action::Commit);
        }
        if s.app.effects.is_some() {
            actions.push(Action::Effects);
        }
        s.provider_actions(ctx, actions);
        s.client_actions(ctx, actions);
        s.server_actions(ctx, actions);
    }

    fn next_state(&self, s: &State, action: Action) -> Option<State> {
        let mut next = s.clone();
        self.next_in_place(&mut next, action).then_some(next)
    }

    fn format_action(&self, action: &Action) -> String {
        describe::action_title(&self.ctx, action)
    }

    fn format_step(&self, last: &State, action: Action) -> Option<String> {
        let mut fx = Fx::recording();
        let next = self.step(last, action, &mut fx)?;
        Some(describe::render_state(&self.ctx, &next))
    }

    fn within_boundary(&self, _: &State) -> bool {
        !self.cancelled()
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut props: Vec<Property<Self>> = vec![
            Property::always("query-runs-authenticated", |m, s| {
                m.holds(PropertyId::QueryRunsAuthenticated, s)
            }),
            Property::always("store-runs-authenticated", |m, s| {
                m.holds(PropertyId::StoreRunsAuthenticated, s)
            }),
            Property::always("user-row-ready", |m, s| {
                m.holds(PropertyId::UserRowReady, s)
            }),
            Property::always("no-stale-identity", |m, s| {
                m.holds(PropertyId::NoStaleIdentity, s)
            }),
            Property::always("stable-auth", |m, s| m.holds(PropertyId::StableAuth, s)),
        ];
        // Vacuity witnesses: the trigger of each safety property happens somewhere.
        props.push(Property::sometimes(
            "trigger:query-runs-authenticated",
            |_: &AuthModel, s: &State| s.triggered & PropertyId::QueryRunsAuthenticated.bit() != 0,
        ));
        props.push(Property::sometimes(
            "trigger:store-runs-authenticated",
            |_: &AuthModel, s: &State| s.triggered & PropertyId::StoreRunsAuthenticated.bit() != 0,
        ));
        props.push(Property::sometimes(
            "trigger:user-row-ready",
            |_: &AuthModel, s: &State| s.triggered & PropertyId::UserRowReady.bit() != 0,
        ));
        props.push(Property::sometimes(
            "trigger:no-stale-identity",
            |_: &AuthModel, s: &State| s.triggered & PropertyId::NoStaleIdentity.bit() != 0,
        ));
        props.push(Property::sometimes(
            "trigger:stable-auth",
            |_: &AuthModel, s: &State| s.triggered & PropertyId::StableAuth.bit() != 0,
        ));
        props
    }
}

/// Users in a bit set, as names.
pub fn users_in(set: msg::UserSet) -> Vec<&'static str> {
    (0..8u8)
        .filter(|u| set & (1 << u) != 0)
        .map(msg::user_name)
        .collect()
}

/// Whether an outcome of a function with auth `auth` serves `user`: a value
/// computed with `user`'s identity — or, for a function that ignores
/// identity, any value. An `optional` function's anonymous result (its null
/// for nobody) does not serve a signed-in user: it shows nobody's data.
pub fn is_success_for(o: &Outcome, auth: AuthReq, user: User) -> bool {
    match o {
        Outcome::Value { for_user, .. } => match auth {
            AuthReq::None => true,
            _ => *for_user == Some(user),
        },
        Outcome::Failed(_) => false,
    }
}
