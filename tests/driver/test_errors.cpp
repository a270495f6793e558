// Error categories and ERROR bodies, from native_protocol_v4.spec / v5.spec section 9.
#include <catch2/catch.hpp>

#include <cerrno>

#include "cql/cluster_errc.hpp"
#include "cql/error.hpp"
#include "cql/error_with_diagnostics.hpp"

using namespace cql;
using protocol::byte_buffer;

TEST_CASE("client and server error categories") {
    std::error_code ec = errc::timed_out;
    CHECK(std::string(ec.category().name()) == "cql.client");
    CHECK(ec.message() == "operation timed out");
    CHECK(ec == errc::timed_out);
    // Every client error has a message of its own.
    for (int e = 1; e <= static_cast<int>(errc::connection_stalled); ++e)
        CHECK(std::error_code(static_cast<errc>(e)).message().find("unknown") == std::string::npos);

    std::error_code s = server_errc::read_timeout;
    CHECK(std::string(s.category().name()) == "cql.server");
    CHECK(s.value() == 0x1200);
    CHECK(s.message() == "read timeout");

    // Code 0x0000 must still be an error.
    CHECK(server_error_code(0) == server_errc::server_error);
    CHECK(static_cast<bool>(server_error_code(0)));
    CHECK(server_error_code(0x2200) == server_errc::invalid);
    auto unknown = server_error_code(0x7777);
    CHECK(unknown.category() == server_category());
    CHECK(unknown.message().find("unknown") != std::string::npos);

    CHECK(is_connection_error(errc::connection_closed));
    CHECK(is_connection_error(protocol::codec_errc::payload_crc_mismatch));
    CHECK_FALSE(is_connection_error(errc::timed_out));
    CHECK_FALSE(is_connection_error(server_errc::unavailable));
    CHECK_FALSE(is_connection_error({}));
}

TEST_CASE("an Invalid error as Cassandra 4.0 sends it") {
    // [int] 0x2200, [string] "table no_such_table does not exist" (from conn01.server.bin)
    std::string msg = "table no_such_table does not exist";
    byte_buffer body = {0x00, 0x00, 0x22, 0x00, 0x00, static_cast<std::uint8_t>(msg.size())};
    body.insert(body.end(), msg.begin(), msg.end());
    diagnostics d;
    CHECK(decode_error_body(body, protocol_version::v4, d) == server_errc::invalid);
    CHECK(d.from_server);
    CHECK(d.code == 0x2200);
    CHECK(d.message == msg);
}

TEST_CASE("unavailable carries consistency, required and alive") {
    byte_buffer body = {0x00, 0x00, 0x10, 0x00,   // code
                        0x00, 0x02, 'n',  'o',    // message "no"
                        0x00, 0x06,               // LOCAL_QUORUM
                        0x00, 0x00, 0x00, 0x02,   // required 2
                        0x00, 0x00, 0x00, 0x01};  // alive 1
    diagnostics d;
    CHECK(decode_error_body(body, protocol_version::v4, d) == server_errc::unavailable);
    CHECK(d.message == "no");
    REQUIRE(d.consistency_level);
    CHECK(*d.consistency_level == consistency::local_quorum);
    CHECK(d.required == 2);
    CHECK(d.alive == 1);
}

TEST_CASE("write timeout: write type, and CAS contentions in v5") {
    byte_buffer body = {0x00, 0x00, 0x11, 0x00, 0x00, 0x00,  // code, empty message
                        0x00, 0x04,                          // QUORUM
                        0x00, 0x00, 0x00, 0x01,              // received 1
                        0x00, 0x00, 0x00, 0x02,              // blockfor 2
                        0x00, 0x03, 'C',  'A',  'S',         // write type
                        0x00, 0x05};                         // contentions (v5 only)
    diagnostics d;
    CHECK(decode_error_body(body, protocol_version::v5, d) == server_errc::write_timeout);
    CHECK(*d.consistency_level == consistency::quorum);
    CHECK(d.received == 1);
    CHECK(d.required == 2);
    CHECK(d.write_type == "CAS");
    CHECK(d.contentions == 5);
}

TEST_CASE("read timeout and read failure (v4 count, v5 reason map)") {
    byte_buffer rt = {0x00, 0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01};
    diagnostics d;
    CHECK(decode_error_body(rt, protocol_version::v4, d) == server_errc::read_timeout);
    CHECK(*d.consistency_level == consistency::one);
    CHECK(d.received == 0);
    CHECK(d.required == 1);
    CHECK(d.data_present);

    byte_buffer rf4 = {0x00, 0x00, 0x13, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                       0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00};
    CHECK(decode_error_body(rf4, protocol_version::v4, d) == server_errc::read_failure);
    CHECK(d.num_failures == 3);
    CHECK_FALSE(d.data_present);

    byte_buffer rf5 = {0x00, 0x00, 0x13, 0x00, 0x00, 0x00, 0x00, 0x01,
                       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  // blockfor
                       0x00, 0x00, 0x00, 0x01,                          // one reason
                       0x04, 127,  0,    0,    2,    0x00, 0x01,        // 127.0.0.2 -> 1
                       0x01};                                           // data present
    CHECK(decode_error_body(rf5, protocol_version::v5, d) == server_errc::read_failure);
    REQUIRE(d.reasons.size() == 1);
    CHECK(d.reasons[0].first.size == 4);
    CHECK(d.reasons[0].first.bytes[3] == 2);
    CHECK(d.reasons[0].second == 1);
    CHECK(d.data_present);
}

