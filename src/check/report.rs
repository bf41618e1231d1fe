//! Check reports: the JSON form (a public interface) and the text form.
//!
//! JSON fields named in the contract — `scenario{path,name,hash}`,
//! `complete`, `stats{states,unique_states,max_depth,elapsed_ms}`,
//! `properties[{id,kind,verdict,expected,trace}]` — are never renamed;
//! fields may be added.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::trace::TraceStep;
use crate::scenario::Gate;
use crate::scenario::properties::{PropertyId, PropertyKind, Verdict};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScenarioInfo {
    pub path: String,
    pub name: String,
    pub hash: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Stats {
    /// Transitions explored, plus the initial state (states generated, with
    /// repeats).
    pub states: usize,
    /// Distinct states explored.
    pub unique_states: usize,
    pub max_depth: usize,
    pub elapsed_ms: u64,
    /// Nodes and edges of the state graph (0 for a bounded search).
    pub graph_states: usize,
    pub graph_edges: usize,
    /// The process's peak resident memory so far, in bytes (Linux), when
    /// the report was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_memory: Option<u64>,
}

/// A trace step as the JSON report carries it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct JsonStep {
    pub step: usize,
    pub actor: String,
    pub action: String,
}

fn json_steps(steps: &[TraceStep]) -> Vec<JsonStep> {
    steps
        .iter()
        .map(|t| JsonStep {
            step: t.step,
            actor: t.actor.clone(),
            action: t.action.clone(),
        })
        .collect()
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PropertyReport {
    pub id: PropertyId,
    pub kind: PropertyKind,
    pub verdict: Verdict,
    pub expected: Option<Verdict>,
    pub trace: Option<Vec<JsonStep>>,
    /// Why the verdict is what it is (vacuity, limits, a liveness explanation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Liveness that holds (is recoverable): whether it is also inevitable,
    /// i.e. every weakly fair run of progress steps reaches the goal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inevitable: Option<bool>,
    /// When not inevitable: a path into a weakly fair cycle of progress
    /// steps that never reaches the goal (the steps marked `(cycle)` repeat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle: Option<Vec<JsonStep>>,
    #[serde(skip)]
    pub steps: Option<Vec<TraceStep>>,
    #[serde(skip)]
    pub cycle_steps: Option<Vec<TraceStep>>,
    /// For a property that holds, with `CheckOptions::witnesses`: a
    /// shortest run that exercises it.
    #[serde(skip)]
    pub witness: Option<Vec<TraceStep>>,
}

impl PropertyReport {
    pub fn new(
        id: PropertyId,
        verdict: Verdict,
        expected: Option<Verdict>,
        steps: Option<Vec<TraceStep>>,
        reason: Option<String>,
    ) -> PropertyReport {
        PropertyReport {
            id,
            kind: id.kind(),
            verdict,
            expected,
            trace: steps.as_deref().map(json_steps),
            reason,
            inevitable: None,
            cycle: None,
            steps,
            cycle_steps: None,
            witness: None,
        }
    }

    /// Records a witness of a property that holds.
    pub fn with_witness(mut self, witness: Option<Vec<TraceStep>>) -> PropertyReport {
        self.witness = witness;
        self
    }

    /// Records whether a liveness property that holds is also inevitable.
    pub fn with_inevitability(mut self, cycle: Option<Vec<TraceStep>>) -> PropertyReport {
        self.inevitable = Some(cycle.is_none());
        self.cycle = cycle.as_deref().map(json_steps);
        self.cycle_steps = cycle;
        self
    }

    /// The verdict differs from the scenario's `[expect]`.
    pub fn mismatch(&self) -> bool {
        self.expected.is_some_and(|e| e != self.verdict)
    }

    /// A decided verdict that differs from `[expect]` (an `unknown` verdict
    /// is a limit, not a disagreement).
    pub fn decided_mismatch(&self) -> bool {
        self.verdict != Verdict::Unknown && self.mismatch()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub scenario: ScenarioInfo,
    pub complete: bool,
    pub stats: Stats,
    pub properties: Vec<PropertyReport>,
    /// Paths where the real client throws and the model stops (see `Anomaly`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<String>,
    /// Fix suggestions (`check --suggest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<Suggestions>,
    /// Present for a bounded search (`check --bitstate`): what it covered.
    /// Such a report proves nothing; its violations are real runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounded: Option<super::bitstate::Coverage>,
    /// Present when the memory limit stopped the exploration: how far it
    /// got, what the rest would need, and a bounded search that fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beyond_memory: Option<BeyondMemory>,
}

/// What a check the memory limit stopped says about the rest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BeyondMemory {
    /// The limit, in bytes.
    pub max_memory: u64,
    /// States found.
    pub states: usize,
    /// Peak resident memory per state found.
    pub bytes_per_state: u64,
    /// States per breadth-first level, for the last levels found whole
    /// (at most 8, the deepest last).
    pub last_levels: Vec<usize>,
    /// The last whole level's size over the one before it.
    pub growth: Option<f64>,
    /// While the levels grow: the memory the states found and one more
    /// level at this growth would take, at the bytes per state measured.
    /// A lower estimate of what the whole check needs (the levels after it
    /// are not counted).
    pub needs_at_least: Option<u64>,
    /// An extrapolation, not a bound: the states of the whole graph if the
    /// growth per level keeps slowing as it did over the last levels until
    /// the levels stop growing, and the levels then shrink as they grew.
    /// Absent while the growth is not slowing (or the levels shrink).
    pub estimated_states: Option<usize>,
    /// `estimated_states` at the bytes per state measured.
    pub estimated_memory: Option<u64>,
    /// A bounded search that fits under the limit: the `--bitstate` size
    /// (a power of two, at most half the limit).
    pub bitstate: String,
}

/// The extrapolation of [`BeyondMemory::estimated_states`] from the levels
/// found whole: `None` unless the last three growth factors are above 1 and
/// falling by at least 0.02 per level (slower, the peak is too far
/// to guess).
fn extrapolate(levels: &[usize], states: usize) -> Option<usize> {
    const SLOWING: f64 = 0.02;
    let [.., a, b, c, d] = levels else {
        return None;
    };
    if *a == 0 || *b == 0 || *c == 0 {
        return None;
    }
    let g = [
        *b as f64 / *a as f64,
        *c as f64 / *b as f64,
        *d as f64 / *c as f64,
    ];
    let slowing = (g[0] - g[2]) / 2.0;
    if g[2] <= 1.0 || slowing < SLOWING {
        return None;
    }
    // The levels still to grow.
    let (mut growth, mut level, mut rising) = (g[2], *d as f64, 0.0);
    let mut peak = level;
    while growth - slowing > 1.0 && rising < 1e12 {
        growth -= slowing;
        level *= growth;
        rising += level;
        peak = level;
    }
    // Falling as they rose: the states up to the peak again, less the peak.
    // (The level being found when the build stopped is the first projected
    // one; the estimate is never below the states found.)
    let up_to_peak = levels.iter().sum::<usize>() as f64 + rising;
    Some(((2.0 * up_to_peak - peak) as usize).max(states))
}

impl BeyondMemory {
    /// From the levels found whole so far (`levels`, all of them), the
    /// states found and the memory they hold.
    pub fn project(max_memory: u64, levels: &[usize], states: usize, memory: u64) -> BeyondMemory {
        let bytes_per_state = memory / states.max(1) as u64;
        let growth = match levels {
            [.., a, b] if *a > 0 => Some(*b as f64 / *a as f64),
            _ => None,
        };
        let needs_at_least = match (growth, levels.last()) {
            (Some(g), Some(&last)) if g > 1.0 => {
                let next = (last as f64 * g) as u64;
                Some((states as u64 + next) * bytes_per_state)
            }
            _ => None,
        };
        let estimated_states = extrapolate(levels, states);
        let estimated_memory = estimated_states.map(|n| n as u64 * bytes_per_state);
        let mut size: u64 = 1 << 20;
        while size * 4 <= max_memory {
            size *= 2;
        }
        let bitstate = if size >= 1 << 30 {
            format!("{}GiB", size >> 30)
        } else {
            format!("{}MiB", size >> 20)
        };
        BeyondMemory {
            max_memory,
            states,
            bytes_per_state,
            last_levels: levels[levels.len().saturating_sub(8)..].to_vec(),
            growth,
            needs_at_least,
            estimated_states,
            estimated_memory,
            bitstate,
        }
    }

    /// Whether the whole graph will likely not fit under the limit: the
    /// next level alone does not, or the extrapolation does not.
    pub fn likely_does_not_fit(&self) -> bool {
        let over = |b: Option<u64>| b.is_some_and(|b| b > self.max_memory);
        over(self.needs_at_least) || over(self.estimated_memory)
    }
}

/// The exit status a report calls for (see the README's exit codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Every verdict as expected (no `[expect]`: nothing violated).
    Ok = 0,
    /// A property violated, or a verdict differs from `[expect]`.
    Failed = 1,
    /// A limit stopped the check before everything was decided.
    Incomplete = 3,
}

