// The object mapping's cost: reading a 1000-row page into structs with cql::rows_of<T>
// and with row.as<T>(), against reading the same columns with row.as<Ts...>() by hand and
// building the same struct. The page is decoded once; only the reads are timed. items/s
// counts rows.
#include <benchmark/benchmark.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <boost/describe/class.hpp>

#include "cql/mapping.hpp"

namespace p = cql::protocol;

namespace {

struct reading {
    std::int32_t id;
    std::int64_t counter;
    std::string label;
    double score;
    std::optional<p::uuid_bytes> ref;
};
BOOST_DESCRIBE_STRUCT(reading, (), (id, counter, label, score, ref))

constexpr int row_count = 1000;

cql::result make_page() {
    p::result_metadata m;
    m.column_count = 5;
    m.global_tables_spec = true;
    m.global_spec = {"bench", "mixed"};
    m.columns = {{"bench", "mixed", "id", p::data_type(p::type_id::int_)},
                 {"bench", "mixed", "counter", p::data_type(p::type_id::bigint)},
                 {"bench", "mixed", "label", p::data_type(p::type_id::varchar)},
                 {"bench", "mixed", "score", p::data_type(p::type_id::double_)},
                 {"bench", "mixed", "ref", p::data_type(p::type_id::uuid)}};
    p::byte_buffer out;
    auto at = p::begin_response_frame(out, p::protocol_version::v4, 1, p::opcode::result);
    p::rows_result_writer rw(out, p::protocol_version::v4, m);
    for (int i = 0; i < row_count; ++i) {
        p::byte_buffer cell;
        p::byte_writer w(cell);
        (void)p::encode_cell(w, std::int32_t{i});
        rw.add_cell(p::bytes_view(cell));
        cell.clear();
        (void)p::encode_cell(w, std::int64_t{i} << 20);
        rw.add_cell(p::bytes_view(cell));
        std::string label = "label-" + std::to_string(1000000 + i) + "-abcdefg";  // ~21 chars
        rw.add_cell(p::as_bytes(label));
        cell.clear();
        (void)p::encode_cell(w, i * 0.5);
        rw.add_cell(p::bytes_view(cell));
        p::uuid_bytes u{};
        u[15] = static_cast<std::uint8_t>(i);
        if (i % 10 == 0)
            rw.add_null();
        else
            rw.add_cell(p::bytes_view(u));
    }
    (void)rw.finish();
    p::end_response_frame(out, at);
    auto s = p::split_frame(out);
    cql::response resp;
    (void)resp.assign(s.frame.header, p::byte_buffer(s.frame.body.begin(), s.frame.body.end()));
    cql::result r;
    (void)cql::result::from_response(std::move(resp), r);
    return r;
}

// The baseline: the columns by position into a tuple, then the struct.
void BM_by_hand_row_as_tuple(benchmark::State& state) {
    const cql::result page = make_page();
    for (auto _ : state) {
        for (cql::row_view row : page) {
            auto [id, counter, label, score, ref] = row.as<std::int32_t, std::int64_t, std::string,
                                                           double, std::optional<p::uuid_bytes>>();
            reading v{id, counter, std::move(label), score, ref};
            benchmark::DoNotOptimize(v);
        }
    }
    state.SetItemsProcessed(state.iterations() * row_count);
}
BENCHMARK(BM_by_hand_row_as_tuple);

// cql::rows_of<T>: columns matched by name and types checked once per page.
void BM_mapped_rows_of(benchmark::State& state) {
    const cql::result page = make_page();
    for (auto _ : state) {
        for (reading v : cql::rows_of<reading>(page))
            benchmark::DoNotOptimize(v);
    }
    state.SetItemsProcessed(state.iterations() * row_count);
}
BENCHMARK(BM_mapped_rows_of);

// row.as<T>(): columns matched by name for every row.
void BM_mapped_row_as_struct(benchmark::State& state) {
    const cql::result page = make_page();
    for (auto _ : state) {
        for (cql::row_view row : page) {
            reading v = row.as<reading>();
            benchmark::DoNotOptimize(v);
        }
    }
    state.SetItemsProcessed(state.iterations() * row_count);
}
BENCHMARK(BM_mapped_row_as_struct);

}  // namespace

BENCHMARK_MAIN();
