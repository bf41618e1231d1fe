//! The auth provider's session as the app sees it, and its `fetchAccessToken`.
//!
//! The provider hook feeds `ConvexProviderWithAuth` (`src/react/ConvexAuthState.tsx`)
//! with `{isLoading, isAuthenticated, fetchAccessToken}`. The provider has two
//! sides: its client state, which the hook shows, and its backend session,
//! which token requests reach. A sign-out ends the backend session first
//! ([`Action::ProviderSignOut`](super::Action::ProviderSignOut): from then on
//! a request to the backend is refused) and reaches the hook in a later task
//! ([`Action::ProviderSignOutSeen`](super::Action::ProviderSignOutSeen)).
//!
//! A `fetchAccessToken` call is answered one of three ways ([`Via`]):
//! * from memory (a token the provider holds: Clerk's cache, AuthKit's
//!   stored token, Convex Auth's `token.current`, Better Auth's first-render
//!   token): the promise is settled before the caller's task ends, so the
//!   continuation runs at the end of the calling step, with nothing in
//!   between;
//! * by a request to the provider's backend, sent with the session cookie of
//!   the moment ([`Action::ProviderAnswers`](super::Action::ProviderAnswers)
//!   answers it when the backend handles it: a token for that session if it
//!   still exists, else null), resolved in the client later still
//!   ([`Action::ClientTokenResolves`](super::Action::ClientTokenResolves)).
//!   Better Auth's `pendingTokenRef` and Clerk's and AuthKit's token caches
//!   share a request in flight with later calls ([`Sharing`]);
//! * for a `custom` provider, whose code is unknown: answered in a later step
//!   from the provider's state then.
//!
//! Per-kind defaults ([`KindDefaults`]) come from the integrations' sources:
//! * Better Auth — `@convex-dev/better-auth@0.12.5` `src/react/index.tsx`
//!   `useUseAuthFromBetterAuth`: the inner hook is memoised on `[authClient]`
//!   and so reads the `cachedToken` of the first render only (the SSR
//!   `initialToken` or null); the fetcher is `useCallback(.., [sessionId])`;
//!   forced fetches always `GET /convex/token`; errors become null.
//! * Clerk — `convex@1.48.0` `src/react-clerk/ConvexProviderWithClerk.tsx`
//!   `useUseAuthFromClerk`: `isLoading = !isLoaded`, fetcher rebuilt on
//!   `[orgId, orgRole, sessionId]`; `getToken({skipCache})` caches while the
//!   token is valid; signed out -> null.
//! * AuthKit — `@convex-dev/workos` `ConvexProviderWithAuthKit`:
//!   `forceRefreshToken` is ignored (a forced fetch yields the cached token
//!   while it is valid); the fetcher is never rebuilt after load.
//! * Convex Auth — `@convex-dev/auth` `AuthProvider`: non-forced fetches
//!   return the in-memory token without an expiry check; forced fetches
//!   refresh; the fetcher never changes.

use super::client::{Answer, Via};
use super::msg::{Token, User, UserSet, user_name};
use super::{Actor, Anomaly, Ctx, Fx, NonForced, Obs, State};
use crate::scenario::{AfterSignOut, AtLoad, ForcedRefresh, Kind, RebuildFetcher};

/// Where a token request's answer comes from.
enum Source {
    /// The provider answers from what it holds (no network): a token or null.
    Held(Option<Token>),
    /// The provider asks its backend, with the session cookie of the moment
    /// (`None`: no session).
    Network(Option<User>),
}

/// How a provider shares a backend token request in flight with later calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sharing {
    /// Every call makes its own request.
    None,
    /// Better Auth 0.12.5 `pendingTokenRef`: one ref per provider, kept across
    /// `fetchAccessToken` generations (so across users); a non-forced call
    /// joins whatever request is in flight; a forced one starts a new request
    /// and overwrites the ref; any request's `finally` clears it.
    AcrossSessions,
    /// Clerk's token cache (keyed by session): a non-forced call joins the
    /// request in flight for the same session; a forced (`skipCache`) one
    /// replaces it. AuthKit likewise shares a refresh in progress, forced or
    /// not (it ignores `forceRefreshToken`).
    PerSession { forced_joins: bool },
}

