// The system keyspaces: system.local / peers / peers_v2 and system_schema.*, generated on
// read from the schema and the topology, with Cassandra 4.0's columns.
#include <algorithm>

#include "cql/protocol/murmur3.hpp"
#include "cql/protocol/value.hpp"
#include "cqlsim/engine_impl.hpp"
#include "cqlsim/parser.hpp"

namespace cqlsim {

using namespace storage;
using proto::type_id;
using proto::value;
using proto::value_list;
using proto::value_map;

namespace {

const char* const system_ddl[] = {
    "CREATE TABLE system.local (key text PRIMARY KEY, bootstrapped text, broadcast_address inet, "
    "broadcast_port int, "
    "cluster_name text, cql_version text, data_center text, gossip_generation int, host_id uuid, "
    "listen_address inet, "
    "listen_port int, native_protocol_version text, partitioner text, rack text, release_version "
    "text, rpc_address "
    "inet, rpc_port int, schema_version uuid, tokens set<text>, truncated_at map<uuid, blob>)",
    "CREATE TABLE system.peers (peer inet PRIMARY KEY, data_center text, host_id uuid, "
    "preferred_ip inet, rack text, "
    "release_version text, rpc_address inet, schema_version uuid, tokens set<text>)",
    "CREATE TABLE system.peers_v2 (peer inet, peer_port int, data_center text, host_id uuid, "
    "native_address inet, "
    "native_port int, preferred_ip inet, preferred_port int, rack text, release_version text, "
    "schema_version uuid, "
    "tokens set<text>, PRIMARY KEY ((peer), peer_port))",
    "CREATE TABLE system_schema.keyspaces (keyspace_name text PRIMARY KEY, durable_writes boolean, "
    "replication "
    "frozen<map<text, text>>)",
    "CREATE TABLE system_schema.tables (keyspace_name text, table_name text, "
    "additional_write_policy text, "
    "bloom_filter_fp_chance double, caching frozen<map<text, text>>, cdc boolean, comment text, "
    "compaction "
    "frozen<map<text, text>>, compression frozen<map<text, text>>, crc_check_chance double, "
    "dclocal_read_repair_chance double, default_time_to_live int, extensions frozen<map<text, "
    "blob>>, flags "
    "frozen<set<text>>, gc_grace_seconds int, id uuid, max_index_interval int, "
    "memtable_flush_period_in_ms int, "
    "min_index_interval int, read_repair text, read_repair_chance double, speculative_retry text, "
    "PRIMARY KEY "
    "(keyspace_name, table_name))",
    "CREATE TABLE system_schema.columns (keyspace_name text, table_name text, column_name text, "
    "clustering_order "
    "text, column_name_bytes blob, kind text, position int, type text, PRIMARY KEY (keyspace_name, "
    "table_name, "
    "column_name))",
    "CREATE TABLE system_schema.types (keyspace_name text, type_name text, field_names "
    "frozen<list<text>>, "
    "field_types frozen<list<text>>, PRIMARY KEY (keyspace_name, type_name))",
    "CREATE TABLE system_schema.functions (keyspace_name text, function_name text, argument_types "
    "frozen<list<text>>, argument_names frozen<list<text>>, body text, called_on_null_input "
    "boolean, language text, "
    "return_type text, PRIMARY KEY (keyspace_name, function_name, argument_types))",
    "CREATE TABLE system_schema.aggregates (keyspace_name text, aggregate_name text, "
    "argument_types "
    "frozen<list<text>>, final_func text, initcond text, return_type text, state_func text, "
    "state_type text, "
    "PRIMARY KEY (keyspace_name, aggregate_name, argument_types))",
    "CREATE TABLE system_schema.views (keyspace_name text, view_name text, additional_write_policy "
    "text, "
    "base_table_id uuid, base_table_name text, bloom_filter_fp_chance double, caching "
    "frozen<map<text, text>>, cdc "
    "boolean, comment text, compaction frozen<map<text, text>>, compression frozen<map<text, "
    "text>>, "
    "crc_check_chance double, dclocal_read_repair_chance double, default_time_to_live int, "
    "extensions "
    "frozen<map<text, blob>>, gc_grace_seconds int, id uuid, include_all_columns boolean, "
    "max_index_interval int, "
    "memtable_flush_period_in_ms int, min_index_interval int, read_repair text, read_repair_chance "
    "double, "
    "speculative_retry text, where_clause text, PRIMARY KEY (keyspace_name, view_name))",
    "CREATE TABLE system_schema.indexes (keyspace_name text, table_name text, index_name text, "
    "kind text, options "
    "frozen<map<text, text>>, PRIMARY KEY (keyspace_name, table_name, index_name))",
    "CREATE TABLE system_schema.triggers (keyspace_name text, table_name text, trigger_name text, "
    "options "
    "frozen<map<text, text>>, PRIMARY KEY (keyspace_name, table_name, trigger_name))",
    "CREATE TABLE system_schema.dropped_columns (keyspace_name text, table_name text, column_name "
    "text, "
    "dropped_time timestamp, kind text, type text, PRIMARY KEY (keyspace_name, table_name, "
    "column_name))",
    "CREATE TABLE system_virtual_schema.keyspaces (keyspace_name text PRIMARY KEY)",
    "CREATE TABLE system_virtual_schema.tables (keyspace_name text, table_name text, comment text, "
    "PRIMARY KEY "
    "(keyspace_name, table_name))",
    "CREATE TABLE system_virtual_schema.columns (keyspace_name text, table_name text, column_name "
    "text, "
    "clustering_order text, column_name_bytes blob, kind text, position int, type text, PRIMARY "
    "KEY (keyspace_name, "
    "table_name, column_name))",
};

constexpr const char* virtual_keyspace = "system_virtual_schema";

value text(std::string s) {
    return value{std::move(s)};
}

value text_set(const std::vector<std::string>& items) {
    value_list l;
    for (const auto& s : items)
        l.push_back(text(s));
    std::sort(l.begin(), l.end(), [](const value& a, const value& b) {
        return std::get<std::string>(a.v) < std::get<std::string>(b.v);
    });
    l.erase(std::unique(l.begin(), l.end()), l.end());
    return value{std::move(l)};
}

value text_list(const std::vector<std::string>& items) {
    value_list l;
    for (const auto& s : items)
        l.push_back(text(s));
    return value{std::move(l)};
}

value text_map(std::vector<std::pair<std::string, std::string>> items) {
    std::sort(items.begin(), items.end());
    value_map m;
    for (auto& [k, v] : items)
        m.emplace_back(text(k), text(v));
    return value{std::move(m)};
}

value inet(const std::string& addr) {
    proto::inet_address a;
    if (!parse_inet_string(addr, a)) parse_inet_string("127.0.0.1", a);
    return value{a};
}

value i64(std::int64_t v) {
    return value{v};
}

std::string option_or(const table_def& t, const std::string& name, const std::string& dflt) {
    for (const auto& [k, v] : t.options)
        if (k == name) return v;
    return dflt;
}

std::vector<std::pair<std::string, std::string>> map_option_or(
    const table_def& t, const std::string& name,
    std::vector<std::pair<std::string, std::string>> dflt) {
    for (const auto& [k, v] : t.map_options)
        if (k == name) return v;
    return dflt;
}

double to_double(const std::string& s, double dflt) {
    try {
        return std::stod(s);
    } catch (...) {
        return dflt;
    }
}
std::int64_t to_int(const std::string& s, std::int64_t dflt) {
    try {
        return std::stoll(s);
    } catch (...) {
        return dflt;
    }
}

}  // namespace

void engine::impl::create_system_schema() {
    auto add_ks = [&](const std::string& name,
                      std::vector<std::pair<std::string, std::string>> repl) {
        keyspace_def ks;
        ks.name = name;
        ks.replication = std::move(repl);
        ks.system = true;
        keyspaces.emplace(name, std::move(ks));
    };
    add_ks("system", {{"class", "org.apache.cassandra.locator.LocalStrategy"}});
    add_ks("system_schema", {{"class", "org.apache.cassandra.locator.LocalStrategy"}});
    add_ks("system_auth",
           {{"class", "org.apache.cassandra.locator.SimpleStrategy"}, {"replication_factor", "1"}});
    add_ks("system_distributed",
           {{"class", "org.apache.cassandra.locator.SimpleStrategy"}, {"replication_factor", "3"}});
    add_ks("system_traces",
           {{"class", "org.apache.cassandra.locator.SimpleStrategy"}, {"replication_factor", "2"}});
    add_ks(virtual_keyspace, {{"class", "org.apache.cassandra.locator.LocalStrategy"}});
    for (const char* ddl : system_ddl) {
        auto parsed = parse(ddl);
        auto& ct = std::get<ast::create_table>(std::get<ast::parsed_statement>(parsed).stmt);
        auto t = build_table(ct, ct.table.keyspace);
        t.system = true;
        t.id = hash_uuid(ct.table.keyspace + "." + ct.table.name, 3);
        keyspaces[ct.table.keyspace].tables.emplace(ct.table.name, std::move(t));
    }
}

void engine::impl::put_row(table_def& t, const std::vector<std::pair<std::string, value>>& cells) {
    std::vector<byte_buffer> pk(t.pk.size());
    std::vector<value> ck(t.ck.size());
    std::vector<std::pair<const column_def*, byte_buffer>> regular;
    for (const auto& [name, v] : cells) {
        const auto* c = t.find(name);
        if (!c || v.is_null()) continue;
        if (c->kind == column_kind::partition_key)
            pk[static_cast<std::size_t>(c->position)] = encode(c->type, v);
        else if (c->kind == column_kind::clustering)
            ck[static_cast<std::size_t>(c->position)] = v;
        else
            regular.emplace_back(c, encode(c->type, v));
    }
    auto key = make_partition_key(pk);
    auto [pit, inserted] = t.data.try_emplace(key);
    auto& p = pit->second;
    if (inserted) {
        p.pk = pk;
        p.token = key.first;
        p.rows = decltype(p.rows)(clustering_less{t.cmp});
    }
    auto [rit, rnew] = p.rows.try_emplace(ck);
    auto& r = rit->second;
    if (rnew)
        for (std::size_t i = 0; i < t.ck.size(); ++i)
            r.ck_bytes.push_back(encode(t.columns[t.ck[i]].type, ck[i]));
    r.has_marker = true;
    r.marker_ts = 0;
    for (auto& [c, b] : regular) {
        cell ce;
        ce.data = std::move(b);
        ce.ts = 0;
        if (c->kind == column_kind::static_)
            p.statics[c->id] = std::move(ce);
        else
            r.cells[c->id] = std::move(ce);
    }
}

void engine::impl::refresh_system_table(table_def& t, const exec_context& ctx) {
    t.data.clear();
    const auto& nodes = topo.nodes;
    std::size_t me = ctx.session && ctx.session->node < nodes.size() ? ctx.session->node : 0;
    auto node_schema = [&](const node_info& n) {
        return value{n.schema_version.value_or(version)};
    };
    if (t.keyspace == "system") {
        if (t.name == "local") {
            const auto& n = nodes[me];
            put_row(t, {{"key", text("local")},
                        {"bootstrapped", text("COMPLETED")},
                        {"broadcast_address", inet(n.address)},
                        {"broadcast_port", i64(n.storage_port)},
                        {"cluster_name", text(topo.cluster_name)},
                        {"cql_version", text("3.4.5")},
                        {"data_center", text(n.datacenter)},
                        {"gossip_generation", i64(1700000000)},
                        {"host_id", value{n.host_id}},
                        {"listen_address", inet(n.address)},
                        {"listen_port", i64(n.storage_port)},
                        {"native_protocol_version", text("5")},
                        {"partitioner", text("org.apache.cassandra.dht.Murmur3Partitioner")},
                        {"rack", text(n.rack)},
                        {"release_version", text(n.release_version)},
                        {"rpc_address", inet(n.address)},
                        {"rpc_port", i64(n.port)},
                        {"schema_version", node_schema(n)},
                        {"tokens", text_set(n.tokens)}});
        } else if (t.name == "peers" || t.name == "peers_v2") {
            for (std::size_t i = 0; i < nodes.size(); ++i) {
                if (i == me) continue;
                const auto& n = nodes[i];
                std::vector<std::pair<std::string, value>> row = {
                    {"peer", inet(n.address)},
                    {"data_center", text(n.datacenter)},
                    {"host_id", value{n.host_id}},
                    {"rack", text(n.rack)},
                    {"release_version", text(n.release_version)},
                    {"schema_version", node_schema(n)},
                    {"tokens", text_set(n.tokens)}};
                if (t.name == "peers") {
                    // Keyed by address only: nodes sharing an address (single_address
                    // clusters) collapse into one row here; peers_v2 tells them apart.
                    row.emplace_back("rpc_address", inet(n.address));
                } else {
                    row.emplace_back("peer_port", i64(n.storage_port));
                    row.emplace_back("native_address", inet(n.address));
                    row.emplace_back("native_port", i64(n.port));
                }
                put_row(t, row);
            }
        }
        return;
    }
    bool virtual_schema = t.keyspace == virtual_keyspace;
    if (t.keyspace != "system_schema" && !virtual_schema) return;
    for (const auto& [kn, ks] : keyspaces) {
        // Virtual keyspaces are described only by system_virtual_schema, and it only by them.
        if ((kn == virtual_keyspace) != virtual_schema) continue;
        if (virtual_schema && t.name == "tables") {
            for (const auto& [tn, tb] : ks.tables)
                put_row(t, {{"keyspace_name", text(kn)},
                            {"table_name", text(tn)},
                            {"comment",
                             text("virtual " + tn.substr(0, tn.size() - 1) + " definitions")}});
            continue;
        }
        if (t.name == "keyspaces") {
            put_row(t, {{"keyspace_name", text(kn)},
                        {"durable_writes", value{ks.durable_writes}},
                        {"replication", text_map(ks.replication)}});
        } else if (t.name == "tables") {
            for (const auto& [tn, tb] : ks.tables) {
                std::vector<std::string> flags = {"compound"};
                if (tb.counter) flags.push_back("counter");
                put_row(t,
                        {{"keyspace_name", text(kn)},
                         {"table_name", text(tn)},
                         {"additional_write_policy",
                          text(option_or(tb, "additional_write_policy", "99p"))},
                         {"bloom_filter_fp_chance",
                          value{to_double(option_or(tb, "bloom_filter_fp_chance", ""), 0.01)}},
                         {"caching",
                          text_map(map_option_or(
                              tb, "caching", {{"keys", "ALL"}, {"rows_per_partition", "NONE"}}))},
                         {"comment", text(option_or(tb, "comment", ""))},
                         {"compaction",
                          text_map(map_option_or(
                              tb, "compaction",
                              {{"class",
                                "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy"},
                               {"max_threshold", "32"},
                               {"min_threshold", "4"}}))},
                         {"compression",
                          text_map(map_option_or(
                              tb, "compression",
                              {{"chunk_length_in_kb", "16"},
                               {"class", "org.apache.cassandra.io.compress.LZ4Compressor"}}))},
                         {"crc_check_chance",
                          value{to_double(option_or(tb, "crc_check_chance", ""), 1.0)}},
                         {"dclocal_read_repair_chance", value{0.0}},
                         {"default_time_to_live", i64(tb.default_ttl)},
                         {"extensions", value{value_map{}}},
                         {"flags", text_set(flags)},
                         {"gc_grace_seconds",
                          i64(to_int(option_or(tb, "gc_grace_seconds", ""), 864000))},
                         {"id", value{tb.id}},
                         {"max_index_interval",
                          i64(to_int(option_or(tb, "max_index_interval", ""), 2048))},
                         {"memtable_flush_period_in_ms",
                          i64(to_int(option_or(tb, "memtable_flush_period_in_ms", ""), 0))},
                         {"min_index_interval",
                          i64(to_int(option_or(tb, "min_index_interval", ""), 128))},
                         {"read_repair", text(option_or(tb, "read_repair", "BLOCKING"))},
                         {"read_repair_chance", value{0.0}},
                         {"speculative_retry", text(option_or(tb, "speculative_retry", "99p"))}});
            }
        } else if (t.name == "columns") {
            for (const auto& [tn, tb] : ks.tables) {
                for (const auto& c : tb.columns) {
                    static const char* kinds[] = {"partition_key", "clustering", "static",
                                                  "regular"};
                    std::string order =
                        c.kind == column_kind::clustering ? (c.desc ? "desc" : "asc") : "none";
                    byte_buffer name_bytes(c.name.begin(), c.name.end());
                    bool keyed =
                        c.kind == column_kind::partition_key || c.kind == column_kind::clustering;
                    put_row(t, {{"keyspace_name", text(kn)},
                                {"table_name", text(tn)},
                                {"column_name", text(c.name)},
                                {"clustering_order", text(order)},
                                {"column_name_bytes", value{name_bytes}},
                                {"kind", text(kinds[static_cast<int>(c.kind)])},
                                {"position", i64(keyed ? c.position : -1)},
                                {"type", text(proto::to_cql_string(c.type))}});
                }
            }
        } else if (t.name == "types") {
            for (const auto& [un, u] : ks.types) {
                std::vector<std::string> types;
                for (const auto& ft : u.field_types)
                    types.push_back(proto::to_cql_string(ft));
                put_row(t, {{"keyspace_name", text(kn)},
                            {"type_name", text(un)},
                            {"field_names", text_list(u.field_names)},
                            {"field_types", text_list(types)}});
            }
        }
        // functions, aggregates, views, indexes, triggers, dropped_columns: always empty.
    }
}

}  // namespace cqlsim
