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
//! Identity and query-set versions are not names — the client and server do
//! arithmetic on them (`baseVersion + 1`) — and are kept as they are.
//!
//! Traces are replayed without canonicalization, so they show the numbers
//! the run really used.

use super::State;
use super::client::{Answer, AuthState, Ws};
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
}

/// Calls `f` on every name in `s`, with its kind.
fn visit(s: &mut State, f: &mut impl FnMut(Kind, &mut u8)) {
    let p = &mut s.provider;
    f(Kind::Fetcher, &mut p.fetcher);
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
    if let Some(x) = &mut c.closing {
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
    }
    for r in &mut c.requests {
        f(Kind::Request, &mut r.id);
    }
    f(Kind::Request, &mut c.next_request);
    if let Some(r) = &mut s.app.committed {
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

/// Replaces every name in `s` by its rank among the names of its kind.
pub fn canonicalize(s: &mut State) {
    let mut names: [Names; 5] = Default::default();
    visit(s, &mut |k, v| names[k as usize].add(*v));
    // Most states already use the names 0..n of each kind: nothing to rename.
    if names.iter().all(Names::is_dense) {
        return;
    }
    visit(s, &mut |k, v| *v = names[k as usize].rank(*v));
}
