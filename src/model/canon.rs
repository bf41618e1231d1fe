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
//! Traces are replayed without either, so they show the numbers the run
//! really used.

use super::State;
use super::client::{Answer, AuthState, Via, Ws};
use super::msg::{ClientFrame, QueryMod, ServerFrame};

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
    if let AuthState::WaitingForServerConfirmationOfFreshToken { token, .. } = &mut c.auth_state {
        f(Kind::Token, &mut token.seq);
    }
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
