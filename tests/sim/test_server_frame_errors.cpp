// cqlsim's answers to faulty frames, as Cassandra 4.0 gives them: a fault of one frame is
// answered on that frame's stream and the connection goes on; a framing error is answered
// on stream 0 and closes it. Also requests sent together with the STARTUP, before its
// answer (the switch to compression or segments lands right after the STARTUP).
#include <string>

#include "test_server_util.hpp"

using namespace srvtest;

namespace {

proto::byte_buffer query_frame(proto::protocol_version v, std::int16_t stream, std::string_view q) {
    proto::byte_buffer b;
    REQUIRE_FALSE(proto::encode_request_frame(b, v, stream, proto::query_request{q, {}}));
    return b;
}

proto::byte_buffer startup_frame(proto::protocol_version v, bool lz4) {
    std::vector<proto::string_pair> opts{{"CQL_VERSION", "3.0.0"}};
    if (lz4) opts.emplace_back("COMPRESSION", "lz4");
    proto::byte_buffer b;
    REQUIRE_FALSE(proto::encode_request_frame(b, v, 0, proto::startup_request{opts}));
    return b;
}

void append(proto::byte_buffer& to, const proto::byte_buffer& b) {
    to.insert(to.end(), b.begin(), b.end());
}

// The next reply: an ERROR on `stream` with `message`.
void expect_error(client& cl, std::int16_t stream, const std::string& message) {
    auto r = cl.next();
    REQUIRE(r);
    CHECK(r->header.stream == stream);
    CHECK(r->error().code == proto::error_code::protocol_error);
    CHECK(r->error().message == message);
}

void expect_local_row(client& cl, std::int16_t stream) {
    auto r = cl.next();
    REQUIRE(r);
    CHECK(r->header.stream == stream);
    CHECK(r->rows().row_count == 1);
}

std::string codec_message(proto::codec_errc e) {
    return std::error_code(e).message();
}

}  // namespace

TEST_CASE("v4: faults of one frame are answered on its stream, the connection goes on",
          "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    client cl;
    cl.connect(c);
    REQUIRE(cl.handshake(proto::protocol_version::v4).header.op == proto::opcode::ready);
    // All in one write: cqlsim decodes them in one go.
    proto::byte_buffer b;
    append(b, query_frame(proto::protocol_version::v3, 2, "SELECT key FROM system.local"));
    proto::encode_response_frame(b, proto::protocol_version::v4, 3, proto::ready_response{});
    auto at = b.size();
    append(b, query_frame(proto::protocol_version::v4, 4, "SELECT key FROM system.local"));
    b[at + 1] |= proto::frame_flags::compression;
    proto::byte_buffer bad_body{0x04, 0, 0, 5, 0x07, 0, 0, 0, 2, 0, 1};  // QUERY, 2-byte body
    append(b, bad_body);
    append(b, query_frame(proto::protocol_version::v4, 6, "SELECT key FROM system.local"));
    cl.send_raw(b);

    expect_error(cl, 2,
                 "Invalid message version. Got v3 but previous messages on this connection had "
                 "version v4");
    expect_error(cl, 3, "Unexpected response frame from the client");
    expect_error(cl, 4, "Received a compressed frame but compression was not negotiated");
    expect_error(cl, 5, "Invalid QUERY message: " + codec_message(proto::codec_errc::truncated));
    expect_local_row(cl, 6);
    CHECK_FALSE(cl.closed());
}

TEST_CASE("v4 with LZ4: a body that does not decompress is answered, then the next request",
          "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    client cl;
    cl.connect(c);
    REQUIRE(cl.handshake(proto::protocol_version::v4, true).header.op == proto::opcode::ready);
    auto b = query_frame(proto::protocol_version::v4, 7, "SELECT key FROM system.local");
    b[1] |= proto::frame_flags::compression;  // the body is not [int] length + LZ4 block
    std::error_code lz4_error;
    {
        proto::byte_buffer ignored;
        lz4_error = proto::decompress_frame_body_lz4(
            proto::bytes_view(b).subspan(proto::frame_header_size), ignored);
        REQUIRE(lz4_error);
    }
    append(b, cl.encode(proto::query_request{"SELECT key FROM system.local", {}}, 8));
    cl.send_raw(b);
    expect_error(cl, 7, "Cannot decompress the frame body: " + lz4_error.message());
    expect_local_row(cl, 8);
}

