//! Better Auth's React client: `authClient.useSession()` on the client made
//! by `createAuthClient()` (`better-auth/react`), directly or through a
//! project file that re-exports it (`export const { useSession } =
//! authClient`). `data` is the provider's session: gated `provider`.
//!
//! ```tsx
//! const { data: session } = authClient.useSession();
//! useQuery(api.x.list, session ? {} : "skip");   // provider
//! ```

use super::{ExtRef, State};

pub fn hook(callee: &ExtRef<'_>) -> Option<&'static [(&'static str, State)]> {
    let from_better_auth =
        callee.module == "better-auth/react" || callee.module == "better-auth/client";
    (from_better_auth
        && callee.path.first().is_some_and(|p| p == "createAuthClient")
        && callee.path.last().is_some_and(|p| p == "useSession"))
    .then_some(&[("data", State::Provider), ("isPending", State::Neutral)])
}

#[cfg(test)]
mod tests {
    use super::super::test_util::gate_of;

    const CLIENT: &str = "import { createAuthClient } from \"better-auth/react\";\nexport const authClient = createAuthClient({});\nexport const { useSession } = authClient;\n";
    const HEAD: &str = "import { useQuery } from \"convex/react\";\nimport { api } from \"../convex/_generated/api\";\nimport { authClient, useSession } from \"./auth-client\";\n";

    #[test]
    fn pass() {
        for src in [
            "export function A() { const { data: session } = authClient.useSession(); useQuery(api.x.list, session ? {} : \"skip\"); return null; }",
            "export function A() { const s = useSession(); useQuery(api.x.list, s.data ? {} : \"skip\"); return null; }",
        ] {
            assert_eq!(
                gate_of(&format!("{HEAD}{src}"), &[("src/auth-client.ts", CLIENT)]),
                "provider",
                "{src}"
            );
        }
    }

    #[test]
    fn fail() {
        let src = "export function A() { const { isPending } = useSession(); useQuery(api.x.list, isPending ? \"skip\" : {}); return null; }";
        assert_eq!(
            gate_of(&format!("{HEAD}{src}"), &[("src/auth-client.ts", CLIENT)]),
            "none"
        );
    }
}
