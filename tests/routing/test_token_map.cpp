#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "cql/protocol/murmur3.hpp"
#include "cql/token_map.hpp"

using namespace cql;
using kind = replication_strategy::kind;

namespace {

host_ptr node(std::string name, std::string dc, std::string rack, std::vector<token> tokens) {
    host_info info;
    info.endpoint.address = std::move(name);  // a readable name stands in for the address
    info.datacenter = std::move(dc);
    info.rack = std::move(rack);
    info.tokens = std::move(tokens);
    return make_host(std::move(info));
}

std::vector<std::string> names(std::span<const host_ptr> hosts) {
    std::vector<std::string> out;
    for (const auto& h : hosts)
        out.push_back(h->address());
    return out;
}

using strs = std::vector<std::string>;

// 4-byte big-endian int, the serialized form of a CQL int partition key.
std::vector<std::uint8_t> int_key(std::int32_t v) {
    auto u = static_cast<std::uint32_t>(v);
    return {static_cast<std::uint8_t>(u >> 24), static_cast<std::uint8_t>(u >> 16),
            static_cast<std::uint8_t>(u >> 8), static_cast<std::uint8_t>(u)};
}

}  // namespace

TEST_CASE("replication options are parsed from system_schema.keyspaces", "[token_map]") {
    auto s = replication_strategy::from_options(
        {{"class", "org.apache.cassandra.locator.SimpleStrategy"}, {"replication_factor", "3"}});
    CHECK(s.type == kind::simple);
    CHECK(s.replication_factor == 3);
    CHECK(s == replication_strategy::simple(3));

    auto n = replication_strategy::from_options(
        {{"class", "NetworkTopologyStrategy"}, {"dc2", "2"}, {"dc1", "3/1"}});
    CHECK(n.type == kind::network_topology);
    REQUIRE(n.datacenters.size() == 2);
    CHECK(n.datacenters[0] == std::pair<std::string, int>{"dc1", 3});  // transient: 3 in all
    CHECK(n.datacenters[1] == std::pair<std::string, int>{"dc2", 2});
    CHECK(n == replication_strategy::network_topology({{"dc1", 3}, {"dc2", 2}}));

    CHECK(replication_strategy::from_options(
              {{"class", "org.apache.cassandra.locator.LocalStrategy"}})
              .type == kind::local);
    CHECK(replication_strategy::from_options(
              {{"class", "org.apache.cassandra.locator.EverywhereStrategy"}})
              .type == kind::everywhere);
    CHECK(replication_strategy::from_options({{"class", "com.example.MyStrategy"}}).type ==
          kind::unknown);
    CHECK(replication_strategy::from_options({{"class", "NotSimpleStrategy"}}).type ==
          kind::unknown);
    CHECK(replication_strategy::from_options({}).type == kind::unknown);
    CHECK(replication_strategy::from_options(
              {{"class", "SimpleStrategy"}, {"replication_factor", "x"}})
              .replication_factor == 0);
}

TEST_CASE("tokens of int keys are Cassandra's", "[token_map]") {
    // SELECT token(k) on Cassandra for an int partition key k (values from Cassandra's own
    // dtests and cqlsh tests).
    CHECK(token_map::token_of(int_key(1)) == -4069959284402364209LL);
    CHECK(token_map::token_of(int_key(2)) == -3248873570005575792LL);
    CHECK(token_map::token_of(int_key(3)) == 9010454139840013625LL);
    CHECK(token_map::token_of(int_key(5)) == -7509452495886106294LL);
    CHECK(token_map::token_of(int_key(7)) == 1634052884888577606LL);
    CHECK(token_map::token_of(int_key(10)) == -6715243485458697746LL);
    CHECK(token_map::token_of(int_key(20)) == 1388667306199997068LL);
}

