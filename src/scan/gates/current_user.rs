//! `useCurrentUser`-style gates: `isAuthenticated && user !== null`, where
//! `user` is the result of a query that returns the caller's users-table
//! row or null without an identity (the Convex docs' `users.current`). The
//! model's `current-user` gate is exactly this, including its quirk: while
//! `users.current` loads, `user` is `undefined`, and `undefined !== null`.
//! Found through any number of project hooks (`useCurrentUser()` returning
//! `{ isAuthenticated: isAuthenticated && user !== null }`).
//!
//! ```tsx
//! const { isAuthenticated } = useCurrentUser();
//! useQuery(api.x.list, isAuthenticated ? {} : "skip");   // current-user
//! ```
//!
//! Without `useConvexAuth().isAuthenticated` in the conjunction, a
//! non-null user alone is a data-dependent gate (`data_dependent`).

#[cfg(test)]
mod tests {
    use super::super::test_util::gate_of;

    const HOOK: &str = "import { useConvexAuth, useQuery } from \"convex/react\";\nimport { api } from \"../convex/_generated/api\";\nexport function useCurrentUser() { const { isLoading, isAuthenticated } = useConvexAuth(); const user = useQuery(api.x.current); return { isLoading: isLoading || (isAuthenticated && user === null), isAuthenticated: isAuthenticated && user !== null }; }\n";
    const HEAD: &str = "import { useQuery } from \"convex/react\";\nimport { api } from \"../convex/_generated/api\";\nimport { useCurrentUser } from \"./useCurrentUser\";\n";

    #[test]
    fn pass() {
        let src = format!(
            "{HEAD}export function A() {{ const {{ isAuthenticated }} = useCurrentUser(); useQuery(api.x.list, isAuthenticated ? {{}} : \"skip\"); return null; }}"
        );
        assert_eq!(
            gate_of(&src, &[("src/useCurrentUser.ts", HOOK)]),
            "current-user"
        );
    }

    #[test]
    fn fail() {
        // The loading flag of the same hook is no gate.
        let src = format!(
            "{HEAD}export function A() {{ const {{ isLoading }} = useCurrentUser(); useQuery(api.x.list, isLoading ? \"skip\" : {{}}); return null; }}"
        );
        assert_eq!(gate_of(&src, &[("src/useCurrentUser.ts", HOOK)]), "none");
    }
}
