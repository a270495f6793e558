// cql::result: rows as views into the response frame, typed access, paging state; and a
// statement executed over a real connection.
#include <catch2/catch.hpp>

#include <chrono>

#include <boost/asio/io_context.hpp>

#include "cql/error_with_diagnostics.hpp"
#include "cql/result.hpp"
#include "cql/statement.hpp"
#include "detail/connection.hpp"
#include "fake_server.hpp"

using namespace cql;
namespace p = cql::protocol;
using p::byte_buffer;

namespace {

response make_response(const byte_buffer& frame) {
    auto s = p::split_frame(frame);
    REQUIRE(s.consumed == frame.size());
    response r;
    auto ec = r.assign(s.frame.header, byte_buffer(s.frame.body.begin(), s.frame.body.end()));
    (void)ec;
    return r;
}

byte_buffer rows_frame(bool more_pages) {
    p::result_metadata m;
    m.column_count = 3;
    m.global_tables_spec = true;
    m.global_spec = {"ks", "t"};
    m.columns = {{"ks", "t", "k", p::data_type(p::type_id::int_)},
                 {"ks", "t", "v", p::data_type(p::type_id::varchar)},
                 {"ks", "t", "d", p::data_type(p::type_id::double_)}};
    static const byte_buffer state = {0x01, 0x02};
    if (more_pages) m.paging_state = p::bytes_view(state);
    byte_buffer out;
    auto at = p::begin_response_frame(out, p::protocol_version::v4, 3, p::opcode::result);
    p::rows_result_writer w(out, p::protocol_version::v4, m);
    const byte_buffer one = {0, 0, 0, 1}, two = {0, 0, 0, 2};
    const byte_buffer one_and_half = {0x3F, 0xF8, 0, 0, 0, 0, 0, 0};  // 1.5
    w.add_cell(p::bytes_view(one));
    w.add_cell(p::as_bytes("a"));
    w.add_cell(p::bytes_view(one_and_half));
    w.add_cell(p::bytes_view(two));
    w.add_null();
    w.add_null();
    REQUIRE_FALSE(w.finish());
    p::end_response_frame(out, at);
    return out;
}

}  // namespace

TEST_CASE("rows: iteration, as<>, get<> by index and name, nulls") {
    result r;
    REQUIRE_FALSE(result::from_response(make_response(rows_frame(false)), r));
    CHECK(r.type() == result::kind::rows);
    CHECK(r.size() == 2);
    CHECK(r.column_count() == 3);
    CHECK_FALSE(r.has_more_pages());
    CHECK(r.metadata().columns[1].name == "v");

    std::vector<std::int32_t> keys;
    for (row_view row : r)
        keys.push_back(row.get<std::int32_t>(0));
    CHECK(keys == std::vector<std::int32_t>{1, 2});

    auto first = r.front();
    auto [k, v, d] = first.as<std::int32_t, std::string_view, double>();
    CHECK(k == 1);
    CHECK(v == "a");
    CHECK(d == 1.5);
    CHECK(first.get<std::string>("v") == "a");
    CHECK(first.index_of("d") == 2);
    CHECK(first.index_of("nope") == 3);

    auto second = *std::next(r.begin());
    CHECK_FALSE(second.get<std::optional<std::string_view>>(1));
    CHECK_FALSE(second.get<std::optional<double>>(2));
    CHECK(second.get<std::optional<std::int32_t>>(0) == 2);

    // Type mismatches and nulls into plain types are errors, not garbage.
    std::int64_t wide = 0;
    CHECK(first.try_get(0, wide) == p::codec_errc::value_type_mismatch);  // int is not bigint
    std::string_view text;
    CHECK(second.try_get(1, text) == p::codec_errc::value_type_mismatch);  // null
    CHECK(first.try_get(7, text) == errc::no_such_column);
    CHECK_THROWS_AS(second.get<std::string_view>(1), boost::system::system_error);

    // Moving the result keeps the views valid.
    result moved = std::move(r);
    CHECK(moved.front().get<std::string_view>(1) == "a");
}

