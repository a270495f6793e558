#!/usr/bin/env bash
# Installs the Debian packages cql-asio needs, if any are missing.
#   bash scripts/setup.sh           everything: build, tests, docs, fuzzing, the Docker checks
#   bash scripts/setup.sh demo      only what building the library, cqlsim and the demo needs
#   bash scripts/setup.sh --list [demo]   prints the packages of that set, installs nothing
# As root it runs apt-get; otherwise it prints the exact command to run.
set -euo pipefail

list=0
if [ "${1:-}" = --list ]; then
  list=1
  shift
fi
# Compiling the library (and the demo, and cqlsim): a C++20 compiler, CMake with Ninja (the
# presets), and the libraries it links.
build_packages=(
  build-essential g++ cmake ninja-build pkg-config
  libboost1.81-dev libssl-dev liblz4-dev zlib1g-dev
)
case "${1:-all}" in
  demo) packages=("${build_packages[@]}") ;;
  all)
    packages=(
      "${build_packages[@]}" ccache
      catch2 libbenchmark-dev doxygen
      clang clang-format libclang-rt-14-dev
      python3-cassandra python3-lz4 openssl
      python3-yaml docker-compose
    )
    # The real-server stage of scripts/test.sh runs ../shared/cassandra-4.0 on Java 17+.
    if [ -d "$(dirname "$0")/../../shared/cassandra-4.0" ] && ! command -v java >/dev/null; then
      packages+=(openjdk-17-jre-headless)
    fi
    ;;
  *) echo "usage: setup.sh [--list] [demo]" >&2; exit 2 ;;
esac
if [ $list = 1 ]; then
  printf '%s
' "${packages[@]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}"
  echo "setup: run as root:  apt-get update && $cmd"
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$cmd
