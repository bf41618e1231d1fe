//! Every query call site and the gate that holds there.
//!
//! Each component (a function named with a capital letter, a default
//! export, or one rendered as a JSX tag) is interpreted once, with project
//! hooks inlined at each call (so `useCurrentUser()` or a project's
//! `useAuthedQuery(fn, args)` are followed into their files). Values are
//! abstract: a boolean is a formula ([`Cond`]) over what it derives from —
//! `useConvexAuth().isAuthenticated`, the provider's own state, another
//! call site's result, a prop — and a value may be a guarded choice
//! (`c ? {...} : "skip"`). A call site's own gate is the formula under
//! which its arguments are not `"skip"` (and its component's control flow
//! reaches it); the component's gate is the weakest over every place that
//! renders it (`<Authenticated>`, an early return on `isAuthenticated` in
//! an ancestor, a Next.js `layout.tsx` above a page), strongest along each
//! path. A site's gate is the stronger of the two. Recognisers of auth
//! state are the rules of [`super::gates`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use serde::Serialize;

use super::gates::{self, ElementGate, ExtRef, State};
use super::ir::{CmpOp, E, FuncId, JsxTag, Prop, Span, Stmt, Sym};
use super::resolve::{Linker, Target, dirname};
use super::{AuthClass, ServerFunction};
use crate::scenario::Gate;

const MAX_INLINE_DEPTH: usize = 12;
const MAX_STEPS: usize = 400_000;
const MAX_COND: usize = 64;

/// A component or hook function: (file, function).
pub type CompKey = (usize, FuncId);
/// A call site: (file, byte offset, function name).
pub type SiteKey = (usize, u32, Option<String>);