/// The provider's session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Session {
    /// Still loading (resolves to signed in as A).
    Loading,
    SignedIn(User),
    SignedOut,
}

impl Session {
    pub fn user(self) -> Option<User> {
        match self {
            Session::SignedIn(u) => Some(u),
            _ => None,
        }
    }
    pub fn describe(self) -> String {
        match self {
            Session::Loading => "loading".to_string(),
            Session::SignedIn(u) => format!("signed in as {}", user_name(u)),
            Session::SignedOut => "signed out".to_string(),
        }
    }
}

/// Defaults a `kind` gives the provider keys the scenario leaves out.
pub struct KindDefaults {
    pub at_load: AtLoad,
    pub forced_refresh: ForcedRefresh,
    pub after_sign_out: AfterSignOut,
    pub rebuild_fetcher: RebuildFetcher,
    pub non_forced: NonForced,
    pub hook_sees_initial_token: bool,
    /// A failed token request rejects instead of resolving to null.
    pub errors_throw: bool,
    /// Session changes reach React through `useSyncExternalStore`.
    pub sync_render: bool,
    /// Tokens the provider holds are handed over from memory, in the
    /// caller's task (false: the provider's code is unknown).
    pub answers_from_memory: bool,
    /// How a backend request in flight is shared.
    pub sharing: Sharing,
    /// Signing in yields a token at once (Convex Auth keeps the JWT of the
    /// sign-in flow in `token.current`).
    pub token_at_sign_in: bool,
    /// A sign-out clears the tokens in memory before anything else (Convex
    /// Auth's `setToken(null)` writes `token.current` synchronously).
    pub memory_cleared_first: bool,
    /// A sign-out reaches the backend before the provider's client state.
    pub sign_out_window: bool,
}

impl KindDefaults {
    pub fn of(kind: Kind) -> KindDefaults {
        let base = KindDefaults {
            at_load: AtLoad::Loading,
            forced_refresh: ForcedRefresh::New,
            after_sign_out: AfterSignOut::Null,
            rebuild_fetcher: RebuildFetcher::Never,
            non_forced: NonForced::Cached,
            hook_sees_initial_token: false,
            errors_throw: false,
            sync_render: false,
            answers_from_memory: true,
            sharing: Sharing::None,
            token_at_sign_in: false,
            memory_cleared_first: false,
            sign_out_window: false,
        };
        match kind {
            Kind::BetterAuth => KindDefaults {
                // `authClient.useSession()` is a nanostores atom read with
                // `useSyncExternalStore`.
                sync_render: true,
                rebuild_fetcher: RebuildFetcher::OnSessionChange,
                non_forced: NonForced::InitialThenNetwork,
                hook_sees_initial_token: true,
                sharing: Sharing::AcrossSessions,
                sign_out_window: true,
                ..base
            },
            Kind::Clerk => KindDefaults {
                rebuild_fetcher: RebuildFetcher::OnSessionChange,
                sharing: Sharing::PerSession {
                    forced_joins: false,
                },
                sign_out_window: true,
                ..base
            },
            Kind::Authkit => KindDefaults {
                forced_refresh: ForcedRefresh::Same,
                sharing: Sharing::PerSession { forced_joins: true },
                ..base
            },
            Kind::ConvexAuth => KindDefaults {
                non_forced: NonForced::CachedIgnoringExpiry,
                errors_throw: true,
                token_at_sign_in: true,
                memory_cleared_first: true,
                sign_out_window: true,
                ..base
            },
            Kind::Custom => KindDefaults {
                answers_from_memory: false,
                ..base
            },
        }
    }
}

