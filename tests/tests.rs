//! The integration tests: one binary, modules by capability.

mod bitstate;
mod browser;
mod cli;
mod common;
mod conformance;
mod docs;
mod fidelity;
mod fuzz;
mod keys;
mod limits;
mod patches;
mod peers;
mod perf;
mod pins;
mod props;
mod scan;
mod scenarios;
mod suggest;
mod tutorial;
