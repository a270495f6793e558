// Frames the driver must refuse: a header announcing a body over the limit, garbage where a
// frame or segment should be, v5 segments with a wrong CRC, LZ4 bombs, and a frame in
// another protocol version than the connection's. Each fails the request that got it with
// the codec error that names the fault, closes that connection, and the next request works
// on a new one.
#include <catch2/catch.hpp>

#include <random>

#include <boost/asio/awaitable.hpp>

#include "cql/protocol/compression.hpp"
#include "cql/protocol/crc.hpp"
#include "cql/protocol/segment.hpp"
#include "hostile_test.hpp"

using namespace cql::hostile;
namespace p = cql::protocol;
using p::codec_errc;

namespace {

constexpr const char* trigger = "SELECT * FROM hostile.malformed";

// A 9-byte response header, as on the wire.
p::byte_buffer header(std::uint8_t version_byte, std::int16_t stream, std::uint32_t body_length,
                      std::uint8_t flags = 0) {
    p::byte_buffer h;
    p::byte_writer w(h);
    w.u8(version_byte);
    w.u8(flags);
    w.i16(stream);
    w.u8(static_cast<std::uint8_t>(p::opcode::result));
    w.i32(static_cast<std::int32_t>(body_length));
    return h;
}

std::uint8_t response_byte(p::protocol_version v) {
    return static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(v));
}

// The trigger gets `misbehave`'s bytes; everything else a healthy answer. Then: the trigger
// fails with `expected` (the cause, not a timeout), the connection is replaced and the next
// request works.
void expect_refused(cql::cluster_config cfg,
                    std::function<void(connection&, const request&)> misbehave,
                    std::error_code expected) {
    server srv;
    cfg.contact_points = {srv.contact_point()};
    cfg.request_timeout = 5s;  // the error must come from the frame, not from a timeout
    srv.on_request([&](connection& c, const request& r) {
        if (r.query != trigger) return false;
        misbehave(c, r);
        return true;
    });
    run(cfg, [&](cql::cluster& cluster) -> boost::asio::awaitable<void> {
        const auto before = srv.accepted();
        auto out = co_await execute(cluster.session(), cql::statement(trigger));
        INFO(out.ec.message() << ": " << out.diag.message);
        CHECK(out.ec == expected);
        CHECK(cql::is_connection_error(out.ec));
        auto next = co_await probe_until_success(cluster.session());
        INFO("next request: " << next.ec.message() << ": " << next.diag.message);
        CHECK_FALSE(next.ec);
        CHECK(srv.accepted() > before);  // the broken connection was replaced
    });
}

cql::cluster_config pinned(p::protocol_version v, cql::compression c = cql::compression::none) {
    auto cfg = base_config();
    cfg.version = v;
    cfg.compression = c;
    return cfg;
}

p::byte_buffer random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    p::byte_buffer out(n);
    for (auto& b : out)
        b = static_cast<std::uint8_t>(gen());
    return out;
}

}  // namespace

TEST_CASE("a header announcing a body above the maximum") {
    SECTION("v4") {
        expect_refused(
            pinned(p::protocol_version::v4),
            [](connection& c, const request& r) {
                c.send_raw(header(0x84, r.stream, p::default_max_body_size + 1));
            },
            codec_errc::body_too_large);
    }
    SECTION("v5, inside a segment") {
        expect_refused(
            pinned(p::protocol_version::v5),
            [](connection& c, const request& r) {
                c.send_segment(header(0x85, r.stream, 0x7FFFFFFF));
            },
            codec_errc::body_too_large);
    }
}

TEST_CASE("garbage instead of a frame") {
    SECTION("v4: a version byte nobody speaks") {
        auto garbage = random_bytes(300, 1);
        garbage[0] = 0x8A;  // v10
        expect_refused(
            pinned(p::protocol_version::v4),
            [&](connection& c, const request&) { c.send_raw(garbage); },
            codec_errc::unsupported_version);
    }
    SECTION("v4: a request where a response must be") {
        auto garbage = header(0x04, 0, 291);  // a v4 RESULT without the response bit
        auto tail = random_bytes(291, 2);
        garbage.insert(garbage.end(), tail.begin(), tail.end());
        expect_refused(
            pinned(p::protocol_version::v4),
            [&](connection& c, const request&) { c.send_raw(garbage); },
            codec_errc::unexpected_direction);
    }
    SECTION("v5: noise where a segment header must be") {
        expect_refused(
            pinned(p::protocol_version::v5),
            [](connection& c, const request&) { c.send_raw(random_bytes(300, 3)); },
            codec_errc::header_crc_mismatch);
    }
}

