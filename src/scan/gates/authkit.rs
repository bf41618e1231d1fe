//! WorkOS AuthKit (`@workos-inc/authkit-react`,
//! `@workos-inc/authkit-nextjs/components`) and Auth0
//! (`@auth0/auth0-react`): `useAuth().user` / `useAuth0().isAuthenticated`
//! are the provider's own state: gated `provider`.
//!
//! ```tsx
//! const { user } = useAuth();
//! useQuery(api.x.list, user ? {} : "skip");   // provider
//! ```

use super::{ExtRef, State};

const AUTHKIT: &[&str] = &[
    "@workos-inc/authkit-react",
    "@workos-inc/authkit-nextjs/components",
    "@workos-inc/authkit-nextjs",
];

pub fn hook(callee: &ExtRef<'_>) -> Option<&'static [(&'static str, State)]> {
    if callee.is(AUTHKIT, "useAuth") {
        Some(&[
            ("user", State::Provider),
            ("loading", State::Neutral),
            ("isLoading", State::Neutral),
        ])
    } else if callee.is(&["@auth0/auth0-react"], "useAuth0") {
        Some(&[
            ("isAuthenticated", State::Provider),
            ("user", State::Provider),
            ("isLoading", State::Neutral),
        ])
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::gate_of;

    #[test]
    fn pass() {
        let src = "import { useQuery } from \"convex/react\";\nimport { useAuth } from \"@workos-inc/authkit-react\";\nimport { api } from \"../convex/_generated/api\";\nexport function A() { const { user } = useAuth(); useQuery(api.x.list, user ? {} : \"skip\"); return null; }";
        assert_eq!(gate_of(src, &[]), "provider");
    }

    #[test]
    fn fail() {
        let src = "import { useQuery } from \"convex/react\";\nimport { useAuth } from \"@workos-inc/authkit-react\";\nimport { api } from \"../convex/_generated/api\";\nexport function A() { const { loading } = useAuth(); useQuery(api.x.list, loading ? \"skip\" : {}); return null; }";
        assert_eq!(gate_of(src, &[]), "none");
    }
}
