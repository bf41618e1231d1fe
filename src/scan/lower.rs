//! Lowering: an oxc syntax tree, with `oxc_semantic`'s symbols, to the
//! scanner's owned form ([`super::ir`]).
//!
//! Every identifier becomes the symbol `oxc_semantic` resolved it to (so a
//! shadowed `useQuery` is not the imported one, and an alias is followed by
//! its binding, not by its spelling), or a global when it has none.
//! Destructuring becomes one declaration per name, each a member access of
//! the destructured value. Types are dropped. The recursion is bounded by
//! [`MAX_DEPTH`]: a deeper subtree becomes [`E::Deep`] and is counted.

use oxc_ast::ast::{self as js, Expression, Statement};
use oxc_semantic::Scoping;

use super::ir::{
    CmpOp, E, Export, FileIr, Func, FuncId, Import, Jsx, JsxTag, Prop, Span, Stmt, Sym,
};

/// How deep a lowered tree may nest (expressions and statements together).
pub const MAX_DEPTH: usize = 160;

pub struct Lowerer<'s> {
    scoping: &'s Scoping,
    ir: FileIr,
    depth: usize,
    /// Hidden bindings for destructuring, counted down from `u32::MAX`.
    next_hidden: Sym,
}

fn span(s: oxc_span::Span) -> Span {
    Span {
        start: s.start,
        end: s.end,
    }
}

/// Lowers one parsed file.
pub fn lower(path: String, text: String, program: &js::Program<'_>, scoping: &Scoping) -> FileIr {
    let mut l = Lowerer {
        scoping,
        ir: FileIr {
            path,
            text,
            ..FileIr::default()
        },
        depth: 0,
        next_hidden: u32::MAX,
    };
    let mut top = Vec::new();
    for s in &program.body {
        l.module_stmt(s, &mut top);
    }
    l.ir.top = top;
    for s in l.scoping.symbol_ids() {
        if l.scoping.symbol_is_mutated(s) {
            l.ir.mutated.insert(s.index() as Sym);
        }
    }
    l.ir
}

impl<'s> Lowerer<'s> {
    fn hidden(&mut self) -> Sym {
        let s = self.next_hidden;
        self.next_hidden -= 1;
        s
    }

    fn binding(&mut self, id: &js::BindingIdentifier<'_>) -> Sym {
        let sym = id
            .symbol_id
            .get()
            .map(|s| s.index() as Sym)
            .unwrap_or_else(|| self.hidden());
        self.ir
            .names
            .entry(sym)
            .or_insert_with(|| id.name.as_str().to_string());
        sym
    }

    fn reference(&mut self, id: &js::IdentifierReference<'_>) -> E {
        let sym = id
            .reference_id
            .get()
            .and_then(|r| self.scoping.get_reference(r).symbol_id());
        match sym {
            Some(s) => {
                let s = s.index() as Sym;
                self.ir
                    .names
                    .entry(s)
                    .or_insert_with(|| id.name.as_str().to_string());
                E::Sym(s, span(id.span))
            }
            None => match id.name.as_str() {
                "undefined" => E::Undefined,
                n => E::Global(n.to_string()),
            },
        }
    }

    // ---- module level ----