/// What the provider hook returns to `ConvexProviderWithAuth`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hook {
    pub loading: bool,
    pub authenticated: bool,
    /// Identity of `fetchAccessToken` (a new value is a new function).
    pub fetcher: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Provider {
    /// The session as the provider's client state (and so its hook) shows it.
    pub session: Session,
    /// The user the provider's backend has a live session for: what a token
    /// request's cookie names, and whether the backend honours it.
    pub backend: Option<User>,
    /// The backend request in flight that later calls share ([`Sharing`]).
    pub inflight: Option<u8>,
    /// Next backend request name.
    pub next_req: u8,
    /// Generation of the `fetchAccessToken` function the hook returns.
    pub fetcher: u8,
    /// Next token issue number.
    pub issued: u8,
    /// The token the provider holds for the current session.
    pub cached: Option<Token>,
    /// The last token it handed out, whoever it was for.
    pub last: Option<Token>,
    /// The SSR token (`initialToken`), if the page was server-rendered with one.
    pub initial: Option<Token>,
    /// User actions already taken (each happens at most once per run).
    pub used: u8,
    /// Users whose account exists (signed in at some point, or restored at
    /// load): the webhook that creates their row may have fired.
    pub accounts: UserSet,
}

const USED_SIGN_IN: u8 = 1;
const USED_SIGN_OUT: u8 = 2;
const USED_SWITCH: u8 = 4;
const USED_NEW_FETCHER: u8 = 16;
/// A switch is under way: signed out, about to sign in as the other user.
const SWITCHING: u8 = 8;
/// A sign-out reached the backend but not yet the provider's client state.
const SIGNING_OUT: u8 = 32;

impl Provider {
    pub fn initial(ctx: &Ctx) -> Provider {
        let session = match ctx.at_load {
            AtLoad::Loading => Session::Loading,
            AtLoad::SignedIn => Session::SignedIn(0),
            AtLoad::SignedOut => Session::SignedOut,
        };
        let initial = ctx.ssr_token.then_some(Token { user: 0, seq: 0 });
        // Convex Auth signed in at load holds its session's JWT in memory.
        let held = initial.or((ctx.token_at_sign_in && ctx.at_load == AtLoad::SignedIn)
            .then_some(Token { user: 0, seq: 0 }));
        Provider {
            session,
            backend: (ctx.at_load != AtLoad::SignedOut || initial.is_some()).then_some(0),
            inflight: None,
            next_req: 0,
            fetcher: 0,
            issued: if held.is_some() { 1 } else { 0 },
            cached: held,
            last: held,
            initial,
            used: 0,
            accounts: if ctx.at_load == AtLoad::SignedOut && initial.is_none() {
                0
            } else {
                1
            },
        }
    }

    /// The user the provider vouches for: the signed-in user, or A while a
    /// page server-rendered with A's token loads — and only while its
    /// backend session lasts (a sign-out under way is not "staying signed
    /// in", whatever the hook still shows).
    pub fn effective_user(&self) -> Option<User> {
        let u = match self.session {
            Session::SignedIn(u) => u,
            Session::Loading if self.initial.is_some() => 0,
            _ => return None,
        };
        (self.backend == Some(u)).then_some(u)
    }

    /// Signed out for good: no action of `State::provider_actions` can
    /// sign anyone in again, and no SSR token keeps the hook authenticated.
    pub fn signed_out_for_good(&self, ctx: &Ctx) -> bool {
        self.session == Session::SignedOut
            && self.used & (SWITCHING | SIGNING_OUT) == 0
            && (self.used & USED_SIGN_IN != 0 || !ctx.sign_in)
            && self.initial.is_none()
    }

    /// `useAuth()` as `ConvexProviderWithAuth` calls it.
    pub fn hook(&self, ctx: &Ctx) -> Hook {
        let signed_in = self.session.user().is_some();
        let (loading, authenticated) = if ctx.hook_sees_initial_token {
            // useAuthFromBetterAuth: isLoading = isSessionPending && !cachedToken;
            // isAuthenticated = Boolean(session?.session) || cachedToken !== null,
            // with cachedToken frozen at its first-render value.
            let c0 = self.initial.is_some();
            (self.session == Session::Loading && !c0, signed_in || c0)
        } else if self.initial.is_some() && self.session == Session::Loading {
            // A server-rendered token: signed in from the first render.
            (false, true)
        } else {
            (self.session == Session::Loading, signed_in)
        };
        Hook {
            loading,
            authenticated,
            fetcher: self.fetcher,
        }
    }

