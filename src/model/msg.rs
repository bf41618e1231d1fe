//! The protocol: every value that crosses an actor boundary.
//!
//! Frames mirror `convex/src/browser/sync/protocol.ts` (`ClientMessage`,
//! `ServerMessage`) reduced to the fields the auth lifecycle reads: identity
//! versions, the token, query ids and their outcomes. Query-set versions and
//! timestamps are left out (see `docs/model.md`, "Abstractions").

use serde::Serialize;
use smallvec::SmallVec;

/// A short list of values that own nothing, kept inline in the state (no
/// heap allocation while it holds at most `N` items). A `SmallVec` whose
/// clone copies its items in one go: every step clones the state, and
/// `SmallVec`'s own clone goes item by item.
#[derive(PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Small<T: Copy, const N: usize>(pub SmallVec<[T; N]>);

/// A short list of values that own lists, kept inline in the state.
pub type Queue<T, const N: usize> = SmallVec<[T; N]>;

impl<T: Copy, const N: usize> Small<T, N> {
    pub fn new() -> Self {
        Small(SmallVec::new())
    }

    pub fn one(x: T) -> Self {
        Small(smallvec::smallvec![x])
    }
}

impl<T: Copy, const N: usize> Default for Small<T, N> {
    fn default() -> Self {
        Small::new()
    }
}

impl<T: Copy, const N: usize> Clone for Small<T, N> {
    fn clone(&self) -> Self {
        Small(SmallVec::from_slice(&self.0))
    }
}

impl<T: Copy + std::fmt::Debug, const N: usize> std::fmt::Debug for Small<T, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: Copy, const N: usize> std::ops::Deref for Small<T, N> {
    type Target = SmallVec<[T; N]>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<T: Copy, const N: usize> std::ops::DerefMut for Small<T, N> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<T: Copy, const N: usize> FromIterator<T> for Small<T, N> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Small(SmallVec::from_iter(iter))
    }
}

impl<T: Copy, const N: usize> Extend<T> for Small<T, N> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.0.extend(iter)
    }
}

impl<T: Copy, const N: usize> IntoIterator for Small<T, N> {
    type Item = T;
    type IntoIter = smallvec::IntoIter<[T; N]>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, T: Copy, const N: usize> IntoIterator for &'a Small<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a, T: Copy, const N: usize> IntoIterator for &'a mut Small<T, N> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut()
    }
}

/// A user of the app. `0` is A, `1` is B.
pub type User = u8;
/// A WebSocket connection, numbered in the order the client opened them.
pub type ConnId = u8;
/// `QueryId` of `local_state.ts`: allocated by `LocalSyncState.subscribe`.
pub type QueryId = u8;
/// Index of a function in the scenario's function table.
pub type FnIdx = u8;
/// A set of users as a bit mask (bit `u` is user `u`).
pub type UserSet = u8;

/// Display name of a user.
pub fn user_name(u: User) -> &'static str {
    match u {
        0 => "A",
        1 => "B",
        _ => "?",
    }
}

/// A JWT handed out by the auth provider. Tokens are distinct values: the
/// user they identify and a global issue number, so "the same token" and
/// "an older token" are observable (`LocalSyncState.isNewAuth` compares values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Token {
    pub user: User,
    /// Issue order; a token issued earlier expires earlier.
    pub seq: u8,
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tok({}#{})", user_name(self.user), self.seq)
    }
}

/// Why a query failed on the server (`QueryFailed` in a `Transition`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum QueryError {
    /// The function threw because `ctx.auth.getUserIdentity()` was null.
    Unauthenticated,
    /// The function threw because the caller's row in `users` did not exist.
    UserRowMissing,
}

/// The outcome of one evaluation of a query function on the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Outcome {
    /// A value. `for_user` is the identity the value was computed for
    /// (`None` for values that do not depend on the caller); `null` is true
    /// when the function returned `null` (e.g. `users:current` with no row).
    Value { for_user: Option<User>, null: bool },
    /// `QueryFailed`.
    Failed(QueryError),
}

impl Outcome {
    pub fn describe(&self) -> String {
        match self {
            Outcome::Value {
                for_user: Some(u),
                null: false,
            } => format!("value for {}", user_name(*u)),
            Outcome::Value {
                for_user: Some(u),
                null: true,
            } => format!("null for {}", user_name(*u)),
            Outcome::Value {
                for_user: None,
                null: false,
            } => "value".to_string(),
            Outcome::Value {
                for_user: None,
                null: true,
            } => "null".to_string(),
            Outcome::Failed(QueryError::Unauthenticated) => "Unauthenticated".to_string(),
            Outcome::Failed(QueryError::UserRowMissing) => "user row missing".to_string(),
        }
    }
}

