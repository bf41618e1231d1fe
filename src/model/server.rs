//! The Convex sync server per connection, the `users` table, and the network.
//!
//! Semantics from get-convex/convex-backend `crates/sync` (`worker.rs`,
//! `state.rs`): a new connection has no identity and identity version 0;
//! `Authenticate` validates the token first (a bad or expired token:
//! `AuthError{authUpdateAttempted:true}` then close), then requires
//! `baseVersion` to equal the number of Authenticates accepted (else the
//! socket closes with an internal error), then bumps the version and re-runs
//! every subscribed query with the new identity in one `Transition`;
//! `ModifyQuerySet` evaluates added queries with the latest accepted
//! identity; results are sent only when they changed. Token expiry is found
//! when the server next builds a Transition or receives a mutation:
//! `AuthError{authUpdateAttempted:false}` then close. Every AuthError's
//! `baseVersion` is the identity version of the last Transition built.
//!
//! The network is one FIFO queue per direction per connection. A drop loses
//! everything in flight on that connection; frames never cross connections.

use super::msg::{
    ClientFrame, ConnId, FnIdx, Outcome, QueryError, QueryId, QueryMod, Queue, Sent, ServerFrame,
    Small, Token, User, UserSet, user_name,
};
use super::{Action, Actor, Ctx, Fx, MutationOutcome, Obs, State};
use crate::scenario::properties::PropertyId;
use crate::scenario::{AuthReq, UserRows};

/// The server's state for one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ServerConn {
    pub identity: Option<Token>,
    /// Number of Authenticates accepted on this connection.
    pub version: u8,
    /// The query-set version (the last ModifyQuerySet's `newVersion`).
    pub query_set_version: u8,
    /// A Transition went out on this connection (the next one does not
    /// start from the initial version).
    pub sent_transition: bool,
    /// Subscriptions and the last result sent for each.
    pub subs: Small<(QueryId, FnIdx, Option<Outcome>), 4>,
    /// The server closed this connection (after an AuthError or an error).
    pub closed: bool,
    /// A `Connect` arrived: the connection knows the client's session id,
    /// which keys the record of committed mutations.
    pub session: bool,
    /// The last frame handled was an accepted `Authenticate` whose
    /// Transition is still the last frame queued for the client.
    pub update_pending: bool,
}

/// A connection: the server's state for it and the frames in flight.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Conn {
    pub id: ConnId,
    /// The WebSocket handshake completed.
    pub opened: bool,
    /// Client -> server, oldest first.
    pub up: Queue<Sent, 4>,
    /// Server -> client, oldest first.
    pub down: Queue<ServerFrame, 4>,
    pub server: ServerConn,
}

impl Conn {
    /// The Transition of the `Authenticate` accepted last is still queued
    /// and nothing was handled since: its update may not be built yet.
    pub fn update_unsent(&self) -> bool {
        self.server.update_pending
            && matches!(self.down.last(), Some(ServerFrame::Transition { start, end, .. })
                if *end == self.server.version && *start + 1 == *end)
    }

    pub fn new(id: ConnId) -> Conn {
        Conn {
            id,
            opened: false,
            up: Queue::new(),
            down: Queue::new(),
            server: ServerConn::default(),
        }
    }
}

/// Server state shared by all connections.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Server {
    /// Users whose row exists in `users`.
    pub rows: UserSet,
    /// `_session_requests`: the request ids of this client's mutations that
    /// committed (`write_mutation_status` records successes only).
    pub committed: Small<u8, 2>,
}

impl Server {
    pub fn initial(ctx: &Ctx) -> Server {
        let all: UserSet = (1u8 << ctx.users) - 1;
        Server {
            rows: if ctx.user_rows == UserRows::Existing {
                all
            } else {
                0
            },
            committed: Small::new(),
        }
    }
}

