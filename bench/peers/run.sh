#!/usr/bin/env bash
# Runs the SPIN port of the seed scenario (bench/peers/seed.pml) and prints
# one machine-readable line per variant:
#
#   variant=violating      gate "none" (the seed); pan stops at the first
#                          assertion violation (query-runs-authenticated)
#   variant=fixed          gate "convex-auth"; full state space, no error
#   variant=violating-full gate "none" with pan -c0: the search goes on past
#                          every violation, so it covers the full state space
#                          (errors = number of violating states)
#
# Usage: bench/peers/run.sh [violating|fixed|violating-full|all]   (default all)
#
# Fields: states_stored, transitions, depth (pan's "depth reached": the
# deepest DFS stack), errors, violated (when errors > 0: the assertion pan
# reports first, query-runs-authenticated for the property's `CHECK`,
# else the failing expression, one of the port's guards against paths it
# does not model), trail_steps (steps of the counterexample pan
# wrote, 0 if none), shortest_steps (violating only: length of the
# counterexample pan's breadth-first search finds), pan_seconds (wall clock
# of the pan run alone), pan_reported_seconds (pan's own "elapsed time"),
# total_seconds (spin -a + gcc + pan of the main run).
#
# Everything is built in a temporary directory; nothing is written in the
# repository. `spin -a -o2` keeps write-only variables in the state vector
# (SPIN hides them by default; here that does not change the counts).
set -euo pipefail

if ! command -v spin >/dev/null 2>&1; then
    echo "run.sh: spin not found on PATH (SPIN 6.5.x is needed: apt-get install spin, or https://spinroot.com)" >&2
    exit 2
fi
if ! command -v gcc >/dev/null 2>&1; then
    echo "run.sh: gcc not found on PATH (needed to compile pan.c)" >&2
    exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
model="$here/seed.pml"

which="${1:-all}"
case "$which" in
    violating | fixed | violating-full | all) ;;
    *)
        echo "usage: $0 [violating|fixed|violating-full|all]" >&2
        exit 2
        ;;
esac

work="$(mktemp -d "${TMPDIR:-/tmp}/authrace-spin.XXXXXX")"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# build DIR SPIN_FLAGS GCC_FLAGS: spin -a + gcc in DIR
build() {
    local dir="$1" sflags="$2" gflags="$3"
    mkdir -p "$dir"
    cp "$model" "$dir/seed.pml"
    # shellcheck disable=SC2086
    (cd "$dir" && spin -a -o2 $sflags seed.pml >spin.log 2>&1 && gcc -O2 $gflags -o pan pan.c >gcc.log 2>&1) || {
        echo "run.sh: building the verifier failed in $dir:" >&2
        cat "$dir/spin.log" "$dir/gcc.log" >&2 2>/dev/null || true
        exit 1
    }
}

# num FILE SED_EXPR: the first value SED_EXPR extracts from pan's report
num() { sed -n "$2" "$1" | head -n1; }

# run VARIANT SPIN_FLAGS PAN_FLAGS
run() {
    local variant="$1" sflags="$2" pflags="$3"
    local dir="$work/$variant"
    local t0 t1 t2
    t0="$(now)"
    build "$dir" "$sflags" "-DSAFETY"
    t1="$(now)"
    # pan exits non-zero on nothing we care about; keep going on errors
    # shellcheck disable=SC2086
    (cd "$dir" && ./pan -w16 $pflags >pan.out 2>&1) || true
    t2="$(now)"
    local out="$dir/pan.out"
    local stored transitions depth errors reported trail=0 shortest=""
    stored="$(num "$out" 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p')"
    transitions="$(num "$out" 's/^ *\([0-9][0-9]*\) transitions (= stored+matched).*/\1/p')"
    depth="$(num "$out" 's/.*depth reached \([0-9][0-9]*\),.*/\1/p')"
    errors="$(num "$out" 's/.*errors: \([0-9][0-9]*\).*/\1/p')"
    reported="$(num "$out" 's/^pan: elapsed time \([0-9.e+-]*\) seconds.*/\1/p')"
    if [[ -z "$stored" || -z "$errors" ]]; then
        echo "run.sh: could not read pan's report for $variant:" >&2
        cat "$out" >&2
        exit 1
    fi
    if [[ -f "$dir/seed.pml.trail" ]]; then
        trail="$(grep -c '^[0-9][0-9]*:' "$dir/seed.pml.trail" || true)"
    fi
    # The assertion that failed: the property's, or a guard of the port.
    local violated
    violated="$(sed -n 's/^pan:[0-9]*: assertion violated *\(.*\) (at depth.*/\1/p' "$out" | head -n1 |
        sed 's/^ *!((viol&1)) *$/query-runs-authenticated/; s/ /_/g')"
    if [[ "$variant" == violating ]]; then
        # Breadth-first search for the shortest counterexample. pan's BFS
        # refuses hidden variables: SCRATCH_VISIBLE puts the (zeroed) scratch
        # variables in the state vector instead.
        local bdir="$work/violating-bfs"
        build "$bdir" "-DSCRATCH_VISIBLE" "-DSAFETY -DBFS"
        (cd "$bdir" && ./pan -w16 >pan.out 2>&1) || true
        if [[ -f "$bdir/seed.pml.trail" ]]; then
            shortest="$(grep -c '^[0-9][0-9]*:' "$bdir/seed.pml.trail" || true)"
        else
            shortest=0
        fi
    fi
    printf 'variant=%s states_stored=%s transitions=%s depth=%s errors=%s' \
        "$variant" "$stored" "$transitions" "$depth" "$errors"
    if [[ "$errors" != 0 ]]; then
        printf ' violated=%s' "${violated:-unknown}"
    fi
    printf ' trail_steps=%s' "$trail"
    if [[ -n "$shortest" ]]; then
        printf ' shortest_steps=%s' "$shortest"
    fi
    printf ' pan_seconds=%s pan_reported_seconds=%s total_seconds=%s\n' \
        "$(elapsed "$t1" "$t2")" "${reported:-NA}" "$(elapsed "$t0" "$t2")"
}

if [[ "$which" == violating || "$which" == all ]]; then
    run violating "" ""
fi
if [[ "$which" == fixed || "$which" == all ]]; then
    run fixed "-DFIXED" ""
fi
if [[ "$which" == violating-full || "$which" == all ]]; then
    run violating-full "" "-c0"
fi
