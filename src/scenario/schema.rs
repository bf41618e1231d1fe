//! The scenario format, described once: the loader validates files against
//! it (collecting every error with its position, with "did you mean"
//! suggestions), and `authrace schema` prints it as a JSON Schema for editors.

use std::ops::Range;

use serde_json::{Map, Value, json};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::properties::PropertyId;
use super::{MAX_BUDGET, MAX_INSTANCES};

/// The type of a key's value.
pub enum Ty {
    Str,
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    Enum(&'static [&'static str]),
    /// An array of distinct strings from a fixed list.
    EnumSet(&'static [&'static str]),
    Table(&'static [Field]),
    TableArray(&'static [Field]),
    /// `[expect]`: property id -> verdict.
    Expect,
}

/// A key of a table.
pub struct Field {
    pub key: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub doc: &'static str,
}

const fn f(key: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        key,
        ty,
        required: false,
        doc,
    }
}

const fn req(key: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        key,
        ty,
        required: true,
        doc,
    }
}

pub const KINDS: &[&str] = &["better-auth", "clerk", "authkit", "convex-auth", "custom"];
pub const AT_LOAD: &[&str] = &["loading", "signed-in", "signed-out"];
pub const FORCED: &[&str] = &["new", "same", "stale"];
pub const AFTER_SIGN_OUT: &[&str] = &["null", "stale"];
pub const REBUILD: &[&str] = &["never", "on-session-change"];
pub const AUTH: &[&str] = &["none", "required", "user-row", "optional"];
pub const GATES: &[&str] = &[
    "none",
    "provider",
    "convex-auth",
    "authenticated",
    "current-user",
];
pub const USER_ROWS: &[&str] = &["client-store", "webhook", "existing"];
pub const TOKENS: &[&str] = &["jwt", "opaque"];
pub const STRATEGIES: &[&str] = &["bfs", "dfs"];
pub const PATCHES: &[&str] = crate::scenario::Patch::IDS;
pub const VERDICTS: &[&str] = &["holds", "violated", "vacuous", "unknown"];

const BUDGET: Ty = Ty::Int {
    min: 0,
    max: MAX_BUDGET as i64,
};

const PROVIDER: &[Field] = &[
    f(
        "kind",
        Ty::Enum(KINDS),
        "Which auth provider integration feeds ConvexProviderWithAuth; sets faithful defaults for the keys below (default custom: explicit keys only).",
    ),
    f(
        "at_load",
        Ty::Enum(AT_LOAD),
        "The provider's session at the first render: loading (resolves to signed in as A afterwards), signed-in or signed-out.",
    ),
    f(
        "ssr_token",
        Ty::Bool,
        "The page was server-rendered with a valid Convex token (Better Auth initialToken, Convex Auth serverState).",
    ),
    f(
        "sign_in",
        Ty::Bool,
        "The user may sign in (as A) during the run.",
    ),
    f(
        "sign_out",
        Ty::Bool,
        "The user may sign out during the run.",
    ),
    f(
        "switch_user",
        Ty::Bool,
        "The user may sign out and sign in as another user (B).",
    ),
    f(
        "sync_render",
        Ty::Bool,
        "The provider publishes session changes through useSyncExternalStore, so React commits them (and runs their effects) in the same task; otherwise the commit comes in a later task and other events can land in between. Kind sets the default (better-auth: true).",
    ),
    f(
        "new_fetcher",
        Ty::Bool,
        "The provider may hand over a new fetchAccessToken once while signed in as the same user (an org switch, a session refresh).",
    ),
    f(
        "forced_refresh",
        Ty::Enum(FORCED),
        "What fetchAccessToken({forceRefreshToken:true}) yields while signed in: a new token, the same held token, or the last token handed out.",
    ),
    f(
        "after_sign_out",
        Ty::Enum(AFTER_SIGN_OUT),
        "What fetchAccessToken yields after sign-out: null, or the last token handed out.",
    ),
    f(
        "sign_out_window",
        Ty::Bool,
        "A sign-out ends the provider's backend session before the provider's client state (and its hook) shows it: token requests in between are refused while the app still shows the user. Kind sets the default (better-auth, clerk, convex-auth: true; authkit, custom: false).",
    ),
    f(
        "tokens",
        Ty::Enum(TOKENS),
        "What fetchAccessToken returns: jwt (JWTs with iat/exp living more than 2 s; the default) or opaque (not a JWT, no iat/exp, or living 2 s or less: the client schedules no refetch after a confirmation).",
    ),
    f(
        "rebuild_fetcher",
        Ty::Enum(REBUILD),
        "When the provider hook hands over a new fetchAccessToken function.",
    ),
];

