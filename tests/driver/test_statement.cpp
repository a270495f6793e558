// cql::statement: values bound when given, settings, and the QUERY frame it encodes
// (native_protocol_v4.spec / v5.spec 4.1.4 and <query_parameters>).
#include <catch2/catch.hpp>

#include "cql/statement.hpp"

using namespace cql;
using protocol::byte_buffer;
using protocol::protocol_version;

TEST_CASE("positional values and page size in a v4 QUERY frame") {
    statement s("Q", 42, "hello");
    s.consistency(consistency::local_quorum).page_size(500);
    REQUIRE_FALSE(s.bind_error());
    CHECK(s.value_count() == 2);
    byte_buffer out;
    REQUIRE_FALSE(s.encode_query_frame(out, protocol_version::v4));
    byte_buffer expected = {
        0x04, 0x00, 0x00, 0x00, 0x07,                    // v4 request, no flags, stream 0, QUERY
        0x00, 0x00, 0x00, 0x1F,                          // body length 31
        0x00, 0x00, 0x00, 0x01, 'Q',                     // [long string]
        0x00, 0x06,                                      // LOCAL_QUORUM
        0x05,                                            // flags: values | page_size
        0x00, 0x02,                                      // 2 values
        0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x2A,  // int 42
        0x00, 0x00, 0x00, 0x05, 'h',  'e',  'l',  'l',  'o',  // text
        0x00, 0x00, 0x01, 0xF4,                               // page size 500
    };
    CHECK(out == expected);
}

TEST_CASE("null, unset and optional values") {
    statement s("Q");
    s.bind(null).bind(unset).bind(std::optional<std::int64_t>{}).bind(std::optional<bool>{true});
    auto v = s.values();
    REQUIRE(v.size() == 4);
    CHECK(v[0].is_null());
    CHECK(v[1].is_unset());
    CHECK(v[2].is_null());
    CHECK(v[3] == protocol::value_view::of(byte_buffer{0x01}));

    byte_buffer out;
    REQUIRE_FALSE(s.encode_query_frame(out, protocol_version::v4));
    byte_buffer tail = {0x00, 0x04,                     // 4 values
                        0xFF, 0xFF, 0xFF, 0xFF,         // null
                        0xFF, 0xFF, 0xFF, 0xFE,         // not set
                        0xFF, 0xFF, 0xFF, 0xFF,         // null
                        0x00, 0x00, 0x00, 0x01, 0x01};  // true
    REQUIRE(out.size() > tail.size());
    CHECK(byte_buffer(out.end() - static_cast<std::ptrdiff_t>(tail.size()), out.end()) == tail);
    CHECK(out[9 + 4 + 1 + 2] == 0x01);  // flags: values only
}

TEST_CASE("named values, keyspace, paging state, serial consistency, timestamp in v5") {
    statement s("Q");
    s.bind("k", std::int32_t{7})
        .consistency(consistency::one)
        .serial_consistency(consistency::local_serial)
        .paging_state(byte_buffer{0xAB})
        .timestamp(1)
        .keyspace("ks");
    CHECK(s.has_names());
    byte_buffer out;
    REQUIRE_FALSE(s.encode_query_frame(out, protocol_version::v5));
    byte_buffer body(out.begin() + 9, out.end());
    byte_buffer expected = {
        0x00, 0x00, 0x00, 0x01, 'Q',  // query
        0x00, 0x01,                   // ONE
        0x00, 0x00, 0x00, 0xF9,       // [int] flags: values|paging|serial|timestamp|names|keyspace
        0x00, 0x01,                   // 1 value
        0x00, 0x01, 'k',              // name
        0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07,  // 7
        0x00, 0x00, 0x00, 0x01, 0xAB,                    // paging state
        0x00, 0x09,                                      // LOCAL_SERIAL
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  // timestamp
        0x00, 0x02, 'k',  's',                           // keyspace
    };
    CHECK(body == expected);

    // v4 has no keyspace field: it is left out rather than failing.
    out.clear();
    REQUIRE_FALSE(s.encode_query_frame(out, protocol_version::v4));
    CHECK(out[9 + 5 + 2] == 0x79);
}

TEST_CASE("mixing positional and named values is a bind error") {
    statement s("Q", 1);
    s.bind("x", 2);
    CHECK(s.bind_error() == errc::bad_bind_value);
    byte_buffer out;
    CHECK(s.encode_query_frame(out, protocol_version::v4) == errc::bad_bind_value);
    CHECK(out.empty());

    statement n("Q");
    n.bind("a", 1).bind(2);
    CHECK(n.bind_error() == errc::bad_bind_value);
    n.clear_values();
    CHECK_FALSE(n.bind_error());
}

TEST_CASE("driver-side settings are kept") {
    statement s("Q");
    CHECK_FALSE(s.idempotent());
    CHECK_FALSE(s.consistency());
    s.idempotent(true).execution_profile("analytics").timeout(std::chrono::milliseconds(250));
    CHECK(*s.idempotent());
    CHECK(s.execution_profile() == "analytics");
    CHECK(*s.timeout() == std::chrono::milliseconds(250));
    s.page_size(0);  // paging off: no page size on the wire
    byte_buffer out;
    REQUIRE_FALSE(s.encode_query_frame(out, protocol_version::v4));
    CHECK(out[9 + 5 + 2] == 0x00);
}

TEST_CASE("custom payload and tracing: frame flags and the request's bytes map") {
    namespace p = cql::protocol;
    const p::byte_buffer v1 = {1, 2, 3};
    cql::statement s("SELECT * FROM t");
    s.custom_payload("k1", v1).custom_payload("k2", {}).tracing(true);
    REQUIRE(s.custom_payload().size() == 2);
    p::byte_buffer out;
    REQUIRE_FALSE(s.encode_query_frame(out, p::protocol_version::v4));
    auto split = p::split_frame(out);
    REQUIRE(split.consumed == out.size());
    CHECK(split.frame.header.has(p::frame_flags::custom_payload));
    CHECK(split.frame.header.has(p::frame_flags::tracing));
    p::decoded_request d;
    REQUIRE_FALSE(p::decode_request(split.frame, d));
    CHECK(d.tracing);
    REQUIRE(d.prefix.custom_payload.size() == 2);
    CHECK(d.prefix.custom_payload[0].first == "k1");
    CHECK(d.prefix.custom_payload[0].second == p::value_view::of(v1));
    CHECK(d.prefix.custom_payload[1].first == "k2");
    CHECK(d.prefix.custom_payload[1].second.data.empty());
    REQUIRE(std::holds_alternative<p::query_request>(d.message));
    CHECK(std::get<p::query_request>(d.message).query == "SELECT * FROM t");
    // Without a payload, no flag.
    p::byte_buffer plain;
    REQUIRE_FALSE(cql::statement("SELECT 1").encode_query_frame(plain, p::protocol_version::v4));
    CHECK_FALSE(p::split_frame(plain).frame.header.has(p::frame_flags::custom_payload));
}
