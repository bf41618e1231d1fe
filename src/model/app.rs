//! The React layer: `ConvexProviderWithAuth` and the app's components.
//!
//! React 19 works in tasks. A default-priority update (the first
//! `root.render`, a `setState` from a socket, timer or promise callback, or
//! from inside an effect) renders and commits in one Scheduler task
//! ([`Action::Commit`](super::Action::Commit)); the commit's passive effects
//! run in a later task ([`Action::Effects`](super::Action::Effects),
//! `commitRoot` schedules `flushPassiveEffects`), so any socket event, timer
//! or token continuation can run in between. Pending passive effects are
//! flushed first by the next render (`performWorkOnRootViaSchedulerTask` and
//! `performSyncWorkOnRoot` start with `flushPendingEffects`). A sync-lane
//! update — a `useSyncExternalStore` store change (`[provider] sync_render`)
//! — renders, commits and flushes its passive effects in the task that
//! changed the store, and takes the queued default-priority updates with it
//! (React 19 entangles the sync and default lanes). State set inside those
//! effects renders in a later task. Passive effects run in React 19's
//! order: every cleanup (in tree order, a deleted subtree's effects before
//! its later siblings), then every setup (in tree order). The tree is
//!
//! ```text
//! ConvexProviderWithAuth
//! ├── ConvexAuthStateFirstEffect   setAuth in its setup
//! ├── ConvexProvider
//! │   └── Root                      users.store in an effect (store_user)
//! │       ├── Component 1 ... n     useQuery(fn, gate ? args : "skip"),
//! │       │                         or mounted inside <Authenticated>
//! └── ConvexAuthStateLastEffect    clearAuth in its cleanup
//! ```
//!
//! Consequences read straight off `src/react/ConvexAuthState.tsx` and
//! `src/react/use_queries.ts` / `use_subscription.ts`:
//! * a child that *unmounts* unsubscribes in the cleanup phase (the
//!   `observer.destroy()` effect), before LastEffect's `clearAuth`;
//! * a child whose arguments turn to `"skip"` only drops its listener in the
//!   cleanup phase; the `Remove` goes out in the setup phase
//!   (`observer.setQueries` inside `subscribe`), after `clearAuth`;
//! * FirstEffect's `setAuth` (setup) runs before any child subscribes.

use super::msg::{FnIdx, Outcome, User, UserSet, user_name};
use super::provider::{Hook, Session};
use super::{Actor, Ctx, Fx, Obs, State, users_in};
use crate::scenario::properties::PropertyId;
use crate::scenario::{Gate, Patch};

/// Pending `setIsConvexAuthenticated` updates, composed into one function
/// of the current value (React applies queued updaters in order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pending {
    None,
    /// `() => v`.
    Set(Option<bool>),
    /// FirstEffect's cleanup: `(v) => v ? false : null`.
    FirstCleanup,
}

impl Pending {
    fn apply(self, v: Option<bool>) -> Option<bool> {
        match self {
            Pending::None => v,
            Pending::Set(x) => x,
            Pending::FirstCleanup => {
                if v == Some(true) {
                    Some(false)
                } else {
                    None
                }
            }
        }
    }

    /// `self` then `next`.
    fn then(self, next: Pending) -> Pending {
        match next {
            Pending::None => self,
            Pending::Set(x) => Pending::Set(x),
            Pending::FirstCleanup => match self {
                Pending::None => Pending::FirstCleanup,
                Pending::Set(x) => Pending::Set(Pending::FirstCleanup.apply(x)),
                Pending::FirstCleanup => Pending::Set(None),
            },
        }
    }
}

/// What a commit rendered: the inputs of every effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rendered {
    /// The provider hook output (deps of First/LastEffect).
    pub hook: Hook,
    /// The provider's session as the app rendered it.
    pub session: Session,
    /// `useConvexAuth()`.
    pub is_authenticated: bool,
    pub is_loading: bool,
    /// Bit per component instance: mounted.
    pub mounted: u16,
    /// Bit per component instance: its gated query has arguments (not "skip").
    pub active: u16,
}

impl Rendered {
    pub fn is_mounted(&self, i: usize) -> bool {
        self.mounted & (1 << i) != 0
    }
    pub fn is_active(&self, i: usize) -> bool {
        self.active & (1 << i) != 0
    }
}

