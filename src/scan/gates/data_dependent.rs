//! A skip on data: `useQuery(api.x.list, team ? { teamId: team._id } :
//! "skip")`. The query runs only once `team` has a value, so it takes the
//! gate of whatever `team` comes from: another call site's result takes
//! that site's gate (`data-dependent` in the reason). A prop or a hook
//! parameter cannot be followed to its source: `unknown`, checked as
//! `none`. Local state (`useState`) says nothing about auth: `none`.
//!
//! ```tsx
//! const team = useQuery(api.teams.mine, isAuthenticated ? {} : "skip");  // convex-auth
//! useQuery(api.x.list, team ? { id: team._id } : "skip");                 // convex-auth, data-dependent
//! ```

#[cfg(test)]
mod tests {
    use super::super::test_util::gate_of;

    const HEAD: &str = "import { useQuery, useConvexAuth } from \"convex/react\";\nimport { api } from \"../convex/_generated/api\";\n";

    #[test]
    fn pass() {
        let src = format!(
            "{HEAD}export function A() {{ const {{ isAuthenticated }} = useConvexAuth(); const me = useQuery(api.x.current, isAuthenticated ? {{}} : \"skip\"); useQuery(api.x.list, me ? {{ id: me._id }} : \"skip\"); return null; }}"
        );
        assert_eq!(gate_of(&src, &[]), "convex-auth");
    }

    #[test]
    fn fail() {
        let prop = format!(
            "{HEAD}export function A({{ teamId }}: {{ teamId?: string }}) {{ useQuery(api.x.list, teamId ? {{ teamId }} : \"skip\"); return null; }}"
        );
        assert_eq!(gate_of(&prop, &[]), "unknown");
        let ungated = format!(
            "{HEAD}export function A() {{ const me = useQuery(api.x.current); useQuery(api.x.list, me ? {{}} : \"skip\"); return null; }}"
        );
        assert_eq!(gate_of(&ungated, &[]), "none");
    }
}
