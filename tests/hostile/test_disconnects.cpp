// The server drops the connection under load: reset or closed with 256 requests in flight,
// or in the middle of an answer. Every request in flight fails at once with
// errc::connection_closed (not after its timeout), and the next request works on a new
// connection.
#include <catch2/catch.hpp>

#include <atomic>

#include <boost/asio/awaitable.hpp>

#include "hostile_test.hpp"

using namespace cql::hostile;
namespace p = cql::protocol;

namespace {

constexpr std::size_t in_flight = 256;
constexpr const char* held = "SELECT * FROM hostile.hold";

void expect_all_fail(p::protocol_version version,
                     std::function<void(connection&, const request&)> drop) {
    INFO("protocol v" << static_cast<int>(version));
    server srv;
    std::atomic<std::size_t> seen{0};
    srv.on_request([&](connection& c, const request& r) {
        if (r.query != held) return false;
        if (++seen == in_flight) drop(c, r);
        return true;
    });
    auto cfg = config_for(srv);
    cfg.version = version;
    cfg.request_timeout = 60s;  // far beyond the test's bound: no request may wait for it
    cfg.pool.max_requests_per_connection = in_flight;
    run(cfg, [&](cql::cluster& cluster) -> boost::asio::awaitable<void> {
        const auto before = srv.accepted();
        std::size_t done = 0;
        std::size_t closed = 0;
        for (std::size_t i = 0; i < in_flight; ++i)
            start(cluster.session(), cql::statement(held), [&](outcome o) {
                ++done;
                if (o.ec == cql::errc::connection_closed) ++closed;
            });
        const bool all_done = co_await until([&] { return done == in_flight; }, 10s);
        REQUIRE(all_done);
        CHECK(closed == in_flight);
        auto next = co_await probe_until_success(cluster.session());
        INFO("next request: " << next.ec.message() << ": " << next.diag.message);
        CHECK_FALSE(next.ec);
        CHECK(srv.accepted() > before);
    });
}

}  // namespace

TEST_CASE("a reset with 256 requests in flight") {
    expect_all_fail(GENERATE(p::protocol_version::v4, p::protocol_version::v5),
                    [](connection& c, const request&) { c.reset(); });
}

TEST_CASE("a close with 256 requests in flight") {
    expect_all_fail(GENERATE(p::protocol_version::v4, p::protocol_version::v5),
                    [](connection& c, const request&) { c.close(); });
}

TEST_CASE("a close in the middle of an answer, 256 requests in flight") {
    expect_all_fail(GENERATE(p::protocol_version::v4, p::protocol_version::v5),
                    [](connection& c, const request& r) {
                        auto f = c.framed(c.rows_answer(r.stream, {std::string(10000, 'x')}));
                        f.resize(f.size() / 2);
                        c.send_raw(f);
                        c.close();
                    });
}
