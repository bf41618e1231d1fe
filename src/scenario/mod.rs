//! Scenario files (`models/*.toml`): the public configuration contract.
//!
//! A scenario names the auth provider and its token behaviour, the client
//! options, the app's components and their gates, the fault budgets and the
//! expected verdicts. Keys are a public interface: new keys may be added,
//! existing ones are never renamed. Every struct denies unknown fields so a
//! typo is an error with a position, never a silently ignored key.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

pub mod properties;
pub mod schema;

use properties::{PropertyId, Verdict};

/// The largest fault budget accepted for any one fault.
pub const MAX_BUDGET: u8 = 3;
/// The largest `instances` accepted for one component.
pub const MAX_INSTANCES: u8 = 6;
/// The largest number of component instances in one scenario.
pub const MAX_COMPONENT_INSTANCES: usize = 8;

/// A scenario file as written.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    #[serde(default)]
    pub provider: ProviderCfg,
    #[serde(default)]
    pub client: ClientCfg,
    #[serde(default)]
    pub app: AppCfg,
    #[serde(default)]
    pub faults: Faults,
    #[serde(default, rename = "function")]
    pub functions: Vec<FunctionCfg>,
    #[serde(default, rename = "component")]
    pub components: Vec<ComponentCfg>,
    #[serde(default)]
    pub check: CheckCfg,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expect: BTreeMap<Spanned<String>, Verdict>,
}

/// Which auth provider integration feeds `ConvexProviderWithAuth`.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    BetterAuth,
    Clerk,
    Authkit,
    ConvexAuth,
    #[default]
    Custom,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::BetterAuth => "better-auth",
            Kind::Clerk => "clerk",
            Kind::Authkit => "authkit",
            Kind::ConvexAuth => "convex-auth",
            Kind::Custom => "custom",
        }
    }
}

/// The provider's session when the page first renders.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum AtLoad {
    /// Loading at the first render; resolves to signed in as A afterwards.
    Loading,
    SignedIn,
    SignedOut,
}

/// What `fetchAccessToken({forceRefreshToken: true})` yields while signed in.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum ForcedRefresh {
    /// A newly issued token.
    New,
    /// The token the provider already holds for this session.
    Same,
    /// The last token the provider handed out, whoever it was for.
    Stale,
}

/// What `fetchAccessToken` yields after sign-out.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum AfterSignOut {
    Null,
    /// The last token handed out (a cache that survives sign-out).
    Stale,
}

/// When the provider hook hands `ConvexProviderWithAuth` a new
/// `fetchAccessToken` function (a new identity re-runs both auth effects).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum RebuildFetcher {
    Never,
    OnSessionChange,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProviderCfg {
    #[serde(default)]
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_load: Option<AtLoad>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssr_token: Option<Spanned<bool>>,
    #[serde(default)]
    pub sign_in: bool,
    #[serde(default)]
    pub sign_out: bool,
    #[serde(default)]
    pub switch_user: bool,
    /// The provider hands over a new `fetchAccessToken` once while signed in
    /// as the same user (an org switch, a session refresh).
    #[serde(default)]
    pub new_fetcher: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_refresh: Option<ForcedRefresh>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_sign_out: Option<AfterSignOut>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebuild_fetcher: Option<RebuildFetcher>,
    /// The provider publishes session changes through `useSyncExternalStore`,
    /// so React renders them and runs their effects in the same task (kind
    /// sets the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_render: Option<bool>,
    /// What `fetchAccessToken` returns: JWTs with `iat`/`exp` living more
    /// than 2 s (default), or opaque tokens, for which the client schedules
    /// no refetch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Tokens>,
    /// A sign-out ends the provider's backend session before its client
    /// state (and hook) shows it, so token requests in between are refused
    /// while the app still shows the user (kind sets the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_out_window: Option<bool>,
}

