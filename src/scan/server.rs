//! Server functions: every exported Convex function of the functions folder
//! (`convex.json` `functions`, default `convex/`), through wrappers, and
//! the `auth` class of each query.
//!
//! A function is found by evaluating each export of each file of the
//! functions folder: `query({...})`, `internalQuery`, `mutation`,
//! `internalMutation`, `action`, `internalAction` from `_generated/server`
//! (or the `*Generic` builders of `convex/server`), through a project's own
//! builder (`export const query = customQuery(rawQuery, customCtx(...))` in
//! `functions.ts`, convex-helpers' `customQuery` / `zCustomQuery`), named
//! `path/of/module:export` as `api.path.of.module.export` spells it.
//!
//! **Auth class.** Each handler (with the custom context its builder adds
//! first) is interpreted three times, following every project function it
//! calls across files (depth-bounded): with no identity (`N`), with an
//! identity whose users-table row is missing (`R`), and with both (`OK`).
//! Identity reads are the rules of [`super::auth`]; a `ctx.db` read keyed by
//! an identity-derived value is the user's row. A throw that happens in `N`
//! but not in `OK` makes the function `required`; one in `R` but not in
//! `OK`, `user-row`; an identity read without such a throw, `optional`; no
//! identity read, `none`. Whatever cannot be followed (a package function
//! handed `ctx`, recursion past the bound) makes it `unknown`, unless a
//! throw without identity was already proved.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use super::auth::{self, AuthCall, AuthEffect};
use super::ir::{CmpOp, E, FuncId, Prop, Span, Stmt, Sym};
use super::resolve::{Linker, Target, dirname};
use super::{AuthClass, ServerFunction};

/// How deep calls between project functions are followed.
pub const MAX_CALL_DEPTH: usize = 10;
/// Statements interpreted per function before giving up (loops, size).
const MAX_STEPS: usize = 200_000;

/// Which world a handler is interpreted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum World {
    /// Evaluating module-level definitions: no request.
    Define,
    /// No identity.
    NoIdentity,
    /// An identity, no users-table row.
    NoRow,
    /// An identity and its row.
    Ok,
}

/// The kind of a Convex function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FnKind {
    Query,
    Mutation,
    Action,
    HttpAction,
}

#[derive(Clone, Debug)]
pub struct Closure {
    file: usize,
    func: FuncId,
    env: Rc<HashMap<Sym, V>>,
}

/// An abstract value.
#[derive(Clone, Debug)]
pub enum V {
    /// The function's `ctx`, with what custom contexts added.
    Ctx(Rc<BTreeMap<String, V>>),
    /// A member path of `ctx` (`auth`, `db`, `db.query(...)`...).
    CtxPath(Vec<String>, bool),
    Null,
    Undef,
    /// Exists. `ident`: derived from the identity; `row`: is the user's row.
    Present {
        ident: bool,
        row: bool,
    },
    /// May or may not be null.
    Data {
        ident: bool,
    },
    Bool(bool),
    Str(String),
    Func(Closure),
    Obj(Rc<BTreeMap<String, V>>),
    /// A package's export, then members and calls (`()`).
    Ext {
        module: String,
        path: Vec<String>,
    },
    Namespace(usize),
    /// A Convex function builder, with the custom contexts to run first.
    Builder {
        kind: FnKind,
        internal: bool,
        mods: Vec<V>,
    },
    ConvexFn {
        kind: FnKind,
        internal: bool,
        handler: Box<V>,
        mods: Vec<V>,
    },
    /// `customCtx(f)`.
    CustomCtx(Box<V>),
    Unknown {
        ident: bool,
    },
}

impl V {
    fn ident(&self) -> bool {
        match self {
            V::Present { ident, .. } | V::Data { ident } | V::Unknown { ident } => *ident,
            V::CtxPath(_, i) => *i,
            V::Obj(m) => m.values().any(V::ident),
            _ => false,
        }
    }
    fn unknown() -> V {
        V::Unknown { ident: false }
    }
    fn truthy(&self) -> Option<bool> {
        match self {
            V::Null | V::Undef => Some(false),
            V::Bool(b) => Some(*b),
            V::Str(s) => Some(!s.is_empty()),
            V::Data { .. } | V::Unknown { .. } => None,
            _ => Some(true),
        }
    }
    fn nullish(&self) -> Option<bool> {
        match self {
            V::Null | V::Undef => Some(true),
            V::Data { .. } | V::Unknown { .. } => None,
            _ => Some(false),
        }
    }
}

fn join(a: V, b: V) -> V {
    match (&a, &b) {
        (V::Null, V::Null) | (V::Undef, V::Undef) => a,
        (V::Bool(x), V::Bool(y)) if x == y => a,
        (V::Present { ident: i1, row: r1 }, V::Present { ident: i2, row: r2 }) => V::Present {
            ident: *i1 || *i2,
            row: *r1 && *r2,
        },
        (V::Func(_), _) | (V::Obj(_), _) | (V::Ctx(_), _) | (V::Ext { .. }, _) => {
            if matches!(b, V::Null | V::Undef) {
                V::Data { ident: a.ident() }
            } else {
                a
            }
        }
        _ => {
            let ident = a.ident() || b.ident();
            if a.nullish() == Some(false) && b.nullish() == Some(false) {
                V::Present { ident, row: false }
            } else {
                V::Data { ident }
            }
        }
    }
}

