//! # authrace
//!
//! A model checker for the authentication races of real-time web clients:
//! an app signs users in with an auth provider (Better Auth, Clerk, WorkOS
//! AuthKit, Convex Auth), and its Convex client must fetch a JWT, send
//! `Authenticate` and wait for the server's confirmation before queries that
//! need an identity may run. authrace models the provider session, the
//! Convex client's auth lifecycle (npm `convex@1.48.0`), React query
//! dispatch with a gating strategy, the server and the network as concurrent
//! actors of one [`stateright`] model, explores every interleaving, and
//! either proves the properties or prints the shortest counterexample.
//!
//! ## Example
//!
//! ```
//! use authrace::{check::{check, CheckOptions}, scenario::{properties::{PropertyId, Verdict}, Scenario}};
//! use std::path::Path;
//!
//! let text = r#"
//! name = "ungated list, Better Auth loading at first render"
//! [provider]
//! kind = "better-auth"
//! [[function]]
//! name = "queries:listOrganizations"
//! auth = "required"
//! [[component]]
//! name = "OrganizationsList"
//! query = "queries:listOrganizations"
//! gate = "none"
//! "#;
//! let path = Path::new("inline.toml");
//! let scenario = Scenario::parse(path, text).expect("valid scenario");
//! let report = check(path, &scenario, &CheckOptions::default());
//! let p = report.property(PropertyId::QueryRunsAuthenticated);
//! assert_eq!(p.verdict, Verdict::Violated);
//! // The shortest counterexample: the query reaches the server before any Authenticate.
//! assert!(p.trace.as_ref().unwrap().iter().any(|s| s.action.contains("no Authenticate yet")));
//! ```
//!
//! ## Running
//!
//! `authrace scan DIR` reads a Convex + React codebase ([`scan`]): every
//! query call site, its function's auth class, the gate that holds there,
//! and the risks under each trigger, with fixes checked by this model.
//!
//! `authrace check models/seed-better-auth-ungated.toml` prints each
//! property's verdict and, for each violation, the shortest trace. Exit
//! codes: 0 every verdict as expected, 1 a property violated (or a verdict
//! differs from the scenario's `[expect]`), 2 bad input or usage, 3 a limit
//! stopped the check.
//!
//! ## Debugging a failure
//!
//! Each trace step names the actor that acts and what happened inside the
//! step; `--format json` carries the same steps. A verdict you do not expect
//! is best read against `docs/model.md`, which maps each step to the
//! convex-js function it models.
//!
//! ## Layout
//!
//! The modules are layers, each using only those before it:
//! [`scenario`] (the format, property ids) → [`model`] (the actors) →
//! [`check`] (exploration, liveness, traces, reports, suggestions) and
//! [`conformance`] → [`present`] (text, diagrams, explorer, docs) →
//! [`commands`].
//!
//! ## Limitations
//!
//! The model abstracts durations, backoff and React's rendering internals;
//! it models one browser tab, one client and one provider session; each user
//! action happens at most once per run and faults are bounded by their
//! budgets. `docs/model.md` lists every abstraction and omission and why
//! each is sound or what it misses; `docs/conformance.md` what was checked
//! against the real client. In short:
//!
//! * Timers (token refetch, reconnect backoff) fire "at some point": order
//!   is explored, durations are not. The refetch timer is time, not a fault:
//!   it fires whenever armed (`[faults] refreshes` only bounds it), and a
//!   session that refreshes forever stays finite because tokens are kept as
//!   ranks and version clocks are shifted (`model::canon`).
//! * React 19's tasks: a default-priority commit and its passive effects
//!   are separate steps; a `useSyncExternalStore` provider change
//!   (`[provider] sync_render`) renders, commits and runs its effects in the
//!   provider's step; state set in effects renders later. Suspense,
//!   transitions and StrictMode are not modelled.
//! * A token the provider holds in memory resolves in the calling step; a
//!   request to the provider's backend carries the session cookie of its
//!   moment and is answered later (shared in flight as Better Auth, Clerk
//!   and AuthKit share it). A `custom` provider answers every call later,
//!   from its state then.
//! * A sign-out reaches the provider's backend before its hook (Better Auth,
//!   Clerk, Convex Auth; `[provider] sign_out_window`).
//! * The server builds one Transition per client frame in the step that
//!   handles it (no batching), except that a refused `Authenticate` may be
//!   handled before the previous one's update is built (the AuthError's
//!   base then lags); it dedupes committed mutations and finds token
//!   expiry lazily. Timestamps, journals, pagination, actions and optimistic
//!   updates are not modelled.
//! * A component whose query fails keeps its subscription (as under an error
//!   boundary that retries); the real `useQuery` throws during render.
//! * Liveness verdicts are recoverability (from every signed-in state the
//!   goal is reachable without faults or user actions); whether it is also
//!   inevitable under weak fairness is reported beside them.
//! * A counterexample is shortest with BFS (the default), on any number of
//!   threads: it is read off the breadth-first state graph, which decides
//!   every property in one exploration. With DFS, stateright's checker runs
//!   beside it and its path, cut at the first violating state, is reported.
//! * States are told apart by 128-bit fingerprints in the state graph (which
//!   keeps no states, only what each state makes true), and by stateright's
//!   64-bit ones under DFS. Two distinct states with equal fingerprints would
//!   be merged; the chance is negligible at the sizes checked (about n²/2¹²⁹
//!   for n states; n²/2⁶⁵ for stateright's) but not zero.
//! * `check --bitstate` is a bounded search, not a proof: it may miss states
//!   (hash collisions in its bit array), so it reports violations it meets
//!   and `unknown` for everything else, with the coverage it can state.
//! * No partial-order reduction: every interleaving is explored (why, in
//!   `docs/performance.md`), so scenarios with many user actions and faults
//!   (a whole app lifecycle) can exceed memory; they stop with a partial
//!   report, or can be searched in the bounded mode.
//! * Symmetry reduction renames tokens, connections, queries and requests
//!   to their ranks; identical component instances are one component with a
//!   count. Both are exact (no behaviour is lost): see `docs/performance.md`.

pub mod check;
pub mod commands;
pub mod conformance;
pub mod model;
pub mod present;
pub mod scan;
pub mod scenario;

/// The model's version: part of every scenario hash, bumped when the model's
/// semantics change so that stale pinned results are noticed.
pub const MODEL_VERSION: &str =
    concat!("authrace-model-2/convex@1.48.0/", env!("CARGO_PKG_VERSION"));

/// The npm versions the model follows.
pub const PINNED: &str = "convex@1.48.0, @convex-dev/better-auth@0.12.5";