/// The kind of token the provider hands out, as `scheduleTokenRefetch`
/// sees it.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Tokens {
    /// JWTs with `iat` and `exp` that live more than 2 s: a refetch is
    /// scheduled after each confirmation.
    #[default]
    Jwt,
    /// Not a decodable JWT, no `iat`/`exp`, or living 2 s or less: the client
    /// logs an error and schedules nothing.
    Opaque,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientCfg {
    #[serde(default)]
    pub expect_auth: bool,
    /// `BaseConvexClientOptions.initialAuthTokenReuse`: after the server
    /// confirms the cached token, schedule the refetch instead of refetching
    /// at once.
    #[serde(default)]
    pub initial_token_reuse: bool,
    /// Proposed changes to the modelled code (`authrace patches`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<Patch>,
    /// The npm `convex` release modelled (default 1.48.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Spanned<String>>,
}

/// The npm `convex` releases the model can stand for, and the behaviour
/// each has (`docs/model.md`, "Versions"). 1.49.0 to 1.51.0 carry the auth
/// code of 1.48.0 unchanged.
pub const CLIENT_VERSIONS: &[&str] = &["1.20.0", "1.42.0", "1.48.0", "1.49.0", "1.50.0", "1.51.0"];

/// The client's auth code as it was in a range of releases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Era {
    /// Up to 1.20.0 (before "fix auth races for react native", 1.21.0): no
    /// confirmation retries, no filter on expiry AuthErrors, the refetch
    /// resumes instead of restarting, `restart()` throws unless stopped; no
    /// `expectAuth` (1.26.0), no noAuth guard after `stopSocket` (1.40.0).
    V1_20,
    /// 1.40.0 to 1.42.0: as 1.48.0 without `initialAuthTokenReuse` (1.42.1),
    /// and Clerk rebuilds its fetcher on organisation changes only (1.42.2).
    V1_42,
    /// 1.42.2 to 1.51.0.
    #[default]
    V1_48,
}

impl ClientCfg {
    /// Why the release named by `version` cannot run these options: each
    /// option it lacks that is set.
    pub fn unsupported(&self) -> Vec<String> {
        let Some(v) = self.version.as_ref().map(|v| v.get_ref()) else {
            return Vec::new();
        };
        let era = self.era();
        let mut why = Vec::new();
        if era < Era::V1_48 && self.initial_token_reuse {
            why.push(format!(
                "convex {v} has no initialAuthTokenReuse (added in 1.42.1): remove [client] initial_token_reuse"
            ));
        }
        if era == Era::V1_20 && self.expect_auth {
            why.push(format!(
                "convex {v} has no expectAuth (added in 1.26.0): remove [client] expect_auth"
            ));
        }
        why
    }

    /// The behaviour of the release named by `version`.
    pub fn era(&self) -> Era {
        match self.version.as_ref().map(|v| v.get_ref().as_str()) {
            Some("1.20.0") => Era::V1_20,
            Some("1.42.0") => Era::V1_42,
            _ => Era::V1_48,
        }
    }
}

/// A proposed change to the modelled code, named so that a scenario can
/// check it (`[client] patches`) and `authrace patches` can prove what it
/// removes. Each is also a diff against the pinned npm package
/// (`tests/conformance/patches/<id>.diff`) where the harness can apply it.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Patch {
    /// `BaseConvexClient.clearAuth()` also resets the AuthenticationManager:
    /// it bumps `configVersion` (a token fetch in flight is discarded when it
    /// returns), cancels the refetch timer, resumes a socket that a
    /// superseded `setAuth` paused and restarts one a reauthentication
    /// stopped.
    ClearAuthResetsManager,
    /// A `useQuery` whose arguments turn to `"skip"` removes its query in the
    /// cleanup phase of the commit (as an unmount does), before
    /// `ConvexAuthStateLastEffect`'s `clearAuth()`.
    UnsubscribeBeforeClearAuth,
    /// `tryToReauthenticate` treats a forced fetch that returns the token the
    /// server just rejected or expired as a token to present again, instead
    /// of giving up with `clearAuth()` and `onAuthChange(false)`.
    SameTokenIsSuccess,
}

