#!/bin/sh
# Runs one libFuzzer target for a while on a corpus seeded from the fixtures.
#   fuzz/run.sh BUILD_DIR TARGET SECONDS [extra libFuzzer flags]
# Corpus: BUILD_DIR/fuzz/corpus/TARGET (seeds written by fuzz_seeds on first use);
# crashes go to BUILD_DIR/fuzz/artifacts/TARGET/.
set -eu
build=$1 target=$2 seconds=$3
shift 3
dir=$build/fuzz
if [ ! -d "$dir/corpus/fuzz_frame" ]; then
  "$dir/fuzz_seeds" "$(dirname "$0")/../tests/fixtures" "$dir/corpus"
fi
case $target in
  fuzz_frame) max_len=16384 ;;
  fuzz_segment) max_len=32768 ;;
  fuzz_message) max_len=8192 ;;
  fuzz_value|fuzz_mapping) max_len=2048 ;;
  fuzz_stream) max_len=32768 ;;
  fuzz_handshake) max_len=8192 ;;
  fuzz_value_types) max_len=512 ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
mkdir -p "$dir/artifacts/$target/"
exec "$dir/$target" -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=2048 \
  -timeout=30 -print_final_stats=1 -artifact_prefix="$dir/artifacts/$target/" "$@" \
  "$dir/corpus/$target"
