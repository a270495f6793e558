#!/usr/bin/env bash
# Builds the demo and cqlsim (release, into build/demo: no tests, benchmarks or tools, so only
# the packages of `scripts/setup.sh demo` are needed), starts a 3-node cqlsim from the cqlsim
# binary on 127.0.0.1..3 and runs the demo against it.
#   bash scripts/demo.sh [--rows N]
#   bash scripts/demo.sh --no-build [--rows N]   runs what $CQL_DEMO_BUILD (default build/demo)
#                                                holds: no package check, no build
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
args=()
for a in "$@"; do
  if [ "$a" = --no-build ]; then build=0; else args+=("$a"); fi
done
dir=${CQL_DEMO_BUILD:-build/demo}
if [ $build = 1 ]; then
  bash scripts/setup.sh demo
  cmake --preset release -B "$dir" -DCQL_BUILD_TESTS=OFF -DCQL_BUILD_BENCHMARKS=OFF \
    -DCQL_BUILD_TOOLS=OFF > /dev/null
  cmake --build "$dir" --target demo cqlsim -j"$(nproc)" > /dev/null
fi

# cqlsim picks free ports (--port 0) and prints its nodes, then "ready": the demo connects to
# this cqlsim, never to another server that happens to listen on a fixed port.
log=$(mktemp)
"$dir/sim/cqlsim" --nodes 3 --port 0 > "$log" 2>&1 &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; rm -f "$log"' EXIT
contact=""
for _ in $(seq 100); do
  if grep -qx ready "$log"; then
    contact=$(awk '$1 == "node" && $2 == 1 { print $3 }' "$log")
    break
  fi
  if ! kill -0 "$sim_pid" 2>/dev/null; then
    cat "$log" >&2
    echo "demo: cqlsim exited" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$contact" ]; then
  cat "$log" >&2
  echo "demo: cqlsim did not say it was ready" >&2
  exit 1
fi
"$dir/examples/demo/demo" --contact "$contact" "${args[@]}"
