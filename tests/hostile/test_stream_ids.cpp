// Stream ids under a server that never answers some requests, or answers one twice.
//  - A timed-out request keeps its stream id until its answer comes; a server that never
//    answers must not be able to take every id of a connection for good: the connection is
//    replaced and requests work again.
//  - Freed ids are reused least recently freed first, so a late duplicate answer lands on a
//    free id instead of completing the next request with someone else's result.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "hostile_test.hpp"

using namespace cql::hostile;
namespace p = cql::protocol;

TEST_CASE("a late duplicate answer does not complete the next request") {
    constexpr std::size_t warm = 32;
    server srv;
    std::mutex m;
    std::vector<std::pair<std::shared_ptr<connection>, std::int16_t>> warming;
    std::atomic<int> first_stream{-1};
    std::atomic<int> second_stream{-1};
    srv.on_request([&](connection& c, const request& r) {
        if (r.query == "SELECT * FROM hostile.warm") {
            // Answered once all are in flight: they hold `warm` distinct stream ids.
            std::lock_guard lock(m);
            warming.emplace_back(c.shared_from_this(), r.stream);
            if (warming.size() == warm)
                for (auto& [conn, stream] : warming)
                    conn->reply_rows(stream, {"warm"});
            return true;
        }
        if (r.query == "SELECT * FROM hostile.first") {
            first_stream = r.stream;
            c.reply_rows(r.stream, {"first"});
            return true;
        }
        if (r.query == "SELECT * FROM hostile.second") {
            second_stream = r.stream;
            c.reply_rows(static_cast<std::int16_t>(first_stream.load()), {"first"});  // again
            c.reply_rows(r.stream, {"second"});
            return true;
        }
        return false;
    });
    auto cfg = config_for(srv);
    cfg.heartbeat_interval = 0ms;  // nothing else takes stream ids in between
    cfg.request_timeout = 5s;
    run(cfg, [&](cql::cluster& cluster) -> boost::asio::awaitable<void> {
        auto& s = cluster.session();
        std::size_t warmed = 0;
        for (std::size_t i = 0; i < warm; ++i)
            start(s, cql::statement("SELECT * FROM hostile.warm"), [&](outcome o) {
                CHECK_FALSE(o.ec);
                ++warmed;
            });
        const bool all_warmed = co_await until([&] { return warmed == warm; });
        REQUIRE(all_warmed);

        auto first = co_await execute(s, cql::statement("SELECT * FROM hostile.first"));
        REQUIRE_FALSE(first.ec);
        CHECK(first_text(first.res) == "first");
        auto second = co_await execute(s, cql::statement("SELECT * FROM hostile.second"));
        INFO("first on stream " << first_stream.load() << ", second on stream "
                                << second_stream.load());
        REQUIRE_FALSE(second.ec);
        CHECK(first_text(second.res) == "second");
        CHECK(second_stream.load() != first_stream.load());
    });
}

TEST_CASE("orphaned stream ids are reclaimed") {
    // More requests that time out unanswered than a connection has stream ids (32768).
    constexpr std::size_t wave = 4096;
    constexpr std::size_t waves = 9;
    const auto silent = cql::statement("SELECT * FROM hostile.silent").timeout(50ms);
    server srv;
    srv.on_request(
        [](connection&, const request& r) { return r.query == "SELECT * FROM hostile.silent"; });
    auto cfg = config_for(srv);
    cfg.pool.max_requests_per_connection = wave;
    cfg.request_timeout = 2s;
    run(
        cfg,
        [&](cql::cluster& cluster) -> boost::asio::awaitable<void> {
            auto& s = cluster.session();
            const auto before = srv.accepted();
            std::size_t failed = 0;
            for (std::size_t w = 0; w < waves; ++w) {
                std::size_t done = 0;
                for (std::size_t i = 0; i < wave; ++i)
                    start(s, silent, [&](outcome o) {
                        ++done;
                        if (o.ec) ++failed;
                    });
                const bool wave_done = co_await until([&] { return done == wave; }, 30s);
                REQUIRE(wave_done);
            }
            CHECK(failed == wave * waves);  // (none was answered)
            auto next = co_await probe_until_success(s);
            INFO("next request: " << next.ec.message() << ": " << next.diag.message);
            CHECK_FALSE(next.ec);
            CHECK(srv.accepted() > before);  // the connection full of orphans was replaced
        },
        true, 120s);
}
