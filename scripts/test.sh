#!/usr/bin/env bash
# The test command: installs what the tests need when it is missing, then
# runs the project's checks. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

# Rust toolchain components used below.
if ! cargo fmt --version >/dev/null 2>&1; then
  rustup component add rustfmt
fi
if ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add clippy
fi

cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --release
