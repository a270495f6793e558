// A wedged connection: after a v4 header announcing more bytes than follow, every later
// answer is swallowed as body bytes and the server keeps trickling bytes, so the connection
// is never idle and never completes a frame. A connection that completes no frame within
// the request timeout while requests wait must be closed and replaced.
#include <catch2/catch.hpp>

#include <functional>

#include <boost/asio/awaitable.hpp>

#include "hostile_test.hpp"

using namespace cql::hostile;
namespace p = cql::protocol;

TEST_CASE("a wedged connection is replaced") {
    constexpr const char* trigger = "SELECT * FROM hostile.wedge";
    server srv;
    // Every 50 ms, 16 more bytes of the body that never ends (until the test is over).
    using drip_fn = std::function<void(std::shared_ptr<connection>)>;
    auto drip = std::make_shared<drip_fn>();
    *drip = [&srv, weak = std::weak_ptr<drip_fn>(drip)](std::shared_ptr<connection> c) {
        if (c->closed()) return;
        c->send_raw(p::byte_buffer(16, 0x20));
        srv.after(50ms, [weak, c] {
            if (auto d = weak.lock()) (*d)(c);
        });
    };
    srv.on_request([&](connection& c, const request& r) {
        if (r.query != trigger) return false;
        p::byte_buffer f;
        p::byte_writer w(f);
        w.u8(0x84);
        w.u8(0);
        w.i16(r.stream);
        w.u8(static_cast<std::uint8_t>(p::opcode::result));
        w.i32(1024 * 1024);  // announced: 1 MiB; sent: 100 bytes and the drip
        f.resize(f.size() + 100, 0x20);
        c.send_raw(f);
        (*drip)(c.shared_from_this());
        return true;
    });
    auto cfg = config_for(srv);
    cfg.version = p::protocol_version::v4;
    run(cfg, [&](cql::cluster& cluster) -> boost::asio::awaitable<void> {
        const auto before = srv.accepted();
        auto wedged = co_await execute(cluster.session(), cql::statement(trigger));
        CHECK(wedged.ec == cql::errc::timed_out);
        auto next = co_await probe_until_success(cluster.session());
        INFO("next request: " << next.ec.message() << ": " << next.diag.message);
        CHECK_FALSE(next.ec);
        CHECK(srv.accepted() > before);
    });
}
