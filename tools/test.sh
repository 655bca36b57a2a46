#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite twice: the default preset, then
# under AddressSanitizer + UndefinedBehaviorSanitizer. Benchmarks run as a smoke test at a tiny size.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
jobs=$(nproc)

for preset in default asan; do
  echo "== $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== $preset: test"
  ctest --preset "$preset" -j "$jobs"
done

echo "== benchmarks (smoke, tiny size)"
for b in build/default/bench/bench_*; do
  [ -x "$b" ] || continue
  "$b" --smoke
done
