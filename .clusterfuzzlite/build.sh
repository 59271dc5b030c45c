#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script: builds parkrace's libFuzzer targets into $OUT, each
# with its seed corpus ($OUT/TARGET_seed_corpus.zip) and libFuzzer options (TARGET.options).
#
# In the OSS-Fuzz image (gcr.io/oss-fuzz-base/base-builder-rust, see Dockerfile here) it runs
# from $SRC/parkrace with nightly Rust and the image's sanitizer flags. Locally, on stable
# Rust, it builds without a sanitizer (-s none; see the README):
#
#   OUT=$(mktemp -d) .clusterfuzzlite/build.sh
#
# PARKRACE_TARGETS (space separated) picks the targets; default: every target. The targets of
# buggy presets (park_v0 ... park_v4, park_v5_612, park_v0_lkmm) crash within seconds by design; park_fixed is the one to
# fuzz continuously (the Dockerfile sets it).
: "${OUT:?set OUT to the folder for the fuzz target binaries}"
if [ -n "${SRC:-}" ] && [ -d "$SRC/parkrace/fuzz" ]; then
  cd "$SRC/parkrace"
else
  cd "$(dirname "$0")/.."
fi
mkdir -p "$OUT"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
# No trace-compares instrumentation: it took 46 % of park_fixed's time; without it park_fixed
# runs 2.3 to 2.7 times the executions per second, and the buggy targets measured crashed no
# later (README, "Performance").
flags=(-O --no-trace-compares)
sanitizer=()
if ! rustc --version | grep -q nightly; then
  sanitizer=(-s none)
  # A failed stable ASan probe leaves a bad cache behind (see the README).
  rm -f fuzz/target/.rustc_info.json
fi
if [ -n "${PARKRACE_TARGETS:-}" ]; then
  targets=$PARKRACE_TARGETS
  for t in $targets; do
    (cd fuzz && cargo fuzz build "${flags[@]}" ${sanitizer[@]+"${sanitizer[@]}"} "$t")
  done
else
  targets=$(cd fuzz && cargo fuzz list)
  (cd fuzz && cargo fuzz build "${flags[@]}" ${sanitizer[@]+"${sanitizer[@]}"})
fi
triple=$(rustc -vV | sed -n 's/^host: //p')
for t in $targets; do
  cp "fuzz/target/$triple/release/$t" "$OUT/"
  if [ -d "fuzz/seeds/$t" ]; then
    rm -f "$OUT/${t}_seed_corpus.zip"
    (cd "fuzz/seeds/$t" && python3 -m zipfile -c "$OUT/${t}_seed_corpus.zip" ./*)
  fi
  # Fuzz inputs are a scenario shape plus schedule bytes: 4 KiB is plenty, and inputs of full
  # length from the start find races about 50 times sooner (a schedule needs bytes to preempt).
  printf '[libfuzzer]\nmax_len = 4096\nlen_control = 0\n' > "$OUT/$t.options"
done