impl State {
    pub(crate) fn server_actions(&self, ctx: &Ctx, actions: &mut Vec<Action>) {
        if ctx.user_rows == UserRows::Webhook {
            for user in 0..ctx.users {
                if self.provider.accounts & (1 << user) != 0 && self.server.rows & (1 << user) == 0
                {
                    actions.push(Action::ServerWebhook { user });
                }
            }
        }
        for c in &self.net {
            if !c.opened || c.server.closed {
                continue;
            }
            if let Some(first) = c.up.first() {
                actions.push(Action::ServerReceives {
                    conn: c.id,
                    reject: false,
                    before_update: false,
                });
                let presented = match first.frame {
                    ClientFrame::Authenticate { token: Some(t), .. } => Some(t),
                    _ => None,
                };
                let rejectable = self.budgets.reject_tokens > 0
                    && presented.is_some_and(|t| self.token_valid_now(t));
                if rejectable {
                    actions.push(Action::ServerReceives {
                        conn: c.id,
                        reject: true,
                        before_update: false,
                    });
                }
                // A refused token handled before the previous Authenticate's
                // update was built.
                if c.update_unsent() {
                    if presented.is_some_and(|t| !self.token_valid_now(t)) {
                        actions.push(Action::ServerReceives {
                            conn: c.id,
                            reject: false,
                            before_update: true,
                        });
                    }
                    if rejectable {
                        actions.push(Action::ServerReceives {
                            conn: c.id,
                            reject: true,
                            before_update: true,
                        });
                    }
                }
            }
            if self.budgets.expiries > 0
                && c.server.identity.is_some_and(|t| self.token_valid_now(t))
            {
                actions.push(Action::TokenExpires { conn: c.id });
            }
        }
        if self.budgets.socket_drops > 0 {
            for c in &self.net {
                actions.push(Action::NetworkDrops { conn: c.id });
            }
        }
    }

    /// Whether a token has not expired (time has not passed its `exp`).
    pub(crate) fn token_valid_now(&self, t: Token) -> bool {
        self.expired_upto.is_none_or(|e| t.seq > e)
    }

    fn conn_idx(&self, id: ConnId) -> usize {
        self.net
            .iter()
            .position(|c| c.id == id)
            .expect("action names an open connection")
    }

    /// Evaluates `f` as the server would for `identity`, recording what
    /// properties read. `stamp`: users signed out when the request was sent.
    fn evaluate(
        &mut self,
        ctx: &Ctx,
        f: FnIdx,
        identity: Option<Token>,
        stamp: UserSet,
        conn: ConnId,
        fx: &mut Fx,
    ) -> Outcome {
        let func = &ctx.functions[f as usize];
        let user: Option<User> = identity.map(|t| t.user);
        let outcome = match (func.auth, user) {
            (AuthReq::None, _) => Outcome::Value {
                for_user: None,
                null: false,
            },
            (AuthReq::Required | AuthReq::UserRow, None) => {
                Outcome::Failed(QueryError::Unauthenticated)
            }
            (AuthReq::Optional, None) => Outcome::Value {
                for_user: None,
                null: true,
            },
            (AuthReq::Required, Some(u)) => Outcome::Value {
                for_user: Some(u),
                null: func.reads_users && self.server.rows & (1 << u) == 0,
            },
            (AuthReq::UserRow, Some(u)) => {
                if self.server.rows & (1 << u) != 0 {
                    Outcome::Value {
                        for_user: Some(u),
                        null: false,
                    }
                } else {
                    Outcome::Failed(QueryError::UserRowMissing)
                }
            }
            (AuthReq::Optional, Some(u)) => Outcome::Value {
                for_user: Some(u),
                null: func.reads_users && self.server.rows & (1 << u) == 0,
            },
        };
        fx.obs(|| Obs::ServerEval {
            conn,
            f,
            identity,
            outcome,
        });
        let who = match identity {
            Some(t) => format!("as {} ({t})", user_name(t.user)),
            None => "with no identity".to_string(),
        };
        if matches!(func.auth, AuthReq::Required | AuthReq::UserRow) {
            self.trigger(PropertyId::QueryRunsAuthenticated);
            if user.is_none() {
                self.violate(PropertyId::QueryRunsAuthenticated);
                fx.violation(Actor::Server, PropertyId::QueryRunsAuthenticated, || {
                    format!(
                        "evaluates {} {who} on conn {conn}: {}",
                        ctx.fn_name(f),
                        outcome.describe()
                    )
                });
                return outcome;
            }
        }
        if func.auth == AuthReq::UserRow
            && let Some(u) = user
        {
            self.trigger(PropertyId::UserRowReady);
            if self.server.rows & (1 << u) == 0 {
                self.violate(PropertyId::UserRowReady);
                fx.violation(Actor::Server, PropertyId::UserRowReady, || {
                    format!(
                        "evaluates {} as {} before {}'s user row exists",
                        ctx.fn_name(f),
                        user_name(u),
                        user_name(u)
                    )
                });
                return outcome;
            }
        }
        if let Some(u) = user
            && stamp & (1 << u) != 0
        {
            self.violate(PropertyId::NoStaleIdentity);
            fx.violation(Actor::Server, PropertyId::NoStaleIdentity, || {
                format!(
                    "evaluates {} as {} for a request sent after {}'s sign-out was committed",
                    ctx.fn_name(f),
                    user_name(u),
                    user_name(u)
                )
            });
            return outcome;
        }
        fx.note(Actor::Server, Actor::Server, || {
            format!("evaluates {} {who}: {}", ctx.fn_name(f), outcome.describe())
        });
        outcome
    }

