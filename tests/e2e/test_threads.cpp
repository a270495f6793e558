// The driver embedded the way servers run it: an io_context run by several threads, the
// driver's own io threads, requests from threads that run no io_context, a close while
// requests are in flight. Every answer is checked (no lost or misdelivered result); the
// ThreadSanitizer build runs this test too (label concurrency).
#include <atomic>
#include <future>
#include <optional>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include "e2e_fixture.hpp"

using namespace e2e;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(use_awaitable);

struct load_result {
    std::atomic<int> ok{0};
    std::atomic<int> wrong{0};
    std::atomic<int> failed{0};
    std::mutex m;
    std::string first_error;
    void fail(const std::string& e) {
        ++failed;
        std::lock_guard lk(m);
        if (first_error.empty()) first_error = e;
    }
};

// One of many loops: writes its own rows and reads each back.
asio::awaitable<void> worker(cql::session& s, cql::prepared_statement ins,
                             cql::prepared_statement sel, int id, int rounds, load_result& out) {
    for (int i = 0; i < rounds; ++i) {
        const auto value = "w" + std::to_string(id) + "-" + std::to_string(i);
        cql::diagnostics d;
        auto [e1, r1] = co_await s.async_execute(ins.bind(id, i, value), d, tuple_awaitable);
        if (e1) {
            out.fail("insert: " + e1.message() + ": " + d.message);
            continue;
        }
        auto [e2, r2] = co_await s.async_execute(sel.bind(id, i), d, tuple_awaitable);
        if (e2) {
            out.fail("select: " + e2.message() + ": " + d.message);
            continue;
        }
        if (r2.size() == 1 && r2.front().get<std::string>(0) == value)
            ++out.ok;
        else
            ++out.wrong;
    }
}

// Connects, prepares, runs `workers` loops of `rounds` on `io` (run by `threads` threads),
// closes; checks every answer.
void run_load(std::size_t io_threads, std::size_t user_threads, int workers, int rounds) {
    test_cluster tc;
    asio::io_context io(static_cast<int>(user_threads));
    auto cfg = tc.config();
    cfg.io_threads = io_threads;
    cfg.pool.local_connections = 2;
    cql::cluster cluster(io.get_executor(), cfg);
    load_result out;
    std::atomic<int> done{0};
    std::atomic<bool> closed{false};
    const auto ks = ks_name("threads");
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await cluster.async_connect(use_awaitable);
            auto& s = cluster.session();
            co_await create_schema(s, ks);
            auto ins = co_await s.async_prepare(
                "INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)", use_awaitable);
            auto sel = co_await s.async_prepare("SELECT v FROM " + ks + ".kv WHERE k = ? AND c = ?",
                                                use_awaitable);
            for (int w = 0; w < workers; ++w)
                asio::co_spawn(
                    io,
                    [&, w, ins, sel]() -> asio::awaitable<void> {
                        co_await worker(s, ins, sel, w, rounds, out);
                        if (++done == workers) {
                            co_await cluster.async_close(use_awaitable);
                            closed = true;
                        }
                    },
                    asio::detached);
        },
        [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    std::vector<std::thread> more;
    for (std::size_t i = 1; i < user_threads; ++i)
        more.emplace_back([&] { io.run_for(std::chrono::seconds(120)); });
    io.run_for(std::chrono::seconds(120));
    for (auto& t : more)
        t.join();
    INFO("io_threads " << io_threads << ", user threads " << user_threads << ": "
                       << out.first_error);
    CHECK(closed);
    CHECK(out.failed == 0);
    CHECK(out.wrong == 0);
    CHECK(out.ok == workers * rounds);
}

}  // namespace

TEST_CASE("an io_context run by four threads drives the cluster", "[concurrency]") {
    run_load(0, 4, 32, 60);
}

TEST_CASE("two own io threads and a user io_context of two threads", "[concurrency]") {
    run_load(2, 2, 32, 60);
}

