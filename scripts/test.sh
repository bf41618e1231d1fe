#!/usr/bin/env bash
# The test command: installs what the tests need when it is missing (Debian
# packages, Node packages, Rust components), then runs the project's checks:
# cargo fmt --check, cargo clippy -D warnings, cargo doc -D warnings and
# cargo test --release. Safe to run repeatedly. Installers are quiet (their
# output goes to target/test-setup.log and is printed only if they fail);
# the last line says what passed or which stage failed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
log="$PWD/target/test-setup.log"
: >"$log"
start=$SECONDS
stage=setup
trap 'echo "test.sh: FAILED in stage: $stage (after $((SECONDS - start)) s)" >&2' ERR

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to install: $*" >&2; return 1; fi
}

quietly() {
  if ! "$@" >>"$log" 2>&1; then
    echo "failed: $*" >&2
    tail -n 40 "$log" >&2
    return 1
  fi
}

# Debian packages: Node.js for the conformance and browser harnesses,
# Chromium for the explorer's browser test, Graphviz to render DOT, SPIN
# (with gcc and Python) for the test of the Promela port in bench/peers.
missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)
command -v dot >/dev/null || missing+=(graphviz)
command -v spin >/dev/null || missing+=(spin)
command -v gcc >/dev/null || missing+=(gcc)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  stage="apt-get install ${missing[*]}"
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  quietly as_root apt-get install -y -q "${missing[@]}" || {
    quietly as_root apt-get update -q
    quietly as_root apt-get install -y -q "${missing[@]}"
  }
fi

# Node packages, exactly as locked.
for dir in tests/browser tests/conformance; do
  if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ]; then
    stage="npm ci in $dir"
    echo "npm ci in $dir"
    (cd "$dir" && quietly npm ci --no-audit --no-fund --loglevel=error)
  fi
done

# Rust toolchain components used below.
stage="rustup components"
cargo fmt --version >/dev/null 2>&1 || quietly rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || quietly rustup component add clippy

stage="cargo fmt --check"
cargo fmt --check
stage="cargo clippy"
cargo clippy --quiet --all-targets -- -D warnings
stage="cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
stage="cargo test --release"
cargo test --release --quiet
echo "test.sh: fmt, clippy, doc and tests passed in $((SECONDS - start)) s"
