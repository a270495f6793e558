#!/usr/bin/env bash
# The client-CPU benchmark against one real Apache Cassandra 4.0.13 node (benchmarks/README.md,
# "Against real Apache Cassandra 4.0.13"): starts a fresh node of ../shared/cassandra-4.0 on
# loopback, warms its JIT, runs cqlbench in each configuration a number of times and prints
# the client CPU per request of every run and a summary per configuration, then stops the node
# (also when interrupted). Not part of the test suite: its figures are the machine's.
#
#   bash benchmarks/real-node.sh                       # pinned, 5 runs of each configuration
#   bash benchmarks/real-node.sh --shared-cpus         # node and client share every CPU
#   bash benchmarks/real-node.sh --bin A --bin B       # two builds, alternating run by run
#
# Pinned (the default): the node's threads run on the first half of the CPUs and the client on
# the other half (taskset), as a client and a server on two machines do. Unpinned, on a small
# machine the client's figure mostly measures the node beside it: which core the client lands
# on, whether the node just woke it, the server's share of the loopback stack run in the
# client's sendto.
#
# Options (defaults in brackets):
#   --runs N            runs of each configuration and workload [5]
#   --ops N             measured operations per run [100000]
#   --warmup-seconds S  each of four warm-up runs (insert, select, twice) before measuring [15]
#   --workloads "W..."  cqlbench workloads ["select insert"]
#   --configs "C..."    t0 (the tool's thread), tN (--threads N), uN (--user-threads N)
#                       ["t0 t2 t4 u4"]
#   --bin PATH          a cqlbench; repeat to alternate builds [build/release/.../cqlbench]
#   --shared-cpus       do not pin
#   --address A         the node's address [127.0.0.41]; --jmx-port P [7500]
#   --workdir DIR       the node's work directory, removed afterwards [a new /tmp directory]
set -euo pipefail
cd "$(dirname "$0")/.."

cluster=../shared/cassandra-4.0/cassandra-cluster
runs=5
ops=100000
warmup_seconds=15
workloads="select insert"
configs="t0 t2 t4 u4"
bins=()
pin=1
address=127.0.0.41
jmx_port=7500
workdir=
usage() {
  echo "usage: bash benchmarks/real-node.sh [--runs N] [--ops N] [--workloads \"W...\"]" \
    "[--warmup-seconds S] [--configs \"C...\"] [--bin PATH]... [--shared-cpus] [--address A] [--jmx-port P]" \
    "[--workdir DIR]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=${2:?}; shift ;;
    --ops) ops=${2:?}; shift ;;
    --warmup-seconds) warmup_seconds=${2:?}; shift ;;
    --workloads) workloads=${2:?}; shift ;;
    --configs) configs=${2:?}; shift ;;
    --bin) bins+=("${2:?}"); shift ;;
    --shared-cpus) pin=0 ;;
    --address) address=${2:?}; shift ;;
    --jmx-port) jmx_port=${2:?}; shift ;;
    --workdir) workdir=${2:?}; shift ;;
    *) usage ;;
  esac
  shift
done
[ ${#bins[@]} -gt 0 ] || bins=(build/release/benchmarks/cqlbench/cqlbench)
for b in "${bins[@]}"; do
  [ -x "$b" ] || { echo "no cqlbench at $b (build it: cmake --build build/release)" >&2; exit 2; }
done
[ -x "$cluster" ] || { echo "no Cassandra at $cluster" >&2; exit 2; }

cpus=$(nproc)
node_cpus="0-$((cpus / 2 - 1))"
client_cpus="$((cpus / 2))-$((cpus - 1))"
if [ "$pin" = 1 ] && [ "$cpus" -lt 2 ]; then
  echo "pinning needs two CPUs or more; run with --shared-cpus" >&2
  exit 2
fi

[ -n "$workdir" ] || workdir=$(mktemp -d /tmp/cql-bench-node.XXXXXX)
results=$(mktemp)
stop_node() {
  "$cluster" stop "$workdir/node" >/dev/null 2>&1 || true
  rm -rf "$workdir" "$results"
}
trap stop_node EXIT
trap 'exit 130' INT TERM

"$cluster" start "$workdir/node" --base-address "$address" --jmx-port "$jmx_port" >&2
client=()
if [ "$pin" = 1 ]; then
  taskset -a -p -c "$node_cpus" "$(cat "$workdir/node/node1/pid")" >/dev/null
  client=(taskset -c "$client_cpus")
  method="pinned: node on CPUs $node_cpus, client on CPUs $client_cpus"
else
  method="shared: node and client on all $cpus CPUs"
fi

common=(--contact "$address:19142" --local-dc datacenter1 --payload 100 --inflight 256
  --connections 1 --protocol 4 --quiet)
# The node's JIT: a fresh node answers a few times slower for its first million requests or so.
for w in insert select insert select; do
  "${client[@]}" "${bins[0]}" "$w" "${common[@]}" --duration "$warmup_seconds" >/dev/null
done

flags_of() {
  case "$1" in
    t*) echo "--threads ${1#t}" ;;
    u*) echo "--user-threads ${1#u}" ;;
    *) echo "unknown configuration $1" >&2; exit 2 ;;
  esac
}

echo "# $(date -u '+%F %H:%M') UTC, $method, $ops operations per run"
echo "# binary | workload | configuration | CPU us/op | user us/op | allocs/op | ops/s"
for ((i = 1; i <= runs; i++)); do
  for w in $workloads; do
    for c in $configs; do
      for b in "${bins[@]}"; do
        # shellcheck disable=SC2046 # the configuration's flags are split on purpose
        json=$("${client[@]}" "$b" "$w" "${common[@]}" --ops "$ops" $(flags_of "$c") 2>/dev/null |
          grep '^{' || true)
        line=$(python3 -c '
import json, sys
j = json.loads(sys.argv[1])
print("%.2f %.2f %.4f %.0f" % (j["cpu_s"] * 1e6 / j["ops"], j["cpu_user_s"] * 1e6 / j["ops"],
                               j["allocs_per_op"], j["throughput_ops_s"]))' "$json" 2>/dev/null ||
          echo "failed")
        echo "$b|$w|$c|$line" | tee -a "$results"
      done
    done
  done
done

echo "# summary: CPU us/op min, median, max (user min-max), allocs/op max, ops/s min-max"
python3 - "$results" <<'EOF'
import statistics, sys
groups = {}
for line in open(sys.argv[1]):
    b, w, c, figures = line.rstrip("\n").split("|")
    groups.setdefault((b, w, c), []).append(figures.split())
for (b, w, c), rows in groups.items():
    ok = [r for r in rows if len(r) == 4]
    if not ok:
        print(f"{b} | {w} | {c} | all {len(rows)} runs failed")
        continue
    cpu = sorted(float(r[0]) for r in ok)
    user = [float(r[1]) for r in ok]
    rate = [float(r[3]) for r in ok]
    print(f"{b} | {w} | {c} | {cpu[0]:.2f} {statistics.median(cpu):.2f} {cpu[-1]:.2f}"
          f" ({min(user):.2f}-{max(user):.2f}) | {max(float(r[2]) for r in ok):.4f}"
          f" | {min(rate) / 1e3:.0f}-{max(rate) / 1e3:.0f} k | {len(ok)} runs")
EOF
