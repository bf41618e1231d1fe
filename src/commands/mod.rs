//! Commands of the `authrace` binary whose work belongs in the library.

pub mod bench;
pub mod patches;
