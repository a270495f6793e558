// Protocol v5 segments (native_protocol_v5.spec, section 2 "Framing"): header layout
// byte for byte, the real segments Cassandra 4.0 and the Python driver exchanged,
// splitting and reassembly of large frames, and corrupt input.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "cql/protocol/crc.hpp"
#include "cql/protocol/segment.hpp"

using namespace cql::protocol;

namespace {
constexpr auto none = compression_algorithm::none;
constexpr auto lz4 = compression_algorithm::lz4;

byte_buffer bytes_of(std::initializer_list<int> v) {
    byte_buffer out;
    for (int b : v)
        out.push_back(static_cast<std::uint8_t>(b));
    return out;
}

byte_buffer load_fixture(const std::string& name) {
    std::ifstream in(std::string(CQL_FIXTURES_DIR) + "/cassandra-4.0-traffic/" + name,
                     std::ios::binary);
    REQUIRE(in);
    return byte_buffer(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Segments start after the plain frames of the handshake: after STARTUP on the
// client side, after READY on the server side.
std::size_t segments_start(bytes_view data) {
    std::size_t pos = 0;
    for (;;) {
        auto s = split_frame(data.subspan(pos));
        REQUIRE_FALSE(s.error);
        REQUIRE(s.consumed > 0);
        pos += s.consumed;
        if (s.frame.header.op == opcode::startup || s.frame.header.op == opcode::ready) return pos;
    }
}

// A whole frame: v5 header and `body_size` bytes of body.
byte_buffer make_frame(std::int16_t stream, std::size_t body_size, bool response = true,
                       unsigned seed = 1) {
    byte_buffer out;
    byte_writer w(out);
    frame_header h;
    h.version = protocol_version::v5;
    h.is_response = response;
    h.stream = stream;
    h.op = response ? opcode::result : opcode::query;
    h.body_length = static_cast<std::uint32_t>(body_size);
    encode_frame_header(w, h);
    std::mt19937 rng(seed);
    for (std::size_t i = 0; i < body_size; ++i)
        out.push_back(static_cast<std::uint8_t>(seed & 1 ? rng() : i % 13));
    return out;
}

struct collected {
    std::vector<byte_buffer> frames;  // header + body of each frame, copied
    auto callback() {
        return [this](const frame_view& f) {
            byte_buffer b;
            byte_writer w(b);
            encode_frame_header(w, f.header);
            b.insert(b.end(), f.body.begin(), f.body.end());
            frames.push_back(std::move(b));
        };
    }
    byte_buffer joined() const {
        byte_buffer out;
        for (const auto& f : frames)
            out.insert(out.end(), f.begin(), f.end());
        return out;
    }
};

// Decodes a whole buffer of segments at once; REQUIREs success.
collected decode_all(bytes_view segments, compression_algorithm c,
                     std::uint32_t max_body = default_max_body_size) {
    collected got;
    segment_stream stream(c, max_body);
    std::size_t used = 0;
    REQUIRE_FALSE(stream.decode(segments, used, got.callback()));
    CHECK(used == segments.size());
    CHECK_FALSE(stream.finish());
    return got;
}

// Each segment of a buffer, decoded one by one.
struct decoded_segment {
    std::size_t offset;
    segment_header header;
    byte_buffer wire_payload;
    byte_buffer payload;  // decompressed
};
std::vector<decoded_segment> all_segments(bytes_view data, compression_algorithm c) {
    std::vector<decoded_segment> out;
    segment_decoder dec(c);
    std::size_t pos = 0;
    while (pos < data.size()) {
        auto wire = split_segment(data.subspan(pos), c);
        auto s = dec.next(data.subspan(pos));
        INFO("segment at offset " << pos);
        REQUIRE_FALSE(s.error);
        REQUIRE(s.consumed > 0);
        REQUIRE(wire.consumed == s.consumed);
        out.push_back({pos, s.header, byte_buffer(wire.payload.begin(), wire.payload.end()),
                       byte_buffer(s.payload.begin(), s.payload.end())});
        pos += s.consumed;
    }
    return out;
}
}  // namespace

TEST_CASE("uncompressed header layout") {
    // 17-bit payload length, then the self-contained bit (bit 17), little endian, then
    // the CRC24 of those three bytes, little endian.
    byte_buffer out;
    REQUIRE_FALSE(encode_segment_header({9, 0, true}, none, out));
    CHECK(out == bytes_of({0x09, 0x00, 0x02, 0xA4, 0xC8, 0xC1}));

    out.clear();
    REQUIRE_FALSE(encode_segment_header({0x1FFFF, 0, false}, none, out));
    REQUIRE(out.size() == 6);
    CHECK(bytes_view(out).first(3).size() == 3);
    CHECK(out[0] == 0xFF);
    CHECK(out[1] == 0xFF);
    CHECK(out[2] == 0x01);
    auto crc = crc24(bytes_view(out).first(3));
    CHECK(out[3] == (crc & 0xFF));
    CHECK(out[4] == ((crc >> 8) & 0xFF));
    CHECK(out[5] == (crc >> 16));

    out.clear();
    REQUIRE_FALSE(encode_segment_header({0x1FFFF, 0, true}, none, out));
    CHECK(out[2] == 0x03);

    segment_header h;
    REQUIRE_FALSE(decode_segment_header(bytes_of({0x3A, 0x00, 0x02, 0x73, 0x61, 0x83}), none, h));
    CHECK(h == segment_header{58, 0, true});
    REQUIRE_FALSE(decode_segment_header(out, none, h));
    CHECK(h == segment_header{0x1FFFF, 0, true});
}

TEST_CASE("compressed header layout") {
    // 17-bit compressed length, 17-bit uncompressed length, self-contained bit (bit 34),
    // padding, little endian in 5 bytes; then the CRC24 of those, little endian.
    byte_buffer out;
    REQUIRE_FALSE(encode_segment_header({53, 58, true}, lz4, out));
    CHECK(out == bytes_of({0x35, 0x00, 0x74, 0x00, 0x04, 0x4E, 0x49, 0x6C}));

    out.clear();
    REQUIRE_FALSE(encode_segment_header({9, 0, true}, lz4, out));
    CHECK(out == bytes_of({0x09, 0x00, 0x00, 0x00, 0x04, 0xC2, 0xB8, 0x95}));

    out.clear();
    REQUIRE_FALSE(encode_segment_header({0x1FFFF, 0x1FFFF, false}, lz4, out));
    CHECK(bytes_view(out).first(5).size() == 5);
    CHECK(byte_buffer(out.begin(), out.begin() + 5) == bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0x03}));

