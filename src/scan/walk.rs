//! Walk and parse: find the project's source files as ripgrep does (the
//! `ignore` crate: `.gitignore`, hidden files), never `node_modules` or a
//! generated folder, and parse each with oxc on its own thread, then lower
//! it ([`super::lower`]).
//!
//! A repository is untrusted input. Symbolic links are not followed (no
//! loops); a file larger than [`MAX_FILE_BYTES`], not UTF-8, minified,
//! marked as generated, nested deeper than the parser can safely recurse,
//! or that does not parse is skipped and reported, never a crash. Parsing
//! runs on threads with [`PARSE_STACK`] bytes of stack.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use oxc_allocator::Allocator;
use oxc_parser::Parser;
use oxc_semantic::SemanticBuilder;
use oxc_span::SourceType;
use rayon::prelude::*;

use super::ir::FileIr;
use super::lower;

/// Files larger than this are skipped (bundles, minified or generated code).
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Bracket nesting above this is skipped before parsing: oxc's parser is
/// recursive, and no hand-written app nests this deep.
pub const MAX_NESTING: usize = 256;
/// Stack of each parsing thread.
pub const PARSE_STACK: usize = 64 << 20;

/// Folders never scanned, ignored or not: dependencies, build output and
/// generated code.
pub const SKIP_DIRS: &[&str] = &[
    "node_modules",
    "_generated",
    "dist",
    "build",
    "out",
    ".next",
    ".nuxt",
    ".output",
    ".vercel",
    ".turbo",
    ".expo",
    "coverage",
    "storybook-static",
    ".git",
];

const EXTENSIONS: &[&str] = &["ts", "tsx", "js", "jsx", "mts"];

/// A file that was not analysed, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

/// A source file, read.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Relative to the scanned folder, `/`-separated.
    pub rel: String,
    pub text: String,
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<FileIr>,
    pub skipped: Vec<Skipped>,
    /// `tsconfig.json` / `jsconfig.json` files (relative path, text).
    pub tsconfigs: Vec<(String, String)>,
    /// `convex.json` at the root, if any.
    pub convex_json: Option<String>,
    /// Parse, semantic analysis and lowering of every file.
    pub parse_time: Duration,
}

