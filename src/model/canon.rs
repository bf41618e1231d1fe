//! Canonical states: renaming that the model cannot observe.
//!
//! Token issue numbers, connection ids, query ids, mutation request ids and
//! the `fetchAccessToken` generation are names: the model only compares
//! them for equality and order (a token issued earlier expires earlier; a
//! new connection or query gets a number larger than every earlier one).
//! Two states that differ only by an order-preserving renaming of these
//! numbers have the same futures, step for step, so the checker explores
//! one: every number is replaced by its rank among the numbers of its kind
//! that the state mentions (the counters of the next number included).
//!
//! Identity and query-set versions are not names — the client and server do
//! arithmetic on them (`baseVersion + 1`) — but they are clocks of one
//! connection: every comparison is between values of the same clock on the
//! same connection (`base == version`, `end > start`, `end <
//! identityVersion`, `base + 1 < identityVersion`), and every change adds to
//! one. Shifting all values of one clock of one connection by the same
//! amount changes no comparison, so each connection's clocks are shifted
//! down ([`normalize_time`]).
//!
//! The client's own versions are shifted with the connection its socket is
//! on, with one limit: they also meet a *fresh* server, whose clocks start
//! at 0, when a socket opened while paused is paused again and resumed
//! (`onResume` without `onOpen`: the client's old versions go out as bases;
//! a ModifyQuerySet base other than 0 is a FatalError, an Authenticate base
//! other than 0 closes the socket). Against a fresh server a client version
//! matters only as 0, 1 or at least 2 (`base + 1 < identityVersion` with
//! the server's base 0), and adding keeps those classes apart, so the
//! client's values are never shifted below 2 (nor from below 2); with no
//! socket, or one whose server has seen nothing yet, they are capped at 2.
//!
//! Time makes both necessary, not just useful: the refetch timer fires
//! whenever it is armed, so a session refreshes forever, each refresh issuing
//! a token and advancing the identity clock. Ranks and shifts keep that
//! space finite. [`normalize_time`] (tokens and versions) is therefore always
//! applied; the other renamings only with symmetry reduction on.
//!
//! **Dead values** ([`normalize_dead`], always applied): a value that no
//! future step, property or liveness fact can read is reset, so states that
//! differ only in it are one state. Each rule names the only readers of
//! what it resets: a token request's bookkeeping once it is answered or
//! stale, the expiry bound of a provider that never caches, the server
//! side of a connection the server closed, query results and mutation ids
//! nothing can ask for again, the users table when nothing reads it, the
//! parts of the previous commit `flush_effects` does not read, the send
//! stamps of frames that evaluate with another identity, and, once the
//! provider is signed out for good, the results behind gates that can
//! never open again. No rule changes which actions are enabled (nor their
//! order), so traces replay position for position; `tests/props.rs` checks
//! on random runs that resetting commutes with every step (a concrete run,
//! normalised, is the normalised run). On the lifecycle benchmark this is
//! the difference between more than 42 million states and 5.4 million.
//!
//! Traces are replayed without any of this, so they show the numbers the
//! run really used.

use super::client::{Answer, AuthState, Via, Ws};
use super::client::{Cont, Fetch};
use super::msg::Token;
use super::msg::{ClientFrame, QueryMod, ServerFrame};
use super::{Ctx, NonForced, State};
use crate::scenario::{AuthReq, ForcedRefresh, Gate, UserRows};

/// The values of one kind of name, as a set of bits; a value's rank is the
/// number of smaller values in the set.
#[derive(Default, Clone, Copy)]
struct Names {
    bits: [u64; 4],
}

