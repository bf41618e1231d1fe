//! Generated artefacts in docs/ are fresh, and the diagram commands draw
//! what the model says.

use authrace::check::liveness::{Limits, StateGraph};
use authrace::model::AuthModel;
use authrace::present::diagram::{DiagramActor, Machine};

use crate::common::{load, root};

#[test]
fn generated_docs_are_fresh() {
    let files = authrace::present::docs::generate(&root()).expect("docs generate");
    let mut stale = Vec::new();
    for g in files {
        let on_disk = std::fs::read_to_string(root().join(&g.path)).unwrap_or_default();
        if on_disk != g.text {
            stale.push(g.path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files (run `cargo run --release -- docs`): {stale:?}"
    );
}

#[test]
fn seed_sequence_diagram_marks_the_query_before_authenticate() {
    let s = load("models/seed-better-auth-ungated.toml");
    let r = crate::common::run(&s);
    let steps = r
        .property(authrace::scenario::properties::PropertyId::QueryRunsAuthenticated)
        .steps
        .clone()
        .unwrap();
    let m = authrace::present::diagram::sequence_mermaid(&steps);
    let lines: Vec<&str> = m.lines().map(str::trim).collect();
    assert_eq!(lines[0], "sequenceDiagram");
    for p in ["Provider", "React", "Client", "Server"] {
        assert!(lines.contains(&format!("participant {p}").as_str()), "{p}");
    }
    let mqs = lines
        .iter()
        .position(|l| {
            l.starts_with("Client->>Server:") && l.contains("ModifyQuerySet +listOrganizations")
        })
        .expect("the query reaches the server as an arrow");
    assert!(
        !lines[..mqs]
            .iter()
            .any(|l| l.starts_with("Client->>Server:") && l.contains("Authenticate")),
        "no Authenticate arrow before the query"
    );
    // The violating evaluation is highlighted right after the arrow.
    assert_eq!(lines[mqs + 1], "rect rgb(255, 215, 215)");
    assert!(lines[mqs + 3].contains("VIOLATES query-runs-authenticated"));
}

#[test]
fn actor_projections_are_small_connected_machines() {
    let s = load("models/seed-better-auth-ungated.toml");
    let model = AuthModel::new(&s);
    let graph = StateGraph::build(&model, Limits::default());
    for actor in DiagramActor::ALL {
        let m = Machine::project(&model, &graph, actor);
        assert!(
            m.nodes.len() >= 2 && m.nodes.len() <= 40,
            "{}: {} nodes",
            actor.as_str(),
            m.nodes.len()
        );
        // Every node but the initial one has an incoming edge.
        for n in 0..m.nodes.len() {
            if n != m.initial {
                assert!(
                    m.edges.keys().any(|(_, b)| *b == n),
                    "{}: node {n} unreachable",
                    actor.as_str()
                );
            }
        }
        let mermaid = m.to_mermaid();
        assert!(mermaid.starts_with("stateDiagram-v2"));
        assert_eq!(mermaid.matches(" --> ").count(), m.edges.len() + 1);
        let dot = m.to_dot();
        assert!(dot.starts_with(&format!("digraph {} {{", actor.as_str())));
        assert_eq!(dot.matches(" -> ").count(), m.edges.len() + 1);
    }
    // The client's machine starts with no socket and reaches the scheduled refetch.
    let client = Machine::project(&model, &graph, DiagramActor::Client);
    assert!(client.nodes[client.initial].contains("noAuth / socket no socket"));
    assert!(
        client
            .nodes
            .iter()
            .any(|n| n.starts_with("waitingForScheduledRefetch"))
    );
}

/// Every label line of a state-machine diagram: DOT `label="a\nb"` and
/// Mermaid `state "a<br/>b"` / `sX --> sY: a<br/>b`.
fn label_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let label = if let Some(i) = line.find("label=\"") {
            let rest = &line[i + 7..];
            rest[..rest.rfind('"').unwrap()].replace("\\n", "\n")
        } else if let Some(rest) = line.strip_prefix("state \"") {
            rest[..rest.rfind("\" as").unwrap()].replace("<br/>", "\n")
        } else if line.contains(" --> ") && line.contains(": ") {
            line.split_once(": ").unwrap().1.replace("<br/>", "\n")
        } else {
            continue;
        };
        out.extend(label.lines().map(str::to_string));
    }
    out
}

