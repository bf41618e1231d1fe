//! The scanner's intermediate form: each file's syntax tree lowered to a
//! small, owned language (`lower.rs`) that the later stages interpret.
//!
//! oxc's tree lives in a per-file arena, so it cannot outlive the parse of
//! that file; the cross-file stages (server functions, client setup, call
//! sites) need every file at once. Lowering keeps what those stages read —
//! bindings resolved to symbols by `oxc_semantic`, imports and exports,
//! calls, member accesses, conditions, JSX, and the statements that decide
//! control flow — and drops types and everything else. Every tree here is
//! bounded in depth (`lower::MAX_DEPTH`): what is nested deeper becomes
//! [`E::Deep`], so the interpreters that walk it cannot overflow the stack.

use std::collections::HashMap;

/// A binding of one file (an `oxc_semantic` symbol id).
pub type Sym = u32;
/// A function of one file (index into [`FileIr::funcs`]).
pub type FuncId = u32;

/// A byte range in the file's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

/// An expression.
#[derive(Clone, Debug)]
pub enum E {
    /// A binding of this file: local, parameter-bound, module-level or imported.
    Sym(Sym, Span),
    /// An identifier with no binding in the file (a global).
    Global(String),
    /// The i-th parameter of the enclosing function (only in its prologue).
    Param(u32),
    Null,
    Undefined,
    Bool(bool),
    Str(String),
    /// A value about which nothing is known but that it exists (a number,
    /// `this`, a class, a template with substitutions...).
    Other,
    Obj(Vec<Prop>),
    Array(Vec<E>),
    Member {
        obj: Box<E>,
        /// `None` for a computed key that is not a literal.
        prop: Option<String>,
        optional: bool,
        span: Span,
    },
    Call {
        callee: Box<E>,
        args: Vec<E>,
        span: Span,
        /// `new X(...)`.
        new: bool,
        optional: bool,
    },
    Func(FuncId),
    Cond {
        test: Box<E>,
        then: Box<E>,
        els: Box<E>,
    },
    And(Box<E>, Box<E>),
    Or(Box<E>, Box<E>),
    /// `a ?? b`.
    Nullish(Box<E>, Box<E>),
    Not(Box<E>),
    Cmp {
        op: CmpOp,
        l: Box<E>,
        r: Box<E>,
    },
    /// `x = value` (to a binding of this file), as an expression.
    Assign(Option<Sym>, Box<E>),
    Jsx(Box<Jsx>),
    Spread(Box<E>),
    /// `await e` (kept: an awaited call's throw is the caller's).
    Await(Box<E>),
    /// The lowering stopped here: the tree is nested deeper than
    /// `lower::MAX_DEPTH`.
    Deep,
}

/// Equality comparisons (other binary operators lower to [`E::Other`] after
/// their operands are kept for their calls).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    StrictEq,
    StrictNe,
}

#[derive(Clone, Debug)]
pub enum Prop {
    Kv(String, E),
    Spread(E),
    /// A computed key: the value is kept for its calls.
    Computed(E),
}

#[derive(Clone, Debug)]
pub struct Jsx {
    pub tag: JsxTag,
    pub attrs: Vec<(String, E)>,
    pub spreads: Vec<E>,
    pub children: Vec<E>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum JsxTag {
    /// `div`, `span`: a host element.
    Intrinsic(String),
    Fragment,
    /// `Foo`, `Foo.Bar`: a component value.
    Value(E),
}

/// A statement.
#[derive(Clone, Debug)]
pub enum Stmt {
    /// A declaration with its initial value (`undefined` when none); a
    /// destructuring declares each name with a member access of a hidden
    /// binding.
    Let {
        sym: Sym,
        init: E,
    },
    Expr(E),
    If {
        test: E,
        then: Vec<Stmt>,
        els: Vec<Stmt>,
    },
    Return(Option<E>, Span),
    Throw(E, Span),
    /// A loop body: may run zero or more times.
    Loop(Vec<Stmt>),
    Try {
        block: Vec<Stmt>,
        catch: Vec<Stmt>,
        finally: Vec<Stmt>,
    },
    Switch {
        disc: E,
        cases: Vec<(Option<E>, Vec<Stmt>)>,
    },
    /// `break` / `continue`: the rest of the enclosing loop or case may not run.
    Jump,
}

/// A function, arrow function or method.
#[derive(Clone, Debug)]
pub struct Func {
    /// The name it is bound to, when it has one.
    pub name: Option<String>,
    pub params: u32,
    /// The prologue binds the parameters (`Let { sym, init: Param(i) }`),
    /// then the body follows.
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// An import binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// The specifier as written (`"convex/react"`, `"./lib/auth"`).
    pub source: String,
    /// The imported name; `"default"`, or `"*"` for a namespace.
    pub name: String,
}

#[derive(Clone, Debug)]
pub enum Export {
    /// `export const x`, `export { x as y }`, `export default x` (a binding).
    Local { exported: String, sym: Sym },
    /// `export default <expression>`.
    DefaultExpr(E),
    /// `export { a as b } from "m"` (`imported == "*"`: `export * as b from "m"`).
    Reexport {
        exported: String,
        source: String,
        imported: String,
    },
    /// `export * from "m"`.
    Star { source: String },
}

/// A lowered file.
#[derive(Clone, Debug, Default)]
pub struct FileIr {
    /// Relative to the scanned folder, with `/` separators.
    pub path: String,
    pub text: String,
    pub funcs: Vec<Func>,
    /// The module body.
    pub top: Vec<Stmt>,
    /// Module-level bindings and their initial values (functions too).
    pub top_defs: HashMap<Sym, E>,
    pub imports: HashMap<Sym, Import>,
    pub exports: Vec<Export>,
    /// Names of bindings, for messages.
    pub names: HashMap<Sym, String>,
    /// Bindings that are assigned after their declaration.
    pub mutated: std::collections::HashSet<Sym>,
    /// Where the lowering cut a tree nested too deeply (reported).
    pub deep: usize,
}

impl FileIr {
    /// Line and column (1-based; the column counts characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = (offset as usize).min(self.text.len());
        let mut o = offset;
        while o > 0 && !self.text.is_char_boundary(o) {
            o -= 1;
        }
        let before = &self.text[..o];
        let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
        let start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        (line, self.text[start..o].chars().count() + 1)
    }

    pub fn line(&self, offset: u32) -> usize {
        self.line_col(offset).0
    }

    pub fn name(&self, sym: Sym) -> &str {
        self.names.get(&sym).map(String::as_str).unwrap_or("?")
    }

    /// The binding a module-level name refers to.
    pub fn top_sym(&self, name: &str) -> Option<Sym> {
        self.top_defs
            .keys()
            .chain(self.imports.keys())
            .copied()
            .find(|s| self.names.get(s).is_some_and(|n| n == name))
    }
}

impl E {
    /// Strips `await`: an awaited value is the value (its throw is kept by
    /// the interpreters, which see the call inside).
    pub fn unawait(&self) -> &E {
        let mut e = self;
        while let E::Await(inner) = e {
            e = inner;
        }
        e
    }
}