impl Names {
    fn add(&mut self, v: u8) {
        self.bits[(v >> 6) as usize] |= 1 << (v & 63);
    }
    /// Whether the values are 0..n: every rank equals its value.
    fn is_dense(&self) -> bool {
        let mut expect_full = true;
        for &b in &self.bits {
            if expect_full {
                if b != u64::MAX {
                    // The first word that is not full: its ones must be a prefix.
                    if b & b.wrapping_add(1) != 0 {
                        return false;
                    }
                    expect_full = false;
                }
            } else if b != 0 {
                return false;
            }
        }
        true
    }
    fn rank(&self, v: u8) -> u8 {
        let w = (v >> 6) as usize;
        let below: u32 = self.bits[..w].iter().map(|b| b.count_ones()).sum();
        let mask = (1u64 << (v & 63)) - 1;
        (below + (self.bits[w] & mask).count_ones()) as u8
    }
}

/// What kind of name a number is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Token,
    Conn,
    Query,
    Request,
    Fetcher,
    /// A backend token request of the provider.
    Req,
}

/// Calls `f` on every name in `s`, with its kind.
fn visit(s: &mut State, f: &mut impl FnMut(Kind, &mut u8)) {
    let p = &mut s.provider;
    f(Kind::Fetcher, &mut p.fetcher);
    f(Kind::Req, &mut p.next_req);
    if let Some(r) = &mut p.inflight {
        f(Kind::Req, r);
    }
    f(Kind::Token, &mut p.issued);
    for t in [&mut p.cached, &mut p.last, &mut p.initial]
        .into_iter()
        .flatten()
    {
        f(Kind::Token, &mut t.seq);
    }
    if let Some(e) = &mut s.expired_upto {
        f(Kind::Token, e);
    }
    if let Some(e) = &mut s.expiring_upto {
        f(Kind::Token, e);
    }
    let c = &mut s.client;
    match &mut c.ws {
        Ws::Connecting { conn, .. } | Ws::Ready { conn, .. } => f(Kind::Conn, conn),
        _ => {}
    }
    f(Kind::Conn, &mut c.next_conn);
    for (x, _) in &mut c.closing {
        f(Kind::Conn, x);
    }
    if let Some(x) = &mut c.remote_from {
        f(Kind::Conn, x);
    }
    if let Some(t) = &mut c.auth {
        f(Kind::Token, &mut t.seq);
    }
    // (The token of `WaitingForServerConfirmationOfFreshToken` is never
    // read: `normalize_dead` resets it, so it is no name.)
    for q in &mut c.queries {
        f(Kind::Query, &mut q.id);
    }
    f(Kind::Query, &mut c.next_query);
    for m in c.pending.iter_mut() {
        match m {
            QueryMod::Add(q, _) | QueryMod::Remove(q) => f(Kind::Query, q),
        }
    }
    for (q, _) in &mut c.remote {
        f(Kind::Query, q);
    }
    for fe in &mut c.fetches {
        if let Some(Answer::Token(Some(t))) = &mut fe.answer {
            f(Kind::Token, &mut t.seq);
        }
        if let Via::Network { req, .. } = &mut fe.via {
            f(Kind::Req, req);
        }
    }
    for r in &mut c.requests {
        f(Kind::Request, &mut r.id);
    }
    f(Kind::Request, &mut c.next_request);
    for r in &mut s.server.committed {
        f(Kind::Request, r);
    }
    if let Some(r) = &mut s.app.committed {
        f(Kind::Fetcher, &mut r.hook.fetcher);
    }
    if let Some(super::app::Effects { prev: Some(r) }) = &mut s.app.effects {
        f(Kind::Fetcher, &mut r.hook.fetcher);
    }
    for conn in &mut s.net {
        f(Kind::Conn, &mut conn.id);
        if let Some(t) = &mut conn.server.identity {
            f(Kind::Token, &mut t.seq);
        }
        for (q, _, _) in &mut conn.server.subs {
            f(Kind::Query, q);
        }
        for sent in &mut conn.up {
            match &mut sent.frame {
                ClientFrame::Authenticate { token: Some(t), .. } => f(Kind::Token, &mut t.seq),
                ClientFrame::ModifyQuerySet { mods, .. } => {
                    for m in mods.iter_mut() {
                        match m {
                            QueryMod::Add(q, _) | QueryMod::Remove(q) => f(Kind::Query, q),
                        }
                    }
                }
                ClientFrame::StoreUser { request } => f(Kind::Request, request),
                _ => {}
            }
        }
        for frame in &mut conn.down {
            match frame {
                ServerFrame::Transition { results, .. } => {
                    for (q, _) in results.iter_mut() {
                        f(Kind::Query, q);
                    }
                }
                ServerFrame::StoreResponse { request, .. } => f(Kind::Request, request),
                _ => {}
            }
        }
    }
}