    segment_header h;
    REQUIRE_FALSE(
        decode_segment_header(bytes_of({0xC1, 0x00, 0xAC, 0x01, 0x04, 0x90, 0xCA, 0xFD}), lz4, h));
    CHECK(h == segment_header{193, 214, true});
    REQUIRE_FALSE(decode_segment_header(out, lz4, h));
    CHECK(h == segment_header{0x1FFFF, 0x1FFFF, false});
}

TEST_CASE("header errors") {
    byte_buffer out;
    CHECK(encode_segment_header({131072, 0, true}, none, out) == codec_errc::segment_too_large);
    CHECK(encode_segment_header({10, 131072, true}, lz4, out) == codec_errc::segment_too_large);
    CHECK(encode_segment_header({10, 5, true}, none, out) == codec_errc::invalid_value);
    CHECK(out.empty());

    segment_header h;
    CHECK(decode_segment_header(bytes_of({0x09, 0x00, 0x02, 0xA4, 0xC8}), none, h) ==
          codec_errc::truncated);
    CHECK(decode_segment_header(bytes_of({0x09, 0x00, 0x02, 0xA4, 0xC8, 0xC2}), none, h) ==
          codec_errc::header_crc_mismatch);
    CHECK(decode_segment_header(bytes_of({0x09, 0x00, 0x03, 0xA4, 0xC8, 0xC1}), none, h) ==
          codec_errc::header_crc_mismatch);
    // A valid uncompressed header read as a compressed one.
    CHECK(decode_segment_header(bytes_of({0x09, 0x00, 0x02, 0xA4, 0xC8, 0xC1, 0, 0}), lz4, h) ==
          codec_errc::header_crc_mismatch);
}

