//! `<Authenticated>` from `convex/react` (and Convex Auth's re-export)
//! renders its children only when `useConvexAuth()` says authenticated: a
//! query in that subtree is gated `authenticated`. `<Unauthenticated>` and
//! `<AuthLoading>` render theirs when not: no gate.
//!
//! ```tsx
//! <Authenticated><Billing /></Authenticated>   // Billing: authenticated
//! ```

use super::{ElementGate, ExtRef};

const MODULES: &[&str] = &["convex/react", "@convex-dev/auth/react"];

pub fn element(tag: &ExtRef<'_>) -> Option<ElementGate> {
    if tag.is(MODULES, "Authenticated") {
        Some(ElementGate::Authenticated)
    } else if tag.is(MODULES, "Unauthenticated") || tag.is(MODULES, "AuthLoading") {
        Some(ElementGate::Negative)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::gate_of;

    const HEAD: &str = "import { useQuery, Authenticated as Authed, Unauthenticated } from \"convex/react\";\nimport { api } from \"../convex/_generated/api\";\nfunction B() { useQuery(api.x.list); return null; }\n";

    #[test]
    fn pass() {
        let src =
            format!("{HEAD}export function A() {{ return <Authed><div><B /></div></Authed>; }}");
        assert_eq!(gate_of(&src, &[]), "authenticated");
        // Rendered both inside and outside: the weakest.
        let both =
            format!("{HEAD}export function A() {{ return <><Authed><B /></Authed><B /></>; }}");
        assert_eq!(gate_of(&both, &[]), "none");
    }

    #[test]
    fn fail() {
        let src = format!(
            "{HEAD}export function A() {{ return <Unauthenticated><B /></Unauthenticated>; }}"
        );
        assert_eq!(gate_of(&src, &[]), "none");
        let local = "import { useQuery } from \"convex/react\";\nimport { api } from \"../convex/_generated/api\";\nfunction Authenticated({ children }: any) { return children; }\nfunction B() { useQuery(api.x.list); return null; }\nexport function A() { return <Authenticated><B /></Authenticated>; }";
        assert_eq!(gate_of(local, &[]), "none");
    }
}
