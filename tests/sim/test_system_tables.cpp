#include <algorithm>
#include <set>

#include "sim_fixture.hpp"

using namespace simtest;

namespace {
std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::size_t p = 0;
    while (p <= s.size()) {
        auto e = s.find(", ", p);
        if (e == std::string::npos) e = s.size();
        out.push_back(s.substr(p, e - p));
        p = e + 2;
    }
    return out;
}
}  // namespace

TEST_CASE("system.local and peers follow the topology", "[engine][system]") {
    engine_config cfg;
    cfg.clock_micros = [] { return std::int64_t{1700000000000000}; };
    cfg.topo.cluster_name = "sim-cluster";
    for (int i = 1; i <= 3; ++i) {
        node_info n;
        n.address = "127.0.0." + std::to_string(i);
        n.datacenter = i == 3 ? "dc2" : "dc1";
        n.tokens = {std::to_string(i * 1000 - 5000)};
        cfg.topo.nodes.push_back(n);
    }
    engine e(cfg);
    session_state s;
    s.node = 1;
    auto r = std::get<rows_result>(e.query(s, "SELECT * FROM system.local WHERE key='local'", {}));
    // Cassandra 4.0's column names, in its order
    CHECK(fixture::names(r) ==
          split("key, bootstrapped, broadcast_address, broadcast_port, cluster_name, cql_version, "
                "data_center, "
                "gossip_generation, host_id, listen_address, listen_port, native_protocol_version, "
                "partitioner, rack, "
                "release_version, rpc_address, rpc_port, schema_version, tokens, truncated_at"));
    auto row = fixture::render(r).at(0);
    CHECK(row[0] == "'local'");
    CHECK(row[2] == "'127.0.0.2'");
    CHECK(row[4] == "'sim-cluster'");
    CHECK(row[12] == "'org.apache.cassandra.dht.Murmur3Partitioner'");
    CHECK(row[18] == "{'-3000'}");
    auto sv = std::get<rows_result>(
        e.query(s, "SELECT schema_version FROM system.local WHERE key='local'", {}));
    auto v = e.schema_version();
    CHECK(*sv.rows[0][0] == byte_buffer(v.begin(), v.end()));

    auto peers = std::get<rows_result>(e.query(s, "SELECT * FROM system.peers_v2", {}));
    CHECK(fixture::names(peers) == split("peer, peer_port, data_center, host_id, native_address, "
                                         "native_port, preferred_ip, preferred_port, "
                                         "rack, release_version, schema_version, tokens"));
    CHECK(peers.rows.size() == 2);
    auto p1 = std::get<rows_result>(
        e.query(s, "SELECT peer, rpc_address, data_center FROM system.peers", {}));
    CHECK(p1.rows.size() == 2);
    auto p1r = fixture::render(p1);
    CHECK(std::count_if(p1r.begin(), p1r.end(), [](auto& x) { return x[2] == "'dc2'"; }) == 1);
}

TEST_CASE("nodes sharing an address are told apart by their ports in peers_v2",
          "[engine][system]") {
    engine_config cfg;
    for (int i = 0; i < 3; ++i) {
        node_info n;
        n.address = "127.0.0.1";
        n.port = 9042 + i;
        n.storage_port = 7000 + i;
        n.tokens = {std::to_string(i * 1000)};
        cfg.topo.nodes.push_back(n);
    }
    engine e(cfg);
    session_state s;
    s.node = 1;
    auto l = fixture::render(std::get<rows_result>(
        e.query(s, "SELECT listen_port, broadcast_port, rpc_port FROM system.local", {})));
    REQUIRE(l.size() == 1);
    CHECK(l[0] == std::vector<std::string>{"7001", "7001", "9043"});
    auto p = fixture::render(std::get<rows_result>(e.query(
        s, "SELECT peer, peer_port, native_address, native_port FROM system.peers_v2", {})));
    std::sort(p.begin(), p.end());
    CHECK(p ==
          std::vector<std::vector<std::string>>{{"'127.0.0.1'", "7000", "'127.0.0.1'", "9042"},
                                                {"'127.0.0.1'", "7002", "'127.0.0.1'", "9044"}});
    // system.peers is keyed by the address alone: one row for both (as in Cassandra).
    auto p1 = fixture::render(
        std::get<rows_result>(e.query(s, "SELECT peer, rpc_address FROM system.peers", {})));
    CHECK(p1 == std::vector<std::vector<std::string>>{{"'127.0.0.1'", "'127.0.0.1'"}});
}