    /// Re-runs subscriptions of connection `ci` selected by `which`, returning
    /// the changed results (a Transition carries only what changed).
    fn rerun(
        &mut self,
        ctx: &Ctx,
        ci: usize,
        stamp: UserSet,
        which: impl Fn(&Ctx, FnIdx) -> bool,
        fx: &mut Fx,
    ) -> Small<(QueryId, Option<Outcome>), 4> {
        let identity = self.net[ci].server.identity;
        let conn = self.net[ci].id;
        let subs = self.net[ci].server.subs.clone();
        let mut changed = Small::new();
        let mut new_subs = Small::new();
        for (q, f, last) in subs {
            if which(ctx, f) {
                let o = self.evaluate(ctx, f, identity, stamp, conn, fx);
                if last != Some(o) {
                    changed.push((q, Some(o)));
                }
                new_subs.push((q, f, Some(o)));
            } else {
                new_subs.push((q, f, last));
            }
        }
        self.net[ci].server.subs = new_subs;
        changed
    }

    /// Queues a frame for the client on connection `ci`.
    fn server_send(&mut self, ci: usize, mut frame: ServerFrame, fx: &mut Fx) {
        let c = &mut self.net[ci];
        let conn = c.id;
        if let ServerFrame::Transition { first, .. } = &mut frame {
            *first = !c.server.sent_transition;
            c.server.sent_transition = true;
        }
        fx.obs(|| Obs::ServerSend(conn, frame.clone()));
        c.down.push(frame);
    }

    /// Sends a Transition of connection `ci`'s identity version from `start`
    /// to `end` carrying `results` (`server_send` sets `first`).
    fn send_transition(
        &mut self,
        ci: usize,
        start: u8,
        end: u8,
        results: Small<(QueryId, Option<Outcome>), 4>,
        fx: &mut Fx,
    ) {
        let frame = ServerFrame::Transition {
            first: false,
            start,
            end,
            results,
        };
        self.server_send(ci, frame, fx);
    }

    /// The update for the `Authenticate` just accepted on `ci` had not been
    /// built when the next frame was refused: its Transition (still the last
    /// frame queued) is never sent, and the AuthError reports the version of
    /// the last finished Transition (convex-backend `SyncState`: the
    /// identity version advances when the update is built).
    fn abandon_pending_update(&mut self, ci: usize, fx: &mut Fx) {
        let c = &mut self.net[ci];
        let Some(ServerFrame::Transition {
            start, end, first, ..
        }) = c.down.pop()
        else {
            return;
        };
        c.server.update_pending = false;
        c.server.version = start;
        if first {
            c.server.sent_transition = false;
        }
        fx.note(Actor::Server, Actor::Server, || {
            format!("the update for identity v{end} is not built yet: never sent; the AuthError reports v{start}")
        });
    }

