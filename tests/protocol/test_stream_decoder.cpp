// The stream decoder's endpoint modes (stream_decoder.hpp): the v5 switch told by the
// receiver (start_segments) instead of inferred, and faults of one frame reported on that
// frame while decoding goes on; and the default (observer) modes left as they were.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cql/protocol/compression.hpp"
#include "cql/protocol/requests.hpp"
#include "cql/protocol/responses.hpp"
#include "cql/protocol/segment.hpp"
#include "cql/protocol/stream_decoder.hpp"

using namespace cql::protocol;

namespace {

constexpr stream_modes endpoint{segment_switch::told, frame_faults::report};

void append_startup(byte_buffer& out, protocol_version v, std::int16_t stream, bool lz4 = false) {
    std::vector<string_pair> opts{{"CQL_VERSION", "3.0.0"}};
    if (lz4) opts.push_back({"COMPRESSION", "lz4"});
    REQUIRE(encode_request_frame(out, v, stream, startup_request{opts}) == std::error_code{});
}

void append_query(byte_buffer& out, protocol_version v, std::int16_t stream, std::string_view q) {
    query_request m;
    m.query = q;
    REQUIRE(encode_request_frame(out, v, stream, m) == std::error_code{});
}

// What a test sees of one frame.
struct seen {
    std::int16_t stream;
    std::size_t offset;
    bool in_segments;
    std::error_code fault;
};

struct recorder {
    std::vector<seen> frames;
    void operator()(const stream_frame& f) {
        frames.push_back({f.frame.header.stream, f.offset, f.in_segments, f.fault});
    }
};

}  // namespace

TEST_CASE("stream_decoder: start_segments from a frame's callback applies right after it") {
    for (auto layout : {compression_algorithm::none, compression_algorithm::lz4}) {
        CAPTURE(layout);
        // STARTUP, then two QUERY frames in one segment: all in one buffer, one decode() call.
        byte_buffer in;
        append_startup(in, protocol_version::v5, 1, layout == compression_algorithm::lz4);
        const auto startup_size = in.size();
        byte_buffer frames;
        append_query(frames, protocol_version::v5, 2, "SELECT 1");
        append_query(frames, protocol_version::v5, 3, "SELECT 2");
        REQUIRE(encode_segments(frames, layout, in) == std::error_code{});

        stream_decoder d(stream_side::client, compression_choice::none, default_max_body_size,
                         endpoint);
        recorder rec;
        std::error_code ec;
        auto used = d.decode(
            in,
            [&](const stream_frame& f) {
                rec(f);
                if (f.frame.header.op == opcode::startup) d.start_segments(layout);
            },
            ec);
        CHECK_FALSE(ec);
        CHECK(used == in.size());
        REQUIRE(rec.frames.size() == 3);
        CHECK_FALSE(rec.frames[0].in_segments);
        CHECK(rec.frames[1].in_segments);
        CHECK(rec.frames[1].offset == startup_size);
        CHECK(rec.frames[2].stream == 3);
        CHECK(d.in_segments());
        CHECK(d.segment_layout() == layout);
        CHECK(d.segments_start() == startup_size);
    }
}

TEST_CASE("stream_decoder: start_segments between decode() calls applies at the next byte") {
    byte_buffer in;
    append_startup(in, protocol_version::v5, 1);
    const auto startup_size = in.size();
    byte_buffer frames;
    append_query(frames, protocol_version::v5, 2, "SELECT 1");
    REQUIRE(encode_segments(frames, compression_algorithm::none, in) == std::error_code{});

    stream_decoder d(stream_side::client, compression_choice::none, default_max_body_size,
                     endpoint);
    recorder rec;
    std::error_code ec;
    REQUIRE(d.decode(bytes_view(in).first(startup_size), rec, ec) == startup_size);
    d.start_segments(compression_algorithm::none);
    CHECK(d.segments_start() == startup_size);
    REQUIRE(d.decode(bytes_view(in).subspan(startup_size), rec, ec) == in.size() - startup_size);
    CHECK_FALSE(ec);
    REQUIRE(rec.frames.size() == 2);
    CHECK(rec.frames[1].in_segments);
}

TEST_CASE("stream_decoder: a told decoder does not probe for segments after STARTUP") {
    // The endpoint refused the first STARTUP (no start_segments): the next bytes are plain
    // frames even where they would pass for a segment header.
    byte_buffer in;
    append_startup(in, protocol_version::v5, 1);
    append_startup(in, protocol_version::v5, 2);
    byte_buffer segment_bytes;
    byte_buffer frames;
    append_query(frames, protocol_version::v5, 3, "SELECT 1");
    REQUIRE(encode_segments(frames, compression_algorithm::none, segment_bytes) ==
            std::error_code{});

    SECTION("a plain frame follows") {
        stream_decoder d(stream_side::client, compression_choice::none, default_max_body_size,
                         endpoint);
        recorder rec;
        CHECK_FALSE(d.feed(in, rec));
        REQUIRE(rec.frames.size() == 2);
        CHECK_FALSE(rec.frames[1].in_segments);
        CHECK_FALSE(d.in_segments());
    }
    SECTION("segment bytes are a framing error, where the observer takes them as a segment") {
        byte_buffer one;
        append_startup(one, protocol_version::v5, 1);
        one.insert(one.end(), segment_bytes.begin(), segment_bytes.end());
        stream_decoder told(stream_side::client, compression_choice::none, default_max_body_size,
                            endpoint);
        recorder rec;
        CHECK(told.feed(one, rec));
        CHECK(told.error_offset() > 0);
        CHECK_FALSE(told.in_segments());

        stream_decoder observer(stream_side::client, compression_choice::none);
        recorder seen_by_observer;
        CHECK_FALSE(observer.feed(one, seen_by_observer));
        CHECK(seen_by_observer.frames.size() == 2);
        CHECK(observer.in_segments());
    }
}

