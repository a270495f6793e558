#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cql/policies/load_balancing.hpp"

using namespace cql;
using namespace std::chrono_literals;
using strs = std::vector<std::string>;

namespace {

host_ptr node(std::string name, std::string dc, std::string rack, std::vector<token> tokens = {}) {
    host_info info;
    info.endpoint.address = std::move(name);
    info.datacenter = std::move(dc);
    info.rack = std::move(rack);
    info.tokens = std::move(tokens);
    return make_host(std::move(info));
}

strs drain(query_plan& plan) {
    strs out;
    while (host_ptr h = plan.next())
        out.push_back(h->address());
    return out;
}

strs plan_of(const load_balancing_policy& p, routing_info info = {}) {
    query_plan plan;
    p.new_plan(info, plan);
    return drain(plan);
}

// dc1: h1 r1 (-100), h2 r1 (0), h3 r2 (100); dc2: h4 r1 (50), h5 r1 (150); dc3: h6 r1 (200)
struct cluster_fixture {
    host_ptr h1 = node("h1", "dc1", "r1", {-100});
    host_ptr h2 = node("h2", "dc1", "r1", {0});
    host_ptr h3 = node("h3", "dc1", "r2", {100});
    host_ptr h4 = node("h4", "dc2", "r1", {50});
    host_ptr h5 = node("h5", "dc2", "r1", {150});
    host_ptr h6 = node("h6", "dc3", "r1", {200});
    std::vector<host_ptr> all() const { return {h1, h2, h3, h4, h5, h6}; }
    std::shared_ptr<const token_map> map() const {
        return token_map::build(
            all(), {{"ks", replication_strategy::network_topology({{"dc1", 2}, {"dc2", 1}})},
                    {"simple", replication_strategy::simple(6)}});
    }
};

}  // namespace

TEST_CASE("dc-aware round robin over the local datacenter", "[lb]") {
    cluster_fixture c;
    dc_aware_policy p({.local_dc = "dc1"});
    auto hosts = c.all();
    p.init(hosts, {});
    CHECK(plan_of(p) == strs{"h1", "h2", "h3"});
    CHECK(plan_of(p) == strs{"h2", "h3", "h1"});
    CHECK(plan_of(p) == strs{"h3", "h1", "h2"});
    CHECK(plan_of(p) == strs{"h1", "h2", "h3"});

    CHECK(p.distance(*c.h1) == host_distance::local);
    CHECK(p.distance(*c.h3) == host_distance::local);
    CHECK(p.distance(*c.h4) == host_distance::ignored);
    CHECK(p.distance(*c.h6) == host_distance::ignored);

    // Down hosts are skipped, also when they go down after the plan was made.
    c.h2->set_up(false);
    CHECK(plan_of(p) == strs{"h3", "h1"});
    query_plan plan;
    p.new_plan({}, plan);  // starts at h3 (down below), h1, h2 (down)
    c.h3->set_up(false);
    CHECK(drain(plan) == strs{"h1"});
    c.h2->set_up(true);
    c.h3->set_up(true);

    // Removed and added hosts.
    p.on_remove(c.h1);
    auto h7 = node("h7", "dc1", "r1");
    p.on_add(h7);
    p.on_add(h7);  // twice: once
    std::set<std::string> seen;
    for (int i = 0; i < 3; ++i) {
        auto plan_hosts = plan_of(p);
        CHECK(plan_hosts.size() == 3);
        seen.insert(plan_hosts.front());
    }
    CHECK(seen == std::set<std::string>{"h2", "h3", "h7"});
}

