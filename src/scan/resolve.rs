//! Imports between project files: relative paths, `tsconfig.json` /
//! `jsconfig.json` `paths` aliases (with `baseUrl`, and `extends` of a
//! relative file), the `@/` alias, index files, `.js` specifiers naming a
//! `.ts` file, re-exports (`export { x } from`, `export * from`). A
//! specifier that names no project file is a package (`convex/react`); one
//! that lands in a `_generated/` folder is Convex's generated code
//! (`@generated/api`, `@generated/server`).

use std::collections::HashMap;

use super::ir::{E, Export, FileIr, Sym};

/// Where a specifier leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Module {
    File(usize),
    /// A package, or generated code (`@generated/api`).
    External(String),
}

/// What an imported or exported name is.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Binding {
        file: usize,
        sym: Sym,
    },
    DefaultExpr {
        file: usize,
    },
    Namespace {
        file: usize,
    },
    External {
        module: String,
        name: String,
    },
    /// A project file that does not export the name (or a cycle).
    Missing(String),
}

#[derive(Clone, Debug, Default)]
struct TsConfig {
    dir: String,
    base_url: Option<String>,
    /// `(pattern, replacements)` with at most one `*` each, resolved against
    /// `baseUrl` (or the config's folder).
    paths: Vec<(String, Vec<String>)>,
}

pub struct Resolver {
    by_path: HashMap<String, usize>,
    configs: Vec<TsConfig>,
}

const EXTS: &[&str] = &["ts", "tsx", "js", "jsx", "mts"];

/// Removes `//` and `/* */` comments and trailing commas (tsconfig is JSONC).
pub fn strip_jsonc(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            out.push(c);
            if c == b'\\' && i + 1 < b.len() {
                out.push(b[i + 1]);
                i += 1;
            } else if c == b'"' {
                in_str = false;
            }
        } else if c == b'"' {
            in_str = true;
            out.push(c);
        } else if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
            continue;
        } else if c == b',' {
            // Drop a comma followed only by whitespace and a closing bracket.
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if !(j < b.len() && (b[j] == b'}' || b[j] == b']')) {
                out.push(c);
            }
        } else {
            out.push(c);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Joins and normalises a `/`-separated path (`..` and `.` removed).
pub fn join(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = if rel.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|p| !p.is_empty()).collect()
    };
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

pub fn dirname(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

fn load_config(rel: &str, all: &HashMap<String, String>, depth: usize) -> TsConfig {
    let dir = dirname(rel).to_string();
    let mut cfg = TsConfig {
        dir: dir.clone(),
        ..TsConfig::default()
    };
    let Some(text) = all.get(rel) else { return cfg };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&strip_jsonc(text)) else {
        return cfg;
    };
    if let Some(ext) = v.get("extends").and_then(|e| e.as_str())
        && ext.starts_with('.')
        && depth < 8
    {
        let mut target = join(&dir, ext);
        if !target.ends_with(".json") {
            target.push_str(".json");
        }
        cfg = load_config(&target, all, depth + 1);
        cfg.dir = dir.clone();
    }
    let opts = v.get("compilerOptions");
    if let Some(base) = opts.and_then(|o| o.get("baseUrl")).and_then(|b| b.as_str()) {
        cfg.base_url = Some(join(&dir, base));
    }
    if let Some(paths) = opts
        .and_then(|o| o.get("paths"))
        .and_then(|p| p.as_object())
    {
        let base = cfg.base_url.clone().unwrap_or_else(|| dir.clone());
        cfg.paths = paths
            .iter()
            .map(|(k, v)| {
                let targets = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|t| t.as_str())
                            .map(|t| join(&base, t))
                            .collect()
                    })
                    .unwrap_or_default();
                (k.clone(), targets)
            })
            .collect();
    }
    cfg
}

impl Resolver {
    pub fn new(files: &[FileIr], tsconfigs: &[(String, String)]) -> Resolver {
        let by_path = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect();
        let all: HashMap<String, String> = tsconfigs.iter().cloned().collect();
        let mut configs: Vec<TsConfig> = tsconfigs
            .iter()
            .map(|(p, _)| load_config(p, &all, 0))
            .collect();
        // The nearest config first.
        configs.sort_by_key(|c| std::cmp::Reverse(c.dir.len()));
        Resolver { by_path, configs }
    }

    fn file(&self, path: &str) -> Option<usize> {
        if let Some(i) = self.by_path.get(path) {
            return Some(*i);
        }
        // `./x.js` naming `x.ts` (TypeScript's ESM style).
        for (js, ts) in [
            (".js", ".ts"),
            (".js", ".tsx"),
            (".jsx", ".tsx"),
            (".mjs", ".mts"),
        ] {
            if let Some(stem) = path.strip_suffix(js)
                && let Some(i) = self.by_path.get(&format!("{stem}{ts}"))
            {
                return Some(*i);
            }
        }
        for x in EXTS {
            if let Some(i) = self.by_path.get(&format!("{path}.{x}")) {
                return Some(*i);
            }
        }
        for x in EXTS {
            if let Some(i) = self.by_path.get(&format!("{path}/index.{x}")) {
                return Some(*i);
            }
        }
        None
    }