TEST_CASE("v5: faults of frames inside segments are answered, the connection goes on", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    client cl;
    cl.connect(c);
    REQUIRE(cl.handshake(proto::protocol_version::v5).header.op == proto::opcode::ready);
    proto::byte_buffer frames;
    append(frames, query_frame(proto::protocol_version::v4, 2, "SELECT key FROM system.local"));
    auto at = frames.size();
    append(frames, query_frame(proto::protocol_version::v5, 3, "SELECT key FROM system.local"));
    frames[at + 1] |= proto::frame_flags::compression;  // v5 compresses segments, not frames
    append(frames, query_frame(proto::protocol_version::v5, 4, "SELECT key FROM system.local"));
    proto::byte_buffer b;
    REQUIRE_FALSE(proto::encode_segments(frames, proto::compression_algorithm::none, b));
    cl.send_raw(b);
    expect_error(cl, 2,
                 "Invalid message version. Got v4 but previous messages on this connection had "
                 "version v5");
    expect_error(cl, 3, "Received a compressed frame but compression was not negotiated");
    expect_local_row(cl, 4);
}

TEST_CASE("framing errors are answered on stream 0 and close the connection", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    SECTION("v4: an unknown opcode") {
        client cl;
        cl.connect(c);
        REQUIRE(cl.handshake(proto::protocol_version::v4).header.op == proto::opcode::ready);
        auto b = query_frame(proto::protocol_version::v4, 9, "SELECT key FROM system.local");
        b[4] = 0x7F;
        cl.send_raw(b);
        expect_error(cl, 0, "Invalid frame: " + codec_message(proto::codec_errc::unknown_opcode));
        CHECK(cl.wait_closed());
    }
    SECTION("v5: a segment whose header CRC24 is wrong") {
        client cl;
        cl.connect(c);
        REQUIRE(cl.handshake(proto::protocol_version::v5).header.op == proto::opcode::ready);
        auto b = cl.encode(proto::query_request{"SELECT key FROM system.local", {}}, 9);
        b[3] ^= 0xFF;  // the CRC24 of the 3-byte header
        cl.send_raw(b);
        expect_error(cl, 0,
                     "Invalid segment: " + codec_message(proto::codec_errc::header_crc_mismatch));
        CHECK(cl.wait_closed());
    }
    SECTION("v4 then a frame of an unsupported version: Cassandra's version error") {
        client cl;
        cl.connect(c);
        REQUIRE(cl.handshake(proto::protocol_version::v4).header.op == proto::opcode::ready);
        auto b = query_frame(proto::protocol_version::v4, 9, "SELECT key FROM system.local");
        b[0] = 0x06;
        cl.send_raw(b);
        REQUIRE(cl.wait_closed());
        // After the READY (9 bytes): an ERROR in v6 (the test client does not frame v6).
        const auto& w = cl.wire();
        REQUIRE(w.size() > 18);
        CHECK(w[9] == 0x86);
        CHECK(w[11] == 0);
        CHECK(w[12] == 9);
        CHECK(w[13] == 0x00);  // ERROR
        proto::byte_reader rd(proto::bytes_view(w).subspan(18));
        CHECK(rd.i32() == 0x000A);
        CHECK(rd.string().find("Invalid or unsupported protocol version (6)") == 0);
    }
}

TEST_CASE("requests sent with the STARTUP, before its answer", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    for (auto v : {proto::protocol_version::v4, proto::protocol_version::v5}) {
        for (bool lz4 : {false, true}) {
            CAPTURE(static_cast<int>(v), lz4);
            client cl;
            cl.connect(c);
            cl.version = v;
            auto b = startup_frame(v, lz4);
            cl.negotiated(lz4);
            // Compressed (v4) or in segments (v5) right after the STARTUP, in the same write.
            append(b, cl.encode(proto::query_request{"SELECT key FROM system.local", {}}, 1));
            append(b, cl.encode(proto::query_request{"SELECT key FROM system.local", {}}, 2));
            cl.send_raw(b);
            auto r = cl.next();
            REQUIRE(r);
            CHECK(r->header.op == proto::opcode::ready);
            expect_local_row(cl, 1);
            expect_local_row(cl, 2);
        }
    }
}