/// Where a piece of evidence is.
#[derive(Clone, Debug, PartialEq)]
pub struct Ev {
    pub text: String,
    pub file: usize,
    pub offset: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Atom {
    /// `useConvexAuth().isAuthenticated`.
    ConvexAuth(Ev),
    /// The provider's own signed-in state (hook or `<SignedIn>`).
    Provider(Ev),
    /// Inside `<Authenticated>`.
    AuthenticatedEl(Ev),
    /// Another call site's result: truthy, or only `!== null`.
    Data { site: SiteKey, only_not_null: bool },
    /// Whatever condition the component renders its `children` under.
    ChildrenOf(CompKey),
    /// Something with no auth meaning (local state, `isLoading`).
    Neutral,
    /// Something that cannot be followed (a prop).
    Unknown(String),
}

/// A boolean formula.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    True,
    False,
    Atom(Atom),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

impl Cond {
    fn size(&self) -> usize {
        match self {
            Cond::And(v) | Cond::Or(v) => 1 + v.iter().map(Cond::size).sum::<usize>(),
            Cond::Not(c) => 1 + c.size(),
            _ => 1,
        }
    }
    pub fn and(a: Cond, b: Cond) -> Cond {
        match (a, b) {
            (Cond::False, _) | (_, Cond::False) => Cond::False,
            (Cond::True, x) | (x, Cond::True) => x,
            (a, b) => {
                if a.size() + b.size() > MAX_COND {
                    // Too large to keep: keep the left (a lower bound of the gate).
                    return a;
                }
                let mut v = Vec::new();
                for x in [a, b] {
                    match x {
                        Cond::And(xs) => v.extend(xs),
                        x => v.push(x),
                    }
                }
                Cond::And(v)
            }
        }
    }
    pub fn or(a: Cond, b: Cond) -> Cond {
        match (a, b) {
            (Cond::True, _) | (_, Cond::True) => Cond::True,
            (Cond::False, x) | (x, Cond::False) => x,
            (a, b) => {
                if a == b {
                    return a;
                }
                if a.size() + b.size() > MAX_COND {
                    return Cond::Atom(Atom::Neutral);
                }
                let mut v = Vec::new();
                for x in [a, b] {
                    match x {
                        Cond::Or(xs) => v.extend(xs),
                        x => v.push(x),
                    }
                }
                Cond::Or(v)
            }
        }
    }
    pub fn negate(a: Cond) -> Cond {
        match a {
            Cond::True => Cond::False,
            Cond::False => Cond::True,
            Cond::Not(x) => *x,
            Cond::And(xs) => xs.into_iter().map(Cond::negate).fold(Cond::False, Cond::or),
            Cond::Or(xs) => xs.into_iter().map(Cond::negate).fold(Cond::True, Cond::and),
            x => Cond::Not(Box::new(x)),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Closure {
    file: usize,
    func: FuncId,
    env: Rc<HashMap<Sym, CV>>,
}

/// Something rendered: a project component, or the `children` prop.
#[derive(Clone, Debug)]
pub struct Rendered {
    target: Option<CompKey>,
    cond: Cond,
    file: usize,
    offset: u32,
}

/// An abstract client value.
#[derive(Clone, Debug)]
pub enum CV {
    Cond(Cond),
    Obj(Rc<BTreeMap<String, CV>>),
    Query(SiteKey),
    Skip,
    Null,
    Undef,
    Str(String),
    Other,
    Api(String),
    ConvexQuery {
        func: Option<String>,
        run: Cond,
    },
    Mutation(Option<String>),
    Jsx(Rc<Vec<Rendered>>),
    Choice(Rc<Vec<(Cond, CV)>>),
    Func(Closure),
    Ext {
        module: String,
        path: Vec<String>,
    },
    Namespace(usize),
    /// The component's props.
    Props,
    /// `props.children` (or a page router's `Component`).
    Children,
    /// A prop or parameter of unknown origin.
    Prop(String),
}

fn choice(a: (Cond, CV), b: (Cond, CV)) -> CV {
    let mut v = Vec::new();
    for (c, x) in [a, b] {
        if c == Cond::False {
            continue;
        }
        match x {
            CV::Choice(inner) => {
                for (ic, iv) in inner.iter() {
                    v.push((Cond::and(c.clone(), ic.clone()), iv.clone()));
                }
            }
            x => v.push((c, x)),
        }
    }
    if v.len() > 16 {
        v.truncate(16);
    }
    if v.len() == 1 && v[0].0 == Cond::True {
        return v.pop().map(|p| p.1).unwrap_or(CV::Other);
    }
    CV::Choice(Rc::new(v))
}

/// A call site occurrence: the site seen from one component.
#[derive(Clone, Debug)]
struct Occ {
    key: SiteKey,
    hook: String,
    run: Cond,
    context: CompKey,
    via: Option<String>,
}

#[derive(Clone, Debug)]
struct Edge {
    from: CompKey,
    to: CompKey,
    cond: Cond,
    file: usize,
    offset: u32,
}

/// What interpretation found.
#[derive(Default)]
struct Out {
    occs: Vec<Occ>,
    edges: Vec<Edge>,
    children: HashMap<CompKey, Vec<Cond>>,
    inlined: HashSet<CompKey>,
    interpreted: HashSet<CompKey>,
    outside: Vec<Outside>,
    effect_mutations: Vec<(Option<String>, usize, u32)>,
}

/// A gate as found: a gate of the model, or unknown with the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum GateFound {
    Known(Gate),
    Unknown(String),
}

impl GateFound {
    pub fn label(&self) -> String {
        match self {
            GateFound::Known(g) => g.as_str().to_string(),
            GateFound::Unknown(_) => "unknown".to_string(),
        }
    }
    /// What is checked: `unknown` is checked as `none`.
    pub fn checked_as(&self) -> Gate {
        match self {
            GateFound::Known(g) => *g,
            GateFound::Unknown(_) => Gate::None,
        }
    }
}

/// A query call site.
#[derive(Clone, Debug, Serialize)]
pub struct CallSite {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub hook: String,
    /// `path/of/module:export`, when the first argument is an `api.*` reference.
    pub function: Option<String>,
    pub auth: AuthClass,
    pub gate: GateFound,
    pub gate_why: String,
    /// The component it runs in.
    pub component: String,
    /// The hook call inside a project hook it goes through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Why the function's auth is what it is.
    #[serde(skip)]
    pub auth_why: String,
}

/// A server-side query (`preloadQuery`, `fetchQuery`): outside the client model.
#[derive(Clone, Debug, Serialize)]
pub struct Outside {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub call: String,
    pub function: Option<String>,
}

/// What the client interpreter learned about the app, for `client.rs`.
#[derive(Clone, Debug, Default)]
pub struct AppFacts {
    /// Mutations called from effects: (function, file, line).
    pub effect_mutations: Vec<(Option<String>, String, usize)>,
}

struct Ci<'p, 'o> {
    link: &'p Linker<'p>,
    out: &'o mut Out,
    context: CompKey,
    depth: usize,
    steps: usize,
    pc: Cond,
    /// The call in the component's own body that led into inlined hooks.
    outer: Option<(usize, u32, String)>,
    in_effect: bool,
    cache: HashMap<(usize, Sym), CV>,
    in_progress: Vec<(usize, Sym)>,
}

const QUERY_HOOKS: &[(&str, &[&str])] = &[
    (
        "useQuery",
        &[
            "convex/react",
            "convex-helpers/react/cache/hooks",
            "convex-helpers/react/cache",
            "convex-helpers/react",
        ],
    ),
    (
        "usePaginatedQuery",
        &[
            "convex/react",
            "convex-helpers/react/cache/hooks",
            "convex-helpers/react/cache",
            "convex-helpers/react",
        ],
    ),
    (
        "useQueries",
        &[
            "convex/react",
            "convex-helpers/react/cache/hooks",
            "convex-helpers/react/cache",
        ],
    ),
    ("usePreloadedQuery", &["convex/react"]),
];

fn api_name(path: &[String]) -> Option<String> {
    let (root, rest) = path.split_first()?;
    if !(root == "api" || root == "internal") || rest.len() < 2 {
        return None;
    }
    let (name, module) = rest.split_last()?;
    Some(format!("{}:{name}", module.join("/")))
}

impl<'p, 'o> Ci<'p, 'o> {
    fn ev(&self, text: &str, file: usize, offset: u32) -> Ev {
        Ev {
            text: text.to_string(),
            file,
            offset,
        }
    }

    fn top(&mut self, file: usize, sym: Sym) -> CV {
        if let Some(v) = self.cache.get(&(file, sym)) {
            return v.clone();
        }
        if self.in_progress.contains(&(file, sym)) || self.in_progress.len() > 64 {
            return CV::Other;
        }
        self.in_progress.push((file, sym));
        let v = if self.link.files[file].imports.contains_key(&sym) {
            match self.link.import(file, sym) {
                Some(t) => self.target(t),
                None => CV::Other,
            }
        } else if let Some(e) = self.link.def(file, sym) {
            let saved_pc = std::mem::replace(&mut self.pc, Cond::True);
            let v = self.eval(file, &mut HashMap::new(), e);
            self.pc = saved_pc;
            v
        } else {
            CV::Other
        };
        self.in_progress.pop();
        self.cache.insert((file, sym), v.clone());
        v
    }

    fn target(&mut self, t: Target) -> CV {
        match t {
            Target::Binding { file, sym } => self.top(file, sym),
            Target::DefaultExpr { file } => match self.link.default_expr(file) {
                Some(e) => self.eval(file, &mut HashMap::new(), e),
                None => CV::Other,
            },
            Target::Namespace { file } => CV::Namespace(file),
            Target::External { module, name } => CV::Ext {
                module,
                path: vec![name],
            },
            Target::Missing(_) => CV::Other,
        }
    }

    fn truth(&self, v: &CV) -> Cond {
        match v {
            CV::Cond(c) => c.clone(),
            CV::Null | CV::Undef | CV::Skip => Cond::False,
            CV::Str(s) => {
                if s.is_empty() {
                    Cond::False
                } else {
                    Cond::True
                }
            }
            CV::Query(k) => Cond::Atom(Atom::Data {
                site: k.clone(),
                only_not_null: false,
            }),
            CV::Choice(cs) => cs
                .iter()
                .map(|(c, x)| Cond::and(c.clone(), self.truth(x)))
                .fold(Cond::False, Cond::or),
            CV::Prop(n) => Cond::Atom(Atom::Unknown(format!(
                "depends on `{n}`, which comes from outside the component"
            ))),
            CV::Other => Cond::Atom(Atom::Neutral),
            _ => Cond::True,
        }
    }

    /// The condition under which arguments are not `"skip"`.
    fn runs(&self, v: &CV) -> Cond {
        match v {
            CV::Skip => Cond::False,
            CV::Choice(cs) => cs
                .iter()
                .map(|(c, x)| Cond::and(c.clone(), self.runs(x)))
                .fold(Cond::False, Cond::or),
            CV::Prop(n) => Cond::Atom(Atom::Unknown(format!(
                "the arguments come from `{n}`, outside the component"
            ))),
            _ => Cond::True,
        }
    }

    fn renders(&self, v: &CV, file: usize, offset: u32) -> Vec<Rendered> {
        match v {
            CV::Jsx(r) => r.to_vec(),
            CV::Children => vec![Rendered {
                target: None,
                cond: Cond::True,
                file,
                offset,
            }],
            CV::Choice(cs) => cs
                .iter()
                .flat_map(|(c, x)| {
                    self.renders(x, file, offset).into_iter().map(move |mut r| {
                        r.cond = Cond::and(c.clone(), r.cond);
                        r
                    })
                })
                .collect(),
            _ => vec![],
        }
    }

    fn eval(&mut self, file: usize, env: &mut HashMap<Sym, CV>, e: &E) -> CV {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return CV::Other;
        }
        match e {
            E::Sym(s, _) => match env.get(s) {
                Some(v) => v.clone(),
                None => self.top(file, *s),
            },
            E::Global(_) | E::Param(_) | E::Other | E::Deep => CV::Other,
            E::Null => CV::Null,
            E::Undefined => CV::Undef,
            E::Bool(b) => CV::Cond(if *b { Cond::True } else { Cond::False }),
            E::Str(s) if s == "skip" => CV::Skip,
            E::Str(s) => CV::Str(s.clone()),
            E::Obj(props) => {
                let mut m = BTreeMap::new();
                for p in props {
                    match p {
                        Prop::Kv(k, x) => {
                            let v = self.eval(file, env, x);
                            m.insert(k.clone(), v);
                        }
                        Prop::Spread(x) => match self.eval(file, env, x) {
                            CV::Obj(o) => {
                                for (k, v) in o.iter() {
                                    m.insert(k.clone(), v.clone());
                                }
                            }
                            cq @ CV::ConvexQuery { .. } => {
                                m.insert("\u{0}convexQuery".to_string(), cq);
                            }
                            _ => {}
                        },
                        Prop::Computed(x) => {
                            self.eval(file, env, x);
                        }
                    }
                }
                CV::Obj(Rc::new(m))
            }
            E::Array(items) => {
                let mut renders = Vec::new();
                for x in items {
                    let v = self.eval(file, env, x);
                    renders.extend(self.renders(&v, file, 0));
                }
                if renders.is_empty() {
                    CV::Other
                } else {
                    CV::Jsx(Rc::new(renders))
                }
            }
            E::Spread(x) | E::Await(x) => self.eval(file, env, x),
            E::Member { obj, prop, .. } => {
                let o = self.eval(file, env, obj);
                self.member(o, prop.as_deref())
            }
            E::Call {
                callee, args, span, ..
            } => {
                let c = self.eval(file, env, callee);
                let argv: Vec<CV> = args.iter().map(|a| self.eval(file, env, a)).collect();
                self.call(file, c, argv, *span)
            }
            E::Func(f) => CV::Func(Closure {
                file,
                func: *f,
                env: Rc::new(env.clone()),
            }),
            E::Cond { test, then, els } => {
                let t = self.eval(file, env, test);
                let c = self.truth(&t);
                let a = self.eval(file, env, then);
                let b = self.eval(file, env, els);
                choice((c.clone(), a), (Cond::negate(c), b))
            }
            E::And(l, r) => {
                let x = self.eval(file, env, l);
                let y = self.eval(file, env, r);
                let c = self.truth(&x);
                match (&x, &y) {
                    (CV::Cond(_), CV::Cond(b))
                    | (CV::Query(_), CV::Cond(b))
                    | (CV::Other, CV::Cond(b)) => CV::Cond(Cond::and(c, b.clone())),
                    _ => choice((Cond::negate(c.clone()), CV::Null), (c, y)),
                }
            }
            E::Or(l, r) => {
                let x = self.eval(file, env, l);
                let y = self.eval(file, env, r);
                let c = self.truth(&x);
                match &y {
                    CV::Cond(b) => CV::Cond(Cond::or(c, b.clone())),
                    _ => choice((c.clone(), x), (Cond::negate(c), y)),
                }
            }
            E::Nullish(l, r) => {
                let x = self.eval(file, env, l);
                let y = self.eval(file, env, r);
                match x {
                    CV::Null | CV::Undef => y,
                    CV::Prop(_) | CV::Other | CV::Query(_) | CV::Choice(_) => {
                        let c = self.truth(&x);
                        choice((c.clone(), x), (Cond::negate(c), y))
                    }
                    x => x,
                }
            }
            E::Not(a) => {
                let x = self.eval(file, env, a);
                CV::Cond(Cond::negate(self.truth(&x)))
            }
            E::Cmp { op, l, r } => {
                let a = self.eval(file, env, l);
                let b = self.eval(file, env, r);
                CV::Cond(self.compare(*op, a, b))
            }
            E::Assign(sym, value) => {
                let v = self.eval(file, env, value);
                if let Some(s) = sym
                    && let Some(old) = env.get(s).cloned()
                {
                    env.insert(*s, choice((Cond::True, old), (Cond::True, v.clone())));
                }
                v
            }
            E::Jsx(j) => self.jsx(file, env, j),
        }
    }

    fn compare(&self, op: CmpOp, a: CV, b: CV) -> Cond {
        let (x, lit) = match (&a, &b) {
            (x, CV::Null) | (CV::Null, x) => (x.clone(), CV::Null),
            (x, CV::Undef) | (CV::Undef, x) => (x.clone(), CV::Undef),
            (CV::Cond(c), CV::Cond(Cond::True)) | (CV::Cond(Cond::True), CV::Cond(c)) => {
                return match op {
                    CmpOp::Eq | CmpOp::StrictEq => c.clone(),
                    _ => Cond::negate(c.clone()),
                };
            }
            (CV::Cond(c), CV::Cond(Cond::False)) | (CV::Cond(Cond::False), CV::Cond(c)) => {
                return match op {
                    CmpOp::Eq | CmpOp::StrictEq => Cond::negate(c.clone()),
                    _ => c.clone(),
                };
            }
            _ => return Cond::Atom(Atom::Neutral),
        };
        let positive = matches!(op, CmpOp::Ne | CmpOp::StrictNe);
        // `x !== null` (strict, null): true while x is undefined (loading).
        let only_not_null = matches!((op, &lit), (CmpOp::StrictNe | CmpOp::StrictEq, CV::Null));
        let not_nullish = match &x {
            CV::Query(k) => Cond::Atom(Atom::Data {
                site: k.clone(),
                only_not_null,
            }),
            CV::Null | CV::Undef => Cond::False,
            CV::Prop(n) => Cond::Atom(Atom::Unknown(format!(
                "depends on `{n}`, which comes from outside the component"
            ))),
            CV::Other | CV::Choice(_) => {
                if only_not_null {
                    Cond::Atom(Atom::Neutral)
                } else {
                    self.truth(&x)
                }
            }
            _ => Cond::True,
        };
        if positive {
            not_nullish
        } else {
            Cond::negate(not_nullish)
        }
    }

    fn member(&mut self, o: CV, prop: Option<&str>) -> CV {
        match o {
            CV::Obj(m) => match prop {
                Some(p) => m.get(p).cloned().unwrap_or(CV::Undef),
                None => CV::Other,
            },
            CV::Ext { module, mut path } => {
                path.push(prop.unwrap_or("[]").to_string());
                if let Some(name) = api_name(&path)
                    && module == "@generated/api"
                {
                    return CV::Api(name);
                }
                if path.len() > 10 {
                    return CV::Other;
                }
                CV::Ext { module, path }
            }
            CV::Namespace(f) => match prop {
                Some(p) => {
                    let t = self.link.export(f, p, 0);
                    self.target(t)
                }
                None => CV::Other,
            },
            CV::Query(k) => CV::Query(k),
            CV::Props => match prop {
                Some("children") | Some("Component") => CV::Children,
                Some(p) => CV::Prop(p.to_string()),
                None => CV::Prop("props".to_string()),
            },
            CV::Prop(p) => CV::Prop(format!("{p}.{}", prop.unwrap_or("[]"))),
            CV::Choice(cs) => {
                let v: Vec<(Cond, CV)> = cs
                    .iter()
                    .map(|(c, x)| (c.clone(), self.member(x.clone(), prop)))
                    .collect();
                CV::Choice(Rc::new(v))
            }
            _ => CV::Other,
        }
    }

    fn site(&mut self, file: usize, span: Span, hook: &str, func: Option<String>, run: Cond) -> CV {
        let (kfile, koff, via) = match &self.outer {
            Some((f, o, name)) => {
                let inner = &self.link.files[file];
                (
                    *f,
                    *o,
                    Some(format!(
                        "{name} -> {hook} at {}:{}",
                        inner.path,
                        inner.line(span.start)
                    )),
                )
            }
            None => (file, span.start, None),
        };
        let key: SiteKey = (kfile, koff, func);
        self.out.occs.push(Occ {
            key: key.clone(),
            hook: hook.to_string(),
            run: Cond::and(self.pc.clone(), run),
            context: self.context,
            via,
        });
        CV::Query(key)
    }

    fn call(&mut self, file: usize, callee: CV, args: Vec<CV>, span: Span) -> CV {
        match callee {
            CV::Ext { module, path } => self.call_ext(file, module, path, args, span),
            CV::Func(c) => {
                let name = self.link.files[c.file].funcs[c.func as usize]
                    .name
                    .clone()
                    .unwrap_or_default();
                let set_outer = self.outer.is_none() && self.depth == 0;
                if set_outer {
                    self.outer = Some((file, span.start, name));
                }
                let v = self.inline(&c, args);
                if set_outer {
                    self.outer = None;
                }
                v
            }
            CV::Mutation(f) => {
                if self.in_effect {
                    self.out.effect_mutations.push((f, file, span.start));
                }
                CV::Other
            }
            _ => {
                // A method of a value we do not model (`items.map(...)`):
                // its callbacks run, and what they render is rendered.
                self.callbacks(file, args)
            }
        }
    }

    fn callbacks(&mut self, file: usize, args: Vec<CV>) -> CV {
        let mut renders = Vec::new();
        for a in args {
            if let CV::Func(c) = a {
                let v = self.inline(&c, vec![CV::Other, CV::Other, CV::Other]);
                renders.extend(self.renders(&v, file, 0));
            }
        }
        if renders.is_empty() {
            CV::Other
        } else {
            CV::Jsx(Rc::new(renders))
        }
    }

    fn call_ext(
        &mut self,
        file: usize,
        module: String,
        path: Vec<String>,
        args: Vec<CV>,
        span: Span,
    ) -> CV {
        let r = ExtRef {
            module: &module,
            path: &path,
        };
        if let Some(shape) = gates::hook(&r) {
            let name = path.join(".").replace(".()", "()");
            let mut m = BTreeMap::new();
            for (prop, state) in shape {
                let ev = self.ev(&format!("{name}().{prop}"), file, span.start);
                let c = match state {
                    State::ConvexAuth => Cond::Atom(Atom::ConvexAuth(ev)),
                    State::Provider => Cond::Atom(Atom::Provider(ev)),
                    State::Neutral => Cond::Atom(Atom::Neutral),
                };
                m.insert(prop.to_string(), CV::Cond(c));
            }
            return CV::Obj(Rc::new(m));
        }
        let single = path.len() == 1;
        let name = path.first().map(String::as_str).unwrap_or("");
        if single {
            for (hook, modules) in QUERY_HOOKS {
                if name == *hook && modules.contains(&module.as_str()) {
                    return self.query_hook(file, hook, args, span);
                }
            }
        }
        match (module.as_str(), name, single) {
            ("@convex-dev/react-query", "convexQuery", true) => {
                let func = match args.first() {
                    Some(CV::Api(n)) => Some(n.clone()),
                    _ => None,
                };
                let run = args.get(1).map(|a| self.runs(a)).unwrap_or(Cond::True);
                CV::ConvexQuery { func, run }
            }
            ("@tanstack/react-query", "useQuery" | "useSuspenseQuery", true) => {
                let (cq, enabled) = match args.first() {
                    Some(CV::ConvexQuery { func, run }) => {
                        (Some((func.clone(), run.clone())), Cond::True)
                    }
                    Some(CV::Obj(o)) => {
                        let cq = match o.get("\u{0}convexQuery") {
                            Some(CV::ConvexQuery { func, run }) => {
                                Some((func.clone(), run.clone()))
                            }
                            _ => None,
                        };
                        let enabled = o
                            .get("enabled")
                            .map(|e| self.truth(e))
                            .unwrap_or(Cond::True);
                        (cq, enabled)
                    }
                    _ => (None, Cond::True),
                };
                match cq {
                    Some((func, run)) => self.site(file, span, name, func, Cond::and(run, enabled)),
                    None => self.callbacks(file, args),
                }
            }
            ("convex/react", "useMutation", true) => CV::Mutation(match args.first() {
                Some(CV::Api(n)) => Some(n.clone()),
                _ => None,
            }),
            ("react", "useEffect" | "useLayoutEffect", true) => {
                let saved = self.in_effect;
                self.in_effect = true;
                self.callbacks(file, args.into_iter().take(1).collect());
                self.in_effect = saved;
                CV::Undef
            }
            ("react", "useMemo", true) => match args.into_iter().next() {
                Some(CV::Func(c)) => self.inline(&c, vec![]),
                _ => CV::Other,
            },
            ("react", "useCallback" | "memo" | "forwardRef", true) => {
                args.into_iter().next().unwrap_or(CV::Other)
            }
            ("convex/nextjs", "preloadQuery" | "fetchQuery", true) => {
                let f = &self.link.files[file];
                let (line, column) = f.line_col(span.start);
                self.out.outside.push(Outside {
                    file: f.path.clone(),
                    line,
                    column,
                    call: name.to_string(),
                    function: match args.first() {
                        Some(CV::Api(n)) => Some(n.clone()),
                        _ => None,
                    },
                });
                CV::Other
            }
            _ => {
                let v = self.callbacks(file, args);
                if matches!(v, CV::Jsx(_)) {
                    return v;
                }
                let mut path = path;
                path.push("()".to_string());
                if path.len() > 8 {
                    return CV::Other;
                }
                CV::Ext { module, path }
            }
        }
    }

    fn query_hook(&mut self, file: usize, hook: &str, args: Vec<CV>, span: Span) -> CV {
        match hook {
            "useQueries" => {
                let mut m = BTreeMap::new();
                if let Some(CV::Obj(o)) = args.first() {
                    for (k, q) in o.iter() {
                        if let CV::Obj(q) = q {
                            let func = match q.get("query") {
                                Some(CV::Api(n)) => Some(n.clone()),
                                _ => None,
                            };
                            let run = q.get("args").map(|a| self.runs(a)).unwrap_or(Cond::True);
                            let v = self.site(file, span, hook, func, run);
                            m.insert(k.clone(), v);
                        }
                    }
                } else {
                    self.site(file, span, hook, None, Cond::True);
                }
                CV::Obj(Rc::new(m))
            }
            "usePreloadedQuery" => self.site(file, span, hook, None, Cond::True),
            _ => {
                let func = match args.first() {
                    Some(CV::Api(n)) => Some(n.clone()),
                    _ => None,
                };
                let run = args.get(1).map(|a| self.runs(a)).unwrap_or(Cond::True);
                self.site(file, span, hook, func, run)
            }
        }
    }

    fn inline(&mut self, c: &Closure, args: Vec<CV>) -> CV {
        if self.depth >= MAX_INLINE_DEPTH || self.steps > MAX_STEPS {
            return CV::Other;
        }
        self.out.inlined.insert((c.file, c.func));
        let mut env: HashMap<Sym, CV> = (*c.env).clone();
        self.depth += 1;
        let saved_pc = self.pc.clone();
        let body = &self.link.files[c.file].funcs[c.func as usize].body;
        let (ret, _) = self.exec(c.file, &mut env, body, &args, false);
        self.pc = saved_pc;
        self.depth -= 1;
        ret
    }

    /// Runs statements; returns the (guarded) return value and whether the
    /// end may be reached. At the component's own level (`root`), what a
    /// `return` renders becomes render-graph edges.
    fn exec(
        &mut self,
        file: usize,
        env: &mut HashMap<Sym, CV>,
        stmts: &[Stmt],
        args: &[CV],
        root: bool,
    ) -> (CV, bool) {
        let mut ret: Option<CV> = None;
        let add = |ret: &mut Option<CV>, pc: &Cond, v: CV| {
            *ret = Some(match ret.take() {
                None => choice((pc.clone(), v), (Cond::False, CV::Undef)),
                Some(r) => choice((Cond::True, r), (pc.clone(), v)),
            });
        };
        for s in stmts {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                break;
            }
            match s {
                Stmt::Let { sym, init } => {
                    let v = match init {
                        E::Param(i) => args.get(*i as usize).cloned().unwrap_or(CV::Undef),
                        E::Nullish(a, _) if matches!(**a, E::Param(_)) => {
                            let E::Param(i) = **a else { unreachable!() };
                            args.get(i as usize).cloned().unwrap_or(CV::Other)
                        }
                        e => self.eval(file, env, e),
                    };
                    env.insert(*sym, v);
                }
                Stmt::Expr(e) => {
                    self.eval(file, env, e);
                }
                Stmt::Return(e, span) => {
                    let v = match e {
                        Some(e) => self.eval(file, env, e),
                        None => CV::Undef,
                    };
                    if root {
                        self.record_renders(&v, file, span.start);
                    }
                    let pc = self.pc.clone();
                    add(&mut ret, &pc, v);
                    return (ret.unwrap_or(CV::Undef), false);
                }
                Stmt::Throw(e, _) => {
                    self.eval(file, env, e);
                    return (ret.unwrap_or(CV::Undef), false);
                }
                Stmt::If { test, then, els } => {
                    let t = self.eval(file, env, test);
                    let c = self.truth(&t);
                    let saved = self.pc.clone();
                    let mut reach = Cond::False;
                    for (bc, body) in [(c.clone(), then), (Cond::negate(c), els)] {
                        if bc == Cond::False {
                            continue;
                        }
                        self.pc = Cond::and(saved.clone(), bc.clone());
                        let mut benv = env.clone();
                        let (r, falls) = self.exec(file, &mut benv, body, args, root);
                        if !matches!(r, CV::Undef) || !falls {
                            add(&mut ret, &Cond::True, r);
                        }
                        if falls {
                            reach = Cond::or(reach, bc);
                            for (k, v) in benv {
                                env.entry(k).or_insert(v);
                            }
                        }
                    }
                    if reach == Cond::False {
                        self.pc = saved;
                        return (ret.unwrap_or(CV::Undef), false);
                    }
                    // Below an early return: what follows runs only when the
                    // branches that fall through were taken.
                    self.pc = Cond::and(saved, reach);
                }
                Stmt::Loop(body) | Stmt::Try { block: body, .. } => {
                    let mut benv = env.clone();
                    let (r, _) = self.exec(file, &mut benv, body, args, root);
                    if !matches!(r, CV::Undef) {
                        add(&mut ret, &Cond::True, r);
                    }
                    if let Stmt::Try { catch, finally, .. } = s {
                        for b in [catch, finally] {
                            let mut cenv = env.clone();
                            let (r, _) = self.exec(file, &mut cenv, b, args, root);
                            if !matches!(r, CV::Undef) {
                                add(&mut ret, &Cond::True, r);
                            }
                        }
                    }
                    for (k, v) in benv {
                        env.entry(k).or_insert(v);
                    }
                }
                Stmt::Switch { disc, cases } => {
                    self.eval(file, env, disc);
                    for (t, body) in cases {
                        if let Some(t) = t {
                            self.eval(file, env, t);
                        }
                        let mut benv = env.clone();
                        let (r, _) = self.exec(file, &mut benv, body, args, root);
                        if !matches!(r, CV::Undef) {
                            add(&mut ret, &Cond::True, r);
                        }
                    }
                }
                Stmt::Jump => return (ret.unwrap_or(CV::Undef), true),
            }
        }
        (ret.unwrap_or(CV::Undef), true)
    }

