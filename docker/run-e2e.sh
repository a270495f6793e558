#!/usr/bin/env bash
# Runs the end-to-end suite (ctest -L e2e) against a real 3-node cluster in Docker:
# starts docker/cassandra.yml or docker/scylla.yml (compose project cqlasio-<flavour>), waits
# until every node is healthy and node 1's `nodetool status` shows 3 nodes Up/Normal, then
# runs the suite with CQL_CONTACT_POINTS=127.0.0.1 (tests that need cqlsim's fault injection
# skip themselves). Needs a Docker engine with compose (v2 plugin or docker-compose v1).
#
# Usage: bash docker/run-e2e.sh [cassandra|scylla] [--build DIR] [--down] [--no-up]
#   cassandra|scylla  which cluster (default cassandra)
#   --build DIR       build directory with the e2e tests (default build/release; configured
#                     and built with the release preset when missing)
#   --down            remove the cluster (and its volumes) afterwards
#   --no-up           use whatever already answers CQL on $CQL_CONTACT_POINTS:$CQL_PORT
#                     (no Docker calls; e.g. a cluster started by hand, or the cqlsim binary)
set -euo pipefail
cd "$(dirname "$0")/.."

flavour=cassandra
build=build/release
down=0
up=1
while [ $# -gt 0 ]; do
  case "$1" in
    cassandra | scylla) flavour=$1 ;;
    --build) build=${2:?--build needs a directory}; shift ;;
    --down) down=1 ;;
    --no-up) up=0 ;;
    *) echo "usage: bash docker/run-e2e.sh [cassandra|scylla] [--build DIR] [--down] [--no-up]" >&2
       exit 2 ;;
  esac
  shift
done

export CQL_CONTACT_POINTS=${CQL_CONTACT_POINTS:-127.0.0.1}
export CQL_PORT=${CQL_PORT:-9042}
export CQL_LOCAL_DC=${CQL_LOCAL_DC:-dc1}
first=${CQL_CONTACT_POINTS%%,*}

if [ "$up" = 1 ]; then
  if docker compose version > /dev/null 2>&1; then
    compose=(docker compose)
  elif command -v docker-compose > /dev/null 2>&1; then
    compose=(docker-compose)
  else
    echo "run-e2e: no docker compose (v2 plugin) nor docker-compose found" >&2
    exit 1
  fi
  if ! docker info > /dev/null 2>&1; then
    echo "run-e2e: no Docker engine answers here; this path needs one." >&2
    echo "run-e2e: without Docker, 'ctest -L e2e' runs the same suite against cqlsim." >&2
    exit 1
  fi
  compose+=(-f "docker/$flavour.yml" -p "cqlasio-$flavour")
  if [ "$down" = 1 ]; then
    trap '"${compose[@]}" down -v' EXIT
  fi
  services=("${flavour}1" "${flavour}2" "${flavour}3")
  echo "run-e2e: starting the $flavour cluster (nodes join one after the other: minutes)"
  "${compose[@]}" up -d

  deadline=$((SECONDS + 1200))
  for svc in "${services[@]}"; do
    echo -n "run-e2e: waiting for $svc to be healthy "
    while :; do
      id=$("${compose[@]}" ps -q "$svc" 2> /dev/null || true)
      state=$( [ -n "$id" ] && docker inspect -f '{{.State.Health.Status}}' "$id" 2> /dev/null || echo starting)
      [ "$state" = healthy ] && break
      if [ "$state" = unhealthy ] || [ $SECONDS -ge $deadline ]; then
        echo " $state"
        "${compose[@]}" logs --tail 50 "$svc" >&2 || true
        exit 1
      fi
      echo -n .
      sleep 5
    done
    echo " healthy"
  done

  echo -n "run-e2e: waiting for nodetool status to show 3 nodes UN "
  while :; do
    un=$("${compose[@]}" exec -T "${services[0]}" nodetool status 2> /dev/null | grep -c '^UN' || true)
    [ "${un:-0}" -ge 3 ] && break
    if [ $SECONDS -ge $deadline ]; then
      echo " only ${un:-0}"
      "${compose[@]}" exec -T "${services[0]}" nodetool status >&2 || true
      exit 1
    fi
    echo -n .
    sleep 5
  done
  echo " ok"
fi

echo "run-e2e: waiting for CQL on $first:$CQL_PORT"
ready=0
for _ in $(seq 1 150); do
  if (exec 3<> "/dev/tcp/$first/$CQL_PORT") 2> /dev/null; then
    ready=1
    break
  fi
  sleep 2
done
[ "$ready" = 1 ] || { echo "run-e2e: no CQL server answered on $first:$CQL_PORT" >&2; exit 1; }

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake --preset release
  build=build/release
fi
# The e2e programs only (ctest e2e.NAME is target e2e_NAME, see tests/e2e/CMakeLists.txt).
mapfile -t targets < <(ctest --test-dir "$build" -N -L e2e | sed -n 's/.*Test *#[0-9]*: e2e\./e2e_/p')
cmake --build "$build" ${targets[@]:+--target "${targets[@]}"}
echo "run-e2e: CQL_CONTACT_POINTS=$CQL_CONTACT_POINTS CQL_PORT=$CQL_PORT CQL_LOCAL_DC=$CQL_LOCAL_DC"
ctest --test-dir "$build" -L e2e --output-on-failure
