#!/usr/bin/env bash
# Installs what is missing, builds everything with -Werror, and runs the whole test suite, in
# stages:
#   setup         Debian packages (scripts/setup.sh)
#   release       optimised build, every test (ctest against cqlsim)
#   real server   against real Apache Cassandra 4.0.13 from ../shared/cassandra-4.0, with the
#                 release build (scripts/real-cassandra.sh; skipped, saying so, without it)
#   asan          AddressSanitizer + UndefinedBehaviorSanitizer build (-O1 -g1: the checks
#                 stay and it compiles ~40% faster than -O2 -g), every test
#   tsan          ThreadSanitizer build of the driver and its concurrency tests (ctest label
#                 concurrency: the request engine, pools, thread caches, an io_context run by
#                 several threads, own io threads, close with requests in flight)
# CQL_REAL_CASSANDRA_OPTIONS passes options to scripts/real-cassandra.sh (e.g. another
# --address/--jmx-port on a machine where other clusters run).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)

stage() {
  echo "== $* ($(date +%T))"
}

stage_setup() {
  stage "setup"
  bash scripts/setup.sh
}

stage_preset() {
  local preset=$1
  stage "$preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  stage "$preset: test"
  ctest --preset "$preset" -j "$jobs"
}

stage_real_server() {
  stage "real server"
  # shellcheck disable=SC2086 # the options are split into words on purpose
  bash scripts/real-cassandra.sh --build build/release ${CQL_REAL_CASSANDRA_OPTIONS:-}
}

# The tests labelled concurrency, and only what they need, under ThreadSanitizer.
concurrency_targets=(driver_test_thread_cache driver_test_engine driver_test_pool
                     e2e_test_threads hostile_test_close hostile_test_disconnects)
stage_tsan() {
  stage "tsan: configure and build"
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan -j "$jobs" --target "${concurrency_targets[@]}"
  stage "tsan: test"
  ctest --preset tsan -j "$jobs" -L concurrency
}

stage_setup
stage_preset release
stage_real_server
stage_preset asan
stage_tsan
