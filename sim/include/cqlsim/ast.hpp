#pragma once
// The syntax tree of the CQL statements cqlsim understands. Produced by cqlsim::parse
// (parser.hpp), consumed by the engine. Identifiers are already case-folded (unquoted
// names lower-cased, quoted names kept as written).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace cqlsim::ast {

// A term: a literal, a bind marker, a collection/tuple/UDT literal or a function call.
struct term {
    enum class kind : std::uint8_t {
        string,    // 'text' or $$text$$
        integer,   // 42, -7
        floating,  // 1.5, -2e3, NaN, Infinity
        uuid,      // 01234567-89ab-cdef-0123-456789abcdef
        blob,      // 0xcafe (text holds the hex digits without 0x)
        boolean,   // true / false (text holds "true" or "false")
        null,
        duration,  // 1h30m (text holds the literal)
        bind,      // ? or :name (bind_index is the marker's position in the statement)
        list,      // [a, b]
        set,       // {a, b}
        map,       // {k: v, ...} (items alternate key, value); {} is an empty map
        udt,       // {field: v, ...} (field_names parallel to items)
        tuple,     // (a, b)
        function,  // name(args...) e.g. now(), uuid(), toTimestamp(now())
    };
    kind k = kind::null;
    std::string text;
    int bind_index = -1;
    std::string bind_name;  // empty for a positional marker
    std::vector<term> items;
    std::vector<std::string> field_names;
    // Optional type hint: (int) 3
    std::string cast_type;
};

struct qualified_name {
    std::string keyspace;  // empty: the session's keyspace
    std::string name;
};

enum class op : std::uint8_t {
    eq,
    lt,
    lte,
    gt,
    gte,
    neq,
    in,
    contains,
    contains_key,
    like,
    is_not
};

// One WHERE relation. lhs is one column, a tuple of columns ((c1, c2) > (1, 2)) or
// token(k1, k2).
struct relation {
    std::vector<std::string> columns;
    bool token = false;
    bool multi = false;  // (c1, c2) op ...
    op oper = op::eq;
    term rhs;                     // for IN with a single bind marker: the marker
    std::vector<term> in_values;  // for IN (...)
    bool in_marker = false;       // IN ?
    std::optional<term> map_key;  // m[k] = v (filtering on a map entry)
};

// One IF condition: col op value, col[k] op value, or col IN (...).
struct condition {
    std::string column;
    std::optional<term> element;       // c[k]
    std::optional<std::string> field;  // udt field
    op oper = op::eq;
    term rhs;
    std::vector<term> in_values;
    bool in_marker = false;
};

// One SET assignment in an UPDATE.
struct assignment {
    enum class kind : std::uint8_t {
        set,          // c = v
        add,          // c = c + v  (counter increment, list append, set/map union)
        subtract,     // c = c - v  (counter decrement, list/set/map removal)
        prepend,      // c = v + c
        set_element,  // c[k] = v
        set_field,    // c.f = v
    };
    kind k = kind::set;
    std::string column;
    term value;
    std::optional<term> element;
    std::string field;
};

struct using_clause {
    std::optional<term> ttl;
    std::optional<term> timestamp;
};

struct selector {
    enum class kind : std::uint8_t {
        column,
        count_star,
        count_column,
        writetime,
        ttl,
        token,
        function,
        literal
    };
    kind k = kind::column;
    std::string name;  // column name (or function name)
    std::vector<std::string> args;
    std::optional<term> value;  // literal selector; the vector argument of similarity_*
    bool value_first = false;   // similarity_*(value, column) rather than (column, value)
    std::string alias;
};

struct select_statement {
    qualified_name table;
    bool distinct = false;
    bool json = false;
    bool star = false;
    std::vector<selector> selectors;
    std::vector<relation> where;
    std::vector<std::pair<std::string, bool>> order_by;  // column, descending
    std::optional<std::pair<std::string, term>> ann;     // ORDER BY column ANN OF term
    std::optional<term> limit;
    std::optional<term> per_partition_limit;
    bool allow_filtering = false;
};