const CLIENT: &[Field] = &[
    f(
        "expect_auth",
        Ty::Bool,
        "ConvexReactClient option expectAuth: the client starts paused until the first token.",
    ),
    f(
        "initial_token_reuse",
        Ty::Bool,
        "Client option initialAuthTokenReuse: after confirming the cached token, schedule the refetch instead of refetching at once.",
    ),
    f(
        "version",
        Ty::Enum(crate::scenario::CLIENT_VERSIONS),
        "The npm convex release modelled (default 1.48.0; 1.49.0-1.51.0 have the same auth code; 1.42.0 lacks initialAuthTokenReuse; 1.20.0 predates the 1.21.0 auth-race fixes).",
    ),
    f(
        "patches",
        Ty::EnumSet(PATCHES),
        "Proposed changes to the client to check (default none); `authrace patches` lists them and what each removes.",
    ),
];

const APP: &[Field] = &[
    f(
        "store_user",
        Ty::Bool,
        "The app's root component runs users.store in an effect once useConvexAuth().isAuthenticated (useStoreUserEffect).",
    ),
    f(
        "user_rows",
        Ty::Enum(USER_ROWS),
        "Who creates a user's row in the users table: client-store (only the app's users.store mutation; the default), webhook (the auth provider's webhook, at some moment after the user's account exists, independent of the client), existing (every user's row exists from the start).",
    ),
];

const FAULTS: &[Field] = &[
    f(
        "socket_drops",
        BUDGET,
        "The WebSocket may drop up to N times; the client reconnects.",
    ),
    f(
        "refreshes",
        BUDGET,
        "An optional bound: the scheduled token refetch timer fires at most N times. Absent, it fires whenever it is armed (after every confirmation of a fresh token), as time passes in every real session.",
    ),
    f(
        "expiries",
        BUDGET,
        "The server may find the current token expired up to N times.",
    ),
    f(
        "reject_tokens",
        BUDGET,
        "The server may reject a presented token up to N times.",
    ),
    f(
        "transient_null",
        BUDGET,
        "A token fetch may fail (null, or a throw for convex-auth) although the session is valid, up to N times.",
    ),
];

const FUNCTION: &[Field] = &[
    req(
        "name",
        Ty::Str,
        "The function's name, e.g. queries:listOrganizations.",
    ),
    req(
        "auth",
        Ty::Enum(AUTH),
        "How it treats identity: none, required (throws without), user-row (also throws without the caller's users row), optional (null without).",
    ),
];

const COMPONENT: &[Field] = &[
    req("name", Ty::Str, "The component's name."),
    req(
        "query",
        Ty::Str,
        "The function it queries (a [[function]] name).",
    ),
    f(
        "gate",
        Ty::Enum(GATES),
        "How it gates its query: none, provider, convex-auth, authenticated (inside <Authenticated>), current-user (useCurrentUser).",
    ),
    f(
        "instances",
        Ty::Int {
            min: 1,
            max: MAX_INSTANCES as i64,
        },
        "How many identical instances are mounted.",
    ),
];

const CHECK: &[Field] = &[
    f(
        "strategy",
        Ty::Enum(STRATEGIES),
        "Exploration strategy: bfs (shortest counterexamples) or dfs.",
    ),
    f(
        "max_depth",
        Ty::Int {
            min: 1,
            max: 100_000,
        },
        "Depth bound; verdicts the bound cuts short are unknown.",
    ),
];

