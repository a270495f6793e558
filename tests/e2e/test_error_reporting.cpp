// Failures a user can read without a cql::diagnostics of their own: use_awaitable and
// use_future throw cql::error_with_diagnostics with the server's message (async_execute,
// async_prepare, page streams), callbacks may take the diagnostics as a third parameter,
// cql::with_diagnostics appends them to any token; and the error codes print their real
// category and value.
#include <future>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>

#include "e2e_fixture.hpp"

using namespace e2e;

namespace {

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

// The server's message of a syntax error names the offending input (Cassandra: "line 1:0 no
// viable alternative at input 'SELEC'"; cqlsim names the statement it cannot parse).
constexpr std::string_view bad_query = "SELEC release_version FROM system.local";

}  // namespace

TEST_CASE("use_awaitable throws error_with_diagnostics carrying the server's message") {
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();

        std::string what;
        cql::diagnostics carried;
        cql::error_code code;
        try {
            co_await s.async_execute(cql::statement(std::string(bad_query)), use_awaitable);
        } catch (const cql::error_with_diagnostics& e) {
            what = e.what();
            carried = e.diagnostics();
            code = e.code();
        }
        CHECK(code == cql::server_errc::syntax_error);
        CHECK(std::string(code.category().name()) == "cql.server");
        CHECK(code.value() == 0x2000);
        CHECK(carried.from_server);
        CHECK(!carried.message.empty());
        CHECK(contains(what, "syntax error [cql.server:8192]: "));
        CHECK(contains(what, carried.message));

        // The same through async_prepare; still a boost::system::system_error.
        bool caught = false;
        try {
            co_await s.async_prepare(std::string(bad_query), use_awaitable);
        } catch (const boost::system::system_error& e) {
            caught = true;
            CHECK(e.code() == cql::server_errc::syntax_error);
            CHECK(contains(e.what(), carried.message));
        }
        CHECK(caught);

        // A diagnostics of the caller's is filled too.
        cql::diagnostics mine;
        try {
            co_await s.async_execute(cql::statement(std::string(bad_query)), mine, use_awaitable);
        } catch (const cql::error_with_diagnostics& e) {
            CHECK(e.diagnostics().message == mine.message);
        }
        CHECK(mine.message == carried.message);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("with_diagnostics appends the details; other tokens keep (error_code, T)") {
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        const cql::statement bad{std::string(bad_query)};

        auto [ec, r, d] =
            co_await s.async_execute(bad, cql::with_diagnostics(asio::as_tuple(use_awaitable)));
        CHECK(ec == cql::server_errc::syntax_error);
        CHECK(d.from_server);
        CHECK(!d.message.empty());
        CHECK(contains(cql::describe(ec, d), d.message));

        auto [pec, p, pd] = co_await s.async_prepare(
            std::string(bad_query), cql::with_diagnostics(asio::as_tuple(use_awaitable)));
        CHECK(pec == cql::server_errc::syntax_error);
        CHECK(pd.message == d.message);
        CHECK(!p);

        // Success: an empty diagnostics.
        auto [ok, rows, none] =
            co_await s.async_execute(cql::statement("SELECT release_version FROM system.local"),
                                     cql::with_diagnostics(asio::as_tuple(use_awaitable)));
        CHECK(!ok);
        CHECK(rows.size() == 1);
        CHECK(none.message.empty());

        // as_tuple alone: the code only, as before; a diagnostics argument gets the details.
        auto plain = co_await s.async_execute(bad, asio::as_tuple(use_awaitable));
        static_assert(std::is_same_v<decltype(plain), std::tuple<cql::error_code, cql::result>>);
        CHECK(std::get<0>(plain) == cql::server_errc::syntax_error);
        cql::diagnostics mine;
        auto [dec, dr] = co_await s.async_execute(bad, mine, asio::as_tuple(use_awaitable));
        CHECK(dec == cql::server_errc::syntax_error);
        CHECK(mine.message == d.message);

        // deferred keeps the two-argument signature.
        auto op = s.async_execute(bad, asio::deferred);
        auto [fec, fr] = co_await std::move(op)(asio::as_tuple(use_awaitable));
        CHECK(fec == cql::server_errc::syntax_error);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("page streams carry the server's message like async_execute") {
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        const cql::statement bad{std::string(bad_query)};
        auto [ec, r, expected] =
            co_await s.async_execute(bad, cql::with_diagnostics(asio::as_tuple(use_awaitable)));
        REQUIRE(ec == cql::server_errc::syntax_error);
        REQUIRE(!expected.message.empty());

        // use_awaitable throws error_with_diagnostics, pages and rows alike.
        for (bool rows : {false, true}) {
            INFO((rows ? "async_next_row" : "async_next"));
            auto pages = s.pages(bad);
            std::string what;
            cql::error_code code;
            try {
                if (rows)
                    co_await pages.async_next_row(use_awaitable);
                else
                    co_await pages.async_next(use_awaitable);
            } catch (const cql::error_with_diagnostics& e) {
                what = e.what();
                code = e.code();
            }
            CHECK(code == cql::server_errc::syntax_error);
            CHECK(contains(what, expected.message));
        }

        // A caller's diagnostics, and with_diagnostics.
        auto pages = s.pages(bad);
        cql::diagnostics mine;
        auto [nec, page] = co_await pages.async_next(mine, asio::as_tuple(use_awaitable));
        CHECK(nec == cql::server_errc::syntax_error);
        CHECK(!page);
        CHECK(mine.message == expected.message);
        auto [rec, row, rd] =
            co_await pages.async_next_row(cql::with_diagnostics(asio::as_tuple(use_awaitable)));
        CHECK(rec == cql::server_errc::syntax_error);
        CHECK(rd.message == expected.message);

        // Success: the rows, an empty diagnostics.
        auto good = s.pages(cql::statement("SELECT release_version FROM system.local"));
        auto [gec, first, none] =
            co_await good.async_next(cql::with_diagnostics(asio::as_tuple(use_awaitable)));
        CHECK(!gec);
        REQUIRE(first);
        CHECK(first->size() == 1);
        CHECK(none.message.empty());
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("a callback taking a third parameter receives the diagnostics") {
    test_cluster tc;
    asio::io_context io;
    cql::cluster cluster(io.get_executor(), tc.config());
    cql::error_code connected = cql::errc::internal_error;
    cql::error_code failed;
    cql::diagnostics details;
    bool two_args_called = false;
    cluster.async_connect([&](cql::error_code ec) {
        connected = ec;
        if (ec) return;
        auto& s = cluster.session();
        s.async_execute(cql::statement(std::string(bad_query)),
                        [&](cql::error_code e, cql::result, const cql::diagnostics& d) {
                            failed = e;
                            details = d;
                            s.async_execute(cql::statement(std::string(bad_query)),
                                            [&](cql::error_code, cql::result) {
                                                two_args_called = true;
                                                cluster.async_close([](cql::error_code) {});
                                            });
                        });
    });
    io.run_for(60s);
    CHECK(!connected);
    CHECK(failed == cql::server_errc::syntax_error);
    CHECK(details.from_server);
    CHECK(!details.message.empty());
    CHECK(two_args_called);
}

TEST_CASE("use_future throws error_with_diagnostics") {
    test_cluster tc;
    auto cfg = tc.config();
    cfg.io_threads = 1;  // the cluster runs itself; this thread waits on futures
    asio::io_context io;
    cql::cluster cluster(io.get_executor(), cfg);
    auto guard = asio::make_work_guard(io);
    std::thread runner([&] { io.run(); });
    cluster.async_connect(asio::use_future).get();
    auto f =
        cluster.session().async_execute(cql::statement(std::string(bad_query)), asio::use_future);
    std::string what;
    cql::error_code code;
    try {
        f.get();
    } catch (const cql::error_with_diagnostics& e) {
        what = e.what();
        code = e.code();
    }
    CHECK(code == cql::server_errc::syntax_error);
    CHECK(contains(what, "syntax error [cql.server:8192]: "));
    cluster.async_close(asio::use_future).get();
    guard.reset();
    runner.join();
}

TEST_CASE("a failed connect explains itself in the exception") {
    E2E_NEEDS_CQLSIM("a port nothing listens on");
    // A loopback port that was free a moment ago: the connection is refused.
    asio::io_context probe;
    asio::ip::tcp::acceptor a(probe, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = a.local_endpoint().port();
    a.close();

    cql::cluster_config cfg;
    cfg.contact_points = {"127.0.0.1:" + std::to_string(port)};
    cfg.connect_timeout = 5s;
    cfg.logger = nullptr;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), cfg);
        std::string what;
        try {
            co_await cluster.async_connect(use_awaitable);
        } catch (const cql::error_with_diagnostics& e) {
            what = e.what();
            CHECK(!e.diagnostics().message.empty());
        }
        CHECK(contains(what, "127.0.0.1:" + std::to_string(port)));
        co_await cluster.async_close(use_awaitable);
    });
}