TEST_CASE("dc-aware: remote datacenters", "[lb]") {
    cluster_fixture c;
    dc_aware_policy p({.local_dc = "dc1", .used_hosts_per_remote_dc = 1});
    auto hosts = c.all();
    p.init(hosts, {});
    routing_info quorum{.consistency = protocol::consistency::quorum};
    CHECK(plan_of(p, quorum) == strs{"h1", "h2", "h3", "h4", "h6"});
    CHECK(p.distance(*c.h4) == host_distance::remote);
    CHECK(p.distance(*c.h5) == host_distance::ignored);
    CHECK(p.distance(*c.h6) == host_distance::remote);

    // The first up host of the DC stands in for a down one.
    c.h4->set_up(false);
    CHECK(p.distance(*c.h4) == host_distance::remote);  // still wanted back
    CHECK(p.distance(*c.h5) == host_distance::remote);
    CHECK(plan_of(p, quorum) == strs{"h2", "h3", "h1", "h5", "h6"});
    c.h4->set_up(true);

    // DC-local consistency levels stay in the local DC unless allowed.
    routing_info local_quorum{.consistency = protocol::consistency::local_quorum};
    CHECK(plan_of(p, local_quorum) == strs{"h3", "h1", "h2"});
    CHECK(plan_of(p, {.consistency = protocol::consistency::local_one}).size() == 3);

    dc_aware_policy q({.local_dc = "dc1",
                       .used_hosts_per_remote_dc = 2,
                       .allow_remote_dcs_for_local_consistency = true});
    q.init(hosts, {});
    CHECK(plan_of(q, local_quorum) == strs{"h1", "h2", "h3", "h4", "h5", "h6"});
}

TEST_CASE("dc-aware: local datacenter from the first contact point", "[lb]") {
    cluster_fixture c;
    dc_aware_policy p;
    CHECK(p.local_dc().empty());
    auto hosts = c.all();
    std::vector<host_ptr> contacts{c.h5, c.h1};
    p.init(hosts, contacts);
    CHECK(p.local_dc() == "dc2");
    CHECK(plan_of(p) == strs{"h4", "h5"});
    CHECK(p.distance(*c.h1) == host_distance::ignored);

    // Unknown local DC (no init yet): every host is local.
    dc_aware_policy u;
    for (const auto& h : hosts)
        u.on_add(h);
    CHECK(plan_of(u).size() == 6);
    CHECK(u.distance(*c.h6) == host_distance::local);
}

TEST_CASE("dc-aware: local rack first, filters", "[lb]") {
    cluster_fixture c;
    auto hosts = c.all();
    dc_aware_policy p({.local_dc = "dc1", .local_rack = "r2"});
    p.init(hosts, {});
    for (int i = 0; i < 4; ++i) {
        auto plan = plan_of(p);
        REQUIRE(plan.size() == 3);
        CHECK(plan[0] == "h3");
    }
    dc_aware_policy f({.local_dc = "dc1", .filter = deny_endpoints({c.h1->endpoint()})});
    f.init(hosts, {});
    CHECK(f.distance(*c.h1) == host_distance::ignored);
    CHECK(f.distance(*c.h2) == host_distance::local);
    CHECK(plan_of(f) == strs{"h2", "h3"});
    CHECK(plan_of(f) == strs{"h3", "h2"});
}

TEST_CASE("token-aware: local replicas first, then the child's plan", "[lb]") {
    cluster_fixture c;
    auto hosts = c.all();
    auto child = std::make_shared<dc_aware_policy>(dc_aware_options{.local_dc = "dc1"});
    token_aware_policy p(child, {.shuffle_replicas = false});
    p.init(hosts, {});
    // Without a token map: the child's plan.
    CHECK(plan_of(p, {.keyspace = "ks", .token = 10}) == strs{"h1", "h2", "h3"});
    p.on_token_map(c.map());
    // Ring: h1 -100, h2 0, h4 50, h3 100, h5 150, h6 200. Token 10 -> walk from h4:
    // h4 (dc2), h3 (dc1 r2), h5, h6, h1 (dc1 r1) -> replicas h4 h3 h1; local ones: h3 h1.
    CHECK(plan_of(p, {.keyspace = "ks", .token = 10}) == strs{"h3", "h1", "h2"});
    CHECK(plan_of(p, {.keyspace = "ks", .token = 10}) == strs{"h3", "h1", "h2"});
    // No keyspace or no key: the child's plan alone.
    CHECK(plan_of(p, {.token = 10}).size() == 3);
    CHECK(plan_of(p, {.keyspace = "ks"}).size() == 3);
    CHECK(plan_of(p, {.keyspace = "unknown", .token = 10}).size() == 3);
    // A down replica is left out.
    c.h3->set_up(false);
    auto plan = plan_of(p, {.keyspace = "ks", .token = 10});
    CHECK(plan.front() == "h1");
    CHECK(plan.size() == 2);
    c.h3->set_up(true);
    // A routing key: int 1 has token -4069959284402364209, owned by h1 (the lowest token
    // is above it); walk h1 (dc1 r1), h2 (r1 again: skipped), h4 (dc2), h3 (dc1 r2).
    std::vector<std::uint8_t> key{0, 0, 0, 1};
    CHECK(token_map::token_of(key) == -4069959284402364209LL);
    CHECK(plan_of(p, {.keyspace = "ks", .routing_key = key}) == strs{"h1", "h3", "h2"});
}