/// The top-level table of a scenario file.
pub const ROOT: &[Field] = &[
    req("name", Ty::Str, "The scenario's name."),
    f("about", Ty::Str, "Free text."),
    f(
        "provider",
        Ty::Table(PROVIDER),
        "The auth provider session.",
    ),
    f("client", Ty::Table(CLIENT), "Convex client options."),
    f("app", Ty::Table(APP), "The app's root component."),
    f(
        "faults",
        Ty::Table(FAULTS),
        "Upper bounds: each fault may happen up to N times, at any moment.",
    ),
    f(
        "function",
        Ty::TableArray(FUNCTION),
        "The Convex functions the components query.",
    ),
    f(
        "component",
        Ty::TableArray(COMPONENT),
        "The React components and their gates.",
    ),
    f("check", Ty::Table(CHECK), "How to check."),
    f(
        "expect",
        Ty::Expect,
        "The expected verdict per property id.",
    ),
];

/// An error found against the schema.
pub struct SchemaError {
    pub span: Range<usize>,
    pub message: String,
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest of `candidates` to `word`, when close enough to be a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= 2.max(word.len().min(c.len()) / 3))
        .min()
        .map(|(_, c)| c)
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Validates a parsed TOML document against [`ROOT`].
pub fn validate(doc: &Spanned<DeTable<'_>>) -> Vec<SchemaError> {
    let mut errors = Vec::new();
    check_table(doc.get_ref(), doc.span(), ROOT, "", &mut errors);
    errors.sort_by_key(|e| e.span.start);
    errors
}

fn check_table(
    table: &DeTable<'_>,
    span: Range<usize>,
    fields: &[Field],
    path: &str,
    errors: &mut Vec<SchemaError>,
) {
    let at = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    for (k, v) in table.iter() {
        let key = k.get_ref().as_ref();
        match fields.iter().find(|f| f.key == key) {
            Some(field) => check_value(v.get_ref(), v.span(), &field.ty, &at(key), errors),
            None => {
                let mut message = format!("unknown key `{}`", at(key));
                if let Some(s) = did_you_mean(key, fields.iter().map(|f| f.key)) {
                    message.push_str(&format!(": did you mean `{s}`?"));
                } else {
                    message.push_str(&format!(
                        "; accepted keys here: {}",
                        fields.iter().map(|f| f.key).collect::<Vec<_>>().join(", ")
                    ));
                }
                errors.push(SchemaError {
                    span: k.span(),
                    message,
                });
            }
        }
    }
    for field in fields.iter().filter(|f| f.required) {
        if !table.iter().any(|(k, _)| k.get_ref().as_ref() == field.key) {
            let whose = if path.is_empty() {
                "the scenario".to_string()
            } else {
                format!("`{path}`")
            };
            errors.push(SchemaError {
                span: span.start..span.start,
                message: format!("missing key `{}` in {whose}: {}", field.key, field.doc),
            });
        }
    }
}