TEST_CASE("v5 segments with a wrong CRC") {
    auto corrupt = [](std::size_t at_from_end_of_header) {
        return [at_from_end_of_header](connection& c, const request& r) {
            p::byte_buffer seg;
            REQUIRE_FALSE(p::encode_segments(c.rows_answer(r.stream, {"tampered"}),
                                             p::compression_algorithm::none, seg));
            seg[at_from_end_of_header] ^= 0x5A;
            c.send_raw(seg);
        };
    };
    SECTION("header CRC24") {
        expect_refused(pinned(p::protocol_version::v5), corrupt(1),
                       codec_errc::header_crc_mismatch);
    }
    SECTION("payload CRC32") {
        expect_refused(pinned(p::protocol_version::v5),
                       corrupt(p::uncompressed_segment_header_size + 2),
                       codec_errc::payload_crc_mismatch);
    }
}

TEST_CASE("LZ4 bombs") {
    const auto lz4 = cql::compression::lz4;
    // Ten bytes that could never expand to what the header claims.
    const p::byte_buffer block = {0xF0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    auto v4_frame = [block](std::int32_t claimed) {
        return [block, claimed](connection& c, const request& r) {
            p::byte_buffer body;
            p::byte_writer w(body);
            w.i32(claimed);
            body.insert(body.end(), block.begin(), block.end());
            auto f = header(0x84, r.stream, static_cast<std::uint32_t>(body.size()),
                            p::frame_flags::compression);
            f.insert(f.end(), body.begin(), body.end());
            c.send_raw(f);
        };
    };
    SECTION("v4: a body claiming 2 GiB") {
        expect_refused(pinned(p::protocol_version::v4, lz4), v4_frame(0x7FFFFFFF),
                       codec_errc::body_too_large);
    }
    SECTION("v4: a body claiming more than its block can hold") {
        expect_refused(pinned(p::protocol_version::v4, lz4), v4_frame(100 * 1000 * 1000),
                       codec_errc::decompression_failed);
    }
    SECTION("v5: a segment claiming 128 KiB from ten bytes") {
        expect_refused(
            pinned(p::protocol_version::v5, lz4),
            [block](connection& c, const request&) {
                p::segment_header h;
                h.payload_length = static_cast<std::uint32_t>(block.size());
                h.uncompressed_length = p::max_segment_payload;
                p::byte_buffer seg;
                REQUIRE_FALSE(p::encode_segment_header(h, p::compression_algorithm::lz4, seg));
                seg.insert(seg.end(), block.begin(), block.end());
                auto crc = p::crc32(block);
                for (int i = 0; i < 4; ++i)
                    seg.push_back(static_cast<std::uint8_t>(crc >> (8 * i)));
                c.send_raw(seg);
            },
            codec_errc::decompression_failed);
    }
}

TEST_CASE("a response in another protocol version than the connection's") {
    auto with_version_byte = [](std::uint8_t b) {
        return [b](connection& c, const request& r) {
            auto f = c.rows_answer(r.stream, {"tampered"});
            f[0] = b;
            c.send_frame(f);
        };
    };
    SECTION("v4 connection, v3 frame") {
        expect_refused(pinned(p::protocol_version::v4), with_version_byte(0x83),
                       codec_errc::version_mismatch);
    }
    SECTION("v4 connection, v5 frame") {
        expect_refused(pinned(p::protocol_version::v4),
                       with_version_byte(response_byte(p::protocol_version::v5)),
                       codec_errc::version_mismatch);
    }
    SECTION("v5 connection, v4 frame inside a segment") {
        expect_refused(pinned(p::protocol_version::v5), with_version_byte(0x84),
                       codec_errc::version_mismatch);
    }
}