    fn record_renders(&mut self, v: &CV, file: usize, offset: u32) {
        for r in self.renders(v, file, offset) {
            let cond = Cond::and(self.pc.clone(), r.cond);
            match r.target {
                Some(to) => self.out.edges.push(Edge {
                    from: self.context,
                    to,
                    cond,
                    file: r.file,
                    offset: r.offset,
                }),
                None => self
                    .out
                    .children
                    .entry(self.context)
                    .or_default()
                    .push(cond),
            }
        }
    }

    fn jsx(&mut self, file: usize, env: &mut HashMap<Sym, CV>, j: &super::ir::Jsx) -> CV {
        let mut renders: Vec<Rendered> = Vec::new();
        let mut child_cond = Cond::True;
        match &j.tag {
            JsxTag::Intrinsic(_) | JsxTag::Fragment => {}
            JsxTag::Value(e) => match self.eval(file, env, e) {
                CV::Func(c) => {
                    let key = (c.file, c.func);
                    renders.push(Rendered {
                        target: Some(key),
                        cond: Cond::True,
                        file,
                        offset: j.span.start,
                    });
                    child_cond = Cond::Atom(Atom::ChildrenOf(key));
                }
                CV::Children => renders.push(Rendered {
                    target: None,
                    cond: Cond::True,
                    file,
                    offset: j.span.start,
                }),
                CV::Ext { module, path } => {
                    let r = ExtRef {
                        module: &module,
                        path: &path,
                    };
                    let name = path.join(".");
                    child_cond = match gates::element(&r) {
                        Some(ElementGate::Authenticated) => Cond::Atom(Atom::AuthenticatedEl(
                            self.ev(&format!("<{name}>"), file, j.span.start),
                        )),
                        Some(ElementGate::Provider) => Cond::Atom(Atom::Provider(self.ev(
                            &format!("<{name}>"),
                            file,
                            j.span.start,
                        ))),
                        Some(ElementGate::Negative) | None => Cond::True,
                    };
                }
                _ => {}
            },
        }
        for (_, a) in &j.attrs {
            let v = self.eval(file, env, a);
            renders.extend(self.renders(&v, file, j.span.start));
        }
        for s in &j.spreads {
            self.eval(file, env, s);
        }
        for c in &j.children {
            let v = self.eval(file, env, c);
            for mut r in self.renders(&v, file, j.span.start) {
                r.cond = Cond::and(child_cond.clone(), r.cond);
                renders.push(r);
            }
        }
        CV::Jsx(Rc::new(renders))
    }
}

// ---- gates ----

/// A gate with its reason; `unknown` when it rests on something unknown.
#[derive(Clone, Debug)]
struct GateVal {
    gate: Gate,
    why: String,
    unknown: Option<String>,
}

impl GateVal {
    fn none(why: &str) -> GateVal {
        GateVal {
            gate: Gate::None,
            why: why.to_string(),
            unknown: None,
        }
    }
}

struct Gates<'a> {
    link: &'a Linker<'a>,
    fns: &'a HashMap<String, &'a ServerFunction>,
    /// Own gate of each site (skip semantics), for data dependencies.
    site_gates: HashMap<SiteKey, Gate>,
    children: &'a HashMap<CompKey, Vec<Cond>>,
}

