//! Client setup: which auth provider feeds Convex (`[provider] kind`),
//! whether the page starts with a server token (`ssr_token`), the client's
//! options (`[client] expect_auth`), and how users rows come to exist
//! (`[app] store_user`, `user_rows`).
//!
//! * The root provider element, resolved through imports:
//!   `ConvexProviderWithClerk` → `clerk`; `ConvexProviderWithAuthKit` →
//!   `authkit`; `ConvexBetterAuthProvider` → `better-auth` (its
//!   `initialToken` attribute → `ssr_token`); `ConvexAuthProvider` /
//!   `ConvexAuthNextjsProvider` → `convex-auth` (under
//!   `ConvexAuthNextjsServerProvider` the client starts with the cookie's
//!   token: `ssr_token`); `ConvexProviderWithAuth0` and
//!   `ConvexProviderWithAuth` → `custom`.
//! * `new ConvexReactClient(url, { expectAuth: true })` → `expect_auth`.
//! * A users-store effect: an effect that calls a mutation which inserts a
//!   row keyed by the caller's identity (the Convex docs'
//!   `useStoreUserEffect`) → `store_user`, rows `client-store`.
//! * A function that inserts into `users` without reading an identity (an
//!   auth provider's webhook) → rows `webhook`. Convex Auth and Better
//!   Auth create their users when the account is created → `existing`.

use serde::Serialize;

use super::ServerFunction;
use super::ir::{E, FileIr, Prop, Stmt};
use super::resolve::{Linker, Target};
use super::sites::AppFacts;
use crate::scenario::Kind;

pub use crate::scenario::UserRows;

/// Where something was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct At {
    pub file: String,
    pub line: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClientSetup {
    pub kind: Kind,
    /// The provider element (`ConvexProviderWithClerk`), if one was found.
    pub element: Option<String>,
    pub at: Option<At>,
    pub ssr_token: bool,
    pub ssr_why: Option<String>,
    pub expect_auth: bool,
    pub expect_auth_at: Option<At>,
    pub store_user: bool,
    pub store_user_why: Option<String>,
    pub user_rows: UserRows,
    pub user_rows_why: String,
    /// Everything else worth saying (several providers, none found...).
    pub notes: Vec<String>,
}

/// Calls `f` on every expression of a file (bounded: the lowering bounds depth).
pub fn each_expr(file: &FileIr, f: &mut dyn FnMut(&E)) {
    fn stmts(ss: &[Stmt], f: &mut dyn FnMut(&E)) {
        for s in ss {
            match s {
                Stmt::Let { init, .. } => expr(init, f),
                Stmt::Expr(e) | Stmt::Throw(e, _) | Stmt::Return(Some(e), _) => expr(e, f),
                Stmt::If { test, then, els } => {
                    expr(test, f);
                    stmts(then, f);
                    stmts(els, f);
                }
                Stmt::Loop(b) => stmts(b, f),
                Stmt::Try {
                    block,
                    catch,
                    finally,
                } => {
                    stmts(block, f);
                    stmts(catch, f);
                    stmts(finally, f);
                }
                Stmt::Switch { disc, cases } => {
                    expr(disc, f);
                    for (t, b) in cases {
                        if let Some(t) = t {
                            expr(t, f);
                        }
                        stmts(b, f);
                    }
                }
                Stmt::Return(None, _) | Stmt::Jump => {}
            }
        }
    }
    fn expr(e: &E, f: &mut dyn FnMut(&E)) {
        f(e);
        match e {
            E::Obj(ps) => {
                for p in ps {
                    match p {
                        Prop::Kv(_, x) | Prop::Spread(x) | Prop::Computed(x) => expr(x, f),
                    }
                }
            }
            E::Array(xs) => xs.iter().for_each(|x| expr(x, f)),
            E::Member { obj, .. } => expr(obj, f),
            E::Call { callee, args, .. } => {
                expr(callee, f);
                args.iter().for_each(|x| expr(x, f));
            }
            E::Cond { test, then, els } => {
                expr(test, f);
                expr(then, f);
                expr(els, f);
            }
            E::And(a, b) | E::Or(a, b) | E::Nullish(a, b) => {
                expr(a, f);
                expr(b, f);
            }
            E::Cmp { l, r, .. } => {
                expr(l, f);
                expr(r, f);
            }
            E::Not(a) | E::Spread(a) | E::Await(a) | E::Assign(_, a) => expr(a, f),
            E::Jsx(j) => {
                if let super::ir::JsxTag::Value(t) = &j.tag {
                    expr(t, f);
                }
                j.attrs.iter().for_each(|(_, x)| expr(x, f));
                j.spreads.iter().for_each(|x| expr(x, f));
                j.children.iter().for_each(|x| expr(x, f));
            }
            _ => {}
        }
    }
    stmts(&file.top, f);
    for func in &file.funcs {
        stmts(&func.body, f);
    }
}

/// The package export a symbol of `file` is imported as.
pub fn external(link: &Linker<'_>, file: usize, e: &E) -> Option<(String, String)> {
    let E::Sym(s, _) = e else { return None };
    match link.import(file, *s)? {
        Target::External { module, name } => Some((module, name)),
        _ => None,
    }
}