TEST_CASE("one segment byte for byte, as Cassandra sent it") {
    // The READY answering REGISTER on stream 2: conn02.server.bin at offset 120 and,
    // in the compressed layout, conn04.server.bin at offset 120 (9 bytes do not shrink
    // with LZ4, so they go uncompressed with uncompressed length 0).
    auto ready = bytes_of({0x85, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00});
    byte_buffer out;
    REQUIRE_FALSE(encode_segment(ready, true, none, out));
    auto expected = bytes_of({0x09, 0x00, 0x02, 0xA4, 0xC8, 0xC1});
    expected.insert(expected.end(), ready.begin(), ready.end());
    for (int b : {0x44, 0xFB, 0x95, 0xD4})
        expected.push_back(static_cast<std::uint8_t>(b));
    CHECK(out == expected);
    auto c02 = load_fixture("conn02.server.bin");
    CHECK(byte_buffer(c02.begin() + 120, c02.begin() + 120 + 19) == expected);

    out.clear();
    REQUIRE_FALSE(encode_segment(ready, true, lz4, out));
    auto expected_lz4 = bytes_of({0x09, 0x00, 0x00, 0x00, 0x04, 0xC2, 0xB8, 0x95});
    expected_lz4.insert(expected_lz4.end(), expected.begin() + 6, expected.end());
    CHECK(out == expected_lz4);
    auto c04 = load_fixture("conn04.server.bin");
    CHECK(byte_buffer(c04.begin() + 120, c04.begin() + 120 + 21) == expected_lz4);

    CHECK(encode_segment(byte_buffer(max_segment_payload + 1), true, none, out) ==
          codec_errc::segment_too_large);
}

TEST_CASE("first segments of conn02.server.bin") {
    auto data = load_fixture("conn02.server.bin");
    auto start = segments_start(data);
    CHECK(start == 120);  // SUPPORTED (9 + 102) and READY (9)
    auto segs = all_segments(bytes_view(data).subspan(start), none);
    REQUIRE(segs.size() == 71);
    CHECK(segs[0].header == segment_header{9, 0, true});
    CHECK(segs[0].payload == bytes_of({0x85, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00}));
    CHECK(segs[1].header == segment_header{214, 0, true});
    // RESULT on stream 3, body 205 bytes: the SELECT of system.peers_v2.
    CHECK(byte_buffer(segs[1].payload.begin(), segs[1].payload.begin() + 9) ==
          bytes_of({0x85, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x00, 0xCD}));
    CHECK(segs[2].header == segment_header{1078, 0, true});
    CHECK(segs[3].header == segment_header{1147, 0, true});
    CHECK(segs[4].header == segment_header{36252, 0, true});
    CHECK(segs[1].offset == 19);
    CHECK(segs[2].offset == 19 + 6 + 214 + 4);
}

TEST_CASE("first segments of conn04.server.bin (LZ4)") {
    auto data = load_fixture("conn04.server.bin");
    auto start = segments_start(data);
    CHECK(start == 120);
    auto segs = all_segments(bytes_view(data).subspan(start), lz4);
    REQUIRE(segs.size() == 62);
    CHECK(segs[0].header == segment_header{9, 0, true});
    CHECK(segs[0].payload == bytes_of({0x85, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00}));
    CHECK(segs[1].header == segment_header{193, 214, true});
    CHECK(segs[1].payload.size() == 214);
    CHECK(byte_buffer(segs[1].payload.begin(), segs[1].payload.begin() + 9) ==
          bytes_of({0x85, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x00, 0xCD}));
    CHECK(segs[2].header == segment_header{938, 1078, true});
    CHECK(segs[3].header == segment_header{334, 1147, true});
    CHECK(segs[4].header == segment_header{1412, 2829, true});

    // The same query on the uncompressed connection got the same answer (peers_v2 is
    // empty): the decompressed payload is exactly the uncompressed one.
    auto plain = load_fixture("conn02.server.bin");
    auto plain_segs = all_segments(bytes_view(plain).subspan(120), none);
    CHECK(segs[1].payload == plain_segs[1].payload);
}