TEST_CASE("keys are routed to the owners of Cassandra's ring", "[token_map]") {
    // ccm's initial tokens for a 3-node Murmur3 cluster.
    auto n1 = node("n1", "dc1", "r1", {std::numeric_limits<std::int64_t>::min()});
    auto n2 = node("n2", "dc1", "r1", {-3074457345618258603LL});
    auto n3 = node("n3", "dc1", "r1", {3074457345618258602LL});
    auto map = token_map::build({n1, n2, n3}, {{"ks1", replication_strategy::simple(1)},
                                               {"ks2", replication_strategy::simple(2)}});
    auto key = [](std::int32_t v) {
        static std::vector<std::uint8_t> buf;
        buf = int_key(v);
        return protocol::bytes_view(buf);
    };
    CHECK(names(map->replicas("ks1", key(1))) == strs{"n2"});   // -4069959284402364209
    CHECK(names(map->replicas("ks1", key(5))) == strs{"n2"});   // -7509452495886106294
    CHECK(names(map->replicas("ks1", key(2))) == strs{"n2"});   // -3248873570005575792
    CHECK(names(map->replicas("ks1", key(7))) == strs{"n3"});   // 1634052884888577606
    CHECK(names(map->replicas("ks1", key(20))) == strs{"n3"});  // 1388667306199997068
    CHECK(names(map->replicas("ks1", key(3))) == strs{"n1"});   // 9010454139840013625: wraps
    CHECK(names(map->replicas("ks2", key(1))) == strs{"n2", "n3"});
    CHECK(names(map->replicas("ks2", key(3))) == strs{"n1", "n2"});
    // A token equal to a ring token belongs to that host.
    CHECK(names(map->replicas("ks1", token{-3074457345618258603LL})) == strs{"n2"});
    CHECK(names(map->replicas("ks1", token{-3074457345618258602LL})) == strs{"n3"});
    CHECK(names(map->replicas("ks1", std::numeric_limits<std::int64_t>::max())) == strs{"n1"});
}

TEST_CASE("SimpleStrategy walks the ring", "[token_map]") {
    auto a = node("A", "dc1", "r1", {-6000});
    auto b = node("B", "dc1", "r1", {-1000});
    auto c = node("C", "dc1", "r1", {3000});
    auto d = node("D", "dc1", "r1", {8000});
    // Hosts in any order: the ring is sorted by token.
    auto map = token_map::build({c, a, d, b}, {{"ks", replication_strategy::simple(3)},
                                               {"big", replication_strategy::simple(5)}});
    REQUIRE(map->ring().size() == 4);
    CHECK(map->ring()[0].t == -6000);
    CHECK(map->ring()[3].t == 8000);
    CHECK(names(map->replicas("ks", token{-7000})) == strs{"A", "B", "C"});
    CHECK(names(map->replicas("ks", token{-6000})) == strs{"A", "B", "C"});
    CHECK(names(map->replicas("ks", token{-5999})) == strs{"B", "C", "D"});
    CHECK(names(map->replicas("ks", token{5000})) == strs{"D", "A", "B"});
    CHECK(names(map->replicas("ks", token{8001})) == strs{"A", "B", "C"});
    // rf above the host count: every host once.
    CHECK(names(map->replicas("big", token{0})) == strs{"C", "D", "A", "B"});
}

TEST_CASE("SimpleStrategy with vnodes counts each host once", "[token_map]") {
    auto a = node("A", "dc1", "r1", {0, 100});
    auto b = node("B", "dc1", "r1", {50, 150});
    auto c = node("C", "dc1", "r1", {200});
    auto map = token_map::build({a, b, c}, {{"rf2", replication_strategy::simple(2)},
                                            {"rf3", replication_strategy::simple(3)}});
    REQUIRE(map->ring().size() == 5);
    CHECK(names(map->replicas("rf2", token{120})) == strs{"B", "C"});
    CHECK(names(map->replicas("rf2", token{10})) == strs{"B", "A"});
    CHECK(names(map->replicas("rf2", token{160})) == strs{"C", "A"});
    CHECK(names(map->replicas("rf2", token{60})) == strs{"A", "B"});
    CHECK(names(map->replicas("rf3", token{60})) == strs{"A", "B", "C"});
    CHECK(names(map->replicas("rf3", token{-5})) == strs{"A", "B", "C"});
}

namespace {
// Ring (one token each):
//   10 A dc1/r1, 20 B dc1/r1, 30 C dc2/r1, 40 D dc1/r2, 50 E dc2/r2, 60 F dc1/r1, 70 G dc2/r1
struct two_dcs {
    host_ptr a = node("A", "dc1", "r1", {10});
    host_ptr b = node("B", "dc1", "r1", {20});
    host_ptr c = node("C", "dc2", "r1", {30});
    host_ptr d = node("D", "dc1", "r2", {40});
    host_ptr e = node("E", "dc2", "r2", {50});
    host_ptr f = node("F", "dc1", "r1", {60});
    host_ptr g = node("G", "dc2", "r1", {70});
    std::vector<host_ptr> all() const { return {a, b, c, d, e, f, g}; }
};
}  // namespace