TEST_CASE("requests from threads that run no io_context (use_future); close in flight",
          "[concurrency]") {
    test_cluster tc;
    asio::io_context io;
    auto work = asio::make_work_guard(io);
    std::thread runner([&] { io.run(); });
    auto cfg = tc.config();
    cfg.io_threads = 2;
    {
        cql::cluster cluster(io.get_executor(), cfg);
        cluster.async_connect(asio::use_future).get();
        auto& s = cluster.session();
        const auto ks = ks_name("futures");
        s.async_execute(cql::statement("CREATE KEYSPACE IF NOT EXISTS " + ks +
                                       " WITH replication = {'class': 'SimpleStrategy', "
                                       "'replication_factor': 1}"),
                        asio::use_future)
            .get();
        s.async_execute(cql::statement("CREATE TABLE IF NOT EXISTS " + ks +
                                       ".kv (k int, c int, v text, PRIMARY KEY (k, c))"),
                        asio::use_future)
            .get();
        auto ins = s.async_prepare("INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)",
                                   asio::use_future)
                       .get();
        std::atomic<int> ok{0};
        std::vector<std::thread> callers;
        for (int t = 0; t < 4; ++t)
            callers.emplace_back([&, t] {
                for (int i = 0; i < 100; ++i) {
                    auto r = s.async_execute(ins.bind(t, i, "x"), asio::use_future).get();
                    if (r.type() == cql::result::kind::void_) ++ok;
                }
            });
        for (auto& c : callers)
            c.join();
        CHECK(ok == 400);
        // A close while requests are in flight from other threads: each completes (with its
        // answer or session_errc::closed), none is lost.
        std::vector<std::future<cql::result>> inflight;
        for (int i = 0; i < 64; ++i)
            inflight.push_back(s.async_execute(ins.bind(9, i, "y"), asio::use_future));
        cluster.async_close(asio::use_future).get();
        int answered = 0, closed = 0;
        for (auto& f : inflight) {
            try {
                f.get();
                ++answered;
            } catch (const boost::system::system_error& e) {
                if (e.code() == cql::session_errc::closed) ++closed;
            }
        }
        CHECK(answered + closed == 64);
    }
    work.reset();
    runner.join();
}

TEST_CASE("completion handlers that wait for a request, or cancel one they just started",
          "[concurrency]") {
    // With own io threads, a completion handler may wait for a request of its own
    // (use_future: the io threads answer it), and a request it cancels before returning
    // completes with operation_aborted while the others it started are answered.
    test_cluster tc;
    auto cfg = tc.config();
    cfg.io_threads = 2;
    const cql::statement query("SELECT release_version FROM system.local");
    asio::cancellation_signal cancel;
    bool waited = false;
    std::optional<cql::error_code> cancelled;
    int answered = 0;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), cfg);
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        s.async_execute(query, [&](cql::error_code ec, cql::result) {
            REQUIRE_FALSE(ec);
            waited = s.async_execute(query, asio::use_future).get().size() == 1;
            s.async_execute(
                query, asio::bind_cancellation_slot(
                           cancel.slot(), [&](cql::error_code e, cql::result) { cancelled = e; }));
            cancel.emit(asio::cancellation_type::terminal);
            for (int i = 0; i < 3; ++i)
                s.async_execute(query, [&](cql::error_code e, cql::result r) {
                    if (!e && r.size() == 1) ++answered;
                });
        });
        // (the handlers run on this thread: polling here sees their effects in order)
        asio::steady_timer pause(io);
        while (!cancelled || answered < 3) {
            pause.expires_after(std::chrono::milliseconds(2));
            co_await pause.async_wait(use_awaitable);
        }
        co_await cluster.async_close(use_awaitable);
    });
    CHECK(waited);
    REQUIRE(cancelled.has_value());
    CHECK(*cancelled == asio::error::operation_aborted);
    CHECK(answered == 3);
}
