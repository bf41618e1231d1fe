//! Convex Auth (`@convex-dev/auth/server`): `getAuthUserId(ctx)` and
//! `getAuthSessionId(ctx)` return the id, or `null` without an identity.
//!
//! ```ts
//! const userId = await getAuthUserId(ctx);   // recognised
//! if (userId === null) throw new Error("Unauthenticated");
//! const user = await ctx.db.get(userId);     // a user row
//! ```

use super::{AuthCall, AuthEffect};

pub fn recognise(call: &AuthCall<'_>) -> Option<(&'static str, AuthEffect)> {
    let module = call.module?;
    let from_convex_auth =
        module == "@convex-dev/auth/server" || module.starts_with("@convex-dev/auth/");
    if !from_convex_auth || !call.ctx_arg {
        return None;
    }
    match call.path {
        [name] if name == "getAuthUserId" => Some(("getAuthUserId", AuthEffect::Identity)),
        [name] if name == "getAuthSessionId" => Some(("getAuthSessionId", AuthEffect::Identity)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::auth_of;
    use crate::scan::AuthClass;

    const HEAD: &str = "import { query } from \"./_generated/server\";\nimport { getAuthUserId } from \"@convex-dev/auth/server\";\n";

    #[test]
    fn pass() {
        for (src, want) in [
            (
                "export const f = query({ handler: async (ctx) => { const u = await getAuthUserId(ctx); if (u === null) throw new Error(\"no\"); return u; } });",
                AuthClass::Required,
            ),
            (
                "export const f = query({ handler: async (ctx) => { const u = await getAuthUserId(ctx); if (!u) return []; return [u]; } });",
                AuthClass::Optional,
            ),
            (
                "export const f = query({ handler: async (ctx) => { const u = await getAuthUserId(ctx); if (!u) throw new Error(\"a\"); const user = await ctx.db.get(u); if (!user) throw new Error(\"b\"); return user; } });",
                AuthClass::UserRow,
            ),
        ] {
            assert_eq!(auth_of(&format!("{HEAD}{src}"), "f"), want, "{src}");
        }
    }

    #[test]
    fn fail() {
        // A local function of the same name is not Convex Auth's.
        let src = "import { query } from \"./_generated/server\";\nfunction getAuthUserId(_c: unknown) { return \"u\"; }\nexport const f = query({ handler: async (ctx) => { const u = getAuthUserId(ctx); if (!u) throw new Error(\"no\"); return u; } });";
        assert_eq!(auth_of(src, "f"), AuthClass::None);
    }
}
