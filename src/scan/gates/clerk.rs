//! Clerk (`@clerk/clerk-react`, `@clerk/nextjs`, `@clerk/clerk-expo`,
//! `@clerk/react`): `useAuth()` / `useUser()` / `useSession()` report
//! Clerk's own session (`isSignedIn`, `userId`, `user`), which is signed in
//! before Convex has a token: a query gated on it is gated `provider`, as
//! is a subtree under `<SignedIn>` or `<Protect>`. `<SignedOut>` is no gate.
//!
//! ```tsx
//! const { isSignedIn } = useAuth();
//! useQuery(api.x.list, isSignedIn ? {} : "skip");   // provider
//! ```

use super::{ElementGate, ExtRef, State};

const MODULES: &[&str] = &[
    "@clerk/clerk-react",
    "@clerk/nextjs",
    "@clerk/clerk-expo",
    "@clerk/react",
    "@clerk/tanstack-react-start",
    "@clerk/remix",
];

pub fn hook(callee: &ExtRef<'_>) -> Option<&'static [(&'static str, State)]> {
    if callee.is(MODULES, "useAuth") {
        Some(&[
            ("isSignedIn", State::Provider),
            ("userId", State::Provider),
            ("sessionId", State::Provider),
            ("isLoaded", State::Neutral),
        ])
    } else if callee.is(MODULES, "useUser") {
        Some(&[
            ("isSignedIn", State::Provider),
            ("user", State::Provider),
            ("isLoaded", State::Neutral),
        ])
    } else if callee.is(MODULES, "useSession") {
        Some(&[
            ("isSignedIn", State::Provider),
            ("session", State::Provider),
            ("isLoaded", State::Neutral),
        ])
    } else {
        None
    }
}

pub fn element(tag: &ExtRef<'_>) -> Option<ElementGate> {
    if tag.is(MODULES, "SignedIn") || tag.is(MODULES, "Protect") {
        Some(ElementGate::Provider)
    } else if tag.is(MODULES, "SignedOut") {
        Some(ElementGate::Negative)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::gate_of;

    const HEAD: &str = "import { useQuery } from \"convex/react\";\nimport { useAuth, useUser, SignedIn } from \"@clerk/clerk-react\";\nimport { api } from \"../convex/_generated/api\";\n";

    #[test]
    fn pass() {
        for src in [
            "export function A() { const { isSignedIn } = useAuth(); useQuery(api.x.list, isSignedIn ? {} : \"skip\"); return null; }",
            "export function A() { const { user } = useUser(); useQuery(api.x.list, user ? {} : \"skip\"); return null; }",
            "function B() { useQuery(api.x.list); return null; }\nexport function A() { return <SignedIn><B /></SignedIn>; }",
        ] {
            assert_eq!(gate_of(&format!("{HEAD}{src}"), &[]), "provider", "{src}");
        }
    }

    #[test]
    fn fail() {
        let src = "export function A() { const { isLoaded } = useAuth(); useQuery(api.x.list, isLoaded ? {} : \"skip\"); return null; }";
        assert_eq!(gate_of(&format!("{HEAD}{src}"), &[]), "none");
    }
}