fn check_value(
    v: &DeValue<'_>,
    span: Range<usize>,
    ty: &Ty,
    path: &str,
    errors: &mut Vec<SchemaError>,
) {
    let mut wrong = |expected: &str| {
        errors.push(SchemaError {
            span: span.clone(),
            message: format!("`{path}` must be {expected}, found {}", type_name(v)),
        });
    };
    match (ty, v) {
        (Ty::Str, DeValue::String(_)) | (Ty::Bool, DeValue::Boolean(_)) => {}
        (Ty::Str, _) => wrong("a string"),
        (Ty::Bool, _) => wrong("a boolean (true or false)"),
        (Ty::Int { min, max }, DeValue::Integer(i)) => {
            match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
                Ok(n) if n >= *min && n <= *max => {}
                _ => errors.push(SchemaError {
                    span: span.clone(),
                    message: format!("`{path}` = {} is out of range: {min} to {max}", i.as_str()),
                }),
            }
        }
        (Ty::Int { min, max }, _) => wrong(&format!("an integer from {min} to {max}")),
        (Ty::Enum(values), DeValue::String(s)) => {
            if !values.contains(&s.as_ref()) {
                let mut message = format!(
                    "`{path}` = \"{s}\" is not accepted; accepted values: {}",
                    list(values)
                );
                if let Some(d) = did_you_mean(s, values.iter().copied()) {
                    message.push_str(&format!(" (did you mean \"{d}\"?)"));
                }
                errors.push(SchemaError {
                    span: span.clone(),
                    message,
                });
            }
        }
        (Ty::Enum(values), _) => wrong(&format!("one of {}", list(values))),
        (Ty::EnumSet(values), DeValue::Array(items)) => {
            let mut seen = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let at = format!("{path}[{i}]");
                match item.get_ref() {
                    DeValue::String(s) => {
                        check_value(item.get_ref(), item.span(), &Ty::Enum(values), &at, errors);
                        if seen.contains(&s.as_ref()) {
                            errors.push(SchemaError {
                                span: item.span(),
                                message: format!("`{at}` = \"{s}\" is listed twice"),
                            });
                        }
                        seen.push(s.as_ref());
                    }
                    other => errors.push(SchemaError {
                        span: item.span(),
                        message: format!(
                            "`{at}` must be one of {}, found {}",
                            list(values),
                            type_name(other)
                        ),
                    }),
                }
            }
        }
        (Ty::EnumSet(values), _) => wrong(&format!("an array of {}", list(values))),
        (Ty::Table(fields), DeValue::Table(t)) => {
            check_table(t, span.clone(), fields, path, errors)
        }
        (Ty::Table(_), _) => wrong(&format!("a table ([{path}])")),
        (Ty::TableArray(fields), DeValue::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item.get_ref() {
                    DeValue::Table(t) => {
                        check_table(t, item.span(), fields, &format!("{path}[{i}]"), errors)
                    }
                    other => errors.push(SchemaError {
                        span: item.span(),
                        message: format!(
                            "`{path}[{i}]` must be a table ([[{path}]]), found {}",
                            type_name(other)
                        ),
                    }),
                }
            }
        }
        (Ty::TableArray(_), _) => wrong(&format!("an array of tables ([[{path}]])")),
        (Ty::Expect, DeValue::Table(t)) => {
            for (k, val) in t.iter() {
                let id = k.get_ref().as_ref();
                if PropertyId::parse(id).is_none() {
                    let ids = PropertyId::ALL.map(|p| p.as_str());
                    let mut message = format!("unknown property `{id}` in [expect]");
                    match did_you_mean(id, ids) {
                        Some(d) => message.push_str(&format!(": did you mean `{d}`?")),
                        None => {
                            message.push_str(&format!("; known properties: {}", ids.join(", ")))
                        }
                    }
                    errors.push(SchemaError {
                        span: k.span(),
                        message,
                    });
                }
                check_value(
                    val.get_ref(),
                    val.span(),
                    &Ty::Enum(VERDICTS),
                    &format!("expect.{id}"),
                    errors,
                );
            }
        }
        (Ty::Expect, _) => wrong("a table ([expect])"),
    }
}

fn json_ty(ty: &Ty, doc: &str) -> Value {
    let mut v = match ty {
        Ty::Str => json!({"type": "string"}),
        Ty::Bool => json!({"type": "boolean"}),
        Ty::Int { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
        Ty::Enum(values) => json!({"type": "string", "enum": values}),
        Ty::EnumSet(values) => {
            json!({"type": "array", "items": {"type": "string", "enum": values}, "uniqueItems": true})
        }
        Ty::Table(fields) => json_table(fields),
        Ty::TableArray(fields) => json!({"type": "array", "items": json_table(fields)}),
        Ty::Expect => json!({
            "type": "object",
            "propertyNames": {"enum": PropertyId::ALL.map(|p| p.as_str())},
            "additionalProperties": {"type": "string", "enum": VERDICTS},
        }),
    };
    if !doc.is_empty() {
        v["description"] = Value::String(doc.to_string());
    }
    v
}

fn json_table(fields: &[Field]) -> Value {
    let mut props = Map::new();
    for field in fields {
        props.insert(field.key.to_string(), json_ty(&field.ty, field.doc));
    }
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.key)
        .collect();
    let mut v = json!({"type": "object", "properties": props, "additionalProperties": false});
    if !required.is_empty() {
        v["required"] = json!(required);
    }
    v
}

/// The scenario format as a JSON Schema (draft 2020-12).
pub fn json_schema() -> Value {
    let mut v = json_table(ROOT);
    v["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    v["title"] = json!("authrace scenario");
    v["description"] = json!(
        "A scenario file for authrace (models/*.toml): the auth provider, the Convex client options, the app's components and gates, fault budgets and expected verdicts."
    );
    v
}