TEST_CASE("every segment of every v5 fixture") {
    struct fixture {
        const char* file;
        compression_algorithm c;
        bool server;
        std::size_t segments;
    };
    const fixture fixtures[] = {
        {"conn02.client.bin", none, false, 83},  {"conn02.server.bin", none, true, 71},
        {"conn03.client.bin", none, false, 134}, {"conn03.server.bin", none, true, 130},
        {"conn04.client.bin", lz4, false, 83},   {"conn04.server.bin", lz4, true, 62},
        {"conn05.client.bin", lz4, false, 134},  {"conn05.server.bin", lz4, true, 125},
    };
    for (const auto& f : fixtures) {
        INFO(f.file);
        auto data = load_fixture(f.file);
        bytes_view segments = bytes_view(data).subspan(segments_start(data));
        auto segs = all_segments(segments, f.c);
        CHECK(segs.size() == f.segments);

        // Every payload splits exactly into whole v5 frames of the right direction.
        std::size_t frames = 0;
        byte_buffer payloads;
        for (const auto& s : segs) {
            CHECK(s.header.self_contained);  // no frame of this traffic exceeds 128 KiB
            bytes_view p(s.payload);
            while (!p.empty()) {
                auto fs = split_frame(p);
                REQUIRE_FALSE(fs.error);
                REQUIRE(fs.consumed > 0);
                CHECK(fs.frame.header.version == protocol_version::v5);
                CHECK(fs.frame.header.is_response == f.server);
                p = p.subspan(fs.consumed);
                ++frames;
            }
            payloads.insert(payloads.end(), s.payload.begin(), s.payload.end());
        }

        // The stream decoder yields the same frames, all at once...
        auto got = decode_all(segments, f.c);
        CHECK(got.frames.size() == frames);
        CHECK(got.joined() == payloads);

        // ... and fed in pieces of any size.
        std::mt19937 rng(static_cast<unsigned>(data.size()));
        collected pieces;
        buffered_segment_stream feeder(f.c);
        std::size_t pos = 0;
        while (pos < segments.size()) {
            std::size_t n = std::min<std::size_t>(segments.size() - pos, 1 + rng() % 3000);
            REQUIRE_FALSE(feeder.feed(segments.subspan(pos, n), pieces.callback()));
            pos += n;
        }
        CHECK_FALSE(feeder.finish());
        CHECK(pieces.joined() == payloads);

        // Re-encoding: an uncompressed segment comes out byte for byte the same; an
        // LZ4 one decodes back to the same payload after our own compression.
        for (const auto& s : segs) {
            byte_buffer again;
            REQUIRE_FALSE(encode_segment(s.payload, s.header.self_contained, f.c, again));
            if (f.c == none) {
                CHECK(again == byte_buffer(segments.begin() + static_cast<std::ptrdiff_t>(s.offset),
                                           segments.begin() + static_cast<std::ptrdiff_t>(
                                                                  s.offset + again.size())));
            } else {
                auto back = all_segments(again, lz4);
                REQUIRE(back.size() == 1);
                CHECK(back[0].payload == s.payload);
                CHECK(back[0].header.self_contained == s.header.self_contained);
            }
        }
    }
}

TEST_CASE("byte at a time") {
    auto data = load_fixture("conn04.client.bin");
    bytes_view segments = bytes_view(data).subspan(segments_start(data));
    auto whole = decode_all(segments, lz4);
    collected got;
    buffered_segment_stream feeder(lz4);
    for (std::size_t i = 0; i < segments.size(); ++i) {
        REQUIRE_FALSE(feeder.feed(segments.subspan(i, 1), got.callback()));
        CHECK(feeder.buffered() < max_segment_size(lz4));
    }
    CHECK_FALSE(feeder.finish());
    CHECK(got.frames == whole.frames);
}

TEST_CASE("segment_stream on a caller's buffer reports what it needs") {
    auto frame = make_frame(7, 100);
    byte_buffer segs;
    REQUIRE_FALSE(encode_segments(frame, none, segs));
    REQUIRE(segs.size() == 6 + 109 + 4);

    segment_stream stream;
    collected got;
    std::size_t used = 99;
    REQUIRE_FALSE(stream.decode(bytes_view(segs).first(3), used, got.callback()));
    CHECK(used == 0);
    CHECK(stream.needed() == 6);
    REQUIRE_FALSE(stream.decode(bytes_view(segs).first(50), used, got.callback()));
    CHECK(used == 0);
    CHECK(stream.needed() == segs.size());
    CHECK(got.frames.empty());
    // Frames of an uncompressed segment are views into the caller's buffer.
    const std::uint8_t* body = nullptr;
    REQUIRE_FALSE(stream.decode(segs, used, [&](const frame_view& f) { body = f.body.data(); }));
    CHECK(used == segs.size());
    CHECK(body == segs.data() + 6 + 9);
}

