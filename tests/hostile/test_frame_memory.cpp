// Memory per connection stays bounded by what the server really sent: a 9-byte header
// announcing the largest body allowed must not make the client allocate that body before
// the bytes arrive (measured with the allocation counter: bytes asked of operator new while
// the frame comes in, server thread included). And the largest frame accepted is a
// setting of cluster_config (max_frame_size).
#include <catch2/catch.hpp>

#include <boost/asio/awaitable.hpp>

#include "../support/counting_new.hpp"
#include "cql/protocol/segment.hpp"
#include "hostile_test.hpp"

using namespace cql::hostile;
namespace p = cql::protocol;

namespace {

constexpr const char* trigger = "SELECT * FROM hostile.huge";
constexpr std::size_t sent_body = 256 * 1024;  // what really arrives of the body
// Generous: 64 times what arrives, and a sixteenth of what the header announces.
constexpr unsigned long long allowed = 16ull * 1024 * 1024;

p::byte_buffer huge_header(p::protocol_version v, std::int16_t stream) {
    p::byte_buffer h;
    p::byte_writer w(h);
    w.u8(static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(v)));
    w.u8(0);
    w.i16(stream);
    w.u8(static_cast<std::uint8_t>(p::opcode::result));
    w.u32(p::default_max_body_size);  // exactly the largest body allowed by default
    return h;
}

// The trigger gets the huge header and sent_body bytes of body, then the server closes:
// once the request failed, every byte was read; what was allocated meanwhile is bounded.
void expect_bounded(p::protocol_version v) {
    server srv;
    srv.on_request([&](connection& c, const request& r) {
        if (r.query != trigger) return false;
        auto frame_start = huge_header(v, r.stream);
        p::byte_buffer body(sent_body, 0x41);
        if (v == p::protocol_version::v4) {
            c.send_raw(frame_start);
            c.send_raw(body);
        } else {
            // One frame spread over segments that are not self-contained.
            frame_start.insert(frame_start.end(), body.begin(), body.begin() + 100000);
            c.send_segment(frame_start, false);
            c.send_segment(p::byte_buffer(body.begin() + 100000, body.end()), false);
        }
        c.close();
        return true;
    });
    auto cfg = config_for(srv);
    cfg.version = v;
    cfg.request_timeout = 10s;  // the connection's end, not a timeout, ends the request
    run(cfg, [&](cql::cluster& cluster) -> boost::asio::awaitable<void> {
        const auto before = counting_new::bytes.load();
        auto out = co_await execute(cluster.session(), cql::statement(trigger));
        const auto used = counting_new::bytes.load() - before;
        INFO(out.ec.message() << ": " << out.diag.message);
        INFO("allocated while the frame arrived: " << used << " bytes");
        CHECK(cql::is_connection_error(out.ec));
        CHECK(used < allowed);
        auto next = co_await probe_until_success(cluster.session());
        INFO("next request: " << next.ec.message() << ": " << next.diag.message);
        CHECK_FALSE(next.ec);
    });
}

}  // namespace

TEST_CASE("v4: a header announcing 256 MiB costs what arrives, not 256 MiB") {
    expect_bounded(p::protocol_version::v4);
}

TEST_CASE("v5: a header announcing 256 MiB costs what arrives, not 256 MiB") {
    expect_bounded(p::protocol_version::v5);
}

TEST_CASE("cluster_config::max_frame_size refuses a larger frame") {
    auto version = GENERATE(p::protocol_version::v4, p::protocol_version::v5);
    server srv;
    srv.on_request([&](connection& c, const request& r) {
        if (r.query != trigger) return false;
        c.reply_rows(r.stream, {std::string(2 * 1024 * 1024, 'x')});  // a 2 MiB frame
        return true;
    });
    auto cfg = config_for(srv);
    cfg.version = version;
    cfg.max_frame_size = 1024 * 1024;
    cfg.request_timeout = 10s;
    run(cfg, [&](cql::cluster& cluster) -> boost::asio::awaitable<void> {
        auto out = co_await execute(cluster.session(), cql::statement(trigger));
        INFO(out.ec.message() << ": " << out.diag.message);
        CHECK(out.ec == p::codec_errc::body_too_large);
        auto next = co_await probe_until_success(cluster.session());
        INFO("next request: " << next.ec.message() << ": " << next.diag.message);
        CHECK_FALSE(next.ec);
    });
}
