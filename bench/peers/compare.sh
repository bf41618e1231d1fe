#!/usr/bin/env bash
# Checks that seed.pml reaches exactly the states authrace's model reaches,
# state for state, for both variants of the seed scenario.
#
# Usage: bench/peers/compare.sh
#
# Builds bench/peers/rust-dump against this checkout (in a temp dir; set
# AUTHRACE_DUMP_TARGET to a directory to reuse its cargo build across runs),
# dumps the Rust model's reachable states with symmetry reduction off (RAW=1:
# `next_state` applies `normalize_dead` and `normalize_time` but not the
# renaming of connections, queries and fetchers, which the port does not
# do), dumps seed.pml's with pan -DPRINTF, renders the Promela states in the
# Debug format of the Rust State (compare_states.py) and compares the sets.
# Prints one line per variant (rust_canonical: the counts with symmetry
# reduction on, as `authrace check` explores); exits non-zero on any
# difference.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=dump-lib.sh
source "$here/dump-lib.sh"
need_tools compare.sh spin gcc cargo python3
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/authrace-compare.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The Rust side.
build_rust_dump "$repo" "$work"

seed="$repo/models/seed-better-auth-ungated.toml"
fixed="$work/seed-fixed.toml"
sed -e 's/^gate = "none"/gate = "convex-auth"/' -e '/^\[expect\]/,$d' "$seed" >"$fixed"
grep -q 'gate = "convex-auth"' "$fixed"

status=0
for variant in violating fixed; do
    if [[ "$variant" == fixed ]]; then
        toml="$fixed" flags="-DFIXED"
    else
        toml="$seed" flags="-DNOASSERT" # explore past the violations
    fi
    dir="$work/$variant"
    mkdir -p "$dir"
    RAW=1 "$dump" "$toml" >"$dir/rust.txt" 2>"$dir/rust.stats"
    "$dump" "$toml" >/dev/null 2>"$dir/rust-canon.stats"
    cp "$here/seed.pml" "$dir/seed.pml"
    # shellcheck disable=SC2086
    (cd "$dir" && spin -a -o2 -DDUMP $flags seed.pml >/dev/null && gcc -O2 -DSAFETY -DPRINTF -o pan pan.c &&
        ./pan -w16 >spin.txt 2>&1)
    stored="$(sed -n 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p' "$dir/spin.txt")"
    result="$(python3 "$here/compare_states.py" "$dir/spin.txt" "$dir/rust.txt")" || status=1
    echo "variant=$variant spin_states_stored=$stored rust_raw[$(cat "$dir/rust.stats")] rust_canonical[$(cat "$dir/rust-canon.stats")] $result" |
        tr -s ' '
done
exit "$status"