    fn change_session(&mut self, ctx: &Ctx, session: Session) {
        let old = self.session;
        self.session = session;
        if old.user() != session.user() {
            self.cached = None;
            if ctx.rebuild_fetcher == RebuildFetcher::OnSessionChange {
                self.fetcher += 1;
            }
        }
    }

    fn issue(&mut self, user: User) -> Token {
        let t = Token {
            user,
            seq: self.issued,
        };
        self.issued += 1;
        self.cached = Some(t);
        self.last = Some(t);
        t
    }
}

impl State {
    pub(crate) fn provider_actions(&self, ctx: &Ctx, actions: &mut Vec<super::Action>) {
        use super::Action;
        let p = &self.provider;
        // The session resolves, and the user acts, only once the page has rendered.
        if self.app.committed.is_none() {
            return;
        }
        if p.used & SIGNING_OUT != 0 {
            actions.push(Action::ProviderSignOutSeen);
        } else {
            match p.session {
                Session::Loading => actions.push(Action::ProviderResolves),
                Session::SignedOut => {
                    if p.used & SWITCHING != 0 {
                        actions.push(Action::ProviderSignIn { user: 1 });
                    } else if ctx.sign_in && p.used & USED_SIGN_IN == 0 {
                        actions.push(Action::ProviderSignIn { user: 0 });
                    }
                }
                Session::SignedIn(_) => {
                    if ctx.new_fetcher && p.used & USED_NEW_FETCHER == 0 {
                        actions.push(Action::ProviderNewFetcher);
                    }
                    if ctx.sign_out && p.used & USED_SIGN_OUT == 0 {
                        actions.push(Action::ProviderSignOut { switching: false });
                    }
                    if ctx.switch_user && p.used & USED_SWITCH == 0 {
                        actions.push(Action::ProviderSignOut { switching: true });
                    }
                }
            }
        }
        self.provider_answer_actions(ctx, actions);
    }

    /// One answer per request the provider has not answered: per backend
    /// request (its first fetch stands for every fetch that joined it), per
    /// deferred fetch.
    fn provider_answer_actions(&self, ctx: &Ctx, actions: &mut Vec<super::Action>) {
        use super::Action;
        for (i, f) in self.client.fetches.iter().enumerate() {
            if f.answer.is_some() {
                continue;
            }
            let network = match f.via {
                Via::Memory => continue,
                Via::Network { req, .. } => {
                    let first = self
                        .client
                        .fetches
                        .iter()
                        .position(|g| matches!(g.via, Via::Network { req: r, .. } if r == req));
                    if first != Some(i) {
                        continue;
                    }
                    true
                }
                Via::Deferred => matches!(self.token_source(ctx, f.forced), Source::Network(_)),
            };
            actions.push(Action::ProviderAnswers {
                fetch: i as u8,
                transient_null: false,
            });
            // Only a request that goes to the network can fail transiently.
            if self.budgets.transient_null > 0 && network {
                actions.push(Action::ProviderAnswers {
                    fetch: i as u8,
                    transient_null: true,
                });
            }
        }
    }

    /// Sets the provider's session directly (conformance schedules drive
    /// the provider hook by hand); the backend follows it.
    pub(crate) fn set_session(&mut self, ctx: &Ctx, session: Session) {
        self.session_changes(ctx, session);
        self.provider.backend = match session {
            Session::SignedIn(u) => Some(u),
            Session::Loading => Some(0),
            Session::SignedOut => None,
        };
    }

