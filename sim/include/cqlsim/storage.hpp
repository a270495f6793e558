#pragma once
// cqlsim's schema and in-memory storage structures (internal to the engine; exposed for
// the engine's translation units and white-box tests).

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/types.hpp"
#include "cql/protocol/value.hpp"

namespace cqlsim::storage {

namespace proto = cql::protocol;

inline constexpr std::int64_t no_timestamp = std::numeric_limits<std::int64_t>::min();

enum class column_kind : std::uint8_t { partition_key, clustering, static_, regular };

struct column_def {
    std::string name;
    proto::data_type type;
    column_kind kind = column_kind::regular;
    int position = -1;  // index within the partition key or clustering key
    int id = 0;         // stable storage id (survives ALTER reordering)
    bool desc = false;  // clustering order
};

// One cell: its bytes (or a tombstone), write timestamp (microseconds) and TTL.
struct cell {
    proto::byte_buffer data;
    bool tombstone = false;
    std::int64_t ts = no_timestamp;
    std::int64_t expiry_s = 0;  // 0: never expires
    std::int32_t ttl = 0;

    bool live(std::int64_t now_s) const noexcept {
        return !tombstone && (expiry_s == 0 || now_s < expiry_s);
    }
};

struct clustering_compare {
    std::vector<proto::data_type> types;
    std::vector<bool> desc;
    // Compares two (possibly partial) clustering prefixes in table order over their common
    // length.
    int compare(const std::vector<proto::value>& a, const std::vector<proto::value>& b) const;
};

struct clustering_less {
    std::shared_ptr<const clustering_compare> cmp;
    bool operator()(const std::vector<proto::value>& a, const std::vector<proto::value>& b) const {
        int c = cmp->compare(a, b);
        if (c != 0) return c < 0;
        return a.size() < b.size();
    }
};

struct row {
    std::vector<proto::byte_buffer> ck_bytes;
    bool has_marker = false;  // set by INSERT: the row exists even with no live cells
    std::int64_t marker_ts = no_timestamp;
    std::int64_t marker_expiry_s = 0;
    std::int32_t marker_ttl = 0;
    std::int64_t deleted_at = no_timestamp;
    std::map<int, cell> cells;  // by column id
};

using partition_key = std::pair<std::int64_t, proto::byte_buffer>;  // token, serialized key

struct partition {
    std::vector<proto::byte_buffer> pk;  // component bytes
    std::int64_t token = 0;
    std::int64_t deleted_at = no_timestamp;
    std::map<int, cell> statics;
    std::map<std::vector<proto::value>, row, clustering_less> rows;
};

struct udt_def {
    std::string keyspace;
    std::string name;
    std::vector<std::string> field_names;
    std::vector<proto::data_type> field_types;
};

struct table_def {
    std::string keyspace;
    std::string name;
    proto::uuid_bytes id{};
    // Select order: partition key, clustering, statics by name, regulars by name.
    std::vector<column_def> columns;
    std::vector<std::size_t> pk;  // indices into columns, in key order
    std::vector<std::size_t> ck;
    std::vector<std::pair<std::string, std::string>> options;  // scalar options (name, text)
    std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>
        map_options;
    bool counter = false;
    bool system = false;
    int next_column_id = 0;
    std::int32_t default_ttl = 0;
    std::shared_ptr<const clustering_compare> cmp;
    std::map<partition_key, partition> data;

    const column_def* find(std::string_view col) const {
        for (const auto& c : columns)
            if (c.name == col) return &c;
        return nullptr;
    }
    // Re-sorts columns into select order and recomputes pk/ck indices and the comparator.
    void finish_columns();
};

struct keyspace_def {
    std::string name;
    std::vector<std::pair<std::string, std::string>> replication;
    bool durable_writes = true;
    bool system = false;
    std::map<std::string, table_def> tables;
    std::map<std::string, udt_def> types;
};

}  // namespace cqlsim::storage