TEST_CASE("paging state of a page with more to come") {
    result r;
    REQUIRE_FALSE(result::from_response(make_response(rows_frame(true)), r));
    CHECK(r.has_more_pages());
    REQUIRE(r.paging_state());
    CHECK(byte_buffer(r.paging_state()->begin(), r.paging_state()->end()) ==
          byte_buffer{0x01, 0x02});
    // It feeds the next statement.
    statement next("SELECT * FROM ks.t");
    next.paging_state(*r.paging_state());
    CHECK(next.paging_state()->size() == 2);
}

TEST_CASE("other result kinds and errors") {
    byte_buffer f;
    p::encode_response_frame(f, p::protocol_version::v4, 1, p::set_keyspace_result{"ks1"});
    result r;
    REQUIRE_FALSE(result::from_response(make_response(f), r));
    CHECK(r.type() == result::kind::set_keyspace);
    CHECK(r.keyspace() == "ks1");
    CHECK(r.empty());

    f.clear();
    p::encode_response_frame(f, p::protocol_version::v4, 1, p::void_result{});
    REQUIRE_FALSE(result::from_response(make_response(f), r));
    CHECK(r.type() == result::kind::void_);

    f.clear();
    p::error_response e;
    e.code = p::error_code::syntax_error;
    e.message = "line 1:0";
    p::encode_response_frame(f, p::protocol_version::v4, 1, e);
    CHECK(result::from_response(make_response(f), r) == server_errc::syntax_error);

    f.clear();
    p::encode_response_frame(f, p::protocol_version::v4, 1, p::ready_response{});
    CHECK(result::from_response(make_response(f), r) == errc::unexpected_response);
}

TEST_CASE("empty, moved-from and recycled results carry nothing over") {
    result empty;
    CHECK(empty.type() == result::kind::none);
    CHECK(empty.size() == 0);
    CHECK(empty.begin() == empty.end());
    CHECK(empty.metadata().columns.empty());
    CHECK(empty.warnings().empty());
    CHECK(empty.keyspace().empty());
    CHECK(empty.schema_in_agreement());
    empty.set_schema_in_agreement(false);
    CHECK_FALSE(empty.schema_in_agreement());

    byte_buffer ks_frame;
    p::encode_response_frame(ks_frame, p::protocol_version::v4, 1, p::set_keyspace_result{"ks1"});
    // Rows, then (the state recycled by this thread) another kind, then rows again.
    for (int round = 0; round < 3; ++round) {
        {
            result rows;
            REQUIRE_FALSE(result::from_response(make_response(rows_frame(true)), rows));
            rows.set_schema_in_agreement(false);
            result moved = std::move(rows);
            CHECK(rows.type() == result::kind::none);  // NOLINT(bugprone-use-after-move)
            CHECK(rows.size() == 0);
            CHECK(moved.size() == 2);
            CHECK(moved.metadata().columns.size() == 3);
            CHECK(moved.front().get<std::string_view>("v") == "a");
        }
        result ks;
        REQUIRE_FALSE(result::from_response(make_response(ks_frame), ks));
        CHECK(ks.type() == result::kind::set_keyspace);
        CHECK(ks.keyspace() == "ks1");
        CHECK(ks.size() == 0);
        CHECK(ks.metadata().columns.empty());
        CHECK_FALSE(ks.has_more_pages());
        CHECK(ks.schema_in_agreement());
    }
}

TEST_CASE("a statement executed over a connection") {
    using namespace std::chrono_literals;
    cql::test::fake_server server;
    boost::asio::io_context io;
    cql::detail::connection_config cfg;
    cfg.port = server.port();
    cfg.heartbeat_interval = 0ms;
    auto c = cql::detail::connection::create(io.get_executor(), cfg);
    bool ready = false;
    c->async_connect([&](error_code ec) { ready = !ec; });
    while (!ready && io.run_one_for(5s)) {
    }
    REQUIRE(ready);

    statement s("USE ks2", 1);
    s.consistency(consistency::quorum);
    byte_buffer frame;
    REQUIRE_FALSE(s.encode_query_frame(frame, c->version()));
    result r;
    bool done = false;
    c->async_send_frame(std::move(frame), [&](error_code ec, response resp) {
        CHECK_FALSE(ec);
        CHECK_FALSE(result::from_response(std::move(resp), r));
        done = true;
    });
    while (!done && io.run_one_for(5s)) {
    }
    REQUIRE(done);
    CHECK(r.type() == result::kind::set_keyspace);
    CHECK(r.keyspace() == "USE ks2");  // the fake server echoes the query text
    c->close();
}

