// Encoding request frames on the driver's hot path: a QUERY and an EXECUTE appended to a
// reused buffer (no allocation once the buffer has grown). Also decoding them, as cqlsim
// does. Reports items (frames) per second.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "cql/protocol/requests.hpp"

using namespace cql::protocol;

namespace {

constexpr std::string_view statement =
    "SELECT id, name, value FROM ks.table1 WHERE id = ? AND k = ?";  // 60 characters
static_assert(statement.size() == 60);

const std::array<std::uint8_t, 4> int_value{0x00, 0x00, 0x00, 0x2A};
const std::array<std::uint8_t, 8> bigint_value{0, 0, 0, 0, 0, 0, 0x01, 0x00};
const std::array<std::uint8_t, 11> text_value{'h', 'e', 'l', 'l', 'o', ' ',
                                              'w', 'o', 'r', 'l', 'd'};
const std::array<std::uint8_t, 16> prepared_id{0x3A, 0x1F, 0x09, 0x77, 0x10, 0x2B, 0xC4, 0x8E,
                                               0x55, 0x61, 0xA0, 0x0D, 0xEE, 0x42, 0x93, 0x07};

query_request make_query(const std::array<value_view, 2>& values) {
    query_request q;
    q.query = statement;
    q.params.consistency_level = consistency::local_quorum;
    q.params.values = values;
    q.params.page_size = 5000;
    return q;
}

execute_request make_execute(const std::array<value_view, 5>& values) {
    execute_request e;
    e.id = prepared_id;
    e.params.consistency_level = consistency::local_quorum;
    e.params.values = values;
    e.params.skip_metadata = true;
    return e;
}

protocol_version version_arg(const benchmark::State& state) {
    return static_cast<protocol_version>(state.range(0));
}

void BM_encode_query(benchmark::State& state) {
    const std::array<value_view, 2> values{value_view::of(int_value), value_view::of(text_value)};
    const auto q = make_query(values);
    const auto v = version_arg(state);
    byte_buffer buf;
    buf.reserve(4096);
    std::int16_t stream = 0;
    for (auto _ : state) {
        buf.clear();
        auto ec = encode_request_frame(buf, v, stream, q);
        benchmark::DoNotOptimize(ec);
        benchmark::DoNotOptimize(buf.data());
        stream = static_cast<std::int16_t>((stream + 1) & 0x7FFF);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(buf.size()));
}
BENCHMARK(BM_encode_query)->Arg(4)->Arg(5);

void BM_encode_execute(benchmark::State& state) {
    const std::array<value_view, 5> values{value_view::of(int_value), value_view::of(bigint_value),
                                           value_view::of(text_value), value_view::null(),
                                           value_view::of(prepared_id)};
    const auto e = make_execute(values);
    const auto v = version_arg(state);
    byte_buffer buf;
    buf.reserve(4096);
    std::int16_t stream = 0;
    for (auto _ : state) {
        buf.clear();
        auto ec = encode_request_frame(buf, v, stream, e);
        benchmark::DoNotOptimize(ec);
        benchmark::DoNotOptimize(buf.data());
        stream = static_cast<std::int16_t>((stream + 1) & 0x7FFF);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(buf.size()));
}
BENCHMARK(BM_encode_execute)->Arg(4)->Arg(5);

// Many frames appended back to back into one buffer, as write coalescing does.
void BM_encode_execute_batch_of_64(benchmark::State& state) {
    const std::array<value_view, 5> values{value_view::of(int_value), value_view::of(bigint_value),
                                           value_view::of(text_value), value_view::null(),
                                           value_view::of(prepared_id)};
    const auto e = make_execute(values);
    byte_buffer buf;
    buf.reserve(64 * 128);
    for (auto _ : state) {
        buf.clear();
        for (std::int16_t s = 0; s < 64; ++s) {
            auto ec = encode_request_frame(buf, protocol_version::v4, s, e);
            benchmark::DoNotOptimize(ec);
        }
        benchmark::DoNotOptimize(buf.data());
    }
    state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_encode_execute_batch_of_64);

void BM_decode_execute(benchmark::State& state) {
    const std::array<value_view, 5> values{value_view::of(int_value), value_view::of(bigint_value),
                                           value_view::of(text_value), value_view::null(),
                                           value_view::of(prepared_id)};
    const auto v = version_arg(state);
    byte_buffer buf;
    if (encode_request_frame(buf, v, 1, make_execute(values))) {
        state.SkipWithError("encode failed");
        return;
    }
    const auto split = split_frame(buf);
    decoded_request d;
    for (auto _ : state) {
        auto ec = decode_request(split.frame, d);
        benchmark::DoNotOptimize(ec);
        benchmark::DoNotOptimize(d.storage.values.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_decode_execute)->Arg(4)->Arg(5);

}  // namespace

BENCHMARK_MAIN();
