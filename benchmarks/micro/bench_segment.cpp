// Encoding and decoding protocol v5 segments: 64 KiB of frames, with and without LZ4.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>

#include "cql/protocol/segment.hpp"

using namespace cql::protocol;

namespace {

// 64 KiB (or one frame, if larger) of RESULT-like frames of `frame_body` bytes: text
// cells, about as compressible as real result sets.
byte_buffer make_frames(std::size_t total, std::size_t frame_body) {
    byte_buffer out;
    std::mt19937 rng(7);
    std::int16_t stream = 0;
    do {
        byte_writer w(out);
        frame_header h;
        h.version = protocol_version::v5;
        h.is_response = true;
        h.stream = stream++;
        h.op = opcode::result;
        h.body_length = static_cast<std::uint32_t>(frame_body);
        encode_frame_header(w, h);
        for (std::size_t i = 0; i < frame_body;) {
            std::string cell = "user_" + std::to_string(rng() % 100000) + "@example.com";
            for (char c : cell) {
                if (i == frame_body) break;
                out.push_back(static_cast<std::uint8_t>(c));
                ++i;
            }
        }
    } while (out.size() + frame_header_size + frame_body <= total);
    return out;
}

compression_algorithm algo(const benchmark::State& state) {
    return state.range(0) ? compression_algorithm::lz4 : compression_algorithm::none;
}

void BM_segment_encode(benchmark::State& state) {
    auto frames = make_frames(64 * 1024, static_cast<std::size_t>(state.range(1)));
    byte_buffer out;
    out.reserve(2 * frames.size());
    for (auto _ : state) {
        out.clear();
        if (encode_segments(frames, algo(state), out)) state.SkipWithError("encode failed");
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(frames.size()));
    state.counters["wire_ratio"] =
        static_cast<double>(out.size()) / static_cast<double>(frames.size());
}

void BM_segment_decode(benchmark::State& state) {
    auto frames = make_frames(64 * 1024, static_cast<std::size_t>(state.range(1)));
    byte_buffer segs;
    if (encode_segments(frames, algo(state), segs)) state.SkipWithError("encode failed");
    segment_stream stream(algo(state));
    for (auto _ : state) {
        std::size_t used = 0;
        std::size_t count = 0;
        if (stream.decode(segs, used, [&](const frame_view& f) { count += f.body.size(); }))
            state.SkipWithError("decode failed");
        benchmark::DoNotOptimize(count);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(frames.size()));
}

}  // namespace

// Args: {lz4?, frame body size}; 200000 goes over segments that are not self-contained.
BENCHMARK(BM_segment_encode)
    ->ArgNames({"lz4", "body"})
    ->Args({0, 1000})
    ->Args({1, 1000})
    ->Args({0, 60000})
    ->Args({1, 60000})
    ->Args({0, 200000})
    ->Args({1, 200000});
BENCHMARK(BM_segment_decode)
    ->ArgNames({"lz4", "body"})
    ->Args({0, 1000})
    ->Args({1, 1000})
    ->Args({0, 60000})
    ->Args({1, 60000})
    ->Args({0, 200000})
    ->Args({1, 200000});

BENCHMARK_MAIN();
