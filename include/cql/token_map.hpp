#pragma once
/// \file
/// The token ring and, per keyspace, which hosts hold the replicas of a token.
///
/// A token_map is an immutable snapshot: build one from the hosts (their tokens, datacenter
/// and rack) and the keyspaces' replication, read it from any thread, and replace it (e.g.
/// std::atomic<std::shared_ptr<const token_map>>) when the topology or a keyspace changes.
/// Replica lists are computed once per distinct replication (keyspaces with the same
/// replication share one table) when the map is built; with_keyspace()/without_keyspace()
/// reuse the tables of unchanged replications, with_hosts() recomputes them all.
///
/// Placement follows Cassandra (org.apache.cassandra.locator): a token belongs to the first
/// ring token >= it (wrapping); SimpleStrategy takes the next rf distinct hosts walking the
/// ring; NetworkTopologyStrategy walks the ring once for all datacenters and, per datacenter,
/// takes a host of a rack not used yet, or a host of a used rack while fewer than
/// rf - (racks in the DC) such repeats were taken (so: one host per rack first, the gaps
/// filled by the earliest skipped hosts), up to min(rf, hosts in the DC); LocalStrategy: the
/// local host (the one given to build(), none if none); EverywhereStrategy: every host, in
/// ring order from the token. Only hosts with tokens are on the ring.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cql/host.hpp"
#include "cql/protocol/bytes.hpp"

namespace cql {

/// How a keyspace places its replicas: the parsed `replication` option of the keyspace.
/// A plain value; build one with the named constructors or from_options().
struct replication_strategy {
    /// The replication classes the driver knows.
    enum class kind : std::uint8_t {
        unknown,           ///< a class the driver does not know: no replicas (no token awareness)
        simple,            ///< SimpleStrategy
        network_topology,  ///< NetworkTopologyStrategy
        local,             ///< LocalStrategy (system keyspaces)
        everywhere,        ///< EverywhereStrategy (DSE, ScyllaDB)
    };

    /// The strategy class.
    kind type = kind::unknown;
    int replication_factor = 0;                              ///< simple
    std::vector<std::pair<std::string, int>> datacenters{};  ///< network_topology, sorted by name

    /// SimpleStrategy with `rf` replicas.
    static replication_strategy simple(int rf);
    /// NetworkTopologyStrategy with a factor per datacenter (sorted by name here).
    static replication_strategy network_topology(std::vector<std::pair<std::string, int>> dcs);
    /// LocalStrategy: the data lives only on the node answering (system keyspaces).
    static replication_strategy local();
    /// EverywhereStrategy: every node holds every partition.
    static replication_strategy everywhere();

    /// From the replication map of system_schema.keyspaces (or system.schema_keyspaces'
    /// strategy_class + strategy_options): "class" -> "org.apache.cassandra.locator.SimpleStrategy"
    /// or "SimpleStrategy", "replication_factor" -> "3"; NetworkTopologyStrategy: dc -> "3".
    /// A factor "3/1" (transient replication) counts 3 replicas. Unparsable factors count 0.
    static replication_strategy from_options(
        const std::vector<std::pair<std::string, std::string>>& options);

    friend bool operator==(const replication_strategy&, const replication_strategy&) = default;
};

/// An immutable snapshot of the ring and of the replicas of every token per keyspace (see
/// the file description for the placement rules). The cluster keeps the current one
/// (cluster::token_map()) and token-aware load balancing reads it for each query plan;
/// every const member is safe from any thread, and the hosts it holds stay alive with it.
class token_map {
  public:
    /// One token of the ring and the host that owns it.
    struct ring_entry {
        token t{};         ///< the token
        host_ptr owner{};  ///< the host that announced it
    };
    /// Keyspace names and their replication, as given to build().
    using keyspace_list = std::vector<std::pair<std::string, replication_strategy>>;

    /// A snapshot of `hosts` (those with tokens form the ring) and `keyspaces`; every
    /// replica table is computed here, once per distinct replication. `local` is the host
    /// LocalStrategy keyspaces resolve to (usually the control host).
    static std::shared_ptr<const token_map> build(std::vector<host_ptr> hosts,
                                                  const keyspace_list& keyspaces,
                                                  host_ptr local = nullptr);

    /// A new snapshot with one keyspace added or changed (tables of unchanged replications
    /// are shared with this one), or removed.
    std::shared_ptr<const token_map> with_keyspace(std::string name,
                                                   const replication_strategy& r) const;
    /// A new snapshot without keyspace `name` (a dropped keyspace); unknown names are ignored.
    std::shared_ptr<const token_map> without_keyspace(std::string_view name) const;
    /// A new snapshot for a new topology (same keyspaces, everything recomputed).
    std::shared_ptr<const token_map> with_hosts(std::vector<host_ptr> hosts) const;

    /// The replicas of a token in a keyspace, primary first. Empty for an unknown keyspace or
    /// strategy, or an empty ring. The span lives as long as this map.
    std::span<const host_ptr> replicas(std::string_view keyspace, token t) const noexcept;
    /// Same for a routing key (the serialized partition key; composite encoding for several
    /// components, see protocol::composite_partition_key). Empty key: no replicas.
    std::span<const host_ptr> replicas(std::string_view keyspace,
                                       protocol::bytes_view routing_key) const noexcept;

    /// Murmur3Partitioner token of a routing key.
    static token token_of(protocol::bytes_view routing_key) noexcept;

    /// The ring sorted by token (one entry per token; duplicate tokens keep the first host).
    const std::vector<ring_entry>& ring() const noexcept { return ring_; }
    /// Index in ring() of the entry owning `t` (first token >= t, wrapping); ring must be
    /// non-empty.
    std::size_t ring_index(token t) const noexcept;
    /// Every host given to build() or with_hosts(), tokens or not.
    const std::vector<host_ptr>& hosts() const noexcept { return hosts_; }
    /// The host LocalStrategy keyspaces resolve to (may be null).
    const host_ptr& local_host() const noexcept { return local_; }
    /// The replication of a keyspace, or nullptr when the map does not know it. The pointer
    /// lives as long as this map.
    const replication_strategy* keyspace_replication(std::string_view keyspace) const noexcept;
    /// Number of distinct replica tables (for tests of the sharing).
    std::size_t table_count() const noexcept;

    /// Computes the replicas of the ring entry at `index` for a strategy (builds a whole table:
    /// slow, for tests and tools).
    std::vector<host_ptr> compute_replicas(const replication_strategy& r, std::size_t index) const;

    struct replica_table;  // replicas of every ring position, for one replication

  private:
    struct keyspace_entry {
        replication_strategy replication{};
        std::shared_ptr<const replica_table> table{};
    };
    std::shared_ptr<const replica_table> table_for(const replication_strategy& r) const;

    std::vector<host_ptr> hosts_{};
    std::vector<ring_entry> ring_{};
    host_ptr local_{};
    std::vector<host_ptr> local_only_{};  // {local_} or empty
    std::map<std::string, keyspace_entry, std::less<>> keyspaces_{};
};

}  // namespace cql
