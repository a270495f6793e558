#!/usr/bin/env bash
# Builds (release preset) and runs the demo against a 3-node cqlsim started from the
# cqlsim binary on 127.0.0.1..3. Usage: bash scripts/demo.sh [--rows N]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release > /dev/null
cmake --build build/release --target demo cqlsim -j"$(nproc)" > /dev/null
port=${CQL_DEMO_PORT:-19042}
./build/release/sim/cqlsim --nodes 3 --port "$port" > /tmp/cqlsim-demo.log 2>&1 &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
./build/release/examples/demo/demo --contact "127.0.0.1:$port" "$@"