TEST_CASE("frames are packed into self-contained segments") {
    // 10 frames of 9 + 21 = 30 bytes, at most 100 bytes a segment: 3 frames a segment.
    byte_buffer frames;
    for (int i = 0; i < 10; ++i) {
        auto f = make_frame(static_cast<std::int16_t>(i), 21, false, 2);
        frames.insert(frames.end(), f.begin(), f.end());
    }
    byte_buffer segs;
    REQUIRE_FALSE(encode_segments(frames, none, segs, 100));
    auto list = all_segments(segs, none);
    REQUIRE(list.size() == 4);
    for (std::size_t i = 0; i < 3; ++i)
        CHECK(list[i].header == segment_header{90, 0, true});
    CHECK(list[3].header == segment_header{30, 0, true});
    auto got = decode_all(segs, none);
    REQUIRE(got.frames.size() == 10);
    CHECK(got.joined() == frames);

    // With the default maximum everything fits one segment.
    segs.clear();
    REQUIRE_FALSE(encode_segments(frames, none, segs));
    CHECK(all_segments(segs, none).size() == 1);

    // Nothing in, nothing out.
    segs.clear();
    REQUIRE_FALSE(encode_segments({}, lz4, segs));
    CHECK(segs.empty());

    // A buffer that ends inside a frame is refused and nothing is appended.
    CHECK(encode_segments(bytes_view(frames).first(45), none, segs) == codec_errc::truncated);
    CHECK(segs.empty());
}

TEST_CASE("a large frame goes over segments that are not self-contained") {
    for (auto c : {none, lz4}) {
        auto small1 = make_frame(1, 50, true, 3);
        auto big = make_frame(2, 300000, true, c == none ? 5 : 4);  // random or repetitive
        auto small2 = make_frame(3, 10, true, 3);
        byte_buffer frames;
        for (const auto* f : {&small1, &big, &small2})
            frames.insert(frames.end(), f->begin(), f->end());
        byte_buffer segs;
        REQUIRE_FALSE(encode_segments(frames, c, segs));
        auto list = all_segments(segs, c);
        REQUIRE(list.size() == 5);
        CHECK(list[0].header.self_contained);
        CHECK(list[0].payload.size() == 59);
        for (std::size_t i = 1; i <= 3; ++i)
            CHECK_FALSE(list[i].header.self_contained);
        CHECK(list[1].payload.size() == max_segment_payload);
        CHECK(list[2].payload.size() == max_segment_payload);
        CHECK(list[3].payload.size() == 300009 - 2 * max_segment_payload);
        CHECK(list[4].header.self_contained);
        CHECK(list[4].payload.size() == 19);
        if (c == lz4) CHECK(list[1].header.uncompressed_length == max_segment_payload);

        auto got = decode_all(segs, c);
        REQUIRE(got.frames.size() == 3);
        CHECK(got.frames[0] == small1);
        CHECK(got.frames[1] == big);
        CHECK(got.frames[2] == small2);

        // The frame maximum is enforced on the spread frame's header, at its first part.
        segment_stream strict(c, 1000);
        std::size_t used = 0;
        CHECK(strict.decode(segs, used, [](const frame_view&) {}) == codec_errc::body_too_large);
        CHECK(strict.decode(segs, used, [](const frame_view&) {}) == codec_errc::body_too_large);
    }
}

TEST_CASE("spread frame with a tiny maximum payload, header itself split") {
    auto big = make_frame(9, 40, false, 7);
    byte_buffer segs;
    REQUIRE_FALSE(encode_segments(big, none, segs, 4));  // the 9-byte header spans 3 segments
    CHECK(all_segments(segs, none).size() == 13);        // 49 bytes in pieces of 4
    auto got = decode_all(segs, none);
    REQUIRE(got.frames.size() == 1);
    CHECK(got.frames[0] == big);
}

TEST_CASE("incompressible payload goes uncompressed with uncompressed length 0") {
    auto frame = make_frame(4, 5000, true, 11);  // random body
    byte_buffer segs;
    REQUIRE_FALSE(encode_segments(frame, lz4, segs));
    REQUIRE(segs.size() == 8 + frame.size() + 4);
    segment_header h;
    REQUIRE_FALSE(decode_segment_header(segs, lz4, h));
    CHECK(h == segment_header{static_cast<std::uint32_t>(frame.size()), 0, true});
    CHECK(byte_buffer(segs.begin() + 8, segs.end() - 4) == frame);
    CHECK(decode_all(segs, lz4).frames.at(0) == frame);

    // A compressible one shrinks.
    auto text = make_frame(4, 5000, true, 12);
    segs.clear();
    REQUIRE_FALSE(encode_segments(text, lz4, segs));
    REQUIRE_FALSE(decode_segment_header(segs, lz4, h));
    CHECK(h.uncompressed_length == text.size());
    CHECK(h.payload_length < text.size() / 4);
}

