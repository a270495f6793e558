// Execution profiles: named bundles of consistency, timeout, page size and retry policy,
// chosen per statement. Writes go through the default profile; a report runs under
// "analytics" (relaxed consistency, long timeout, big pages); a latency-sensitive lookup
// under "fail_fast" (short timeout, never retried: the caller has a fallback).
//
//   execution_profiles [HOST[:PORT][,HOST[:PORT]...]]
//
// Contact points: the argument, else $CQL_CONTACT_POINTS, else 127.0.0.1:9042.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cql/cluster.hpp"

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> contact_points(int argc, char** argv) {
    std::string list = argc > 1 ? argv[1] : "";
    if (const char* env = std::getenv("CQL_CONTACT_POINTS"); list.empty() && env) list = env;
    if (list.empty()) list = "127.0.0.1:9042";
    std::vector<std::string> out;
    std::stringstream ss(list);
    for (std::string cp; std::getline(ss, cp, ',');)
        if (!cp.empty()) out.push_back(cp);
    return out;
}

cql::execution_profiles make_profiles() {
    cql::execution_profiles profiles;

    // Statements that name no profile use the default one.
    cql::execution_profile base = profiles.default_profile();
    base.consistency = cql::consistency::local_quorum;
    base.request_timeout = 5s;
    profiles.set_default(base);

    cql::execution_profile analytics = base;
    analytics.consistency = cql::consistency::one;
    analytics.request_timeout = 30s;
    analytics.page_size = 1000;
    profiles.add("analytics", analytics);

    // Retrying would only make the caller wait longer; it has a cached answer to fall back on.
    cql::execution_profile fail_fast = base;
    fail_fast.consistency = cql::consistency::one;
    fail_fast.request_timeout = 50ms;
    fail_fast.retry = std::make_shared<cql::fallthrough_retry_policy>();
    profiles.add("fail_fast", fail_fast);
    return profiles;
}

void show(const cql::execution_profiles& profiles, const std::string& name) {
    const cql::execution_profile& p = profiles.get(name);
    std::printf("profile %s: consistency %s, timeout %lld ms, page size %d\n", name.c_str(),
                std::string(cql::protocol::to_string(p.consistency)).c_str(),
                static_cast<long long>(p.request_timeout.count()), p.page_size);
}

asio::awaitable<void> profiles_demo(cql::cluster_config cfg) {
    for (const std::string& name : cfg.profiles->names())
        show(*cfg.profiles, name);

    cql::cluster cluster(co_await asio::this_coro::executor, std::move(cfg));
    co_await cluster.async_connect(use_awaitable);
    cql::session& s = cluster.session();
    co_await s.async_execute(cql::statement("CREATE KEYSPACE IF NOT EXISTS profiles WITH "
                                            "replication = {'class': 'SimpleStrategy', "
                                            "'replication_factor': 1}"),
                             use_awaitable);
    co_await s.async_execute(cql::statement("CREATE TABLE IF NOT EXISTS profiles.readings "
                                            "(sensor text, ts int, value double, "
                                            "PRIMARY KEY (sensor, ts)) "
                                            "WITH CLUSTERING ORDER BY (ts DESC)"),
                             use_awaitable);

    // No profile named: the default one (LOCAL_QUORUM, 5 s).
    auto insert = co_await s.async_prepare(
        "INSERT INTO profiles.readings (sensor, ts, value) VALUES (?, ?, ?)", use_awaitable);
    for (int ts = 0; ts < 20; ++ts)
        co_await s.async_execute(insert.bind(ts % 2 ? "north" : "south", ts, 15.0 + ts * 0.25),
                                 use_awaitable);
    std::printf("default: wrote 20 readings\n");

    // The report reads everything under "analytics".
    cql::result all =
        co_await s.async_execute(cql::statement("SELECT sensor, ts, value FROM profiles.readings")
                                     .execution_profile("analytics"),
                                 use_awaitable);
    double sum = 0;
    for (cql::row_view row : all)
        sum += row.get<double>(2);
    std::printf("analytics: %zu readings, mean %.3f\n", all.size(), sum / all.size());

    // A statement's own setting wins over its profile's.
    cql::result north = co_await s.async_execute(
        cql::statement("SELECT ts FROM profiles.readings WHERE sensor = 'north'")
            .execution_profile("analytics")
            .consistency(cql::consistency::local_quorum),
        use_awaitable);
    std::printf("analytics with LOCAL_QUORUM override: %zu readings from north\n", north.size());

    // "fail_fast": at most 50 ms, one attempt, even though the read is idempotent (which
    // would let the default retry policy try another host).
    cql::diagnostics diag;
    auto [ec, latest] = co_await s.async_execute(
        cql::statement("SELECT value FROM profiles.readings WHERE sensor = 'south' LIMIT 1")
            .execution_profile("fail_fast")
            .idempotent(true),
        diag, asio::as_tuple(use_awaitable));
    if (ec)
        std::printf("fail_fast: gave up (%s), serving the cached value instead\n",
                    ec.message().c_str());
    else
        std::printf("fail_fast: latest south reading %.2f\n", latest.front().get<double>(0));

    co_await cluster.async_close(use_awaitable);
}

}  // namespace

int main(int argc, char** argv) {
    cql::cluster_config cfg;
    cfg.contact_points = contact_points(argc, argv);
    cfg.profiles = make_profiles();

    asio::io_context io;
    int status = 0;
    asio::co_spawn(io, profiles_demo(std::move(cfg)), [&](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            std::fprintf(stderr, "error: %s\n", ex.what());
            status = 1;
        }
    });
    io.run();
    return status;
}
