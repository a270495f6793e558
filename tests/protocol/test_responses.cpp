// Response messages, with byte vectors written from native_protocol_v4.spec / v5.spec
// sections 4.2 and 9, and real Cassandra 4.0 traffic from tests/fixtures.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <iterator>
#include <ranges>
#include <string>

#include "cql/protocol/responses.hpp"

using namespace cql::protocol;

namespace {

// Builds a byte vector field by field, following the spec's notations. Independent of
// byte_writer on purpose: these are the expected bytes.
struct spec_bytes {
    byte_buffer b;

    spec_bytes& byte(int v) {
        b.push_back(static_cast<std::uint8_t>(v));
        return *this;
    }
    spec_bytes& raw(std::initializer_list<int> v) {
        for (int x : v)
            byte(x);
        return *this;
    }
    spec_bytes& raw(std::string_view s) {
        for (char c : s)
            byte(static_cast<unsigned char>(c));
        return *this;
    }
    spec_bytes& short_(int v) { return byte((v >> 8) & 0xFF).byte(v & 0xFF); }
    spec_bytes& int_(std::int64_t v) {
        auto u = static_cast<std::uint32_t>(v);
        return byte(static_cast<int>(u >> 24))
            .byte(static_cast<int>((u >> 16) & 0xFF))
            .byte(static_cast<int>((u >> 8) & 0xFF))
            .byte(static_cast<int>(u & 0xFF));
    }
    spec_bytes& string(std::string_view s) { return short_(static_cast<int>(s.size())).raw(s); }
    spec_bytes& string_list(std::initializer_list<std::string_view> l) {
        short_(static_cast<int>(l.size()));
        for (auto s : l)
            string(s);
        return *this;
    }
    spec_bytes& bytes(std::string_view s) {
        return int_(static_cast<std::int64_t>(s.size())).raw(s);
    }
    spec_bytes& null_bytes() { return int_(-1); }
    spec_bytes& short_bytes(std::string_view s) {
        return short_(static_cast<int>(s.size())).raw(s);
    }
    operator byte_buffer() const { return b; }
};

std::string_view sv(bytes_view b) {
    return as_string_view(b);
}

// Every strict prefix of a valid message is an error value. Each prefix is copied into its
// own exactly-sized allocation so that a sanitizer sees any read past it.
void check_truncations(protocol_version v, opcode op, const byte_buffer& body) {
    for (std::size_t k = 0; k < body.size(); ++k) {
        byte_buffer cut(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(k));
        response r;
        auto ec = decode_response_message(v, op, cut, r);
        INFO("truncated at " << k << " of " << body.size());
        CHECK(ec);
    }
}

// Decodes `body`, checks that it re-encodes to the same bytes and that every truncation
// fails. The response holds views into `body`.
response roundtrip(protocol_version v, opcode op, const byte_buffer& body) {
    response r;
    auto ec = decode_response_message(v, op, body, r);
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    CHECK(response_opcode(r) == op);
    byte_buffer out;
    byte_writer w(out);
    encode_response_message(w, v, r);
    CHECK(out == body);
    check_truncations(v, op, body);
    return r;
}

template <class T>
const T& as(const response& r) {
    REQUIRE(std::holds_alternative<T>(r));
    return std::get<T>(r);
}

const error_response& decode_error(protocol_version v, const byte_buffer& body, response& holder) {
    holder = roundtrip(v, opcode::error, body);
    return as<error_response>(holder);
}

inet_address ipv4(int a, int b, int c, int d, int port = 0) {
    inet_address x;
    x.size = 4;
    x.bytes[0] = static_cast<std::uint8_t>(a);
    x.bytes[1] = static_cast<std::uint8_t>(b);
    x.bytes[2] = static_cast<std::uint8_t>(c);
    x.bytes[3] = static_cast<std::uint8_t>(d);
    x.port = port;
    return x;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// ERROR

TEST_CASE("errors without extra fields") {
    const std::pair<std::int32_t, error_code> codes[] = {
        {0x0000, error_code::server_error},      {0x000A, error_code::protocol_error},
        {0x0100, error_code::bad_credentials},   {0x1001, error_code::overloaded},
        {0x1002, error_code::is_bootstrapping},  {0x1003, error_code::truncate_error},
        {0x1600, error_code::cdc_write_failure}, {0x2000, error_code::syntax_error},
        {0x2100, error_code::unauthorized},      {0x2200, error_code::invalid},
        {0x2300, error_code::config_error},
    };
    for (auto [wire, code] : codes) {
        for (auto v : {protocol_version::v4, protocol_version::v5}) {
            byte_buffer body = spec_bytes{}.int_(wire).string("something went wrong");
            response holder;
            const auto& e = decode_error(v, body, holder);
            CHECK(e.code == code);
            CHECK(e.message == "something went wrong");
            CHECK(std::holds_alternative<std::monostate>(e.details));

            byte_buffer longer = body;
            longer.push_back(0);
            response r;
            CHECK(decode_response_message(v, opcode::error, longer, r) ==
                  codec_errc::trailing_bytes);
        }
    }
    CHECK(to_string(error_code::syntax_error) == "SYNTAX_ERROR");
    CHECK(exception_name(error_code::invalid) == "InvalidRequestException");
    CHECK(to_string(static_cast<error_code>(0x7777)) == "UNKNOWN");
    CHECK(is_known_error_code(0x2500));
    CHECK_FALSE(is_known_error_code(0x2600));
}

TEST_CASE("error 0x1000 unavailable: <cl><required><alive>") {
    byte_buffer body = spec_bytes{}
                           .int_(0x1000)
                           .string("Cannot achieve consistency")
                           .short_(0x0006)
                           .int_(2)
                           .int_(1);
    response holder;
    const auto& e = decode_error(protocol_version::v4, body, holder);
    CHECK(e.code == error_code::unavailable);
    const auto& d = std::get<unavailable_info>(e.details);
    CHECK(d.cl == consistency::local_quorum);
    CHECK(d.required == 2);
    CHECK(d.alive == 1);
}

TEST_CASE("error 0x1100 write timeout, with v5 contentions for CAS") {
    SECTION("v4 SIMPLE") {
        byte_buffer body =
            spec_bytes{}.int_(0x1100).string("timeout").short_(0x0001).int_(0).int_(1).string(
                "SIMPLE");
        response holder;
        const auto& d =
            std::get<write_timeout_info>(decode_error(protocol_version::v4, body, holder).details);
        CHECK(d.cl == consistency::one);
        CHECK(d.received == 0);
        CHECK(d.block_for == 1);
        CHECK(d.write_type == "SIMPLE");
        CHECK(parse_write_type(d.write_type) == write_type::simple);
        CHECK_FALSE(d.contentions);
    }
    SECTION("v4 CAS has no contentions") {
        byte_buffer body =
            spec_bytes{}.int_(0x1100).string("cas").short_(0x0009).int_(1).int_(2).string("CAS");
        response holder;
        const auto& d =
            std::get<write_timeout_info>(decode_error(protocol_version::v4, body, holder).details);
        CHECK(d.write_type == "CAS");
        CHECK_FALSE(d.contentions);
    }
    SECTION("v5 CAS carries a [short] contentions") {
        byte_buffer body = spec_bytes{}
                               .int_(0x1100)
                               .string("cas")
                               .short_(0x0009)
                               .int_(1)
                               .int_(2)
                               .string("CAS")
                               .short_(3);
        response holder;
        const auto& d =
            std::get<write_timeout_info>(decode_error(protocol_version::v5, body, holder).details);
        CHECK(d.cl == consistency::local_serial);
        CHECK(parse_write_type(d.write_type) == write_type::cas);
        REQUIRE(d.contentions);
        CHECK(*d.contentions == 3);
    }
    SECTION("v5 BATCH_LOG has none") {
        byte_buffer body =
            spec_bytes{}.int_(0x1100).string("t").short_(0x0004).int_(1).int_(2).string(
                "BATCH_LOG");
        response holder;
        const auto& d =
            std::get<write_timeout_info>(decode_error(protocol_version::v5, body, holder).details);
        CHECK(parse_write_type(d.write_type) == write_type::batch_log);
        CHECK_FALSE(d.contentions);
    }
}

TEST_CASE("error 0x1200 read timeout: <cl><received><blockfor><data_present>") {
    byte_buffer body =
        spec_bytes{}.int_(0x1200).string("read timeout").short_(0x0004).int_(1).int_(2).byte(0);
    response holder;
    const auto& d =
        std::get<read_timeout_info>(decode_error(protocol_version::v4, body, holder).details);
    CHECK(d.cl == consistency::quorum);
    CHECK(d.received == 1);
    CHECK(d.block_for == 2);
    CHECK_FALSE(d.data_present);
}

TEST_CASE("error 0x1300 read failure: v4 numfailures, v5 reasonmap") {
    SECTION("v4") {
        byte_buffer body =
            spec_bytes{}.int_(0x1300).string("rf").short_(0x0004).int_(1).int_(2).int_(1).byte(1);
        response holder;
        const auto& d =
            std::get<read_failure_info>(decode_error(protocol_version::v4, body, holder).details);
        CHECK(d.received == 1);
        CHECK(d.block_for == 2);
        CHECK(d.num_failures == 1);
        CHECK(d.reasons.empty());
        CHECK(d.data_present);
    }
    SECTION("v5") {
        byte_buffer body = spec_bytes{}
                               .int_(0x1300)
                               .string("rf")
                               .short_(0x0004)
                               .int_(1)
                               .int_(3)
                               .int_(2)  // reasonmap: 2 entries
                               .byte(4)
                               .raw({127, 0, 0, 2})
                               .short_(0x0001)  // READ_TOO_MANY_TOMBSTONES
                               .byte(16)
                               .raw({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
                               .short_(0x0000)
                               .byte(0);
        response holder;
        const auto& d =
            std::get<read_failure_info>(decode_error(protocol_version::v5, body, holder).details);
        CHECK(d.block_for == 3);
        CHECK(d.num_failures == 2);
        REQUIRE(d.reasons.size() == 2);
        CHECK(d.reasons[0].endpoint == ipv4(127, 0, 0, 2));
        CHECK(d.reasons[0].code == 1);
        CHECK(d.reasons[1].endpoint.size == 16);
        CHECK(d.reasons[1].endpoint.bytes[15] == 1);
        CHECK_FALSE(d.data_present);
    }
    SECTION("a hostile reasonmap count") {
        byte_buffer body = spec_bytes{}
                               .int_(0x1300)
                               .string("rf")
                               .short_(4)
                               .int_(1)
                               .int_(3)
                               .int_(0x7FFFFFFF)
                               .byte(0);
        response r;
        CHECK(decode_response_message(protocol_version::v5, opcode::error, body, r) ==
              codec_errc::truncated);
        byte_buffer negative =
            spec_bytes{}.int_(0x1300).string("rf").short_(4).int_(1).int_(3).int_(-1).byte(0);
        CHECK(decode_response_message(protocol_version::v5, opcode::error, negative, r) ==
              codec_errc::invalid_length);
    }
}

TEST_CASE("error 0x1400 function failure: <keyspace><function><arg_types>") {
    byte_buffer body = spec_bytes{}
                           .int_(0x1400)
                           .string("fn failed")
                           .string("ks")
                           .string("f")
                           .string_list({"int", "text"});
    response holder;
    const auto& d =
        std::get<function_failure_info>(decode_error(protocol_version::v4, body, holder).details);
    CHECK(d.keyspace == "ks");
    CHECK(d.function == "f");
    REQUIRE(d.arg_types.size() == 2);
    CHECK(d.arg_types[1] == "text");
}

TEST_CASE("error 0x1500 write failure: v4 numfailures, v5 reasonmap, then writeType") {
    SECTION("v4") {
        byte_buffer body =
            spec_bytes{}.int_(0x1500).string("wf").short_(0x0001).int_(0).int_(1).int_(1).string(
                "BATCH_LOG");
        response holder;
        const auto& d =
            std::get<write_failure_info>(decode_error(protocol_version::v4, body, holder).details);
        CHECK(d.num_failures == 1);
        CHECK(d.write_type == "BATCH_LOG");
    }
    SECTION("v5") {
        byte_buffer body = spec_bytes{}
                               .int_(0x1500)
                               .string("wf")
                               .short_(0x0001)
                               .int_(0)
                               .int_(1)
                               .int_(1)
                               .byte(4)
                               .raw({10, 0, 0, 7})
                               .short_(0x0003)
                               .string("COUNTER");
        response holder;
        const auto& d =
            std::get<write_failure_info>(decode_error(protocol_version::v5, body, holder).details);
        CHECK(d.num_failures == 1);
        REQUIRE(d.reasons.size() == 1);
        CHECK(d.reasons[0].endpoint == ipv4(10, 0, 0, 7));
        CHECK(d.reasons[0].code == 3);
        CHECK(parse_write_type(d.write_type) == write_type::counter);
    }
}

TEST_CASE("error 0x1700 CAS write unknown: <cl><received><blockfor>") {
    byte_buffer body = spec_bytes{}.int_(0x1700).string("unknown").short_(0x0008).int_(0).int_(2);
    response holder;
    const auto& d =
        std::get<cas_write_unknown_info>(decode_error(protocol_version::v5, body, holder).details);
    CHECK(d.cl == consistency::serial);
    CHECK(d.received == 0);
    CHECK(d.block_for == 2);
}

TEST_CASE("error 0x2400 already exists and 0x2500 unprepared") {
    byte_buffer exists = spec_bytes{}.int_(0x2400).string("exists").string("ks").string("");
    response h1;
    const auto& a =
        std::get<already_exists_info>(decode_error(protocol_version::v4, exists, h1).details);
    CHECK(a.keyspace == "ks");
    CHECK(a.table.empty());

    byte_buffer unprepared =
        spec_bytes{}.int_(0x2500).string("unknown id").short_bytes("\x01\x02\x03\x04");
    response h2;
    const auto& u =
        std::get<unprepared_info>(decode_error(protocol_version::v4, unprepared, h2).details);
    CHECK(sv(u.id) == "\x01\x02\x03\x04");
}

TEST_CASE("an error code from the future keeps its extra bytes") {
    byte_buffer body = spec_bytes{}.int_(0x7777).string("new").raw({1, 2, 3});
    response r;
    REQUIRE_FALSE(decode_response_message(protocol_version::v5, opcode::error, body, r));
    const auto& e = as<error_response>(r);
    CHECK(static_cast<std::int32_t>(e.code) == 0x7777);
    CHECK(std::get<unknown_error_info>(e.details).rest.size() == 3);
    byte_buffer out;
    byte_writer w(out);
    encode_response_message(w, protocol_version::v5, r);
    CHECK(out == body);
}

// ---------------------------------------------------------------------------------------
// READY, AUTHENTICATE, SUPPORTED, AUTH_CHALLENGE, AUTH_SUCCESS

TEST_CASE("READY has an empty body") {
    response r = roundtrip(protocol_version::v4, opcode::ready, {});
    CHECK(std::holds_alternative<ready_response>(r));
    byte_buffer one = {0};
    CHECK(decode_response_message(protocol_version::v4, opcode::ready, one, r) ==
          codec_errc::trailing_bytes);
}

TEST_CASE("AUTHENTICATE carries the authenticator class") {
    byte_buffer body = spec_bytes{}.string("org.apache.cassandra.auth.PasswordAuthenticator");
    response r = roundtrip(protocol_version::v4, opcode::authenticate, body);
    CHECK(as<authenticate_response>(r).authenticator ==
          "org.apache.cassandra.auth.PasswordAuthenticator");
}

TEST_CASE("SUPPORTED is a [string multimap]") {
    byte_buffer body = spec_bytes{}
                           .short_(2)
                           .string("PROTOCOL_VERSIONS")
                           .string_list({"3/v3", "4/v4", "5/v5"})
                           .string("COMPRESSION")
                           .string_list({"lz4"});
    response r = roundtrip(protocol_version::v5, opcode::supported, body);
    const auto& s = as<supported_response>(r);
    REQUIRE(s.options.size() == 2);
    const auto* versions = s.find("PROTOCOL_VERSIONS");
    REQUIRE(versions);
    CHECK(versions->size() == 3);
    CHECK((*versions)[2] == "5/v5");
    CHECK(s.find("CQL_VERSION") == nullptr);
}

TEST_CASE("AUTH_CHALLENGE and AUTH_SUCCESS carry a [bytes] token that may be null") {
    byte_buffer token = spec_bytes{}.bytes("abc");
    response r = roundtrip(protocol_version::v4, opcode::auth_challenge, token);
    REQUIRE(as<auth_challenge_response>(r).token);
    CHECK(sv(*as<auth_challenge_response>(r).token) == "abc");

    byte_buffer null_token = spec_bytes{}.null_bytes();
    r = roundtrip(protocol_version::v4, opcode::auth_success, null_token);
    CHECK_FALSE(as<auth_success_response>(r).token);
    byte_buffer empty_token = spec_bytes{}.bytes("");
    r = roundtrip(protocol_version::v4, opcode::auth_success, empty_token);
    REQUIRE(as<auth_success_response>(r).token);
    CHECK(as<auth_success_response>(r).token->empty());
}

// ---------------------------------------------------------------------------------------
// RESULT

TEST_CASE("RESULT Void and Set_keyspace") {
    byte_buffer void_body = spec_bytes{}.int_(0x0001);
    response r = roundtrip(protocol_version::v4, opcode::result, void_body);
    CHECK(std::holds_alternative<void_result>(r));

    byte_buffer ks = spec_bytes{}.int_(0x0003).string("my_ks");
    r = roundtrip(protocol_version::v4, opcode::result, ks);
    CHECK(as<set_keyspace_result>(r).keyspace == "my_ks");

    byte_buffer bad_kind = spec_bytes{}.int_(0x0006);
    CHECK(decode_response_message(protocol_version::v4, opcode::result, bad_kind, r) ==
          codec_errc::invalid_value);
}

TEST_CASE("RESULT Schema_change for every target") {
    SECTION("keyspace") {
        byte_buffer body = spec_bytes{}.int_(5).string("CREATED").string("KEYSPACE").string("ks");
        response r = roundtrip(protocol_version::v4, opcode::result, body);
        const auto& c = as<schema_change_result>(r).change;
        CHECK(c.change == schema_change_type::created);
        CHECK(c.target == schema_change_target::keyspace);
        CHECK(c.keyspace == "ks");
        CHECK(c.name.empty());
    }
    SECTION("table and type") {
        byte_buffer table =
            spec_bytes{}.int_(5).string("UPDATED").string("TABLE").string("ks").string("t");
        response r = roundtrip(protocol_version::v4, opcode::result, table);
        CHECK(as<schema_change_result>(r).change.change == schema_change_type::updated);
        CHECK(as<schema_change_result>(r).change.name == "t");
        byte_buffer type =
            spec_bytes{}.int_(5).string("DROPPED").string("TYPE").string("ks").string("addr");
        r = roundtrip(protocol_version::v4, opcode::result, type);
        CHECK(as<schema_change_result>(r).change.target == schema_change_target::type);
    }
    SECTION("function and aggregate carry argument types") {
        byte_buffer fn = spec_bytes{}
                             .int_(5)
                             .string("CREATED")
                             .string("FUNCTION")
                             .string("ks")
                             .string("plus")
                             .string_list({"int", "int"});
        response r = roundtrip(protocol_version::v4, opcode::result, fn);
        const auto& c = as<schema_change_result>(r).change;
        CHECK(c.target == schema_change_target::function);
        CHECK(c.name == "plus");
        CHECK(c.arg_types.size() == 2);
        byte_buffer agg = spec_bytes{}
                              .int_(5)
                              .string("DROPPED")
                              .string("AGGREGATE")
                              .string("ks")
                              .string("total")
                              .string_list({"bigint"});
        r = roundtrip(protocol_version::v5, opcode::result, agg);
        CHECK(as<schema_change_result>(r).change.target == schema_change_target::aggregate);
    }
    SECTION("unknown change or target") {
        response r;
        byte_buffer bad = spec_bytes{}.int_(5).string("RENAMED").string("KEYSPACE").string("ks");
        CHECK(decode_response_message(protocol_version::v4, opcode::result, bad, r) ==
              codec_errc::invalid_value);
        byte_buffer bad2 = spec_bytes{}.int_(5).string("CREATED").string("INDEX").string("ks");
        CHECK(decode_response_message(protocol_version::v4, opcode::result, bad2, r) ==
              codec_errc::invalid_value);
    }
}

TEST_CASE("RESULT Rows with a global table spec, iterated with nulls") {
    // 2 columns (k int, v text) of ks.t; rows (1, 'a'), (2, null), (null, '').
    byte_buffer body = spec_bytes{}
                           .int_(0x0002)
                           .int_(0x0001)  // Global_tables_spec
                           .int_(2)
                           .string("ks")
                           .string("t")
                           .string("k")
                           .short_(0x0009)
                           .string("v")
                           .short_(0x000D)
                           .int_(3)
                           .int_(4)
                           .raw({0, 0, 0, 1})
                           .bytes("a")
                           .int_(4)
                           .raw({0, 0, 0, 2})
                           .null_bytes()
                           .null_bytes()
                           .bytes("");
    response r = roundtrip(protocol_version::v4, opcode::result, body);
    const auto& rows = as<rows_result>(r);
    const auto& m = rows.metadata;
    CHECK(m.global_tables_spec);
    CHECK_FALSE(m.no_metadata);
    CHECK_FALSE(m.paging_state);
    CHECK(m.global_spec == table_spec{"ks", "t"});
    REQUIRE(m.columns.size() == 2);
    CHECK(m.columns[0].keyspace == "ks");
    CHECK(m.columns[1].table == "t");
    CHECK(m.columns[0].name == "k");
    CHECK(m.columns[0].type == data_type(type_id::int_));
    CHECK(m.columns[1].type == data_type(type_id::varchar));
    CHECK(rows.row_count == 3);
    CHECK(rows.column_count() == 2);

    // Range of rows, range of cells.
    std::vector<std::string> seen;
    for (row_view row : rows.rows()) {
        CHECK(row.size() == 2);
        for (value_view cell : row)
            seen.push_back(cell.is_null() ? "null" : std::string(sv(cell.data)));
    }
    REQUIRE(seen.size() == 6);
    CHECK(seen[0] == std::string("\0\0\0\x01", 4));
    CHECK(seen[1] == "a");
    CHECK(seen[3] == "null");
    CHECK(seen[4] == "null");
    CHECK(seen[5].empty());

    // Random access within a row, and the cell views point into the body.
    auto it = rows.rows().begin();
    ++it;
    row_view second = *it;
    CHECK(sv(second[0].data) == std::string_view("\0\0\0\x02", 4));
    CHECK(second[1].is_null());
    CHECK(second[0].data.data() >= body.data());
    CHECK(second[0].data.data() < body.data() + body.size());
    auto third = *++it;
    CHECK(third[0].is_null());
    CHECK_FALSE(third[1].is_null());
    CHECK(third[1].data.empty());
    CHECK(++it == rows.rows().end());

    // The flat cursor, skipping unread cells.
    auto c = rows.cursor();
    int n = 0;
    while (c.next_row()) {
        auto first = c.next_cell();
        if (n == 0) CHECK(first.data.size() == 4);
        if (n == 2) CHECK(first.is_null());
        ++n;
    }
    CHECK(n == 3);
}

TEST_CASE("RESULT Rows with per-column specs and a paging state") {
    byte_buffer body = spec_bytes{}
                           .int_(0x0002)
                           .int_(0x0002)  // Has_more_pages
                           .int_(1)
                           .bytes("\x01\x02\x03")
                           .string("ks")
                           .string("t")
                           .string("l")
                           .short_(0x0020)
                           .short_(0x0009)  // list<int>
                           .int_(1)
                           .bytes(std::string_view("\0\0\0\0", 4));
    response r = roundtrip(protocol_version::v4, opcode::result, body);
    const auto& rows = as<rows_result>(r);
    CHECK_FALSE(rows.metadata.global_tables_spec);
    REQUIRE(rows.metadata.paging_state);
    CHECK(sv(*rows.metadata.paging_state) == "\x01\x02\x03");
    REQUIRE(rows.metadata.columns.size() == 1);
    CHECK(rows.metadata.columns[0].keyspace == "ks");
    CHECK(rows.metadata.columns[0].type == list_of(data_type(type_id::int_)));
    CHECK(rows.metadata.wire_flags() == rows_flags::has_more_pages);
}

TEST_CASE("RESULT Rows with No_metadata (and the global flag Cassandra leaves set)") {
    byte_buffer body =
        spec_bytes{}.int_(0x0002).int_(0x0005).int_(2).int_(1).bytes("x").null_bytes();
    response r = roundtrip(protocol_version::v4, opcode::result, body);
    const auto& rows = as<rows_result>(r);
    CHECK(rows.metadata.no_metadata);
    CHECK(rows.metadata.global_tables_spec);
    CHECK(rows.metadata.columns.empty());
    CHECK(rows.column_count() == 2);
    CHECK(rows.row_count == 1);
    auto row = *rows.rows().begin();
    CHECK(sv(row[0].data) == "x");
    CHECK(row[1].is_null());
}

TEST_CASE("RESULT Rows v5 Metadata_changed carries new_metadata_id") {
    byte_buffer body = spec_bytes{}
                           .int_(0x0002)
                           .int_(0x0008 | 0x0002 | 0x0001)
                           .int_(1)
                           .bytes("PS")
                           .short_bytes("\xAA\xBB")
                           .string("ks")
                           .string("t")
                           .string("c")
                           .short_(0x000C)  // uuid
                           .int_(0);
    response r = roundtrip(protocol_version::v5, opcode::result, body);
    const auto& m = as<rows_result>(r).metadata;
    REQUIRE(m.new_metadata_id);
    CHECK(sv(*m.new_metadata_id) == "\xAA\xBB");
    CHECK(sv(*m.paging_state) == "PS");
    CHECK(m.columns[0].type == data_type(type_id::uuid));
    CHECK(as<rows_result>(r).rows().empty());

    // The flag does not exist in v4.
    CHECK(decode_response_message(protocol_version::v4, opcode::result, body, r) ==
          codec_errc::invalid_value);
}

TEST_CASE("decoding into a response that holds a previous result resets every field") {
    byte_buffer first = spec_bytes{}
                            .int_(2)
                            .int_(0x0003)
                            .int_(1)
                            .bytes("PS")
                            .string("ks")
                            .string("t")
                            .string("c")
                            .short_(0x0009)
                            .int_(1)
                            .bytes("abcd");
    byte_buffer second = spec_bytes{}.int_(2).int_(0x0004).int_(2).int_(1).null_bytes().bytes("");
    response r;
    REQUIRE_FALSE(decode_response_message(protocol_version::v4, opcode::result, first, r));
    REQUIRE_FALSE(decode_response_message(protocol_version::v4, opcode::result, second, r));
    const auto& rows = as<rows_result>(r);
    CHECK_FALSE(rows.metadata.paging_state);
    CHECK_FALSE(rows.metadata.global_tables_spec);
    CHECK(rows.metadata.no_metadata);
    CHECK(rows.metadata.columns.empty());
    CHECK(rows.column_count() == 2);
    byte_buffer out;
    byte_writer w(out);
    encode_response_message(w, protocol_version::v4, r);
    CHECK(out == second);

    byte_buffer p5 = spec_bytes{}
                         .int_(4)
                         .short_bytes("ID")
                         .short_bytes("RMID")
                         .int_(0)
                         .int_(0)
                         .int_(0)
                         .int_(4)
                         .int_(0);
    byte_buffer p4 = spec_bytes{}.int_(4).short_bytes("ID").int_(0).int_(0).int_(0).int_(4).int_(0);
    REQUIRE_FALSE(decode_response_message(protocol_version::v5, opcode::result, p5, r));
    CHECK(sv(as<prepared_result>(r).result_metadata_id) == "RMID");
    REQUIRE_FALSE(decode_response_message(protocol_version::v4, opcode::result, p4, r));
    CHECK(as<prepared_result>(r).result_metadata_id.empty());
}

static_assert(std::ranges::forward_range<rows_range>);
static_assert(std::ranges::forward_range<row_view>);

TEST_CASE("malformed rows are errors") {
    auto rows_body = [](std::int32_t flags, std::int32_t columns, std::int32_t rows,
                        std::initializer_list<int> content) {
        spec_bytes b;
        b.int_(2).int_(flags).int_(columns).int_(rows).raw(content);
        return byte_buffer(b);
    };
    response r;
    auto decode = [&](const byte_buffer& body) {
        return decode_response_message(protocol_version::v4, opcode::result, body, r);
    };
    // A cell length that runs past the buffer.
    CHECK(decode(rows_body(4, 1, 1, {0, 0, 0, 5, 'a', 'b'})) == codec_errc::truncated);
    // A cell length of 2^31 - 1.
    CHECK(decode(rows_body(4, 1, 1, {0x7F, 0xFF, 0xFF, 0xFF, 'a'})) == codec_errc::truncated);
    // Fewer cells than rows * columns.
    CHECK(decode(rows_body(4, 2, 1, {0xFF, 0xFF, 0xFF, 0xFF})) == codec_errc::truncated);
    // A huge row count with little content.
    CHECK(decode(rows_body(4, 0x7FFFFFFF, 0x7FFFFFFF, {0, 0, 0, 0})) == codec_errc::truncated);
    // More content than the rows.
    CHECK(decode(rows_body(4, 1, 1, {0, 0, 0, 0, 9})) == codec_errc::trailing_bytes);
    // Negative counts.
    CHECK(decode(rows_body(4, -1, 0, {})) == codec_errc::invalid_length);
    CHECK(decode(rows_body(4, 1, -1, {})) == codec_errc::invalid_length);
    // Unknown flag bits.
    CHECK(decode(rows_body(0x10, 0, 0, {})) == codec_errc::invalid_value);
    // Has_more_pages with a null paging state.
    byte_buffer null_paging = spec_bytes{}.int_(2).int_(6).int_(0).null_bytes().int_(0);
    CHECK(decode(null_paging) == codec_errc::invalid_value);
    // A column count that the metadata cannot hold.
    byte_buffer many_columns = spec_bytes{}.int_(2).int_(1).int_(100000).string("k").string("t");
    CHECK(decode(many_columns) == codec_errc::truncated);
    // An unknown type id in a column spec.
    byte_buffer bad_type = spec_bytes{}
                               .int_(2)
                               .int_(1)
                               .int_(1)
                               .string("k")
                               .string("t")
                               .string("c")
                               .short_(0x0077)
                               .int_(0);
    CHECK(decode(bad_type));
    // Zero columns: any number of empty rows is well-formed.
    CHECK_FALSE(decode(rows_body(4, 0, 3, {})));
    CHECK(as<rows_result>(r).rows().size() == 3);

    CHECK(validate_rows_content({}, 0, 0) == std::error_code{});
}

TEST_CASE("RESULT Prepared, v4 and v5") {
    SECTION("v4: id, bind markers with pk indexes, no result metadata") {
        byte_buffer body = spec_bytes{}
                               .int_(0x0004)
                               .short_bytes("\xDE\xAD\xBE\xEF")
                               .int_(0x0001)  // bind markers: Global_tables_spec
                               .int_(2)
                               .int_(1)  // pk_count
                               .short_(1)
                               .string("ks")
                               .string("t")
                               .string("v")
                               .short_(0x000D)
                               .string("k")
                               .short_(0x0009)
                               .int_(0x0004)  // result metadata: No_metadata
                               .int_(0);
        response r = roundtrip(protocol_version::v4, opcode::result, body);
        const auto& p = as<prepared_result>(r);
        CHECK(sv(p.id) == "\xDE\xAD\xBE\xEF");
        CHECK(p.result_metadata_id.empty());
        CHECK(p.metadata.global_tables_spec);
        CHECK(p.metadata.global_spec == table_spec{"ks", "t"});
        REQUIRE(p.metadata.pk_indexes.size() == 1);
        CHECK(p.metadata.pk_indexes[0] == 1);
        REQUIRE(p.metadata.columns.size() == 2);
        CHECK(p.metadata.columns[1].name == "k");
        CHECK(p.metadata.columns[1].keyspace == "ks");
        CHECK(p.result.no_metadata);
        CHECK(p.result.column_count == 0);
    }
    SECTION("v5: result_metadata_id and a SELECT's result metadata") {
        byte_buffer body = spec_bytes{}
                               .int_(0x0004)
                               .short_bytes("ID")
                               .short_bytes("RMID")
                               .int_(0)  // no global spec
                               .int_(1)
                               .int_(0)  // pk_count 0
                               .string("ks")
                               .string("t")
                               .string("k")
                               .short_(0x0009)
                               .int_(0x0001)
                               .int_(1)
                               .string("ks")
                               .string("t")
                               .string("v")
                               .short_(0x0013);  // smallint
        response r = roundtrip(protocol_version::v5, opcode::result, body);
        const auto& p = as<prepared_result>(r);
        CHECK(sv(p.id) == "ID");
        CHECK(sv(p.result_metadata_id) == "RMID");
        CHECK_FALSE(p.metadata.global_tables_spec);
        CHECK(p.metadata.pk_indexes.empty());
        CHECK(p.metadata.columns[0].table == "t");
        REQUIRE(p.result.columns.size() == 1);
        CHECK(p.result.columns[0].type == data_type(type_id::smallint));
    }
    SECTION("v3: no pk indexes") {
        byte_buffer body = spec_bytes{}
                               .int_(0x0004)
                               .short_bytes("ID")
                               .int_(1)
                               .int_(1)
                               .string("ks")
                               .string("t")
                               .string("k")
                               .short_(0x0009)
                               .int_(4)
                               .int_(0);
        response r = roundtrip(protocol_version::v3, opcode::result, body);
        CHECK(as<prepared_result>(r).metadata.columns.size() == 1);
    }
    SECTION("hostile pk count") {
        byte_buffer body =
            spec_bytes{}.int_(4).short_bytes("ID").int_(0).int_(0).int_(0x7FFFFFFF).short_(0);
        response r;
        CHECK(decode_response_message(protocol_version::v4, opcode::result, body, r) ==
              codec_errc::truncated);
    }
}

// ---------------------------------------------------------------------------------------
// EVENT

TEST_CASE("EVENT topology, status and schema changes") {
    byte_buffer topo = spec_bytes{}
                           .string("TOPOLOGY_CHANGE")
                           .string("NEW_NODE")
                           .byte(4)
                           .raw({127, 0, 0, 2})
                           .int_(9042);
    response r = roundtrip(protocol_version::v4, opcode::event, topo);
    CHECK(as<topology_change_event>(r).change == topology_change_type::new_node);
    CHECK(as<topology_change_event>(r).address == ipv4(127, 0, 0, 2, 9042));

    byte_buffer removed = spec_bytes{}
                              .string("TOPOLOGY_CHANGE")
                              .string("REMOVED_NODE")
                              .byte(4)
                              .raw({10, 1, 2, 3})
                              .int_(9042);
    r = roundtrip(protocol_version::v4, opcode::event, removed);
    CHECK(as<topology_change_event>(r).change == topology_change_type::removed_node);

    byte_buffer status = spec_bytes{}
                             .string("STATUS_CHANGE")
                             .string("DOWN")
                             .byte(16)
                             .raw({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
                             .int_(9043);
    r = roundtrip(protocol_version::v5, opcode::event, status);
    CHECK(as<status_change_event>(r).change == status_change_type::down);
    CHECK(as<status_change_event>(r).address.size == 16);
    CHECK(as<status_change_event>(r).address.port == 9043);

    byte_buffer schema = spec_bytes{}
                             .string("SCHEMA_CHANGE")
                             .string("CREATED")
                             .string("TABLE")
                             .string("ks")
                             .string("t");
    r = roundtrip(protocol_version::v4, opcode::event, schema);
    CHECK(as<schema_change_event>(r).change ==
          schema_change{schema_change_type::created, schema_change_target::table, "ks", "t", {}});

    byte_buffer unknown = spec_bytes{}.string("SOMETHING_ELSE");
    CHECK(decode_response_message(protocol_version::v4, opcode::event, unknown, r) ==
          codec_errc::invalid_value);
    byte_buffer bad_status =
        spec_bytes{}.string("STATUS_CHANGE").string("SIDEWAYS").byte(4).raw({1, 2, 3, 4}).int_(1);
    CHECK(decode_response_message(protocol_version::v4, opcode::event, bad_status, r) ==
          codec_errc::invalid_value);
}

// ---------------------------------------------------------------------------------------
// Frames

TEST_CASE("decode_response reads the prefix and rejects requests") {
    body_prefix prefix;
    prefix.tracing_id = uuid_bytes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    prefix.warnings = {"Batch too large"};
    set_keyspace_result msg{"ks"};
    byte_buffer out;
    encode_response_frame(out, protocol_version::v4, 7, msg, &prefix);

    byte_buffer expected = spec_bytes{}
                               .raw({0x84, 0x0A, 0x00, 0x07, 0x08})
                               .int_(16 + 2 + 2 + 15 + 4 + 2 + 2)
                               .raw({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
                               .string_list({"Batch too large"})
                               .int_(3)
                               .string("ks");
    CHECK(out == expected);

    auto split = split_frame(out);
    REQUIRE(split.consumed == out.size());
    response r;
    body_prefix got;
    REQUIRE_FALSE(decode_response(split.frame, r, got));
    CHECK(as<set_keyspace_result>(r).keyspace == "ks");
    CHECK(got.tracing_id == prefix.tracing_id);
    REQUIRE(got.warnings.size() == 1);
    CHECK(got.warnings[0] == "Batch too large");

    // The same frame with the direction bit cleared is a request.
    auto f = split.frame;
    f.header.is_response = false;
    CHECK(decode_response(f, r, got) == codec_errc::unexpected_direction);
    // A request opcode with the response bit.
    f = split.frame;
    f.header.op = opcode::query;
    CHECK(decode_response(f, r, got) == codec_errc::unexpected_direction);
    CHECK(decode_response_message(protocol_version::v4, opcode::startup, {}, r) ==
          codec_errc::unexpected_direction);
    // A truncated prefix.
    f = split.frame;
    f.body = f.body.first(10);
    CHECK(decode_response(f, r, got) == codec_errc::truncated);
}

TEST_CASE("encode_response_frame of the variant and of an event on stream -1") {
    response r = status_change_event{status_change_type::up, ipv4(127, 0, 0, 3, 9042)};
    byte_buffer out;
    encode_response_frame(out, protocol_version::v5, -1, r);
    byte_buffer expected = spec_bytes{}
                               .raw({0x85, 0x00, 0xFF, 0xFF, 0x0C})
                               .int_(15 + 4 + 1 + 4 + 4)
                               .string("STATUS_CHANGE")
                               .string("UP")
                               .byte(4)
                               .raw({127, 0, 0, 3})
                               .int_(9042);
    CHECK(out == expected);
}

TEST_CASE("rows_result_writer appends cells straight into the frame") {
    result_metadata m;
    m.column_count = 2;
    m.global_tables_spec = true;
    m.global_spec = {"ks", "t"};
    m.columns = {{"ks", "t", "k", data_type(type_id::int_)},
                 {"ks", "t", "v", data_type(type_id::varchar)}};

    byte_buffer out;
    auto at = begin_response_frame(out, protocol_version::v4, 3, opcode::result);
    rows_result_writer rw(out, protocol_version::v4, m);
    const std::uint8_t one[] = {0, 0, 0, 1};
    rw.add_cell(bytes_view(one));
    rw.add_cell(as_bytes("a"));
    auto c = rw.begin_cell();
    out.insert(out.end(), {0, 0, 0, 2});
    rw.end_cell(c);
    rw.add_null();
    rw.add_cell(value_view::null());
    rw.add_cell(std::optional<bytes_view>(as_bytes("")));
    REQUIRE_FALSE(rw.finish());
    end_response_frame(out, at);

    byte_buffer body = spec_bytes{}
                           .int_(2)
                           .int_(1)
                           .int_(2)
                           .string("ks")
                           .string("t")
                           .string("k")
                           .short_(9)
                           .string("v")
                           .short_(0x0D)
                           .int_(3)
                           .int_(4)
                           .raw({0, 0, 0, 1})
                           .bytes("a")
                           .int_(4)
                           .raw({0, 0, 0, 2})
                           .null_bytes()
                           .null_bytes()
                           .bytes("");
    byte_buffer expected =
        spec_bytes{}.raw({0x84, 0, 0, 3, 0x08}).int_(static_cast<std::int64_t>(body.size()));
    expected.insert(expected.end(), body.begin(), body.end());
    CHECK(out == expected);

    // An incomplete last row is reported.
    byte_buffer out2;
    rows_result_writer rw2(out2, protocol_version::v4, m);
    rw2.add_null();
    rw2.add_null();
    rw2.add_null();
    CHECK(rw2.finish() == codec_errc::invalid_value);
}

// ---------------------------------------------------------------------------------------
// Real traffic

namespace {

byte_buffer read_fixture(const std::string& name) {
    std::ifstream in(std::string(CQL_FIXTURES_DIR) + "/cassandra-4.0-traffic/" + name,
                     std::ios::binary);
    REQUIRE(in);
    return byte_buffer(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The frames of a server stream. v5 streams switch to uncompressed segments after READY:
// a 6-byte header (17-bit little-endian payload length, self-contained bit, CRC24), the
// payload, a 4-byte CRC32. A minimal reader (no CRC check; segment.hpp does it properly);
// frames may span segments.
std::vector<byte_buffer> server_frames(const byte_buffer& stream, bool v5_segments) {
    std::vector<byte_buffer> frames;
    byte_buffer pending;
    bool segments = false;
    std::size_t pos = 0;
    auto take_frames = [&](byte_buffer& buf) {
        std::size_t used = 0;
        while (true) {
            auto s = split_frame(bytes_view(buf).subspan(used));
            REQUIRE_FALSE(s.error);
            if (s.consumed == 0) break;
            frames.emplace_back(buf.begin() + static_cast<std::ptrdiff_t>(used),
                                buf.begin() + static_cast<std::ptrdiff_t>(used + s.consumed));
            used += s.consumed;
            if (v5_segments && !segments && s.frame.header.op == opcode::ready) {
                segments = true;
                break;
            }
        }
        buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(used));
    };
    while (pos < stream.size()) {
        if (!segments) {
            auto s = split_frame(bytes_view(stream).subspan(pos));
            REQUIRE_FALSE(s.error);
            REQUIRE(s.consumed > 0);
            byte_buffer one(stream.begin() + static_cast<std::ptrdiff_t>(pos),
                            stream.begin() + static_cast<std::ptrdiff_t>(pos + s.consumed));
            pos += s.consumed;
            take_frames(one);
            continue;
        }
        REQUIRE(stream.size() - pos >= 6);
        std::uint32_t h = std::uint32_t{stream[pos]} | (std::uint32_t{stream[pos + 1]} << 8) |
                          (std::uint32_t{stream[pos + 2]} << 16);
        std::size_t len = h & 0x1FFFF;
        REQUIRE(stream.size() - pos >= 6 + len + 4);
        pending.insert(pending.end(), stream.begin() + static_cast<std::ptrdiff_t>(pos + 6),
                       stream.begin() + static_cast<std::ptrdiff_t>(pos + 6 + len));
        pos += 6 + len + 4;
        take_frames(pending);
    }
    CHECK(pending.empty());
    return frames;
}

struct traffic_stats {
    int frames = 0, errors = 0, rows = 0, cells = 0, prepared = 0, schema_changes = 0, events = 0,
        voids = 0, warned = 0, paged = 0, supported = 0;
    std::vector<std::string> error_messages;
    std::vector<error_code> error_codes;
};

// Every frame decodes, walks and re-encodes to its exact bytes.
traffic_stats check_stream(const std::vector<byte_buffer>& frames) {
    traffic_stats st;
    for (const auto& bytes : frames) {
        auto s = split_frame(bytes);
        REQUIRE(s.consumed == bytes.size());
        response r;
        body_prefix prefix;
        auto ec = decode_response(s.frame, r, prefix);
        INFO("frame " << st.frames << " opcode " << to_string(s.frame.header.op) << ": "
                      << ec.message());
        REQUIRE_FALSE(ec);
        ++st.frames;
        if (!prefix.warnings.empty()) ++st.warned;

        byte_buffer out;
        encode_response_frame(out, s.frame.header.version, s.frame.header.stream, r, &prefix);
        CHECK(out == bytes);

        // Small real messages also fail cleanly at every truncation.
        if (s.frame.body.size() < 2048) {
            byte_reader pr(s.frame.body);
            body_prefix ignored;
            read_body_prefix(pr, s.frame.header, ignored);
            auto msg = pr.rest();
            for (std::size_t k = 0; k < msg.size(); ++k) {
                byte_buffer cut(msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(k));
                response t;
                if (!decode_response_message(s.frame.header.version, s.frame.header.op, cut, t)) {
                    FAIL("a truncated real message decoded, cut at " << k);
                }
            }
        }

        if (auto* e = std::get_if<error_response>(&r)) {
            ++st.errors;
            st.error_codes.push_back(e->code);
            st.error_messages.emplace_back(e->message);
        } else if (auto* rows = std::get_if<rows_result>(&r)) {
            ++st.rows;
            if (rows->metadata.paging_state) ++st.paged;
            // Cells of fixed-size types have their size (or are null).
            const auto& cols = rows->metadata.columns;
            for (row_view row : rows->rows()) {
                std::size_t i = 0;
                for (value_view cell : row) {
                    ++st.cells;
                    if (i < cols.size() && !cell.is_null()) {
                        auto fixed = fixed_value_size(cols[i].type);
                        if (fixed != 0 && !cell.data.empty()) CHECK(cell.data.size() == fixed);
                    }
                    ++i;
                }
                CHECK(i == static_cast<std::size_t>(rows->column_count()));
            }
        } else if (std::holds_alternative<prepared_result>(r)) {
            ++st.prepared;
        } else if (std::holds_alternative<schema_change_result>(r)) {
            ++st.schema_changes;
        } else if (std::holds_alternative<void_result>(r)) {
            ++st.voids;
        } else if (std::holds_alternative<supported_response>(r)) {
            ++st.supported;
        } else if (std::holds_alternative<schema_change_event>(r) ||
                   std::holds_alternative<status_change_event>(r) ||
                   std::holds_alternative<topology_change_event>(r)) {
            ++st.events;
        }
    }
    return st;
}

void check_scenario_errors(const traffic_stats& st) {
    REQUIRE(st.errors == 3);
    CHECK(st.error_codes[0] == error_code::syntax_error);
    CHECK(st.error_messages[0].rfind("line 1:0 no viable alternative", 0) == 0);
    CHECK(st.error_codes[1] == error_code::invalid);
    CHECK(st.error_messages[1] == "table no_such_table does not exist");
    CHECK(st.error_codes[2] == error_code::invalid);
    CHECK(st.error_messages[2].find("smallint") != std::string::npos);
}

}  // namespace

TEST_CASE("Cassandra 4.0 v4 traffic: every server frame decodes and re-encodes exactly") {
    auto control = check_stream(server_frames(read_fixture("conn00.server.bin"), false));
    CHECK(control.supported == 1);
    CHECK(control.events == 10);  // SCHEMA_CHANGE events from the DDL
    CHECK(control.rows > 50);

    auto st = check_stream(server_frames(read_fixture("conn01.server.bin"), false));
    CHECK(st.frames > 100);
    check_scenario_errors(st);
    CHECK(st.prepared >= 2);
    CHECK(st.schema_changes >= 5);
    CHECK(st.paged > 10);
    CHECK(st.warned > 0);
    CHECK(st.cells > 10000);
}

TEST_CASE("Cassandra 4.0 v5 traffic (segments): every server frame decodes and re-encodes") {
    auto control = check_stream(server_frames(read_fixture("conn02.server.bin"), true));
    CHECK(control.supported == 1);
    CHECK(control.events == 10);

    auto st = check_stream(server_frames(read_fixture("conn03.server.bin"), true));
    check_scenario_errors(st);
    CHECK(st.prepared >= 2);
    CHECK(st.schema_changes >= 5);
    CHECK(st.paged > 10);
    CHECK(st.cells > 10000);
}
