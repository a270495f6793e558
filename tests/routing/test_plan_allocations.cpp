// Query plans of the built-in policies allocate nothing (counted by replacing the global
// operator new in this program), and policies stand concurrent plans and host events.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>
#include <vector>

#include "../support/counting_new.hpp"
#include "cql/policies/load_balancing.hpp"

using counting_new::allocations;

using namespace cql;

namespace {
host_ptr node(std::string name, std::string dc, std::string rack, std::vector<token> tokens) {
    host_info info;
    info.endpoint.address = std::move(name);
    info.datacenter = std::move(dc);
    info.rack = std::move(rack);
    info.tokens = std::move(tokens);
    return make_host(std::move(info));
}
}  // namespace

TEST_CASE("a token-aware plan allocates nothing", "[lb]") {
    std::vector<host_ptr> hosts;
    for (int i = 0; i < 12; ++i)
        hosts.push_back(node("h" + std::to_string(i), i % 2 ? "dc2" : "dc1",
                             "r" + std::to_string(i % 3), {i * 1000, i * 1000 + 500}));
    auto map = token_map::build(
        hosts, {{"ks", replication_strategy::network_topology({{"dc1", 3}, {"dc2", 3}})}});
    auto policy = make_default_load_balancing(
        {.dc = {.local_dc = "dc1", .used_hosts_per_remote_dc = 2}, .token = {.seed = 1}});
    policy->init(hosts, {});
    policy->on_token_map(map);
    std::vector<std::uint8_t> key{0, 0, 0, 42};
    routing_info info{
        .keyspace = "ks", .routing_key = key, .consistency = protocol::consistency::quorum};
    query_plan plan;
    const long before = allocations.load();
    int yielded = 0;
    for (int i = 0; i < 100; ++i) {
        plan.reset();
        policy->new_plan(info, plan);
        while (host_ptr h = plan.next())
            ++yielded;
    }
    const long after = allocations.load();
    CHECK(after - before == 0);
    CHECK(yielded == 100 * 8);  // 6 local + 2 remote
}

TEST_CASE("plans while hosts come and go", "[lb]") {
    std::vector<host_ptr> hosts;
    for (int i = 0; i < 8; ++i)
        hosts.push_back(node("h" + std::to_string(i), "dc1", "r1", {i * 100}));
    auto map = token_map::build(hosts, {{"ks", replication_strategy::simple(3)}});
    auto policy = make_default_load_balancing({.dc = {.local_dc = "dc1"}});
    policy->init(hosts, {});
    policy->on_token_map(map);
    std::atomic<bool> stop{false};
    std::atomic<long> plans{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 2; ++t)
        readers.emplace_back([&] {
            query_plan plan;
            routing_info info{.keyspace = "ks", .token = 150};
            while (!stop.load()) {
                plan.reset();
                policy->new_plan(info, plan);
                int n = 0;
                while (plan.next())
                    ++n;
                if (n > 9) std::abort();
                plans.fetch_add(1);
            }
        });
    auto extra = node("x", "dc1", "r1", {999});
    for (int i = 0; i < 300; ++i) {
        policy->on_add(extra);
        hosts[static_cast<std::size_t>(i % 8)]->set_up(i % 2 == 0);
        policy->on_token_map(map->with_hosts(hosts));
        policy->on_remove(extra);
    }
    while (plans.load() < 100)
        std::this_thread::yield();
    stop = true;
    for (auto& r : readers)
        r.join();
    CHECK(plans.load() >= 100);
}