impl Gates<'_> {
    fn at(&self, file: usize, offset: u32) -> String {
        let f = &self.link.files[file];
        format!("{}:{}", f.path, f.line(offset))
    }

    fn gate(&self, c: &Cond, mount: bool, depth: usize) -> GateVal {
        if depth > 16 {
            return GateVal::none("nested too deeply");
        }
        match c {
            Cond::True | Cond::False => GateVal::none("no condition"),
            Cond::Not(_) => GateVal::none("a negated condition"),
            Cond::Atom(a) => self.atom(a, mount, depth),
            Cond::And(xs) => {
                let mut best = GateVal::none("no condition");
                let mut convex_auth = None;
                let mut user = None;
                for x in xs {
                    let g = self.gate(x, mount, depth + 1);
                    if let Cond::Atom(Atom::ConvexAuth(ev)) = x {
                        convex_auth = Some(ev.clone());
                    }
                    if let Cond::Atom(Atom::Data { site, .. }) = x
                        && let Some(f) = site.2.as_ref().and_then(|n| self.fns.get(n))
                        && f.returns_user_row
                        && f.auth == AuthClass::Optional
                    {
                        user = Some(site.clone());
                    }
                    if g.gate > best.gate
                        || (best.gate == Gate::None
                            && best.unknown.is_none()
                            && g.unknown.is_some())
                    {
                        best = g;
                    }
                }
                if let (Some(ev), Some(site)) = (convex_auth, user) {
                    return GateVal {
                        gate: Gate::CurrentUser,
                        why: format!(
                            "{} and {} returned a user ({})",
                            ev.text,
                            site.2.clone().unwrap_or_default(),
                            self.at(ev.file, ev.offset)
                        ),
                        unknown: None,
                    };
                }
                best
            }
            Cond::Or(xs) => {
                let mut worst: Option<GateVal> = None;
                for x in xs {
                    let g = self.gate(x, mount, depth + 1);
                    if worst.as_ref().is_none_or(|w| g.gate < w.gate) {
                        worst = Some(g);
                    }
                }
                worst.unwrap_or_else(|| GateVal::none("no condition"))
            }
        }
    }

    fn atom(&self, a: &Atom, mount: bool, depth: usize) -> GateVal {
        match a {
            Atom::ConvexAuth(ev) => GateVal {
                gate: if mount {
                    Gate::Authenticated
                } else {
                    Gate::ConvexAuth
                },
                why: if mount {
                    format!(
                        "rendered only when {} ({})",
                        ev.text,
                        self.at(ev.file, ev.offset)
                    )
                } else {
                    format!("skip unless {} ({})", ev.text, self.at(ev.file, ev.offset))
                },
                unknown: None,
            },
            Atom::Provider(ev) => GateVal {
                gate: Gate::Provider,
                why: format!(
                    "only when the provider says signed in: {} ({})",
                    ev.text,
                    self.at(ev.file, ev.offset)
                ),
                unknown: None,
            },
            Atom::AuthenticatedEl(ev) => GateVal {
                gate: Gate::Authenticated,
                why: format!(
                    "rendered only inside {} ({})",
                    ev.text,
                    self.at(ev.file, ev.offset)
                ),
                unknown: None,
            },
            Atom::Data {
                site,
                only_not_null,
            } => {
                let g = if *only_not_null {
                    Gate::None
                } else {
                    self.site_gates.get(site).copied().unwrap_or(Gate::None)
                };
                GateVal {
                    gate: g,
                    why: format!(
                        "data-dependent: waits for the result of {} ({}), gated {}{}",
                        site.2
                            .as_deref()
                            .map(|n| format!("api.{}", n.replace([':', '/'], ".")))
                            .unwrap_or_else(|| "a query".to_string()),
                        self.at(site.0, site.1),
                        g.as_str(),
                        if *only_not_null {
                            " (`!== null` is true while it loads)"
                        } else {
                            ""
                        }
                    ),
                    unknown: None,
                }
            }
            Atom::ChildrenOf(k) => {
                let conds = self.children.get(k).cloned().unwrap_or_default();
                if conds.is_empty() {
                    return GateVal::none(
                        "passed as children to a component that renders them as is",
                    );
                }
                let c = conds.into_iter().fold(Cond::False, Cond::or);
                let mut g = self.gate(&c, true, depth + 1);
                let name = self.link.files[k.0].funcs[k.1 as usize]
                    .name
                    .clone()
                    .unwrap_or_default();
                g.why = format!("as children of {name}: {}", g.why);
                g
            }
            Atom::Neutral => GateVal::none("a condition with no auth meaning"),
            Atom::Unknown(r) => GateVal {
                gate: Gate::None,
                why: r.clone(),
                unknown: Some(r.clone()),
            },
        }
    }
}

