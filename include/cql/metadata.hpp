#pragma once
/// \file
/// Schema metadata as the cluster reads it from system_schema (keyspaces with their
/// replication, tables with columns and primary keys, user-defined types). A snapshot is
/// immutable: cluster::metadata() returns the current one; schema changes (events, or a DDL
/// statement run through the session) replace it.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cql/token_map.hpp"

namespace cql {

/// A column of a table.
struct column_metadata {
    /// The column's part in the primary key (or static / regular).
    enum class kind : std::uint8_t { partition_key, clustering, static_, regular };
    std::string name;           ///< the column name (unquoted names are lower case)
    std::string type;           ///< CQL text: "int", "map<text, int>", "frozen<address>"
    kind role = kind::regular;  ///< partition key, clustering, static or regular
    int position = -1;          ///< in the partition or clustering key
    bool descending = false;    ///< clustering order
};

/// A table (from system_schema.tables; materialized views are not read).
struct table_metadata {
    std::string keyspace;                     ///< the keyspace it belongs to
    std::string name;                         ///< the table name
    std::vector<column_metadata> columns;     ///< partition key, clustering, then the others
    std::vector<std::string> partition_key;   ///< column names, in key order
    std::vector<std::string> clustering_key;  ///< column names, in key order

    /// The column named `n`, or nullptr. The pointer lives as long as the snapshot.
    const column_metadata* column(std::string_view n) const noexcept {
        for (const auto& c : columns)
            if (c.name == n) return &c;
        return nullptr;
    }
};

/// A user-defined type.
struct user_type_metadata {
    std::string keyspace;                  ///< the keyspace it belongs to
    std::string name;                      ///< the type name
    std::vector<std::string> field_names;  ///< in declaration order
    std::vector<std::string> field_types;  ///< CQL text of each field's type, same order
};

/// A keyspace: replication, tables and user types.
struct keyspace_metadata {
    std::string name;            ///< the keyspace name
    bool durable_writes = true;  ///< the keyspace's durable_writes option
    std::vector<std::pair<std::string, std::string>> replication;  ///< "class" -> ..., sorted
    replication_strategy strategy;  ///< `replication` parsed (what the token map uses)
    std::map<std::string, table_metadata, std::less<>> tables;          ///< by name
    std::map<std::string, user_type_metadata, std::less<>> user_types;  ///< by name

    /// The table named `n`, or nullptr.
    const table_metadata* table(std::string_view n) const noexcept {
        auto it = tables.find(n);
        return it == tables.end() ? nullptr : &it->second;
    }
    /// The user type named `n`, or nullptr.
    const user_type_metadata* user_type(std::string_view n) const noexcept {
        auto it = user_types.find(n);
        return it == user_types.end() ? nullptr : &it->second;
    }
};

/// One immutable snapshot of the whole schema (cluster::metadata()). Pointers returned by
/// its lookups live as long as the snapshot's shared_ptr is held.
struct schema_metadata {
    std::map<std::string, keyspace_metadata, std::less<>> keyspaces;  ///< by name

    /// The keyspace named `n`, or nullptr.
    const keyspace_metadata* keyspace(std::string_view n) const noexcept {
        auto it = keyspaces.find(n);
        return it == keyspaces.end() ? nullptr : &it->second;
    }
    /// The table `t` of keyspace `ks`, or nullptr.
    const table_metadata* table(std::string_view ks, std::string_view t) const noexcept {
        auto* k = keyspace(ks);
        return k ? k->table(t) : nullptr;
    }
};

}  // namespace cql
