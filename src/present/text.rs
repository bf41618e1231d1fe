//! Text renderings: reports, suggestions and traces as `check` prints them.

use crate::check::human_bytes;
use crate::check::report::{BeyondMemory, Report, Suggestions};
use crate::check::trace::TraceStep;
use crate::scenario::properties::PropertyKind;

/// A trace as numbered text lines.
pub fn trace(steps: &[TraceStep], indent: &str) -> String {
    let width = steps.iter().map(|s| s.actor.len()).max().unwrap_or(0);
    let mut out = String::new();
    for s in steps {
        out.push_str(&format!(
            "{indent}{:>3}. {:width$}  {}\n",
            s.step,
            s.actor,
            s.action,
            width = width
        ));
    }
    out
}

/// `safety` or `liveness`.
pub fn kind(k: PropertyKind) -> &'static str {
    match k {
        PropertyKind::Safety => "safety",
        PropertyKind::Liveness => "liveness",
    }
}

/// The text form of a report: verdicts, each violation's trace, then the
/// statistics.
pub fn report(r: &Report) -> String {
    let mut out = format!("{} ({})\n", r.scenario.name, r.scenario.path);
    if let Some(b) = &r.bounded {
        out.push_str(&format!(
            "  BOUNDED SEARCH, NOT A PROOF: {} search{} over a {}-bit array ({} hash functions): {} states stored, {:.0} bits per state, about {:.1} states missed by hash collisions{}\n",
            b.searches,
            if b.searches == 1 { "" } else { "es" },
            b.bits,
            b.hash_functions,
            b.states,
            b.hash_factor,
            b.expected_omissions,
            if b.exhausted { "" } else { "; stopped by a limit" }
        ));
    }
    for p in &r.properties {
        let expect = match p.expected {
            Some(e) if e == p.verdict => " (as expected)".to_string(),
            Some(e) => format!(" (EXPECTED {e})"),
            None => String::new(),
        };
        out.push_str(&format!(
            "  {:<26} {:<9} {}{}\n",
            p.id.as_str(),
            kind(p.kind),
            p.verdict,
            expect
        ));
        if let Some(reason) = &p.reason {
            out.push_str(&format!("      {reason}\n"));
        }
        if let Some(steps) = &p.steps {
            out.push_str(&trace(steps, "    "));
        }
        if let Some(steps) = &p.cycle_steps {
            out.push_str(&trace(steps, "    "));
        }
    }
    for a in &r.anomalies {
        out.push_str(&format!("  note: {a}\n"));
    }
    if let Some(s) = &r.suggestions {
        out.push_str(&suggestions(s));
    }
    if let Some(b) = &r.beyond_memory {
        out.push_str(&beyond_memory(b));
    }
    out.push_str(&format!(
        "  states {} / unique {} / depth {} / {} ms{}\n",
        r.stats.states,
        r.stats.unique_states,
        r.stats.max_depth,
        r.stats.elapsed_ms,
        if r.complete { "" } else { " / INCOMPLETE" }
    ));
    out
}

/// What a check the memory limit stopped says about the rest, as text.
pub fn beyond_memory(b: &BeyondMemory) -> String {
    let levels: Vec<String> = b.last_levels.iter().map(|n| n.to_string()).collect();
    let trend = match (b.growth, b.needs_at_least) {
        (Some(g), Some(need)) => format!(
            " ({g:.2}x per level): still growing, so the whole check needs more than {}",
            human_bytes(need)
        ),
        (Some(g), None) => format!(" ({g:.2}x per level): no longer growing"),
        _ => String::new(),
    };
    let estimate = match (b.estimated_states, b.estimated_memory) {
        (Some(n), Some(m)) => format!(
            "; extrapolated (the growth slowing as it did, then the levels shrinking as they grew), about {n} states and {} in all",
            human_bytes(m)
        ),
        _ => String::new(),
    };
    format!(
        "  beyond memory: --max-memory {} stopped the exploration at {} states ({} bytes each at the peak); states per level, last levels found whole: {}{}{}\n  a bounded search goes beyond memory (its violations are real runs; it proves nothing): --bitstate {}\n",
        human_bytes(b.max_memory),
        b.states,
        b.bytes_per_state,
        levels.join(", "),
        trend,
        estimate,
        b.bitstate
    )
}

/// What `--suggest` found, as text.
pub fn suggestions(s: &Suggestions) -> String {
    let mut out = String::from("  suggestions:\n");
    if s.fixes.is_empty() {
        out.push_str(&format!(
            "    nothing in reach fixes it: no stronger gate for the components involved, no expectAuth, and no pair of those changes leaves every property unviolated ({} variants checked)\n",
            s.checked
        ));
    } else {
        for f in &s.fixes {
            out.push_str(&format!("    {f}\n"));
        }
        out.push_str(&format!("    ({} variants checked)\n", s.checked));
    }
    out
}