    fn module_stmt(&mut self, s: &Statement<'_>, out: &mut Vec<Stmt>) {
        match s {
            Statement::ImportDeclaration(d) => {
                if d.import_kind.is_type() {
                    return;
                }
                let source = d.source.value.as_str().to_string();
                for spec in d.specifiers.iter().flatten() {
                    let (local, name) = match spec {
                        js::ImportDeclarationSpecifier::ImportSpecifier(s) => {
                            if s.import_kind.is_type() {
                                continue;
                            }
                            (&s.local, s.imported.name().as_str().to_string())
                        }
                        js::ImportDeclarationSpecifier::ImportDefaultSpecifier(s) => {
                            (&s.local, "default".to_string())
                        }
                        js::ImportDeclarationSpecifier::ImportNamespaceSpecifier(s) => {
                            (&s.local, "*".to_string())
                        }
                    };
                    let sym = self.binding(local);
                    self.ir.imports.insert(
                        sym,
                        Import {
                            source: source.clone(),
                            name,
                        },
                    );
                }
            }
            Statement::ExportAllDeclaration(d) => {
                let source = d.source.value.as_str().to_string();
                match &d.exported {
                    Some(name) => self.ir.exports.push(Export::Reexport {
                        exported: name.name().as_str().to_string(),
                        source,
                        imported: "*".to_string(),
                    }),
                    None => self.ir.exports.push(Export::Star { source }),
                }
            }
            Statement::ExportFromDeclaration(d) => {
                let source = d.source.value.as_str().to_string();
                for spec in &d.specifiers {
                    self.ir.exports.push(Export::Reexport {
                        exported: spec.exported.name().as_str().to_string(),
                        source: source.clone(),
                        imported: spec.local.name().as_str().to_string(),
                    });
                }
            }
            Statement::ExportNamedDeclaration(d) => {
                for spec in &d.specifiers {
                    let exported = spec.exported.name().as_str().to_string();
                    if let js::ModuleExportName::IdentifierReference(r) = &spec.local
                        && let E::Sym(sym, _) = self.reference(r)
                    {
                        self.ir.exports.push(Export::Local { exported, sym });
                    }
                }
            }
            Statement::ExportDeclaration(d) => {
                let start = out.len();
                self.decl_stmt(&d.declaration, out);
                let syms: Vec<Sym> = out[start..]
                    .iter()
                    .filter_map(|s| match s {
                        Stmt::Let { sym, .. } if *sym < self.next_hidden => Some(*sym),
                        _ => None,
                    })
                    .collect();
                for sym in syms {
                    let exported = self.ir.name(sym).to_string();
                    self.ir.exports.push(Export::Local { exported, sym });
                }
            }
            Statement::ExportDefaultDeclaration(d) => match &d.declaration {
                js::ExportDefaultDeclarationKind::FunctionDeclaration(f) => {
                    let fid = self.function(f, f.id.as_ref().map(|i| i.name.as_str().to_string()));
                    match &f.id {
                        Some(id) => {
                            let sym = self.binding(id);
                            out.push(Stmt::Let {
                                sym,
                                init: E::Func(fid),
                            });
                            self.ir.top_defs.insert(sym, E::Func(fid));
                            self.ir.exports.push(Export::Local {
                                exported: "default".to_string(),
                                sym,
                            });
                        }
                        None => self.ir.exports.push(Export::DefaultExpr(E::Func(fid))),
                    }
                }
                js::ExportDefaultDeclarationKind::ClassDeclaration(_)
                | js::ExportDefaultDeclarationKind::TSInterfaceDeclaration(_) => {}
                other => {
                    if let Some(e) = other.as_expression() {
                        let e = self.expr(e);
                        match e {
                            E::Sym(sym, _)
                                if self.ir.top_defs.contains_key(&sym)
                                    || self.ir.imports.contains_key(&sym) =>
                            {
                                self.ir.exports.push(Export::Local {
                                    exported: "default".to_string(),
                                    sym,
                                })
                            }
                            e => self.ir.exports.push(Export::DefaultExpr(e)),
                        }
                    }
                }
            },
            Statement::TSExportAssignment(_) | Statement::TSNamespaceExportDeclaration(_) => {}
            other => {
                let start = out.len();
                self.stmt(other, out);
                // Module-level declarations are looked up by the interpreters.
                let defs: Vec<(Sym, E)> = out[start..]
                    .iter()
                    .filter_map(|s| match s {
                        Stmt::Let { sym, init } => Some((*sym, init.clone())),
                        _ => None,
                    })
                    .collect();
                self.ir.top_defs.extend(defs);
            }
        }
    }

    fn decl_stmt(&mut self, d: &js::Declaration<'_>, out: &mut Vec<Stmt>) {
        let start = out.len();
        match d {
            js::Declaration::VariableDeclaration(v) => self.var_decl(v, out),
            js::Declaration::FunctionDeclaration(f) => self.fn_decl(f, out),
            js::Declaration::ClassDeclaration(c) => {
                if let Some(id) = &c.id {
                    let sym = self.binding(id);
                    out.push(Stmt::Let {
                        sym,
                        init: E::Other,
                    });
                }
            }
            _ => {}
        }
        let defs: Vec<(Sym, E)> = out[start..]
            .iter()
            .filter_map(|s| match s {
                Stmt::Let { sym, init } => Some((*sym, init.clone())),
                _ => None,
            })
            .collect();
        self.ir.top_defs.extend(defs);
    }

    // ---- statements ----