struct insert_statement {
    qualified_name table;
    std::vector<std::string> columns;
    std::vector<term> values;
    bool if_not_exists = false;
    using_clause using_;
};

struct update_statement {
    qualified_name table;
    using_clause using_;
    std::vector<assignment> assignments;
    std::vector<relation> where;
    std::vector<condition> conditions;
    bool if_exists = false;
};

struct delete_statement {
    qualified_name table;
    struct target {
        std::string column;
        std::optional<term> element;
        std::string field;
    };
    std::vector<target> columns;
    using_clause using_;
    std::vector<relation> where;
    std::vector<condition> conditions;
    bool if_exists = false;
};

enum class batch_type : std::uint8_t { logged = 0, unlogged = 1, counter = 2 };

using modification = std::variant<insert_statement, update_statement, delete_statement>;

struct batch_statement {
    batch_type type = batch_type::logged;
    using_clause using_;
    std::vector<modification> statements;
};

using option_map = std::vector<std::pair<std::string, std::string>>;

struct create_keyspace {
    std::string name;
    bool if_not_exists = false;
    option_map replication;
    std::optional<bool> durable_writes;
};
struct alter_keyspace {
    std::string name;
    std::optional<option_map> replication;
    std::optional<bool> durable_writes;
};
struct drop_keyspace {
    std::string name;
    bool if_exists = false;
};

struct column_decl {
    std::string name;
    std::string type;  // CQL type text as written
    bool is_static = false;
};

// A table option: name = value, where the value is a string, a number, an identifier or
// a map {'k': 'v'} (kept as text pairs).
struct table_option {
    std::string name;
    std::string value;  // scalar as text
    std::optional<option_map> map;
};

struct create_table {
    qualified_name table;
    bool if_not_exists = false;
    std::vector<column_decl> columns;
    std::vector<std::string> partition_key;
    std::vector<std::string> clustering;
    std::vector<std::pair<std::string, bool>> clustering_order;  // column, descending
    bool compact_storage = false;
    std::vector<table_option> options;
};
struct alter_table {
    qualified_name table;
    enum class kind : std::uint8_t { add, drop, rename, with, alter_type } k = kind::add;
    bool if_exists = false;
    std::vector<column_decl> added;
    std::vector<std::string> dropped;
    std::vector<std::pair<std::string, std::string>> renamed;
    std::vector<table_option> options;
};
struct drop_table {
    qualified_name table;
    bool if_exists = false;
};
struct truncate_table {
    qualified_name table;
};
struct create_type {
    qualified_name type;
    bool if_not_exists = false;
    std::vector<std::pair<std::string, std::string>> fields;  // name, type text
};
struct alter_type {
    qualified_name type;
    std::vector<std::pair<std::string, std::string>> added;
    std::vector<std::pair<std::string, std::string>> renamed;
};
struct drop_type {
    qualified_name type;
    bool if_exists = false;
};
struct create_index {
    std::string name;
    qualified_name table;
    std::string column;
    bool if_not_exists = false;
    bool custom = false;
};
struct drop_index {
    qualified_name index;
    bool if_exists = false;
};
struct use_statement {
    std::string keyspace;
};

using statement =
    std::variant<select_statement, insert_statement, update_statement, delete_statement,
                 batch_statement, use_statement, create_keyspace, alter_keyspace, drop_keyspace,
                 create_table, alter_table, drop_table, truncate_table, create_type, alter_type,
                 drop_type, create_index, drop_index>;

// A bind marker as found while parsing, in order of appearance.
struct bind_marker {
    std::string name;  // empty for '?'
};

struct parsed_statement {
    statement stmt;
    std::vector<bind_marker> markers;
};

}  // namespace cqlsim::ast