impl Patch {
    pub const ALL: [Patch; 3] = [
        Patch::ClearAuthResetsManager,
        Patch::UnsubscribeBeforeClearAuth,
        Patch::SameTokenIsSuccess,
    ];
    pub const IDS: &'static [&'static str] = &[
        "clear-auth-resets-manager",
        "unsubscribe-before-clear-auth",
        "same-token-is-success",
    ];

    pub fn id(self) -> &'static str {
        Self::IDS[self as usize]
    }

    pub fn parse(s: &str) -> Option<Patch> {
        Self::ALL.into_iter().find(|p| p.id() == s)
    }

    /// What the change is, in one sentence, and where.
    pub fn about(self) -> &'static str {
        match self {
            Patch::ClearAuthResetsManager => {
                "`BaseConvexClient.clearAuth()` (convex `src/browser/sync/client.ts`) also calls `AuthenticationManager.resetAuthState()` and bumps its `configVersion`: a token fetch in flight is discarded when it returns, the refetch timer is cancelled, a socket paused by the superseded `setAuth` is resumed, and one a reauthentication stopped is restarted."
            }
            Patch::UnsubscribeBeforeClearAuth => {
                "`useQuery` (convex `src/react/use_queries.ts`) removes a query whose arguments turned to `\"skip\"` in the effect cleanup of the commit that skipped it, as an unmount does, so the `Remove` precedes `ConvexAuthStateLastEffect`'s `clearAuth()`."
            }
            Patch::SameTokenIsSuccess => {
                "`AuthenticationManager.tryToReauthenticate` (convex `src/browser/sync/authentication_manager.ts`) presents the token its forced fetch returned even when it equals the one the server refused, instead of `clearAuth()` and `onAuthChange(false)`."
            }
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AppCfg {
    #[serde(default)]
    pub store_user: bool,
    /// Who creates the users-table rows (default `client-store`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_rows: Option<UserRows>,
}

/// Who creates a user's row in the `users` table.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum UserRows {
    /// Only the app's `users.store` mutation (`[app] store_user`).
    #[default]
    ClientStore,
    /// The auth provider's webhook (an HTTP action on the server), at some
    /// moment after the user's account exists, independent of the client.
    Webhook,
    /// Every user's row exists from the start (a returning user).
    Existing,
}

impl UserRows {
    pub fn as_str(self) -> &'static str {
        match self {
            UserRows::ClientStore => "client-store",
            UserRows::Webhook => "webhook",
            UserRows::Existing => "existing",
        }
    }
}

/// Fault budgets: each fault may happen up to N times, at any moment; and
/// an optional bound on the refetch timer, which is time, not a fault.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    #[serde(default = "zero")]
    pub socket_drops: Spanned<u8>,
    /// An optional bound on how often the scheduled token refetch timer
    /// fires. Absent: it fires whenever it is armed (time passes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshes: Option<Spanned<u8>>,
    #[serde(default = "zero")]
    pub expiries: Spanned<u8>,
    #[serde(default = "zero")]
    pub reject_tokens: Spanned<u8>,
    #[serde(default = "zero")]
    pub transient_null: Spanned<u8>,
}

fn zero() -> Spanned<u8> {
    Spanned::new(0..0, 0)
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            socket_drops: zero(),
            refreshes: None,
            expiries: zero(),
            reject_tokens: zero(),
            transient_null: zero(),
        }
    }
}

/// How a Convex function treats the caller's identity.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum AuthReq {
    /// Ignores identity.
    None,
    /// Throws "Unauthenticated" without identity.
    Required,
    /// Throws without identity, and throws when the caller's `users` row is missing.
    UserRow,
    /// Returns null without identity.
    Optional,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FunctionCfg {
    pub name: Spanned<String>,
    pub auth: AuthReq,
}

