//! Report formats: text as compilers print diagnostics
//! (`path:line:col: warning[property/trigger]: ...`, then `= note:` and
//! `= help:` lines), JSON with a stable documented shape (`docs/scan.md`),
//! and SARIF 2.1.0 for code-scanning upload; and the derived scenarios as
//! TOML files with comments citing the call sites.

use serde_json::{Value, json};

use super::derive::{Risk, ScanReport};
use super::{AuthClass, CallSite};
use crate::present::text::trace as render_trace;
use crate::scenario::properties::PropertyId;

fn api(f: &Option<String>) -> String {
    match f {
        Some(n) => format!("api.{}", n.replace([':', '/'], ".")),
        None => "an unknown function".to_string(),
    }
}

fn what(p: PropertyId) -> &'static str {
    match p {
        PropertyId::QueryRunsAuthenticated => "can run before the client is authenticated",
        PropertyId::UserRowReady => "can run before the user's row exists",
        PropertyId::NoStaleIdentity => "can run or show a result as a user who has signed out",
        PropertyId::StableAuth => "sees isAuthenticated go true -> false while signed in",
        _ => "is at risk",
    }
}

fn auth_phrase(site: &CallSite) -> String {
    match site.auth {
        AuthClass::Required => format!("the function {}", site.auth_why),
        AuthClass::UserRow => format!("the function {}", site.auth_why),
        AuthClass::Optional => format!("the function {}", site.auth_why),
        AuthClass::None => "the function never reads the identity".to_string(),
        AuthClass::Unknown => format!(
            "the function's auth is unknown ({}), checked as required",
            site.auth_why
        ),
    }
}

/// One diagnostic line per call site and risk.
pub fn diagnostic(r: &ScanReport, i: usize, risk: &Risk) -> String {
    let s = &r.analysis.sites[i];
    format!(
        "{}:{}:{}: warning[{}/{}]: {}",
        s.file,
        s.line,
        s.column,
        risk.property,
        risk.trigger.as_str(),
        message(r, i, risk)
    )
}

/// The diagnostic's message (without the location and code).
pub fn message(r: &ScanReport, i: usize, risk: &Risk) -> String {
    let s = &r.analysis.sites[i];
    let fix = match &risk.fix {
        Some(f) => format!("checked fix: {}", f.describe()),
        None => "no stronger gate nor expectAuth removes it (checked)".to_string(),
    };
    format!(
        "{}({}) {}; {}; gate found: {}; {}",
        s.hook,
        api(&s.function),
        what(risk.property),
        auth_phrase(s),
        s.gate.label(),
        fix
    )
}

/// The text report; `explain` adds the shortest trace of each risk.
pub fn text(r: &ScanReport, explain: bool) -> String {
    text_with(r, explain, true)
}

/// The text report, with or without timings (the pinned fixture reports have none).
pub fn text_with(r: &ScanReport, explain: bool, timings: bool) -> String {
    let a = &r.analysis;
    let mut out = String::new();
    for (i, risks) in r.risks.iter().enumerate() {
        let s = &a.sites[i];
        for risk in risks {
            out.push_str(&diagnostic(r, i, risk));
            out.push('\n');
            out.push_str(&format!(
                "  = note: gate: {} ({})\n",
                s.gate.label(),
                s.gate_why
            ));
            if let Some(v) = &s.via {
                out.push_str(&format!("  = note: through {v}\n"));
            }
            if explain {
                out.push_str(&render_trace(&risk.trace, "    "));
            }
        }
    }
    for f in &r.app_findings {
        out.push_str(&format!(
            "warning[{}/{}]: the client itself, whatever the gates: {}\n",
            f.property,
            f.trigger.as_str(),
            f.what
        ));
        if explain {
            out.push_str(&render_trace(&f.trace, "    "));
        }
    }
    for o in &a.outside {
        out.push_str(&format!(
            "{}:{}:{}: note: {}({}) runs on the server with its own token: outside the client model\n",
            o.file,
            o.line,
            o.column,
            o.call,
            api(&o.function)
        ));
    }
    for s in &a.skipped {
        out.push_str(&format!(
            "{}: note: skipped: {}\n",
            if s.file.is_empty() { "." } else { &s.file },
            s.reason
        ));
    }
    out.push_str(&summary_text(r, timings));
    out
}

fn by_gate(r: &ScanReport) -> Vec<(String, usize)> {
    let mut m: std::collections::BTreeMap<String, usize> = Default::default();
    for s in &r.analysis.sites {
        *m.entry(s.gate.label()).or_default() += 1;
    }
    m.into_iter().collect()
}

