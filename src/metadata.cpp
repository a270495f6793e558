// System tables (system.local, system.peers[_v2], system_schema.*) to hosts and schema.
#include <algorithm>
#include <charconv>

#include "detail/cluster_impl.hpp"

namespace cql::detail {

namespace {

std::string text_of(const row_view& row, std::string_view col) {
    auto i = row.index_of(col);
    if (i >= row.size()) return {};
    std::optional<std::string_view> v;
    if (row.try_get(i, v) || !v) return {};
    return std::string(*v);
}

std::optional<protocol::inet_address> inet_of(const row_view& row, std::string_view col) {
    auto i = row.index_of(col);
    if (i >= row.size()) return std::nullopt;
    std::optional<protocol::inet_address> v;
    if (row.try_get(i, v)) return std::nullopt;
    return v;
}

std::optional<std::int32_t> int_of(const row_view& row, std::string_view col) {
    auto i = row.index_of(col);
    if (i >= row.size()) return std::nullopt;
    std::optional<std::int32_t> v;
    if (row.try_get(i, v)) return std::nullopt;
    return v;
}

// Elements of a list<text>/set<text> (v3+ collection encoding: [int n] then n [bytes]).
std::vector<std::string> text_list_of(const row_view& row, std::string_view col) {
    std::vector<std::string> out;
    auto i = row.index_of(col);
    if (i >= row.size()) return out;
    auto cell = row[i];
    if (cell.state != protocol::value_view::kind::bytes) return out;
    protocol::byte_reader r(cell.data);
    auto n = r.i32();
    if (!r.ok() || n < 0 || static_cast<std::size_t>(n) > r.remaining() / 4) return out;
    for (std::int32_t k = 0; k < n && r.ok(); ++k) {
        auto e = r.bytes();
        if (!r.ok()) break;
        out.emplace_back(e ? protocol::as_string_view(*e) : std::string_view{});
    }
    if (!r.ok()) out.clear();
    return out;
}

std::vector<std::pair<std::string, std::string>> text_map_of(const row_view& row,
                                                             std::string_view col) {
    std::vector<std::pair<std::string, std::string>> out;
    auto i = row.index_of(col);
    if (i >= row.size()) return out;
    auto cell = row[i];
    if (cell.state != protocol::value_view::kind::bytes) return out;
    protocol::byte_reader r(cell.data);
    auto n = r.i32();
    if (!r.ok() || n < 0 || static_cast<std::size_t>(n) > r.remaining() / 8) return out;
    for (std::int32_t k = 0; k < n && r.ok(); ++k) {
        auto key = r.bytes();
        auto val = r.bytes();
        if (!r.ok()) break;
        out.emplace_back(key ? std::string(protocol::as_string_view(*key)) : std::string{},
                         val ? std::string(protocol::as_string_view(*val)) : std::string{});
    }
    if (!r.ok()) out.clear();
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<token> tokens_of(const row_view& row) {
    std::vector<token> out;
    for (const auto& s : text_list_of(row, "tokens")) {
        token t = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), t);
        if (ec == std::errc{} && p == s.data() + s.size()) out.push_back(t);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string address_text(const protocol::inet_address& a) {
    return host_endpoint::from_inet(a, 0).address;
}

bool is_any(const protocol::inet_address& a) {
    return std::all_of(a.bytes.begin(), a.bytes.begin() + a.size, [](auto b) { return b == 0; });
}

void fill_common(host_info& h, const row_view& row) {
    h.datacenter = text_of(row, "data_center");
    h.rack = text_of(row, "rack");
    h.release_version = text_of(row, "release_version");
    h.tokens = tokens_of(row);
    auto i = row.index_of("host_id");
    if (i < row.size()) {
        std::optional<protocol::uuid_bytes> id;
        if (!row.try_get(i, id) && id) h.host_id = *id;
    }
}

}  // namespace

std::vector<host_info> parse_local_and_peers(const result& local, const result& peers,
                                             bool peers_v2, const host_endpoint& control,
                                             std::uint16_t default_port) {
    std::vector<host_info> out;
    for (row_view row : local) {
        host_info h;
        h.endpoint = control;  // we reached it there
        fill_common(h, row);
        out.push_back(std::move(h));
        break;
    }
    for (row_view row : peers) {
        host_info h;
        std::optional<protocol::inet_address> addr;
        std::uint16_t port = default_port;
        if (peers_v2) {
            addr = inet_of(row, "native_address");
            if (auto p = int_of(row, "native_port"); p && *p > 0 && *p < 65536)
                port = static_cast<std::uint16_t>(*p);
        } else {
            addr = inet_of(row, "rpc_address");
        }
        if (!addr || is_any(*addr)) addr = inet_of(row, "peer");
        if (!addr) continue;
        h.endpoint = host_endpoint{address_text(*addr), port};
        if (h.endpoint.address.empty() || h.endpoint == control) continue;
        fill_common(h, row);
        out.push_back(std::move(h));
    }
    return out;
}

std::shared_ptr<schema_metadata> parse_schema(const result& keyspaces, const result& tables,
                                              const result& columns, const result& types) {
    auto s = std::make_shared<schema_metadata>();
    for (row_view row : keyspaces) {
        keyspace_metadata k;
        k.name = text_of(row, "keyspace_name");
        if (k.name.empty()) continue;
        auto i = row.index_of("durable_writes");
        std::optional<bool> dw;
        if (i < row.size() && !row.try_get(i, dw) && dw) k.durable_writes = *dw;
        k.replication = text_map_of(row, "replication");
        k.strategy = replication_strategy::from_options(k.replication);
        s->keyspaces.emplace(k.name, std::move(k));
    }
    for (row_view row : tables) {
        auto ks = s->keyspaces.find(text_of(row, "keyspace_name"));
        if (ks == s->keyspaces.end()) continue;
        table_metadata t;
        t.keyspace = ks->first;
        t.name = text_of(row, "table_name");
        ks->second.tables.emplace(t.name, std::move(t));
    }
    for (row_view row : columns) {
        auto ks = s->keyspaces.find(text_of(row, "keyspace_name"));
        if (ks == s->keyspaces.end()) continue;
        auto t = ks->second.tables.find(text_of(row, "table_name"));
        if (t == ks->second.tables.end()) continue;
        column_metadata c;
        c.name = text_of(row, "column_name");
        c.type = text_of(row, "type");
        auto kind = text_of(row, "kind");
        if (kind == "partition_key")
            c.role = column_metadata::kind::partition_key;
        else if (kind == "clustering")
            c.role = column_metadata::kind::clustering;
        else if (kind == "static")
            c.role = column_metadata::kind::static_;
        c.position = int_of(row, "position").value_or(-1);
        c.descending = text_of(row, "clustering_order") == "desc";
        t->second.columns.push_back(std::move(c));
    }
    for (auto& [kn, k] : s->keyspaces) {
        for (auto& [tn, t] : k.tables) {
            auto rank = [](const column_metadata& c) { return static_cast<int>(c.role); };
            std::stable_sort(t.columns.begin(), t.columns.end(),
                             [&](const column_metadata& a, const column_metadata& b) {
                                 if (rank(a) != rank(b)) return rank(a) < rank(b);
                                 if (a.position != b.position) return a.position < b.position;
                                 return a.name < b.name;
                             });
            for (const auto& c : t.columns) {
                if (c.role == column_metadata::kind::partition_key)
                    t.partition_key.push_back(c.name);
                else if (c.role == column_metadata::kind::clustering)
                    t.clustering_key.push_back(c.name);
            }
        }
    }
    for (row_view row : types) {
        auto ks = s->keyspaces.find(text_of(row, "keyspace_name"));
        if (ks == s->keyspaces.end()) continue;
        user_type_metadata u;
        u.keyspace = ks->first;
        u.name = text_of(row, "type_name");
        u.field_names = text_list_of(row, "field_names");
        u.field_types = text_list_of(row, "field_types");
        ks->second.user_types.emplace(u.name, std::move(u));
    }
    return s;
}

}  // namespace cql::detail