/// The passive effects of the last commit, not run yet: the commit before
/// it (`None` for the first render), whose inputs the effects compare with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Effects {
    pub prev: Option<Rendered>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct App {
    /// The last commit; `None` before the first render.
    pub committed: Option<Rendered>,
    /// Its passive effects, while they wait for their own task.
    pub effects: Option<Effects>,
    /// `isConvexAuthenticated` as of the last render.
    pub convex_auth: Option<bool>,
    pub pending: Pending,
    /// Users whose sign-out (or switch away) the app has committed, until
    /// they sign in again.
    pub signed_out: UserSet,
    /// The user the provider was signed in as when a commit last showed
    /// `isAuthenticated` true, while that session lasts (for `stable-auth`).
    pub authenticated_as: Option<User>,
}

impl App {
    pub fn initial(_ctx: &Ctx) -> App {
        App {
            committed: None,
            effects: None,
            convex_auth: None,
            pending: Pending::None,
            signed_out: 0,
            authenticated_as: None,
        }
    }
}

impl State {
    /// What React would render now (queued `setIsConvexAuthenticated`
    /// updates applied), and the `isConvexAuthenticated` it settles on.
    pub fn render(&self, ctx: &Ctx) -> (Rendered, Option<bool>) {
        let hook = self.provider.hook(ctx);
        let mut conv = self.app.pending.apply(self.app.convex_auth);
        // ConvexProviderWithAuth's render-phase adjustments.
        if hook.loading && conv.is_some() {
            conv = None;
        }
        if !hook.loading && !hook.authenticated && conv != Some(false) {
            conv = Some(false);
        }
        let is_authenticated = hook.authenticated && conv == Some(true);
        let is_loading = conv.is_none();
        let provider_signed_in = self.provider.session.user().is_some();
        let mut mounted = 0u16;
        let mut active = 0u16;
        for (i, c) in ctx.components.iter().enumerate() {
            let (m, a) = match c.gate {
                Gate::None => (true, true),
                Gate::Provider => (true, provider_signed_in),
                Gate::ConvexAuth => (true, is_authenticated),
                // <Authenticated>: !isLoading && isAuthenticated.
                Gate::Authenticated => {
                    let open = !is_loading && is_authenticated;
                    (open, open)
                }
                // useCurrentUser: isAuthenticated && user !== null, where
                // `user` is undefined until users:current has a result.
                Gate::CurrentUser => {
                    let uc = ctx.users_current.expect("validated: store_user");
                    let user_is_null = matches!(
                        self.client.view_of(uc),
                        Some(Outcome::Value { null: true, .. })
                    );
                    (true, is_authenticated && !user_is_null)
                }
            };
            if m {
                mounted |= 1 << i;
            }
            if a {
                active |= 1 << i;
            }
        }
        (
            Rendered {
                hook,
                session: self.provider.session,
                is_authenticated,
                is_loading,
                mounted,
                active,
            },
            conv,
        )
    }

    /// React has something to render: a queued state update, or inputs that
    /// render differently from the last commit.
    pub fn needs_commit(&self, ctx: &Ctx) -> bool {
        match &self.app.committed {
            None => true,
            Some(c) => self.app.pending != Pending::None || self.render(ctx).0 != *c,
        }
    }

    /// The queries component `i` subscribes to when mounted with `active`
    /// (in hook order: `useCurrentUser`'s users:current first).
    fn component_queries(ctx: &Ctx, i: usize, active: bool) -> impl Iterator<Item = FnIdx> {
        let c = &ctx.components[i];
        let uc = if c.gate == Gate::CurrentUser {
            ctx.users_current
        } else {
            None
        };
        uc.into_iter().chain(active.then_some(c.query))
    }

    /// `onChange` from the client: `setIsConvexAuthenticated(() => v)`.
    pub(crate) fn app_convex_auth_changed(&mut self, v: bool) {
        self.app.pending = self.app.pending.then(Pending::Set(Some(v)));
    }

    /// A render-and-commit task: pending passive effects of the previous
    /// commit run first, then React renders and commits; this commit's
    /// passive effects wait for their own task ([`State::flush_effects`]),
    /// unless the commit has none.
    pub(crate) fn commit(&mut self, ctx: &Ctx, fx: &mut Fx) -> bool {
        if self.app.effects.is_some() {
            self.flush_effects(ctx, fx);
        }
        self.commit_render(ctx, fx)
    }

    /// A sync-lane render and commit. It takes the queued default-priority
    /// updates with it: React 19 entangles the sync, continuous and default
    /// lanes (`SyncUpdateLanes`), so `performSyncWorkOnRoot` renders them
    /// together.
    pub(crate) fn sync_commit(&mut self, ctx: &Ctx, fx: &mut Fx) -> bool {
        self.commit_render(ctx, fx)
    }