/// How a component decides whether to pass its arguments or `"skip"`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Gate {
    /// `useQuery(fn, args)`.
    None,
    /// Gated on the provider's own signed-in state (`useSession()`, Clerk `useAuth().isSignedIn`).
    Provider,
    /// `useQuery(fn, useConvexAuth().isAuthenticated ? args : "skip")`.
    ConvexAuth,
    /// Rendered inside `<Authenticated>`.
    Authenticated,
    /// Waits for `isAuthenticated` and the user row (`useCurrentUser`).
    CurrentUser,
}

impl Gate {
    pub const ALL: [Gate; 5] = [
        Gate::None,
        Gate::Provider,
        Gate::ConvexAuth,
        Gate::Authenticated,
        Gate::CurrentUser,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Gate::None => "none",
            Gate::Provider => "provider",
            Gate::ConvexAuth => "convex-auth",
            Gate::Authenticated => "authenticated",
            Gate::CurrentUser => "current-user",
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ComponentCfg {
    pub name: Spanned<String>,
    pub query: Spanned<String>,
    #[serde(default = "default_gate")]
    pub gate: Spanned<Gate>,
    #[serde(default = "default_instances")]
    pub instances: Spanned<u8>,
}

fn default_gate() -> Spanned<Gate> {
    Spanned::new(0..0, Gate::None)
}
fn default_instances() -> Spanned<u8> {
    Spanned::new(0..0, 1)
}

/// Exploration strategy of the checker.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    #[default]
    Bfs,
    Dfs,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CheckCfg {
    #[serde(default)]
    pub strategy: Strategy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<usize>,
}

/// A scenario error: where it is and what would have been accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The offending source line, for display.
    pub source_line: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )?;
        if !self.source_line.is_empty() {
            let gutter = self.line.to_string().len();
            write!(
                f,
                "\n{:gutter$} |\n{} | {}\n{:gutter$} | {:>col$}",
                "",
                self.line,
                self.source_line,
                "",
                "^",
                col = self.column
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Errors reading scenario files: I/O, or one or more positioned errors.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<ScenarioError>),
}

/// Line and column (1-based, in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize, String) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = text[line_start..offset].chars().count() + 1;
    let line_end = text[line_start..]
        .find('\n')
        .map(|i| line_start + i)
        .unwrap_or(text.len());
    (
        line,
        column,
        text[line_start..line_end].trim_end().to_string(),
    )
}

fn error_at(
    path: &Path,
    text: &str,
    span: std::ops::Range<usize>,
    message: String,
) -> ScenarioError {
    let (line, column, source_line) = line_col(text, span.start);
    ScenarioError {
        path: path.to_path_buf(),
        line,
        column,
        message,
        source_line,
    }
}