fn at_risk_by_trigger(r: &ScanReport) -> Vec<(String, usize)> {
    r.triggers
        .iter()
        .map(|t| {
            let n = r
                .risks
                .iter()
                .filter(|rs| rs.iter().any(|x| x.trigger == *t))
                .count();
            (t.as_str().to_string(), n)
        })
        .collect()
}

pub fn summary_text(r: &ScanReport, timings: bool) -> String {
    let a = &r.analysis;
    let c = &a.client;
    let mut out = String::new();
    out.push_str(&format!(
        "summary: {} files read{} ({} skipped); {} functions in {}/{}; provider {}{}{}; users rows {}\n",
        a.files,
        if timings { format!(" in {} ms", a.read_time.as_millis()) } else { String::new() },
        a.skipped.len(),
        a.functions.len(),
        a.functions_dir,
        if a.functions_dir_found { "" } else { " (not found)" },
        c.kind.as_str(),
        if c.ssr_token { " with a server token" } else { "" },
        if c.expect_auth { ", expectAuth" } else { "" },
        c.user_rows.as_str()
    ));
    for n in &c.notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    let gates: Vec<String> = by_gate(r)
        .into_iter()
        .map(|(g, n)| format!("{g} {n}"))
        .collect();
    out.push_str(&format!(
        "  call sites: {} (by gate: {})\n",
        a.sites.len(),
        gates.join(", ")
    ));
    let risk: Vec<String> = at_risk_by_trigger(r)
        .into_iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    out.push_str(&format!("  at risk by trigger: {}\n", risk.join(", ")));
    let unknown_gate = a
        .sites
        .iter()
        .filter(|s| s.gate.label() == "unknown")
        .count();
    let unknown_auth = a
        .sites
        .iter()
        .filter(|s| s.auth == AuthClass::Unknown)
        .count();
    out.push_str(&format!(
        "  unknown: {unknown_gate} gates (checked as none), {unknown_auth} functions (checked as required)\n"
    ));
    out.push_str(&format!(
        "  {} findings; {} scenarios checked{}\n",
        r.findings(),
        r.checks,
        if timings {
            format!(" in {} ms", r.check_time.as_millis())
        } else {
            String::new()
        }
    ));
    for i in &r.incomplete {
        out.push_str(&format!("  incomplete: {i}\n"));
    }
    out
}

/// The JSON report (a public interface: `docs/scan.md`).
pub fn json(r: &ScanReport) -> Value {
    let a = &r.analysis;
    let c = &a.client;
    let call_sites: Vec<Value> = a
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "file": s.file,
                "line": s.line,
                "column": s.column,
                "hook": s.hook,
                "function": s.function,
                "auth": s.auth,
                "gate": s.gate.label(),
                "gate_why": s.gate_why,
                "risks": r.risks[i].iter().map(|k| json!({
                    "trigger": k.trigger,
                    "property": k.property,
                    "trace_steps": k.trace.len(),
                })).collect::<Vec<_>>(),
                "fix": r.fixes[i].as_ref().map(|f| f.describe()),
            })
        })
        .collect();
    json!({
        "root": a.root.display().to_string(),
        "provider": {
            "kind": c.kind.as_str(),
            "element": c.element,
            "file": c.at.as_ref().map(|x| x.file.clone()),
            "line": c.at.as_ref().map(|x| x.line),
            "ssr_token": c.ssr_token,
            "expect_auth": c.expect_auth,
            "store_user": c.store_user,
            "user_rows": c.user_rows.as_str(),
        },
        "functions": a.functions.iter().map(|f| json!({
            "name": f.name,
            "file": f.file,
            "line": f.line,
            "auth": f.auth,
            "why": f.why,
        })).collect::<Vec<_>>(),
        "call_sites": call_sites,
        "summary": {
            "files": a.files,
            "skipped": a.skipped,
            "call_sites": a.sites.len(),
            "by_gate": by_gate(r).into_iter().map(|(g, n)| (g, json!(n))).collect::<serde_json::Map<_, _>>(),
            "at_risk_by_trigger": at_risk_by_trigger(r).into_iter().map(|(t, n)| (t, json!(n))).collect::<serde_json::Map<_, _>>(),
            "unknown_gates": a.sites.iter().filter(|s| s.gate.label() == "unknown").count(),
            "unknown_functions": a.sites.iter().filter(|s| s.auth == AuthClass::Unknown).count(),
            "findings": r.findings(),
            "app_findings": r.app_findings.iter().map(|f| json!({
                "trigger": f.trigger, "property": f.property, "what": f.what,
            })).collect::<Vec<_>>(),
            "outside_model": a.outside,
            "scenarios_checked": r.checks,
            "incomplete": r.incomplete,
            "read_ms": a.read_time.as_millis() as u64,
            "check_ms": r.check_time.as_millis() as u64,
        },
    })
}

