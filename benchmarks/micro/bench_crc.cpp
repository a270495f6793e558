// CRC24 of a segment header and CRC32 of segment payloads.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "cql/protocol/crc.hpp"

using namespace cql::protocol;

static void BM_crc24_compressed_header(benchmark::State& state) {
    std::uint8_t header[5] = {0x35, 0x00, 0x74, 0x00, 0x04};
    for (auto _ : state) {
        benchmark::DoNotOptimize(header);
        benchmark::DoNotOptimize(crc24(bytes_view(header, 5)));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_crc24_compressed_header);

static void BM_crc24_uncompressed_header(benchmark::State& state) {
    std::uint8_t header[3] = {0x3A, 0x00, 0x02};
    for (auto _ : state) {
        benchmark::DoNotOptimize(header);
        benchmark::DoNotOptimize(crc24(bytes_view(header, 3)));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_crc24_uncompressed_header);

static void BM_crc32_payload(benchmark::State& state) {
    std::vector<std::uint8_t> data(static_cast<std::size_t>(state.range(0)));
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<std::uint8_t>(i * 31 + 7);
    for (auto _ : state)
        benchmark::DoNotOptimize(crc32(data));
    state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_crc32_payload)->Arg(64)->Arg(1024)->Arg(64 * 1024)->Arg(128 * 1024 - 1);

BENCHMARK_MAIN();
