// The thread configurations README's "Threads and executors" section supports: your
// io_context run by several threads at once, with coroutines resuming on any of them.
#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "e2e_fixture.hpp"

using namespace e2e;

TEST_CASE("an io_context run by four threads: concurrent requests from coroutines") {
    test_cluster tc;
    asio::io_context io;
    auto guard = asio::make_work_guard(io);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] { io.run(); });

    constexpr int workers = 16;
    constexpr int per_worker = 50;
    std::atomic<int> matched{0};
    std::atomic<int> failed{0};
    std::promise<void> done;
    cql::cluster cluster(io.get_executor(), tc.config());
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await cluster.async_connect(use_awaitable);
            auto& s = cluster.session();
            const auto ks = ks_name("threads");
            co_await create_schema(s, ks);
            auto ins = co_await s.async_prepare(
                "INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)", use_awaitable);
            auto sel = co_await s.async_prepare("SELECT v FROM " + ks + ".kv WHERE k = ? AND c = ?",
                                                use_awaitable);
            std::atomic<int> left{workers};
            std::promise<void> all;
            for (int w = 0; w < workers; ++w) {
                asio::co_spawn(
                    io,
                    [&, w]() -> asio::awaitable<void> {
                        for (int i = 0; i < per_worker; ++i) {
                            const auto v = std::to_string(w * 1000 + i);
                            co_await s.async_execute(ins.bind(w, i, v), use_awaitable);
                            auto r = co_await s.async_execute(sel.bind(w, i), use_awaitable);
                            if (r.size() == 1 && r.front().get<std::string>(0) == v) ++matched;
                        }
                    },
                    [&](std::exception_ptr e) {
                        if (e) ++failed;
                        if (--left == 0) all.set_value();
                    });
            }
            co_await asio::post(io, use_awaitable);
            // (the workers run on the pool's threads; this coroutine only waits for them)
            auto finished = all.get_future();
            while (finished.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
                asio::steady_timer t(io, std::chrono::milliseconds(10));
                co_await t.async_wait(use_awaitable);
            }
            co_await cluster.async_close(use_awaitable);
        },
        [&](std::exception_ptr e) {
            if (e) ++failed;
            done.set_value();
        });
    const bool finished =
        done.get_future().wait_for(std::chrono::seconds(120)) == std::future_status::ready;
    guard.reset();
    if (!finished) io.stop();
    for (auto& t : threads)
        t.join();
    REQUIRE(finished);
    CHECK(failed == 0);
    CHECK(matched == workers * per_worker);
}
