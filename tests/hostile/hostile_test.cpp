#include "hostile_test.hpp"

#include <exception>
#include <memory>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

namespace cql::hostile {

cql::cluster_config base_config() {
    cql::cluster_config cfg;
    cfg.local_datacenter = "dc1";
    cfg.request_timeout = 200ms;
    cfg.heartbeat_interval = 300ms;
    cfg.connect_timeout = 2s;
    cfg.reconnection = std::make_shared<cql::constant_reconnection_policy>(100ms);
    cfg.max_schema_agreement_wait = 0ms;
    return cfg;
}

cql::cluster_config config_for(const server& s) {
    auto cfg = base_config();
    cfg.contact_points = {s.contact_point()};
    return cfg;
}

void run(const cql::cluster_config& cfg,
         std::function<boost::asio::awaitable<void>(cql::cluster&)> body, bool connect,
         std::chrono::seconds limit) {
    boost::asio::io_context io;
    std::exception_ptr failure;
    bool finished = false;
    {
        cql::cluster cluster(io.get_executor(), cfg);
        auto main = [&]() -> boost::asio::awaitable<void> {
            if (connect) {
                cql::diagnostics diag;
                auto [ec] = co_await cluster.async_connect(diag, no_throw);
                if (ec)
                    throw std::runtime_error("connect failed: " + ec.message() + ": " +
                                             diag.message);
            }
            std::exception_ptr e;
            try {
                co_await body(cluster);
            } catch (...) {
                e = std::current_exception();
            }
            co_await cluster.async_close(no_throw);
            if (e) std::rethrow_exception(e);
        };
        boost::asio::co_spawn(io, main(), [&](std::exception_ptr e) {
            failure = e;
            finished = true;
        });
        io.run_for(limit);
    }
    if (failure) std::rethrow_exception(failure);
    if (!finished) throw std::runtime_error("the test did not finish within its time limit");
}

boost::asio::awaitable<connect_outcome> connect(cql::cluster& cluster) {
    connect_outcome out;
    const auto t0 = clock::now();
    auto [ec] = co_await cluster.async_connect(out.diag, no_throw);
    out.ec = ec;
    out.took = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t0);
    co_return out;
}

connect_outcome connect_once(const cql::cluster_config& cfg) {
    connect_outcome out;
    run(
        cfg,
        [&](cql::cluster& cluster) -> boost::asio::awaitable<void> {
            out = co_await connect(cluster);
        },
        false);
    return out;
}

boost::asio::awaitable<outcome> execute(cql::session& s, cql::statement st) {
    outcome out;
    auto [ec, res] = co_await s.async_execute(st, out.diag, no_throw);
    out.ec = ec;
    out.res = std::move(res);
    co_return out;
}

void start(cql::session& s, const cql::statement& st, std::function<void(outcome)> done) {
    auto diag = std::make_shared<cql::diagnostics>();
    s.async_execute(st, *diag, [diag, done = std::move(done)](cql::error_code ec, cql::result r) {
        done(outcome{ec, std::move(r), *diag});
    });
}

boost::asio::awaitable<outcome> probe(cql::session& s) {
    return execute(s, cql::statement(probe_query));
}

boost::asio::awaitable<outcome> probe_until_success(cql::session& s,
                                                    std::chrono::milliseconds limit) {
    const auto end = clock::now() + limit;
    for (;;) {
        auto out = co_await probe(s);
        if (!out.ec || clock::now() >= end) co_return out;
        co_await sleep(20ms);
    }
}

boost::asio::awaitable<void> sleep(std::chrono::milliseconds d) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
    co_await t.async_wait(no_throw);
}

boost::asio::awaitable<bool> until(std::function<bool()> pred, std::chrono::milliseconds limit) {
    const auto end = clock::now() + limit;
    while (!pred()) {
        if (clock::now() >= end) co_return false;
        co_await sleep(5ms);
    }
    co_return true;
}

std::string first_text(const cql::result& r) {
    if (r.empty()) return {};
    std::string out;
    if (r.front().try_get(0, out)) return {};
    return out;
}

}  // namespace cql::hostile
