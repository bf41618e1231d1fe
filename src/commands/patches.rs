//! `authrace patches`: what each proposed change to the client removes, and
//! what it makes worse, proved over every interleaving of each scenario;
//! and `docs/findings.md`, one section per race with the evidence a
//! maintainer can act on.
//!
//! For every scenario the command checks the app as written with no patch
//! (the baseline), with each [`Patch`] alone, and with all of them, and
//! compares each property's verdict with the baseline's: a violation that
//! now holds is *fixed*; a property that held (or was vacuous) and is now
//! violated is *worse*; a violation that turns vacuous is *vacuous* — the
//! patch removed what the property watches, not the race, and is not
//! counted as a fix.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};

use crate::check::report::Report;
use crate::check::trace::TraceStep;
use crate::check::{CheckOptions, check};
use crate::conformance::schedule_from_trace;
use crate::model::{Action, AuthModel};
use crate::present::diagram::sequence_mermaid;
use crate::scenario::properties::{PropertyId, PropertyKind, Verdict};
use crate::scenario::{Gate, Patch, Scenario};

/// How a variant's verdict compares with the baseline's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    Same,
    /// Violated before, holds now.
    Fixed,
    /// Held (or was vacuous) before, violated now.
    Worse,
    /// Violated before, vacuous now: the race's trigger is gone, not proved safe.
    Vacuous,
    /// A limit left one of the two undecided.
    Unknown,
}

impl Effect {
    pub fn of(before: Verdict, after: Verdict) -> Effect {
        use Verdict::*;
        match (before, after) {
            (Unknown, _) | (_, Unknown) => Effect::Unknown,
            (Violated, Holds) => Effect::Fixed,
            (Violated, Vacuous) => Effect::Vacuous,
            (Holds | Vacuous, Violated) => Effect::Worse,
            _ => Effect::Same,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Same => "same",
            Effect::Fixed => "fixed",
            Effect::Worse => "worse",
            Effect::Vacuous => "vacuous",
            Effect::Unknown => "unknown",
        }
    }
}

/// One checked variant of a scenario.
pub struct Variant {
    /// `unpatched`, a patch id, or `all`.
    pub label: String,
    pub patches: Vec<Patch>,
    pub report: Report,
}

/// A scenario under every variant; `variants[0]` is the baseline.
pub struct Table {
    pub path: PathBuf,
    pub scenario: Scenario,
    pub variants: Vec<Variant>,
}

impl Table {
    pub fn baseline(&self) -> &Variant {
        &self.variants[0]
    }

    /// The effect of variant `v` on property `id`.
    pub fn effect(&self, v: &Variant, id: PropertyId) -> Effect {
        Effect::of(
            self.baseline().report.property(id).verdict,
            v.report.property(id).verdict,
        )
    }

    /// Whether every variant was decided completely.
    pub fn complete(&self) -> bool {
        self.variants.iter().all(|v| v.report.complete)
    }

    /// Whether some variant makes some property worse.
    pub fn worse(&self) -> bool {
        self.variants.iter().any(|v| {
            PropertyId::ALL
                .iter()
                .any(|&id| self.effect(v, id) == Effect::Worse)
        })
    }
}

fn with_patches(s: &Scenario, patches: &[Patch]) -> Scenario {
    let mut s = s.clone();
    s.client.patches = patches.to_vec();
    s.expect.clear();
    s
}

/// Checks `scenario` unpatched, with each patch, and with all of them.
pub fn table(path: &Path, scenario: &Scenario, opts: &CheckOptions) -> Table {
    let mut sets: Vec<(String, Vec<Patch>)> = vec![("unpatched".to_string(), Vec::new())];
    for p in Patch::ALL {
        sets.push((p.id().to_string(), vec![p]));
    }
    sets.push(("all".to_string(), Patch::ALL.to_vec()));
    let variants = sets
        .into_iter()
        .map(|(label, patches)| {
            let s = with_patches(scenario, &patches);
            let report = check(path, &s, opts);
            Variant {
                label,
                patches,
                report,
            }
        })
        .collect();
    Table {
        path: path.to_path_buf(),
        scenario: scenario.clone(),
        variants,
    }
}

/// The table as text: a property × variant grid of verdicts, the effect
/// marked next to every verdict that differs from the baseline, then one
/// line per patch.
pub fn text(t: &Table) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", t.path.display(), t.scenario.name);
    let mut rows: Vec<Vec<String>> = vec![
        std::iter::once("property".to_string())
            .chain(t.variants.iter().map(|v| v.label.clone()))
            .collect(),
    ];
    for id in PropertyId::ALL {
        let mut row = vec![id.as_str().to_string()];
        for v in &t.variants {
            let verdict = v.report.property(id).verdict;
            let e = t.effect(v, id);
            row.push(if e == Effect::Same {
                verdict.as_str().to_string()
            } else {
                format!("{} ({})", verdict.as_str(), e.as_str())
            });
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "  {}", line.join("  ").trim_end());
    }
    for v in t.variants.iter().skip(1) {
        let _ = writeln!(out, "  {}: {}", v.label, summary(t, v));
    }
    if !t.complete() {
        let _ = writeln!(
            out,
            "  incomplete: a limit stopped at least one check; unknown verdicts are not compared"
        );
    }
    out
}