/// One entry of a `ModifyQuerySet` (`AddQuery` / `RemoveQuery`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryMod {
    Add(QueryId, FnIdx),
    Remove(QueryId),
}

/// `ClientMessage` of `protocol.ts`, as far as auth races are concerned.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientFrame {
    /// `Connect`: first frame on every new socket (`client.ts` `onOpen`).
    Connect,
    /// `Authenticate` with `tokenType: "User"` (`Some`) or `"None"` (`None`).
    Authenticate { token: Option<Token>, base: u8 },
    /// `ModifyQuerySet` from query-set version `base` to `new`.
    ModifyQuerySet {
        base: u8,
        new: u8,
        mods: Small<QueryMod, 4>,
    },
    /// `Mutation` of `users:store` with its request id.
    StoreUser { request: u8 },
}

/// A client frame in flight, stamped with the users whose sign-out the app
/// had committed when it was sent (for `no-stale-identity`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sent {
    pub frame: ClientFrame,
    pub signed_out_at_send: UserSet,
}

/// `ServerMessage` of `protocol.ts`, as far as auth races are concerned.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServerFrame {
    /// `Transition` from identity version `start` to `end`; `results` holds
    /// `QueryUpdated`/`QueryFailed` (`Some`) and `QueryRemoved` (`None`).
    Transition {
        start: u8,
        end: u8,
        results: Small<(QueryId, Option<Outcome>), 4>,
        /// The connection's first Transition (it starts from the initial
        /// version `{querySet: 0, identity: 0, ts: 0}`).
        first: bool,
    },
    /// `AuthError`; always followed by `Close`.
    AuthError { update_attempted: bool, base: u8 },
    /// `FatalError`: the server refuses the session (e.g. a ModifyQuerySet
    /// whose base version is not the connection's query-set version);
    /// followed by `Close`.
    FatalError,
    /// `MutationResponse` of `users:store`.
    StoreResponse { request: u8, success: bool },
    /// The server closed the socket (the client's `ws.onclose`).
    Close,
}

impl ClientFrame {
    pub fn describe(&self, fn_name: &dyn Fn(FnIdx) -> String) -> String {
        match self {
            ClientFrame::Connect => "Connect".to_string(),
            ClientFrame::Authenticate { token: Some(t), .. } => format!("Authenticate {t}"),
            ClientFrame::Authenticate { token: None, .. } => "Authenticate None".to_string(),
            ClientFrame::ModifyQuerySet { mods, .. } => {
                let parts: Vec<String> = mods
                    .iter()
                    .map(|m| match m {
                        QueryMod::Add(_, f) => format!("+{}", fn_name(*f)),
                        QueryMod::Remove(q) => format!("-q{q}"),
                    })
                    .collect();
                if parts.is_empty() {
                    "ModifyQuerySet (empty)".to_string()
                } else {
                    format!("ModifyQuerySet {}", parts.join(" "))
                }
            }
            ClientFrame::StoreUser { .. } => "Mutation users:store".to_string(),
        }
    }
}

impl ServerFrame {
    pub fn describe(&self) -> String {
        match self {
            ServerFrame::Transition {
                start,
                end,
                results,
                ..
            } => {
                let mut s = if end > start {
                    format!("Transition identity v{start}->v{end}")
                } else {
                    "Transition".to_string()
                };
                if !results.is_empty() {
                    let parts: Vec<String> = results
                        .iter()
                        .map(|(q, o)| match o {
                            Some(o) => format!("q{q}={}", o.describe()),
                            None => format!("q{q} removed"),
                        })
                        .collect();
                    s.push_str(&format!(" [{}]", parts.join(", ")));
                }
                s
            }
            ServerFrame::AuthError {
                update_attempted, ..
            } => format!("AuthError (authUpdateAttempted={update_attempted})"),
            ServerFrame::StoreResponse { success, .. } => {
                format!("MutationResponse users:store success={success}")
            }
            ServerFrame::FatalError => "FatalError".to_string(),
            ServerFrame::Close => "close".to_string(),
        }
    }
}