TEST_CASE("tracing id, warnings and custom payload of a response reach the result") {
    p::body_prefix prefix;
    prefix.tracing_id = p::uuid_bytes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    prefix.warnings = {"Aggregation query used without partition key"};
    const byte_buffer blob = {0xCA, 0xFE};
    prefix.custom_payload = {{"echo", p::value_view::of(blob)}};
    byte_buffer frame;
    p::encode_response_frame(frame, p::protocol_version::v4, 5, p::void_result{}, &prefix);
    result r;
    REQUIRE_FALSE(result::from_response(make_response(frame), r));
    CHECK(r.type() == result::kind::void_);
    REQUIRE(r.tracing_id());
    CHECK(*r.tracing_id() == *prefix.tracing_id);
    REQUIRE(r.warnings().size() == 1);
    CHECK(r.warnings()[0] == "Aggregation query used without partition key");
    REQUIRE(r.custom_payload().size() == 1);
    CHECK(r.custom_payload()[0].first == "echo");
    CHECK(r.custom_payload()[0].second == p::value_view::of(blob));
    CHECK(r.schema_in_agreement());
}

TEST_CASE("type mismatch and lossy reads are errors, never silent conversions") {
    result r;
    REQUIRE_FALSE(result::from_response(make_response(rows_frame(false)), r));
    auto row = r.front();
    // int column read as bigint / smallint / text; text column as int; double as float.
    std::int64_t big = 0;
    CHECK(row.try_get(0, big) == p::codec_errc::value_type_mismatch);
    std::int16_t small = 0;
    CHECK(row.try_get(0, small) == p::codec_errc::value_type_mismatch);
    std::string text;
    CHECK(row.try_get("k", text) == p::codec_errc::value_type_mismatch);
    std::int32_t i = 0;
    CHECK(row.try_get("v", i) == p::codec_errc::value_type_mismatch);
    float f = 0;
    CHECK(row.try_get("d", f) == p::codec_errc::value_type_mismatch);
    CHECK(row.try_get("nope", i) == errc::no_such_column);
    std::error_code ec;
    CHECK(row.get<std::int32_t>(0, ec) == 1);
    CHECK_FALSE(ec);
    CHECK(row.get<double>(0, ec) == 0.0);
    CHECK(ec == p::codec_errc::value_type_mismatch);
    CHECK_THROWS_AS(row.get<std::string>(0), boost::system::system_error);
    // A null into a non-optional T is an error; into optional<T>, nullopt.
    auto second = *std::next(r.begin());
    CHECK(second.try_get(1, text) == p::codec_errc::value_type_mismatch);
    std::optional<std::string> maybe = "x";
    CHECK_FALSE(second.try_get(1, maybe));
    CHECK_FALSE(maybe);
}

namespace {
// The message of the cql::error_with_diagnostics that `read` throws ("" if none).
template <class Fn>
std::string read_error(Fn read) {
    try {
        read();
    } catch (const error_with_diagnostics& e) {
        CHECK(std::string(e.what()).find(e.diagnostics().message) != std::string::npos);
        return e.diagnostics().message;
    }
    return {};
}

byte_buffer no_rows_frame() {
    p::result_metadata m;
    m.column_count = 1;
    m.columns = {{"ks", "t", "k", p::data_type(p::type_id::int_)}};
    byte_buffer out;
    auto at = p::begin_response_frame(out, p::protocol_version::v4, 3, p::opcode::result);
    p::rows_result_writer w(out, p::protocol_version::v4, m);
    REQUIRE_FALSE(w.finish());
    p::end_response_frame(out, at);
    return out;
}
}  // namespace