/// `fixes a, b; makes c worse` for one variant.
pub fn summary(t: &Table, v: &Variant) -> String {
    let of = |e: Effect| -> Vec<&'static str> {
        PropertyId::ALL
            .iter()
            .filter(|&&id| t.effect(v, id) == e)
            .map(|id| id.as_str())
            .collect()
    };
    let fixed = of(Effect::Fixed);
    let worse = of(Effect::Worse);
    let vacuous = of(Effect::Vacuous);
    let mut parts = Vec::new();
    parts.push(if fixed.is_empty() {
        "fixes nothing".to_string()
    } else {
        format!("fixes {}", fixed.join(", "))
    });
    if !vacuous.is_empty() {
        parts.push(format!("leaves vacuous (not fixed) {}", vacuous.join(", ")));
    }
    parts.push(if worse.is_empty() {
        "makes nothing worse".to_string()
    } else {
        format!("makes WORSE {}", worse.join(", "))
    });
    parts.join("; ")
}

/// The table as JSON (a public interface: fields may be added, never
/// renamed): `{"scenario": {"path","name"}, "complete", "variants":
/// [{"label","patches","complete","verdicts": {id: verdict},
/// "effects": {id: effect}}]}`.
pub fn json(t: &Table) -> Value {
    json!({
        "scenario": {"path": t.path.display().to_string(), "name": t.scenario.name},
        "complete": t.complete(),
        "variants": t.variants.iter().map(|v| json!({
            "label": v.label,
            "patches": v.patches.iter().map(|p| p.id()).collect::<Vec<_>>(),
            "complete": v.report.complete,
            "verdicts": PropertyId::ALL.iter().map(|&id| (id.as_str().to_string(), json!(v.report.property(id).verdict.as_str()))).collect::<serde_json::Map<_, _>>(),
            "effects": PropertyId::ALL.iter().map(|&id| (id.as_str().to_string(), json!(t.effect(v, id).as_str()))).collect::<serde_json::Map<_, _>>(),
        })).collect::<Vec<_>>(),
    })
}

/// The event a race needs, ranked by how often real apps meet it (first
/// load is the most common).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Trigger {
    FirstLoad,
    Reconnect,
    Refresh,
    SignOut,
    Switch,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::FirstLoad => "first load",
            Trigger::Reconnect => "reconnect",
            Trigger::Refresh => "token refresh, expiry or rejection",
            Trigger::SignOut => "sign-out",
            Trigger::Switch => "user switch",
        }
    }

    /// The rarest event a trace needs.
    pub fn of(steps: &[TraceStep]) -> Trigger {
        let mut t = Trigger::FirstLoad;
        let mut signed_out = false;
        for a in steps.iter().filter_map(|s| s.raw) {
            let here = match a {
                Action::NetworkDrops { .. } => Trigger::Reconnect,
                Action::TokenExpires { .. }
                | Action::ClientRefetchTimer
                | Action::ServerReceives { reject: true, .. } => Trigger::Refresh,
                Action::ProviderSignOut { switching: true } => Trigger::Switch,
                Action::ProviderSignOut { .. } | Action::ProviderSignOutSeen => {
                    signed_out = true;
                    Trigger::SignOut
                }
                Action::ProviderSignIn { .. } if signed_out => Trigger::Switch,
                _ => Trigger::FirstLoad,
            };
            t = t.max(here);
        }
        t
    }
}

