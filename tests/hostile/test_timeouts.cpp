// Timeouts against slow and silent servers: a late answer fails the request with
// errc::timed_out and does not hurt the connection; a client-side timeout is reported as
// errc::timed_out whether the request was sent or still waiting for a connection; and a
// request still waiting for a connection at its deadline is never sent.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/awaitable.hpp>

#include "hostile_test.hpp"

using namespace cql::hostile;
namespace p = cql::protocol;

TEST_CASE("a slow server: late answers time out, the connection stays usable") {
    server srv;
    std::atomic<int> late_sent{0};
    srv.on_request([&](connection& c, const request& r) {
        if (r.query != "SELECT * FROM hostile.slow") return false;
        auto conn = c.shared_from_this();
        auto stream = r.stream;
        srv.after(600ms, [conn, stream, &late_sent] {
            conn->reply_rows(stream, {"late"});
            ++late_sent;
        });
        return true;
    });
    auto cfg = config_for(srv);
    cfg.request_timeout = 5s;
    run(cfg, [&](cql::cluster& cluster) -> boost::asio::awaitable<void> {
        auto& s = cluster.session();
        const auto before = srv.accepted();
        for (int i = 0; i < 3; ++i) {
            auto out =
                co_await execute(s, cql::statement("SELECT * FROM hostile.slow").timeout(200ms));
            INFO(out.diag.message);
            CHECK(out.ec == cql::errc::timed_out);
        }
        // Patient enough, the same slow answer is a result.
        auto patient =
            co_await execute(s, cql::statement("SELECT * FROM hostile.slow").timeout(5s));
        CHECK_FALSE(patient.ec);
        CHECK(first_text(patient.res) == "late");
        // The late answers arrived and were dropped; the connection is still the first.
        const bool late_arrived = co_await until([&] { return late_sent == 4; });
        REQUIRE(late_arrived);
        auto next = co_await probe(s);
        CHECK_FALSE(next.ec);
        CHECK(srv.accepted() == before);
    });
}

TEST_CASE("a client-side timeout is always errc::timed_out") {
    constexpr std::size_t requests = 64;
    server srv;
    srv.on_request(
        [](connection&, const request& r) { return r.query == "SELECT * FROM hostile.silent"; });
    auto cfg = config_for(srv);
    cfg.pool.max_requests_per_connection = 4;  // the others wait for a connection
    cfg.request_timeout = 5s;
    run(cfg, [&](cql::cluster& cluster) -> boost::asio::awaitable<void> {
        std::map<std::string, int> outcomes;  // what the requests completed with -> count
        std::size_t done = 0;
        std::size_t timed_out = 0;
        for (std::size_t i = 0; i < requests; ++i)
            start(cluster.session(), cql::statement("SELECT * FROM hostile.silent").timeout(300ms),
                  [&](outcome o) {
                      ++done;
                      const std::error_code ec = o.ec;
                      if (ec == cql::errc::timed_out) ++timed_out;
                      ++outcomes[std::string(ec.category().name()) + " " + ec.message() + " (" +
                                 o.diag.message.substr(0, 80) + ")"];
                  });
        const bool all_done = co_await until([&] { return done == requests; });
        REQUIRE(all_done);
        std::string seen;
        for (auto& [what, n] : outcomes)
            seen += "\n" + std::to_string(n) + " x " + what;
        INFO("outcomes:" << seen);
        CHECK(timed_out == requests);
        auto next = co_await probe(cluster.session());
        CHECK_FALSE(next.ec);
    });
}

TEST_CASE("a request still waiting for a connection at its deadline is not sent") {
    // Every connection slot is held by a request the server answers only after the queued
    // requests' deadlines passed; meanwhile the io thread is kept busy, so the answers (which
    // free the slots) and the deadlines are seen at the same moment.
    constexpr std::size_t slots = 64;
    server srv;
    std::mutex m;
    std::vector<std::pair<std::shared_ptr<connection>, std::int16_t>> held;
    std::atomic<std::size_t> answered{0};
    srv.on_request([&](connection& c, const request& r) {
        if (r.query != "SELECT * FROM hostile.hold") return false;
        std::lock_guard lock(m);
        held.emplace_back(c.shared_from_this(), r.stream);
        return true;
    });
    auto cfg = config_for(srv);
    cfg.pool.max_requests_per_connection = slots;
    cfg.request_timeout = 10s;
    run(cfg, [&](cql::cluster& cluster) -> boost::asio::awaitable<void> {
        auto& s = cluster.session();
        std::size_t holders_done = 0;
        for (std::size_t i = 0; i < slots; ++i)
            start(s, cql::statement("SELECT * FROM hostile.hold"), [&](outcome o) {
                CHECK_FALSE(o.ec);
                ++holders_done;
            });
        const bool all_held =
            co_await until([&] { return srv.received("SELECT * FROM hostile.hold") == slots; });
        REQUIRE(all_held);

        std::size_t waiting_done = 0;
        std::size_t waiting_timed_out = 0;
        for (std::size_t i = 0; i < slots; ++i)
            start(s, cql::statement("SELECT * FROM hostile.queued").timeout(300ms), [&](outcome o) {
                ++waiting_done;
                if (o.ec == cql::errc::timed_out) ++waiting_timed_out;
            });
        co_await sleep(50ms);  // they wait in the queue now
        const auto deadlines_passed = clock::now() + 300ms + 50ms;
        srv.after(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadlines_passed - clock::now()),
            [&] {
                std::lock_guard lock(m);
                for (auto& [conn, stream] : held)
                    conn->reply_rows(stream, {"held"});
                srv.after(0ms, [&] { answered = held.size(); });
            });
        // Blocks this (the cluster's) thread until the answers were written.
        while (answered < slots)
            std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(50ms);

        const bool all_done =
            co_await until([&] { return waiting_done == slots && holders_done == slots; });
        REQUIRE(all_done);
        CHECK(waiting_timed_out == slots);
        // Anything sent before this probe on the same connection reached the server first.
        auto next = co_await probe(s);
        CHECK_FALSE(next.ec);
        CHECK(srv.received("SELECT * FROM hostile.queued") == 0);
    });
}