TEST_CASE("NetworkTopologyStrategy: one replica per rack first", "[token_map]") {
    two_dcs t;
    auto nts = [](std::vector<std::pair<std::string, int>> dcs) {
        return replication_strategy::network_topology(std::move(dcs));
    };
    auto map = token_map::build(t.all(), {{"k22", nts({{"dc1", 2}, {"dc2", 2}})},
                                          {"k31", nts({{"dc1", 3}, {"dc2", 1}})},
                                          {"k05", nts({{"dc2", 5}})},
                                          {"k_missing", nts({{"dc3", 3}, {"dc1", 1}})},
                                          {"k_zero", nts({{"dc1", 0}, {"dc2", 1}})}});
    // dc1: racks r1 {A,B,F}, r2 {D}; dc2: racks r1 {C,G}, r2 {E}.
    // rf 2 = 2 racks: no rack repeats; B (r1 again) is skipped for D (r2).
    CHECK(names(map->replicas("k22", token{5})) == strs{"A", "C", "D", "E"});
    // rf 3 with 2 racks: one repeat allowed; Cassandra takes the first host of a used rack
    // as it walks (B), not at the end.
    CHECK(names(map->replicas("k31", token{5})) == strs{"A", "B", "C", "D"});
    CHECK(names(map->replicas("k31", token{15})) == strs{"B", "C", "D", "F"});
    // Walk from 45: E(dc2) F(r1) G C A(r1, repeat) D(r2).
    CHECK(names(map->replicas("k31", token{45})) == strs{"E", "F", "A", "D"});
    // rf above the DC's host count: all its hosts.
    CHECK(names(map->replicas("k05", token{5})) == strs{"C", "E", "G"});
    // Unknown DC ignored, rf 0 ignored.
    CHECK(names(map->replicas("k_missing", token{5})) == strs{"A"});
    CHECK(names(map->replicas("k_zero", token{65})) == strs{"G"});
}

TEST_CASE("NetworkTopologyStrategy with three racks", "[token_map]") {
    // 10 P r1, 20 Q r1, 30 R r2, 40 S r2, 50 T r3 (all dc1)
    auto p = node("P", "dc1", "r1", {10});
    auto q = node("Q", "dc1", "r1", {20});
    auto r = node("R", "dc1", "r2", {30});
    auto s = node("S", "dc1", "r2", {40});
    auto t = node("T", "dc1", "r3", {50});
    auto map = token_map::build({p, q, r, s, t},
                                {{"rf3", replication_strategy::network_topology({{"dc1", 3}})},
                                 {"rf4", replication_strategy::network_topology({{"dc1", 4}})},
                                 {"rf2", replication_strategy::network_topology({{"dc1", 2}})}});
    CHECK(names(map->replicas("rf3", token{0})) == strs{"P", "R", "T"});
    CHECK(names(map->replicas("rf3", token{15})) == strs{"Q", "R", "T"});
    CHECK(names(map->replicas("rf3", token{45})) == strs{"T", "P", "R"});
    CHECK(names(map->replicas("rf3", token{35})) == strs{"S", "T", "P"});
    // rf 4 with 3 racks: one repeat, the first met (Q).
    CHECK(names(map->replicas("rf4", token{0})) == strs{"P", "Q", "R", "T"});
    CHECK(names(map->replicas("rf4", token{25})) == strs{"R", "S", "T", "P"});
    // rf 2 with 3 racks: distinct racks only.
    CHECK(names(map->replicas("rf2", token{15})) == strs{"Q", "R"});
    CHECK(names(map->replicas("rf2", token{35})) == strs{"S", "T"});
}

TEST_CASE("NetworkTopologyStrategy with vnodes never repeats a host", "[token_map]") {
    auto a = node("A", "dc1", "r1", {0, 100});
    auto b = node("B", "dc1", "r1", {50, 150});
    auto c = node("C", "dc1", "r2", {200});
    auto map =
        token_map::build({a, b, c}, {{"ks", replication_strategy::network_topology({{"dc1", 3}})}});
    // racks r1 {A,B}, r2 {C}: one repeat. From 60: A(100) B(150, repeat) C(200).
    CHECK(names(map->replicas("ks", token{60})) == strs{"A", "B", "C"});
    // From 110: B(150) C(200) A(0, repeat).
    CHECK(names(map->replicas("ks", token{110})) == strs{"B", "C", "A"});
}