fn is_component_name(n: &str) -> bool {
    n.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// Next.js app-router files: the layouts above a page or layout, innermost first.
fn layouts_above(path: &str, layouts: &HashMap<String, usize>) -> Vec<usize> {
    let mut out = Vec::new();
    let mut dir = dirname(path).to_string();
    let own = path.rsplit('/').next().unwrap_or("");
    let mut first = true;
    loop {
        if !(first && own.starts_with("layout."))
            && let Some(l) = layouts.get(&dir)
        {
            out.push(*l);
        }
        first = false;
        if dir.ends_with("/app") || dir == "app" || dir.is_empty() {
            break;
        }
        dir = dirname(&dir).to_string();
    }
    out
}

/// Finds every call site and its gate.
pub fn find(
    link: &Linker<'_>,
    functions_dir: &str,
    functions: &[ServerFunction],
) -> (Vec<CallSite>, Vec<Outside>) {
    let (sites, outside, _) = find_with_facts(link, functions_dir, functions);
    (sites, outside)
}

/// The component a file's default export is, if it is a project function.
fn default_component(link: &Linker<'_>, file: usize) -> Option<CompKey> {
    let mut out = Out::default();
    let mut ci = Ci {
        link,
        out: &mut out,
        context: (file, 0),
        depth: 0,
        steps: 0,
        pc: Cond::True,
        outer: None,
        in_effect: false,
        cache: HashMap::new(),
        in_progress: Vec::new(),
    };
    let t = link.export(file, "default", 0);
    match ci.target(t) {
        CV::Func(c) => Some((c.file, c.func)),
        _ => None,
    }
}

pub fn find_with_facts(
    link: &Linker<'_>,
    functions_dir: &str,
    functions: &[ServerFunction],
) -> (Vec<CallSite>, Vec<Outside>, AppFacts) {
    let fns: HashMap<String, &ServerFunction> =
        functions.iter().map(|f| (f.name.clone(), f)).collect();
    let prefix = format!("{functions_dir}/");
    let mut out = Out::default();
    // Candidate contexts: functions named like components or hooks, and
    // default exports.
    let mut comps: Vec<CompKey> = Vec::new();
    let mut hooks: Vec<CompKey> = Vec::new();
    for (fi, f) in link.files.iter().enumerate() {
        if f.path.starts_with(&prefix) {
            continue;
        }
        for (id, func) in f.funcs.iter().enumerate() {
            match func.name.as_deref() {
                Some(n) if is_component_name(n) => comps.push((fi, id as FuncId)),
                Some(n) if n.starts_with("use") => hooks.push((fi, id as FuncId)),
                _ => {}
            }
        }
        if let Some(k) = default_component(link, fi)
            && !comps.contains(&k)
        {
            comps.push(k);
        }
    }
    let run = |out: &mut Out, k: CompKey, as_hook: bool| {
        out.interpreted.insert(k);
        let mut ci = Ci {
            link,
            out,
            context: k,
            depth: 0,
            steps: 0,
            pc: Cond::True,
            outer: None,
            in_effect: false,
            cache: HashMap::new(),
            in_progress: Vec::new(),
        };
        let func = &link.files[k.0].funcs[k.1 as usize];
        let args: Vec<CV> = if as_hook {
            (0..func.params)
                .map(|i| CV::Prop(format!("parameter {}", i + 1)))
                .collect()
        } else {
            vec![CV::Props, CV::Other]
        };
        let mut env = HashMap::new();
        ci.exec(k.0, &mut env, &func.body, &args, true);
    };
    for k in &comps {
        run(&mut out, *k, false);
    }
    // Hooks (and other functions) that no component reached: on their own,
    // with no gate from any component.
    for k in &hooks {
        if !out.inlined.contains(k) && !out.interpreted.contains(k) {
            run(&mut out, *k, true);
        }
    }
    // Next.js layouts wrap their pages; `_app` wraps every page.
    let mut layouts: HashMap<String, usize> = HashMap::new();
    for (fi, f) in link.files.iter().enumerate() {
        let name = f.path.rsplit('/').next().unwrap_or("");
        if name.starts_with("layout.") && f.path.split('/').any(|c| c == "app") {
            layouts.insert(dirname(&f.path).to_string(), fi);
        }
    }
    let mut app_file = None;
    for (fi, f) in link.files.iter().enumerate() {
        let name = f.path.rsplit('/').next().unwrap_or("");
        if name.starts_with("_app.") && f.path.split('/').any(|c| c == "pages") {
            app_file = Some(fi);
        }
    }
    for (fi, f) in link.files.iter().enumerate() {
        let name = f.path.rsplit('/').next().unwrap_or("");
        let in_app = f.path.split('/').any(|c| c == "app");
        if in_app
            && (name.starts_with("page.")
                || name.starts_with("layout.")
                || name.starts_with("template."))
            && let (Some(&l), Some(me)) = (
                layouts_above(&f.path, &layouts).first(),
                default_component(link, fi),
            )
            && let Some(lk) = default_component(link, l)
        {
            out.edges.push(Edge {
                from: lk,
                to: me,
                cond: Cond::Atom(Atom::ChildrenOf(lk)),
                file: l,
                offset: link.files[l].funcs[lk.1 as usize].span.start,
            });
        }
        let in_pages = f.path.split('/').any(|c| c == "pages");
        if in_pages
            && !name.starts_with('_')
            && !f.path.contains("/api/")
            && let (Some(a), Some(me)) = (app_file, default_component(link, fi))
            && let Some(ak) = default_component(link, a)
        {
            out.edges.push(Edge {
                from: ak,
                to: me,
                cond: Cond::Atom(Atom::ChildrenOf(ak)),
                file: a,
                offset: link.files[a].funcs[ak.1 as usize].span.start,
            });
        }
    }

    let mut gates = Gates {
        link,
        fns: &fns,
        site_gates: HashMap::new(),
        children: &out.children,
    };
    // Context gates: weakest over incoming edges, strongest along each path.
    let mut ctx: HashMap<CompKey, GateVal> = HashMap::new();
    let nodes: HashSet<CompKey> = out
        .interpreted
        .iter()
        .copied()
        .chain(out.edges.iter().flat_map(|e| [e.from, e.to]))
        .collect();
    let has_incoming: HashSet<CompKey> = out.edges.iter().map(|e| e.to).collect();
    for n in &nodes {
        if !has_incoming.contains(n) {
            ctx.insert(
                *n,
                GateVal::none("not rendered by any component found (a root)"),
            );
        }
    }
    let edge_gates: Vec<GateVal> = out
        .edges
        .iter()
        .map(|e| gates.gate(&e.cond, true, 0))
        .collect();
    for _round in 0..2 {
        loop {
            let mut changed = false;
            for (e, eg) in out.edges.iter().zip(&edge_gates) {
                let Some(from) = ctx.get(&e.from).cloned() else {
                    continue;
                };
                let name = link.files[e.from.0].funcs[e.from.1 as usize]
                    .name
                    .clone()
                    .unwrap_or_default();
                let via = if eg.gate >= from.gate {
                    GateVal {
                        gate: eg.gate,
                        why: if eg.gate == Gate::None {
                            format!(
                                "rendered by {name} ({}) with no gate",
                                gates.at(e.file, e.offset)
                            )
                        } else {
                            eg.why.clone()
                        },
                        unknown: eg.unknown.clone(),
                    }
                } else {
                    from.clone()
                };
                let better = match ctx.get(&e.to) {
                    None => true,
                    Some(cur) => via.gate < cur.gate,
                };
                if better {
                    ctx.insert(e.to, via);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // Cycles never reached from a root: treat them as roots.
        for n in &nodes {
            ctx.entry(*n)
                .or_insert_with(|| GateVal::none("rendered only from a cycle of components"));
        }
    }

    // Own gates, twice: data dependencies read the first round's gates.
    let mut own: Vec<GateVal> = Vec::new();
    for _ in 0..3 {
        own = out
            .occs
            .iter()
            .map(|o| gates.gate(&o.run, false, 0))
            .collect();
        let mut site_gates: HashMap<SiteKey, Gate> = HashMap::new();
        for (o, g) in out.occs.iter().zip(&own) {
            let c = ctx.get(&o.context).map(|c| c.gate).unwrap_or(Gate::None);
            let eff = g.gate.max(c);
            site_gates
                .entry(o.key.clone())
                .and_modify(|x| *x = (*x).min(eff))
                .or_insert(eff);
        }
        gates.site_gates = site_gates;
    }

    let mut by_site: BTreeMap<SiteKey, (Occ, GateVal)> = BTreeMap::new();
    for (o, g) in out.occs.iter().zip(own) {
        let c = ctx
            .get(&o.context)
            .cloned()
            .unwrap_or_else(|| GateVal::none("a root"));
        let eff = if g.gate >= c.gate
            && !(g.gate == Gate::None
                && g.unknown.is_none()
                && c.gate == Gate::None
                && c.unknown.is_some())
        {
            if g.gate == Gate::None && g.unknown.is_none() && c.gate == Gate::None {
                // Ungated at the call and where it is rendered: say where
                // (the weakest place that renders the component).
                GateVal {
                    why: format!("{}; {}", g.why, c.why),
                    ..g
                }
            } else {
                g
            }
        } else {
            c
        };
        let entry = by_site
            .entry(o.key.clone())
            .or_insert_with(|| (o.clone(), eff.clone()));
        if eff.gate < entry.1.gate {
            *entry = (o.clone(), eff);
        }
    }
    let mut sites = Vec::new();
    for ((file, offset, func), (occ, g)) in by_site {
        let f = &link.files[file];
        let (line, column) = f.line_col(offset);
        let server = func.as_ref().and_then(|n| fns.get(n));
        let (auth, auth_why) = match (&func, server) {
            (_, Some(s)) => (s.auth, s.why.clone()),
            (Some(n), None) => (
                AuthClass::Unknown,
                format!(
                    "`{n}` is not an exported function of the functions folder that authrace found"
                ),
            ),
            (None, None) => (
                AuthClass::Unknown,
                "the function is not an `api.*` reference authrace can follow".to_string(),
            ),
        };
        let comp = link.files[occ.context.0].funcs[occ.context.1 as usize]
            .name
            .clone()
            .unwrap_or_else(|| "(anonymous)".to_string());
        let gate = match &g.unknown {
            Some(r) if g.gate == Gate::None => GateFound::Unknown(r.clone()),
            _ => GateFound::Known(g.gate),
        };
        sites.push(CallSite {
            file: f.path.clone(),
            line,
            column,
            hook: occ.hook.clone(),
            function: func,
            auth,
            gate,
            gate_why: g.why,
            component: comp,
            via: occ.via.clone(),
            auth_why,
        });
    }
    sites.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    let facts = AppFacts {
        effect_mutations: out
            .effect_mutations
            .iter()
            .map(|(f, file, off)| {
                (
                    f.clone(),
                    link.files[*file].path.clone(),
                    link.files[*file].line(*off),
                )
            })
            .collect(),
    };
    let mut outside = out.outside;
    outside.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    outside.dedup_by(|a, b| a.file == b.file && a.line == b.line && a.column == b.column);
    (sites, outside, facts)
}