    fn block(&mut self, stmts: &[Statement<'_>]) -> Vec<Stmt> {
        let mut out = Vec::new();
        // Function declarations are hoisted.
        for s in stmts {
            if let Statement::FunctionDeclaration(f) = s {
                self.fn_decl(f, &mut out);
            }
        }
        for s in stmts {
            if !matches!(s, Statement::FunctionDeclaration(_)) {
                self.stmt(s, &mut out);
            }
        }
        out
    }

    fn one(&mut self, s: &Statement<'_>) -> Vec<Stmt> {
        let mut out = Vec::new();
        self.stmt(s, &mut out);
        out
    }

    fn fn_decl(&mut self, f: &js::Function<'_>, out: &mut Vec<Stmt>) {
        let name = f.id.as_ref().map(|i| i.name.as_str().to_string());
        let fid = self.function(f, name);
        if let Some(id) = &f.id {
            let sym = self.binding(id);
            out.push(Stmt::Let {
                sym,
                init: E::Func(fid),
            });
        }
    }

    fn var_decl(&mut self, v: &js::VariableDeclaration<'_>, out: &mut Vec<Stmt>) {
        for d in &v.declarations {
            let init = match &d.init {
                Some(e) => {
                    let name = match &d.id {
                        js::BindingPattern::BindingIdentifier(id) => {
                            Some(id.name.as_str().to_string())
                        }
                        _ => None,
                    };
                    self.expr_named(e, name)
                }
                None => E::Undefined,
            };
            self.pattern(&d.id, init, out);
        }
    }

    /// Declares every name of a pattern with its part of `value`.
    fn pattern(&mut self, p: &js::BindingPattern<'_>, value: E, out: &mut Vec<Stmt>) {
        if self.depth > MAX_DEPTH {
            self.ir.deep += 1;
            return;
        }
        self.depth += 1;
        match p {
            js::BindingPattern::BindingIdentifier(id) => {
                let sym = self.binding(id);
                out.push(Stmt::Let { sym, init: value });
            }
            js::BindingPattern::AssignmentPattern(a) => {
                let default = self.expr(&a.right);
                self.pattern(&a.left, E::Nullish(Box::new(value), Box::new(default)), out);
            }
            js::BindingPattern::ObjectPattern(o) => {
                let tmp = self.hidden();
                out.push(Stmt::Let {
                    sym: tmp,
                    init: value,
                });
                for prop in &o.properties {
                    let key = prop.key.static_name().map(|k| k.to_string());
                    let member = E::Member {
                        obj: Box::new(E::Sym(tmp, Span::default())),
                        prop: key,
                        optional: false,
                        span: span(prop.span),
                    };
                    self.pattern(&prop.value, member, out);
                }
                if let Some(rest) = &o.rest {
                    self.pattern(&rest.argument, E::Sym(tmp, Span::default()), out);
                }
            }
            js::BindingPattern::ArrayPattern(a) => {
                let tmp = self.hidden();
                out.push(Stmt::Let {
                    sym: tmp,
                    init: value,
                });
                for (i, el) in a.elements.iter().enumerate() {
                    if let Some(el) = el {
                        let member = E::Member {
                            obj: Box::new(E::Sym(tmp, Span::default())),
                            prop: Some(i.to_string()),
                            optional: false,
                            span: Span::default(),
                        };
                        self.pattern(el, member, out);
                    }
                }
                if let Some(rest) = &a.rest {
                    self.pattern(&rest.argument, E::Other, out);
                }
            }
        }
        self.depth -= 1;
    }

    fn stmt(&mut self, s: &Statement<'_>, out: &mut Vec<Stmt>) {
        if self.depth > MAX_DEPTH {
            self.ir.deep += 1;
            out.push(Stmt::Expr(E::Deep));
            return;
        }
        self.depth += 1;
        self.stmt_inner(s, out);
        self.depth -= 1;
    }

    fn stmt_inner(&mut self, s: &Statement<'_>, out: &mut Vec<Stmt>) {
        match s {
            Statement::BlockStatement(b) => {
                let inner = self.block(&b.body);
                out.extend(inner);
            }
            Statement::ExpressionStatement(e) => {
                let e = self.expr(&e.expression);
                out.push(Stmt::Expr(e));
            }
            Statement::VariableDeclaration(v) => self.var_decl(v, out),
            Statement::FunctionDeclaration(f) => self.fn_decl(f, out),
            Statement::ClassDeclaration(c) => {
                if let Some(id) = &c.id {
                    let sym = self.binding(id);
                    out.push(Stmt::Let {
                        sym,
                        init: E::Other,
                    });
                }
            }
            Statement::IfStatement(i) => {
                let test = self.expr(&i.test);
                let then = self.one(&i.consequent);
                let els = i
                    .alternate
                    .as_ref()
                    .map(|a| self.one(a))
                    .unwrap_or_default();
                out.push(Stmt::If { test, then, els });
            }
            Statement::ReturnStatement(r) => {
                let e = r.argument.as_ref().map(|a| self.expr(a));
                out.push(Stmt::Return(e, span(r.span)));
            }
            Statement::ThrowStatement(t) => {
                let e = self.expr(&t.argument);
                out.push(Stmt::Throw(e, span(t.span)));
            }
            Statement::TryStatement(t) => {
                let block = self.block(&t.block.body);
                let catch = t
                    .handler
                    .as_ref()
                    .map(|h| {
                        let mut c = Vec::new();
                        if let Some(p) = &h.param {
                            self.pattern(&p.pattern, E::Other, &mut c);
                        }
                        c.extend(self.block(&h.body.body));
                        c
                    })
                    .unwrap_or_default();
                let finally = t
                    .finalizer
                    .as_ref()
                    .map(|f| self.block(&f.body))
                    .unwrap_or_default();
                out.push(Stmt::Try {
                    block,
                    catch,
                    finally,
                });
            }
            Statement::WhileStatement(w) => {
                let test = self.expr(&w.test);
                out.push(Stmt::Expr(test));
                let body = self.one(&w.body);
                out.push(Stmt::Loop(body));
            }
            Statement::DoWhileStatement(w) => {
                let mut body = self.one(&w.body);
                let test = self.expr(&w.test);
                body.push(Stmt::Expr(test));
                // The body runs at least once.
                out.extend(body.clone());
                out.push(Stmt::Loop(body));
            }
            Statement::ForStatement(f) => {
                match &f.init {
                    Some(js::ForStatementInit::VariableDeclaration(v)) => self.var_decl(v, out),
                    Some(other) => {
                        if let Some(e) = other.as_expression() {
                            let e = self.expr(e);
                            out.push(Stmt::Expr(e));
                        }
                    }
                    None => {}
                }
                if let Some(t) = &f.test {
                    let t = self.expr(t);
                    out.push(Stmt::Expr(t));
                }
                let mut body = self.one(&f.body);
                if let Some(u) = &f.update {
                    body.push(Stmt::Expr(self.expr(u)));
                }
                out.push(Stmt::Loop(body));
            }
            Statement::ForOfStatement(f) => {
                let right = self.expr(&f.right);
                out.push(Stmt::Expr(right));
                let mut body = Vec::new();
                if let js::ForStatementLeft::VariableDeclaration(v) = &f.left {
                    for d in &v.declarations {
                        self.pattern(&d.id, E::Other, &mut body);
                    }
                }
                body.extend(self.one(&f.body));
                out.push(Stmt::Loop(body));
            }
            Statement::ForInStatement(f) => {
                let right = self.expr(&f.right);
                out.push(Stmt::Expr(right));
                let mut body = Vec::new();
                if let js::ForStatementLeft::VariableDeclaration(v) = &f.left {
                    for d in &v.declarations {
                        self.pattern(&d.id, E::Other, &mut body);
                    }
                }
                body.extend(self.one(&f.body));
                out.push(Stmt::Loop(body));
            }
            Statement::SwitchStatement(sw) => {
                let disc = self.expr(&sw.discriminant);
                let cases = sw
                    .cases
                    .iter()
                    .map(|c| {
                        let t = c.test.as_ref().map(|t| self.expr(t));
                        (t, self.block(&c.consequent))
                    })
                    .collect();
                out.push(Stmt::Switch { disc, cases });
            }
            Statement::LabeledStatement(l) => {
                let inner = self.one(&l.body);
                out.extend(inner);
            }
            Statement::BreakStatement(_) | Statement::ContinueStatement(_) => out.push(Stmt::Jump),
            Statement::WithStatement(w) => {
                let o = self.expr(&w.object);
                out.push(Stmt::Expr(o));
                let body = self.one(&w.body);
                out.push(Stmt::If {
                    test: E::Other,
                    then: body,
                    els: vec![],
                });
            }
            // Modules inside a block cannot occur; types carry no behaviour.
            _ => {}
        }
    }

    // ---- functions ----

    fn params(&mut self, params: &js::FormalParameters<'_>, body: &mut Vec<Stmt>) -> u32 {
        for (i, p) in params.items.iter().enumerate() {
            let mut value = E::Param(i as u32);
            if let Some(init) = &p.initializer {
                let d = self.expr(init);
                value = E::Nullish(Box::new(value), Box::new(d));
            }
            self.pattern(&p.pattern, value, body);
        }
        if let Some(rest) = &params.rest {
            self.pattern(&rest.rest.argument, E::Other, body);
        }
        params.items.len() as u32
    }

    fn push_func(&mut self, f: Func) -> FuncId {
        self.ir.funcs.push(f);
        (self.ir.funcs.len() - 1) as FuncId
    }

    fn function(&mut self, f: &js::Function<'_>, name: Option<String>) -> FuncId {
        let mut body = Vec::new();
        let params = self.params(&f.params, &mut body);
        if let Some(b) = &f.body {
            body.extend(self.block(&b.statements));
        }
        self.push_func(Func {
            name,
            params,
            body,
            span: span(f.span),
        })
    }

    fn arrow(&mut self, f: &js::ArrowFunctionExpression<'_>, name: Option<String>) -> FuncId {
        let mut body = Vec::new();
        let params = self.params(&f.params, &mut body);
        if let Some(e) = f.get_expression() {
            let e = self.expr(e);
            body.push(Stmt::Return(Some(e), span(f.span)));
        } else if let Some(b) = f.get_function_body() {
            body.extend(self.block(&b.statements));
        }
        self.push_func(Func {
            name,
            params,
            body,
            span: span(f.span),
        })
    }

    // ---- expressions ----

    /// An initializer: a function gets the name it is bound to.
    fn expr_named(&mut self, e: &Expression<'_>, name: Option<String>) -> E {
        match e {
            Expression::ArrowFunctionExpression(a) => E::Func(self.arrow(a, name)),
            Expression::FunctionExpression(f) => {
                let n = f.id.as_ref().map(|i| i.name.as_str().to_string()).or(name);
                E::Func(self.function(f, n))
            }
            Expression::ParenthesizedExpression(p) => self.expr_named(&p.expression, name),
            Expression::TSAsExpression(x) => self.expr_named(&x.expression, name),
            Expression::TSSatisfiesExpression(x) => self.expr_named(&x.expression, name),
            // `memo(function X() {})`, `forwardRef((props, ref) => ...)`: keep the name.
            Expression::CallExpression(c) if name.is_some() => {
                let callee = self.expr(&c.callee);
                let args = c
                    .arguments
                    .iter()
                    .map(|a| match a {
                        js::Argument::SpreadElement(s) => {
                            E::Spread(Box::new(self.expr(&s.argument)))
                        }
                        other => match other.as_expression() {
                            Some(e) => self.expr_named(e, name.clone()),
                            None => E::Other,
                        },
                    })
                    .collect();
                E::Call {
                    callee: Box::new(callee),
                    args,
                    span: span(c.span),
                    new: false,
                    optional: c.optional,
                }
            }
            _ => self.expr(e),
        }
    }

    pub fn expr(&mut self, e: &Expression<'_>) -> E {
        if self.depth > MAX_DEPTH {
            self.ir.deep += 1;
            return E::Deep;
        }
        self.depth += 1;
        let out = self.expr_inner(e);
        self.depth -= 1;
        out
    }

    fn b(&mut self, e: &Expression<'_>) -> Box<E> {
        Box::new(self.expr(e))
    }

    fn args(&mut self, args: &[js::Argument<'_>]) -> Vec<E> {
        args.iter()
            .map(|a| match a {
                js::Argument::SpreadElement(s) => E::Spread(Box::new(self.expr(&s.argument))),
                other => other
                    .as_expression()
                    .map(|e| self.expr(e))
                    .unwrap_or(E::Other),
            })
            .collect()
    }

    fn expr_inner(&mut self, e: &Expression<'_>) -> E {
        match e {
            Expression::BooleanLiteral(b) => E::Bool(b.value),
            Expression::NullLiteral(_) => E::Null,
            Expression::StringLiteral(s) => E::Str(s.value.as_str().to_string()),
            Expression::NumericLiteral(_)
            | Expression::BigIntLiteral(_)
            | Expression::RegExpLiteral(_)
            | Expression::ThisExpression(_)
            | Expression::Super(_)
            | Expression::ImportMeta(_)
            | Expression::NewTarget(_)
            | Expression::ClassExpression(_) => E::Other,
            Expression::TemplateLiteral(t) => {
                if t.expressions.is_empty() && t.quasis.len() == 1 {
                    match &t.quasis[0].value.cooked {
                        Some(c) => E::Str(c.as_str().to_string()),
                        None => E::Other,
                    }
                } else {
                    let parts: Vec<E> = t.expressions.iter().map(|x| self.expr(x)).collect();
                    E::Array(parts)
                }
            }
            Expression::Identifier(id) => self.reference(id),
            Expression::ArrayExpression(a) => E::Array(
                a.elements
                    .iter()
                    .map(|el| match el {
                        js::ArrayExpressionElement::SpreadElement(s) => {
                            E::Spread(Box::new(self.expr(&s.argument)))
                        }
                        js::ArrayExpressionElement::Elision(_) => E::Undefined,
                        other => other
                            .as_expression()
                            .map(|x| self.expr(x))
                            .unwrap_or(E::Other),
                    })
                    .collect(),
            ),
            Expression::ArrowFunctionExpression(a) => E::Func(self.arrow(a, None)),
            Expression::FunctionExpression(f) => {
                let n = f.id.as_ref().map(|i| i.name.as_str().to_string());
                E::Func(self.function(f, n))
            }
            Expression::AssignmentExpression(a) => {
                let value = self.b(&a.right);
                let target = match &a.left {
                    js::AssignmentTarget::AssignmentTargetIdentifier(id) => {
                        match self.reference(id) {
                            E::Sym(s, _) => Some(s),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                if a.operator != js::AssignmentOperator::Assign {
                    return E::Assign(target, Box::new(E::Other));
                }
                E::Assign(target, value)
            }
            Expression::AwaitExpression(a) => E::Await(self.b(&a.argument)),
            Expression::BinaryExpression(b) => {
                let op = match b.operator {
                    js::BinaryOperator::Equality => Some(CmpOp::Eq),
                    js::BinaryOperator::Inequality => Some(CmpOp::Ne),
                    js::BinaryOperator::StrictEquality => Some(CmpOp::StrictEq),
                    js::BinaryOperator::StrictInequality => Some(CmpOp::StrictNe),
                    _ => None,
                };
                let l = self.b(&b.left);
                let r = self.b(&b.right);
                match op {
                    Some(op) => E::Cmp { op, l, r },
                    // Keep the operands: their calls still happen.
                    None => E::Array(vec![*l, *r]),
                }
            }
            Expression::PrivateInExpression(p) => self.expr(&p.right),
            Expression::CallExpression(c) => {
                let callee = self.b(&c.callee);
                let args = self.args(&c.arguments);
                E::Call {
                    callee,
                    args,
                    span: span(c.span),
                    new: false,
                    optional: c.optional,
                }
            }
            Expression::NewExpression(n) => {
                let callee = self.b(&n.callee);
                let args = self.args(&n.arguments);
                E::Call {
                    callee,
                    args,
                    span: span(n.span),
                    new: true,
                    optional: false,
                }
            }
            Expression::ChainExpression(c) => match &c.expression {
                js::ChainElement::CallExpression(call) => {
                    let callee = self.b(&call.callee);
                    let args = self.args(&call.arguments);
                    E::Call {
                        callee,
                        args,
                        span: span(call.span),
                        new: false,
                        optional: call.optional,
                    }
                }
                js::ChainElement::TSNonNullExpression(n) => self.expr(&n.expression),
                other => match other.as_member_expression() {
                    Some(m) => self.member(m),
                    None => E::Other,
                },
            },
            Expression::ConditionalExpression(c) => E::Cond {
                test: self.b(&c.test),
                then: self.b(&c.consequent),
                els: self.b(&c.alternate),
            },
            Expression::ImportExpression(i) => {
                let _ = self.expr(&i.source);
                E::Other
            }
            Expression::LogicalExpression(l) => {
                let a = self.b(&l.left);
                let b = self.b(&l.right);
                match l.operator {
                    js::LogicalOperator::And => E::And(a, b),
                    js::LogicalOperator::Or => E::Or(a, b),
                    js::LogicalOperator::Coalesce => E::Nullish(a, b),
                }
            }
            Expression::ObjectExpression(o) => {
                let mut props = Vec::new();
                for p in &o.properties {
                    match p {
                        js::ObjectPropertyKind::ObjectProperty(p) => {
                            let key = if p.computed {
                                match &p.key {
                                    js::PropertyKey::StringLiteral(s) => {
                                        Some(s.value.as_str().to_string())
                                    }
                                    _ => None,
                                }
                            } else {
                                p.key.static_name().map(|k| k.to_string())
                            };
                            let value = self.expr_named(&p.value, key.clone());
                            match key {
                                Some(k) => props.push(Prop::Kv(k, value)),
                                None => props.push(Prop::Computed(value)),
                            }
                        }
                        js::ObjectPropertyKind::SpreadProperty(s) => {
                            props.push(Prop::Spread(self.expr(&s.argument)))
                        }
                    }
                }
                E::Obj(props)
            }
            Expression::ParenthesizedExpression(p) => self.expr(&p.expression),
            Expression::SequenceExpression(s) => {
                let mut parts: Vec<E> = s.expressions.iter().map(|x| self.expr(x)).collect();
                // The value is the last; the others are kept for their calls.
                let last = parts.pop().unwrap_or(E::Undefined);
                if parts.is_empty() {
                    last
                } else {
                    parts.push(last);
                    E::Array(parts)
                }
            }
            Expression::TaggedTemplateExpression(t) => {
                let tag = self.b(&t.tag);
                let args = t.quasi.expressions.iter().map(|x| self.expr(x)).collect();
                E::Call {
                    callee: tag,
                    args,
                    span: span(t.span),
                    new: false,
                    optional: false,
                }
            }
            Expression::UnaryExpression(u) => {
                let a = self.b(&u.argument);
                match u.operator {
                    js::UnaryOperator::LogicalNot => E::Not(a),
                    js::UnaryOperator::Void => E::Array(vec![*a, E::Undefined]),
                    _ => E::Array(vec![*a, E::Other]),
                }
            }
            Expression::UpdateExpression(_) => E::Other,
            Expression::YieldExpression(y) => {
                if let Some(a) = &y.argument {
                    let a = self.expr(a);
                    return E::Array(vec![a, E::Other]);
                }
                E::Other
            }
            Expression::JSXElement(el) => self.jsx_element(el),
            Expression::JSXFragment(f) => {
                let children = self.jsx_children(&f.children);
                E::Jsx(Box::new(Jsx {
                    tag: JsxTag::Fragment,
                    attrs: vec![],
                    spreads: vec![],
                    children,
                    span: span(f.span),
                }))
            }
            Expression::TSAsExpression(x) => self.expr(&x.expression),
            Expression::TSSatisfiesExpression(x) => self.expr(&x.expression),
            Expression::TSTypeAssertion(x) => self.expr(&x.expression),
            Expression::TSNonNullExpression(x) => self.expr(&x.expression),
            Expression::TSInstantiationExpression(x) => self.expr(&x.expression),
            Expression::V8IntrinsicExpression(_) => E::Other,
            other => match other.as_member_expression() {
                Some(m) => self.member(m),
                None => E::Other,
            },
        }
    }

    fn member(&mut self, m: &js::MemberExpression<'_>) -> E {
        match m {
            js::MemberExpression::StaticMemberExpression(s) => E::Member {
                obj: self.b(&s.object),
                prop: Some(s.property.name.as_str().to_string()),
                optional: s.optional,
                span: span(s.span),
            },
            js::MemberExpression::ComputedMemberExpression(c) => {
                let prop = match &c.expression {
                    Expression::StringLiteral(s) => Some(s.value.as_str().to_string()),
                    Expression::NumericLiteral(n) => Some(n.value.to_string()),
                    _ => None,
                };
                let key = self.expr(&c.expression);
                let obj = self.b(&c.object);
                let obj = if prop.is_none() {
                    // Keep the key's calls.
                    Box::new(E::Array(vec![*obj, key]))
                } else {
                    obj
                };
                E::Member {
                    obj,
                    prop,
                    optional: c.optional,
                    span: span(c.span),
                }
            }
            js::MemberExpression::PrivateFieldExpression(p) => E::Member {
                obj: self.b(&p.object),
                prop: None,
                optional: p.optional,
                span: span(p.span),
            },
        }
    }

    fn jsx_name(&mut self, n: &js::JSXElementName<'_>) -> JsxTag {
        match n {
            js::JSXElementName::Identifier(i) => JsxTag::Intrinsic(i.name.as_str().to_string()),
            js::JSXElementName::IdentifierReference(r) => JsxTag::Value(self.reference(r)),
            js::JSXElementName::NamespacedName(n) => {
                JsxTag::Intrinsic(format!("{}:{}", n.namespace.name, n.name.name))
            }
            js::JSXElementName::MemberExpression(m) => JsxTag::Value(self.jsx_member(m)),
            js::JSXElementName::ThisExpression(_) => JsxTag::Value(E::Other),
        }
    }

    fn jsx_member(&mut self, m: &js::JSXMemberExpression<'_>) -> E {
        let obj = match &m.object {
            js::JSXMemberExpressionObject::IdentifierReference(r) => self.reference(r),
            js::JSXMemberExpressionObject::MemberExpression(inner) => {
                if self.depth > MAX_DEPTH {
                    self.ir.deep += 1;
                    E::Deep
                } else {
                    self.depth += 1;
                    let e = self.jsx_member(inner);
                    self.depth -= 1;
                    e
                }
            }
            js::JSXMemberExpressionObject::ThisExpression(_) => E::Other,
        };
        E::Member {
            obj: Box::new(obj),
            prop: Some(m.property.name.as_str().to_string()),
            optional: false,
            span: span(m.span),
        }
    }

    fn jsx_element(&mut self, el: &js::JSXElement<'_>) -> E {
        let tag = self.jsx_name(&el.opening_element.name);
        let mut attrs = Vec::new();
        let mut spreads = Vec::new();
        for a in &el.opening_element.attributes {
            match a {
                js::JSXAttributeItem::Attribute(a) => {
                    let name = match &a.name {
                        js::JSXAttributeName::Identifier(i) => i.name.as_str().to_string(),
                        js::JSXAttributeName::NamespacedName(n) => {
                            format!("{}:{}", n.namespace.name, n.name.name)
                        }
                    };
                    let value = match &a.value {
                        None => E::Bool(true),
                        Some(js::JSXAttributeValue::StringLiteral(s)) => {
                            E::Str(s.value.as_str().to_string())
                        }
                        Some(js::JSXAttributeValue::ExpressionContainer(c)) => {
                            match &c.expression {
                                js::JSXExpression::EmptyExpression(_) => E::Undefined,
                                other => other
                                    .as_expression()
                                    .map(|x| self.expr(x))
                                    .unwrap_or(E::Other),
                            }
                        }
                        Some(js::JSXAttributeValue::Element(e)) => {
                            self.nested_jsx(|l| l.jsx_element(e))
                        }
                        Some(js::JSXAttributeValue::Fragment(f)) => {
                            let children = self.jsx_children(&f.children);
                            E::Jsx(Box::new(Jsx {
                                tag: JsxTag::Fragment,
                                attrs: vec![],
                                spreads: vec![],
                                children,
                                span: span(f.span),
                            }))
                        }
                    };
                    attrs.push((name, value));
                }
                js::JSXAttributeItem::SpreadAttribute(s) => spreads.push(self.expr(&s.argument)),
            }
        }
        let children = self.jsx_children(&el.children);
        E::Jsx(Box::new(Jsx {
            tag,
            attrs,
            spreads,
            children,
            span: span(el.opening_element.span),
        }))
    }

    fn nested_jsx(&mut self, f: impl FnOnce(&mut Self) -> E) -> E {
        if self.depth > MAX_DEPTH {
            self.ir.deep += 1;
            return E::Deep;
        }
        self.depth += 1;
        let e = f(self);
        self.depth -= 1;
        e
    }

    fn jsx_children(&mut self, children: &[js::JSXChild<'_>]) -> Vec<E> {
        let mut out = Vec::new();
        for c in children {
            match c {
                js::JSXChild::Text(_) => {}
                js::JSXChild::Element(e) => out.push(self.nested_jsx(|l| l.jsx_element(e))),
                js::JSXChild::Fragment(f) => {
                    let f = self.nested_jsx(|l| {
                        let children = l.jsx_children(&f.children);
                        E::Jsx(Box::new(Jsx {
                            tag: JsxTag::Fragment,
                            attrs: vec![],
                            spreads: vec![],
                            children,
                            span: span(f.span),
                        }))
                    });
                    out.push(f);
                }
                js::JSXChild::ExpressionContainer(c) => match &c.expression {
                    js::JSXExpression::EmptyExpression(_) => {}
                    other => {
                        if let Some(x) = other.as_expression() {
                            out.push(self.expr(x));
                        }
                    }
                },
                js::JSXChild::Spread(s) => out.push(self.expr(&s.expression)),
            }
        }
        out
    }
}