TEST_CASE("LocalStrategy and EverywhereStrategy", "[token_map]") {
    auto a = node("A", "dc1", "r1", {0, 100});
    auto b = node("B", "dc1", "r1", {50, 150});
    auto c = node("C", "dc2", "r1", {200});
    token_map::keyspace_list ks{{"system", replication_strategy::local()},
                                {"everywhere", replication_strategy::everywhere()}};
    auto map = token_map::build({a, b, c}, ks, b);
    CHECK(names(map->replicas("system", token{0})) == strs{"B"});
    CHECK(names(map->replicas("system", token{175})) == strs{"B"});
    CHECK(names(map->replicas("everywhere", token{60})) == strs{"A", "B", "C"});
    CHECK(names(map->replicas("everywhere", token{120})) == strs{"B", "C", "A"});
    CHECK(names(map->replicas("everywhere", token{160})) == strs{"C", "A", "B"});
    auto no_local = token_map::build({a, b, c}, ks);
    CHECK(no_local->replicas("system", token{0}).empty());
}

TEST_CASE("no replicas for unknown keyspaces, strategies, empty keys or rings", "[token_map]") {
    auto a = node("A", "dc1", "r1", {0});
    auto map = token_map::build(
        {a}, {{"ks", replication_strategy::simple(1)}, {"odd", replication_strategy{}}});
    CHECK(map->replicas("nope", token{0}).empty());
    CHECK(map->replicas("odd", token{0}).empty());
    CHECK(map->replicas("ks", protocol::bytes_view{}).empty());
    CHECK(names(map->replicas("ks", token{12345})) == strs{"A"});

    auto empty = token_map::build({}, {{"ks", replication_strategy::simple(3)}});
    CHECK(empty->ring().empty());
    CHECK(empty->replicas("ks", token{0}).empty());
    // Hosts without tokens (joining) are not on the ring.
    auto joining = node("J", "dc1", "r1", {});
    auto m2 = token_map::build({a, joining}, {{"ks", replication_strategy::simple(2)}});
    CHECK(names(m2->replicas("ks", token{5})) == strs{"A"});
}

TEST_CASE("composite routing keys hash their composite encoding", "[token_map]") {
    auto a = node("A", "dc1", "r1", {-4611686018427387904LL});
    auto b = node("B", "dc1", "r1", {0});
    auto c = node("C", "dc1", "r1", {4611686018427387904LL});
    auto map = token_map::build({a, b, c}, {{"ks", replication_strategy::simple(1)}});
    std::vector<std::uint8_t> k1 = int_key(1), k2{'x', 'y'};
    auto composite =
        protocol::composite_partition_key({protocol::bytes_view(k1), protocol::bytes_view(k2)});
    token t = token_map::token_of(composite);
    CHECK(t == protocol::murmur3_token(composite));
    CHECK(names(map->replicas("ks", composite)) == names(map->replicas("ks", t)));
    CHECK(map->replicas("ks", composite).size() == 1);
}

TEST_CASE("replica tables are shared and rebuilt on change", "[token_map]") {
    two_dcs t;
    auto nts = replication_strategy::network_topology({{"dc1", 2}, {"dc2", 2}});
    auto map =
        token_map::build(t.all(), {{"a", nts}, {"b", nts}, {"c", replication_strategy::simple(1)}});
    CHECK(map->table_count() == 2);
    auto before = map->replicas("a", token{5});
    CHECK(before.data() == map->replicas("b", token{5}).data());  // one table for a and b

    // Keyspace change: only that keyspace moves; others keep their table.
    auto m2 = map->with_keyspace("b", replication_strategy::simple(2));
    CHECK(m2->table_count() == 3);
    CHECK(names(m2->replicas("b", token{5})) == strs{"A", "B"});
    CHECK(m2->replicas("a", token{5}).data() == before.data());
    CHECK(names(map->replicas("b", token{5})) == strs{"A", "C", "D", "E"});  // old snapshot intact
    // A new keyspace reusing an existing replication shares its table.
    auto m3 = m2->with_keyspace("d", replication_strategy::simple(1));
    CHECK(m3->table_count() == 3);
    CHECK(m3->replicas("d", token{5}).data() == m3->replicas("c", token{5}).data());
    auto m4 = m3->without_keyspace("d");
    CHECK(m4->replicas("d", token{5}).empty());
    CHECK(m4->keyspace_replication("d") == nullptr);
    REQUIRE(m4->keyspace_replication("b") != nullptr);
    CHECK(*m4->keyspace_replication("b") == replication_strategy::simple(2));

    // Topology change: a new host in dc1/r2 at token 15 becomes the second dc1 replica.
    auto h = node("H", "dc1", "r2", {15});
    auto hosts = t.all();
    hosts.push_back(h);
    auto m5 = m4->with_hosts(hosts);
    CHECK(names(m5->replicas("a", token{5})) == strs{"A", "H", "C", "E"});
    CHECK(names(m5->replicas("c", token{12})) == strs{"H"});
    CHECK(m5->hosts().size() == 8);
}