    /// Closes connection `ci` from the server side: it stops reading it.
    fn server_close(&mut self, ci: usize, fx: &mut Fx) {
        self.server_send(ci, ServerFrame::Close, fx);
        let c = &mut self.net[ci];
        c.server.closed = true;
        c.up.clear();
    }

    /// AuthError then close.
    fn auth_error_and_close(&mut self, ci: usize, update_attempted: bool, fx: &mut Fx) {
        let base = self.net[ci].server.version;
        self.server_send(
            ci,
            ServerFrame::AuthError {
                update_attempted,
                base,
            },
            fx,
        );
        self.server_close(ci, fx);
    }

    /// The server handles the next client frame on `conn`.
    pub(crate) fn server_receives(
        &mut self,
        ctx: &Ctx,
        conn: ConnId,
        reject: bool,
        before_update: bool,
        fx: &mut Fx,
    ) -> bool {
        let ci = self.conn_idx(conn);
        let sent = self.net[ci].up.remove(0);
        let update_pending = std::mem::take(&mut self.net[ci].server.update_pending);
        if fx.on() {
            let d = sent.frame.describe(&|f| ctx.fn_short(f));
            let sc = &self.net[ci].server;
            let note = match (&sent.frame, sc.version, sc.identity) {
                (ClientFrame::ModifyQuerySet { .. }, 0, None) => " (no Authenticate yet)",
                _ => "",
            };
            fx.note(Actor::Client, Actor::Server, || format!("{d}{note}"));
        }
        let stamp = sent.signed_out_at_send;
        match sent.frame {
            ClientFrame::Connect => self.net[ci].server.session = true,
            ClientFrame::Authenticate { token, base } => {
                if let Some(t) = token
                    && (reject || !self.token_valid_now(t))
                {
                    if reject {
                        self.budgets.reject_tokens -= 1;
                    }
                    fx.note(Actor::Server, Actor::Server, || {
                        if reject {
                            format!("rejects {t}")
                        } else {
                            format!("rejects {t}: expired")
                        }
                    });
                    if before_update {
                        self.net[ci].server.update_pending = update_pending;
                        if self.net[ci].update_unsent() {
                            self.abandon_pending_update(ci, fx);
                        }
                    }
                    self.auth_error_and_close(ci, true, fx);
                    return true;
                }
                let v = self.net[ci].server.version;
                if base != v {
                    fx.note(Actor::Server, Actor::Server, || {
                        format!(
                            "Authenticate baseVersion {base} != {v}: closes (InternalServerError)"
                        )
                    });
                    self.server_close(ci, fx);
                    return true;
                }
                self.net[ci].server.identity = token;
                self.net[ci].server.version = v + 1;
                let results = self.rerun(ctx, ci, stamp, |_, _| true, fx);
                self.send_transition(ci, v, v + 1, results, fx);
                // Tracked only while a later token can still be refused
                // (otherwise the flag would only split states).
                self.net[ci].server.update_pending = self.budgets.reject_tokens > 0
                    || self.budgets.expiries > 0
                    || self.expired_upto.is_some();
            }
            ClientFrame::ModifyQuerySet { base, new, mods } => {
                // The base version is checked on receipt (`SyncState::
                // modify_query_set`), before the update it schedules
                // revalidates the identity.
                let qv = self.net[ci].server.query_set_version;
                if base != qv {
                    fx.note(Actor::Server, Actor::Server, || {
                        format!("ModifyQuerySet base version {base} != {qv}: FatalError, closes")
                    });
                    self.server_send(ci, ServerFrame::FatalError, fx);
                    self.server_close(ci, fx);
                    return true;
                }
                if self.identity_expired(ci) {
                    self.expiry_found(ci, fx);
                    return true;
                }
                self.net[ci].server.query_set_version = new;
                let identity = self.net[ci].server.identity;
                let mut results = Small::new();
                for m in mods {
                    match m {
                        QueryMod::Add(q, f) => {
                            let o = self.evaluate(ctx, f, identity, stamp, conn, fx);
                            self.net[ci].server.subs.push((q, f, Some(o)));
                            results.push((q, Some(o)));
                        }
                        QueryMod::Remove(q) => {
                            self.net[ci].server.subs.retain(|(id, _, _)| *id != q);
                            results.push((q, None));
                        }
                    }
                }
                let v = self.net[ci].server.version;
                self.send_transition(ci, v, v, results, fx);
            }
            ClientFrame::StoreUser { request } => self.server_mutation(ctx, ci, request, stamp, fx),
        }
        true
    }