fn rel_path(root: &Path, p: &Path) -> String {
    let rel = p.strip_prefix(root).unwrap_or(p);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Lists and reads the source files under `root`.
pub fn read_tree(root: &Path) -> (Vec<SourceFile>, Walked) {
    let mut walked = Walked::default();
    let mut paths: Vec<PathBuf> = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            !(e.file_type().is_some_and(|t| t.is_dir()) && SKIP_DIRS.contains(&name.as_ref()))
        })
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                walked.skipped.push(Skipped {
                    file: String::new(),
                    reason: format!("walk error: {e}"),
                });
                continue;
            }
        };
        let Some(ft) = entry.file_type() else {
            continue;
        };
        let p = entry.path();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if ft.is_symlink() {
            if EXTENSIONS.iter().any(|x| name.ends_with(&format!(".{x}"))) {
                walked.skipped.push(Skipped {
                    file: rel_path(root, p),
                    reason: "a symbolic link (not followed)".to_string(),
                });
            }
            continue;
        }
        if !ft.is_file() {
            continue;
        }
        if name == "tsconfig.json" || name == "jsconfig.json" {
            if let Ok(t) = std::fs::read_to_string(p) {
                walked.tsconfigs.push((rel_path(root, p), t));
            }
            continue;
        }
        if name == "convex.json" && p.parent() == Some(root) {
            walked.convex_json = std::fs::read_to_string(p).ok();
            continue;
        }
        let ext = p
            .extension()
            .map(|x| x.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !EXTENSIONS.contains(&ext.as_str())
            || name.ends_with(".d.ts")
            || name.ends_with(".d.mts")
        {
            continue;
        }
        paths.push(p.to_path_buf());
    }
    paths.sort();
    let mut sources = Vec::new();
    for p in paths {
        let rel = rel_path(root, &p);
        let meta = match std::fs::metadata(&p) {
            Ok(m) => m,
            Err(e) => {
                walked.skipped.push(Skipped {
                    file: rel,
                    reason: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        if meta.len() > MAX_FILE_BYTES {
            walked.skipped.push(Skipped {
                file: rel,
                reason: format!(
                    "{} bytes: larger than {} (a bundle, minified or generated code?)",
                    meta.len(),
                    MAX_FILE_BYTES
                ),
            });
            continue;
        }
        match std::fs::read(&p) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => sources.push(SourceFile { rel, text }),
                Err(e) => walked.skipped.push(Skipped {
                    file: rel,
                    reason: format!(
                        "not UTF-8 text (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                }),
            },
            Err(e) => walked.skipped.push(Skipped {
                file: rel,
                reason: format!("cannot read: {e}"),
            }),
        }
    }
    (sources, walked)
}

/// Why a file is not worth parsing, if it is not: generated, minified, or
/// nested too deeply to parse safely.
pub fn precheck(text: &str) -> Option<String> {
    let head: String = text
        .lines()
        .take(5)
        .collect::<Vec<_>>()
        .join("\n")
        .to_ascii_lowercase();
    if head.contains("@generated")
        || head.contains("do not edit")
        || head.contains("auto-generated")
    {
        return Some("generated code (its header says so)".to_string());
    }
    let lines = text.lines().count().max(1);
    let longest = text.lines().map(str::len).max().unwrap_or(0);
    if longest > 20_000 || (text.len() > 50_000 && text.len() / lines > 1_000) {
        return Some(format!("minified (a line of {longest} characters)"));
    }
    let worst = nesting(text);
    if worst > MAX_NESTING {
        return Some(format!(
            "nested {worst} levels deep (more than {MAX_NESTING})"
        ));
    }
    None
}

/// An upper estimate of how deep the parser will recurse: bracket nesting
/// plus the longest run of prefix operators and `?` (outside comments and
/// strings), computed by a small scanner that knows comments, strings and
/// template literals — not a parser, only a bound.
pub fn nesting(text: &str) -> usize {
    #[derive(PartialEq)]
    enum St {
        Code,
        Line,
        Block,
        Str(u8),
        Template,
    }
    let b = text.as_bytes();
    let mut st = St::Code;
    // For each open `{`: does its `}` return to a template literal?
    let mut braces: Vec<bool> = Vec::new();
    let mut depth: usize = 0;
    let mut run: usize = 0;
    let mut worst: usize = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied().unwrap_or(0);
        match st {
            St::Code => match c {
                b'/' if next == b'/' => {
                    st = St::Line;
                    i += 1;
                }
                b'/' if next == b'*' => {
                    st = St::Block;
                    i += 1;
                }
                b'"' | b'\'' => st = St::Str(c),
                b'`' => st = St::Template,
                b'(' | b'[' | b'{' => {
                    if c == b'{' {
                        braces.push(false);
                    }
                    depth += 1;
                    run = 0;
                }
                b')' | b']' | b'}' => {
                    if c == b'}' && braces.pop() == Some(true) {
                        st = St::Template;
                    }
                    depth = depth.saturating_sub(1);
                    run = 0;
                }
                b'!' | b'?' | b'~' | b'-' | b'+' | b'<' | b'=' | b'>' | b':' => run += 1,
                b' ' | b'\t' | b'\n' | b'\r' => {}
                _ => run = 0,
            },
            St::Line => {
                if c == b'\n' {
                    st = St::Code;
                }
            }
            St::Block => {
                if c == b'*' && next == b'/' {
                    st = St::Code;
                    i += 1;
                }
            }
            St::Str(q) => {
                if c == b'\\' {
                    i += 1;
                } else if c == q || c == b'\n' {
                    st = St::Code;
                }
            }
            St::Template => {
                if c == b'\\' {
                    i += 1;
                } else if c == b'`' {
                    st = St::Code;
                } else if c == b'$' && next == b'{' {
                    braces.push(true);
                    depth += 1;
                    st = St::Code;
                    i += 1;
                }
            }
        }
        worst = worst.max(depth + run);
        i += 1;
    }
    worst
}

/// Parses, analyses and lowers one file; `Err` says why it was skipped.
pub fn parse_one(src: &SourceFile) -> Result<FileIr, String> {
    if let Some(why) = precheck(&src.text) {
        return Err(why);
    }
    let source_type = match src.rel.rsplit('.').next() {
        Some("ts") | Some("mts") => SourceType::ts(),
        Some("tsx") => SourceType::tsx(),
        _ => SourceType::jsx(),
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let alloc = Allocator::default();
        let ret = Parser::new(&alloc, &src.text, source_type).parse();
        if ret.panicked || !ret.diagnostics.is_empty() {
            let first = ret
                .diagnostics
                .iter()
                .next()
                .map(|d| d.to_string())
                .unwrap_or_else(|| "unrecoverable syntax error".to_string());
            return Err(format!("does not parse: {first}"));
        }
        let sem = SemanticBuilder::new().build(&ret.program);
        let ir = lower::lower(
            src.rel.clone(),
            src.text.clone(),
            &ret.program,
            sem.semantic.scoping(),
        );
        Ok(ir)
    }));
    match outcome {
        Ok(r) => r,
        Err(_) => Err("the parser failed on it".to_string()),
    }
}

/// Parses every file in parallel on threads with large stacks.
pub fn parse_all(sources: &[SourceFile], walked: &mut Walked) {
    let start = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(PARSE_STACK)
        .thread_name(|i| format!("authrace-parse-{i}"))
        .build();
    let results: Vec<Result<FileIr, String>> = match pool {
        Ok(pool) => pool.install(|| sources.par_iter().map(parse_one).collect()),
        Err(_) => sources.iter().map(parse_one).collect(),
    };
    for (src, r) in sources.iter().zip(results) {
        match r {
            Ok(ir) => {
                if ir.deep > 0 {
                    walked.skipped.push(Skipped {
                        file: src.rel.clone(),
                        reason: format!(
                            "{} subtrees nested deeper than {} levels were not analysed",
                            ir.deep,
                            lower::MAX_DEPTH
                        ),
                    });
                }
                walked.files.push(ir);
            }
            Err(reason) => walked.skipped.push(Skipped {
                file: src.rel.clone(),
                reason,
            }),
        }
    }
    walked.parse_time = start.elapsed();
}