TEST_CASE("every truncation and every flipped bit of small segments is an error") {
    std::vector<std::pair<byte_buffer, compression_algorithm>> samples;
    auto data = load_fixture("conn02.server.bin");
    samples.emplace_back(byte_buffer(data.begin() + 120, data.begin() + 120 + 19 + 224), none);
    auto data4 = load_fixture("conn04.server.bin");
    samples.emplace_back(byte_buffer(data4.begin() + 120, data4.begin() + 120 + 21 + 205), lz4);
    byte_buffer spread;
    REQUIRE_FALSE(encode_segments(make_frame(1, 30, true, 2), lz4, spread, 16));
    samples.emplace_back(spread, lz4);

    for (const auto& [seg, c] : samples) {
        REQUIRE(decode_all(seg, c).frames.size() >= 1);
        std::vector<std::size_t> boundaries;
        for (const auto& d : all_segments(seg, c))
            boundaries.push_back(d.offset);
        for (std::size_t n = 0; n < seg.size(); ++n) {
            INFO("cut at " << n);
            buffered_segment_stream s(c);
            collected got;
            REQUIRE_FALSE(s.feed(bytes_view(seg).first(n), got.callback()));
            if (std::find(boundaries.begin(), boundaries.end(), n) != boundaries.end()) {
                // Between segments: whole segments decoded; the end of the stream is
                // wrong only inside a spread frame.
                auto ec = s.finish();
                CHECK((!ec || ec == codec_errc::truncated));
            } else {
                // Cut inside a segment: nothing is wrong yet, but the end of the stream
                // says the input is incomplete.
                CHECK(s.finish() == codec_errc::truncated);
                CHECK(s.buffered() > 0);
            }
        }
        for (std::size_t bit = 0; bit < seg.size() * 8; ++bit) {
            auto bad = seg;
            bad[bit / 8] = static_cast<std::uint8_t>(bad[bit / 8] ^ (1u << (bit % 8)));
            segment_stream s(c);
            std::size_t used = 0;
            auto ec = s.decode(bad, used, [](const frame_view&) {});
            INFO("bit " << bit);
            CHECK(
                (ec == codec_errc::header_crc_mismatch || ec == codec_errc::payload_crc_mismatch));
        }
    }
}

TEST_CASE("payloads with valid CRCs but wrong contents") {
    auto frame = make_frame(5, 20, true, 2);
    segment_stream* last = nullptr;
    auto run = [&](const byte_buffer& segs, compression_algorithm c,
                   std::uint32_t max_body = default_max_body_size) {
        static segment_stream s;
        s = segment_stream(c, max_body);
        last = &s;
        std::size_t used = 0;
        return s.decode(segs, used, [](const frame_view&) {});
    };

    // A self-contained segment ending inside a frame.
    byte_buffer segs;
    REQUIRE_FALSE(encode_segment(bytes_view(frame).first(20), true, none, segs));
    CHECK(run(segs, none) == codec_errc::truncated);

    // A frame header that is not one.
    segs.clear();
    auto junk = frame;
    junk[4] = 0x04;  // no opcode 4
    REQUIRE_FALSE(encode_segment(junk, true, none, segs));
    CHECK(run(segs, none) == codec_errc::unknown_opcode);

    // A frame above the maximum body size in a self-contained segment.
    segs.clear();
    REQUIRE_FALSE(encode_segment(frame, true, none, segs));
    CHECK(run(segs, none, 19) == codec_errc::body_too_large);
    CHECK(run(segs, none, 20) == std::error_code{});

    // A part of a spread frame that runs past the frame's end.
    segs.clear();
    auto two = frame;
    two.insert(two.end(), frame.begin(), frame.end());
    REQUIRE_FALSE(encode_segment(two, false, none, segs));
    CHECK(run(segs, none) == codec_errc::trailing_bytes);

    // A self-contained segment while a spread frame is incomplete.
    segs.clear();
    REQUIRE_FALSE(encode_segment(bytes_view(frame).first(15), false, none, segs));
    REQUIRE_FALSE(encode_segment(frame, true, none, segs));
    CHECK(run(segs, none) == codec_errc::truncated);
    // ... and the stream ending there.
    segs.resize(6 + 15 + 4);
    CHECK(run(segs, none) == std::error_code{});
    CHECK(last->in_frame());
    CHECK(last->finish() == codec_errc::truncated);

    // LZ4 segments whose block is corrupt or does not have the announced size, with
    // CRCs that match what was sent.
    byte_buffer block;
    REQUIRE_FALSE(lz4_compress(make_frame(5, 200, true, 2), block));
    auto lz4_segment = [](bytes_view payload, std::uint32_t uncompressed) {
        byte_buffer out;
        REQUIRE_FALSE(encode_segment_header(
            {static_cast<std::uint32_t>(payload.size()), uncompressed, true}, lz4, out));
        out.insert(out.end(), payload.begin(), payload.end());
        auto crc = crc32(payload);
        for (int i = 0; i < 4; ++i)
            out.push_back(static_cast<std::uint8_t>(crc >> (8 * i)));
        return out;
    };
    CHECK(run(lz4_segment(block, 209), lz4) == std::error_code{});
    CHECK(run(lz4_segment(block, 208), lz4) == codec_errc::decompression_failed);
    CHECK(run(lz4_segment(block, 210), lz4) == codec_errc::decompression_failed);
    CHECK(run(lz4_segment(bytes_view(block).first(block.size() - 3), 209), lz4) ==
          codec_errc::decompression_failed);
    auto garbage = bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
    CHECK(run(lz4_segment(garbage, 1000), lz4) == codec_errc::decompression_failed);
}

