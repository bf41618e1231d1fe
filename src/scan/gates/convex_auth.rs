//! `useConvexAuth()` from `convex/react`: `isAuthenticated` is true once the
//! server confirmed the token. A query skipped unless it holds is gated
//! `convex-auth`; a subtree rendered only when it holds (`isAuthenticated
//! && <X/>`, or below `if (!isAuthenticated) return ...` in the component
//! or in every ancestor) is gated like `<Authenticated>`: `authenticated`.
//! A query hook below such an early return in its own component stays
//! mounted, so it is `convex-auth`.
//!
//! ```tsx
//! const { isAuthenticated } = useConvexAuth();
//! useQuery(api.x.list, isAuthenticated ? {} : "skip");   // convex-auth
//! ```

use super::{ExtRef, State};

const MODULES: &[&str] = &[
    "convex/react",
    "convex/react-clerk",
    "@convex-dev/auth/react",
];

pub fn hook(callee: &ExtRef<'_>) -> Option<&'static [(&'static str, State)]> {
    callee.is(MODULES, "useConvexAuth").then_some(&[
        ("isAuthenticated", State::ConvexAuth),
        ("isLoading", State::Neutral),
    ])
}

#[cfg(test)]
mod tests {
    use super::super::test_util::gate_of;

    const HEAD: &str = "import { useQuery, useConvexAuth } from \"convex/react\";\nimport { api } from \"../convex/_generated/api\";\n";

    #[test]
    fn pass() {
        for (src, want) in [
            (
                "export function A() { const { isAuthenticated } = useConvexAuth(); const d = useQuery(api.x.list, isAuthenticated ? {} : \"skip\"); return null; }",
                "convex-auth",
            ),
            (
                "export function A() { const auth = useConvexAuth(); const args = !auth.isAuthenticated ? \"skip\" : {}; useQuery(api.x.list, args); return null; }",
                "convex-auth",
            ),
            (
                "export function A() { const { isAuthenticated } = useConvexAuth(); if (!isAuthenticated) return null; return <B />; }\nfunction B() { useQuery(api.x.list); return null; }",
                "authenticated",
            ),
            (
                "export function A() { const { isAuthenticated, isLoading } = useConvexAuth(); return <div>{!isLoading && isAuthenticated && <B />}</div>; }\nfunction B() { useQuery(api.x.list); return null; }",
                "authenticated",
            ),
        ] {
            assert_eq!(gate_of(&format!("{HEAD}{src}"), &[]), want, "{src}");
        }
    }

    #[test]
    fn fail() {
        for src in [
            "export function A() { const { isLoading } = useConvexAuth(); useQuery(api.x.list, isLoading ? \"skip\" : {}); return null; }",
            "export function A() { const { isAuthenticated } = useConvexAuth(); useQuery(api.x.list, !isAuthenticated ? {} : \"skip\"); return null; }",
            "function useConvexAuth() { return { isAuthenticated: true }; }\nexport function A() { const { isAuthenticated } = useConvexAuth(); useQuery(api.x.list, isAuthenticated ? {} : \"skip\"); return null; }",
        ] {
            let src = src.replace("import { useQuery, useConvexAuth }", "import { useQuery }");
            let head = if src.contains("function useConvexAuth") {
                HEAD.replace("useQuery, useConvexAuth", "useQuery")
            } else {
                HEAD.to_string()
            };
            assert_eq!(gate_of(&format!("{head}{src}"), &[]), "none", "{src}");
        }
    }
}