TEST_CASE("already exists, unprepared, function failure") {
    byte_buffer ae = {0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x00, 0x02, 'k', 's', 0x00, 0x01, 't'};
    diagnostics d;
    CHECK(decode_error_body(ae, protocol_version::v4, d) == server_errc::already_exists);
    CHECK(d.keyspace == "ks");
    CHECK(d.table == "t");

    byte_buffer up = {0x00, 0x00, 0x25, 0x00, 0x00, 0x00, 0x00, 0x02, 0xCA, 0xFE};
    CHECK(decode_error_body(up, protocol_version::v4, d) == server_errc::unprepared);
    CHECK(d.unprepared_id == byte_buffer{0xCA, 0xFE});

    byte_buffer ff = {0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x01, 'k', 0x00,
                      0x01, 'f',  0x00, 0x01, 0x00, 0x03, 'i',  'n',  't'};
    CHECK(decode_error_body(ff, protocol_version::v4, d) == server_errc::function_failure);
    CHECK(d.function == "f");
    CHECK(d.arg_types == std::vector<std::string>{"int"});
}

TEST_CASE("malformed ERROR bodies are codec errors, never crashes") {
    diagnostics d;
    byte_buffer truncated = {0x00, 0x00, 0x10, 0x00, 0x00, 0x05, 'a'};
    CHECK(decode_error_body(truncated, protocol_version::v4, d) == protocol::codec_errc::truncated);
    byte_buffer bad_cl = {0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x77,
                          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    CHECK(decode_error_body(bad_cl, protocol_version::v4, d) ==
          protocol::codec_errc::invalid_value);
    // a huge reason-map count does not allocate
    byte_buffer huge = {0x00, 0x00, 0x13, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
                        0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x7F, 0xFF, 0xFF, 0xFF};
    CHECK(decode_error_body(huge, protocol_version::v5, d) == protocol::codec_errc::truncated);
    CHECK(decode_error_body({}, protocol_version::v5, d) == protocol::codec_errc::truncated);
}

TEST_CASE("cql::error_code prints the real category and value of every enum of ours") {
    struct expected {
        cql::error_code ec;
        const char* category;
        int value;
    };
    const expected all[] = {
        {errc::timed_out, "cql.client", 2},
        {server_errc::syntax_error, "cql.server", 0x2000},
        {session_errc::no_host_available, "cql.session", 2},
        {protocol::codec_errc::truncated, "cql.codec", 1},
    };
    for (const auto& e : all) {
        CHECK(std::string(e.ec.category().name()) == e.category);
        CHECK(e.ec.value() == e.value);
        CHECK(e.ec.to_string() == std::string(e.category) + ":" + std::to_string(e.value));
        // Through std::error_code (as the driver uses inside) and back: nothing is lost.
        std::error_code s = e.ec;
        CHECK(std::string(s.category().name()) == e.category);
        CHECK(s.value() == e.value);
        cql::error_code back = s;
        CHECK(back == e.ec);
        CHECK(std::string(back.category().name()) == e.category);
        CHECK(back.value() == e.value);
    }
    cql::error_code from_std = std::error_code(server_errc::invalid);
    CHECK(from_std == server_errc::invalid);
    CHECK(from_std.category() == server_category());
    CHECK(std::error_code(session_errc::busy) == session_errc::busy);
    CHECK(cql::error_code(errc::timed_out) != errc::connection_closed);
}

TEST_CASE("to_error_code gives system and generic errors Boost's own categories") {
    auto reset = to_error_code(std::make_error_code(std::errc::connection_reset));
    CHECK(reset.category() == boost::system::generic_category());
    CHECK(reset.value() == ECONNRESET);
    auto sys = to_error_code(std::error_code(ECONNREFUSED, std::system_category()));
    CHECK(sys.category() == boost::system::system_category());
    CHECK(sys.to_string() == "system:" + std::to_string(ECONNREFUSED));
    CHECK(to_error_code(std::error_code(errc::timed_out)) == errc::timed_out);
    CHECK(!to_error_code(std::error_code{}));
}

TEST_CASE("describe: the error, its category and value, then the server's details") {
    diagnostics none;
    CHECK(describe(server_errc::syntax_error, none) == "syntax error [cql.server:8192]");

    diagnostics wt;
    wt.from_server = true;
    wt.code = 0x1100;
    wt.message = "Operation timed out - received only 1 responses.";
    wt.consistency_level = consistency::local_quorum;
    wt.received = 1;
    wt.required = 2;
    wt.write_type = "SIMPLE";
    CHECK(to_string(wt) ==
          "Operation timed out - received only 1 responses. (consistency LOCAL_QUORUM, 1 of 2 "
          "replicas answered, write type SIMPLE)");
    CHECK(describe(server_errc::write_timeout, wt) ==
          "write timeout [cql.server:4352]: " + to_string(wt));

    diagnostics ua;
    ua.from_server = true;
    ua.code = 0x1000;
    ua.consistency_level = consistency::quorum;
    ua.required = 2;
    ua.alive = 1;
    CHECK(to_string(ua) == "consistency QUORUM, 2 replicas required, 1 alive");

    diagnostics ae;
    ae.from_server = true;
    ae.code = 0x2400;
    ae.message = "Cannot add existing table";
    ae.keyspace = "ks";
    ae.table = "t";
    CHECK(to_string(ae) == "Cannot add existing table (keyspace ks, table t)");

    diagnostics client;  // the driver's explanation
    client.message = "no host was available: 127.0.0.1:9042 (connection refused)";
    CHECK(describe(session_errc::no_host_available, client) ==
          "no host was available for the request [cql.session:2]: " + client.message);

    error_with_diagnostics ex(server_errc::write_timeout, wt);
    CHECK(std::string(ex.what()) == describe(server_errc::write_timeout, wt));
    CHECK(ex.code() == server_errc::write_timeout);
    CHECK(ex.diagnostics().received == 1);
}
