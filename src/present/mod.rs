//! Presentation: what the checker found, for people — text reports and
//! traces, Mermaid and DOT diagrams, the explorer web UI, and the generated
//! documents in `docs/`.

pub mod diagram;
pub mod docs;
pub mod explorer;
pub mod guide;
pub mod text;