TEST_CASE("stream_decoder: start_segments from a feed() callback within one piece") {
    byte_buffer in;
    append_startup(in, protocol_version::v5, 1, true);
    byte_buffer frames;
    append_query(frames, protocol_version::v5, 2, "SELECT 1");
    REQUIRE(encode_segments(frames, compression_algorithm::lz4, in) == std::error_code{});
    stream_decoder d(stream_side::client, compression_choice::none, default_max_body_size,
                     endpoint);
    recorder rec;
    // One byte at a time: the switch still lands right after STARTUP.
    for (auto b : in)
        REQUIRE_FALSE(d.feed(bytes_view(&b, 1), [&](const stream_frame& f) {
            rec(f);
            if (f.frame.header.op == opcode::startup) d.start_segments(compression_algorithm::lz4);
        }));
    CHECK_FALSE(d.finish());
    REQUIRE(rec.frames.size() == 2);
    CHECK(rec.frames[1].in_segments);
    CHECK(rec.frames[1].stream == 2);
}

namespace {

// A v4 client stream with one fault of each kind, between good frames. `lz4_from` is the
// offset from which the endpoint allows v4 LZ4 bodies (set_compression).
struct faulty_v4 {
    byte_buffer bytes;
    std::size_t lz4_from = 0;
    std::size_t mismatch_at = 0;
};

faulty_v4 make_faulty_v4() {
    faulty_v4 s;
    auto& in = s.bytes;
    append_query(in, protocol_version::v4, 1, "SELECT 1");
    s.mismatch_at = in.size();
    append_query(in, protocol_version::v3, 2, "SELECT 2");                 // version_mismatch
    encode_response_frame(in, protocol_version::v4, 3, ready_response{});  // wrong side
    auto at = in.size();
    append_query(in, protocol_version::v4, 4, "SELECT 4");
    in[at + 1] |= frame_flags::compression;  // unexpected_compression (none negotiated)
    s.lz4_from = in.size();
    at = in.size();
    append_query(in, protocol_version::v4, 5, "SELECT 5");
    in[at + 1] |= frame_flags::compression;  // not an LZ4 body: decompression fails
    // A good compressed frame.
    byte_buffer plain;
    append_query(plain, protocol_version::v4, 6, "SELECT 6");
    byte_buffer compressed(plain.begin(), plain.begin() + frame_header_size);
    compressed[1] |= frame_flags::compression;
    REQUIRE(compress_frame_body_lz4(bytes_view(plain).subspan(frame_header_size), compressed) ==
            std::error_code{});
    patch_frame_body_length(compressed, 0);
    in.insert(in.end(), compressed.begin(), compressed.end());
    return s;
}

}  // namespace

TEST_CASE("stream_decoder: report mode hands out faulty frames and goes on") {
    auto s = make_faulty_v4();
    stream_decoder d(stream_side::client, compression_choice::none, default_max_body_size,
                     endpoint);
    std::vector<seen> frames;
    std::vector<std::string> bodies;
    std::error_code ec;
    auto used = d.decode(
        s.bytes,
        [&](const stream_frame& f) {
            frames.push_back({f.frame.header.stream, f.offset, f.in_segments, f.fault});
            decoded_request req;
            if (!f.fault && !decode_request(f.frame, req))
                bodies.emplace_back(std::get<query_request>(req.message).query);
            // Like cqlsim after a STARTUP that asked for LZ4.
            if (f.offset + f.envelope.size() == s.lz4_from)
                d.set_compression(compression_choice::lz4);
        },
        ec);
    CHECK_FALSE(ec);
    CHECK(used == s.bytes.size());
    REQUIRE(frames.size() == 6);
    CHECK_FALSE(frames[0].fault);
    CHECK(frames[1].fault == codec_errc::version_mismatch);
    CHECK(frames[1].stream == 2);
    CHECK(frames[1].offset == s.mismatch_at);
    CHECK(frames[2].fault == codec_errc::unexpected_direction);
    CHECK(frames[2].stream == 3);
    CHECK(frames[3].fault == codec_errc::unexpected_compression);
    CHECK(frames[3].stream == 4);
    CHECK(frames[4].fault);
    CHECK(frames[4].fault != codec_errc::unexpected_compression);
    CHECK(frames[4].stream == 5);
    CHECK_FALSE(frames[5].fault);
    CHECK(bodies == std::vector<std::string>{"SELECT 1", "SELECT 6"});
    CHECK(d.version() == protocol_version::v4);
    CHECK_FALSE(d.error());
}

