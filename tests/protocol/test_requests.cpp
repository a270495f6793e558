// Request messages, with byte vectors written from native_protocol_v4.spec and
// native_protocol_v5.spec section 4.1, and real traffic from Cassandra 4.0.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <new>
#include <string>

#include "cql/protocol/requests.hpp"

using namespace cql::protocol;

// Counts global allocations, to check that the hot path allocates nothing.
namespace {
std::atomic<long> allocations{0};
}
[[gnu::noinline]] void* operator new(std::size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new[](std::size_t n) {
    return operator new(n);
}
[[gnu::noinline]] void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
[[gnu::noinline]] void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
    return operator new(n, t);
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}

namespace {

// Builds a byte vector from hand-written bytes and raw characters.
struct bb {
    byte_buffer out;
    bb& b(std::initializer_list<int> v) {
        for (int x : v)
            out.push_back(static_cast<std::uint8_t>(x));
        return *this;
    }
    bb& s(std::string_view chars) {
        out.insert(out.end(), chars.begin(), chars.end());
        return *this;
    }
    bb& r(const byte_buffer& more) {
        out.insert(out.end(), more.begin(), more.end());
        return *this;
    }
};

template <class M>
byte_buffer encode_body(const M& m, protocol_version v) {
    byte_buffer out;
    byte_writer w(out);
    REQUIRE(encode(w, m, v) == std::error_code{});
    return out;
}

// Decodes a body with the opcode of M and returns the message.
template <class M>
M decode_body(const byte_buffer& body, protocol_version v, request_storage& storage) {
    request out;
    REQUIRE(decode_request_body(M::op, body, v, out, storage) == std::error_code{});
    REQUIRE(std::holds_alternative<M>(out));
    return std::get<M>(out);
}

// Every strict prefix of a valid body must be rejected, without crashing.
void check_every_truncation_fails(opcode op, const byte_buffer& body, protocol_version v) {
    request_storage storage;
    for (std::size_t n = 0; n < body.size(); ++n) {
        request out;
        auto ec = decode_request_body(op, bytes_view(body).first(n), v, out, storage);
        INFO("opcode " << to_string(op) << " truncated to " << n << " of " << body.size());
        CHECK(ec);
    }
    // And the same through a whole frame.
    for (std::size_t n = 0; n < body.size(); ++n) {
        frame_view f;
        f.header.version = v;
        f.header.op = op;
        f.header.body_length = static_cast<std::uint32_t>(n);
        f.body = bytes_view(body).first(n);
        decoded_request d;
        CHECK(decode_request(f, d));
    }
}

byte_buffer read_file(const std::string& name) {
    std::ifstream in(std::string(CQL_FIXTURES_DIR) + "/cassandra-4.0-traffic/" + name,
                     std::ios::binary);
    REQUIRE(in.good());
    return byte_buffer(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

// ---------------------------------------------------------------- OPTIONS, STARTUP

TEST_CASE("OPTIONS has an empty body") {
    auto frame = bb().b({0x04, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00}).out;
    byte_buffer out;
    REQUIRE(encode_request_frame(out, protocol_version::v4, 0, options_request{}) ==
            std::error_code{});
    CHECK(out == frame);

    auto split = split_frame(frame);
    REQUIRE(split.consumed == frame.size());
    decoded_request d;
    REQUIRE(decode_request(split.frame, d) == std::error_code{});
    CHECK(std::holds_alternative<options_request>(d.message));
    CHECK(opcode_of(d.message) == opcode::options);

    check_every_truncation_fails(opcode::options, {}, protocol_version::v4);  // nothing to cut
    request r;
    request_storage st;
    CHECK(decode_request_body(opcode::options, bb().b({0x00}).out, protocol_version::v4, r, st) ==
          codec_errc::trailing_bytes);
}

TEST_CASE("STARTUP is a [string map]") {
    // [short] 2, then "CQL_VERSION" -> "3.0.0", "COMPRESSION" -> "lz4"
    auto body = bb().b({0x00, 0x02})
                    .b({0x00, 0x0B})
                    .s("CQL_VERSION")
                    .b({0x00, 0x05})
                    .s("3.0.0")
                    .b({0x00, 0x0B})
                    .s("COMPRESSION")
                    .b({0x00, 0x03})
                    .s("lz4")
                    .out;
    request_storage st;
    auto m = decode_body<startup_request>(body, protocol_version::v4, st);
    REQUIRE(m.options.size() == 2);
    CHECK(m.options[0].first == "CQL_VERSION");
    CHECK(m.options[0].second == "3.0.0");
    CHECK(m.options[1].first == "COMPRESSION");
    CHECK(m.options[1].second == "lz4");
    CHECK(m.option("COMPRESSION") == std::optional<std::string_view>("lz4"));
    CHECK_FALSE(m.option("DRIVER_NAME"));

    string_pair opts[] = {{"CQL_VERSION", "3.0.0"}, {"COMPRESSION", "lz4"}};
    CHECK(encode_body(startup_request{opts}, protocol_version::v4) == body);
    CHECK(encode_body(startup_request{opts}, protocol_version::v5) == body);
    check_every_truncation_fails(opcode::startup, body, protocol_version::v4);
}

// ---------------------------------------------------------------- AUTH_RESPONSE, REGISTER

TEST_CASE("AUTH_RESPONSE carries a [bytes] token that may be null or empty") {
    request_storage st;
    // SASL PLAIN: \0user\0password
    auto body = bb().b({0x00, 0x00, 0x00, 0x0A, 0x00}).s("user").b({0x00}).s("pass").out;
    auto m = decode_body<auth_response_request>(body, protocol_version::v4, st);
    REQUIRE(m.token);
    CHECK(as_string_view(*m.token) == std::string_view("\0user\0pass", 10));
    CHECK(encode_body(m, protocol_version::v4) == body);
    check_every_truncation_fails(opcode::auth_response, body, protocol_version::v4);

    auto null_body = bb().b({0xFF, 0xFF, 0xFF, 0xFF}).out;
    auto n = decode_body<auth_response_request>(null_body, protocol_version::v5, st);
    CHECK_FALSE(n.token);
    CHECK(encode_body(auth_response_request{}, protocol_version::v5) == null_body);

    auto empty_body = bb().b({0x00, 0x00, 0x00, 0x00}).out;
    auto e = decode_body<auth_response_request>(empty_body, protocol_version::v5, st);
    REQUIRE(e.token);
    CHECK(e.token->empty());
    CHECK(encode_body(e, protocol_version::v5) == empty_body);
    CHECK_FALSE(e == n);
}

TEST_CASE("REGISTER is a [string list]") {
    auto body = bb().b({0x00, 0x02, 0x00, 0x0F})
                    .s("TOPOLOGY_CHANGE")
                    .b({0x00, 0x0D})
                    .s("SCHEMA_CHANGE")
                    .out;
    request_storage st;
    auto m = decode_body<register_request>(body, protocol_version::v4, st);
    REQUIRE(m.event_types.size() == 2);
    CHECK(m.event_types[0] == "TOPOLOGY_CHANGE");
    CHECK(m.event_types[1] == "SCHEMA_CHANGE");
    std::string_view events[] = {"TOPOLOGY_CHANGE", "SCHEMA_CHANGE"};
    CHECK(encode_body(register_request{events}, protocol_version::v4) == body);
    check_every_truncation_fails(opcode::register_, body, protocol_version::v4);
}

// ---------------------------------------------------------------- QUERY

TEST_CASE("QUERY v4 with every optional field and positional values") {
    // <query><consistency><flags: byte>[<n><value>...][page size][paging state][serial][ts]
    auto body = bb().b({0x00, 0x00, 0x00, 0x0D})
                    .s("SELECT * FROM")
                    .b({0x00, 0x06})  // LOCAL_QUORUM
                    .b({0x3F})        // values|skip|page|paging|serial|timestamp
                    .b({0x00, 0x03})  // 3 values
                    .b({0x00, 0x00, 0x00, 0x02, 0xCA, 0xFE})
                    .b({0xFF, 0xFF, 0xFF, 0xFF})  // null
                    .b({0xFF, 0xFF, 0xFF, 0xFE})  // not set
                    .b({0x00, 0x00, 0x13, 0x88})  // page size 5000
                    .b({0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03})
                    .b({0x00, 0x09})  // LOCAL_SERIAL
                    .b({0x00, 0x05, 0xB8, 0x4B, 0x54, 0x6C, 0x1C, 0x00})
                    .out;
    request_storage st;
    auto m = decode_body<query_request>(body, protocol_version::v4, st);
    CHECK(m.query == "SELECT * FROM");
    const auto& p = m.params;
    CHECK(p.consistency_level == consistency::local_quorum);
    REQUIRE(p.values.size() == 3);
    CHECK(p.values[0].state == value_view::kind::bytes);
    CHECK(p.values[0].data.size() == 2);
    CHECK(p.values[0].data[0] == 0xCA);
    CHECK(p.values[1].is_null());
    CHECK(p.values[2].is_unset());
    CHECK(p.names.empty());
    CHECK(p.skip_metadata);
    CHECK(p.page_size == 5000);
    REQUIRE(p.paging_state);
    CHECK(p.paging_state->size() == 3);
    CHECK(p.serial_consistency == consistency::local_serial);
    CHECK(p.default_timestamp == 0x0005B84B546C1C00);
    CHECK_FALSE(p.keyspace);
    CHECK_FALSE(p.now_in_seconds);
    CHECK(p.flags() == 0x3F);

    CHECK(encode_body(m, protocol_version::v4) == body);

    // The same message built by hand encodes to the same bytes.
    std::uint8_t cafe[] = {0xCA, 0xFE};
    std::uint8_t ps[] = {1, 2, 3};
    value_view vals[] = {value_view::of(cafe), value_view::null(), value_view::unset()};
    query_request q;
    q.query = "SELECT * FROM";
    q.params.consistency_level = consistency::local_quorum;
    q.params.values = vals;
    q.params.skip_metadata = true;
    q.params.page_size = 5000;
    q.params.paging_state = bytes_view(ps);
    q.params.serial_consistency = consistency::local_serial;
    q.params.default_timestamp = 0x0005B84B546C1C00;
    CHECK(encode_body(q, protocol_version::v4) == body);
    CHECK(q == m);

    check_every_truncation_fails(opcode::query, body, protocol_version::v4);
}

TEST_CASE("QUERY with named values (flag 0x40)") {
    auto body = bb().b({0x00, 0x00, 0x00, 0x04})
                    .s("q :a")
                    .b({0x00, 0x01})  // ONE
                    .b({0x41})        // values | names
                    .b({0x00, 0x02})
                    .b({0x00, 0x01})
                    .s("a")
                    .b({0x00, 0x00, 0x00, 0x01, 0x07})
                    .b({0x00, 0x02})
                    .s("bb")
                    .b({0xFF, 0xFF, 0xFF, 0xFF})
                    .out;
    request_storage st;
    auto m = decode_body<query_request>(body, protocol_version::v4, st);
    REQUIRE(m.params.values.size() == 2);
    REQUIRE(m.params.names.size() == 2);
    CHECK(m.params.names[0] == "a");
    CHECK(m.params.names[1] == "bb");
    CHECK(m.params.values[0].data[0] == 0x07);
    CHECK(m.params.values[1].is_null());
    CHECK(encode_body(m, protocol_version::v4) == body);
    check_every_truncation_fails(opcode::query, body, protocol_version::v4);

    // Names that do not match the values cannot be encoded, and nothing is written.
    std::string_view one_name[] = {"a"};
    query_request bad = m;
    bad.params.names = one_name;
    byte_buffer out{0xAA};
    byte_writer w(out);
    CHECK(encode(w, bad, protocol_version::v4) == codec_errc::invalid_value);
    CHECK(out == byte_buffer{0xAA});
}

TEST_CASE("QUERY v5: [int] flags, keyspace and now_in_seconds") {
    auto body = bb().b({0x00, 0x00, 0x00, 0x01})
                    .s("q")
                    .b({0x00, 0x0A})                          // LOCAL_ONE
                    .b({0x00, 0x00, 0x01, 0x85})              // values|page_size|keyspace|now
                    .b({0x00, 0x01, 0x00, 0x00, 0x00, 0x00})  // one empty value
                    .b({0x00, 0x00, 0x00, 0x64})              // page size 100
                    .b({0x00, 0x02})
                    .s("ks")
                    .b({0x65, 0x00, 0x00, 0x01})  // now
                    .out;
    request_storage st;
    auto m = decode_body<query_request>(body, protocol_version::v5, st);
    CHECK(m.params.consistency_level == consistency::local_one);
    REQUIRE(m.params.values.size() == 1);
    CHECK(m.params.values[0].state == value_view::kind::bytes);
    CHECK(m.params.values[0].data.empty());
    CHECK(m.params.page_size == 100);
    CHECK(m.params.keyspace == std::optional<std::string_view>("ks"));
    CHECK(m.params.now_in_seconds == 0x65000001);
    CHECK(encode_body(m, protocol_version::v5) == body);
    check_every_truncation_fails(opcode::query, body, protocol_version::v5);

    // Neither field exists in v4: encoding refuses rather than dropping them.
    byte_buffer out;
    byte_writer w(out);
    CHECK(encode(w, m, protocol_version::v4) == codec_errc::invalid_value);
    CHECK(out.empty());

    // Without them, the v4 and v5 encodings differ only in the width of <flags>.
    query_request plain = m;
    plain.params.keyspace.reset();
    plain.params.now_in_seconds.reset();
    auto v4 = encode_body(plain, protocol_version::v4);
    auto v5 = encode_body(plain, protocol_version::v5);
    REQUIRE(v5.size() == v4.size() + 3);
    CHECK(v4[7] == 0x05);
    CHECK(byte_buffer(v5.begin() + 7, v5.begin() + 11) == byte_buffer{0x00, 0x00, 0x00, 0x05});
}

TEST_CASE("QUERY without values, as the Python driver sends it") {
    // From conn00: "SELECT * FROM system.peers_v2", ONE, flags 0.
    auto body = bb().b({0x00, 0x00, 0x00, 0x1D})
                    .s("SELECT * FROM system.peers_v2")
                    .b({0x00, 0x01, 0x00})
                    .out;
    request_storage st;
    auto m = decode_body<query_request>(body, protocol_version::v4, st);
    CHECK(m.query == "SELECT * FROM system.peers_v2");
    CHECK(m.params.consistency_level == consistency::one);
    CHECK(m.params.flags() == 0);
    CHECK(encode_body(m, protocol_version::v4) == body);
}

// ---------------------------------------------------------------- PREPARE

TEST_CASE("PREPARE: a [long string] in v4; v5 adds [int] flags and keyspace") {
    auto v4 = bb().b({0x00, 0x00, 0x00, 0x08}).s("SELECT 1").out;
    request_storage st;
    auto m4 = decode_body<prepare_request>(v4, protocol_version::v4, st);
    CHECK(m4.query == "SELECT 1");
    CHECK_FALSE(m4.keyspace);
    CHECK(encode_body(m4, protocol_version::v4) == v4);
    check_every_truncation_fails(opcode::prepare, v4, protocol_version::v4);

    auto v5 = bb().r(v4).b({0x00, 0x00, 0x00, 0x00}).out;
    CHECK(decode_body<prepare_request>(v5, protocol_version::v5, st) == m4);
    CHECK(encode_body(m4, protocol_version::v5) == v5);
    check_every_truncation_fails(opcode::prepare, v5, protocol_version::v5);

    auto v5ks = bb().r(v4).b({0x00, 0x00, 0x00, 0x01, 0x00, 0x03}).s("ks1").out;
    auto m5 = decode_body<prepare_request>(v5ks, protocol_version::v5, st);
    CHECK(m5.keyspace == std::optional<std::string_view>("ks1"));
    CHECK(encode_body(m5, protocol_version::v5) == v5ks);
    check_every_truncation_fails(opcode::prepare, v5ks, protocol_version::v5);

    byte_buffer out;
    byte_writer w(out);
    CHECK(encode(w, m5, protocol_version::v4) == codec_errc::invalid_value);

    // A v5 body read as v4 has trailing bytes; unknown v5 prepare flags are refused.
    request r;
    CHECK(decode_request_body(opcode::prepare, v5, protocol_version::v4, r, st) ==
          codec_errc::trailing_bytes);
    auto bad = bb().r(v4).b({0x00, 0x00, 0x00, 0x02}).out;
    CHECK(decode_request_body(opcode::prepare, bad, protocol_version::v5, r, st) ==
          codec_errc::invalid_value);
}

// ---------------------------------------------------------------- EXECUTE

TEST_CASE("EXECUTE v4: <id><query_parameters>") {
    auto body = bb().b({0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF})
                    .b({0x00, 0x04})  // QUORUM
                    .b({0x07})        // values | skip_metadata | page_size
                    .b({0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x2A})
                    .b({0x00, 0x00, 0x01, 0x4D})  // 333
                    .out;
    request_storage st;
    auto m = decode_body<execute_request>(body, protocol_version::v4, st);
    REQUIRE(m.id.size() == 4);
    CHECK(m.id[0] == 0xDE);
    CHECK(m.id[3] == 0xEF);
    CHECK(m.result_metadata_id.empty());
    CHECK(m.params.consistency_level == consistency::quorum);
    REQUIRE(m.params.values.size() == 1);
    CHECK(m.params.values[0].data.size() == 4);
    CHECK(m.params.values[0].data[3] == 42);
    CHECK(m.params.skip_metadata);
    CHECK(m.params.page_size == 333);
    CHECK(encode_body(m, protocol_version::v4) == body);
    check_every_truncation_fails(opcode::execute, body, protocol_version::v4);
}

TEST_CASE("EXECUTE v5: <id><result_metadata_id><query_parameters>") {
    auto body = bb().b({0x00, 0x02, 0x01, 0x02})
                    .b({0x00, 0x03, 0x0A, 0x0B, 0x0C})
                    .b({0x00, 0x01})
                    .b({0x00, 0x00, 0x00, 0x30})  // serial | timestamp
                    .b({0x00, 0x08})
                    .b({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07})
                    .out;
    request_storage st;
    auto m = decode_body<execute_request>(body, protocol_version::v5, st);
    CHECK(m.id.size() == 2);
    REQUIRE(m.result_metadata_id.size() == 3);
    CHECK(m.result_metadata_id[2] == 0x0C);
    CHECK(m.params.values.empty());
    CHECK(m.params.serial_consistency == consistency::serial);
    CHECK(m.params.default_timestamp == 7);
    CHECK(encode_body(m, protocol_version::v5) == body);
    check_every_truncation_fails(opcode::execute, body, protocol_version::v5);

    // v4 has no result_metadata_id.
    byte_buffer out;
    byte_writer w(out);
    CHECK(encode(w, m, protocol_version::v4) == codec_errc::invalid_value);
    execute_request no_md = m;
    no_md.result_metadata_id = {};
    auto v4 = encode_body(no_md, protocol_version::v4);
    CHECK(v4 == bb().b({0x00, 0x02, 0x01, 0x02, 0x00, 0x01, 0x30, 0x00, 0x08})
                    .b({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07})
                    .out);
}

TEST_CASE("clear_execute_flag clears one query flag of an EXECUTE frame, nothing else") {
    const value_view vals[] = {value_view::of(as_bytes("x"))};
    for (auto v : {protocol_version::v4, protocol_version::v5}) {
        execute_request e;
        const std::uint8_t id[] = {1, 2, 3};
        const std::uint8_t rmid[] = {9, 9};
        e.id = id;
        if (v == protocol_version::v5) e.result_metadata_id = rmid;
        e.params.values = vals;
        e.params.skip_metadata = true;
        e.params.page_size = 100;
        body_prefix payload;  // a custom payload before the message
        payload.custom_payload.push_back({"k", value_view::of(as_bytes("value"))});
        byte_buffer frame;
        REQUIRE_FALSE(encode_request_frame(frame, v, 7, e, &payload));
        auto expected_frame = frame;
        e.params.skip_metadata = false;
        expected_frame.clear();
        REQUIRE_FALSE(encode_request_frame(expected_frame, v, 7, e, &payload));
        REQUIRE_FALSE(clear_execute_flag(frame, query_flags::skip_metadata));
        CHECK(frame == expected_frame);
        REQUIRE_FALSE(clear_execute_flag(frame, query_flags::skip_metadata));  // (twice: same)
        CHECK(frame == expected_frame);
        // Not an EXECUTE, or not a whole frame: refused, unchanged.
        byte_buffer query;
        REQUIRE_FALSE(encode_request_frame(query, v, 1, query_request{"SELECT 1", {}}));
        const auto query_before = query;
        CHECK(clear_execute_flag(query, query_flags::skip_metadata));
        CHECK(query == query_before);
        CHECK(clear_execute_flag(std::span(frame).first(frame.size() - 1),
                                 query_flags::skip_metadata));
        CHECK(clear_execute_flag(std::span(frame).first(12), query_flags::skip_metadata));
    }
}

TEST_CASE("set_request_consistency rewrites the consistency of QUERY, EXECUTE and BATCH") {
    const value_view vals[] = {value_view::of(as_bytes("x")), value_view::null()};
    const std::uint8_t id[] = {1, 2, 3};
    body_prefix payload;
    payload.custom_payload.push_back({"k", value_view::of(as_bytes("value"))});
    for (auto v : {protocol_version::v4, protocol_version::v5}) {
        // Each frame, encoded at QUORUM then rewritten to ONE, equals the one encoded at ONE.
        auto check = [&](auto make) {
            byte_buffer frame, expected;
            REQUIRE_FALSE(make(frame, consistency::quorum));
            REQUIRE_FALSE(make(expected, consistency::one));
            REQUIRE(frame != expected);
            REQUIRE_FALSE(set_request_consistency(frame, consistency::one));
            CHECK(frame == expected);
        };
        check([&](byte_buffer& out, consistency cl) {
            query_request q{"SELECT * FROM t WHERE k = ?", {}};
            q.params.consistency_level = cl;
            q.params.values = vals;
            return encode_request_frame(out, v, 3, q, &payload);
        });
        check([&](byte_buffer& out, consistency cl) {
            execute_request e;
            e.id = id;
            if (v == protocol_version::v5) e.result_metadata_id = id;
            e.params.consistency_level = cl;
            e.params.values = vals;
            return encode_request_frame(out, v, 3, e);
        });
        check([&](byte_buffer& out, consistency cl) {
            const batch_statement stmts[] = {batch_statement::prepared(id, vals),
                                             batch_statement::prepared(id, {})};
            batch_request b;
            b.statements = stmts;
            b.consistency_level = cl;
            b.serial_consistency = consistency::local_serial;
            return encode_request_frame(out, v, 3, b);
        });
        byte_buffer prepare;
        REQUIRE_FALSE(encode_request_frame(prepare, v, 1, prepare_request{"SELECT 1", {}}));
        CHECK(set_request_consistency(prepare, consistency::one));
    }
}

// ---------------------------------------------------------------- BATCH

TEST_CASE("BATCH v4: statements by string and by id, serial consistency, timestamp") {
    auto body = bb().b({0x01})        // unlogged
                    .b({0x00, 0x02})  // 2 statements
                    .b({0x00, 0x00, 0x00, 0x00, 0x08})
                    .s("INSERT a")
                    .b({0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05})
                    .b({0x01, 0x00, 0x02, 0xAB, 0xCD})
                    .b({0x00, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE})
                    .b({0x00, 0x06})  // LOCAL_QUORUM
                    .b({0x30})        // serial | timestamp
                    .b({0x00, 0x09})
                    .b({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00})
                    .out;
    request_storage st;
    auto m = decode_body<batch_request>(body, protocol_version::v4, st);
    CHECK(m.type == batch_type::unlogged);
    REQUIRE(m.statements.size() == 2);
    CHECK(m.statements[0].type == batch_statement::kind::query);
    CHECK(m.statements[0].query == "INSERT a");
    REQUIRE(m.statements[0].values.size() == 1);
    CHECK(m.statements[0].values[0].data[0] == 5);
    CHECK(m.statements[1].type == batch_statement::kind::prepared);
    REQUIRE(m.statements[1].id.size() == 2);
    CHECK(m.statements[1].id[1] == 0xCD);
    REQUIRE(m.statements[1].values.size() == 2);
    CHECK(m.statements[1].values[0].is_null());
    CHECK(m.statements[1].values[1].is_unset());
    CHECK(m.consistency_level == consistency::local_quorum);
    CHECK(m.serial_consistency == consistency::local_serial);
    CHECK(m.default_timestamp == 256);
    CHECK(m.flags() == 0x30);
    CHECK(encode_body(m, protocol_version::v4) == body);

    // Built by hand.
    std::uint8_t five[] = {5};
    std::uint8_t id[] = {0xAB, 0xCD};
    value_view v0[] = {value_view::of(five)};
    value_view v1[] = {value_view::null(), value_view::unset()};
    batch_statement stmts[] = {batch_statement::simple("INSERT a", v0),
                               batch_statement::prepared(id, v1)};
    batch_request b;
    b.type = batch_type::unlogged;
    b.statements = stmts;
    b.consistency_level = consistency::local_quorum;
    b.serial_consistency = consistency::local_serial;
    b.default_timestamp = 256;
    CHECK(encode_body(b, protocol_version::v4) == body);
    CHECK(b == m);

    check_every_truncation_fails(opcode::batch, body, protocol_version::v4);
}

TEST_CASE("BATCH v5: [int] flags, keyspace, now_in_seconds; empty batch") {
    auto body = bb().b({0x02})        // counter
                    .b({0x00, 0x00})  // no statements
                    .b({0x00, 0x01})
                    .b({0x00, 0x00, 0x01, 0x80})
                    .b({0x00, 0x01})
                    .s("k")
                    .b({0x00, 0x00, 0x00, 0x09})
                    .out;
    request_storage st;
    auto m = decode_body<batch_request>(body, protocol_version::v5, st);
    CHECK(m.type == batch_type::counter);
    CHECK(m.statements.empty());
    CHECK(m.keyspace == std::optional<std::string_view>("k"));
    CHECK(m.now_in_seconds == 9);
    CHECK_FALSE(m.serial_consistency);
    CHECK(encode_body(m, protocol_version::v5) == body);
    check_every_truncation_fails(opcode::batch, body, protocol_version::v5);

    byte_buffer out;
    byte_writer w(out);
    CHECK(encode(w, m, protocol_version::v4) == codec_errc::invalid_value);
    CHECK(out.empty());
}

TEST_CASE("BATCH with many statements keeps every span valid") {
    // 300 statements of 3 values each: the decoder must not reallocate under earlier spans.
    bb b;
    b.b({0x00, 0x01, 0x2C});
    for (int i = 0; i < 300; ++i) {
        b.b({0x01, 0x00, 0x01, i & 0xFF, 0x00, 0x03});
        for (int j = 0; j < 3; ++j)
            b.b({0x00, 0x00, 0x00, 0x01, (i + j) & 0xFF});
    }
    b.b({0x00, 0x01, 0x00});
    request_storage st;
    auto m = decode_body<batch_request>(b.out, protocol_version::v4, st);
    REQUIRE(m.statements.size() == 300);
    for (int i = 0; i < 300; ++i) {
        REQUIRE(m.statements[static_cast<std::size_t>(i)].values.size() == 3);
        CHECK(m.statements[static_cast<std::size_t>(i)].values[2].data[0] == ((i + 2) & 0xFF));
    }
    CHECK(encode_body(m, protocol_version::v4) == b.out);
}

// ---------------------------------------------------------------- bad input

TEST_CASE("unknown flag bits are rejected") {
    request_storage st;
    request r;
    auto query_with_flags = [](std::initializer_list<int> flags) {
        return bb().b({0x00, 0x00, 0x00, 0x01}).s("q").b({0x00, 0x01}).b(flags).out;
    };
    // v4: 0x80 is not a flag (keyspace exists only in v5).
    CHECK(decode_request_body(opcode::query, query_with_flags({0x80}), protocol_version::v4, r,
                              st) == codec_errc::invalid_value);
    // v5: 0x200 and above are unknown.
    CHECK(decode_request_body(opcode::query, query_with_flags({0x00, 0x00, 0x02, 0x00}),
                              protocol_version::v5, r, st) == codec_errc::invalid_value);
    CHECK(decode_request_body(opcode::query, query_with_flags({0x80, 0x00, 0x00, 0x00}),
                              protocol_version::v5, r, st) == codec_errc::invalid_value);
    // EXECUTE shares the parameters.
    auto exec = bb().b({0x00, 0x01, 0x01, 0x00, 0x01, 0x80}).out;
    CHECK(decode_request_body(opcode::execute, exec, protocol_version::v4, r, st) ==
          codec_errc::invalid_value);

    // BATCH: the four low bits must be 0, names (0x40) cannot work, 0x80 is v5 only.
    for (int f : {0x01, 0x02, 0x04, 0x08, 0x40, 0x80}) {
        auto batch = bb().b({0x00, 0x00, 0x00, 0x00, 0x01, f}).out;
        INFO("batch flag " << f);
        CHECK(decode_request_body(opcode::batch, batch, protocol_version::v4, r, st) ==
              codec_errc::invalid_value);
    }
    auto batch5 = bb().b({0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x02, 0x00}).out;
    CHECK(decode_request_body(opcode::batch, batch5, protocol_version::v5, r, st) ==
          codec_errc::invalid_value);
}

TEST_CASE("invalid consistencies, batch types, statement kinds and lengths are rejected") {
    request_storage st;
    request r;
    // Consistency 0x000B does not exist.
    auto q = bb().b({0x00, 0x00, 0x00, 0x01}).s("q").b({0x00, 0x0B, 0x00}).out;
    CHECK(decode_request_body(opcode::query, q, protocol_version::v4, r, st) ==
          codec_errc::invalid_value);
    // Nor does serial consistency 0xFFFF.
    auto qs = bb().b({0x00, 0x00, 0x00, 0x01}).s("q").b({0x00, 0x01, 0x10, 0xFF, 0xFF}).out;
    CHECK(decode_request_body(opcode::query, qs, protocol_version::v4, r, st) ==
          codec_errc::invalid_value);
    // Batch type 3.
    auto bt = bb().b({0x03, 0x00, 0x00, 0x00, 0x01, 0x00}).out;
    CHECK(decode_request_body(opcode::batch, bt, protocol_version::v4, r, st) ==
          codec_errc::invalid_value);
    // Statement kind 2.
    auto bk = bb().b({0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00}).out;
    CHECK(decode_request_body(opcode::batch, bk, protocol_version::v4, r, st) ==
          codec_errc::invalid_value);
    // Batch consistency 0x0100.
    auto bc = bb().b({0x00, 0x00, 0x00, 0x01, 0x00, 0x00}).out;
    CHECK(decode_request_body(opcode::batch, bc, protocol_version::v4, r, st) ==
          codec_errc::invalid_value);
    // A value of length -3.
    auto vl = bb().b({0x00, 0x00, 0x00, 0x01})
                  .s("q")
                  .b({0x00, 0x01, 0x01, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFD})
                  .out;
    CHECK(decode_request_body(opcode::query, vl, protocol_version::v4, r, st) ==
          codec_errc::invalid_length);
    // A negative [long string] length.
    auto ls = bb().b({0xFF, 0xFF, 0xFF, 0xFF}).out;
    CHECK(decode_request_body(opcode::prepare, ls, protocol_version::v4, r, st) ==
          codec_errc::invalid_length);
    // A hostile value count with nothing behind it.
    auto hc = bb().b({0x00, 0x00, 0x00, 0x01}).s("q").b({0x00, 0x01, 0x01, 0xFF, 0xFF}).out;
    CHECK(decode_request_body(opcode::query, hc, protocol_version::v4, r, st) ==
          codec_errc::truncated);
    // A hostile statement count.
    auto hs = bb().b({0x00, 0xFF, 0xFF, 0x00}).out;
    CHECK(decode_request_body(opcode::batch, hs, protocol_version::v4, r, st) ==
          codec_errc::truncated);
}

TEST_CASE("response opcodes, response frames and trailing bytes are rejected") {
    request_storage st;
    request r;
    for (auto op : {opcode::error, opcode::ready, opcode::authenticate, opcode::supported,
                    opcode::result, opcode::event, opcode::auth_challenge, opcode::auth_success}) {
        INFO(to_string(op));
        CHECK(decode_request_body(op, {}, protocol_version::v4, r, st) ==
              codec_errc::unknown_opcode);
        frame_view f;
        f.header.op = op;
        decoded_request d;
        CHECK(decode_request(f, d) == codec_errc::unknown_opcode);
    }
    // A request opcode in a response frame.
    frame_view f;
    f.header.op = opcode::options;
    f.header.is_response = true;
    decoded_request d;
    CHECK(decode_request(f, d) == codec_errc::unexpected_direction);

    // Trailing bytes after a complete message.
    auto reg = bb().b({0x00, 0x00, 0x00}).out;
    CHECK(decode_request_body(opcode::register_, reg, protocol_version::v4, r, st) ==
          codec_errc::trailing_bytes);
}

TEST_CASE("encoding refuses what the protocol cannot express and writes nothing") {
    byte_buffer out{1, 2, 3};
    query_request q;
    q.query = "q";
    q.params.consistency_level = static_cast<consistency>(0x0042);
    CHECK(encode_request_frame(out, protocol_version::v4, 1, q) == codec_errc::invalid_value);
    CHECK(out == byte_buffer{1, 2, 3});

    q.params.consistency_level = consistency::one;
    q.params.serial_consistency = static_cast<consistency>(0x0042);
    CHECK(encode_request_frame(out, protocol_version::v4, 1, q) == codec_errc::invalid_value);
    CHECK(out == byte_buffer{1, 2, 3});

    std::vector<value_view> many(65536, value_view::null());
    q.params.serial_consistency.reset();
    q.params.values = many;
    CHECK(encode_request_frame(out, protocol_version::v5, 1, q) == codec_errc::invalid_value);
    CHECK(out == byte_buffer{1, 2, 3});
    many.resize(65535);
    q.params.values = many;
    CHECK(encode_request_frame(out, protocol_version::v5, 1, q) == std::error_code{});

    batch_request b;
    b.type = static_cast<batch_type>(7);
    out = {1};
    CHECK(encode_request_frame(out, protocol_version::v4, 1, b) == codec_errc::invalid_value);
    CHECK(out == byte_buffer{1});
}

// ---------------------------------------------------------------- frames

TEST_CASE("encode_request_frame writes header, prefix and body, and appends") {
    byte_buffer out{0xEE};  // something already queued
    std::uint8_t id[] = {0x01, 0x02};
    execute_request e;
    e.id = id;
    e.params.consistency_level = consistency::local_quorum;
    REQUIRE(encode_request_frame(out, protocol_version::v4, 0x0102, e, nullptr, true) ==
            std::error_code{});
    auto expected = bb().b({0xEE})
                        .b({0x04, 0x02, 0x01, 0x02, 0x0A, 0x00, 0x00, 0x00, 0x07})
                        .b({0x00, 0x02, 0x01, 0x02, 0x00, 0x06, 0x00})
                        .out;
    CHECK(out == expected);

    // With a custom payload: flag 0x04 and the [bytes map] first in the body.
    body_prefix prefix;
    std::uint8_t pv[] = {0x09};
    prefix.custom_payload.emplace_back("k", value_view::of(pv));
    out.clear();
    REQUIRE(encode_request_frame(out, protocol_version::v5, 5, e, &prefix) == std::error_code{});
    auto body = bb().b({0x00, 0x01, 0x00, 0x01})
                    .s("k")
                    .b({0x00, 0x00, 0x00, 0x01, 0x09})
                    .b({0x00, 0x02, 0x01, 0x02, 0x00, 0x00})  // id, empty result_metadata_id
                    .b({0x00, 0x06, 0x00, 0x00, 0x00, 0x00})
                    .out;
    auto framed =
        bb().b({0x05, 0x04, 0x00, 0x05, 0x0A, 0x00, 0x00, 0x00, static_cast<int>(body.size())})
            .r(body)
            .out;
    CHECK(out == framed);

    auto split = split_frame(out);
    REQUIRE(split.consumed == out.size());
    decoded_request d;
    REQUIRE(decode_request(split.frame, d) == std::error_code{});
    CHECK(d.stream == 5);
    CHECK_FALSE(d.tracing);
    REQUIRE(d.prefix.custom_payload.size() == 1);
    CHECK(d.prefix.custom_payload[0].first == "k");
    REQUIRE(std::holds_alternative<execute_request>(d.message));
    CHECK(std::get<execute_request>(d.message) == e);

    // The generic overload and the variant give the same bytes.
    byte_buffer a, c;
    REQUIRE(encode_request_frame(a, protocol_version::v4, 3, prepare_request{"SELECT 1", {}}) ==
            std::error_code{});
    REQUIRE(encode_request_frame(c, protocol_version::v4, 3,
                                 request{prepare_request{"SELECT 1", {}}}) == std::error_code{});
    CHECK(a == c);
    CHECK(a == bb().b({0x04, 0x00, 0x00, 0x03, 0x09, 0x00, 0x00, 0x00, 0x0C})
                   .b({0x00, 0x00, 0x00, 0x08})
                   .s("SELECT 1")
                   .out);
}

TEST_CASE("encoding QUERY and EXECUTE frames allocates nothing but the caller's buffer") {
    std::uint8_t a[] = {0, 0, 0, 1};
    std::uint8_t id[16] = {};
    value_view vals[] = {value_view::of(a), value_view::null(), value_view::unset()};
    query_request q;
    q.query = "SELECT * FROM t WHERE k = ?";
    q.params.values = vals;
    q.params.page_size = 100;
    q.params.consistency_level = consistency::local_quorum;
    execute_request e;
    e.id = id;
    e.params.values = vals;
    body_prefix prefix;  // empty: no custom payload
    byte_buffer out;
    out.reserve(4096);
    const auto before = allocations.load();
    bool all_ok = true;  // no Catch assertion inside the measured window
    for (int i = 0; i < 10; ++i) {
        all_ok = !encode_request_frame(out, protocol_version::v4, 1, q) && all_ok;
        all_ok = !encode_request_frame(out, protocol_version::v5, 2, e, &prefix, true) && all_ok;
    }
    const auto after = allocations.load();
    CHECK(all_ok);
    CHECK(after == before);
    CHECK(out.size() < 4096);
}

TEST_CASE("a decoded request can be moved without breaking its spans") {
    auto body = bb().b({0x00, 0x00, 0x00, 0x01})
                    .s("q")
                    .b({0x00, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x2A})
                    .out;
    auto frame =
        bb().b({0x04, 0x00, 0x00, 0x01, 0x07, 0x00, 0x00, 0x00, static_cast<int>(body.size())})
            .r(body)
            .out;
    auto split = split_frame(frame);
    decoded_request d;
    REQUIRE(decode_request(split.frame, d) == std::error_code{});
    decoded_request moved = std::move(d);
    const auto& q = std::get<query_request>(moved.message);
    REQUIRE(q.params.values.size() == 1);
    CHECK(q.params.values.data() == moved.storage.values.data());
    CHECK(q.params.values[0].data[0] == 0x2A);
}

// ---------------------------------------------------------------- real traffic

namespace {

struct traffic_stats {
    std::map<opcode, int> count;
    int frames = 0;
};

// Decodes every frame of a plain frame stream (no segments), re-encodes each decoded
// message and compares with the original bytes.
void check_frames(bytes_view data, traffic_stats& stats, std::size_t max_frames = SIZE_MAX) {
    decoded_request d;
    byte_buffer again;
    while (!data.empty() && static_cast<std::size_t>(stats.frames) < max_frames) {
        auto split = split_frame(data);
        REQUIRE_FALSE(split.error);
        REQUIRE(split.consumed > 0);
        auto ec = decode_request(split.frame, d);
        INFO("frame " << stats.frames << " opcode " << to_string(split.frame.header.op));
        REQUIRE(ec == std::error_code{});
        again.clear();
        REQUIRE(encode_request_frame(again, split.frame.header.version, d.stream, d.message,
                                     &d.prefix, d.tracing) == std::error_code{});
        REQUIRE(again.size() == split.consumed);
        // Byte equality, header flags included (the driver sets none we do not derive).
        CHECK(std::equal(again.begin(), again.end(), data.begin()));
        ++stats.count[split.frame.header.op];
        ++stats.frames;
        data = data.subspan(split.consumed);
    }
}

// Minimal private unwrapping of uncompressed v5 segments (the segment codec proper is
// someone else's file): 3 bytes little-endian (17 bits payload length, bit 17
// self-contained), 3 bytes CRC24, payload, 4 bytes CRC32. CRCs are not checked here.
byte_buffer unwrap_segments(bytes_view data) {
    byte_buffer payload;
    while (!data.empty()) {
        REQUIRE(data.size() >= 6);
        std::uint32_t h = data[0] | (data[1] << 8) | (data[2] << 16);
        std::size_t len = h & 0x1FFFF;
        REQUIRE(data.size() >= 6 + len + 4);
        payload.insert(payload.end(), data.begin() + 6, data.begin() + 6 + static_cast<long>(len));
        data = data.subspan(6 + len + 4);
    }
    return payload;
}

}  // namespace

TEST_CASE("conn00 (v4): OPTIONS, STARTUP, REGISTER, QUERYs decode and re-encode exactly") {
    auto data = read_file("conn00.client.bin");

    // The first frames, field by field.
    auto s0 = split_frame(data);
    decoded_request d;
    REQUIRE(decode_request(s0.frame, d) == std::error_code{});
    CHECK(std::holds_alternative<options_request>(d.message));

    auto rest = bytes_view(data).subspan(s0.consumed);
    auto s1 = split_frame(rest);
    REQUIRE(decode_request(s1.frame, d) == std::error_code{});
    CHECK(d.stream == 1);
    const auto& startup = std::get<startup_request>(d.message);
    CHECK(startup.option("CQL_VERSION") == std::optional<std::string_view>("3.4.5"));
    CHECK(startup.option("DRIVER_NAME") ==
          std::optional<std::string_view>("DataStax Python Driver"));

    rest = rest.subspan(s1.consumed);
    auto s2 = split_frame(rest);
    REQUIRE(decode_request(s2.frame, d) == std::error_code{});
    const auto& reg = std::get<register_request>(d.message);
    REQUIRE(reg.event_types.size() == 3);
    CHECK(reg.event_types[0] == "TOPOLOGY_CHANGE");
    CHECK(reg.event_types[1] == "STATUS_CHANGE");
    CHECK(reg.event_types[2] == "SCHEMA_CHANGE");

    rest = rest.subspan(s2.consumed);
    auto s3 = split_frame(rest);
    REQUIRE(decode_request(s3.frame, d) == std::error_code{});
    const auto& q = std::get<query_request>(d.message);
    CHECK(q.query == "SELECT * FROM system.peers_v2");
    CHECK(q.params.consistency_level == consistency::one);

    traffic_stats stats;
    check_frames(data, stats);
    CHECK(stats.frames == 85);
    CHECK(stats.count[opcode::query] == 82);
}

TEST_CASE("conn01 (v4): every request of the scenario decodes and re-encodes exactly") {
    auto data = read_file("conn01.client.bin");
    traffic_stats stats;
    check_frames(data, stats);
    CHECK(stats.count[opcode::startup] == 1);
    CHECK(stats.count[opcode::query] > 0);
    CHECK(stats.count[opcode::prepare] > 0);
    CHECK(stats.count[opcode::execute] > 0);
    CHECK(stats.count[opcode::batch] > 0);
}

TEST_CASE("conn02/conn03 (v5): plain STARTUP, then the frames inside segments") {
    for (const char* name : {"conn02.client.bin", "conn03.client.bin"}) {
        INFO(name);
        auto data = read_file(name);
        bytes_view rest(data);
        traffic_stats plain;
        // Frames are plain up to and including STARTUP.
        decoded_request d;
        while (true) {
            auto split = split_frame(rest);
            REQUIRE(split.consumed > 0);
            REQUIRE(split.frame.header.version == protocol_version::v5);
            check_frames(rest.first(split.consumed), plain);
            rest = rest.subspan(split.consumed);
            if (split.frame.header.op == opcode::startup) break;
        }
        CHECK(plain.count[opcode::startup] == 1);

        auto frames = unwrap_segments(rest);
        traffic_stats stats;
        check_frames(frames, stats);
        CHECK(stats.count[opcode::query] > 0);
        if (std::string_view(name) == "conn03.client.bin") {
            CHECK(stats.count[opcode::prepare] > 0);
            CHECK(stats.count[opcode::execute] > 0);
            CHECK(stats.count[opcode::batch] > 0);
        }
    }
}

TEST_CASE("mutated real requests never crash, and what decodes round-trips") {
    // Bodies of real v4 requests (conn01) and v5 requests (conn03, inside segments),
    // with 1 to 3 bytes changed by a fixed-seed generator.
    struct sample {
        frame_header header;
        byte_buffer body;
    };
    std::vector<sample> samples;
    auto collect = [&](bytes_view data, std::size_t limit) {
        std::size_t n = 0;
        while (!data.empty() && n < limit) {
            auto split = split_frame(data);
            REQUIRE(split.consumed > 0);
            samples.push_back({split.frame.header,
                               byte_buffer(split.frame.body.begin(), split.frame.body.end())});
            data = data.subspan(split.consumed);
            ++n;
        }
    };
    auto v4 = read_file("conn01.client.bin");
    collect(v4, 400);
    auto v5raw = read_file("conn03.client.bin");
    bytes_view rest(v5raw);
    while (true) {
        auto split = split_frame(rest);
        REQUIRE(split.consumed > 0);
        rest = rest.subspan(split.consumed);
        if (split.frame.header.op == opcode::startup) break;
    }
    auto v5 = unwrap_segments(rest);
    collect(v5, 400);

    std::uint64_t seed = 0x9E3779B97F4A7C15ull;
    auto next = [&seed] {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        return seed;
    };
    decoded_request d, again;
    byte_buffer out;
    int decoded = 0;
    for (int i = 0; i < 20000; ++i) {
        auto& s = samples[next() % samples.size()];
        byte_buffer body = s.body;
        if (body.empty()) continue;
        auto flips = 1 + next() % 3;
        for (std::uint64_t k = 0; k < flips; ++k)
            body[next() % body.size()] = static_cast<std::uint8_t>(next());
        frame_view f{s.header, body};
        if (decode_request(f, d)) continue;
        ++decoded;
        out.clear();
        REQUIRE_FALSE(
            encode_request_frame(out, s.header.version, d.stream, d.message, &d.prefix, d.tracing));
        auto split = split_frame(out);
        REQUIRE(split.consumed == out.size());
        REQUIRE_FALSE(decode_request(split.frame, again));
        REQUIRE(again.message == d.message);
    }
    CHECK(decoded > 100);  // the mutations did not all land in rejected bytes
}
