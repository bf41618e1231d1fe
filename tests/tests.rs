//! The integration tests: one binary, modules by capability.

mod common;
mod scenarios;
