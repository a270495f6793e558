#pragma once
// Shared helpers of the end-to-end tests: an in-process 3-node cqlsim cluster on
// 127.0.0.1..3 (free ports), or, when CQL_CONTACT_POINTS is set, a real cluster
// (CQL_PORT, CQL_LOCAL_DC; CQL_USER and CQL_PASSWORD when it asks for a login, CQL_TLS_CA for
// the TLS tests); and a runner for test coroutines with a time limit.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cql/auth.hpp"
#include "cql/cluster.hpp"
#include "cqlsim/cluster.hpp"

namespace e2e {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio::use_awaitable;

inline bool real_cluster() {
    const char* cp = std::getenv("CQL_CONTACT_POINTS");
    return cp && *cp;
}

// Tests that need cqlsim (faults, request logs) return early against a real cluster.
#define E2E_NEEDS_CQLSIM(why)                                               \
    if (::e2e::real_cluster()) {                                            \
        WARN("skipped: needs cqlsim (" why "), CQL_CONTACT_POINTS is set"); \
        return;                                                             \
    }

struct sim_options {
    std::size_t nodes = 3;
    std::vector<cqlsim::user_credentials> users;
    std::optional<cqlsim::tls_config> tls;
};

// The cluster under test.
class test_cluster {
  public:
    explicit test_cluster(sim_options o = {}) {
        if (real_cluster()) return;
        cqlsim::cluster_config cfg;
        cfg.datacenters = {cqlsim::datacenter_config{"dc1", o.nodes, 1}};
        cfg.base_address = "127.0.0.1";
        cfg.port = 0;
        cfg.users = o.users;
        cfg.tls = o.tls;
        sim_ = std::make_unique<cqlsim::cluster>(cfg);
        sim_->start();
    }

    cqlsim::cluster& sim() { return *sim_; }
    bool is_sim() const { return sim_ != nullptr; }

    cql::cluster_config config() const {
        cql::cluster_config c;
        if (sim_) {
            auto ep = sim_->endpoint(0);
            c.contact_points = {ep.address};
            c.port = ep.port;
            c.local_datacenter = "dc1";
        } else {
            std::stringstream ss(std::getenv("CQL_CONTACT_POINTS"));
            for (std::string cp; std::getline(ss, cp, ',');)
                if (!cp.empty()) c.contact_points.push_back(cp);
            if (const char* p = std::getenv("CQL_PORT"))
                c.port = static_cast<std::uint16_t>(std::atoi(p));
            if (const char* dc = std::getenv("CQL_LOCAL_DC")) c.local_datacenter = dc;
            const char* user = std::getenv("CQL_USER");
            const char* password = std::getenv("CQL_PASSWORD");
            if (user && *user && password) c.auth = cql::plain_text_auth(user, password);
        }
        c.connect_timeout = 5s;
        c.request_timeout = 10s;
        // Warnings go to stderr (the default logger); CQL_E2E_LOG=1 shows everything.
        if (std::getenv("CQL_E2E_LOG")) c.log_level = cql::log_level::debug;
        return c;
    }

    // Index of the node listening on an endpoint ("127.0.0.2:41234"), or size().
    std::size_t node_of(const cql::host_endpoint& ep) const {
        for (std::size_t i = 0; i < sim_->size(); ++i) {
            auto e = sim_->endpoint(i);
            if (e.address == ep.address && e.port == ep.port) return i;
        }
        return sim_->size();
    }

    // Requests of an opcode whose text contains `needle`, over every node.
    std::size_t count_requests(cql::protocol::opcode op, std::string_view needle) const {
        std::size_t n = 0;
        for (std::size_t i = 0; i < sim_->size(); ++i)
            n += count_requests_on(i, op, needle);
        return n;
    }
    std::size_t count_requests_on(std::size_t node, cql::protocol::opcode op,
                                  std::string_view needle) const {
        std::size_t n = 0;
        for (const auto& e : sim_->request_log(node))
            if (e.op == op && e.query.find(needle) != std::string::npos) ++n;
        return n;
    }

  private:
    std::unique_ptr<cqlsim::cluster> sim_;
};

// Runs a test coroutine on a fresh io_context (at most `limit`); rethrows its failure.
template <class Fn>
void run(Fn&& fn, std::chrono::seconds limit = 120s) {
    asio::io_context io;
    bool finished = false;
    std::exception_ptr error;
    asio::co_spawn(io, fn(io), [&](std::exception_ptr e) {
        error = e;
        finished = true;
    });
    io.run_for(limit);
    REQUIRE(finished);
    if (error) std::rethrow_exception(error);
}

// A keyspace name unique to this run (a real cluster keeps earlier runs' keyspaces).
inline std::string ks_name(std::string_view base) {
    static int counter = 0;
    auto now = std::chrono::system_clock::now().time_since_epoch();
    auto stamp = std::chrono::duration_cast<std::chrono::microseconds>(now).count() % 100000000;
    return std::string(base) + "_" + std::to_string(stamp) + "_" + std::to_string(++counter);
}

inline asio::awaitable<void> create_keyspace(cql::session& s, const std::string& ks) {
    co_await s.async_execute(
        cql::statement("CREATE KEYSPACE IF NOT EXISTS " + ks +
                       " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"),
        use_awaitable);
}

inline asio::awaitable<void> create_schema(cql::session& s, const std::string& ks) {
    co_await create_keyspace(s, ks);
    co_await s.async_execute(cql::statement("CREATE TABLE IF NOT EXISTS " + ks +
                                            ".kv (k int, c int, v text, PRIMARY KEY (k, c))"),
                             use_awaitable);
}

}  // namespace e2e
