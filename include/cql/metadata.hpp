#pragma once
// Schema metadata as the cluster reads it from system_schema (keyspaces with their
// replication, tables with columns and primary keys, user-defined types). A snapshot is
// immutable: cluster::metadata() returns the current one; schema changes (events, or a DDL
// statement run through the session) replace it.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cql/token_map.hpp"

namespace cql {

struct column_metadata {
    enum class kind : std::uint8_t { partition_key, clustering, static_, regular };
    std::string name;
    std::string type;  // CQL text: "int", "map<text, int>", "frozen<address>"
    kind role = kind::regular;
    int position = -1;        // in the partition or clustering key
    bool descending = false;  // clustering order
};

struct table_metadata {
    std::string keyspace;
    std::string name;
    std::vector<column_metadata> columns;  // partition key, clustering, then the others
    std::vector<std::string> partition_key;
    std::vector<std::string> clustering_key;

    const column_metadata* column(std::string_view n) const noexcept {
        for (const auto& c : columns)
            if (c.name == n) return &c;
        return nullptr;
    }
};

struct user_type_metadata {
    std::string keyspace;
    std::string name;
    std::vector<std::string> field_names;
    std::vector<std::string> field_types;
};

struct keyspace_metadata {
    std::string name;
    bool durable_writes = true;
    std::vector<std::pair<std::string, std::string>> replication;  // "class" -> ..., sorted
    replication_strategy strategy;
    std::map<std::string, table_metadata, std::less<>> tables;
    std::map<std::string, user_type_metadata, std::less<>> user_types;

    const table_metadata* table(std::string_view n) const noexcept {
        auto it = tables.find(n);
        return it == tables.end() ? nullptr : &it->second;
    }
    const user_type_metadata* user_type(std::string_view n) const noexcept {
        auto it = user_types.find(n);
        return it == user_types.end() ? nullptr : &it->second;
    }
};

struct schema_metadata {
    std::map<std::string, keyspace_metadata, std::less<>> keyspaces;

    const keyspace_metadata* keyspace(std::string_view n) const noexcept {
        auto it = keyspaces.find(n);
        return it == keyspaces.end() ? nullptr : &it->second;
    }
    const table_metadata* table(std::string_view ks, std::string_view t) const noexcept {
        auto* k = keyspace(ks);
        return k ? k->table(t) : nullptr;
    }
};

}  // namespace cql