TEST_CASE("system_schema reflects the schema", "[engine][system]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TYPE addr (street text, zip int)");
    f.ok(
        "CREATE TABLE wide (p int, c int, v text, a frozen<addr>, PRIMARY KEY (p, c)) WITH "
        "CLUSTERING ORDER BY (c "
        "DESC) AND comment = 'hi'");
    auto ks = f.rows("SELECT * FROM system_schema.keyspaces");
    CHECK(fixture::names(ks) == split("keyspace_name, durable_writes, replication"));
    std::set<std::string> names;
    for (const auto& r : fixture::render(ks))
        names.insert(r[0]);
    for (auto n : {"'ks'", "'system'", "'system_schema'", "'system_auth'", "'system_distributed'",
                   "'system_traces'"})
        CHECK(names.count(n) == 1);
    CHECK(f.select("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = 'ks'") ==
          table{{"{'class': 'org.apache.cassandra.locator.SimpleStrategy', 'replication_factor': "
                 "'1'}"}});

    auto tables = f.rows(
        "SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks' AND table_name = 'wide'");
    CHECK(fixture::names(tables) ==
          split("keyspace_name, table_name, additional_write_policy, bloom_filter_fp_chance, "
                "caching, cdc, comment, "
                "compaction, compression, crc_check_chance, dclocal_read_repair_chance, "
                "default_time_to_live, "
                "extensions, flags, gc_grace_seconds, id, max_index_interval, "
                "memtable_flush_period_in_ms, "
                "min_index_interval, read_repair, read_repair_chance, speculative_retry"));
    REQUIRE(tables.rows.size() == 1);
    CHECK(fixture::render(tables)[0][6] == "'hi'");
    CHECK(fixture::render(tables)[0][13] == "{'compound'}");

    auto cols = f.select(
        "SELECT column_name, clustering_order, kind, position, type FROM system_schema.columns "
        "WHERE keyspace_name = 'ks' AND table_name = 'wide'");
    CHECK(cols == table{{"'a'", "'none'", "'regular'", "-1", "'frozen<addr>'"},
                        {"'c'", "'desc'", "'clustering'", "0", "'int'"},
                        {"'p'", "'none'", "'partition_key'", "0", "'int'"},
                        {"'v'", "'none'", "'regular'", "-1", "'text'"}});
    CHECK(f.select("SELECT field_names, field_types FROM system_schema.types WHERE keyspace_name = "
                   "'ks'") == table{{"['street', 'zip']", "['text', 'int']"}});
    for (auto t : {"functions", "aggregates", "views", "indexes", "triggers"})
        CHECK(f.select(std::string("SELECT * FROM system_schema.") + t +
                       " WHERE keyspace_name = 'ks'")
                  .empty());
    CHECK(fixture::names(f.rows("SELECT * FROM system_schema.views")).size() == 25);
    // system tables describe themselves too
    CHECK(f.select("SELECT column_name FROM system_schema.columns WHERE keyspace_name = 'system' "
                   "AND table_name = "
                   "'local' AND column_name = 'tokens'")
              .size() == 1);
    // virtual schema: only the virtual keyspace, and not listed in system_schema
    CHECK(f.select("SELECT * FROM system_virtual_schema.keyspaces") ==
          table{{"'system_virtual_schema'"}});
    CHECK(f.select("SELECT table_name, comment FROM system_virtual_schema.tables") ==
          table{{"'columns'", "'virtual column definitions'"},
                {"'keyspaces'", "'virtual keyspace definitions'"},
                {"'tables'", "'virtual table definitions'"}});
    CHECK(f.select("SELECT * FROM system_virtual_schema.columns").size() == 12);
    CHECK(names.count("'system_virtual_schema'") == 0);
    f.ok("DROP TABLE wide");
    CHECK(f.select("SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks'").empty());
}