    fn commit_render(&mut self, ctx: &Ctx, fx: &mut Fx) -> bool {
        let (new, conv) = self.render(ctx);
        let prev = self.app.committed;
        self.app.convex_auth = conv;
        self.app.pending = Pending::None;
        self.app.committed = Some(new);
        fx.note(Actor::React, Actor::React, || {
            let open: Vec<&str> = ctx
                .components
                .iter()
                .enumerate()
                .filter(|(i, _)| new.is_active(*i))
                .map(|(_, c)| c.name.as_str())
                .collect();
            format!(
                "render: provider {} (isLoading={}, isAuthenticated={}), useConvexAuth().isAuthenticated={}, open gates: [{}]",
                new.session.describe(),
                new.hook.loading,
                new.hook.authenticated,
                new.is_authenticated,
                open.join(", ")
            )
        });

        // stable-auth: true -> false while signed in as the same user.
        if prev.is_some_and(|p| p.is_authenticated)
            && !new.is_authenticated
            && let (Some(u), Some(v)) = (self.app.authenticated_as, self.provider.effective_user())
            && u == v
        {
            self.violate(PropertyId::StableAuth);
            fx.violation(Actor::React, PropertyId::StableAuth, || {
                        format!(
                            "useConvexAuth().isAuthenticated goes true -> false while the provider stays signed in as {}",
                            user_name(u)
                        )
                    });
        }
        if new.is_authenticated {
            self.trigger(PropertyId::StableAuth);
            self.app.authenticated_as = self.provider.effective_user();
        }

        // no-stale-identity bookkeeping: sign-outs and switches the app committed.
        let before = prev.and_then(|p| p.session.user());
        let now = new.session.user();
        if let Some(u) = before
            && now != Some(u)
        {
            self.app.signed_out |= 1 << u;
        }
        if let Some(u) = now {
            self.app.signed_out &= !(1 << u);
        }

        // Layout phase: unmounted components' cleanups, then the auth
        // probe (before the components in tree order), then new mounts.
        if fx.obs.is_some() {
            for i in 0..ctx.components.len() {
                if prev.is_some_and(|p| p.is_mounted(i)) && !new.is_mounted(i) {
                    fx.obs(|| Obs::Unmount(i as u8));
                }
            }
            if prev.is_none_or(|p| {
                (p.is_loading, p.is_authenticated) != (new.is_loading, new.is_authenticated)
            }) {
                fx.obs(|| Obs::ConvexAuth {
                    loading: new.is_loading,
                    authenticated: new.is_authenticated,
                });
            }
            for i in 0..ctx.components.len() {
                if new.is_mounted(i) && !prev.is_some_and(|p| p.is_mounted(i)) {
                    fx.obs(|| Obs::Mount(i as u8));
                }
            }
        }
        if Self::has_passive_effects(ctx, prev, new) {
            self.app.effects = Some(Effects { prev });
        }
        true
    }

    /// Whether a commit from `prev` to `new` has passive effects to run
    /// (React schedules the passive-effects task only then): an auth
    /// effect's inputs changed, a component mounted or unmounted or changed
    /// its arguments, or the store effect's inputs changed.
    fn has_passive_effects(ctx: &Ctx, prev: Option<Rendered>, new: Rendered) -> bool {
        let Some(p) = prev else {
            return true;
        };
        p.hook != new.hook
            || p.mounted != new.mounted
            || p.active != new.active
            || (ctx.store_user && Self::store_deps_changed(prev, new))
    }

    /// The docs' `useStoreUserEffect` re-runs when `[isAuthenticated,
    /// storeUser, user?.id]` change (`storeUser` is stable: `useMutation`
    /// memoises on the client and the function name).
    fn store_deps_changed(prev: Option<Rendered>, new: Rendered) -> bool {
        prev.is_none_or(|p| {
            p.is_authenticated != new.is_authenticated || p.session.user() != new.session.user()
        })
    }

