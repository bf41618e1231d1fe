//! `authrace scan`: read a Convex + React codebase, find every query call
//! site and the gate that holds there, derive the scenarios they imply and
//! check them.
//!
//! One stage per file, each using only the ones before it:
//!
//! | stage | file |
//! |---|---|
//! | walk the tree, parse with oxc, lower to an owned form | [`walk`], [`lower`], [`ir`] |
//! | imports between project files | [`resolve`] |
//! | server functions and their auth class | [`server`] (rules: [`auth`]) |
//! | client setup: provider, client options, users rows | [`client`] |
//! | call sites, the render graph and gates | [`sites`] (rules: [`gates`]) |
//! | scenarios per equivalence class and trigger, checked | [`mod@derive`] |
//! | text, JSON and SARIF | [`report`] |
//! | a synthetic app of any size (benchmark, tests) | [`synth`] |
//!
//! Soundness first: a gate is reported only when the code proves it; what
//! cannot be decided is `unknown` (with the reason) and checked as `none`;
//! a function whose auth cannot be decided is checked as `required`.

pub mod auth;
pub mod client;
pub mod derive;
pub mod gates;
pub mod ir;
pub mod lower;
pub mod report;
pub mod resolve;
pub mod server;
pub mod sites;
pub mod synth;
pub mod walk;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

pub use client::ClientSetup;
pub use derive::{ScanOptions, ScanReport, Trigger, check_analysis};
pub use server::FnKind;
pub use sites::{CallSite, GateFound, Outside};
pub use walk::Skipped;

/// How a Convex function treats the caller's identity, as the scanner
/// found it (`unknown` is checked as `required`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthClass {
    None,
    Optional,
    Required,
    UserRow,
    Unknown,
}

impl AuthClass {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthClass::None => "none",
            AuthClass::Optional => "optional",
            AuthClass::Required => "required",
            AuthClass::UserRow => "user-row",
            AuthClass::Unknown => "unknown",
        }
    }

    /// What the model is told: `unknown` is checked as `required`.
    pub fn checked_as(self) -> crate::scenario::AuthReq {
        use crate::scenario::AuthReq;
        match self {
            AuthClass::None => AuthReq::None,
            AuthClass::Optional => AuthReq::Optional,
            AuthClass::Required | AuthClass::Unknown => AuthReq::Required,
            AuthClass::UserRow => AuthReq::UserRow,
        }
    }
}

/// An exported Convex function.
#[derive(Clone, Debug, Serialize)]
pub struct ServerFunction {
    /// `path/of/module:export`.
    pub name: String,
    pub file: String,
    pub line: usize,
    pub kind: FnKind,
    pub internal: bool,
    pub auth: AuthClass,
    pub why: String,
    /// Returns the caller's users-table row, or null without an identity
    /// (a `users.current`-style query).
    #[serde(skip)]
    pub returns_user_row: bool,
    /// Inserts a row keyed by the caller's identity (a users-store mutation).
    #[serde(skip)]
    pub inserts_user_row: bool,
    /// Tables it inserts into without reading an identity (a webhook's).
    #[serde(skip)]
    pub inserts_without_identity: Vec<String>,
}

/// Everything read from the code, before any check.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub root: PathBuf,
    /// Files parsed and analysed.
    pub files: usize,
    /// Bytes of those files.
    pub bytes: usize,
    pub skipped: Vec<Skipped>,
    /// The Convex functions folder (relative to the root).
    pub functions_dir: String,
    /// Whether that folder was found.
    pub functions_dir_found: bool,
    pub functions: Vec<ServerFunction>,
    pub client: ClientSetup,
    pub sites: Vec<CallSite>,
    pub outside: Vec<Outside>,
    /// Walking, reading, parsing, semantic analysis and lowering.
    pub read_time: Duration,
    /// Parse, semantic analysis and lowering alone (all threads).
    pub parse_time: Duration,
    /// The analysis stages after parsing.
    pub analyse_time: Duration,
}

/// Bad input: the folder cannot be scanned at all.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{}: no such folder", .0.display())]
    NoFolder(PathBuf),
}

/// Reads and analyses the app under `root`.
pub fn analyse_dir(root: &Path) -> Result<Analysis, ScanError> {
    if !root.is_dir() {
        return Err(ScanError::NoFolder(root.to_path_buf()));
    }
    let start = Instant::now();
    let (sources, mut walked) = walk::read_tree(root);
    walk::parse_all(&sources, &mut walked);
    let read_time = start.elapsed();
    let bytes = sources.iter().map(|s| s.text.len()).sum();
    Ok(analyse(root.to_path_buf(), walked, bytes, read_time))
}

/// Analyses in-memory files (`(relative path, text)`), as the tests and the
/// fuzzer do.
pub fn analyse_sources(files: &[(&str, &str)]) -> Analysis {
    let start = Instant::now();
    let sources: Vec<walk::SourceFile> = files
        .iter()
        .filter(|(p, _)| !p.ends_with(".json"))
        .map(|(p, t)| walk::SourceFile {
            rel: p.to_string(),
            text: t.to_string(),
        })
        .collect();
    let mut walked = walk::Walked {
        tsconfigs: files
            .iter()
            .filter(|(p, _)| p.ends_with("tsconfig.json") || p.ends_with("jsconfig.json"))
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect(),
        convex_json: files
            .iter()
            .find(|(p, _)| *p == "convex.json")
            .map(|(_, t)| t.to_string()),
        ..walk::Walked::default()
    };
    walk::parse_all(&sources, &mut walked);
    let bytes = sources.iter().map(|s| s.text.len()).sum();
    analyse(PathBuf::from("."), walked, bytes, start.elapsed())
}

/// Shorthand for tests: analyse in-memory files.
pub fn scan_sources(files: &[(&str, &str)]) -> Analysis {
    analyse_sources(files)
}

fn analyse(root: PathBuf, walked: walk::Walked, bytes: usize, read_time: Duration) -> Analysis {
    let start = Instant::now();
    let resolver = resolve::Resolver::new(&walked.files, &walked.tsconfigs);
    let link = resolve::Linker {
        files: &walked.files,
        resolver: &resolver,
    };
    let functions_dir = server::functions_dir(walked.convex_json.as_deref());
    let prefix = format!("{functions_dir}/");
    let functions_dir_found = walked.files.iter().any(|f| f.path.starts_with(&prefix));
    let functions = server::find(&link, &functions_dir);
    let (sites, outside, facts) = sites::find_with_facts(&link, &functions_dir, &functions);
    let client = client::find(&link, &functions, &facts);
    Analysis {
        root,
        files: walked.files.len(),
        bytes,
        skipped: walked.skipped,
        functions_dir,
        functions_dir_found,
        functions,
        client,
        sites,
        outside,
        read_time,
        parse_time: walked.parse_time,
        analyse_time: start.elapsed(),
    }
}