/// The scenario files directly in `dir`, sorted.
fn toml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.extension().is_some_and(|x| x == "toml") {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// The leading `#` comment block of a scenario file, as prose.
fn header(text: &str) -> String {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The gates under which `id` is still violated when every component takes
/// that gate (the app's own gates first).
fn gates_passed(path: &Path, s: &Scenario, id: PropertyId) -> Vec<Gate> {
    Gate::ALL
        .into_iter()
        .filter(|&g| {
            if g == Gate::CurrentUser && !s.app.store_user {
                return false;
            }
            let mut v = with_patches(s, &[]);
            for c in &mut v.components {
                c.gate = toml::Spanned::new(c.gate.span(), g);
            }
            check(path, &v, &CheckOptions::default())
                .property(id)
                .verdict
                == Verdict::Violated
        })
        .collect()
}

/// Which modelled `convex` releases have the race: the finding's violated
/// properties checked under each release the scenario's keys allow.
fn versions_line(path: &Path, s: &Scenario, violated: &[PropertyId]) -> String {
    let releases: [(&str, &str); 3] = [
        ("1.20.0", "1.20.0"),
        ("1.42.0", "1.42.0"),
        ("1.48.0", "1.48.0 to 1.51.0"),
    ];
    let mut parts = Vec::new();
    for (version, label) in releases {
        let mut v = with_patches(s, &[]);
        v.client.version = Some(toml::Spanned::new(0..0, version.to_string()));
        if !v.client.unsupported().is_empty() {
            parts.push(format!(
                "{label}: not expressible (the app uses an option it lacks)"
            ));
            continue;
        }
        let r = check(path, &v, &CheckOptions::default());
        let still: Vec<&str> = violated
            .iter()
            .filter(|&&id| r.property(id).verdict == Verdict::Violated)
            .map(|id| id.as_str())
            .collect();
        parts.push(if still.is_empty() {
            format!("{label}: absent")
        } else {
            format!("{label}: present ({})", still.join(", "))
        });
    }
    format!(
        "Checked with `[client] version` (`docs/model.md`, \"Versions\"): {}.",
        parts.join("; ")
    )
}

const FINDINGS_HEADER: &str = "<!-- Generated by `authrace docs` from models/findings/; do not edit. `cargo test` fails when this file is stale. -->\n";

/// `docs/findings.md`: one section per race in `models/findings/` (each
/// file without `-patched`), ranked by the event it needs.
pub fn findings_markdown(root: &Path) -> Result<String, String> {
    let dir = root.join("models/findings");
    let mut files = toml_files(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    files.retain(|p| {
        !p.file_stem()
            .is_some_and(|s| s.to_string_lossy().ends_with("-patched"))
    });
    let mut sections = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(root).unwrap_or(f).to_path_buf();
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let s = Scenario::load(f).map_err(|e| e.to_string())?;
        let t = table(&rel, &s, &CheckOptions::default());
        let base = &t.baseline().report;
        let violated: Vec<PropertyId> = PropertyId::ALL
            .into_iter()
            .filter(|&id| base.property(id).verdict == Verdict::Violated)
            .collect();
        let Some(&first) = violated
            .iter()
            .find(|&&id| id.kind() == PropertyKind::Safety)
            .or(violated.first())
        else {
            return Err(format!(
                "{}: a finding violates nothing unpatched",
                rel.display()
            ));
        };
        let steps = base.property(first).steps.clone().unwrap_or_default();
        let trigger = Trigger::of(&steps);
        sections.push((trigger, rel, text, s, t, violated, first, steps));
    }
    sections.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));

    let mut out = String::from(FINDINGS_HEADER);
    out.push_str("# Findings: races in the real client, and the patches that remove them\n\n");
    out.push_str(
        "Each section is a race the model finds in `convex@1.48.0` with the app gated as the \
         docs advise, ranked by the event it needs (first load, reconnect, token refresh, \
         sign-out, user switch: the first are the most common). For each: what the user \
         sees, the shortest trace, the schedule that replays it on the real client \
         (`tests/conformance.rs`, see `docs/conformance.md`), the gates it passes through, \
         the proposed patch and the table proving, over every interleaving of the scenario, \
         what the patch removes and that it makes nothing worse (`authrace patches FILE`), \
         and a report ready to file. Every verdict here is recomputed by `cargo test`.\n\n",
    );
    for (i, (trigger, rel, text, s, t, violated, first, steps)) in sections.iter().enumerate() {
        let title = s.name.trim_start_matches("finding: ");
        let _ = writeln!(out, "## {}. {}\n", i + 1, capitalise(title));
        let _ = writeln!(
            out,
            "*Needs:* {}. *Scenario:* `{}`. *Violates:* {}.\n",
            trigger.as_str(),
            rel.display(),
            violated
                .iter()
                .map(|id| format!("`{}`", id.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(out, "{}\n", header(text));
        if let Some(about) = &s.about {
            let _ = writeln!(out, "The app: {about}\n");
        }
        let _ = writeln!(
            out,
            "### The shortest trace (`{}`)\n\n```mermaid\n{}```\n",
            first.as_str(),
            sequence_mermaid(steps)
        );
        let model = AuthModel::new(&with_patches(s, &[]));
        let actions: Vec<Action> = steps.iter().filter_map(|st| st.raw).collect();
        let schedule = schedule_from_trace(&model, &actions);
        let _ = writeln!(
            out,
            "### On the real client\n\nThe trace as a harness schedule (`node tests/conformance/run.mjs`): the real `convex@1.48.0` client driven step by step against the fake server. `tests/conformance.rs` (`findings_show_their_races_and_the_patches_remove_them`) replays it: the race shows on the unpatched client, the run is a model trace, and with the patch's diff applied to the package the race is gone.\n\n```json\n{}\n```\n",
            serde_json::to_string(&schedule).unwrap_or_default()
        );
        let _ = writeln!(out, "### Versions\n\n{}\n", versions_line(rel, s, violated));
        let gates = gates_passed(rel, s, *first);
        let _ = writeln!(
            out,
            "### Gates it passes through\n\n{}\n",
            if gates.is_empty() {
                "None: every gate closes it.".to_string()
            } else {
                format!(
                    "`{}` stays violated with every component gated {}.",
                    first.as_str(),
                    gates
                        .iter()
                        .map(|g| format!("`{}`", g.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        let fixes: Vec<&Variant> = t
            .variants
            .iter()
            .skip(1)
            .filter(|v| v.patches.len() == 1 && t.effect(v, *first) == Effect::Fixed)
            .collect();
        let _ = writeln!(out, "### The patch\n");
        if fixes.is_empty() {
            let _ = writeln!(out, "No single proposed patch fixes it.\n");
        }
        for v in &fixes {
            let p = v.patches[0];
            let _ = writeln!(out, "`{}`: {}\n", p.id(), p.about());
        }
        let _ = writeln!(
            out,
            "### Proof\n\nEvery property over every interleaving of the scenario, unpatched, with each patch and with all (`authrace patches {}`):\n",
            rel.display()
        );
        let mut head = String::from("| property |");
        let mut rule = String::from("|---|");
        for v in &t.variants {
            let _ = write!(head, " {} |", v.label);
            rule.push_str("---|");
        }
        let _ = writeln!(out, "{head}\n{rule}");
        for id in PropertyId::ALL {
            let _ = write!(out, "| `{}` |", id.as_str());
            for v in &t.variants {
                let verdict = v.report.property(id).verdict.as_str();
                let e = t.effect(v, id);
                if e == Effect::Same {
                    let _ = write!(out, " {verdict} |");
                } else {
                    let _ = write!(out, " **{verdict}** ({}) |", e.as_str());
                }
            }
            out.push('\n');
        }
        out.push('\n');
        for v in t.variants.iter().skip(1) {
            let _ = writeln!(out, "* `{}`: {}.", v.label, summary(t, v));
        }
        out.push('\n');
        let _ = writeln!(out, "### Report, ready to file\n");
        let patch = fixes.first().map(|v| v.patches[0]);
        let _ = writeln!(
            out,
            "> **Title:** {}\n>\n> **Reproduction:** `authrace check {}` prints the shortest interleaving (above); the schedule above replays it on `convex@1.48.0` with the conformance harness.\n>\n> **Expected:** {}.\n>\n> **Actual:** {}.\n>\n> **Proposed change:** {}\n",
            capitalise(title),
            rel.display(),
            violated
                .iter()
                .map(|id| id.statement())
                .collect::<Vec<_>>()
                .join("; "),
            steps.last().map(|st| st.action.clone()).unwrap_or_default(),
            patch.map_or("none yet".to_string(), |p| {
                let diff = format!("tests/conformance/patches/{}.diff", p.id());
                if root.join(&diff).exists() {
                    format!("{} The diff against the package: `{diff}`.", p.about())
                } else {
                    p.about().to_string()
                }
            })
        );
    }
    out.push_str(&versions_section(root)?);
    Ok(out)
}

/// The races that depend on the release: `models/versions/`, each app
/// checked as one release, side by side.
fn versions_section(root: &Path) -> Result<String, String> {
    let Ok(files) = toml_files(&root.join("models/versions")) else {
        return Ok(String::new());
    };
    let mut out = String::from(
        "## Races by release\n\nThe findings above are checked against three modelled releases (`[client] version`): 1.20.0 (before 1.21.0's \"fix auth races for react native\"), 1.42.0 (before `initialAuthTokenReuse` and Clerk's session-keyed fetcher) and 1.48.0, whose auth code 1.49.0 to 1.51.0 keep unchanged. The apps of `models/versions/` show what the release alone changes (same app, one release each):\n\n| scenario | release | violated |\n|---|---|---|\n",
    );
    for f in files {
        let rel = f.strip_prefix(root).unwrap_or(&f).to_path_buf();
        let s = Scenario::load(&f).map_err(|e| e.to_string())?;
        let r = check(&rel, &s, &CheckOptions::default());
        let violated: Vec<String> = PropertyId::ALL
            .into_iter()
            .filter(|&id| r.property(id).verdict == Verdict::Violated)
            .map(|id| format!("`{}`", id.as_str()))
            .collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            rel.display(),
            s.client
                .version
                .as_ref()
                .map_or("1.48.0", |v| v.get_ref().as_str()),
            if violated.is_empty() {
                "none".to_string()
            } else {
                violated.join(", ")
            }
        );
    }
    out.push('\n');
    Ok(out)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
