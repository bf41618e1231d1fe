//! Better Auth's Convex component (`@convex-dev/better-auth`): the client
//! made by `createClient(components.betterAuth)` has `getAuthUser(ctx)`,
//! which throws without an identity, and `safeGetAuthUser(ctx)` /
//! `getAuthUserId(ctx)`, which return `null` (older releases'
//! `getAuthUser` returned `null` too: the interpreter treats a `null` check
//! after it the same way either way).
//!
//! ```ts
//! export const authComponent = createClient<DataModel>(components.betterAuth);
//! const user = await authComponent.getAuthUser(ctx);      // throws without identity
//! const maybe = await authComponent.safeGetAuthUser(ctx); // null without identity
//! ```

use super::{AuthCall, AuthEffect};

pub fn recognise(call: &AuthCall<'_>) -> Option<(&'static str, AuthEffect)> {
    let module = call.module?;
    if !(module == "@convex-dev/better-auth" || module.starts_with("@convex-dev/better-auth/"))
        || !call.ctx_arg
    {
        return None;
    }
    match call.path.last().map(String::as_str) {
        Some("getAuthUser") => Some(("authComponent.getAuthUser", AuthEffect::ThrowsWithout)),
        Some("safeGetAuthUser") => Some(("authComponent.safeGetAuthUser", AuthEffect::Identity)),
        Some("getAuthUserId") => Some(("authComponent.getAuthUserId", AuthEffect::Identity)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::auth_of;
    use crate::scan::AuthClass;

    const HEAD: &str = "import { query } from \"./_generated/server\";\nimport { createClient } from \"@convex-dev/better-auth\";\nimport { components } from \"./_generated/api\";\nexport const authComponent = createClient(components.betterAuth);\n";

    #[test]
    fn pass() {
        for (src, want) in [
            (
                "export const f = query({ handler: async (ctx) => { const user = await authComponent.getAuthUser(ctx); return user.email; } });",
                AuthClass::Required,
            ),
            (
                "export const f = query({ handler: async (ctx) => { const user = await authComponent.safeGetAuthUser(ctx); if (!user) return null; return user.email; } });",
                AuthClass::Optional,
            ),
        ] {
            assert_eq!(auth_of(&format!("{HEAD}{src}"), "f"), want, "{src}");
        }
    }

    #[test]
    fn fail() {
        let src = "export const f = query({ handler: async (ctx) => { const other = { getAuthUser: (_: unknown) => 1 }; return other.getAuthUser(ctx); } });";
        assert_eq!(auth_of(&format!("{HEAD}{src}"), "f"), AuthClass::None);
    }
}