/// A throw that may happen, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Throw {
    pub file: usize,
    pub span: Span,
    /// The project function called from the handler that led to it.
    pub via: Option<String>,
    pub what: String,
}

/// What one frame's statements may do.
struct Flow {
    falls: Option<HashMap<Sym, V>>,
    returns: Vec<V>,
}

/// What interpreting a handler in one world found.
#[derive(Default)]
struct Run {
    throws: Vec<Throw>,
    reads: Vec<(String, usize, Span)>,
    unknowns: Vec<String>,
    /// `(table, identity-derived)` of every `ctx.db.insert`.
    inserts: Vec<(Option<String>, bool)>,
    returns: Option<V>,
}

pub struct Interp<'p> {
    pub link: &'p Linker<'p>,
    world: World,
    depth: usize,
    steps: usize,
    /// Set when the current expression definitely throws.
    dead: bool,
    run: Run,
    /// The helper chain: the outermost project function called from the root.
    via: Vec<String>,
    cache: HashMap<(usize, Sym), V>,
    in_progress: Vec<(usize, Sym)>,
}

impl<'p> Interp<'p> {
    pub fn new(link: &'p Linker<'p>, world: World) -> Interp<'p> {
        Interp {
            link,
            world,
            depth: 0,
            steps: 0,
            dead: false,
            run: Run::default(),
            via: Vec::new(),
            cache: HashMap::new(),
            in_progress: Vec::new(),
        }
    }

    fn throw(&mut self, file: usize, span: Span, what: String) {
        let t = Throw {
            file,
            span,
            via: self.via.first().cloned(),
            what,
        };
        if !self.run.throws.contains(&t) {
            self.run.throws.push(t);
        }
    }

    fn throw_via(&mut self, file: usize, span: Span, what: String, via: String) {
        let t = Throw {
            file,
            span,
            via: Some(via),
            what,
        };
        if !self.run.throws.contains(&t) {
            self.run.throws.push(t);
        }
    }

    fn unknown(&mut self, why: String) {
        if !self.run.unknowns.contains(&why) {
            self.run.unknowns.push(why);
        }
    }

    // ---- names ----

    /// The value of a module-level binding or an import.
    pub fn top(&mut self, file: usize, sym: Sym) -> V {
        if let Some(v) = self.cache.get(&(file, sym)) {
            return v.clone();
        }
        if self.in_progress.contains(&(file, sym)) || self.in_progress.len() > 64 {
            return V::unknown();
        }
        self.in_progress.push((file, sym));
        let v = if self.link.files[file].imports.contains_key(&sym) {
            match self.link.import(file, sym) {
                Some(t) => self.target(t),
                None => V::unknown(),
            }
        } else if let Some(e) = self.link.def(file, sym) {
            let saved = (self.world, self.dead);
            self.world = World::Define;
            let v = self.eval(file, &mut HashMap::new(), e);
            (self.world, self.dead) = saved;
            v
        } else {
            V::unknown()
        };
        self.in_progress.pop();
        self.cache.insert((file, sym), v.clone());
        v
    }

    pub fn target(&mut self, t: Target) -> V {
        match t {
            Target::Binding { file, sym } => self.top(file, sym),
            Target::DefaultExpr { file } => match self.link.default_expr(file) {
                Some(e) => {
                    let saved = (self.world, self.dead);
                    self.world = World::Define;
                    let v = self.eval(file, &mut HashMap::new(), e);
                    (self.world, self.dead) = saved;
                    v
                }
                None => V::unknown(),
            },
            Target::Namespace { file } => V::Namespace(file),
            Target::External { module, name } => builder_value(&module, &name).unwrap_or(V::Ext {
                module,
                path: vec![name],
            }),
            Target::Missing(_) => V::unknown(),
        }
    }

    // ---- expressions ----

    pub fn eval(&mut self, file: usize, env: &mut HashMap<Sym, V>, e: &E) -> V {
        match e {
            E::Sym(s, _) => match env.get(s) {
                Some(v) => v.clone(),
                None => self.top(file, *s),
            },
            E::Global(_) => V::unknown(),
            E::Param(_) => V::unknown(),
            E::Null => V::Null,
            E::Undefined => V::Undef,
            E::Bool(b) => V::Bool(*b),
            E::Str(s) => V::Str(s.clone()),
            E::Other | E::Deep => V::Present {
                ident: false,
                row: false,
            },
            E::Obj(props) => {
                let mut m = BTreeMap::new();
                for p in props {
                    match p {
                        Prop::Kv(k, x) => {
                            let v = self.eval(file, env, x);
                            m.insert(k.clone(), v);
                        }
                        Prop::Spread(x) => {
                            if let V::Obj(o) = self.eval(file, env, x) {
                                for (k, v) in o.iter() {
                                    m.insert(k.clone(), v.clone());
                                }
                            }
                        }
                        Prop::Computed(x) => {
                            self.eval(file, env, x);
                        }
                    }
                }
                V::Obj(Rc::new(m))
            }
            E::Array(items) => {
                let mut ident = false;
                for x in items {
                    ident |= self.eval(file, env, x).ident();
                }
                V::Present { ident, row: false }
            }
            E::Spread(x) | E::Await(x) => self.eval(file, env, x),
            E::Member {
                obj,
                prop,
                optional,
                span,
            } => {
                let o = self.eval(file, env, obj);
                self.member(file, o, prop.as_deref(), *optional, *span)
            }
            E::Call {
                callee,
                args,
                span,
                optional,
                ..
            } => {
                let c = self.eval(file, env, callee);
                if *optional && c.nullish() == Some(true) {
                    return V::Undef;
                }
                let args: Vec<V> = args.iter().map(|a| self.eval(file, env, a)).collect();
                self.call(file, c, args, *span)
            }
            E::Func(f) => V::Func(Closure {
                file,
                func: *f,
                env: Rc::new(env.clone()),
            }),
            E::Cond { test, then, els } => {
                let t = self.eval(file, env, test);
                match t.truthy() {
                    Some(true) => self.eval(file, env, then),
                    Some(false) => self.eval(file, env, els),
                    None => {
                        let a = self.eval(file, env, then);
                        let b = self.eval(file, env, els);
                        join(a, b)
                    }
                }
            }
            E::And(a, b) => {
                let x = self.eval(file, env, a);
                match x.truthy() {
                    Some(false) => x,
                    Some(true) => self.eval(file, env, b),
                    None => {
                        let y = self.eval(file, env, b);
                        if y.truthy() == Some(false) {
                            V::Bool(false)
                        } else {
                            V::Data {
                                ident: x.ident() || y.ident(),
                            }
                        }
                    }
                }
            }
            E::Or(a, b) => {
                let x = self.eval(file, env, a);
                match x.truthy() {
                    Some(true) => x,
                    Some(false) => self.eval(file, env, b),
                    None => {
                        let y = self.eval(file, env, b);
                        join(x, y)
                    }
                }
            }
            E::Nullish(a, b) => {
                let x = self.eval(file, env, a);
                match x.nullish() {
                    Some(false) => x,
                    Some(true) => self.eval(file, env, b),
                    None => {
                        let y = self.eval(file, env, b);
                        join(x, y)
                    }
                }
            }
            E::Not(a) => {
                let x = self.eval(file, env, a);
                match x.truthy() {
                    Some(b) => V::Bool(!b),
                    None => V::Data { ident: x.ident() },
                }
            }
            E::Cmp { op, l, r } => {
                let a = self.eval(file, env, l);
                let b = self.eval(file, env, r);
                compare(*op, &a, &b)
            }
            E::Assign(sym, value) => {
                let v = self.eval(file, env, value);
                if let Some(s) = sym
                    && env.contains_key(s)
                {
                    let old = env.get(s).cloned().unwrap_or(V::Undef);
                    // An assignment inside a branch may not have happened.
                    env.insert(*s, join(old, v.clone()));
                }
                v
            }
            E::Jsx(_) => V::Present {
                ident: false,
                row: false,
            },
        }
    }

    fn member(&mut self, file: usize, o: V, prop: Option<&str>, optional: bool, span: Span) -> V {
        match o {
            V::Null | V::Undef => {
                if optional {
                    V::Undef
                } else {
                    if self.world != World::Define {
                        self.throw(
                            file,
                            span,
                            format!("reads `.{}` of null", prop.unwrap_or("[...]")),
                        );
                    }
                    self.dead = true;
                    V::unknown()
                }
            }
            V::Ctx(ext) => match prop {
                Some(p) => ext
                    .get(p)
                    .cloned()
                    .unwrap_or_else(|| V::CtxPath(vec![p.to_string()], false)),
                None => V::unknown(),
            },
            V::CtxPath(mut path, ident) => {
                path.push(prop.unwrap_or("[]").to_string());
                V::CtxPath(path, ident)
            }
            V::Obj(m) => match prop {
                Some(p) => m.get(p).cloned().unwrap_or(V::Undef),
                None => V::Data {
                    ident: m.values().any(V::ident),
                },
            },
            V::Ext { module, mut path } => {
                path.push(prop.unwrap_or("[]").to_string());
                V::Ext { module, path }
            }
            V::Namespace(f) => match prop {
                Some(p) => {
                    let t = self.link.export(f, p, 0);
                    self.target(t)
                }
                None => V::unknown(),
            },
            V::Present { ident, .. } | V::Data { ident } | V::Unknown { ident } => {
                V::Data { ident }
            }
            _ => V::unknown(),
        }
    }

    fn call(&mut self, file: usize, callee: V, args: Vec<V>, span: Span) -> V {
        let ctx_arg = args.iter().any(|a| matches!(a, V::Ctx(_)));
        let args_ident = args.iter().any(V::ident);
        match callee {
            V::CtxPath(path, ident) => {
                let call = AuthCall {
                    module: None,
                    path: &path,
                    ctx_arg,
                };
                if let Some((rule, effect)) = auth::recognise(&call) {
                    return self.identity(file, span, rule, effect);
                }
                if path.first().is_some_and(|p| p == "db") {
                    return self.db(file, path, ident || args_ident, args, span);
                }
                // ctx.runQuery, ctx.scheduler...: what they run is another function.
                self.callbacks(args);
                V::Unknown { ident: args_ident }
            }
            V::Ext { module, path } => {
                let call = AuthCall {
                    module: Some(&module),
                    path: &path,
                    ctx_arg,
                };
                if let Some((rule, effect)) = auth::recognise(&call) {
                    return self.identity(file, span, rule, effect);
                }
                if let Some(v) = self.builder(&module, &path, &args) {
                    return v;
                }
                let ident = self.callbacks(args) || args_ident;
                if ctx_arg && self.world != World::Define && !harmless(&module) {
                    self.unknown(format!(
                        "passes ctx to `{}` from `{module}`, which is not followed",
                        path.join(".")
                    ));
                }
                let mut path = path;
                path.push("()".to_string());
                if path.len() > 8 {
                    return V::Unknown { ident };
                }
                V::Ext { module, path }
            }
            V::Builder {
                kind,
                internal,
                mods,
            } => {
                let handler = match args.first() {
                    Some(V::Obj(m)) => m.get("handler").cloned().unwrap_or_else(V::unknown),
                    Some(f @ V::Func(_)) => f.clone(),
                    _ => V::unknown(),
                };
                V::ConvexFn {
                    kind,
                    internal,
                    handler: Box::new(handler),
                    mods,
                }
            }
            V::Func(c) => self.invoke(&c, args, span),
            other => {
                let ident = self.callbacks(args) || args_ident || other.ident();
                V::Unknown { ident }
            }
        }
    }

    /// An identity read recognised by a rule.
    fn identity(&mut self, file: usize, span: Span, rule: &str, effect: AuthEffect) -> V {
        if self.world == World::Define {
            return V::unknown();
        }
        self.run.reads.push((rule.to_string(), file, span));
        match (self.world, effect) {
            (World::NoIdentity, AuthEffect::Identity) => V::Null,
            (World::NoIdentity, AuthEffect::ThrowsWithout) => {
                // Called from the handler itself, the helper that throws is the rule's.
                let via = self
                    .via
                    .first()
                    .cloned()
                    .unwrap_or_else(|| rule.to_string());
                self.throw_via(file, span, format!("{rule} throws without identity"), via);
                self.dead = true;
                V::unknown()
            }
            (World::NoRow, AuthEffect::ThrowsWithout) | (World::Ok, AuthEffect::ThrowsWithout) => {
                V::Present {
                    ident: true,
                    row: false,
                }
            }
            _ => V::Present {
                ident: true,
                row: false,
            },
        }
    }

    /// A `ctx.db` call: reads keyed by the identity find the user's row.
    fn db(
        &mut self,
        file: usize,
        mut path: Vec<String>,
        ident: bool,
        args: Vec<V>,
        span: Span,
    ) -> V {
        let ident = self.callbacks(args.clone()) || ident;
        let method = path.last().cloned().unwrap_or_default();
        match method.as_str() {
            "insert" if path.len() == 2 => {
                let table = match args.first() {
                    Some(V::Str(t)) => Some(t.clone()),
                    _ => None,
                };
                let from_identity = ident || !self.run.reads.is_empty();
                if self.world != World::Define {
                    self.run.inserts.push((table, from_identity));
                }
                V::Present { ident, row: false }
            }
            "get" if path.len() == 2 => self.lookup(ident),
            "unique" | "first" => self.lookup(ident),
            "collect" | "take" | "paginate" => V::Present { ident, row: false },
            "patch" | "replace" | "delete" if path.len() == 2 => V::Undef,
            _ => {
                let _ = (file, span);
                path.push("()".to_string());
                if path.len() > 12 {
                    path.truncate(12);
                }
                V::CtxPath(path, ident)
            }
        }
    }

    fn lookup(&mut self, ident: bool) -> V {
        if !ident {
            return V::Data { ident: false };
        }
        match self.world {
            World::NoIdentity | World::NoRow => V::Null,
            World::Ok => V::Present {
                ident: true,
                row: true,
            },
            World::Define => V::unknown(),
        }
    }

    /// Runs the functions handed to a call we do not follow (a query
    /// builder's callback, an array method's): their throws and identity
    /// reads happen. Returns whether any returned an identity-derived value.
    fn callbacks(&mut self, args: Vec<V>) -> bool {
        let mut ident = false;
        for a in args {
            if let V::Func(c) = a {
                if self.world == World::Define {
                    continue;
                }
                let dead = self.dead;
                let v = self.invoke(&c, vec![V::unknown(), V::unknown()], Span::default());
                self.dead = dead;
                ident |= v.ident();
            }
        }
        ident
    }

    /// Convex builders and convex-helpers' wrappers, at definition time.
    fn builder(&mut self, module: &str, path: &[String], args: &[V]) -> Option<V> {
        let name = path.first()?.as_str();
        if path.len() != 1 {
            return None;
        }
        if module.starts_with("convex-helpers/server") {
            match name {
                "customQuery" | "customMutation" | "customAction" | "zCustomQuery"
                | "zCustomMutation" | "zCustomAction" => {
                    if let Some(V::Builder {
                        kind,
                        internal,
                        mods,
                    }) = args.first()
                    {
                        let mut mods = mods.clone();
                        if let Some(m) = args.get(1) {
                            mods.push(m.clone());
                        }
                        return Some(V::Builder {
                            kind: *kind,
                            internal: *internal,
                            mods,
                        });
                    }
                    return Some(V::unknown());
                }
                "customCtx" => {
                    return Some(V::CustomCtx(Box::new(
                        args.first().cloned().unwrap_or_else(V::unknown),
                    )));
                }
                "NoOp" => return Some(V::Obj(Rc::new(BTreeMap::new()))),
                _ => {}
            }
        }
        None
    }

    /// Calls a project function.
    pub fn invoke(&mut self, c: &Closure, args: Vec<V>, _span: Span) -> V {
        let func = &self.link.files[c.file].funcs[c.func as usize];
        if self.depth >= MAX_CALL_DEPTH {
            if self.world != World::Define {
                self.unknown(format!(
                    "calls nest deeper than {MAX_CALL_DEPTH} at `{}`",
                    func.name.as_deref().unwrap_or("(anonymous)")
                ));
            }
            return V::unknown();
        }
        let mut env: HashMap<Sym, V> = (*c.env).clone();
        let params = func.params as usize;
        let body = &func.body;
        let name = func
            .name
            .clone()
            .unwrap_or_else(|| "(anonymous)".to_string());
        // Bind the parameters: the prologue's `Param(i)` reads `args[i]`.
        self.depth += 1;
        let pushed = self.depth > 1;
        if pushed {
            self.via.push(name);
        }
        let saved_dead = self.dead;
        self.dead = false;
        let flow = self.exec(
            c.file,
            &mut env,
            body,
            &args[..args.len().min(params.max(args.len()))],
        );
        let definitely_threw = flow.falls.is_none() && flow.returns.is_empty();
        self.dead = saved_dead || definitely_threw;
        if pushed {
            self.via.pop();
        }
        self.depth -= 1;
        let mut ret: Option<V> = None;
        for r in flow.returns {
            ret = Some(match ret {
                None => r,
                Some(x) => join(x, r),
            });
        }
        if flow.falls.is_some() {
            ret = Some(match ret {
                None => V::Undef,
                Some(x) => join(x, V::Undef),
            });
        }
        ret.unwrap_or_else(V::unknown)
    }

    // ---- statements ----

    fn exec(&mut self, file: usize, env: &mut HashMap<Sym, V>, stmts: &[Stmt], args: &[V]) -> Flow {
        let mut returns = Vec::new();
        for s in stmts {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                self.unknown("the function is too large to follow".to_string());
                return Flow {
                    falls: None,
                    returns,
                };
            }
            match s {
                Stmt::Let { sym, init } => {
                    let v = match init {
                        E::Param(i) => args.get(*i as usize).cloned().unwrap_or(V::Undef),
                        E::Nullish(a, d) if matches!(**a, E::Param(_)) => {
                            let E::Param(i) = **a else { unreachable!() };
                            match args.get(i as usize) {
                                Some(v) if v.nullish() == Some(false) => v.clone(),
                                Some(V::Data { .. }) | Some(V::Unknown { .. }) => {
                                    let d = self.eval(file, env, d);
                                    join(args[i as usize].clone(), d)
                                }
                                _ => self.eval(file, env, d),
                            }
                        }
                        e => self.eval(file, env, e),
                    };
                    env.insert(*sym, v);
                }
                Stmt::Expr(e) => {
                    self.eval(file, env, e);
                }
                Stmt::Return(e, _) => {
                    let v = match e {
                        Some(e) => self.eval(file, env, e),
                        None => V::Undef,
                    };
                    if !self.dead {
                        returns.push(v);
                    }
                    return Flow {
                        falls: None,
                        returns,
                    };
                }
                Stmt::Throw(e, span) => {
                    self.eval(file, env, e);
                    if !self.dead && self.world != World::Define {
                        self.throw(file, *span, "throws".to_string());
                    }
                    return Flow {
                        falls: None,
                        returns,
                    };
                }
                Stmt::If { test, then, els } => {
                    let t = self.eval(file, env, test);
                    let branches: Vec<&Vec<Stmt>> = match t.truthy() {
                        Some(true) => vec![then],
                        Some(false) => vec![els],
                        None => vec![then, els],
                    };
                    let mut falls: Option<HashMap<Sym, V>> = None;
                    for b in branches {
                        if self.dead {
                            break;
                        }
                        let mut benv = env.clone();
                        let f = self.exec(file, &mut benv, b, args);
                        self.dead = false;
                        returns.extend(f.returns);
                        if let Some(fenv) = f.falls {
                            falls = Some(match falls {
                                None => fenv,
                                Some(prev) => join_env(prev, fenv),
                            });
                        }
                    }
                    match falls {
                        Some(f) => *env = f,
                        None => {
                            return Flow {
                                falls: None,
                                returns,
                            };
                        }
                    }
                }
                Stmt::Loop(body) => {
                    // Zero or one iteration: what one iteration can do.
                    let mut benv = env.clone();
                    let f = self.exec(file, &mut benv, body, args);
                    self.dead = false;
                    returns.extend(f.returns);
                    if let Some(fenv) = f.falls {
                        *env = join_env(env.clone(), fenv);
                    }
                }
                Stmt::Try {
                    block,
                    catch,
                    finally,
                } => {
                    let before = self.run.throws.len();
                    let mut benv = env.clone();
                    let f = self.exec(file, &mut benv, block, args);
                    self.dead = false;
                    let caught: Vec<Throw> = self.run.throws.drain(before..).collect();
                    returns.extend(f.returns);
                    let mut falls = f.falls;
                    if !caught.is_empty() || !catch.is_empty() {
                        // The catch block runs instead of the throw propagating.
                        let mut cenv = env.clone();
                        let c = self.exec(file, &mut cenv, catch, args);
                        self.dead = false;
                        returns.extend(c.returns);
                        if catch.is_empty() {
                            // `try/finally` without catch: the throws propagate.
                            self.run.throws.extend(caught);
                        }
                        if let Some(cf) = c.falls {
                            falls = Some(match falls {
                                None => cf,
                                Some(p) => join_env(p, cf),
                            });
                        }
                    }
                    let fin = self.exec(file, env, finally, args);
                    returns.extend(fin.returns);
                    match falls {
                        Some(f) if fin.falls.is_some() => *env = join_env(env.clone(), f),
                        _ => {
                            return Flow {
                                falls: None,
                                returns,
                            };
                        }
                    }
                }
                Stmt::Switch { disc, cases } => {
                    self.eval(file, env, disc);
                    let mut falls = Some(env.clone());
                    for (test, body) in cases {
                        if let Some(t) = test {
                            self.eval(file, env, t);
                        }
                        let mut benv = env.clone();
                        let f = self.exec(file, &mut benv, body, args);
                        self.dead = false;
                        returns.extend(f.returns);
                        if let Some(fenv) = f.falls {
                            falls = Some(match falls {
                                None => fenv,
                                Some(p) => join_env(p, fenv),
                            });
                        }
                    }
                    if let Some(f) = falls {
                        *env = f;
                    }
                }
                Stmt::Jump => {
                    return Flow {
                        falls: Some(env.clone()),
                        returns,
                    };
                }
            }
            if self.dead {
                return Flow {
                    falls: None,
                    returns,
                };
            }
        }
        Flow {
            falls: Some(env.clone()),
            returns,
        }
    }
}

