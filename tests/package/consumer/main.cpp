// Starts a 1-node cqlsim in-process on 127.0.0.1 (a free port), connects the driver to it,
// reads system.local and prints one line. Exit status 0 on success.
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cql/cluster.hpp>
#include <cqlsim/cluster.hpp>

namespace asio = boost::asio;

int main() {
    cqlsim::cluster_config sim_cfg;
    sim_cfg.base_address = "127.0.0.1";
    sim_cfg.port = 0;
    cqlsim::cluster sim(sim_cfg);
    sim.start();
    const auto ep = sim.endpoint(0);

    cql::cluster_config cfg;
    cfg.contact_points = {ep.address};
    cfg.port = ep.port;
    cfg.local_datacenter = "dc1";
    cfg.connect_timeout = std::chrono::seconds(20);
    cfg.request_timeout = std::chrono::seconds(30);

    asio::io_context io;
    std::string line;
    std::exception_ptr failure;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            cql::cluster cluster(io.get_executor(), cfg);
            co_await cluster.async_connect(asio::use_awaitable);
            cql::result r = co_await cluster.session().async_execute(
                cql::statement("SELECT release_version FROM system.local"), asio::use_awaitable);
            const auto version = r.front().get<std::string>(0);
            line = "cqlasio consumer: connected to " + ep.address + ":" + std::to_string(ep.port) +
                   ", release_version " + version;
            co_await cluster.async_close(asio::use_awaitable);
        },
        [&](std::exception_ptr e) { failure = e; });
    io.run_for(std::chrono::seconds(90));

    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "cqlasio consumer: failed: %s\n", e.what());
        }
        return 1;
    }
    if (line.empty()) {
        std::fprintf(stderr, "cqlasio consumer: did not finish\n");
        return 1;
    }
    std::printf("%s\n", line.c_str());
    return 0;
}