/// The representative of a state's class: the form [`canonicalize`] gives
/// it. Lets `stateright`'s DFS checker apply the reduction itself
/// (`CheckerBuilder::symmetry`), exploring concrete states and storing
/// representatives.
impl stateright::Representative for State {
    fn representative(&self) -> Self {
        let mut s = self.clone();
        canonicalize(&mut s);
        s
    }
}

/// Replaces every name in `s` by its rank among the names of its kind, and
/// shifts every version clock to start at 0.
pub fn canonicalize(s: &mut State) {
    normalize_versions(s);
    let mut names: [Names; 6] = Default::default();
    visit(s, &mut |k, v| names[k as usize].add(*v));
    // Most states already use the names 0..n of each kind: nothing to rename.
    if names.iter().all(Names::is_dense) {
        return;
    }
    visit(s, &mut |k, v| *v = names[k as usize].rank(*v));
}

/// What keeps time finite, and only that: token issue numbers and the
/// provider's backend request names replaced by their ranks, version clocks
/// shifted to start at 0. Applied when symmetry reduction is off.
pub fn normalize_time(s: &mut State) {
    normalize_versions(s);
    let timed = |k: Kind| matches!(k, Kind::Token | Kind::Req);
    let mut names: [Names; 6] = Default::default();
    visit(s, &mut |k, v| {
        if timed(k) {
            names[k as usize].add(*v)
        }
    });
    if names.iter().all(Names::is_dense) {
        return;
    }
    visit(s, &mut |k, v| {
        if timed(k) {
            *v = names[k as usize].rank(*v)
        }
    });
}

/// Which clock a version belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Clock {
    Identity,
    QuerySet,
}

/// Calls `f` on every version of connection `i`'s clocks.
fn visit_versions(s: &mut State, i: usize, f: &mut impl FnMut(Clock, &mut u8)) {
    let c = &mut s.net[i];
    f(Clock::Identity, &mut c.server.version);
    f(Clock::QuerySet, &mut c.server.query_set_version);
    for sent in &mut c.up {
        match &mut sent.frame {
            ClientFrame::Authenticate { base, .. } => f(Clock::Identity, base),
            ClientFrame::ModifyQuerySet { base, new, .. } => {
                f(Clock::QuerySet, base);
                f(Clock::QuerySet, new);
            }
            ClientFrame::Connect | ClientFrame::StoreUser { .. } => {}
        }
    }
    for frame in &mut c.down {
        match frame {
            ServerFrame::Transition { start, end, .. } => {
                f(Clock::Identity, start);
                f(Clock::Identity, end);
            }
            ServerFrame::AuthError { base, .. } => f(Clock::Identity, base),
            _ => {}
        }
    }
}

/// The smallest client version the shift may leave: below it, a value's
/// class against a fresh server (0, 1, at least 2) would change.
const CLIENT_FLOOR: u8 = 2;