fn join_env(a: HashMap<Sym, V>, mut b: HashMap<Sym, V>) -> HashMap<Sym, V> {
    let mut out = HashMap::new();
    for (k, v) in a {
        match b.remove(&k) {
            Some(w) => {
                out.insert(k, join(v, w));
            }
            None => {
                out.insert(k, v);
            }
        }
    }
    out.extend(b);
    out
}

fn compare(op: CmpOp, a: &V, b: &V) -> V {
    let (x, lit) = match (a, b) {
        (x, V::Null) | (V::Null, x) => (x, V::Null),
        (x, V::Undef) | (V::Undef, x) => (x, V::Undef),
        _ => {
            return V::Data {
                ident: a.ident() || b.ident(),
            };
        }
    };
    let eq: Option<bool> = match op {
        CmpOp::Eq | CmpOp::Ne => x.nullish(),
        CmpOp::StrictEq | CmpOp::StrictNe => match (x, &lit) {
            (V::Null, V::Null) | (V::Undef, V::Undef) => Some(true),
            (V::Null, V::Undef) | (V::Undef, V::Null) => Some(false),
            _ => match x.nullish() {
                Some(false) => Some(false),
                _ => None,
            },
        },
    };
    match (eq, op) {
        (Some(e), CmpOp::Eq | CmpOp::StrictEq) => V::Bool(e),
        (Some(e), CmpOp::Ne | CmpOp::StrictNe) => V::Bool(!e),
        (None, _) => V::Data { ident: x.ident() },
    }
}