TEST_CASE("stream_decoder: in report mode a frame from the wrong side does not fix the version") {
    byte_buffer in;
    encode_response_frame(in, protocol_version::v3, 1, ready_response{});
    append_query(in, protocol_version::v4, 2, "SELECT 1");
    stream_decoder d(stream_side::client, compression_choice::none, default_max_body_size,
                     endpoint);
    recorder rec;
    CHECK_FALSE(d.feed(in, rec));
    REQUIRE(rec.frames.size() == 2);
    CHECK(rec.frames[0].fault == codec_errc::unexpected_direction);
    CHECK_FALSE(rec.frames[1].fault);
    CHECK(d.version() == protocol_version::v4);
}

TEST_CASE("stream_decoder: report mode, a frame of another version inside a segment") {
    byte_buffer in;
    append_startup(in, protocol_version::v5, 1);
    byte_buffer frames;
    append_query(frames, protocol_version::v5, 2, "SELECT 1");
    append_query(frames, protocol_version::v4, 3, "SELECT 2");
    append_query(frames, protocol_version::v5, 4, "SELECT 3");
    REQUIRE(encode_segments(frames, compression_algorithm::none, in) == std::error_code{});
    stream_decoder d(stream_side::client, compression_choice::none, default_max_body_size,
                     endpoint);
    recorder rec;
    CHECK_FALSE(d.feed(in, [&](const stream_frame& f) {
        rec(f);
        if (f.frame.header.op == opcode::startup) d.start_segments(compression_algorithm::none);
    }));
    REQUIRE(rec.frames.size() == 4);
    CHECK(rec.frames[2].fault == codec_errc::version_mismatch);
    CHECK(rec.frames[2].in_segments);
    CHECK_FALSE(rec.frames[3].fault);
}

TEST_CASE("stream_decoder: report mode keeps framing errors and callback errors sticky") {
    byte_buffer in;
    append_query(in, protocol_version::v4, 1, "SELECT 1");
    const auto bad_at = in.size();
    append_query(in, protocol_version::v4, 2, "SELECT 2");
    in[bad_at + 4] = 0x7F;  // unknown opcode: the frame cannot be framed
    append_query(in, protocol_version::v4, 3, "SELECT 3");
    stream_decoder d(stream_side::client, compression_choice::none, default_max_body_size,
                     endpoint);
    recorder rec;
    std::error_code ec;
    CHECK(d.decode(in, rec, ec) == bad_at);
    CHECK(ec == codec_errc::unknown_opcode);
    CHECK(d.error_offset() == bad_at);
    CHECK(rec.frames.size() == 1);

    stream_decoder stopped(stream_side::client, compression_choice::none, default_max_body_size,
                           endpoint);
    std::size_t calls = 0;
    CHECK(stopped.feed(in, [&](const stream_frame&) -> std::error_code {
        ++calls;
        return codec_errc::invalid_value;
    }) == codec_errc::invalid_value);
    CHECK(calls == 1);
}

TEST_CASE("stream_decoder: the default modes stop at the first fault, as before") {
    auto s = make_faulty_v4();
    stream_decoder d(stream_side::client, compression_choice::none);
    recorder rec;
    std::error_code ec;
    CHECK(d.decode(s.bytes, rec, ec) == s.mismatch_at);
    CHECK(ec == codec_errc::version_mismatch);
    CHECK(d.error_offset() == s.mismatch_at);
    REQUIRE(rec.frames.size() == 1);
    CHECK_FALSE(rec.frames[0].fault);
    // Sticky: nothing more is decoded.
    CHECK(d.decode(bytes_view(s.bytes).subspan(s.mismatch_at), rec, ec) == 0);
    CHECK(ec == codec_errc::version_mismatch);
    CHECK(rec.frames.size() == 1);

    // A frame of another version from the wrong side: the version is checked first.
    byte_buffer in;
    append_query(in, protocol_version::v4, 1, "SELECT 1");
    encode_response_frame(in, protocol_version::v3, 2, ready_response{});
    stream_decoder observer(stream_side::client);
    CHECK(observer.feed(in, [](const stream_frame&) {}) == codec_errc::version_mismatch);
}

TEST_CASE("stream_decoder: the default modes still infer the v5 switch") {
    // Server side: segments right after READY; client side: probed after STARTUP.
    byte_buffer server;
    encode_response_frame(server, protocol_version::v5, 1, ready_response{});
    const auto ready_size = server.size();
    byte_buffer frames;
    encode_response_frame(frames, protocol_version::v5, 2, ready_response{});
    REQUIRE(encode_segments(frames, compression_algorithm::none, server) == std::error_code{});
    stream_decoder d(stream_side::server, compression_choice::none);
    recorder rec;
    CHECK_FALSE(d.feed(server, rec));
    REQUIRE(rec.frames.size() == 2);
    CHECK(rec.frames[1].in_segments);
    CHECK(d.segments_start() == ready_size);
}
