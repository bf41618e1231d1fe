//! The auth provider's session as the app sees it, and its `fetchAccessToken`.
//!
//! The provider hook feeds `ConvexProviderWithAuth` (`src/react/ConvexAuthState.tsx`)
//! with `{isLoading, isAuthenticated, fetchAccessToken}`. A token request is
//! a request the provider answers from its own state *when it reaches it*
//! ([`Action::ProviderAnswers`](super::Action::ProviderAnswers)); the client sees the answer later
//! ([`Action::ClientTokenResolves`](super::Action::ClientTokenResolves)), so a fetch answered while signed in can
//! resolve after the user signed out.
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

use super::client::Answer;
use super::msg::{Token, User, UserSet, user_name};
use super::{Actor, Anomaly, Ctx, Fx, NonForced, State};
use crate::scenario::{AfterSignOut, AtLoad, ForcedRefresh, Kind, RebuildFetcher};

/// Where a token request's answer comes from.
enum Source {
    /// The provider answers from what it holds (no network): a token or null.
    Held(Option<Token>),
    /// The provider asks its backend for a new token for this user.
    Network(User),
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
        };
        match kind {
            Kind::BetterAuth => KindDefaults {
                // `authClient.useSession()` is a nanostores atom read with
                // `useSyncExternalStore`.
                sync_render: true,
                rebuild_fetcher: RebuildFetcher::OnSessionChange,
                non_forced: NonForced::InitialThenNetwork,
                hook_sees_initial_token: true,
                ..base
            },
            Kind::Clerk => KindDefaults {
                rebuild_fetcher: RebuildFetcher::OnSessionChange,
                ..base
            },
            Kind::Authkit => KindDefaults {
                forced_refresh: ForcedRefresh::Same,
                ..base
            },
            Kind::ConvexAuth => KindDefaults {
                non_forced: NonForced::CachedIgnoringExpiry,
                errors_throw: true,
                ..base
            },
            Kind::Custom => base,
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
    pub session: Session,
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

impl Provider {
    pub fn initial(ctx: &Ctx) -> Provider {
        let session = match ctx.at_load {
            AtLoad::Loading => Session::Loading,
            AtLoad::SignedIn => Session::SignedIn(0),
            AtLoad::SignedOut => Session::SignedOut,
        };
        let initial = ctx.ssr_token.then_some(Token { user: 0, seq: 0 });
        Provider {
            session,
            fetcher: 0,
            issued: if initial.is_some() { 1 } else { 0 },
            cached: initial,
            last: initial,
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
    /// page server-rendered with A's token loads.
    pub fn effective_user(&self) -> Option<User> {
        match self.session {
            Session::SignedIn(u) => Some(u),
            Session::Loading if self.initial.is_some() => Some(0),
            _ => None,
        }
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
        if p.session == Session::Loading {
            actions.push(Action::ProviderResolves);
        }
        match p.session {
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
            Session::Loading => {}
        }
        self.provider_answer_actions(ctx, actions);
    }

    fn provider_answer_actions(&self, ctx: &Ctx, actions: &mut Vec<super::Action>) {
        use super::Action;
        for (i, f) in self.client.fetches.iter().enumerate() {
            if f.answer.is_none() {
                actions.push(Action::ProviderAnswers {
                    fetch: i as u8,
                    transient_null: false,
                });
                // Only a request that goes to the network can fail transiently.
                if self.budgets.transient_null > 0
                    && matches!(self.token_source(ctx, f.forced), Source::Network(_))
                {
                    actions.push(Action::ProviderAnswers {
                        fetch: i as u8,
                        transient_null: true,
                    });
                }
            }
        }
    }

    /// Sets the provider's session directly (conformance schedules drive
    /// the provider hook by hand).
    pub(crate) fn set_session(&mut self, ctx: &Ctx, session: Session) {
        self.session_changes(ctx, session);
    }

    /// With `sync_render`, React renders a provider change and runs its
    /// effects in the same task: the commits happen within the provider's step.
    fn render_now(&mut self, ctx: &Ctx, fx: &mut Fx) {
        if !ctx.sync_render || self.app.committed.is_none() {
            return;
        }
        for _ in 0..16 {
            if self.anomaly.is_some() || !self.needs_commit(ctx) {
                return;
            }
            self.commit(ctx, fx);
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

    pub(crate) fn provider_resolves(&mut self, ctx: &Ctx, fx: &mut Fx) -> bool {
        self.session_changes(ctx, Session::SignedIn(0));
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

    pub(crate) fn provider_sign_out(&mut self, ctx: &Ctx, switching: bool, fx: &mut Fx) -> bool {
        let p = &mut self.provider;
        p.used |= if switching {
            USED_SWITCH | SWITCHING
        } else {
            USED_SIGN_OUT
        };
        self.session_changes(ctx, Session::SignedOut);
        fx.note(Actor::Provider, Actor::Provider, || {
            if switching {
                "user signs out to switch to B".to_string()
            } else {
                "user signs out".to_string()
            }
        });
        self.render_now(ctx, fx);
        true
    }

    /// The provider answers token request `i` from its state now.
    pub(crate) fn provider_answers(
        &mut self,
        ctx: &Ctx,
        i: usize,
        transient_null: bool,
        fx: &mut Fx,
    ) -> bool {
        let forced = self.client.fetches[i].forced;
        let answer = if transient_null {
            self.budgets.transient_null -= 1;
            if ctx.errors_throw {
                Answer::Threw
            } else {
                Answer::Token(None)
            }
        } else {
            Answer::Token(self.token_answer(ctx, forced))
        };
        self.client.fetches[i].answer = Some(answer);
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

    /// Where the answer to a token request would come from now.
    fn token_source(&self, ctx: &Ctx, forced: bool) -> Source {
        if !forced && ctx.non_forced == NonForced::InitialThenNetwork {
            // `if (cachedToken && !forceRefreshToken) return cachedToken;` with
            // the first render's cachedToken, whatever the session is now.
            if let Some(t0) = self.provider.initial {
                return Source::Held(Some(t0));
            }
        }
        let user = match self.provider.session {
            Session::SignedIn(u) => u,
            // The session cookie exists while the session loads.
            Session::Loading => 0,
            Session::SignedOut => {
                return Source::Held(match ctx.after_sign_out {
                    AfterSignOut::Null => None,
                    AfterSignOut::Stale => self.provider.last,
                });
            }
        };
        let fresh = |t: &Token| self.expiring_upto.is_none_or(|e| t.seq > e);
        let cached_valid = self
            .provider
            .cached
            .filter(|t| t.user == user && self.token_valid_now(*t) && fresh(t));
        let held = if !forced {
            match ctx.non_forced {
                NonForced::InitialThenNetwork => None,
                NonForced::Cached => cached_valid,
                NonForced::CachedIgnoringExpiry => self.provider.cached.filter(|t| t.user == user),
            }
        } else {
            match ctx.forced_refresh {
                ForcedRefresh::New => None,
                ForcedRefresh::Same => cached_valid,
                ForcedRefresh::Stale => self.provider.last,
            }
        };
        match held {
            Some(t) => Source::Held(Some(t)),
            None => Source::Network(user),
        }
    }

    /// What `fetchAccessToken` yields given the provider's state now.
    fn token_answer(&mut self, ctx: &Ctx, forced: bool) -> Option<Token> {
        let t = match self.token_source(ctx, forced) {
            Source::Held(t) => t,
            Source::Network(user) => Some(self.provider.issue(user)),
        };
        if t.is_some() {
            self.provider.last = t;
        }
        t
    }

    /// Marks an anomaly (see [`Anomaly`]).
    pub(crate) fn anomaly(&mut self, a: Anomaly, fx: &mut Fx) {
        self.anomaly = Some(a);
        fx.note(Actor::Client, Actor::Client, || {
            format!("ANOMALY: {a}; exploration stops here")
        });
    }
}
