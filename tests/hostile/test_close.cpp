// async_close: requests in flight complete with session_errc::closed; once the close
// completed nothing of the user's is called again (logger included) and nothing of the
// cluster's is left waiting on a timer or a socket, also when a control-connection
// reconnect was under way.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "hostile_test.hpp"

using namespace cql::hostile;
namespace asio = boost::asio;
namespace p = cql::protocol;

namespace {

// Log messages received after close completed (the logger outlives the cluster).
struct log_watch {
    std::atomic<bool> closed{false};
    std::atomic<int> after_close{0};
    std::string first_after_close;  // written once, by the io thread

    void attach(cql::cluster_config& cfg) {
        cfg.log_level = cql::log_level::trace;
        cfg.logger = [this](cql::log_level, std::string_view m) {
            if (closed && after_close++ == 0) first_after_close = std::string(m);
        };
    }
};

// Runs `until_close` (connect, ..., async_close) on io, then returns once the close
// completed, with the io_context left as the cluster left it.
void run_until_closed(asio::io_context& io, cql::cluster& cluster, log_watch& log,
                      std::function<asio::awaitable<void>(cql::cluster&)> before_close) {
    bool done = false;
    std::exception_ptr failure;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            cql::diagnostics diag;
            auto [ec] = co_await cluster.async_connect(diag, no_throw);
            REQUIRE_FALSE(ec);
            co_await before_close(cluster);
            co_await cluster.async_close(no_throw);
            log.closed = true;
        },
        [&](std::exception_ptr e) {
            failure = e;
            done = true;
        });
    const auto end = clock::now() + 30s;
    while (!done && clock::now() < end)
        io.run_one_for(1s);
    if (failure) std::rethrow_exception(failure);
    REQUIRE(done);
}

}  // namespace

TEST_CASE("requests in flight at close complete with session_errc::closed") {
    constexpr std::size_t held = 10;
    server srv;
    srv.on_request(
        [](connection&, const request& r) { return r.query == "SELECT * FROM hostile.hold"; });
    auto cfg = config_for(srv);
    cfg.request_timeout = 10s;
    run(cfg, [&](cql::cluster& cluster) -> asio::awaitable<void> {
        std::vector<cql::error_code> results;
        for (std::size_t i = 0; i < held; ++i)
            start(cluster.session(), cql::statement("SELECT * FROM hostile.hold"),
                  [&](outcome o) { results.push_back(o.ec); });
        const bool all_received =
            co_await until([&] { return srv.received("SELECT * FROM hostile.hold") == held; });
        REQUIRE(all_received);
        co_await cluster.async_close(no_throw);
        const bool all_completed = co_await until([&] { return results.size() == held; });
        REQUIRE(all_completed);
        for (auto& ec : results) {
            INFO(ec.message());
            CHECK(ec == cql::session_errc::closed);
        }
    });
}

TEST_CASE("nothing is left running once close completed") {
    server srv;
    log_watch log;
    auto cfg = config_for(srv);
    log.attach(cfg);
    asio::io_context io;
    cql::cluster cluster(io.get_executor(), cfg);
    run_until_closed(io, cluster, log, [](cql::cluster& c) -> asio::awaitable<void> {
        auto out = co_await probe(c.session());
        CHECK_FALSE(out.ec);
    });
    // Only handlers that are ready (cancelled operations) may remain: polling drains them
    // and the io_context runs out of work, without waiting for any timer.
    for (int i = 0; i < 1000 && !io.stopped(); ++i)
        io.poll();
    CHECK(io.stopped());
    INFO("first message after close: " << log.first_after_close);
    CHECK(log.after_close == 0);
}

TEST_CASE("close during a control-connection reconnect") {
    server srv;
    // Connections after the first two (control, pool) never finish their handshake.
    srv.on_request([](connection& c, const request& r) { return c.index() >= 2 && r.handshake; });
    log_watch log;
    auto cfg = config_for(srv);
    cfg.connect_timeout = 20s;  // the reconnect would be under way for that long
    log.attach(cfg);
    asio::io_context io;
    cql::cluster cluster(io.get_executor(), cfg);
    run_until_closed(io, cluster, log, [&](cql::cluster& c) -> asio::awaitable<void> {
        auto out = co_await probe(c.session());
        CHECK_FALSE(out.ec);
        srv.connections().at(0)->reset();  // the control connection
        const bool reconnecting = co_await until([&] { return srv.accepted() >= 3; });
        REQUIRE(reconnecting);
    });
    const auto closed_at = clock::now();
    io.run_for(30s);
    const auto returned =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - closed_at);
    INFO("io_context::run() returned " << returned.count() << " ms after close completed");
    CHECK(io.stopped());
    CHECK(returned < 10s);
    INFO("first message after close: " << log.first_after_close);
    CHECK(log.after_close == 0);
}