    /// A provider change published through `useSyncExternalStore`
    /// (`sync_render`) is a sync-lane update: in the task that changed the
    /// store, React flushes the passive effects still pending, then renders
    /// (with the default-priority updates queued before, e.g. `onAuthChange`:
    /// `SyncUpdateLanes` entangles them), commits and runs this commit's
    /// passive effects. Updates those effects queue render in a later task.
    fn render_now(&mut self, ctx: &Ctx, fx: &mut Fx) {
        if !ctx.sync_render || self.app.committed.is_none() {
            return;
        }
        if self.app.effects.is_some() {
            self.flush_effects(ctx, fx);
        }
        if self.anomaly.is_none() && self.needs_commit(ctx) {
            self.sync_commit(ctx, fx);
            self.flush_effects(ctx, fx);
        }
    }

    /// A change of the provider's user ends the stretch `stable-auth` watches.
    fn session_changes(&mut self, ctx: &Ctx, session: Session) {
        let before = self.provider.effective_user();
        self.provider.change_session(ctx, session);
        // `no-stale-identity` watches U from the committed sign-out until U signs in again.
        if let Some(u) = session.user() {
            self.app.signed_out &= !(1 << u);
            self.provider.accounts |= 1 << u;
        }
        if self.provider.effective_user() != before {
            self.app.authenticated_as = None;
        }
    }

    /// The backend session exists for `user`, and Convex Auth holds the
    /// sign-in flow's token.
    fn backend_signs_in(&mut self, ctx: &Ctx, user: User) {
        self.provider.backend = Some(user);
        if ctx.token_at_sign_in && self.provider.cached.is_none_or(|t| t.user != user) {
            self.provider.issue(user);
        }
    }

    pub(crate) fn provider_resolves(&mut self, ctx: &Ctx, fx: &mut Fx) -> bool {
        self.session_changes(ctx, Session::SignedIn(0));
        self.backend_signs_in(ctx, 0);
        fx.note(Actor::Provider, Actor::Provider, || {
            "session loaded: signed in as A".to_string()
        });
        self.render_now(ctx, fx);
        true
    }

    pub(crate) fn provider_sign_in(&mut self, ctx: &Ctx, user: User, fx: &mut Fx) -> bool {
        let p = &mut self.provider;
        if p.used & SWITCHING != 0 {
            p.used &= !SWITCHING;
        } else {
            p.used |= USED_SIGN_IN;
        }
        self.session_changes(ctx, Session::SignedIn(user));
        self.backend_signs_in(ctx, user);
        fx.note(Actor::Provider, Actor::Provider, || {
            format!("user signs in as {}", user_name(user))
        });
        self.render_now(ctx, fx);
        true
    }

    pub(crate) fn provider_new_fetcher(&mut self, ctx: &Ctx, fx: &mut Fx) -> bool {
        self.provider.used |= USED_NEW_FETCHER;
        self.provider.fetcher += 1;
        fx.note(Actor::Provider, Actor::Provider, || {
            "hands over a new fetchAccessToken (same user)".to_string()
        });
        self.render_now(ctx, fx);
        true
    }

    /// The sign-out reaches the provider's backend: the session ends, and
    /// token requests sent from now on (or not yet handled) are refused. The
    /// provider's client state, and so the hook, still shows the user
    /// (Better Auth: `POST /sign-out`, then a 10 ms timer and `GET
    /// /get-session` before the session atom changes; Clerk: the FAPI call
    /// before the emit; Convex Auth clears `token.current` first).
    pub(crate) fn provider_sign_out(&mut self, ctx: &Ctx, switching: bool, fx: &mut Fx) -> bool {
        let p = &mut self.provider;
        p.used |= SIGNING_OUT
            | if switching {
                USED_SWITCH | SWITCHING
            } else {
                USED_SIGN_OUT
            };
        p.backend = None;
        if ctx.memory_cleared_first {
            p.cached = None;
        }
        // The stretch `stable-auth` watches ends with the backend session.
        self.app.authenticated_as = None;
        if !ctx.sign_out_window {
            fx.note(Actor::Provider, Actor::Provider, || {
                if switching {
                    "user signs out to switch to B".to_string()
                } else {
                    "user signs out".to_string()
                }
            });
            self.sign_out_reaches_hook(ctx, fx);
            return true;
        }
        fx.note(Actor::Provider, Actor::Provider, || {
            if switching {
                "user signs out to switch to B: the backend ends the session".to_string()
            } else {
                "user signs out: the backend ends the session".to_string()
            }
        });
        true
    }

