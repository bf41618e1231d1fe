//! Recognisers of the calls that read the caller's identity on the server,
//! one per file (as a linter's rules are). Each says what a call does when
//! there is no identity: the server interpreter (`super::server`) runs every
//! function in three worlds and compares what happens.

pub mod better_auth;
pub mod convex_auth;
pub mod get_user_identity;

/// A call as the interpreter sees it: who is called, and with what.
#[derive(Clone, Debug)]
pub struct AuthCall<'a> {
    /// The package the callee comes from (`None`: a member of `ctx`).
    pub module: Option<&'a str>,
    /// The callee's path: the imported name (or `ctx`'s members) then each
    /// member and `()` for each call on the way (`["createClient", "()",
    /// "getAuthUser"]`).
    pub path: &'a [String],
    /// The function's `ctx` is among the arguments.
    pub ctx_arg: bool,
}

/// What an identity-reading call does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthEffect {
    /// Returns the identity (or a user id): null without one.
    Identity,
    /// Returns the user: throws without an identity.
    ThrowsWithout,
}

/// A rule: recognises a call, and names what it recognised (for `why`
/// texts: the helper as the code spells it, `authComponent.safeGetAuthUser`).
pub type Rule = fn(&AuthCall<'_>) -> Option<(&'static str, AuthEffect)>;

/// Every rule, tried in order.
pub const RULES: &[Rule] = &[
    get_user_identity::recognise,
    convex_auth::recognise,
    better_auth::recognise,
];

/// The first rule that recognises `call`.
pub fn recognise(call: &AuthCall<'_>) -> Option<(&'static str, AuthEffect)> {
    RULES.iter().find_map(|f| f(call))
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::scan::{AuthClass, scan_sources};

    /// The auth class of `name` in a one-file app whose `convex/x.ts` is `src`.
    pub fn auth_of(src: &str, name: &str) -> AuthClass {
        let result = scan_sources(&[("convex/x.ts", src)]);
        result
            .functions
            .iter()
            .find(|f| f.name == format!("x:{name}"))
            .unwrap_or_else(|| panic!("no function x:{name} in {:?}", result.functions))
            .auth
    }
}