/// Convex's function builders (`_generated/server`, or `convex/server`'s
/// `*Generic` ones).
fn builder_value(module: &str, name: &str) -> Option<V> {
    if module != "@generated/server" && module != "convex/server" {
        return None;
    }
    let name = name.strip_suffix("Generic").unwrap_or(name);
    let (kind, internal) = match name {
        "query" => (FnKind::Query, false),
        "internalQuery" => (FnKind::Query, true),
        "mutation" => (FnKind::Mutation, false),
        "internalMutation" => (FnKind::Mutation, true),
        "action" => (FnKind::Action, false),
        "internalAction" => (FnKind::Action, true),
        "httpAction" => (FnKind::HttpAction, true),
        _ => return None,
    };
    Some(V::Builder {
        kind,
        internal,
        mods: vec![],
    })
}

/// Packages whose functions, handed `ctx`, do not read the identity.
fn harmless(module: &str) -> bool {
    module == "convex/values"
        || module.starts_with("convex-helpers/server/pagination")
        || module.starts_with("convex-helpers/server/relationships")
}

/// What running a handler in the three worlds found.
struct Classified {
    auth: AuthClass,
    why: String,
    returns_user_row: bool,
    inserts_user_row: bool,
    inserts_without_identity: Vec<String>,
}

fn describe(link: &Linker<'_>, t: &Throw) -> String {
    let f = &link.files[t.file];
    let line = f.line(t.span.start);
    match &t.via {
        Some(h) => format!("{h}, {}:{line}", f.path),
        None => format!("{}:{line}", f.path),
    }
}