    /// A `Mutation` of `users:store`: `_retry_mutation` first returns the
    /// stored result of a request that committed before (keyed by the
    /// client's session id and the request id; the caller's identity is not
    /// compared), else runs it with the connection's identity and records a
    /// success (convex-backend `application_function_runner`
    /// `check_mutation_status` / `write_mutation_status`).
    fn server_mutation(&mut self, ctx: &Ctx, ci: usize, request: u8, stamp: UserSet, fx: &mut Fx) {
        // `Mutation`: `revalidate_identity()` before anything else.
        if self.identity_expired(ci) {
            self.expiry_found(ci, fx);
            return;
        }
        let conn = self.net[ci].id;
        let identity = self.net[ci].server.identity;
        let store = crate::model::USERS_STORE;
        // No Connect on this socket (resumed without onOpen): no session id,
        // so nothing is looked up and nothing recorded (`worker.rs`:
        // `session_id().map(...)`).
        let session = self.net[ci].server.session;
        if session && self.server.committed.contains(&request) {
            fx.note(Actor::Server, Actor::Server, || {
                format!("{store} request {request} committed before: returns its stored result, runs nothing")
            });
            fx.obs(|| Obs::ServerMutation {
                conn,
                identity,
                outcome: MutationOutcome::Stored,
            });
            self.server_send(
                ci,
                ServerFrame::StoreResponse {
                    request,
                    success: true,
                },
                fx,
            );
            // The worker schedules an update after every mutation: a
            // Transition past the commit's timestamp follows.
            let v = self.net[ci].server.version;
            self.send_transition(ci, v, v, Small::new(), fx);
            return;
        }
        self.trigger(PropertyId::StoreRunsAuthenticated);
        match identity {
            Some(t) => {
                if stamp & (1 << t.user) != 0 {
                    self.violate(PropertyId::NoStaleIdentity);
                    fx.violation(Actor::Server, PropertyId::NoStaleIdentity, || {
                        format!("runs {store} as {} for a request sent after {}'s sign-out was committed", user_name(t.user), user_name(t.user))
                    });
                }
                let new_row = self.server.rows & (1 << t.user) == 0;
                self.server.rows |= 1 << t.user;
                if session && !self.server.committed.contains(&request) {
                    self.server.committed.push(request);
                    self.server.committed.sort_unstable();
                }
                fx.note(Actor::Server, Actor::Server, || {
                    format!(
                        "runs {store} as {}: row {}",
                        user_name(t.user),
                        if new_row { "inserted" } else { "exists" }
                    )
                });
                fx.obs(|| Obs::ServerMutation {
                    conn,
                    identity,
                    outcome: if new_row {
                        MutationOutcome::Inserted
                    } else {
                        MutationOutcome::Exists
                    },
                });
                self.server_send(
                    ci,
                    ServerFrame::StoreResponse {
                        request,
                        success: true,
                    },
                    fx,
                );
                self.users_table_changed(ctx, Some(ci), new_row, stamp, fx);
            }
            None => {
                fx.obs(|| Obs::ServerMutation {
                    conn,
                    identity: None,
                    outcome: MutationOutcome::Unauthenticated,
                });
                self.violate(PropertyId::StoreRunsAuthenticated);
                fx.violation(Actor::Server, PropertyId::StoreRunsAuthenticated, || {
                    format!("runs {store} with no identity: Unauthenticated")
                });
                self.server_send(
                    ci,
                    ServerFrame::StoreResponse {
                        request,
                        success: false,
                    },
                    fx,
                );
            }
        }
    }