impl Report {
    pub fn outcome(&self) -> Outcome {
        let has_expect = self.properties.iter().any(|p| p.expected.is_some());
        let failed = if has_expect {
            self.properties.iter().any(|p| p.decided_mismatch())
        } else {
            self.properties
                .iter()
                .any(|p| p.verdict == Verdict::Violated)
        };
        if failed {
            Outcome::Failed
        } else if self
            .properties
            .iter()
            .any(|p| p.verdict == Verdict::Unknown && p.expected != Some(Verdict::Unknown))
        {
            Outcome::Incomplete
        } else {
            Outcome::Ok
        }
    }

    pub fn property(&self, id: PropertyId) -> &PropertyReport {
        self.properties
            .iter()
            .find(|p| p.id == id)
            .expect("every report covers every property")
    }
}

/// One change to a scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    /// Give a component a different gate (`current-user` also turns on
    /// `store_user`, which that gate needs).
    Gate {
        component: String,
        from: Gate,
        to: Gate,
    },
    /// Construct the client with `expectAuth: true`.
    ExpectAuth,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Gate {
                component,
                from,
                to,
            } => {
                write!(f, "{component}: gate {} -> {}", from.as_str(), to.as_str())?;
                if *to == Gate::CurrentUser {
                    write!(f, " (with [app] store_user = true)")?;
                }
                Ok(())
            }
            Change::ExpectAuth => write!(f, "[client] expect_auth = true"),
        }
    }
}

/// A set of changes after which no property is violated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub changes: Vec<Change>,
    /// Properties that are vacuous after the changes (listed so nothing is
    /// hidden; every other property holds).
    pub not_holding: Vec<(String, Verdict)>,
}

impl fmt::Display for Suggestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let changes: Vec<String> = self.changes.iter().map(|c| c.to_string()).collect();
        write!(
            f,
            "{} make{} all properties hold",
            changes.join(" + "),
            if self.changes.len() == 1 { "s" } else { "" }
        )?;
        if !self.not_holding.is_empty() {
            let rest: Vec<&str> = self.not_holding.iter().map(|(p, _)| p.as_str()).collect();
            write!(f, " (vacuous: {})", rest.join(", "))?;
        }
        Ok(())
    }
}

/// What `--suggest` found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestions {
    /// Variants checked.
    pub checked: usize,
    pub fixes: Vec<Suggestion>,
}
