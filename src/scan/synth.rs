//! A synthetic app of a given size, for the scan's benchmark rows
//! (`authrace bench`) and its outcome test (`tests/scan.rs`): `modules`
//! Convex modules and `components` React components, written as plain
//! TypeScript so that every stage of the scan does its real work.
//!
//! * `convex/m{i}.ts` exports `get`, a `query` that reads the identity and
//!   throws without it when `i % 3 == 0` (`required`), and otherwise never
//!   throws (`optional`).
//! * `src/features/C{i}.tsx` calls `useQuery(api.m{i % modules}.get, ...)`
//!   ungated (`i % 3 == 0`), skipped unless `useConvexAuth().isAuthenticated`
//!   (`i % 3 == 1`) or unless Clerk's `useAuth().isSignedIn` (`i % 3 == 2`),
//!   and renders `C{i+1}` unconditionally: one render chain across files.
//! * `src/main.tsx` mounts `C0` under `ConvexProviderWithClerk`.

use std::io;
use std::path::Path;

/// The benchmark's app: 50 modules, 199 components and `main.tsx`: 250 files.
pub const BENCH_MODULES: usize = 50;
pub const BENCH_COMPONENTS: usize = 199;

/// Writes the app under `dir` (created if missing).
pub fn write_app(dir: &Path, modules: usize, components: usize) -> io::Result<()> {
    std::fs::create_dir_all(dir.join("convex"))?;
    std::fs::create_dir_all(dir.join("src/features"))?;
    for i in 0..modules {
        let check = if i % 3 == 0 { "!id" } else { "false" };
        std::fs::write(
            dir.join(format!("convex/m{i}.ts")),
            format!(
                "import {{ query }} from \"./_generated/server\";\n\n\
export const get = query({{\n  args: {{}},\n  handler: async (ctx) => {{\n    const id = await ctx.auth.getUserIdentity();\n    if ({check}) throw new Error(\"Unauthenticated\");\n    return await ctx.db.query(\"t{i}\").collect();\n  }},\n}});\n"
            ),
        )?;
    }
    for i in 0..components {
        let args = match i % 3 {
            0 => "",
            1 => ", isAuthenticated ? {} : \"skip\"",
            _ => ", isSignedIn ? {} : \"skip\"",
        };
        let (import_next, render_next) = if i + 1 < components {
            (
                format!("import {{ C{n} }} from \"./C{n}\";\n", n = i + 1),
                format!("<C{} />", i + 1),
            )
        } else {
            (String::new(), String::new())
        };
        std::fs::write(
            dir.join(format!("src/features/C{i}.tsx")),
            format!(
                "import {{ useQuery, useConvexAuth }} from \"convex/react\";\n\
import {{ useAuth }} from \"@clerk/clerk-react\";\n\
import {{ api }} from \"../../convex/_generated/api\";\n\
{import_next}\n\
export function C{i}() {{\n  const {{ isAuthenticated }} = useConvexAuth();\n  const {{ isSignedIn }} = useAuth();\n  const data = useQuery(api.m{m}.get{args});\n  return (\n    <div>\n      {{isAuthenticated && isSignedIn ? String(data) : null}}\n      {render_next}\n    </div>\n  );\n}}\n",
                m = i % modules.max(1)
            ),
        )?;
    }
    std::fs::write(
        dir.join("src/main.tsx"),
        "import { createRoot } from \"react-dom/client\";\n\
import { ClerkProvider, useAuth } from \"@clerk/clerk-react\";\n\
import { ConvexReactClient } from \"convex/react\";\n\
import { ConvexProviderWithClerk } from \"convex/react-clerk\";\n\
import { C0 } from \"./features/C0\";\n\n\
const convex = new ConvexReactClient(\"https://example.convex.cloud\");\n\n\
createRoot(document.getElementById(\"root\")!).render(\n  <ClerkProvider publishableKey=\"pk_test\">\n    <ConvexProviderWithClerk client={convex} useAuth={useAuth}>\n      <C0 />\n    </ConvexProviderWithClerk>\n  </ClerkProvider>,\n);\n",
    )?;
    Ok(())
}
