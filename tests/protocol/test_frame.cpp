// Frame headers, from native_protocol_v4.spec / v5.spec section 2.
#include <catch2/catch.hpp>

#include "cql/protocol/frame.hpp"

using namespace cql::protocol;

TEST_CASE("an OPTIONS request header from the spec layout") {
    // version 4 request, no flags, stream 1, opcode OPTIONS, empty body
    byte_buffer in = {0x04, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00};
    frame_header h;
    REQUIRE(decode_frame_header(in, h) == std::error_code{});
    CHECK(h.version == protocol_version::v4);
    CHECK_FALSE(h.is_response);
    CHECK(h.stream == 1);
    CHECK(h.op == opcode::options);
    CHECK(h.body_length == 0);

    byte_buffer out;
    byte_writer w(out);
    encode_frame_header(w, h);
    CHECK(out == in);
}

TEST_CASE("a response header with the direction bit and flags") {
    byte_buffer in = {0x85, 0x0A, 0xFF, 0xFF, 0x08, 0x00, 0x00, 0x01, 0x00};
    frame_header h;
    REQUIRE(decode_frame_header(in, h) == std::error_code{});
    CHECK(h.version == protocol_version::v5);
    CHECK(h.is_response);
    CHECK(h.has(frame_flags::tracing));
    CHECK(h.has(frame_flags::warning));
    CHECK(h.stream == -1);
    CHECK(h.op == opcode::result);
    CHECK(h.body_length == 256);
}

TEST_CASE("malformed headers are errors") {
    frame_header h;
    byte_buffer v2 = {0x02, 0, 0, 0, 0x05, 0, 0, 0, 0};
    CHECK(decode_frame_header(v2, h) == codec_errc::unsupported_version);
    byte_buffer op4 = {0x04, 0, 0, 0, 0x04, 0, 0, 0, 0};
    CHECK(decode_frame_header(op4, h) == codec_errc::unknown_opcode);
    byte_buffer huge = {0x04, 0, 0, 0, 0x07, 0x7F, 0xFF, 0xFF, 0xFF};
    CHECK(decode_frame_header(huge, h) == codec_errc::body_too_large);
    byte_buffer small = {0x04, 0, 0, 0, 0x07, 0, 0, 0x10, 0x00};
    CHECK(decode_frame_header(small, h, 1024) == codec_errc::body_too_large);
    CHECK(decode_frame_header(bytes_view(small).first(8), h) == codec_errc::truncated);
}

TEST_CASE("split_frame waits for the whole body") {
    byte_buffer in = {0x84, 0, 0, 2, 0x02, 0, 0, 0, 2, 0xAA};
    auto s = split_frame(in);
    CHECK_FALSE(s.error);
    CHECK(s.consumed == 0);
    CHECK(s.needed == 11);
    in.push_back(0xBB);
    in.push_back(0xCC);  // first byte of a next frame
    s = split_frame(in);
    REQUIRE(s.consumed == 11);
    CHECK(s.frame.header.op == opcode::ready);
    CHECK(s.frame.body.size() == 2);
    CHECK(s.frame.body[1] == 0xBB);
}

TEST_CASE("response body prefix: tracing id, warnings, custom payload") {
    frame_header h;
    h.is_response = true;
    body_prefix p;
    p.tracing_id = uuid_bytes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    p.warnings = {"Aggregation query used without partition key"};
    h.flags = prefix_flags(true, p);
    CHECK(h.flags == (frame_flags::tracing | frame_flags::warning));

    byte_buffer out;
    byte_writer w(out);
    write_body_prefix(w, true, p);
    w.i32(1);  // a RESULT kind follows
    CHECK(out.size() == 16 + 2 + 2 + p.warnings[0].size() + 4);

    byte_reader r(out);
    body_prefix back;
    read_body_prefix(r, h, back);
    REQUIRE(r.ok());
    CHECK(back.tracing_id == p.tracing_id);
    CHECK(back.warnings == p.warnings);
    CHECK(r.i32() == 1);
    CHECK(r.finish() == std::error_code{});
}