/// The SARIF 2.1.0 log.
pub fn sarif(r: &ScanReport) -> Value {
    let a = &r.analysis;
    let mut rules: Vec<Value> = Vec::new();
    let mut rule_ids: Vec<String> = Vec::new();
    let mut results = Vec::new();
    for (i, risks) in r.risks.iter().enumerate() {
        let s = &a.sites[i];
        for risk in risks {
            let id = format!("{}/{}", risk.property, risk.trigger.as_str());
            if !rule_ids.contains(&id) {
                rule_ids.push(id.clone());
                rules.push(json!({
                    "id": id,
                    "name": risk.property.as_str(),
                    "shortDescription": { "text": format!("A query {} ({})", what(risk.property), risk.trigger.as_str()) },
                    "helpUri": "https://github.com/authrace/authrace/blob/main/docs/scan.md",
                }));
            }
            results.push(json!({
                "ruleId": id,
                "ruleIndex": rule_ids.iter().position(|x| *x == id).unwrap_or(0),
                "level": "warning",
                "message": { "text": message(r, i, risk) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri_path(&s.file), "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": s.line, "startColumn": s.column },
                    }
                }],
            }));
        }
    }
    json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "authrace",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/authrace/authrace",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// A relative file path as a URI reference (RFC 3986): `/` separates
/// segments; bytes outside the unreserved set and the sub-delimiters are
/// percent-encoded (`app/[id]/page.tsx` → `app/%5Bid%5D/page.tsx`), and so
/// is `:` so that a first segment never reads as a scheme.
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The derived scenarios as TOML files: `(file name, text)`.
pub fn scenarios(r: &ScanReport) -> Vec<(String, String)> {
    let a = &r.analysis;
    r.derived
        .iter()
        .map(|d| {
            let mut text = String::new();
            text.push_str(&format!(
                "# Derived by `authrace scan` from {}\n",
                a.root.display()
            ));
            text.push_str(&format!("# trigger: {}\n", d.trigger.as_str()));
            text.push_str(&format!(
                "# provider: {}{}{}\n",
                a.client.kind.as_str(),
                a.client
                    .at
                    .as_ref()
                    .map(|x| format!(" ({}:{})", x.file, x.line))
                    .unwrap_or_default(),
                a.client
                    .ssr_why
                    .as_ref()
                    .map(|w| format!("; server token: {w}"))
                    .unwrap_or_default()
            ));
            if let Some(e) = &a.client.expect_auth_at {
                text.push_str(&format!("# expectAuth: {}:{}\n", e.file, e.line));
            }
            if let Some(w) = &a.client.store_user_why {
                text.push_str(&format!("# store_user: {w}\n"));
            }
            text.push_str(&format!(
                "# users rows: {} ({})\n",
                a.client.user_rows.as_str(),
                a.client.user_rows_why
            ));
            text.push_str(&format!(
                "# `{}` stands for every call site below (same auth class and gate):\n",
                super::derive::FN
            ));
            for i in &d.sites {
                let s = &a.sites[*i];
                text.push_str(&format!(
                    "#   {}:{}:{} {}({}): auth {} ({}); gate {} ({})\n",
                    s.file,
                    s.line,
                    s.column,
                    s.hook,
                    api(&s.function),
                    s.auth.as_str(),
                    s.auth_why,
                    s.gate.label(),
                    s.gate_why
                ));
            }
            text.push_str(&toml::to_string(&d.scenario).unwrap_or_default());
            let name = format!(
                "{}-{}-{}{}.toml",
                auth_slug(&d.scenario),
                d.class.gate.as_str(),
                d.trigger.as_str(),
                if d.class.expect_auth {
                    "-expect-auth"
                } else {
                    ""
                }
            );
            (name, text)
        })
        .collect()
}

fn auth_slug(s: &crate::scenario::Scenario) -> &'static str {
    use crate::scenario::AuthReq;
    match s.functions.first().map(|f| f.auth) {
        Some(AuthReq::Required) => "required",
        Some(AuthReq::UserRow) => "user-row",
        Some(AuthReq::Optional) => "optional",
        _ => "none",
    }
}
