#pragma once
/// \file
/// What the query builder (query.hpp) hands to the mapper: the parts of a query by member
/// index, checked and turned into CQL text with positional markers plus the values to bind
/// to them. Internal, except for the options every query takes (request_options).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cql/mapping/bind.hpp"
#include "cql/mapping/model.hpp"
#include "cql/prepared.hpp"

namespace cql {

class session;

/// Per-request settings of a mapped query, applied to the bound statement (unset: the
/// execution profile's, as for cql::statement).
struct request_options {
    std::optional<cql::consistency> consistency;         ///< consistency level
    std::optional<cql::consistency> serial_consistency;  ///< of an LWT
    std::optional<std::int32_t> page_size;               ///< rows per page
    std::optional<std::chrono::milliseconds> timeout;    ///< the request timeout
    std::optional<bool> idempotent;                      ///< safe to retry
    std::string execution_profile;                       ///< "" : the default one

    /// Sets them on `b`.
    void apply(bound_statement& b) const;
};

namespace detail {

// The prepared statements of one mapped table, by CQL text: each query text is prepared
// once per mapper (and session).
class mapper_core {
  public:
    mapper_core(session& s, std::string keyspace) : session_(s), keyspace_(std::move(keyspace)) {}
    session& sess() const noexcept { return session_; }
    const std::string& keyspace() const noexcept { return keyspace_; }

    std::optional<prepared_statement> find(const std::string& cql) const {
        std::lock_guard lk(mutex_);
        auto it = prepared_.find(cql);
        if (it == prepared_.end()) return std::nullopt;
        return it->second;
    }
    void store(const std::string& cql, const prepared_statement& p) {
        std::lock_guard lk(mutex_);
        prepared_.emplace(cql, p);
    }
    std::size_t size() const {
        std::lock_guard lk(mutex_);
        return prepared_.size();
    }

  private:
    session& session_;
    std::string keyspace_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, prepared_statement> prepared_;
};

// A value for one marker, bound once the marker's type is known (after PREPARE).
using bind_fn = std::error_code (*)(const void* value, const prepared_column& marker,
                                    bound_statement& out, std::string& why);
struct bound_value {
    std::shared_ptr<const void> value;
    bind_fn fn = nullptr;
};

template <class V>
std::error_code bind_checked(const void* value, const prepared_column& marker, bound_statement& out,
                             std::string& why) {
    const V& v = *static_cast<const V*>(value);
    std::string detail;
    if (!type_fits<V>(marker.type, detail)) {
        why = type_mismatch_message("bind marker", marker.name, "the query", cpp_type_name<V>(),
                                    marker.name, marker.type, detail);
        return mapping_errc::type_mismatch;
    }
    if (auto ec = bind_typed(out, v, marker.type)) {
        why = "cql mapping: a value for marker '" + marker.name +
              "' could not be bound: " + ec.message();
        return mapping_errc::type_mismatch;
    }
    return {};
}
template <class V>
bound_value make_bound_value(V v) {
    return {std::make_shared<const V>(std::move(v)), &bind_checked<V>};
}

enum class rel_op : std::uint8_t { eq, neq, lt, lte, gt, gte, in };

struct relation_spec {
    std::size_t member = 0;  // size(): a member pointer the model does not list
    rel_op op = rel_op::eq;
    std::vector<bound_value> values;  // one, or one per IN element
};

enum class assign_op : std::uint8_t { set, add, remove };

struct assignment_spec {
    std::size_t member = 0;
    assign_op op = assign_op::set;
    bound_value value;
};

// A query by member indexes, as the builders collect it.
struct query_parts {
    enum class kind : std::uint8_t { select, insert, update, remove } what = kind::select;
    std::vector<relation_spec> where;
    std::vector<relation_spec> conditions;               // IF ...
    std::vector<assignment_spec> assignments;            // UPDATE's SET; INSERT's columns
    std::vector<std::pair<std::size_t, bool>> order_by;  // member, descending
    std::optional<std::int32_t> limit;
    std::optional<std::int32_t> per_partition_limit;
    bool allow_filtering = false;
    bool if_not_exists = false;
    bool if_exists = false;
    std::optional<std::int32_t> ttl;        // seconds
    std::optional<std::int64_t> timestamp;  // microseconds
    std::vector<std::string> errors;        // found while building
};

// What the mapper prepares and binds.
struct query_spec {
    std::shared_ptr<mapper_core> core;
    std::string cql;
    std::vector<bound_value> values;  // one per marker, in order
    request_options options;
    bool conditional = false;  // an LWT: its result has "[applied]"
    std::error_code ec;        // mapping_errc::invalid_query / invalid_model
    std::string error;
};

// Checks `parts` against the table's model and writes the CQL text and marker values.
void build_query(const struct_mapping& mapping, std::string_view keyspace, query_parts parts,
                 query_spec& out);

}  // namespace detail
}  // namespace cql