TEST_CASE("token-aware: shuffled replicas", "[lb]") {
    cluster_fixture c;
    auto hosts = c.all();
    token_aware_policy p(std::make_shared<dc_aware_policy>(dc_aware_options{.local_dc = "dc1"}),
                         {.shuffle_replicas = true, .seed = 42});
    p.init(hosts, {});
    p.on_token_map(c.map());
    std::map<std::string, int> first;
    for (int i = 0; i < 200; ++i) {
        auto plan = plan_of(p, {.keyspace = "ks", .token = 10});
        REQUIRE(plan.size() == 3);
        CHECK(std::set<std::string>(plan.begin(), plan.begin() + 2) ==
              std::set<std::string>{"h1", "h3"});
        CHECK(plan[2] == "h2");
        ++first[plan[0]];
    }
    CHECK(first["h1"] > 50);
    CHECK(first["h3"] > 50);
}

TEST_CASE("token-aware: replicas in the local rack first", "[lb]") {
    cluster_fixture c;
    auto hosts = c.all();
    token_aware_policy p(std::make_shared<dc_aware_policy>(dc_aware_options{.local_dc = "dc1"}),
                         {.shuffle_replicas = true, .local_rack = "r1", .seed = 7});
    p.init(hosts, {});
    p.on_token_map(c.map());
    for (int i = 0; i < 20; ++i) {
        auto plan = plan_of(p, {.keyspace = "ks", .token = 10});
        REQUIRE(plan.size() == 3);
        CHECK(plan[0] == "h1");
        CHECK(plan[1] == "h3");
    }
}

TEST_CASE("token-aware: slow replicas go last", "[lb]") {
    cluster_fixture c;
    auto hosts = c.all();
    auto now = std::chrono::steady_clock::time_point(1000s);
    token_aware_policy p(
        std::make_shared<dc_aware_policy>(dc_aware_options{.local_dc = "dc1"}),
        {.shuffle_replicas = false, .avoid_slow_replicas = true, .min_samples = 10, .clock = [&] {
             return now;
         }});
    p.init(hosts, {});
    p.on_token_map(c.map());
    routing_info r{.keyspace = "ks", .token = 10};
    CHECK(plan_of(p, r) == strs{"h3", "h1", "h2"});  // nothing measured
    for (int i = 0; i < 9; ++i) {
        c.h3->latency().record(10ms, now);
        c.h1->latency().record(1ms, now);
    }
    CHECK(plan_of(p, r) == strs{"h3", "h1", "h2"});  // too few samples
    c.h3->latency().record(10ms, now);
    c.h1->latency().record(1ms, now);
    CHECK(plan_of(p, r) == strs{"h1", "h3", "h2"});
    now += 11s;  // measurements too old
    CHECK(plan_of(p, r) == strs{"h3", "h1", "h2"});
}

