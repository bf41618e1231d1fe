//! `ctx.auth.getUserIdentity()`: Convex's own identity read.
//!
//! Returns the JWT's identity, or `null` when the connection has none. What
//! the function then does with `null` (throw, return early, dereference it)
//! is the interpreter's business.
//!
//! ```ts
//! const identity = await ctx.auth.getUserIdentity();   // recognised
//! if (!identity) throw new Error("Unauthenticated");
//! ```

use super::{AuthCall, AuthEffect};

pub fn recognise(call: &AuthCall<'_>) -> Option<(&'static str, AuthEffect)> {
    (call.module.is_none() && call.path == ["auth", "getUserIdentity"])
        .then_some(("ctx.auth.getUserIdentity", AuthEffect::Identity))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::auth_of;
    use crate::scan::AuthClass;

    const HEAD: &str = "import { query } from \"./_generated/server\";\n";

    #[test]
    fn pass() {
        for (src, want) in [
            (
                "export const f = query({ args: {}, handler: async (ctx) => { const id = await ctx.auth.getUserIdentity(); if (!id) throw new Error(\"no\"); return 1; } });",
                AuthClass::Required,
            ),
            (
                "export const f = query({ args: {}, handler: async (ctx) => { const id = await ctx.auth.getUserIdentity(); if (id === null) return null; return id.subject; } });",
                AuthClass::Optional,
            ),
            (
                "export const f = query(async (ctx) => { const id = await ctx.auth.getUserIdentity(); return id.subject; });",
                AuthClass::Required,
            ),
            (
                "export const f = query({ handler: async ({ auth }) => { const id = await auth.getUserIdentity(); if (!id) { throw new Error(\"x\"); } return 1; } });",
                AuthClass::Required,
            ),
        ] {
            assert_eq!(auth_of(&format!("{HEAD}{src}"), "f"), want, "{src}");
        }
    }

    #[test]
    fn fail() {
        for src in [
            "export const f = query({ args: {}, handler: async (ctx) => { return await ctx.db.query(\"posts\").collect(); } });",
            "const ctx = { auth: { getUserIdentity: () => null } };\nexport const f = query({ handler: async () => { ctx.auth.getUserIdentity(); return 1; } });",
        ] {
            assert_eq!(
                auth_of(&format!("{HEAD}{src}"), "f"),
                AuthClass::None,
                "{src}"
            );
        }
    }
}
