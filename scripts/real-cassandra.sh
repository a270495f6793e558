#!/usr/bin/env bash
# Runs the suite against real Apache Cassandra: starts a fresh cluster of the Cassandra 4.0.13
# in ../shared/cassandra-4.0 (see its README.md) on loopback, runs against it the end-to-end
# tests, the examples, the python-driver conformance test and the differential test
# (ctest -L 'e2e|examples|conformance|differential' with CQL_CONTACT_POINTS, CQL_PORT,
# CQL_LOCAL_DC and CQL_TLS_CA), then short cqlbench runs with --check, and stops the cluster
# (also when something fails or the script is interrupted). scripts/test.sh runs it with the
# defaults; by hand, e.g. the 3-node run (token-aware routing, discovery,
# NetworkTopologyStrategy over three real nodes):
#
#   bash scripts/real-cassandra.sh --nodes 3
#
# Options (defaults in brackets):
#   --nodes N           nodes [1]; node K listens on ADDRESS + K-1
#   --address A         first node's loopback address [127.0.0.11]
#   --port P            native port [19142]
#   --jmx-port P        JMX base port [7199]
#   --build DIR         a build with the tests, cqlsim and cqlbench [build/release]
#   --workdir DIR       the cluster's work directory, removed afterwards [a new /tmp/cql-cassandra.*]
#
# Without ../shared/cassandra-4.0 it prints one line saying so and exits 0. The nodes serve
# plain CQL and TLS on the same port (client_encryption_options.optional, a certificate made
# here for their addresses), and fail reads over 100 tombstones (the differential test's read
# failure). Exit status 1 when anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

shared=../shared/cassandra-4.0
nodes=1
address=127.0.0.11
port=19142
jmx_port=7199
build=build/release
workdir=
usage() {
  echo "usage: bash scripts/real-cassandra.sh [--nodes N] [--address A] [--port P] [--jmx-port P]" \
    "[--build DIR] [--workdir DIR]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=${2:?}; shift ;;
    --address) address=${2:?}; shift ;;
    --port) port=${2:?}; shift ;;
    --jmx-port) jmx_port=${2:?}; shift ;;
    --build) build=${2:?}; shift ;;
    --workdir) workdir=${2:?}; shift ;;
    *) usage ;;
  esac
  shift
done

if [ ! -x "$shared/cassandra-cluster" ]; then
  echo "real Cassandra: skipped, no ../shared/cassandra-4.0 beside this clone; to run the" \
    "suite against a cluster: bash docker/run-e2e.sh, or CQL_CONTACT_POINTS=HOST" \
    "CQL_LOCAL_DC=DC ctest --test-dir build/release -L e2e"
  exit 0
fi

cluster="$shared/cassandra-cluster"
[ -n "$workdir" ] || workdir=$(mktemp -d /tmp/cql-cassandra.XXXXXX)
mkdir -p "$workdir"
stop_cluster() {
  if [ -d "$workdir/cluster" ]; then "$cluster" stop "$workdir/cluster" >&2 || true; fi
  rm -rf "$workdir"
}
trap stop_cluster EXIT
trap 'exit 130' INT TERM

# A certificate for every node's address, in a PKCS12 keystore for Cassandra.
tls="$workdir/tls"
mkdir -p "$tls"
IFS=. read -r a b c d <<<"$address"
san=""
for ((k = 0; k < nodes; k++)); do san+="${san:+,}IP:$a.$b.$c.$((d + k))"; done
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cassandra-cluster" \
  -addext "subjectAltName=$san" -keyout "$tls/key.pem" -out "$tls/ca.pem" 2>/dev/null
openssl pkcs12 -export -in "$tls/ca.pem" -inkey "$tls/key.pem" -name node \
  -passout pass:cassandra -out "$tls/keystore.p12"

echo "== real Cassandra: $nodes node(s) from $address:$port (work directory $workdir)"
encryption="{enabled: true, optional: true, keystore: $tls/keystore.p12"
encryption+=", keystore_password: cassandra, store_type: PKCS12}"
# A low tombstone_failure_threshold lets the differential test provoke a read failure.
"$cluster" start "$workdir/cluster" --nodes "$nodes" --base-address "$address" --port "$port" \
  --jmx-port "$jmx_port" --set "client_encryption_options: $encryption" \
  --set "tombstone_failure_threshold: 100"

export CQL_CONTACT_POINTS=$address CQL_PORT=$port CQL_LOCAL_DC=datacenter1
export CQL_TLS_CA=$tls/ca.pem
failed=()
ctest --test-dir "$build" -L 'e2e|examples|conformance|differential' --output-on-failure ||
  failed+=("ctest")
bench="$build/benchmarks/cqlbench/cqlbench"
rf=$((nodes < 3 ? nodes : 3))
for args in "mixed --protocol 4 --compression lz4" "mixed --protocol 5 --compression lz4" \
  "select --protocol 5 --threads 2 --connections 2"; do
  # shellcheck disable=SC2086 # $args is split into words on purpose
  if "$bench" $args --contact "$address:$port" --local-dc datacenter1 --rf "$rf" --ops 20000 \
    --warmup 2000 --partitions 2000 --check --quiet >/dev/null; then
    echo "cqlbench $args --check: ok"
  else
    echo "cqlbench $args --check: FAILED"
    failed+=("cqlbench $args")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "== real Cassandra: FAILED: ${failed[*]}"
  exit 1
fi
echo "== real Cassandra: passed"