fn provider_kind(module: &str, name: &str) -> Option<Kind> {
    match name {
        "ConvexProviderWithClerk" => Some(Kind::Clerk),
        "ConvexProviderWithAuthKit" => Some(Kind::Authkit),
        "ConvexBetterAuthProvider" if module.starts_with("@convex-dev/better-auth") => {
            Some(Kind::BetterAuth)
        }
        "ConvexAuthProvider" | "ConvexAuthNextjsProvider"
            if module.starts_with("@convex-dev/auth") =>
        {
            Some(Kind::ConvexAuth)
        }
        "ConvexProviderWithAuth0" | "ConvexProviderWithAuth" => Some(Kind::Custom),
        _ => None,
    }
}

pub fn find(link: &Linker<'_>, functions: &[ServerFunction], facts: &AppFacts) -> ClientSetup {
    let mut providers: Vec<(Kind, String, At, bool)> = Vec::new();
    let mut server_provider: Option<At> = None;
    let mut expect_auth: Option<At> = None;
    let mut plain_provider: Option<At> = None;
    for (fi, f) in link.files.iter().enumerate() {
        each_expr(f, &mut |e| match e {
            E::Jsx(j) => {
                if let super::ir::JsxTag::Value(t) = &j.tag
                    && let Some((module, name)) = external(link, fi, t)
                {
                    let at = At {
                        file: f.path.clone(),
                        line: f.line(j.span.start),
                    };
                    if let Some(kind) = provider_kind(&module, &name) {
                        let initial = j.attrs.iter().any(|(k, v)| {
                            k == "initialToken" && !matches!(v, E::Undefined | E::Null)
                        });
                        providers.push((kind, name.clone(), at.clone(), initial));
                    }
                    if name == "ConvexAuthNextjsServerProvider" {
                        server_provider = Some(at.clone());
                    }
                    if name == "ConvexProvider" && module == "convex/react" {
                        plain_provider = Some(at);
                    }
                }
            }
            E::Call {
                callee,
                args,
                new: true,
                span,
                ..
            } => {
                if let Some((module, name)) = external(link, fi, callee)
                    && name == "ConvexReactClient"
                    && module == "convex/react"
                    && let Some(E::Obj(props)) = args.get(1)
                    && props
                        .iter()
                        .any(|p| matches!(p, Prop::Kv(k, E::Bool(true)) if k == "expectAuth"))
                {
                    expect_auth = Some(At {
                        file: f.path.clone(),
                        line: f.line(span.start),
                    });
                }
            }
            _ => {}
        });
    }
    let mut notes = Vec::new();
    let first = providers.first().cloned();
    if providers
        .iter()
        .map(|p| p.0.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        > 1
    {
        notes.push(format!(
            "several auth providers found ({}); checked with the first, {}",
            providers
                .iter()
                .map(|p| format!("{} at {}:{}", p.1, p.2.file, p.2.line))
                .collect::<Vec<_>>()
                .join(", "),
            providers[0].1
        ));
    }
    let (kind, element, at, initial) = match first {
        Some((k, n, a, i)) => (k, Some(n), Some(a), i),
        None => {
            notes.push(match &plain_provider {
                Some(a) => format!(
                    "only a plain ConvexProvider ({}:{}), no auth provider: checked as a custom provider",
                    a.file, a.line
                ),
                None => "no Convex provider element found: checked as a custom auth provider".to_string(),
            });
            (Kind::Custom, None, None, false)
        }
    };
    let (ssr_token, ssr_why) = if kind == Kind::BetterAuth && initial {
        (
            true,
            Some("ConvexBetterAuthProvider is given an initialToken".to_string()),
        )
    } else if kind == Kind::ConvexAuth {
        match &server_provider {
            Some(a) => (
                true,
                Some(format!(
                    "ConvexAuthNextjsServerProvider ({}:{}) hands the client the cookie's token",
                    a.file, a.line
                )),
            ),
            None => (false, None),
        }
    } else {
        (false, None)
    };
    // Users rows.
    let by_name: std::collections::HashMap<&str, &ServerFunction> =
        functions.iter().map(|f| (f.name.as_str(), f)).collect();
    let store = facts.effect_mutations.iter().find(|(f, _, _)| {
        f.as_deref()
            .and_then(|n| by_name.get(n))
            .is_some_and(|s| s.inserts_user_row)
    });
    let webhook = functions
        .iter()
        .find(|f| f.inserts_without_identity.iter().any(|t| t == "users"));
    let (user_rows, user_rows_why) = if matches!(kind, Kind::ConvexAuth | Kind::BetterAuth) {
        (
            UserRows::Existing,
            format!("{} creates the user with the account", kind.as_str()),
        )
    } else if let Some((f, file, line)) = store {
        (
            UserRows::ClientStore,
            format!(
                "an effect calls {} ({file}:{line}), which inserts the caller's row",
                f.clone().unwrap_or_default()
            ),
        )
    } else if let Some(w) = webhook {
        (
            UserRows::Webhook,
            format!(
                "{} ({}:{}) inserts users rows without an identity (a webhook)",
                w.name, w.file, w.line
            ),
        )
    } else {
        (
            UserRows::Webhook,
            "no users-store effect or webhook found: a row is assumed to appear at some moment after sign-up".to_string(),
        )
    };
    ClientSetup {
        kind,
        element,
        at,
        ssr_token,
        ssr_why,
        expect_auth: expect_auth.is_some(),
        expect_auth_at: expect_auth,
        store_user: store.is_some(),
        store_user_why: store.map(|(f, file, line)| {
            format!(
                "{} from an effect ({file}:{line})",
                f.clone().unwrap_or_default()
            )
        }),
        user_rows,
        user_rows_why,
        notes,
    }
}