#[test]
fn state_diagrams_are_laid_out_top_to_bottom_with_wrapped_labels() {
    use authrace::present::diagram::WRAP;
    for file in [
        "models/seed-better-auth-ungated.toml",
        "models/matrix/none-socket-drop.toml",
    ] {
        let s = load(file);
        let model = AuthModel::new(&s);
        let graph = StateGraph::build(&model, Limits::default());
        for actor in DiagramActor::ALL {
            let m = Machine::project(&model, &graph, actor);
            let dot = m.to_dot();
            let mermaid = m.to_mermaid();
            assert!(dot.contains("rankdir=TB;"), "{file} {}", actor.as_str());
            assert!(!dot.contains("rankdir=LR"));
            assert!(mermaid.contains("direction TB"));
            assert!(!mermaid.contains("direction LR"));
            for text in [&dot, &mermaid] {
                let lines = label_lines(text);
                assert!(lines.len() > m.nodes.len(), "labels found in {text}");
                for l in lines {
                    // A line is short, or one word too long to break.
                    assert!(
                        l.chars().count() <= WRAP || !l.contains(' '),
                        "{file} {}: label line over {WRAP} characters: {l:?}",
                        actor.as_str()
                    );
                }
            }
        }
        // The server's state changes when the client opens a connection,
        // not "when React commits".
        let server = Machine::project(&model, &graph, DiagramActor::Server);
        let first = server
            .edges
            .iter()
            .find(|((a, _), _)| *a == server.initial)
            .expect("the server's initial state has an edge out");
        assert!(
            first.1.contains("client opens a connection"),
            "{file}: {:?}",
            first.1
        );
        for labels in server.edges.values() {
            assert!(
                !labels.iter().any(|l| l.starts_with("React")),
                "{file}: a server edge labelled by React: {labels:?}"
            );
        }
    }
    // The generated page counts in the right number.
    let diagrams = std::fs::read_to_string(root().join("docs/diagrams.md")).unwrap();
    assert!(!diagrams.contains(" 1 transitions"), "1 transitions");
    assert!(!diagrams.contains(" 1 states"), "1 states");
    assert!(
        diagrams.contains("1 transition."),
        "the provider has 1 transition"
    );
}

#[test]
fn the_user_row_ready_table_has_verdicts_that_can_fail() {
    let gates = std::fs::read_to_string(root().join("docs/gates.md")).unwrap();
    let section = gates
        .split("## `user-row-ready`")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let cells: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| gate"))
        .flat_map(|l| {
            l.split('|')
                .skip(2)
                .map(str::trim)
                .filter(|c| !c.is_empty())
        })
        .collect();
    assert_eq!(cells.len(), 5 * 6, "{section}");
    assert!(!cells.contains(&"vacuous"), "{section}");
    assert!(cells.contains(&"**violated**") && cells.contains(&"holds"));
    // A cell's scenario, checked here: users.store alone lets the query run
    // before the row exists, even behind the current-user gate.
    use authrace::present::docs::{ROW_COLUMNS, user_row_scenario};
    let text = user_row_scenario(authrace::scenario::Gate::CurrentUser, &ROW_COLUMNS[0]);
    let s = authrace::scenario::Scenario::parse(std::path::Path::new("t.toml"), &text).unwrap();
    let r = crate::common::run(&s);
    assert_eq!(
        r.property(authrace::scenario::properties::PropertyId::UserRowReady)
            .verdict,
        authrace::scenario::properties::Verdict::Violated
    );
}