TEST_CASE("errors are sticky, and a callback can stop the stream") {
    byte_buffer segs;
    REQUIRE_FALSE(encode_segments(make_frame(1, 10), none, segs));
    REQUIRE_FALSE(encode_segments(make_frame(2, 10), none, segs));  // two segments
    segment_stream s;
    std::size_t used = 0;
    int calls = 0;
    auto ec = s.decode(segs, used, [&](const frame_view&) {
        ++calls;
        return std::error_code(codec_errc::invalid_value);
    });
    CHECK(ec == codec_errc::invalid_value);
    CHECK(calls == 1);
    CHECK(s.decode(segs, used, [&](const frame_view&) { ++calls; }) == codec_errc::invalid_value);
    CHECK(calls == 1);
    CHECK(used == 0);
    CHECK(s.finish() == codec_errc::invalid_value);
}

TEST_CASE("random damage behind valid CRCs never crashes") {
    // A stream with packed and spread frames; payload bytes are damaged and the CRC32
    // recomputed, so the damage reaches decompression and frame assembly.
    for (auto c : {none, lz4}) {
        byte_buffer frames;
        for (int i = 0; i < 6; ++i) {
            auto f = make_frame(static_cast<std::int16_t>(i), i == 3 ? 700 : 40, true,
                                static_cast<unsigned>(i + 2));
            frames.insert(frames.end(), f.begin(), f.end());
        }
        byte_buffer clean;
        REQUIRE_FALSE(encode_segments(frames, c, clean, 256));
        auto segs = all_segments(clean, c);
        const std::size_t hsize = segment_header_size(c);
        std::mt19937 rng(c == none ? 1 : 2);
        for (int round = 0; round < 1500; ++round) {
            auto bad = clean;
            const auto& s = segs[rng() % segs.size()];
            if (s.wire_payload.empty()) continue;
            for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k) {
                auto at = s.offset + hsize + rng() % s.wire_payload.size();
                bad[at] = static_cast<std::uint8_t>(rng());
            }
            auto crc = crc32(bytes_view(bad).subspan(s.offset + hsize, s.wire_payload.size()));
            for (std::size_t i = 0; i < 4; ++i)
                bad[s.offset + hsize + s.wire_payload.size() + i] =
                    static_cast<std::uint8_t>(crc >> (8 * i));
            buffered_segment_stream stream(c, 1 << 16);
            std::size_t pos = 0;
            std::error_code ec;
            std::size_t bytes = 0;
            while (pos < bad.size() && !ec) {
                auto n = std::min<std::size_t>(bad.size() - pos, 1 + rng() % 200);
                ec = stream.feed(bytes_view(bad).subspan(pos, n),
                                 [&](const frame_view& f) { bytes += f.body.size(); });
                pos += n;
            }
            if (!ec) ec = stream.finish();
            // Either an error value, or frames whose bodies fit the input we gave.
            if (!ec) CHECK(bytes <= frames.size());
        }
    }
}
