//! Recognisers of the client-side auth state a gate reads, one per file
//! (as a linter's rules are), each with its docs and the snippets it must
//! and must not match. Hooks and elements are recognised through imports
//! and aliases: by the package and name the binding resolves to, never by
//! spelling.

pub mod authenticated;
pub mod authkit;
pub mod better_auth;
pub mod clerk;
pub mod convex_auth;
pub mod current_user;
pub mod data_dependent;

/// A package export with the members and calls on the way
/// (`["createAuthClient", "()", "useSession"]`).
#[derive(Clone, Copy, Debug)]
pub struct ExtRef<'a> {
    pub module: &'a str,
    pub path: &'a [String],
}

impl ExtRef<'_> {
    pub fn is(&self, modules: &[&str], name: &str) -> bool {
        self.path.len() == 1 && self.path[0] == name && modules.contains(&self.module)
    }
}

/// What a property of a hook's result says about auth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// `useConvexAuth().isAuthenticated`: the client's confirmed auth.
    ConvexAuth,
    /// The auth provider's own signed-in state.
    Provider,
    /// Nothing about auth (`isLoading`).
    Neutral,
}

/// What an element does to its children.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElementGate {
    /// Renders them only when `useConvexAuth()` says authenticated (`<Authenticated>`).
    Authenticated,
    /// Renders them only when the provider is signed in (`<SignedIn>`).
    Provider,
    /// Renders them only when not authenticated or loading: no gate.
    Negative,
}

pub type HookRule = fn(&ExtRef<'_>) -> Option<&'static [(&'static str, State)]>;
pub type ElementRule = fn(&ExtRef<'_>) -> Option<ElementGate>;

pub const HOOKS: &[HookRule] = &[
    convex_auth::hook,
    clerk::hook,
    better_auth::hook,
    authkit::hook,
];
pub const ELEMENTS: &[ElementRule] = &[authenticated::element, clerk::element];

/// The shape of an auth hook's result, if `callee` is one.
pub fn hook(callee: &ExtRef<'_>) -> Option<&'static [(&'static str, State)]> {
    HOOKS.iter().find_map(|r| r(callee))
}

/// What an element does to its children, if it is an auth gate.
pub fn element(tag: &ExtRef<'_>) -> Option<ElementGate> {
    ELEMENTS.iter().find_map(|r| r(tag))
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::scan::scan_sources;

    pub const SERVER: &str = "import { query } from \"./_generated/server\";\nexport const list = query({ handler: async (ctx) => { const id = await ctx.auth.getUserIdentity(); if (!id) throw new Error(\"no\"); return []; } });\nexport const current = query({ handler: async (ctx) => { const id = await ctx.auth.getUserIdentity(); if (!id) return null; return await ctx.db.query(\"users\").withIndex(\"by_token\", (q) => q.eq(\"tokenIdentifier\", id.tokenIdentifier)).unique(); } });\n";

    /// The gate found at the `useQuery(api.x.list ...)` call site of an app
    /// whose client is `app` (one file, `src/App.tsx`) and extra files.
    pub fn gate_of(app: &str, extra: &[(&str, &str)]) -> String {
        let mut files = vec![("convex/x.ts", SERVER), ("src/App.tsx", app)];
        files.extend_from_slice(extra);
        let a = scan_sources(&files);
        let site = a
            .sites
            .iter()
            .find(|s| s.function.as_deref() == Some("x:list"))
            .unwrap_or_else(|| panic!("no call site of x:list: {:#?}", a.sites));
        site.gate.label()
    }
}