/// Shifts each connection's version clocks down (see the module docs for
/// why that is exact), the client's with its socket's connection.
fn normalize_versions(s: &mut State) {
    let current = s.client.conn();
    let mut on_current = false;
    for i in 0..s.net.len() {
        let mut min = [u8::MAX; 2];
        visit_versions(s, i, &mut |k, v| min[k as usize] = min[k as usize].min(*v));
        let c = &s.net[i];
        let untouched = c.up.is_empty()
            && c.down.is_empty()
            && !c.server.sent_transition
            && c.server.version == 0
            && c.server.query_set_version == 0;
        if current == Some(c.id) && !untouched {
            on_current = true;
            let client = [s.client.identity_version, s.client.query_set_version];
            for k in 0..2 {
                min[k] = min[k]
                    .min(client[k])
                    .min(client[k].saturating_sub(CLIENT_FLOOR));
            }
            s.client.identity_version -= min[Clock::Identity as usize];
            s.client.query_set_version -= min[Clock::QuerySet as usize];
        }
        if min != [0, 0] {
            visit_versions(s, i, &mut |k, v| *v -= min[k as usize]);
        }
    }
    if !on_current {
        s.client.identity_version = s.client.identity_version.min(CLIENT_FLOOR);
        s.client.query_set_version = s.client.query_set_version.min(CLIENT_FLOOR);
    }
}

/// Resets values that no future step, property or liveness fact reads, so
/// that states differing only in them are one state. Each rule names the
/// only readers of what it resets; the enabled actions (and their order)
/// never change, so traces replay position for position.
pub fn normalize_dead(ctx: &Ctx, s: &mut State) {
    for f in s.client.fetches.iter_mut() {
        normalize_fetch(f);
    }
    normalize_stamps(s);
    let current = s.client.conn();
    let (civ, cqv) = (s.client.identity_version, s.client.query_set_version);
    for conn in s.net.iter_mut() {
        // A connection the server closed: `server_actions`, `users_table_changed`
        // and `ClientCloseCompletes` skip it, so nothing reads its frames
        // upstream or its server state again, except the identity, which
        // `authenticated_goal` reads on the client's current connection.
        if !conn.server.closed {
            continue;
        }
        let is_current = current == Some(conn.id);
        conn.up.clear();
        // Versions chosen so that they never lower a clock's minimum in
        // `normalize_versions`.
        let mut m = if is_current { civ } else { u8::MAX };
        for fr in &conn.down {
            match fr {
                ServerFrame::Transition { start, end, .. } => m = m.min(*start).min(*end),
                ServerFrame::AuthError { base, .. } => m = m.min(*base),
                _ => {}
            }
        }
        let sc = &mut conn.server;
        if !is_current {
            sc.identity = None;
        }
        sc.version = if m == u8::MAX { 0 } else { m };
        sc.query_set_version = if is_current { cqv } else { 0 };
        sc.sent_transition = false;
        sc.subs.clear();
        sc.session = false;
        sc.update_pending = false;
    }
    // RemoteQuerySet entries of queries no longer in the query set:
    // `refresh_view` skips them and query ids are never reused.
    let c = &mut s.client;
    let queries = &c.queries;
    c.remote
        .retain(|(id, _)| queries.iter().any(|q| q.id == *id));
    // `_session_requests` ids the client can no longer send (not in its
    // RequestManager, not in flight): only `server_mutation` reads them.
    let (c, net) = (&s.client, &s.net);
    s.server.committed.retain(|r| {
        c.requests.iter().any(|q| q.id == *r)
            || net.iter().any(|conn| {
                conn.up
                    .iter()
                    .any(|x| x.frame == ClientFrame::StoreUser { request: *r })
            })
    });
    // `expiring_upto` is read only by `token_source` for a provider that
    // caches until expiry (non-forced `Cached`, forced `Same`).
    if ctx.non_forced != NonForced::Cached && ctx.forced_refresh != ForcedRefresh::Same {
        s.expiring_upto = None;
    }
    if let AuthState::WaitingForServerConfirmationOfFreshToken { had_auth, token } =
        &mut s.client.auth_state
    {
        // Only `describe` reads the token; `auth_on_transition` reads
        // `had_auth` only when `scheduleTokenRefetch` did not arm the timer,
        // which in this state happens only with tokens that are not JWTs.
        *token = Token { user: 0, seq: 0 };
        if ctx.refetchable_tokens {
            *had_auth = false;
        }
    }
    if !rows_read(ctx) {
        s.server.rows = 0;
    }
    // The previous commit is read by `flush_effects` for its hook, mount and
    // gate bits, `isAuthenticated` and the user only.
    if let Some(super::app::Effects { prev: Some(r) }) = &mut s.app.effects {
        r.is_loading = false;
        r.session = match r.session.user() {
            Some(u) => super::provider::Session::SignedIn(u),
            None => super::provider::Session::SignedOut,
        };
    }
    if s.provider.signed_out_for_good(ctx) {
        // Every gate but `none` needs a signed-in provider: the view is read
        // (`stale_result_shown`, `results_goal`, a current-user gate) only
        // through a gate open now; `stable-auth` needs an effective user.
        let open_now = s.app.committed.is_some_and(|r| r.active != 0);
        if !open_now && ctx.components.iter().all(|c| c.gate != Gate::None) {
            s.client.view.clear();
        }
        s.app.authenticated_as = None;
    }
}