    /// The sign-out reaches the provider's client state: the hook shows
    /// signed out.
    pub(crate) fn provider_sign_out_seen(&mut self, ctx: &Ctx, fx: &mut Fx) -> bool {
        fx.note(Actor::Provider, Actor::Provider, || {
            "the provider's client state shows the sign-out".to_string()
        });
        self.sign_out_reaches_hook(ctx, fx);
        true
    }

    fn sign_out_reaches_hook(&mut self, ctx: &Ctx, fx: &mut Fx) {
        self.provider.used &= !SIGNING_OUT;
        self.session_changes(ctx, Session::SignedOut);
        self.render_now(ctx, fx);
    }

    /// The provider answers token request `i` (and every fetch that joined
    /// it): a backend request from the backend's state now and the cookie it
    /// was sent with; a deferred one from the provider's state now.
    pub(crate) fn provider_answers(
        &mut self,
        ctx: &Ctx,
        i: usize,
        transient_null: bool,
        fx: &mut Fx,
    ) -> bool {
        let (forced, via) = (self.client.fetches[i].forced, self.client.fetches[i].via);
        let answer = if transient_null {
            self.budgets.transient_null -= 1;
            if ctx.errors_throw {
                Answer::Threw
            } else {
                Answer::Token(None)
            }
        } else {
            match via {
                Via::Network { cookie, .. } => Answer::Token(match cookie {
                    Some(u) if self.provider.backend == Some(u) => Some(self.provider.issue(u)),
                    _ => None,
                }),
                Via::Deferred | Via::Memory => Answer::Token(self.deferred_answer(ctx, forced)),
            }
        };
        if let Via::Network { req, .. } = via {
            for f in &mut self.client.fetches {
                if matches!(f.via, Via::Network { req: r, .. } if r == req) {
                    f.answer = Some(answer);
                }
            }
            match ctx.sharing {
                // `.finally(() => { pendingTokenRef.current = null; })`, whichever
                // request the ref holds now.
                Sharing::AcrossSessions => self.provider.inflight = None,
                Sharing::PerSession { .. } if self.provider.inflight == Some(req) => {
                    self.provider.inflight = None
                }
                _ => {}
            }
        } else {
            self.client.fetches[i].answer = Some(answer);
        }
        fx.note(Actor::Provider, Actor::Client, || {
            let what = match answer {
                Answer::Token(Some(t)) => t.to_string(),
                Answer::Token(None) if transient_null => "null (transient failure)".to_string(),
                Answer::Token(None) => "null".to_string(),
                Answer::Threw => "an exception (transient failure)".to_string(),
            };
            format!("fetchAccessToken({{forceRefreshToken:{forced}}}) answers {what}")
        });
        true
    }