TEST_CASE("read errors name the column, its CQL type and the C++ type asked for") {
    result r;
    REQUIRE_FALSE(result::from_response(make_response(rows_frame(false)), r));
    auto first = r.front();
    auto second = *std::next(r.begin());
    CHECK(read_error([&] { (void)first.get<std::string>(0); }) ==
          "column 0 \"k\" is int: it cannot be read as a std::string");
    CHECK(read_error([&] { (void)first.get<std::int64_t>("k"); }) ==
          "column 0 \"k\" is int: it cannot be read as a std::int64_t");
    CHECK(read_error([&] { (void)second.get<std::string>("v"); }) ==
          "column 1 \"v\" is null: read it as std::optional<std::string>");
    CHECK(read_error([&] { (void)first.get<int>(7); }) == "no column 7: the row has 3 columns");
    CHECK(read_error([&] { (void)first.get<int>("vv"); }) ==
          "no column named \"vv\" (the row has k, v, d)");
    CHECK(read_error([&] { (void)first.as<std::int32_t, double>(); }) ==
          "column 1 \"v\" is text: it cannot be read as a double");
    // Still a boost::system::system_error with try_get()'s code.
    try {
        (void)second.get<std::string>(1);
    } catch (const boost::system::system_error& e) {
        CHECK(e.code() == p::codec_errc::value_type_mismatch);
    }
}

TEST_CASE("front() of a result without rows is an empty row that says so") {
    result r;
    REQUIRE_FALSE(result::from_response(make_response(no_rows_frame()), r));
    CHECK(r.empty());
    CHECK(r.front().size() == 0);
    CHECK(r.begin() == r.end());
    CHECK(read_error([&] { (void)r.front().get<int>(0); }) ==
          "the result has no rows (front() of an empty result)");
    std::int32_t v = 0;
    CHECK(r.front().try_get(0, v) == errc::no_such_column);
}

TEST_CASE("every signed integer type reads the column of its width; rows as dynamic values") {
    result r;
    REQUIRE_FALSE(result::from_response(make_response(rows_frame(false)), r));
    auto first = r.front();
    CHECK(first.get<int>(0) == 1);
    std::error_code ec;
    CHECK(first.get<long>(0, ec) == 0);  // 8 bytes wide: a bigint, not this int
    CHECK(ec == p::codec_errc::value_type_mismatch);
    std::optional<long long> ll;
    CHECK(first.try_get(0, ll) == p::codec_errc::value_type_mismatch);

    p::result_metadata m;
    m.column_count = 3;
    m.columns = {{"ks", "t", "b", p::data_type(p::type_id::bigint)},
                 {"ks", "t", "s", p::data_type(p::type_id::smallint)},
                 {"ks", "t", "t", p::data_type(p::type_id::tinyint)}};
    byte_buffer frame;
    auto at = p::begin_response_frame(frame, p::protocol_version::v4, 3, p::opcode::result);
    p::rows_result_writer w(frame, p::protocol_version::v4, m);
    const byte_buffer b = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE}, sm = {0x01, 0x00},
                      t = {0x80};
    w.add_cell(p::bytes_view(b));
    w.add_cell(p::bytes_view(sm));
    w.add_cell(p::bytes_view(t));
    REQUIRE_FALSE(w.finish());
    p::end_response_frame(frame, at);
    result ints;
    REQUIRE_FALSE(result::from_response(make_response(frame), ints));
    auto [big, sh, tiny] = ints.front().as<long long, short, signed char>();
    CHECK(big == -2);
    CHECK(sh == 256);
    CHECK(tiny == -128);
    CHECK(ints.front().get<long>("b") == -2);
    CHECK(ints.front().get<std::optional<long long>>(0) == -2);

    // cql::protocol::value reads any column, null included.
    auto [k, v, d] = first.as<p::value, p::value, p::value>();
    CHECK(k == p::value(std::int64_t{1}));
    CHECK(v == p::value(std::string("a")));
    CHECK(d == p::value(1.5));
    auto second = *std::next(r.begin());
    CHECK(second.get<p::value>(1).is_null());
    CHECK(second.get<std::optional<p::value>>(0) == p::value(std::int64_t{2}));
}