/// Runs a function's custom contexts then its handler in `world`.
fn run_fn(link: &Linker<'_>, world: World, file: usize, handler: &V, mods: &[V]) -> Run {
    let mut it = Interp::new(link, world);
    let mut ext: BTreeMap<String, V> = BTreeMap::new();
    for m in mods {
        if it.dead {
            break;
        }
        let ctx = V::Ctx(Rc::new(ext.clone()));
        let f = match m {
            V::CustomCtx(f) => Some(((**f).clone(), false)),
            V::Obj(o) => o.get("input").cloned().map(|f| (f, true)),
            _ => None,
        };
        match f {
            Some((V::Func(c), input)) => {
                let name = link.files[c.file].funcs[c.func as usize]
                    .name
                    .clone()
                    .unwrap_or_else(|| "custom ctx".to_string());
                it.via.push(name);
                it.depth += 1;
                let r = it.invoke(&c, vec![ctx, V::unknown()], Span::default());
                it.depth -= 1;
                it.via.pop();
                let added = if input {
                    match r {
                        V::Obj(o) => o.get("ctx").cloned(),
                        _ => None,
                    }
                } else {
                    Some(r)
                };
                if let Some(V::Obj(o)) = added {
                    for (k, v) in o.iter() {
                        ext.insert(k.clone(), v.clone());
                    }
                }
            }
            Some((V::Ext { module, path }, _)) => {
                it.unknown(format!(
                    "its builder's custom context `{}` from `{module}` is not followed",
                    path.join(".")
                ));
            }
            Some(_) => it.unknown(
                "its builder's custom context is not a function authrace can follow".to_string(),
            ),
            None => {}
        }
    }
    if !it.dead {
        match handler {
            V::Func(c) => {
                let ctx = V::Ctx(Rc::new(ext));
                let v = it.invoke(c, vec![ctx, V::Data { ident: false }], Span::default());
                it.run.returns = Some(v);
            }
            _ => it.unknown("its handler is not a function authrace can follow".to_string()),
        }
    }
    let _ = file;
    it.run
}