    /// How a `fetchAccessToken` call made now is answered, and the answer
    /// when it comes from memory (the promise is settled before the
    /// caller's task ends).
    pub(crate) fn fetch_via(&mut self, ctx: &Ctx, forced: bool) -> (Via, Option<Answer>) {
        if !ctx.answers_from_memory {
            return (Via::Deferred, None);
        }
        match self.token_source(ctx, forced) {
            Source::Held(t) => {
                if t.is_some() {
                    self.provider.last = t;
                }
                (Via::Memory, Some(Answer::Token(t)))
            }
            Source::Network(cookie) => {
                let join = match ctx.sharing {
                    Sharing::None => None,
                    Sharing::AcrossSessions => {
                        (!forced).then_some(self.provider.inflight).flatten()
                    }
                    Sharing::PerSession { forced_joins } => (!forced || forced_joins)
                        .then_some(self.provider.inflight)
                        .flatten(),
                };
                // The request joined and the cookie it was sent with.
                let joined = join.and_then(|r| {
                    self.client.fetches.iter().find_map(|f| match f.via {
                        Via::Network { req, cookie: c } if req == r => Some((r, c)),
                        _ => None,
                    })
                });
                let joined = joined.filter(|&(_, c)| {
                    // Clerk's and AuthKit's caches are per session.
                    ctx.sharing == Sharing::AcrossSessions || c == cookie
                });
                let (req, cookie) = joined.unwrap_or_else(|| {
                    let r = self.provider.next_req;
                    self.provider.next_req += 1;
                    if ctx.sharing != Sharing::None {
                        self.provider.inflight = Some(r);
                    }
                    (r, cookie)
                });
                (Via::Network { req, cookie }, None)
            }
        }
    }

    /// Where the answer to a token request made now comes from.
    fn token_source(&self, ctx: &Ctx, forced: bool) -> Source {
        if !forced
            && ctx.non_forced == NonForced::InitialThenNetwork
            && let Some(t0) = self.provider.initial
        {
            // `if (cachedToken && !forceRefreshToken) return cachedToken;` with
            // the first render's cachedToken, whatever the session is now.
            return Source::Held(Some(t0));
        }
        let backend = self.provider.backend;
        let user = match self.provider.session {
            Session::SignedIn(u) => u,
            // The session cookie exists while the session loads.
            Session::Loading => 0,
            Session::SignedOut => {
                return match ctx.after_sign_out {
                    AfterSignOut::Stale => Source::Held(self.provider.last),
                    // Better Auth asks `/convex/token`, which refuses a
                    // request with no session; the others know in memory.
                    AfterSignOut::Null if ctx.non_forced == NonForced::InitialThenNetwork => {
                        Source::Network(backend)
                    }
                    AfterSignOut::Null => Source::Held(None),
                };
            }
        };
        let fresh = |t: &Token| self.expiring_upto.is_none_or(|e| t.seq > e);
        let cached_valid = self
            .provider
            .cached
            .filter(|t| t.user == user && self.token_valid_now(*t) && fresh(t));
        if !forced {
            match ctx.non_forced {
                NonForced::InitialThenNetwork => Source::Network(backend),
                NonForced::Cached => match cached_valid {
                    Some(t) => Source::Held(Some(t)),
                    None => Source::Network(backend),
                },
                // `return token.current;`: never the network.
                NonForced::CachedIgnoringExpiry => {
                    Source::Held(self.provider.cached.filter(|t| t.user == user))
                }
            }
        } else {
            match ctx.forced_refresh {
                ForcedRefresh::New => Source::Network(backend),
                ForcedRefresh::Same => match cached_valid {
                    Some(t) => Source::Held(Some(t)),
                    None => Source::Network(backend),
                },
                ForcedRefresh::Stale => Source::Held(self.provider.last),
            }
        }
    }

    /// A `custom` provider's answer, from its state now (a token it holds,
    /// or a new one from its backend).
    fn deferred_answer(&mut self, ctx: &Ctx, forced: bool) -> Option<Token> {
        let t = match self.token_source(ctx, forced) {
            Source::Held(t) => t,
            Source::Network(Some(u)) if self.provider.backend == Some(u) => {
                Some(self.provider.issue(u))
            }
            Source::Network(_) => None,
        };
        if t.is_some() {
            self.provider.last = t;
        }
        t
    }

    /// Marks an anomaly (see [`Anomaly`]).
    pub(crate) fn anomaly(&mut self, a: Anomaly, fx: &mut Fx) {
        self.anomaly = Some(a);
        if a.throws() {
            // The TypeError rejects an async function nobody awaits.
            fx.obs(|| Obs::UnhandledRejection);
        }
        fx.note(Actor::Client, Actor::Client, || {
            format!("ANOMALY: {a}; exploration stops here")
        });
    }
}
