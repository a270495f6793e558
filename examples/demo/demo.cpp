// cql-asio demo: connect to a 3-node cluster, create a schema, write and read with
// prepared statements, page through a large result, print a latency summary.
//
//   demo                       starts a 3-node cqlsim in-process on 127.0.0.1..3
//   demo --contact HOST:PORT   uses a running cluster (e.g. the cqlsim binary)
//   demo --rows N              rows to write (default 10000)
// g++ 12 at -O3 reports -Wmismatched-new-delete inside Asio's recycling allocator for
// coroutine frames when a coroutine is inlined into its caller (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "cql/cluster.hpp"
#include "cqlsim/cluster.hpp"

namespace asio = boost::asio;
using asio::use_awaitable;
using clock_type = std::chrono::steady_clock;

namespace {

double ms(clock_type::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

asio::awaitable<void> demo(asio::io_context& io, cql::cluster_config cfg, int rows) {
    cql::cluster cluster(io.get_executor(), cfg);
    auto t0 = clock_type::now();
    co_await cluster.async_connect(use_awaitable);
    std::printf("connected in %.1f ms: %zu hosts, protocol v%d, control connection %s\n",
                ms(clock_type::now() - t0), cluster.hosts().size(),
                static_cast<int>(cluster.version()), cluster.control_host().c_str());
    for (const auto& h : cluster.hosts())
        std::printf("  host %s  %s/%s  %zu token(s)\n", h->endpoint().to_string().c_str(),
                    h->datacenter().c_str(), h->rack().c_str(), h->tokens().size());

    auto& s = cluster.session();
    co_await s.async_execute(cql::statement("CREATE KEYSPACE IF NOT EXISTS demo WITH replication "
                                            "= {'class': 'SimpleStrategy', "
                                            "'replication_factor': 3}"),
                             use_awaitable);
    co_await s.async_execute(cql::statement("CREATE TABLE IF NOT EXISTS demo.readings ("
                                            "sensor int, seq int, value double, note text, "
                                            "PRIMARY KEY (sensor, seq))"),
                             use_awaitable);
    auto* table = cluster.metadata()->table("demo", "readings");
    std::printf("schema: demo.readings, partition key (%s), %zu columns\n",
                table ? table->partition_key.front().c_str() : "?",
                table ? table->columns.size() : 0);

    auto ins = co_await s.async_prepare(
        "INSERT INTO demo.readings (sensor, seq, value, note) VALUES (?, ?, ?, ?)", use_awaitable);
    std::vector<double> lat;
    lat.reserve(static_cast<std::size_t>(rows));
    auto w0 = clock_type::now();
    for (int i = 0; i < rows; ++i) {
        auto t = clock_type::now();
        co_await s.async_execute(ins.bind(i % 4, i, i * 0.5, std::string("reading")),
                                 use_awaitable);
        lat.push_back(ms(clock_type::now() - t));
    }
    auto wall = ms(clock_type::now() - w0);
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) {
        return lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * lat.size()))];
    };
    std::printf(
        "wrote %d rows in %.0f ms (%.0f/s, one at a time): p50 %.3f ms, p99 %.3f ms, "
        "max %.3f ms\n",
        rows, wall, rows / (wall / 1000.0), pct(0.50), pct(0.99), lat.back());

    auto sel = co_await s.async_prepare(
        "SELECT value, note FROM demo.readings WHERE sensor = ? AND seq = ?", use_awaitable);
    auto r = co_await s.async_execute(sel.bind(3, 7), use_awaitable);
    auto [value, note] = r.front().as<double, std::string>();
    std::printf("read sensor 3 seq 7: value %.1f, note '%s'\n", value, note.c_str());

    auto p0 = clock_type::now();
    auto pages = s.pages(cql::statement("SELECT sensor, seq FROM demo.readings").page_size(1000));
    std::size_t seen = 0;
    while (auto page = co_await pages.async_next(use_awaitable))
        seen += page->size();
    std::printf("paged through %zu rows in %zu pages of up to 1000 in %.0f ms\n", seen,
                pages.pages_fetched(), ms(clock_type::now() - p0));

    co_await s.async_execute(cql::statement("DROP KEYSPACE demo"), use_awaitable);
    co_await cluster.async_close(use_awaitable);
    std::printf("closed\n");
}

}  // namespace

int main(int argc, char** argv) {
    std::string contact;
    int rows = 10000;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--contact" && i + 1 < argc)
            contact = argv[++i];
        else if (a == "--rows" && i + 1 < argc)
            rows = std::max(1, std::atoi(argv[++i]));
        else {
            std::fprintf(stderr, "usage: demo [--contact HOST:PORT] [--rows N]\n");
            return 2;
        }
    }
    std::unique_ptr<cqlsim::cluster> sim;
    cql::cluster_config cfg;
    if (contact.empty()) {
        cqlsim::cluster_config sc;
        sc.datacenters = {cqlsim::datacenter_config{"dc1", 3, 1}};
        sc.port = 0;
        sim = std::make_unique<cqlsim::cluster>(sc);
        sim->start();
        auto ep = sim->endpoint(0);
        cfg.contact_points = {ep.address};
        cfg.port = ep.port;
        std::printf("started cqlsim in-process: 3 nodes from %s\n", ep.address.c_str());
    } else {
        cfg.contact_points = {contact};
    }
    cfg.local_datacenter = "dc1";
    asio::io_context io;
    int status = 0;
    asio::co_spawn(io, demo(io, cfg, rows), [&](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            std::fprintf(stderr, "demo failed: %s\n", ex.what());
            status = 1;
        }
    });
    io.run();
    return status;
}