fn classify(link: &Linker<'_>, file: usize, handler: &V, mods: &[V]) -> Classified {
    let n = run_fn(link, World::NoIdentity, file, handler, mods);
    let r = run_fn(link, World::NoRow, file, handler, mods);
    let ok = run_fn(link, World::Ok, file, handler, mods);
    let key = |t: &Throw| (t.file, t.span);
    let in_ok: Vec<(usize, Span)> = ok.throws.iter().map(key).collect();
    let n_only: Vec<&Throw> = n
        .throws
        .iter()
        .filter(|t| !in_ok.contains(&key(t)))
        .collect();
    let r_only: Vec<&Throw> = r
        .throws
        .iter()
        .filter(|t| !in_ok.contains(&key(t)))
        .collect();
    let reads: Vec<&(String, usize, Span)> = n.reads.iter().chain(&ok.reads).collect();
    let returns_user_row = matches!(n.returns, Some(V::Null) | Some(V::Undef))
        && matches!(ok.returns, Some(V::Present { row: true, .. }));
    let inserts: Vec<&(Option<String>, bool)> = n
        .inserts
        .iter()
        .chain(&r.inserts)
        .chain(&ok.inserts)
        .collect();
    let inserts_user_row = inserts.iter().any(|(_, ident)| *ident);
    let inserts_without_identity = inserts
        .iter()
        .filter(|(_, ident)| !ident)
        .filter_map(|(t, _)| t.clone())
        .collect();
    let reads_any = !n.reads.is_empty() || !ok.reads.is_empty();
    let inserts_without_identity = if reads_any {
        Vec::new()
    } else {
        inserts_without_identity
    };
    let read_site = |reads: &[&(String, usize, Span)]| {
        reads
            .first()
            .map(|(rule, f, s)| {
                format!(
                    "{rule}, {}:{}",
                    link.files[*f].path,
                    link.files[*f].line(s.start)
                )
            })
            .unwrap_or_default()
    };
    let (auth, why) = if let Some(t) = r_only.first() {
        (
            AuthClass::UserRow,
            format!(
                "throws when the user's row is missing ({})",
                describe(link, t)
            ),
        )
    } else if let Some(t) = n_only.first() {
        let what = if t.what.starts_with("reads") {
            format!("{} without identity", t.what)
        } else {
            "throws without identity".to_string()
        };
        (
            AuthClass::Required,
            format!("{what} ({})", describe(link, t)),
        )
    } else if let Some(u) = n.unknowns.first().or(ok.unknowns.first()) {
        (AuthClass::Unknown, u.clone())
    } else if !reads.is_empty() {
        (
            AuthClass::Optional,
            format!(
                "reads the identity and does not throw without it ({})",
                read_site(&reads)
            ),
        )
    } else {
        (AuthClass::None, "never reads the identity".to_string())
    };
    Classified {
        auth,
        why,
        returns_user_row,
        inserts_user_row,
        inserts_without_identity,
    }
}