impl Scenario {
    /// Parses and validates a scenario; `path` is used in error messages
    /// only. Every error found is returned, each with its position.
    pub fn parse(path: &Path, text: &str) -> Result<Scenario, Vec<ScenarioError>> {
        let to_error = |e: &toml::de::Error| {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().replace('\n', " ");
            error_at(path, text, span, message)
        };
        let (doc, syntax) = toml::de::DeTable::parse_recoverable(text);
        if !syntax.is_empty() {
            return Err(syntax.iter().map(to_error).collect());
        }
        let schema_errors = schema::validate(&doc);
        if !schema_errors.is_empty() {
            return Err(schema_errors
                .into_iter()
                .map(|e| error_at(path, text, e.span, e.message))
                .collect());
        }
        let scenario: Scenario = toml::from_str(text).map_err(|e| vec![to_error(&e)])?;
        let errors = scenario.validate(path, text);
        if errors.is_empty() {
            Ok(scenario)
        } else {
            Err(errors)
        }
    }

    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let offset = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            LoadError::Invalid(vec![error_at(
                path,
                &text,
                offset..offset,
                "invalid UTF-8: a scenario file must be UTF-8 text".to_string(),
            )])
        })?;
        Scenario::parse(path, &text).map_err(LoadError::Invalid)
    }

    fn validate(&self, path: &Path, text: &str) -> Vec<ScenarioError> {
        let mut errors = Vec::new();
        let mut err = |span: std::ops::Range<usize>, msg: String| {
            errors.push(error_at(path, text, span, msg));
        };
        if self.name.trim().is_empty() {
            err(0..0, "`name` must not be empty".to_string());
        }
        if let Some(ssr) = &self.provider.ssr_token
            && *ssr.get_ref()
            && matches!(self.provider.kind, Kind::Clerk | Kind::Authkit)
        {
            err(
                ssr.span(),
                format!(
                    "ssr_token = true is not supported for kind = \"{}\": its React provider takes no initial token; accepted with ssr_token: better-auth, convex-auth, custom",
                    self.provider.kind.as_str()
                ),
            );
        }
        if let Some(v) = &self.client.version {
            for why in self.client.unsupported() {
                err(v.span(), why);
            }
        }
        let mut seen_fns: BTreeMap<&str, ()> = BTreeMap::new();
        for f in &self.functions {
            let name = f.name.get_ref().as_str();
            if name.is_empty() {
                err(f.name.span(), "function name must not be empty".to_string());
            } else if is_reserved_function(name) {
                err(
                    f.name.span(),
                    format!(
                        "function `{name}` is reserved: it is the mutation the root component runs when [app] store_user = true, not a query"
                    ),
                );
            } else if seen_fns.insert(name, ()).is_some() {
                err(f.name.span(), format!("duplicate function `{name}`"));
            }
        }
        let mut seen_comps: BTreeMap<&str, ()> = BTreeMap::new();
        let mut total_instances = 0usize;
        for c in &self.components {
            let name = c.name.get_ref().as_str();
            if name.is_empty() {
                err(
                    c.name.span(),
                    "component name must not be empty".to_string(),
                );
            } else if seen_comps.insert(name, ()).is_some() {
                err(c.name.span(), format!("duplicate component `{name}`"));
            }
            let q = c.query.get_ref().as_str();
            if !seen_fns.contains_key(q) {
                let known: Vec<&str> = seen_fns.keys().copied().collect();
                err(
                    c.query.span(),
                    if known.is_empty() {
                        format!(
                            "component `{name}` queries unknown function `{q}`: no [[function]] is declared"
                        )
                    } else {
                        format!(
                            "component `{name}` queries unknown function `{q}`; declared functions: {}",
                            known.join(", ")
                        )
                    },
                );
            }
            let n = *c.instances.get_ref();
            total_instances += n as usize;
        }
        if total_instances > MAX_COMPONENT_INSTANCES {
            err(
                0..0,
                format!(
                    "{total_instances} component instances in all; at most {MAX_COMPONENT_INSTANCES} are supported"
                ),
            );
        }
        errors
    }

    /// The expected verdict per property, as declared in `[expect]`.
    pub fn expectations(&self) -> BTreeMap<PropertyId, Verdict> {
        self.expect
            .iter()
            .filter_map(|(k, v)| PropertyId::parse(k.get_ref()).map(|p| (p, *v)))
            .collect()
    }

    /// A reproducibility hash: FNV-1a over the canonical JSON form of the
    /// scenario and the model version. Equal hashes mean equal inputs.
    pub fn hash(&self) -> String {
        let canonical = serde_json::to_string(self).expect("scenario serializes");
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in crate::MODEL_VERSION.bytes().chain(canonical.bytes()) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

/// Name of the implicit query `useCurrentUser` reads (auth optional, reads `users`).
pub const USERS_CURRENT: &str = "users:current";
/// Name of the implicit mutation the root component runs (`useStoreUserEffect`).
pub const USERS_STORE: &str = "users:store";

/// Functions a scenario may not declare: `users:store` is the mutation the
/// model runs for `store_user`, not a query. (`users:current` may be
/// declared: the declaration's `auth` is then used, else the model defines
/// it as `optional`.)
pub fn is_reserved_function(name: &str) -> bool {
    name == USERS_STORE
}

/// The starter scenario `authrace init` writes.
pub const STARTER: &str = include_str!("starter.toml");
