// CREATE TABLE / CREATE TYPE text for a table_definition, and the checks a definition must
// pass before anything is sent.
#include <algorithm>
#include <string>
#include <string_view>

#include "cql/mapping/schema.hpp"

namespace cql {

namespace {

// CQL's reserved keywords (those that cannot be column names unquoted).
constexpr std::string_view reserved_words[] = {
    "add",    "allow",       "alter",  "and",          "apply",    "asc",      "authorize",
    "batch",  "begin",       "by",     "columnfamily", "create",   "default",  "delete",
    "desc",   "describe",    "drop",   "entries",      "execute",  "from",     "full",
    "grant",  "if",          "in",     "index",        "infinity", "insert",   "into",
    "is",     "keyspace",    "limit",  "materialized", "mbean",    "mbeans",   "modify",
    "nan",    "norecursive", "not",    "null",         "of",       "on",       "or",
    "order",  "primary",     "rename", "replace",      "revoke",   "schema",   "select",
    "set",    "table",       "to",     "token",        "truncate", "unlogged", "unset",
    "update", "use",         "using",  "view",         "where",    "with"};

std::string column_list(const std::vector<const column_definition*>& cols) {
    std::string out;
    for (const auto* c : cols) {
        if (!out.empty()) out += ", ";
        out += cql_identifier(c->name);
    }
    return out;
}

std::vector<const column_definition*> key_columns(const table_definition& def, column_role role) {
    std::vector<const column_definition*> out;
    for (std::size_t i : detail::key_order(def.columns, role))
        out.push_back(&def.columns[i]);
    return out;
}

std::string qualified(const std::string& keyspace, const std::string& name) {
    return keyspace.empty() ? cql_identifier(name)
                            : cql_identifier(keyspace) + "." + cql_identifier(name);
}

}  // namespace

std::string cql_identifier(std::string_view name) {
    bool plain = !name.empty() && name[0] >= 'a' && name[0] <= 'z';
    for (char c : name)
        plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
    plain = plain && std::find(std::begin(reserved_words), std::end(reserved_words), name) ==
                         std::end(reserved_words);
    if (plain) return std::string(name);
    std::string out = "\"";
    for (char c : name) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::vector<const column_definition*> table_definition::partition_key() const {
    return key_columns(*this, column_role::partition_key);
}

std::vector<const column_definition*> table_definition::clustering_key() const {
    return key_columns(*this, column_role::clustering);
}

std::string table_definition::create_table_cql() const {
    std::string out = "CREATE TABLE IF NOT EXISTS " + qualified(keyspace, table) + " (";
    for (const auto& c : columns) {
        out += cql_identifier(c.name) + " " + protocol::to_cql_string(c.type);
        if (c.role == column_role::static_column) out += " static";
        out += ", ";
    }
    const auto ck = clustering_key();
    out += "PRIMARY KEY ((" + column_list(partition_key()) + ")";
    if (!ck.empty()) out += ", " + column_list(ck);
    out += "))";
    const bool any_desc = std::any_of(ck.begin(), ck.end(), [](auto* c) { return c->descending; });
    if (any_desc) {
        out += " WITH CLUSTERING ORDER BY (";
        for (std::size_t i = 0; i < ck.size(); ++i) {
            if (i) out += ", ";
            out += cql_identifier(ck[i]->name) + (ck[i]->descending ? " DESC" : " ASC");
        }
        out += ")";
    }
    return out;
}

std::vector<std::string> table_definition::create_types_cql() const {
    std::vector<std::string> out;
    for (const auto& t : types) {
        std::string s = "CREATE TYPE IF NOT EXISTS " + qualified(keyspace, t.name) + " (";
        for (std::size_t i = 0; i < t.fields.size(); ++i) {
            if (i) s += ", ";
            s += cql_identifier(t.fields[i].first) + " " +
                 protocol::to_cql_string(t.fields[i].second);
        }
        out.push_back(s + ")");
    }
    return out;
}

namespace detail {

bool holds_user_type(const protocol::data_type& t) noexcept {
    if (t.id == protocol::type_id::udt) return true;
    return std::any_of(t.params.begin(), t.params.end(),
                       [](const auto& p) { return holds_user_type(p); });
}

void check_table_definition(const struct_mapping& mapping, table_definition& def) {
    if (def.table.empty())
        def.errors.push_back("struct " + mapping.struct_name +
                             " has no table name: give it one with model::table()");
    bool has_clustering = false, has_static = false, has_counter = false, has_plain = false;
    for (auto& c : def.columns) {
        const bool key = c.role == column_role::partition_key || c.role == column_role::clustering;
        has_clustering = has_clustering || c.role == column_role::clustering;
        has_static = has_static || c.role == column_role::static_column;
        const bool counter = c.type.id == protocol::type_id::counter;
        if (counter && key)
            def.errors.push_back("column '" + c.name + "' of " + mapping.struct_name +
                                 " is a counter in the primary key");
        if (!key) (counter ? has_counter : has_plain) = true;
        // A collection or user type in the primary key must be frozen.
        if (key && (protocol::is_collection(c.type) || c.type.id == protocol::type_id::udt))
            c.type.frozen = true;
    }
    if (def.partition_key().empty())
        def.errors.push_back("struct " + mapping.struct_name +
                             " has no partition key: give it one with model::partition_key()");
    if (has_static && !has_clustering)
        def.errors.push_back("struct " + mapping.struct_name +
                             " has a static column but no clustering column");
    if (has_counter && has_plain)
        def.errors.push_back("struct " + mapping.struct_name +
                             " mixes counter and other columns outside the primary key");
}

}  // namespace detail
}  // namespace cql