TEST_CASE("filtering policy", "[lb]") {
    cluster_fixture c;
    auto hosts = c.all();
    auto dc = std::make_shared<dc_aware_policy>(dc_aware_options{.local_dc = "dc1"});
    filtering_policy f(dc, allow_endpoints({c.h1->endpoint(), c.h3->endpoint()}));
    f.init(hosts, {});
    CHECK(plan_of(f) == strs{"h1", "h3"});
    CHECK(f.distance(*c.h2) == host_distance::ignored);
    CHECK(f.distance(*c.h1) == host_distance::local);

    filtering_policy g(std::make_shared<dc_aware_policy>(
                           dc_aware_options{.local_dc = "dc1", .used_hosts_per_remote_dc = 5}),
                       allow_datacenters({"dc1", "dc3"}));
    g.init(hosts, {});
    CHECK(plan_of(g, {.consistency = protocol::consistency::one}) == strs{"h1", "h2", "h3", "h6"});
    CHECK(g.distance(*c.h4) == host_distance::ignored);

    // Over token awareness: a filtered replica is never tried.
    auto ta = std::make_shared<token_aware_policy>(
        std::make_shared<dc_aware_policy>(dc_aware_options{.local_dc = "dc1"}),
        token_aware_options{.shuffle_replicas = false});
    filtering_policy h(ta, deny_endpoints({c.h3->endpoint()}));
    h.init(hosts, {});
    h.on_token_map(c.map());
    CHECK(plan_of(h, {.keyspace = "ks", .token = 10}) == strs{"h1", "h2"});
}

TEST_CASE("default load balancing is token-aware over dc-aware", "[lb]") {
    cluster_fixture c;
    auto hosts = c.all();
    auto p = make_default_load_balancing(
        {.dc = {.local_dc = "dc1"}, .token = {.shuffle_replicas = false}});
    auto* ta = dynamic_cast<token_aware_policy*>(p.get());
    REQUIRE(ta != nullptr);
    CHECK(dynamic_cast<dc_aware_policy*>(ta->child().get()) != nullptr);
    p->init(hosts, {});
    p->on_token_map(c.map());
    CHECK(plan_of(*p, {.keyspace = "ks", .token = 10}) == strs{"h3", "h1", "h2"});
    auto plain = make_default_load_balancing({.dc = {.local_dc = "dc1"}, .token_aware = false});
    CHECK(dynamic_cast<dc_aware_policy*>(plain.get()) != nullptr);
}

namespace {
struct counting_source final : query_plan::source {
    std::vector<host_ptr> hosts;
    std::size_t i = 0;
    char padding[512] = {};  // too big for the inline buffer
    host_ptr next() override { return i < hosts.size() ? hosts[i++] : nullptr; }
};
struct small_source final : query_plan::source {
    const std::vector<host_ptr>* hosts;
    std::size_t i = 0;
    explicit small_source(const std::vector<host_ptr>* h) : hosts(h) {}
    host_ptr next() override { return i < hosts->size() ? (*hosts)[i++] : nullptr; }
};
}  // namespace

TEST_CASE("query plan: first hosts, dedup, filters, big sources", "[lb]") {
    cluster_fixture c;
    auto hosts = c.all();
    query_plan plan;
    CHECK(plan.next() == nullptr);
    plan.emplace_source<small_source>(&hosts);
    plan.add_first(&hosts[4]);  // h5
    plan.add_first(&hosts[1]);  // h2
    host_predicate no_h6 = [](const host& h) { return h.address() != "h6"; };
    CHECK(plan.add_filter(&no_h6));
    CHECK(drain(plan) == strs{"h5", "h2", "h1", "h3", "h4"});
    CHECK(plan.next() == nullptr);

    plan.reset();
    auto& big = plan.emplace_source<counting_source>();
    big.hosts = {c.h1, c.h2};
    CHECK(drain(plan) == strs{"h1", "h2"});
    plan.reset();
    CHECK(plan.next() == nullptr);

    // At most max_first first hosts are kept.
    std::vector<host_ptr> many;
    for (int i = 0; i < 20; ++i)
        many.push_back(node("m" + std::to_string(i), "dc1", "r1"));
    for (auto& h : many)
        plan.add_first(&h);
    CHECK(plan.first_count() == query_plan::max_first);
    CHECK(drain(plan).size() == query_plan::max_first);
}
