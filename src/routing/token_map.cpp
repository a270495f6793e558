#include "cql/token_map.hpp"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "cql/protocol/murmur3.hpp"

namespace cql {

// ---------------------------------------------------------------------------------------
// replication_strategy

replication_strategy replication_strategy::simple(int rf) {
    replication_strategy r;
    r.type = kind::simple;
    r.replication_factor = rf;
    return r;
}

replication_strategy replication_strategy::network_topology(
    std::vector<std::pair<std::string, int>> dcs) {
    replication_strategy r;
    r.type = kind::network_topology;
    r.datacenters = std::move(dcs);
    std::sort(r.datacenters.begin(), r.datacenters.end());
    return r;
}

replication_strategy replication_strategy::local() {
    replication_strategy r;
    r.type = kind::local;
    return r;
}

replication_strategy replication_strategy::everywhere() {
    replication_strategy r;
    r.type = kind::everywhere;
    return r;
}

namespace {

// "3" -> 3, "3/1" -> 3 (all replicas, of which 1 transient); anything else -> 0.
int parse_factor(std::string_view s) {
    auto slash = s.find('/');
    if (slash != std::string_view::npos) s = s.substr(0, slash);
    while (!s.empty() && s.front() == ' ')
        s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ')
        s.remove_suffix(1);
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v < 0) return 0;
    return v;
}

bool class_is(std::string_view cls, std::string_view simple_name) {
    if (cls == simple_name) return true;
    return cls.size() > simple_name.size() && cls.ends_with(simple_name) &&
           cls[cls.size() - simple_name.size() - 1] == '.';
}

}  // namespace

replication_strategy replication_strategy::from_options(
    const std::vector<std::pair<std::string, std::string>>& options) {
    std::string_view cls;
    for (const auto& [k, v] : options)
        if (k == "class") cls = v;
    if (class_is(cls, "SimpleStrategy")) {
        int rf = 0;
        for (const auto& [k, v] : options)
            if (k == "replication_factor") rf = parse_factor(v);
        return simple(rf);
    }
    if (class_is(cls, "NetworkTopologyStrategy")) {
        std::vector<std::pair<std::string, int>> dcs;
        for (const auto& [k, v] : options)
            if (k != "class" && k != "replication_factor") dcs.emplace_back(k, parse_factor(v));
        return network_topology(std::move(dcs));
    }
    if (class_is(cls, "LocalStrategy")) return local();
    if (class_is(cls, "EverywhereStrategy")) return everywhere();
    return {};
}

// ---------------------------------------------------------------------------------------
// token_map

// Replicas of ring position i: pool[spans[i].first, +spans[i].second).
struct token_map::replica_table {
    std::vector<host_ptr> pool;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> spans;
};

token token_map::token_of(protocol::bytes_view routing_key) noexcept {
    return protocol::murmur3_token(routing_key);
}

std::size_t token_map::ring_index(token t) const noexcept {
    auto it = std::lower_bound(ring_.begin(), ring_.end(), t,
                               [](const ring_entry& e, token v) { return e.t < v; });
    if (it == ring_.end()) return 0;
    return static_cast<std::size_t>(it - ring_.begin());
}

std::shared_ptr<const token_map> token_map::build(std::vector<host_ptr> hosts,
                                                  const keyspace_list& keyspaces, host_ptr local) {
    auto m = std::make_shared<token_map>();
    hosts.erase(std::remove(hosts.begin(), hosts.end(), nullptr), hosts.end());
    m->hosts_ = std::move(hosts);
    for (const auto& h : m->hosts_)
        for (token t : h->tokens())
            m->ring_.push_back({t, h});
    std::stable_sort(m->ring_.begin(), m->ring_.end(),
                     [](const ring_entry& a, const ring_entry& b) { return a.t < b.t; });
    m->ring_.erase(std::unique(m->ring_.begin(), m->ring_.end(),
                               [](const ring_entry& a, const ring_entry& b) { return a.t == b.t; }),
                   m->ring_.end());
    m->local_ = std::move(local);
    if (m->local_) m->local_only_.push_back(m->local_);
    for (const auto& [name, r] : keyspaces) {
        keyspace_entry e{r, nullptr};
        // Share the table of an identical replication computed already.
        for (const auto& [other_name, other] : m->keyspaces_)
            if (other.replication == r) {
                e.table = other.table;
                break;
            }
        if (!e.table) e.table = m->table_for(r);
        m->keyspaces_.insert_or_assign(name, std::move(e));
    }
    return m;
}

