#!/usr/bin/env bash
# The native stress measurements quoted in the README (issue 4):
#   1. for each buggy preset on the named scenarios where kernel history says its bug shows
#      (src/history.rs, must_catch), the share of RUNS runs of SECS seconds that find a
#      violation, with and without delay injection, and the median time to the first;
#   2. park/unpark cycles per second, with and without delay injection, over THRU seconds.
# The fixed presets' long clean run is a single command (see the README):
#   parkrace stress -v V3 -v V3b -v V4 -v V5 --oracles history --time 40m
# Usage: benches/stress-rates.sh [RUNS] [SECS] [THRU]   (defaults 10 60 30)
# Needs python3 (to read the JSON). Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
secs=${2:-60}
thru=${3:-30}
cargo build --release --quiet
bin=./target/release/parkrace

targets="V0:park V0:park-unpark V0:hotplug V0:park-unpark-park
V1:park V1:park-unpark V1:hotplug V1:park-unpark-park
V2:park-unpark V2:third-party-waker V2:preempt-parked V2:stale-completion V2:stop-unparked V2:hotplug V2:park-unpark-park
V3:wti-latency V3:stop-unparked V3b:wti-latency V3b:stop-unparked V4:stop-unparked"

summary() {
  # The last JSON line of a --runs stress: found, median time to the first violation.
  tail -n 1 | python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
m = j["median_first_ms"]
print("%d/%d | %s" % (j["found"], j["runs"], "-" if m is None else "%.3f s" % (m / 1000)))'
}

echo "| preset | scenario | with delay: runs that found one | median time to it | without delay | median time to it |"
echo "|---|---|---|---|---|---|"
for t in $targets; do
  p=${t%%:*}
  s=${t#*:}
  d=$($bin stress -v "$p" -s "$s" --time "${secs}s" --runs "$runs" --seed 1 --json | summary || true)
  n=$($bin stress -v "$p" -s "$s" --time "${secs}s" --runs "$runs" --seed 1 --no-delay --json | summary || true)
  echo "| $p | $s | $d | $n |"
done

echo
echo "| scenario (V5) | cycles/s with delay | cycles/s without delay |"
echo "|---|---|---|"
for s in park-unpark stale-completion hotplug; do
  rate() {
    $bin stress -v V5 -s "$s" --time "${thru}s" --seed 1 --json "$@" | python3 -c '
import json, sys
print("%.0f" % json.loads(sys.stdin.read())["cycles_per_sec"])' || true
  }
  echo "| $s | $(rate) | $(rate --no-delay) |"
done