/// The users a frame's evaluation can read in its `signed_out_at_send`
/// stamp: the identity it runs with (the last Authenticate queued before
/// it, else the connection's). A Connect, an `Authenticate None` and a
/// ModifyQuerySet that adds nothing evaluate nothing; a mutation re-runs
/// other connections' queries too, so its stamp is kept whole.
fn normalize_stamps(s: &mut State) {
    for conn in s.net.iter_mut() {
        let mut identity = conn.server.identity;
        for sent in conn.up.iter_mut() {
            let keep = match &sent.frame {
                ClientFrame::Connect => 0,
                ClientFrame::Authenticate { token, .. } => {
                    identity = *token;
                    token.map_or(0, |t| 1 << t.user)
                }
                ClientFrame::ModifyQuerySet { mods, .. } => {
                    if mods.iter().any(|m| matches!(m, QueryMod::Add(..))) {
                        identity.map_or(0, |t| 1 << t.user)
                    } else {
                        0
                    }
                }
                ClientFrame::StoreUser { .. } => u8::MAX,
            };
            sent.signed_out_at_send &= keep;
        }
    }
}

/// Whether the `users` table can ever be read: by the webhook action, or by
/// a query some component can subscribe to (`evaluate`).
fn rows_read(ctx: &Ctx) -> bool {
    if ctx.user_rows == UserRows::Webhook {
        return true;
    }
    let reads = |f: u8| {
        let func = &ctx.functions[f as usize];
        func.reads_users || func.auth == AuthReq::UserRow
    };
    ctx.components.iter().any(|c| {
        reads(c.query) || (c.gate == Gate::CurrentUser && ctx.users_current.is_some_and(reads))
    })
}

/// A token request: once answered, `forced` and `via` are read by nothing
/// but `client_actions` (`via != Memory`): `provider_answer_actions` skips
/// answered fetches and `fetch_via` joins only the request in flight, which
/// `provider_answers` cleared. A stale (not current) fetch's continuation
/// only discards its answer, except `SetConfigRefetch`, which resumes the
/// socket unless it threw (`token_resolves`), and which `start_fetch` keeps.
fn normalize_fetch(f: &mut Fetch) {
    if f.via == Via::Memory {
        return;
    }
    match f.answer {
        Some(a) => {
            if !f.current {
                f.cont = if f.cont == Cont::SetConfigRefetch && a != Answer::Threw {
                    Cont::SetConfigRefetch
                } else {
                    Cont::Refetch
                };
                f.answer = Some(Answer::Token(None));
            }
            f.forced = false;
            f.via = Via::Deferred;
        }
        None if !f.current && f.cont != Cont::SetConfigRefetch => f.cont = Cont::Refetch,
        None => {}
    }
}