std::shared_ptr<const token_map> token_map::with_keyspace(std::string name,
                                                          const replication_strategy& r) const {
    auto m = std::make_shared<token_map>(*this);
    keyspace_entry e{r, nullptr};
    for (const auto& [other_name, other] : keyspaces_)
        if (other.replication == r) {
            e.table = other.table;
            break;
        }
    if (!e.table) e.table = m->table_for(r);
    m->keyspaces_.insert_or_assign(std::move(name), std::move(e));
    return m;
}

std::shared_ptr<const token_map> token_map::without_keyspace(std::string_view name) const {
    auto m = std::make_shared<token_map>(*this);
    auto it = m->keyspaces_.find(name);
    if (it != m->keyspaces_.end()) m->keyspaces_.erase(it);
    return m;
}

std::shared_ptr<const token_map> token_map::with_hosts(std::vector<host_ptr> hosts) const {
    keyspace_list ks;
    ks.reserve(keyspaces_.size());
    for (const auto& [name, e] : keyspaces_)
        ks.emplace_back(name, e.replication);
    host_ptr local = local_;
    // The local host follows its endpoint into the new topology when it is still there.
    if (local) {
        for (const auto& h : hosts)
            if (h && h->endpoint() == local->endpoint()) local = h;
    }
    return build(std::move(hosts), ks, std::move(local));
}

std::span<const host_ptr> token_map::replicas(std::string_view keyspace, token t) const noexcept {
    auto it = keyspaces_.find(keyspace);
    if (it == keyspaces_.end()) return {};
    const keyspace_entry& e = it->second;
    if (e.replication.type == replication_strategy::kind::local) return local_only_;
    if (!e.table || ring_.empty()) return {};
    auto [off, len] = e.table->spans[ring_index(t)];
    return std::span<const host_ptr>(e.table->pool).subspan(off, len);
}

std::span<const host_ptr> token_map::replicas(std::string_view keyspace,
                                              protocol::bytes_view routing_key) const noexcept {
    if (routing_key.empty()) return {};
    return replicas(keyspace, token_of(routing_key));
}

const replication_strategy* token_map::keyspace_replication(
    std::string_view keyspace) const noexcept {
    auto it = keyspaces_.find(keyspace);
    return it == keyspaces_.end() ? nullptr : &it->second.replication;
}

std::size_t token_map::table_count() const noexcept {
    std::vector<const replica_table*> seen;
    for (const auto& [name, e] : keyspaces_)
        if (e.table && std::find(seen.begin(), seen.end(), e.table.get()) == seen.end())
            seen.push_back(e.table.get());
    return seen.size();
}

namespace {

// Dense ids for the ring's hosts, datacenters and (datacenter, rack) pairs, so the ring
// walks compare integers.
struct ring_topology {
    std::vector<std::uint32_t> host_of_entry;  // per ring entry
    std::vector<host_ptr> hosts;               // distinct ring hosts, in order of first token
    std::vector<std::uint32_t> dc_of_host;
    std::vector<std::uint32_t> rack_of_host;  // global (dc, rack) id
    std::vector<std::string> dc_names;
    std::vector<int> dc_node_count;
    std::vector<int> dc_rack_count;
    std::uint32_t rack_ids = 0;

    explicit ring_topology(const std::vector<token_map::ring_entry>& ring) {
        std::unordered_map<const host*, std::uint32_t> ids;
        std::map<std::pair<std::string, std::string>, std::uint32_t> racks;
        for (const auto& e : ring) {
            auto [it, fresh] =
                ids.try_emplace(e.owner.get(), static_cast<std::uint32_t>(hosts.size()));
            if (fresh) {
                hosts.push_back(e.owner);
                const std::string& dc = e.owner->datacenter();
                auto dit = std::find(dc_names.begin(), dc_names.end(), dc);
                std::uint32_t d = static_cast<std::uint32_t>(dit - dc_names.begin());
                if (dit == dc_names.end()) {
                    dc_names.push_back(dc);
                    dc_node_count.push_back(0);
                    dc_rack_count.push_back(0);
                }
                ++dc_node_count[d];
                auto [rit, new_rack] = racks.try_emplace({dc, e.owner->rack()}, rack_ids);
                if (new_rack) {
                    ++rack_ids;
                    ++dc_rack_count[d];
                }
                dc_of_host.push_back(d);
                rack_of_host.push_back(rit->second);
            }
            host_of_entry.push_back(it->second);
        }
    }
};

}  // namespace

std::vector<host_ptr> token_map::compute_replicas(const replication_strategy& r,
                                                  std::size_t index) const {
    auto table = table_for(r);
    std::vector<host_ptr> out;
    if (r.type == replication_strategy::kind::local) return local_only_;
    if (!table || index >= table->spans.size()) return out;
    auto [off, len] = table->spans[index];
    out.assign(table->pool.begin() + off, table->pool.begin() + off + len);
    return out;
}

