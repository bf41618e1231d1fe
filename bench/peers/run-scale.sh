#!/usr/bin/env bash
# Runs the SPIN port of the scale scenario (bench/peers/scale.pml) on the
# full scale target (3 instances, socket_drops = 2, refreshes = 1,
# reject_tokens = 1) and prints one machine-readable line:
#
#   states_stored=N transitions=M pan_seconds=S memory_mb=X options=...
#
# states_stored / transitions: as pan reports them; pan_seconds: wall clock
# of the pan run alone (not spin -a and gcc); memory_mb: pan's "total actual
# memory usage".
#
# Usage: bench/peers/run-scale.sh [extra spin -D flags, e.g. -DINSTANCES=2 -DDROPS=1]
#
# Build: spin -a -o2, gcc $SCALE_GCC_OPT (default -O1: -O2 compiles for minutes longer) -DSAFETY -DNOREDUCE
# (partial-order reduction off) -DCOLLAPSE (state-vector compression;
# -DCOLLAPSE stores every state exactly, unlike -DHC4 or -DBITSTATE), and
# pan -w26 -m1000000. Everything is built in a temporary directory; compiling
# pan.c takes a few minutes (the verifier is large).
set -euo pipefail

for tool in spin gcc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run-scale.sh: $tool not found on PATH" >&2
        exit 2
    fi
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/authrace-spin-scale.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cp "$here/scale.pml" "$work/scale.pml"
# shellcheck disable=SC2068
(cd "$work" && spin -a -o2 $@ scale.pml >spin.log 2>&1 &&
    gcc "${SCALE_GCC_OPT:--O1}" -DSAFETY -DNOREDUCE -DCOLLAPSE -DMEMLIM=20000 -o pan pan.c >gcc.log 2>&1) || {
    echo "run-scale.sh: building the verifier failed:" >&2
    cat "$work/spin.log" "$work/gcc.log" >&2 2>/dev/null || true
    exit 1
}
t0="$(date +%s.%N)"
(cd "$work" && ./pan -w26 -m1000000 >pan.out 2>&1) || true
t1="$(date +%s.%N)"
out="$work/pan.out"
num() { sed -n "$1" "$out" | head -n1; }
stored="$(num 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p')"
transitions="$(num 's/^ *\([0-9][0-9]*\) transitions (= stored+matched).*/\1/p')"
errors="$(num 's/.*errors: \([0-9][0-9]*\).*/\1/p')"
memory="$(num 's/^ *\([0-9.][0-9.]*\)[[:space:]]*total actual memory usage.*/\1/p')"
if [[ -z "$stored" || "$errors" != 0 ]] || grep -q "max search depth too small" "$out"; then
    echo "run-scale.sh: pan did not finish cleanly:" >&2
    cat "$out" >&2
    exit 1
fi
printf 'states_stored=%s transitions=%s pan_seconds=%s memory_mb=%s options=%s,-DSAFETY,-DNOREDUCE,-DCOLLAPSE\n' "$stored" "$transitions" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" "$memory" "${SCALE_GCC_OPT:--O1}"
