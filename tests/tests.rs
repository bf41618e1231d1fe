//! The integration tests: one binary, modules by capability.

mod browser;
mod cli;
mod common;
mod conformance;
mod docs;
mod keys;
mod pins;
mod scenarios;
mod suggest;