    /// The passive-effects task of the last commit: every cleanup, then
    /// every setup, comparing the commit with the one before it.
    pub(crate) fn flush_effects(&mut self, ctx: &Ctx, fx: &mut Fx) -> bool {
        let Some(Effects { prev }) = self.app.effects.take() else {
            return false;
        };
        let new = self.app.committed.expect("effects follow a commit");
        fx.note(Actor::React, Actor::React, || {
            "passive effects run".to_string()
        });

        let deps_changed = prev.is_none_or(|p| p.hook != new.hook);
        let prev_had_auth = prev.is_some_and(|p| p.hook.authenticated);

        // --- cleanup phase ---
        if deps_changed && prev_had_auth {
            // ConvexAuthStateFirstEffect cleanup.
            self.client.callbacks_live = false;
            self.app.pending = self.app.pending.then(Pending::FirstCleanup);
        }
        if let Some(p) = prev {
            for i in 0..ctx.components.len() {
                if p.is_mounted(i) && !new.is_mounted(i) {
                    fx.note(Actor::React, Actor::React, || {
                        format!("{} unmounts", ctx.components[i].name)
                    });
                    for f in Self::component_queries(ctx, i, p.is_active(i)) {
                        self.client_unsubscribe(ctx, f, fx);
                    }
                }
            }
        }
        if ctx.patched(Patch::UnsubscribeBeforeClearAuth)
            && let Some(p) = prev
        {
            for i in 0..ctx.components.len() {
                if p.is_mounted(i) && new.is_mounted(i) && p.is_active(i) && !new.is_active(i) {
                    let f = ctx.components[i].query;
                    fx.note(Actor::React, Actor::Client, || {
                        format!(
                            "{} skips: unsubscribes {} in the cleanup (patch unsubscribe-before-clear-auth)",
                            ctx.components[i].name,
                            ctx.fn_short(f)
                        )
                    });
                    self.client_unsubscribe(ctx, f, fx);
                }
            }
        }
        if deps_changed && prev_had_auth {
            // ConvexAuthStateLastEffect cleanup.
            fx.note(Actor::React, Actor::Client, || "clearAuth()".to_string());
            self.app_clear_auth(ctx, fx);
            self.app.pending = self.app.pending.then(Pending::Set(None));
        }

        // --- setup phase ---
        if deps_changed && new.hook.authenticated {
            self.client_set_auth(ctx, fx);
        }
        for i in 0..ctx.components.len() {
            let was_mounted = prev.is_some_and(|p| p.is_mounted(i));
            if !new.is_mounted(i) {
                continue;
            }
            if !was_mounted {
                let qs: Vec<FnIdx> = Self::component_queries(ctx, i, new.is_active(i)).collect();
                if !qs.is_empty() {
                    fx.note(Actor::React, Actor::Client, || {
                        let names: Vec<String> = qs.iter().map(|f| ctx.fn_short(*f)).collect();
                        format!("{} subscribes {}", ctx.components[i].name, names.join(", "))
                    });
                }
                for f in qs {
                    self.client_subscribe(ctx, f, fx);
                }
            } else {
                let was_active = prev.is_some_and(|p| p.is_active(i));
                let f = ctx.components[i].query;
                if new.is_active(i) && !was_active {
                    fx.note(Actor::React, Actor::Client, || {
                        format!("{} subscribes {}", ctx.components[i].name, ctx.fn_short(f))
                    });
                    self.client_subscribe(ctx, f, fx);
                } else if !new.is_active(i)
                    && was_active
                    && !ctx.patched(Patch::UnsubscribeBeforeClearAuth)
                {
                    fx.note(Actor::React, Actor::Client, || {
                        format!(
                            "{} skips: unsubscribes {}",
                            ctx.components[i].name,
                            ctx.fn_short(f)
                        )
                    });
                    self.client_unsubscribe(ctx, f, fx);
                }
            }
        }
        if ctx.store_user && new.is_authenticated && Self::store_deps_changed(prev, new) {
            fx.note(Actor::React, Actor::Client, || {
                "Root effect: users.store()".to_string()
            });
            self.client_store_user(ctx, fx);
        }
        true
    }

    /// A mounted component with an open gate showing a result computed for
    /// a user whose sign-out the app committed.
    pub fn stale_result_shown(&self, ctx: &Ctx) -> Option<(usize, User)> {
        let r = self.app.committed?;
        if self.app.signed_out == 0 {
            return None;
        }
        for (i, c) in ctx.components.iter().enumerate() {
            if r.is_mounted(i)
                && r.is_active(i)
                && let Some(Outcome::Value {
                    for_user: Some(u), ..
                }) = self.client.view_of(c.query)
                && self.app.signed_out & (1 << u) != 0
            {
                return Some((i, u));
            }
        }
        None
    }

    /// Description of who is signed out, for traces.
    pub fn signed_out_names(&self) -> String {
        users_in(self.app.signed_out).join(", ")
    }
}
