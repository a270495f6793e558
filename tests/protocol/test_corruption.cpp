// Damaged real traffic: small stretches of the fixtures (v4 and v5, plain and LZ4 segments,
// both directions) cut at every length and with a corrupted byte at every offset. Decoding
// must give an error value or valid messages (which then re-encode consistently), never
// a crash, an exception or a read out of bounds: every damaged copy lives in its own heap
// block of exactly its size, so ASan (CI) sees any overread. Inside v5 segments every
// single-byte change must be caught by the CRC24 or CRC32.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>

#include "cql/protocol/requests.hpp"
#include "cql/protocol/responses.hpp"
#include "cql/protocol/segment.hpp"
#include "cql/protocol/stream_decoder.hpp"

using namespace cql::protocol;

namespace {

byte_buffer load(const std::string& name) {
    std::ifstream in(std::string(CQL_FIXTURES_DIR) + "/cassandra-4.0-traffic/" + name,
                     std::ios::binary);
    REQUIRE(in);
    return byte_buffer(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

enum class framing { stream, segments_only };

struct sample {
    const char* file;
    stream_side side;
    framing kind;
    // stream: from the start of the file up to the last frame or segment boundary at or
    // before `max_end`. segments_only: [begin, end) holds whole segments of `layout`;
    // otherwise plain frames of a v4 connection taken in the middle of the file.
    std::size_t begin;
    std::size_t max_end;
    compression_algorithm layout = compression_algorithm::none;
};

const sample samples[] = {
    {"conn00.client.bin", stream_side::client, framing::stream, 0, 264},
    {"conn00.server.bin", stream_side::server, framing::stream, 0, 343},
    {"conn01.client.bin", stream_side::client, framing::stream, 4121, 4498},    // EXECUTE
    {"conn01.server.bin", stream_side::server, framing::stream, 10080, 11000},  // all types,
                                                                                // prepared, warning
    {"conn01.server.bin", stream_side::server, framing::stream, 286622, 286817},  // 3 errors
    {"conn02.client.bin", stream_side::client, framing::stream, 0, 320},
    {"conn02.server.bin", stream_side::server, framing::stream, 0, 420},
    {"conn03.server.bin", stream_side::server, framing::segments_only, 287836, 288061},
    {"conn04.client.bin", stream_side::client, framing::stream, 0, 330},
    {"conn04.server.bin", stream_side::server, framing::stream, 0, 420},
    {"conn05.server.bin", stream_side::server, framing::segments_only, 104996, 105226,
     compression_algorithm::lz4},
};

// Decodes one message and, if it is valid, checks that it re-encodes to something that
// decodes to the same message (requests) or re-encodes identically (responses).
bool check_message(stream_side side, const frame_view& f) {
    if (side == stream_side::client) {
        decoded_request req;
        if (decode_request(f, req)) return false;
        byte_buffer once;
        const body_prefix* p = req.prefix.custom_payload.empty() ? nullptr : &req.prefix;
        REQUIRE(encode_request_frame(once, f.header.version, req.stream, req.message, p,
                                     req.tracing) == std::error_code{});
        auto s = split_frame(once);
        REQUIRE(s.consumed == once.size());
        decoded_request again;
        REQUIRE(decode_request(s.frame, again) == std::error_code{});
        CHECK(again.message == req.message);
        return true;
    }
    response resp;
    body_prefix prefix;
    if (decode_response(f, resp, prefix)) return false;
    byte_buffer once, twice;
    encode_response_frame(once, f.header.version, f.header.stream, resp, &prefix);
    auto s = split_frame(once);
    REQUIRE(s.consumed == once.size());
    response again;
    body_prefix prefix2;
    REQUIRE(decode_response(s.frame, again, prefix2) == std::error_code{});
    encode_response_frame(twice, f.header.version, f.header.stream, again, &prefix2);
    CHECK(twice == once);
    return true;
}

struct outcome {
    std::error_code error;
    std::size_t frames = 0;
    std::size_t valid_messages = 0;
    std::vector<std::size_t> boundaries;                        // ends of frames and segments
    std::vector<std::pair<std::size_t, std::size_t>> segments;  // [begin, end)
    compression_algorithm layout = compression_algorithm::none;
};

// `data` is decoded from a heap block of exactly its size.
outcome decode(const sample& s, bytes_view data) {
    auto copy = std::make_unique<std::uint8_t[]>(data.size() ? data.size() : 1);
    std::copy(data.begin(), data.end(), copy.get());
    bytes_view in(copy.get(), data.size());
    outcome out;
    auto on_frame = [&](const frame_view& f) {
        ++out.frames;
        if (check_message(s.side, f)) ++out.valid_messages;
    };
    if (s.kind == framing::segments_only) {
        segment_stream stream(s.layout);
        std::size_t used = 0;
        std::size_t pos = 0;
        // One segment at a time, to record the boundaries.
        while (!out.error && pos < in.size()) {
            auto g = split_segment(in.subspan(pos), s.layout);
            out.error = stream.decode(in.subspan(pos, g.consumed ? g.consumed : in.size() - pos),
                                      used, on_frame);
            if (out.error) break;
            if (used == 0) {
                out.error = codec_errc::truncated;
                break;
            }
            out.segments.emplace_back(pos, pos + used);
            pos += used;
            out.boundaries.push_back(pos);
        }
        if (!out.error) out.error = stream.finish();
        return out;
    }
    stream_decoder d(s.side);
    auto ec = d.feed(
        in,
        [&](const stream_frame& f) {
            if (!f.in_segments) out.boundaries.push_back(f.offset + f.envelope.size());
            on_frame(f.frame);
        },
        [&](const stream_segment& g) {
            out.segments.emplace_back(g.offset, g.offset + g.wire.size());
            out.layout = g.layout;
            out.boundaries.push_back(g.offset + g.wire.size());
        });
    out.error = ec ? ec : d.finish();
    return out;
}

}  // namespace

TEST_CASE("every truncation and every corrupted byte of real frames and segments") {
    std::size_t cases = 0, caught = 0, still_valid = 0;
    for (const auto& s : samples) {
        auto file = load(s.file);
        REQUIRE(s.begin < file.size());
        auto max_end = std::min(s.max_end, file.size());
        auto whole = decode(s, bytes_view(file).subspan(s.begin, max_end - s.begin));
        // Cut at the last boundary inside the stretch.
        std::size_t end = 0;
        for (auto b : whole.boundaries)
            if (b <= max_end - s.begin) end = std::max(end, b);
        INFO(s.file << " [" << s.begin << ", " << s.begin + end << ")");
        REQUIRE(end > 0);
        bytes_view base = bytes_view(file).subspan(s.begin, end);
        auto good = decode(s, base);
        REQUIRE(good.error == std::error_code{});
        REQUIRE(good.frames > 0);
        REQUIRE(good.valid_messages == good.frames);
        std::set<std::size_t> boundaries(good.boundaries.begin(), good.boundaries.end());
        boundaries.insert(0);

        // Every truncation: an error unless the cut falls between frames or segments.
        for (std::size_t n = 0; n < base.size(); ++n) {
            INFO("cut at " << n);
            outcome o;
            REQUIRE_NOTHROW(o = decode(s, base.first(n)));
            ++cases;
            if (boundaries.count(n)) {
                CHECK(o.error == std::error_code{});
                CHECK(o.frames < good.frames);
            } else {
                CHECK(o.error == make_error_code(codec_errc::truncated));
                ++caught;
            }
        }

        // Every byte changed three ways.
        byte_buffer damaged(base.begin(), base.end());
        for (std::size_t i = 0; i < damaged.size(); ++i) {
            bool in_segment = false;
            for (auto [b, e] : good.segments)
                in_segment = in_segment || (i >= b && i < e);
            const bool in_probe = s.kind == framing::stream && s.side == stream_side::client &&
                                  !good.segments.empty() && i >= good.segments[0].first &&
                                  i < good.segments[0].first + segment_header_size(good.layout);
            for (std::uint8_t mask : {0x01, 0x80, 0xFF}) {
                INFO("byte " << i << " ^ " << int(mask));
                damaged[i] ^= mask;
                outcome o;
                REQUIRE_NOTHROW(o = decode(s, damaged));
                damaged[i] ^= mask;
                ++cases;
                if (o.error || o.valid_messages < o.frames)
                    ++caught;
                else
                    ++still_valid;
                if (in_probe) {
                    // The client side takes the bytes after STARTUP as a segment only when
                    // their header CRC24 is valid (stream_decoder.hpp): a damaged first
                    // header is read as a plain frame, which fails otherwise.
                    CHECK(o.error);
                } else if (in_segment) {
                    // CRC24 and CRC32 catch every error burst of up to 24 bits.
                    CHECK((o.error == make_error_code(codec_errc::header_crc_mismatch) ||
                           o.error == make_error_code(codec_errc::payload_crc_mismatch)));
                }
            }
        }
    }
    // Most damage is caught; some gives other valid messages (a changed letter of a query,
    // a stream id, a cell value), which then re-encoded consistently above.
    CHECK(cases > 10000);
    CHECK(caught > cases / 3);
    CHECK(still_valid > 0);
}

TEST_CASE("shortened bodies of real messages are errors, not overreads") {
    // The messages of conn01 (v4, plain) with their body cut by 1..16 bytes and the header
    // length patched to match.
    for (auto side : {stream_side::client, stream_side::server}) {
        auto file = load(side == stream_side::client ? "conn01.client.bin" : "conn01.server.bin");
        stream_decoder d(side);
        std::size_t checked = 0;
        auto ec = d.feed(file, [&](const stream_frame& f) {
            if (f.frame.body.size() > 4096) return;  // the batches: slow, and alike
            for (std::size_t cut = 1; cut <= 16 && cut <= f.frame.body.size(); ++cut) {
                auto n = f.frame.body.size() - cut;
                auto body = std::make_unique<std::uint8_t[]>(n ? n : 1);
                std::copy(f.frame.body.begin(), f.frame.body.begin() + static_cast<long>(n),
                          body.get());
                frame_view shorter{f.frame.header, bytes_view(body.get(), n)};
                shorter.header.body_length = static_cast<std::uint32_t>(n);
                bool ok = true;
                REQUIRE_NOTHROW(ok = check_message(side, shorter));
                INFO("frame at " << f.offset << " cut by " << cut);
                CHECK_FALSE(ok);
                ++checked;
            }
        });
        REQUIRE(ec == std::error_code{});
        CHECK(checked > 1000);
    }
}
