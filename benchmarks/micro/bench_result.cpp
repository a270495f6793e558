// Decoding a Rows RESULT of 1000 rows x 5 columns (int, bigint, text, double, uuid) and
// walking every cell. items/s counts rows; the "cells" counter is cells per second.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "cql/protocol/responses.hpp"

using namespace cql::protocol;

namespace {

constexpr int row_count = 1000;
constexpr int column_count = 5;

byte_buffer make_frame() {
    result_metadata m;
    m.column_count = column_count;
    m.global_tables_spec = true;
    m.global_spec = {"bench", "mixed"};
    m.columns = {{"bench", "mixed", "id", data_type(type_id::int_)},
                 {"bench", "mixed", "counter", data_type(type_id::bigint)},
                 {"bench", "mixed", "label", data_type(type_id::varchar)},
                 {"bench", "mixed", "score", data_type(type_id::double_)},
                 {"bench", "mixed", "ref", data_type(type_id::uuid)}};

    byte_buffer out;
    auto at = begin_response_frame(out, protocol_version::v4, 1, opcode::result);
    rows_result_writer rw(out, protocol_version::v4, m);
    for (int i = 0; i < row_count; ++i) {
        std::uint8_t int_cell[4];
        for (int b = 0; b < 4; ++b)
            int_cell[b] = static_cast<std::uint8_t>(i >> (8 * (3 - b)));
        rw.add_cell(bytes_view(int_cell));
        std::uint8_t bigint_cell[8] = {0, 0, 0, 1, 0, 0, int_cell[2], int_cell[3]};
        rw.add_cell(bytes_view(bigint_cell));
        std::string label = "label-" + std::to_string(1000000 + i) + "-abcdefg";  // ~21 chars
        rw.add_cell(as_bytes(label));
        double score = i * 0.5;
        std::uint8_t double_cell[8];
        std::uint64_t bits;
        std::memcpy(&bits, &score, 8);
        for (int b = 0; b < 8; ++b)
            double_cell[b] = static_cast<std::uint8_t>(bits >> (8 * (7 - b)));
        rw.add_cell(bytes_view(double_cell));
        std::uint8_t uuid_cell[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d,        0xef,
                                      0x80, 0x00, 0,    0,    0,    0,    int_cell[2], int_cell[3]};
        if (i % 10 == 0)
            rw.add_null();  // some nulls
        else
            rw.add_cell(bytes_view(uuid_cell));
    }
    (void)rw.finish();
    end_response_frame(out, at);
    return out;
}

void BM_decode_rows_and_walk_cells(benchmark::State& state) {
    const byte_buffer frame = make_frame();
    response r;
    body_prefix prefix;
    for (auto _ : state) {
        auto split = split_frame(frame);
        auto ec = decode_response(split.frame, r, prefix);
        if (ec) {
            state.SkipWithError("decode failed");
            break;
        }
        const auto& rows = std::get<rows_result>(r);
        std::size_t bytes = 0;
        std::size_t nulls = 0;
        auto c = rows.cursor();
        while (c.next_row()) {
            for (int i = 0; i < column_count; ++i) {
                auto cell = c.next_cell();
                bytes += cell.data.size();
                nulls += cell.is_null();
            }
        }
        benchmark::DoNotOptimize(bytes);
        benchmark::DoNotOptimize(nulls);
    }
    state.SetItemsProcessed(state.iterations() * row_count);
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(frame.size()));
    state.counters["cells"] =
        benchmark::Counter(static_cast<double>(state.iterations()) * row_count * column_count,
                           benchmark::Counter::kIsRate);
}
BENCHMARK(BM_decode_rows_and_walk_cells);

// The same walk through the range API (row_view, cell iterator).
void BM_decode_rows_range_walk(benchmark::State& state) {
    const byte_buffer frame = make_frame();
    response r;
    body_prefix prefix;
    for (auto _ : state) {
        auto split = split_frame(frame);
        if (decode_response(split.frame, r, prefix)) {
            state.SkipWithError("decode failed");
            break;
        }
        std::size_t bytes = 0;
        for (row_view row : std::get<rows_result>(r).rows())
            for (value_view cell : row)
                bytes += cell.data.size();
        benchmark::DoNotOptimize(bytes);
    }
    state.SetItemsProcessed(state.iterations() * row_count);
    state.counters["cells"] =
        benchmark::Counter(static_cast<double>(state.iterations()) * row_count * column_count,
                           benchmark::Counter::kIsRate);
}
BENCHMARK(BM_decode_rows_range_walk);

}  // namespace

BENCHMARK_MAIN();
