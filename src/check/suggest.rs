//! Fix suggestions (`authrace check --suggest`).
//!
//! For a scenario with violated safety properties, re-check it with each
//! stronger gate for the components the counterexamples involve, and with
//! `expectAuth`; report the changes after which no property is violated,
//! smallest change first. Only what was checked is suggested.

use std::path::Path;

use toml::Spanned;

use super::report::{Change, Report, Suggestion, Suggestions};
use super::{CheckOptions, check};
use crate::scenario::properties::{PropertyKind, Verdict};
use crate::scenario::{Gate, Scenario};

/// Gates considered stronger than `g`, weakest first.
pub fn stronger(g: Gate) -> impl Iterator<Item = Gate> {
    Gate::ALL.into_iter().skip_while(move |x| *x != g).skip(1)
}

/// The components a report's violations involve: those named in a violating
/// trace, or querying a function named there; all of them if none is.
fn involved(scenario: &Scenario, report: &Report) -> Vec<usize> {
    let texts: Vec<String> = report
        .properties
        .iter()
        .filter(|p| p.verdict == Verdict::Violated && p.kind == PropertyKind::Safety)
        .filter_map(|p| p.steps.as_ref())
        .flat_map(|steps| {
            steps.iter().flat_map(|s| {
                std::iter::once(s.action.clone()).chain(s.events.iter().map(|e| e.text.clone()))
            })
        })
        .collect();
    let hit: Vec<usize> = scenario
        .components
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            texts.iter().any(|t| {
                t.contains(c.name.get_ref().as_str()) || t.contains(c.query.get_ref().as_str())
            })
        })
        .map(|(i, _)| i)
        .collect();
    if hit.is_empty() {
        (0..scenario.components.len()).collect()
    } else {
        hit
    }
}

/// Re-checks `scenario` under candidate changes; `None` when nothing is violated.
pub fn suggest(
    path: &Path,
    scenario: &Scenario,
    report: &Report,
    opts: &CheckOptions,
) -> Option<Suggestions> {
    let violated = report
        .properties
        .iter()
        .any(|p| p.verdict == Verdict::Violated && p.kind == PropertyKind::Safety);
    if !violated {
        return None;
    }
    let mut singles = Vec::new();
    for i in involved(scenario, report) {
        let c = &scenario.components[i];
        let from = *c.gate.get_ref();
        for to in stronger(from) {
            singles.push(Change::Gate {
                component: c.name.get_ref().clone(),
                from,
                to,
            });
        }
    }
    if !scenario.client.expect_auth {
        singles.push(Change::ExpectAuth);
    }
    let mut checked = 0;
    let mut try_set = |changes: &[Change]| -> Option<Suggestion> {
        let mut s = scenario.clone();
        s.expect.clear();
        for c in changes {
            apply(c, &mut s);
        }
        checked += 1;
        let r = check(path, &s, opts);
        let bad = r
            .properties
            .iter()
            .any(|p| matches!(p.verdict, Verdict::Violated | Verdict::Unknown));
        (!bad).then(|| Suggestion {
            changes: changes.to_vec(),
            not_holding: r
                .properties
                .iter()
                .filter(|p| p.verdict != Verdict::Holds)
                .map(|p| (p.id.as_str().to_string(), p.verdict))
                .collect(),
        })
    };
    let mut fixes: Vec<Suggestion> = singles
        .iter()
        .filter_map(|c| try_set(std::slice::from_ref(c)))
        .collect();
    if fixes.is_empty() {
        for (i, a) in singles.iter().enumerate() {
            for b in &singles[i + 1..] {
                let same_component = matches!((a, b), (Change::Gate { component: x, .. }, Change::Gate { component: y, .. }) if x == y);
                if same_component {
                    continue;
                }
                if let Some(s) = try_set(&[a.clone(), b.clone()]) {
                    fixes.push(s);
                }
            }
        }
    }
    Some(Suggestions { checked, fixes })
}

/// Applies a change to a scenario.
fn apply(change: &Change, s: &mut Scenario) {
    match change {
        Change::Gate { component, to, .. } => {
            if let Some(c) = s
                .components
                .iter_mut()
                .find(|c| c.name.get_ref() == component)
            {
                c.gate = Spanned::new(0..0, *to);
            }
            if *to == Gate::CurrentUser {
                s.app.store_user = true;
            }
        }
        Change::ExpectAuth => s.client.expect_auth = true,
    }
}
