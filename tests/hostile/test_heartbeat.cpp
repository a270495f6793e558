// Heartbeats: an idle connection sends its OPTIONS probe one heartbeat_interval after the
// last byte it received (not up to two), so a silent peer is found within interval +
// request timeout. These tests need wall-clock bounds; the interval is long (3 s) and every
// bound leaves 1.5 s for a loaded machine, while the fault costs a whole interval more.
#include <catch2/catch.hpp>

#include <atomic>

#include <boost/asio/awaitable.hpp>

#include "hostile_test.hpp"

using namespace cql::hostile;
namespace p = cql::protocol;

namespace {

constexpr auto interval = 3000ms;
constexpr auto request_timeout = 500ms;
constexpr auto slack = 1500ms;

std::chrono::milliseconds ms(clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

cql::cluster_config heartbeat_config(const server& srv) {
    auto cfg = config_for(srv);
    cfg.heartbeat_interval = interval;
    cfg.request_timeout = request_timeout;
    return cfg;
}

}  // namespace

TEST_CASE("the heartbeat goes one interval after the last byte") {
    server srv;
    std::atomic<int> probed_connection{-1};
    std::atomic<clock::rep> delay{-1};  // last byte sent -> heartbeat received
    srv.on_request([&](connection& c, const request& r) {
        if (r.query == probe_query) probed_connection = static_cast<int>(c.index());
        if (!r.handshake && r.op == p::opcode::options &&
            static_cast<int>(c.index()) == probed_connection && delay.load() < 0)
            delay = (clock::now() - c.last_write()).count();
        return false;
    });
    run(
        heartbeat_config(srv),
        [&](cql::cluster& cluster) -> boost::asio::awaitable<void> {
            // Right after connecting: the probe's answer is the pool connection's last byte,
            // just after its heartbeat timer started.
            auto out = co_await probe(cluster.session());
            REQUIRE_FALSE(out.ec);
            const bool heartbeat_seen =
                co_await until([&] { return delay.load() >= 0; }, 4 * interval);
            REQUIRE(heartbeat_seen);
            auto d = ms(clock::duration(delay.load()));
            INFO("heartbeat " << d.count() << " ms after the last byte");
            CHECK(d >= interval - 10ms);
            CHECK(d < interval + slack);
            auto next = co_await probe(cluster.session());
            CHECK_FALSE(next.ec);
        },
        true, 60s);
}

TEST_CASE("a silent peer is found within interval + request timeout") {
    server srv;
    std::atomic<int> silenced{-1};
    srv.on_request([&](connection& c, const request& r) {
        if (static_cast<int>(c.index()) == silenced) return true;  // swallowed
        if (r.query == probe_query && silenced < 0) {
            // (set before the answer: the client reads it once the answer arrived)
            silenced = static_cast<int>(c.index());  // from now on, nothing
            c.answer(r);
            return true;
        }
        return false;
    });
    run(
        heartbeat_config(srv),
        [&](cql::cluster& cluster) -> boost::asio::awaitable<void> {
            auto out = co_await probe(cluster.session());
            REQUIRE_FALSE(out.ec);
            auto conn = srv.connections().at(static_cast<std::size_t>(silenced.load()));
            const bool dropped =
                co_await until([&] { return conn->closed_by_client(); }, 4 * interval);
            REQUIRE(dropped);
            auto found = ms(conn->client_closed_at() - conn->last_write());
            INFO("silent peer dropped " << found.count() << " ms after its last byte");
            CHECK(found >= interval - 10ms);
            CHECK(found < interval + request_timeout + slack);
            auto next = co_await probe_until_success(cluster.session());
            INFO("next request: " << next.ec.message() << ": " << next.diag.message);
            CHECK_FALSE(next.ec);
        },
        true, 60s);
}
