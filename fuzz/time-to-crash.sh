#!/usr/bin/env bash
# Time to first crash of each buggy fuzz target, with and without the schedule-aware
# feedback (libFuzzer extra counters; PARKRACE_FEEDBACK=0 turns it off).
#
#   fuzz/time-to-crash.sh [RUNS] [MAX_SECONDS] [TARGET...]
#
# Each run starts from an empty corpus with libFuzzer seed 1..RUNS and stops at the first
# crash or after MAX_SECONDS. Prints one line per run and a median per target and mode
# (a run without a crash counts as MAX_SECONDS, marked ">"). Needs cargo-fuzz; stable works
# (`-s none`). Build first: (cd fuzz && cargo fuzz build -s none --no-trace-compares).
# PARKRACE_FUZZ_FLAGS adds build flags to each `cargo fuzz run`; by default
# --no-trace-compares, as .clusterfuzzlite/build.sh builds; PARKRACE_FUZZ_FLAGS= (empty) builds
# with libFuzzer's comparison tracing (build first with the same flags).
set -euo pipefail
runs=${1:-5}
max=${2:-60}
shift 2 || true
targets=("$@")
read -r -a fuzz_flags <<<"${PARKRACE_FUZZ_FLAGS---no-trace-compares}"
[ ${#targets[@]} -eq 0 ] && targets=(park_v0 park_v1 park_v2 park_v3 park_v4)
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-10s %-9s %4s %9s %10s\n' target feedback seed seconds executions
for t in "${targets[@]}"; do
  for fb in on off; do
    times=()
    for seed in $(seq 1 "$runs"); do
      rm -rf "$tmp/corpus" "$tmp/art"; mkdir -p "$tmp/corpus" "$tmp/art"
      start=$(date +%s.%N)
      PARKRACE_FEEDBACK=$([ $fb = on ] && echo 1 || echo 0) \
        cargo fuzz run -s none ${fuzz_flags[@]+"${fuzz_flags[@]}"} "$t" "$tmp/corpus" -- \
        -seed="$seed" -max_total_time="$max" -artifact_prefix="$tmp/art/" -print_final_stats=1 \
        >"$tmp/log" 2>&1 || true
      end=$(date +%s.%N)
      secs=$(echo "$end - $start" | bc)
      execs=$(grep -oE '^#[0-9]+' "$tmp/log" | tail -1 | tr -d '#')
      if ls "$tmp/art"/crash-* >/dev/null 2>&1; then mark=""; else mark=">"; secs=$max; fi
      printf '%-10s %-9s %4s %9s %10s\n' "$t" "$fb" "$seed" "$mark$(printf '%.1f' "$secs")" "${execs:-?}"
      times+=("$secs")
    done
    med=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%-10s %-9s %4s %9s\n' "$t" "$fb" median "$(printf '%.1f' "$med")"
  done
done
