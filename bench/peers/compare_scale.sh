#!/usr/bin/env bash
# Checks that scale.pml reaches exactly the states authrace's model reaches,
# state for state, on small variants of the scale scenario.
#
# Usage: bench/peers/compare_scale.sh [I,D,R,J ...]
#   each argument: instances, socket_drops, refreshes, reject_tokens
#   (default: 1,0,0,0 1,0,1,0 1,0,0,1 2,0,1,1 1,1,0,0)
#
# Builds bench/peers/rust-dump against this checkout (set AUTHRACE_DUMP_TARGET
# to reuse a cargo target directory), dumps the Rust model's reachable states
# with symmetry reduction off (RAW=1), dumps scale.pml's with pan -DPRINTF
# (spin -DDUMP), renders the Promela states in the Debug format of the Rust
# State (compare_scale.py) and compares the sets. One line per variant;
# exits non-zero on any difference. pan.c is compiled with -O0 (set
# SCALE_GCC_OPT to change it): the generated verifier is large and -O2 takes
# minutes to compile.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=dump-lib.sh
source "$here/dump-lib.sh"
need_tools compare_scale.sh spin gcc cargo python3
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/authrace-compare-scale.XXXXXX")"
trap 'rm -rf "$work"' EXIT

build_rust_dump "$repo" "$work"

# scenario I D R J: the scale scenario's TOML with these parameters
scenario() {
    cat <<TOML
name = "scale: $1 x List, 1 distinct, socket_drops = $2, refreshes = $3, reject_tokens = $4"
[provider]
kind = "clerk"
at_load = "signed-in"
sign_out = true
sign_in = true
[faults]
socket_drops = $2
refreshes = $3
reject_tokens = $4
[[function]]
name = "q:list0"
auth = "required"
[[component]]
name = "List0"
query = "q:list0"
gate = "convex-auth"
instances = $1
TOML
}

variants=("$@")
if [[ ${#variants[@]} -eq 0 ]]; then
    variants=(1,0,0,0 1,0,1,0 1,0,0,1 2,0,1,1 1,1,0,0)
fi

status=0
for v in "${variants[@]}"; do
    IFS=, read -r inst drops refr rej <<<"$v"
    dir="$work/v$inst$drops$refr$rej"
    mkdir -p "$dir"
    scenario "$inst" "$drops" "$refr" "$rej" >"$dir/scenario.toml"
    RAW=1 "$dump" "$dir/scenario.toml" >"$dir/rust.txt" 2>"$dir/rust.stats"
    cp "$here/scale.pml" "$dir/scale.pml"
    (cd "$dir" &&
        spin -a -o2 -DDUMP -DINSTANCES="$inst" -DDROPS="$drops" -DREFRESHES="$refr" -DREJECTS="$rej" \
            scale.pml >spin.log &&
        gcc "${SCALE_GCC_OPT:--O0}" -DSAFETY -DNOREDUCE -DPRINTF -o pan pan.c &&
        ./pan -w24 >spin.txt 2>&1)
    stored="$(sed -n 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p' "$dir/spin.txt")"
    errors="$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$dir/spin.txt")"
    result="$(python3 "$here/compare_scale.py" "$dir/spin.txt" "$dir/rust.txt")" || status=1
    [[ "$errors" == 0 ]] || status=1
    echo "variant=instances:$inst,drops:$drops,refreshes:$refr,rejects:$rej spin_states_stored=$stored spin_errors=$errors rust_raw[$(cat "$dir/rust.stats")] $result" |
        tr -s ' '
done
exit "$status"
