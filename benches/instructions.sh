#!/usr/bin/env bash
# Instructions per call of the production-stack scenarios, counted by
# callgrind: (count for 6000 calls - count for 1000 calls) / 5000, so the
# set-up and the warm-up cancel out. Unlike nanoseconds, the count does not
# move when the other engineers' builds load the machine; use it to compare
# two versions of a change.
#
#   cargo bench -p observe-benches --bench production --no-run
#   bash benches/instructions.sh [scenario ...]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BIN:-$(ls -t "$repo"/target/release/deps/production-* | grep -v '\.d$' | head -1)}"
scenarios=("$@")
[[ ${#scenarios[@]} -gt 0 ]] || scenarios=(bare bare_asking_metrics observe_nothing observe_init observe_init_sampled observe_init_debug hand_wired hand_wired_instrument)
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
count() {
    OBSERVE_BENCH_SCENARIO="$1" OBSERVE_BENCH_CALLS="$2" valgrind --tool=callgrind \
        --callgrind-out-file="$out/$1.$2" "$bin" 2>&1 | awk '/Collected/ {print $4}'
}
for scenario in "${scenarios[@]}"; do
    few=$(count "$scenario" 1000)
    many=$(count "$scenario" 6000)
    printf '%-24s %8d instructions per call\n' "$scenario" $(( (many - few) / 5000 ))
done
