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