/// The functions folder, from `convex.json`'s `functions` (default `convex/`).
pub fn functions_dir(convex_json: Option<&str>) -> String {
    convex_json
        .and_then(|t| {
            serde_json::from_str::<serde_json::Value>(&super::resolve::strip_jsonc(t)).ok()
        })
        .and_then(|v| {
            v.get("functions")
                .and_then(|f| f.as_str())
                .map(|s| s.to_string())
        })
        .map(|s| super::resolve::join("", &s))
        .unwrap_or_else(|| "convex".to_string())
}

/// Every exported Convex function of the functions folder, classified.
pub fn find(link: &Linker<'_>, dir: &str) -> Vec<ServerFunction> {
    let mut out = Vec::new();
    let prefix = format!("{dir}/");
    for (fi, f) in link.files.iter().enumerate() {
        let Some(rel) = f.path.strip_prefix(&prefix) else {
            continue;
        };
        if rel.starts_with("_generated/")
            || f.path
                .split('/')
                .any(|c| c.ends_with(".test.ts") || c.ends_with(".spec.ts"))
        {
            continue;
        }
        let module = rel
            .rsplit_once('.')
            .map(|(m, _)| m)
            .unwrap_or(rel)
            .to_string();
        let mut names: Vec<String> = f
            .exports
            .iter()
            .filter_map(|e| match e {
                super::ir::Export::Local { exported, .. } => Some(exported.clone()),
                super::ir::Export::DefaultExpr(_) => Some("default".to_string()),
                _ => None,
            })
            .collect();
        names.dedup();
        for name in names {
            let mut def = Interp::new(link, World::Define);
            let t = link.export(fi, &name, 0);
            let (span_file, span) = match &t {
                Target::Binding { file, sym } => (*file, def_span(link, *file, *sym)),
                _ => (fi, Span::default()),
            };
            let v = def.target(t);
            let V::ConvexFn {
                kind,
                internal,
                handler,
                mods,
            } = v
            else {
                continue;
            };
            let c = if kind == FnKind::HttpAction {
                Classified {
                    auth: AuthClass::None,
                    why: "an HTTP action".to_string(),
                    returns_user_row: false,
                    inserts_user_row: false,
                    inserts_without_identity: vec![],
                }
            } else {
                classify(link, fi, &handler, &mods)
            };
            let line = link.files[span_file].line(span.start);
            out.push(ServerFunction {
                name: format!("{module}:{name}"),
                file: link.files[span_file].path.clone(),
                line,
                kind,
                internal,
                auth: c.auth,
                why: c.why,
                returns_user_row: c.returns_user_row,
                inserts_user_row: c.inserts_user_row,
                inserts_without_identity: c.inserts_without_identity,
            });
        }
    }
    let _ = dirname;
    out
}

/// Where a module-level binding is introduced (its first reference span if
/// no declaration span is known).
fn def_span(link: &Linker<'_>, file: usize, sym: Sym) -> Span {
    let f = &link.files[file];
    // The declaration's span: the first `Let` of the symbol at module level
    // carries no span, so use the function's span or the initialiser's call.
    match f.top_defs.get(&sym) {
        Some(E::Call { span, .. }) => *span,
        Some(E::Func(id)) => f.funcs[*id as usize].span,
        _ => Span::default(),
    }
}
