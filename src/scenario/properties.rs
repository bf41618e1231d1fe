//! The properties authrace decides. Ids are stable kebab-case: a public interface.

use serde::{Deserialize, Serialize};

/// Safety properties are decided by `stateright` over every reachable state;
/// liveness properties on the explored state graph (`crate::check::liveness`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PropertyKind {
    Safety,
    Liveness,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PropertyId {
    /// No function with auth `required` or `user-row` is evaluated with no
    /// identity. Guards the seed thread and reports 1-9, 14, 25, 26 of
    /// `bug-reports.md` (e.g. convex-backend#242, convex-js#82, better-auth#79).
    QueryRunsAuthenticated,
    /// The root component's `users.store` mutation never runs on the server
    /// with no identity (it would throw "Unauthenticated" and create no row).
    /// A mutation is not a query: a re-sent committed one is answered from
    /// the server's record without running again. Guards report 27
    /// (collabute#132) and the docs' `useStoreUserEffect`.
    StoreRunsAuthenticated,
    /// No `user-row` function is evaluated for a user before that user's row
    /// exists. Guards report 27 (collabute#132, Splitr#64, MCPJam#537).
    UserRowReady,
    /// After the app commits U's sign-out (or a switch away from U), until U
    /// signs in again: no Authenticate carries U's token, the server evaluates
    /// nothing as U for a request sent after that commit, and no component
    /// shows a result computed for U. Guards reports 24, 28, 29.
    NoStaleIdentity,
    /// While the provider stays signed in as the same user,
    /// `useConvexAuth().isAuthenticated` never goes true -> false.
    /// Guards reports 5, 13, 15, 29.
    StableAuth,
    /// From every reachable state where the provider is signed in, a state
    /// where the server has confirmed that user (and the app knows it) is
    /// reachable without further faults or user actions. Guards reports 11,
    /// 13, 14, 16, 20, 21, 23.
    EventuallyAuthenticated,
    /// From every reachable state where the provider is signed in, a state
    /// where every mounted component with an open gate holds a successful
    /// result for the current user is reachable without further faults or
    /// user actions.
    EventuallyResults,
}

impl PropertyId {
    pub const ALL: [PropertyId; 7] = [
        PropertyId::QueryRunsAuthenticated,
        PropertyId::StoreRunsAuthenticated,
        PropertyId::UserRowReady,
        PropertyId::NoStaleIdentity,
        PropertyId::StableAuth,
        PropertyId::EventuallyAuthenticated,
        PropertyId::EventuallyResults,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PropertyId::QueryRunsAuthenticated => "query-runs-authenticated",
            PropertyId::StoreRunsAuthenticated => "store-runs-authenticated",
            PropertyId::UserRowReady => "user-row-ready",
            PropertyId::NoStaleIdentity => "no-stale-identity",
            PropertyId::StableAuth => "stable-auth",
            PropertyId::EventuallyAuthenticated => "eventually-authenticated",
            PropertyId::EventuallyResults => "eventually-results",
        }
    }

    pub fn parse(s: &str) -> Option<PropertyId> {
        PropertyId::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn kind(self) -> PropertyKind {
        match self {
            PropertyId::EventuallyAuthenticated | PropertyId::EventuallyResults => {
                PropertyKind::Liveness
            }
            _ => PropertyKind::Safety,
        }
    }

    /// Bit of this property in `State::violations` / `State::triggered`.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// What the property promises, in one sentence.
    pub fn statement(self) -> &'static str {
        match self {
            PropertyId::QueryRunsAuthenticated => {
                "no function that needs auth runs on the server without an identity"
            }
            PropertyId::StoreRunsAuthenticated => "users.store never runs without an identity",
            PropertyId::UserRowReady => {
                "no function that needs the user's row runs before that row exists"
            }
            PropertyId::NoStaleIdentity => {
                "after a sign-out is committed, nothing is sent, run or shown as the signed-out user"
            }
            PropertyId::StableAuth => {
                "useConvexAuth().isAuthenticated does not go true -> false while the provider stays signed in as the same user"
            }
            PropertyId::EventuallyAuthenticated => {
                "a signed-in user can always become authenticated with the server without further faults"
            }
            PropertyId::EventuallyResults => {
                "a signed-in user's gated components can always get their results without further faults"
            }
        }
    }

    /// What must happen somewhere in the explored space for a verdict other
    /// than `vacuous`.
    pub fn trigger(self) -> &'static str {
        match self {
            PropertyId::QueryRunsAuthenticated => {
                "no `required` or `user-row` function is ever evaluated"
            }
            PropertyId::StoreRunsAuthenticated => "users.store never runs on the server",
            PropertyId::UserRowReady => "no `user-row` function is ever evaluated with an identity",
            PropertyId::NoStaleIdentity => "the app never commits a sign-out or a switch of user",
            PropertyId::StableAuth => "useConvexAuth().isAuthenticated never becomes true",
            PropertyId::EventuallyAuthenticated | PropertyId::EventuallyResults => {
                "the provider is never signed in"
            }
        }
    }
}

impl std::fmt::Display for PropertyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of checking one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Checked over the whole reachable space and exercised.
    Holds,
    /// A counterexample exists (printed as the shortest trace).
    Violated,
    /// The property's trigger never happens in the explored space.
    Vacuous,
    /// A limit was hit before the property was decided.
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Vacuous => "vacuous",
            Verdict::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