    /// A path inside the project that is not a parsed file.
    fn unparsed(path: &str) -> Module {
        if let Some((_, rest)) = path.split_once("_generated/") {
            let stem = rest.split('.').next().unwrap_or(rest);
            return Module::External(format!("@generated/{stem}"));
        }
        Module::External(format!("./{path}"))
    }

    /// Resolves `spec` imported from the file at `from`.
    pub fn resolve(&self, from: &str, spec: &str) -> Module {
        if spec.starts_with("./") || spec.starts_with("../") || spec == "." || spec == ".." {
            let p = join(dirname(from), spec);
            return self
                .file(&p)
                .map(Module::File)
                .unwrap_or_else(|| Self::unparsed(&p));
        }
        for cfg in self
            .configs
            .iter()
            .filter(|c| c.dir.is_empty() || from.starts_with(&format!("{}/", c.dir)))
        {
            for (pat, targets) in &cfg.paths {
                let rest = match pat.split_once('*') {
                    Some((pre, post)) => spec
                        .strip_prefix(pre)
                        .and_then(|r| r.strip_suffix(post))
                        .map(str::to_string),
                    None => (spec == pat).then(String::new),
                };
                if let Some(rest) = rest {
                    for t in targets {
                        let p = join("", &t.replacen('*', &rest, 1));
                        if let Some(i) = self.file(&p) {
                            return Module::File(i);
                        }
                        if p.contains("_generated/") {
                            return Self::unparsed(&p);
                        }
                    }
                }
            }
            if let Some(base) = &cfg.base_url
                && let Some(i) = self.file(&join(base, spec))
            {
                return Module::File(i);
            }
        }
        if let Some(rest) = spec.strip_prefix("@/") {
            for base in ["src", ""] {
                let p = join(base, rest);
                if let Some(i) = self.file(&p) {
                    return Module::File(i);
                }
                if p.contains("_generated/") {
                    return Self::unparsed(&p);
                }
            }
        }
        Module::External(spec.to_string())
    }
}

/// Follows imports and re-exports to what a name is.
pub struct Linker<'p> {
    pub files: &'p [FileIr],
    pub resolver: &'p Resolver,
}

impl<'p> Linker<'p> {
    /// What file `file`'s import binding `sym` is bound to.
    pub fn import(&self, file: usize, sym: Sym) -> Option<Target> {
        let imp = self.files[file].imports.get(&sym)?;
        Some(self.module_name(file, &imp.source, &imp.name, 0))
    }

    fn module_name(&self, from: usize, source: &str, name: &str, depth: usize) -> Target {
        match self.resolver.resolve(&self.files[from].path, source) {
            Module::External(m) => Target::External {
                module: m,
                name: name.to_string(),
            },
            Module::File(f) if name == "*" => Target::Namespace { file: f },
            Module::File(f) => self.export(f, name, depth + 1),
        }
    }

    /// What `file` exports as `name`.
    pub fn export(&self, file: usize, name: &str, depth: usize) -> Target {
        if depth > 32 {
            return Target::Missing(format!("re-exports of `{name}` nest too deeply"));
        }
        let f = &self.files[file];
        for e in &f.exports {
            match e {
                Export::Local { exported, sym } if exported == name => {
                    if let Some(imp) = f.imports.get(sym) {
                        return self.module_name(file, &imp.source, &imp.name, depth);
                    }
                    return Target::Binding { file, sym: *sym };
                }
                Export::DefaultExpr(_) if name == "default" => return Target::DefaultExpr { file },
                Export::Reexport {
                    exported,
                    source,
                    imported,
                } if exported == name => return self.module_name(file, source, imported, depth),
                _ => {}
            }
        }
        for e in &f.exports {
            if let Export::Star { source } = e {
                if name == "default" {
                    continue;
                }
                match self.module_name(file, source, name, depth) {
                    Target::Missing(_) => {}
                    t @ Target::External { .. } => {
                        // `export * from "pkg"`: the name may or may not be there.
                        if let Module::File(_) = self.resolver.resolve(&f.path, source) {
                            continue;
                        }
                        return t;
                    }
                    t => return t,
                }
            }
        }
        Target::Missing(format!("{} does not export `{name}`", f.path))
    }

    /// The module-level value of a binding (`None` for an import or a
    /// binding that is not module-level).
    pub fn def(&self, file: usize, sym: Sym) -> Option<&'p E> {
        self.files[file].top_defs.get(&sym)
    }

    /// `export default <expr>` of a file.
    pub fn default_expr(&self, file: usize) -> Option<&'p E> {
        self.files[file].exports.iter().find_map(|e| match e {
            Export::DefaultExpr(x) => Some(x),
            _ => None,
        })
    }
}