std::shared_ptr<const token_map::replica_table> token_map::table_for(
    const replication_strategy& r) const {
    using kind = replication_strategy::kind;
    if (r.type == kind::local || r.type == kind::unknown) return nullptr;
    auto table = std::make_shared<replica_table>();
    const std::size_t n = ring_.size();
    if (n == 0) return table;
    ring_topology topo(ring_);
    table->spans.reserve(n);
    const std::size_t host_count = topo.hosts.size();

    if (r.type == kind::everywhere) {
        // pool = hosts twice; position i: host_count hosts starting at its owner.
        table->pool.reserve(2 * host_count);
        for (int k = 0; k < 2; ++k)
            table->pool.insert(table->pool.end(), topo.hosts.begin(), topo.hosts.end());
        for (std::size_t i = 0; i < n; ++i)
            table->spans.emplace_back(topo.host_of_entry[i],
                                      static_cast<std::uint32_t>(host_count));
        return table;
    }

    std::vector<char> chosen(host_count, 0);
    std::vector<std::uint32_t> picked;

    if (r.type == kind::simple) {
        const std::size_t rf =
            std::min<std::size_t>(r.replication_factor < 0 ? 0 : r.replication_factor, host_count);
        for (std::size_t i = 0; i < n; ++i) {
            picked.clear();
            for (std::size_t j = 0; j < n && picked.size() < rf; ++j) {
                std::uint32_t h = topo.host_of_entry[(i + j) % n];
                if (chosen[h]) continue;
                chosen[h] = 1;
                picked.push_back(h);
            }
            auto off = static_cast<std::uint32_t>(table->pool.size());
            for (auto h : picked) {
                chosen[h] = 0;
                table->pool.push_back(topo.hosts[h]);
            }
            table->spans.emplace_back(off, static_cast<std::uint32_t>(picked.size()));
        }
        return table;
    }

    // NetworkTopologyStrategy, as Cassandra's calculateNaturalReplicas.
    struct dc_target {
        int rf = 0;  // 0: not replicated to this DC (or no such DC)
    };
    std::vector<dc_target> targets(topo.dc_names.size());
    for (const auto& [dc, rf] : r.datacenters) {
        auto it = std::find(topo.dc_names.begin(), topo.dc_names.end(), dc);
        if (it != topo.dc_names.end()) targets[it - topo.dc_names.begin()].rf = rf;
    }
    struct dc_state {
        int rf_left = 0;
        int acceptable_rack_repeats = 0;
    };
    std::vector<dc_state> state(targets.size());
    std::vector<char> seen_rack(topo.rack_ids, 0);
    std::vector<std::uint32_t> seen_list;
    for (std::size_t i = 0; i < n; ++i) {
        int dcs_to_fill = 0;
        for (std::size_t d = 0; d < targets.size(); ++d) {
            const int rf = targets[d].rf;
            const int nodes = topo.dc_node_count[d];
            if (rf <= 0 || nodes <= 0) {
                state[d].rf_left = 0;
                continue;
            }
            state[d].rf_left = std::min(rf, nodes);
            state[d].acceptable_rack_repeats = rf - topo.dc_rack_count[d];
            ++dcs_to_fill;
        }
        picked.clear();
        seen_list.clear();
        for (std::size_t j = 0; j < n && dcs_to_fill > 0; ++j) {
            std::uint32_t h = topo.host_of_entry[(i + j) % n];
            dc_state& s = state[topo.dc_of_host[h]];
            if (s.rf_left == 0 || chosen[h]) continue;
            std::uint32_t rack = topo.rack_of_host[h];
            if (!seen_rack[rack]) {
                seen_rack[rack] = 1;
                seen_list.push_back(rack);
            } else if (s.acceptable_rack_repeats <= 0) {
                continue;  // the remaining replicas must come from racks not seen yet
            } else {
                --s.acceptable_rack_repeats;
            }
            chosen[h] = 1;
            picked.push_back(h);
            if (--s.rf_left == 0) --dcs_to_fill;
        }
        auto off = static_cast<std::uint32_t>(table->pool.size());
        for (auto h : picked) {
            chosen[h] = 0;
            table->pool.push_back(topo.hosts[h]);
        }
        for (auto rk : seen_list)
            seen_rack[rk] = 0;
        table->spans.emplace_back(off, static_cast<std::uint32_t>(picked.size()));
    }
    return table;
}

}  // namespace cql
