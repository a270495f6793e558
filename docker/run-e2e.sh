#!/usr/bin/env bash
# Waits until a cluster started from docker/*.yml answers CQL on 127.0.0.1:9042, then runs the
# end-to-end suite against it (tests that need cqlsim's fault injection skip themselves).
# Usage: bash docker/run-e2e.sh [build-dir]   (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
export CQL_CONTACT_POINTS=${CQL_CONTACT_POINTS:-127.0.0.1}
export CQL_PORT=${CQL_PORT:-9042}
export CQL_LOCAL_DC=${CQL_LOCAL_DC:-dc1}

echo "waiting for CQL on ${CQL_CONTACT_POINTS%%,*}:${CQL_PORT} ..."
for _ in $(seq 1 90); do
  if (exec 3<>"/dev/tcp/${CQL_CONTACT_POINTS%%,*}/${CQL_PORT}") 2>/dev/null; then
    ready=1
    break
  fi
  sleep 2
done
[ "${ready:-0}" = 1 ] || { echo "no CQL server answered"; exit 1; }

[ -d "$build" ] || { cmake --preset release && cmake --build --preset release; }
ctest --test-dir "$build" -L e2e --output-on-failure