    /// A commit re-runs the subscriptions that read what it wrote (`wrote`:
    /// it changed `users`), on every connection the server still serves; a
    /// connection gets a Transition when a result changed, and the mutating
    /// one always does: its timestamp advances past the commit, which
    /// resolves the mutation. A commit that wrote nothing invalidates no
    /// subscription (the read-set intersection is empty).
    fn users_table_changed(
        &mut self,
        ctx: &Ctx,
        mutating: Option<usize>,
        wrote: bool,
        stamp: UserSet,
        fx: &mut Fx,
    ) {
        for ci in 0..self.net.len() {
            if self.net[ci].server.closed || !self.net[ci].opened {
                continue;
            }
            let reads_users = wrote
                && self.net[ci]
                    .server
                    .subs
                    .iter()
                    .any(|(_, f, _)| ctx.functions[*f as usize].reads_users);
            if !reads_users && Some(ci) != mutating {
                continue;
            }
            // An invalidated subscription (or the mutation's own connection)
            // schedules an update, which revalidates the identity first.
            if self.identity_expired(ci) {
                self.expiry_found(ci, fx);
                continue;
            }
            let results = if reads_users {
                self.rerun(
                    ctx,
                    ci,
                    stamp,
                    |ctx, f| ctx.functions[f as usize].reads_users,
                    fx,
                )
            } else {
                Small::new()
            };
            if !results.is_empty() || Some(ci) == mutating {
                let v = self.net[ci].server.version;
                self.send_transition(ci, v, v, results, fx);
            }
        }
    }

    /// The provider's webhook (an HTTP action) inserts `user`'s row: the
    /// commit re-runs the subscriptions that read `users` on every connection.
    pub(crate) fn server_webhook(&mut self, ctx: &Ctx, user: User, fx: &mut Fx) -> bool {
        self.server.rows |= 1 << user;
        fx.note(Actor::Server, Actor::Server, || {
            format!(
                "the auth provider's webhook inserts {}'s users row",
                user_name(user)
            )
        });
        self.users_table_changed(ctx, None, true, 0, fx);
        true
    }

    /// Fault (time): the token of `conn`'s identity expires, with every
    /// token issued before it. The server sends nothing yet.
    pub(crate) fn token_expires(&mut self, _ctx: &Ctx, conn: ConnId, fx: &mut Fx) -> bool {
        self.budgets.expiries = self.budgets.expiries.saturating_sub(1);
        let ci = self.conn_idx(conn);
        let t = self.net[ci]
            .server
            .identity
            .expect("expiry needs an identity");
        self.expired_upto = Some(self.expired_upto.map_or(t.seq, |e| e.max(t.seq)));
        fx.note(Actor::Server, Actor::Server, || {
            format!("{t} expires (and every token issued before it)")
        });
        true
    }

    /// The expiry and its discovery in one step (the conformance harness's
    /// eager `serverExpire`).
    pub(crate) fn server_expires(&mut self, ctx: &Ctx, conn: ConnId, fx: &mut Fx) -> bool {
        self.token_expires(ctx, conn, fx);
        let ci = self.conn_idx(conn);
        self.expiry_found(ci, fx);
        true
    }

    /// Whether connection `ci`'s identity has expired.
    fn identity_expired(&self, ci: usize) -> bool {
        self.net[ci]
            .server
            .identity
            .is_some_and(|t| !self.token_valid_now(t))
    }

    /// `revalidate_identity` fails: AuthError{authUpdateAttempted:false},
    /// then close (convex-backend `SyncState::identity`, "TokenExpired").
    fn expiry_found(&mut self, ci: usize, fx: &mut Fx) {
        fx.note(Actor::Server, Actor::Server, || {
            "finds the identity's token expired".to_string()
        });
        self.auth_error_and_close(ci, false, fx);
    }

    /// Fault: the socket breaks; everything in flight on it is lost.
    pub(crate) fn network_drops(&mut self, ctx: &Ctx, conn: ConnId, fx: &mut Fx) -> bool {
        self.budgets.socket_drops -= 1;
        self.net.retain(|c| c.id != conn);
        fx.span(Actor::Client, Actor::Server, || {
            format!("socket drop: conn {conn} lost with everything in flight")
        });
        self.client_socket_dropped(ctx, conn, fx);
        true
    }
}
