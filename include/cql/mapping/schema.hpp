#pragma once
/// \file
/// Tables and user-defined types generated from mapped structs: the definition a struct's
/// model gives (cql::table_definition_of), its CREATE TABLE / CREATE TYPE statements, and
/// cql::async_sync_table, which makes a keyspace's table fit the struct as cqlengine's
/// sync_table does.
///
/// \code
///   cql::sync_report rep = co_await cql::async_sync_table<animal>(session, use_awaitable);
///   for (const auto& c : rep.conflicts) std::printf("cannot change: %s\n", c.c_str());
/// \endcode
///
/// async_sync_table creates what is missing (the user types the struct uses, nested ones
/// first, then the table), adds the columns and type fields the struct has and the
/// schema lacks (ALTER TABLE ... ADD, ALTER TYPE ... ADD), and reports, without touching
/// them, what it cannot change: a column or field of another type, a different primary
/// key or clustering order, columns and fields the struct does not have. It reads the
/// schema from system_schema.columns and system_schema.types, and never creates keyspaces.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/async_result.hpp>

#include "cql/detail/op_completion.hpp"
#include "cql/error.hpp"
#include "cql/mapping/cql_types.hpp"
#include "cql/mapping/model.hpp"
#include "cql/protocol/types.hpp"
#include "cql/session.hpp"

namespace cql {

/// A column of a table_definition.
struct column_definition {
    std::string name;                         ///< the column name
    protocol::data_type type;                 ///< its CQL type
    column_role role = column_role::regular;  ///< partition key, clustering, static, regular
    int key_position = -1;                    ///< in its key (-1: not a key)
    bool descending = false;                  ///< clustering order
};

/// A user-defined type a table_definition uses.
struct type_definition {
    std::string name;  ///< the type name (in the table's keyspace)
    std::vector<std::pair<std::string, protocol::data_type>> fields;  ///< name, type
};

/// A table as a struct's model describes it.
struct table_definition {
    std::string keyspace;                    ///< "" : the session's (filled by the mapper)
    std::string table;                       ///< the table name
    std::vector<column_definition> columns;  ///< in member order
    std::vector<type_definition> types;      ///< the user types used, nested ones first
    std::vector<std::string> errors;         ///< why the struct cannot describe a table

    /// `CREATE TABLE IF NOT EXISTS ks.t (..., PRIMARY KEY ((pk...), ck...))` with the
    /// clustering order when one is descending.
    std::string create_table_cql() const;
    /// `CREATE TYPE IF NOT EXISTS ks.name (...)` for each user type, nested ones first.
    std::vector<std::string> create_types_cql() const;
    /// The partition key columns, in key order.
    std::vector<const column_definition*> partition_key() const;
    /// The clustering columns, in key order.
    std::vector<const column_definition*> clustering_key() const;
};

/// What async_sync_table did and what it could not do.
struct sync_report {
    bool created_table = false;              ///< the table did not exist
    std::vector<std::string> created_types;  ///< user types created
    std::vector<std::string> added_columns;  ///< columns added to the table
    std::vector<std::string> added_fields;   ///< "type.field" added to user types
    std::vector<std::string> conflicts;      ///< differences left alone, in words
    std::vector<std::string> statements;     ///< every DDL statement run, in order
};

/// A CQL identifier as written in a statement: unquoted when it is a plain lower-case
/// name that is not a keyword, else double-quoted.
std::string cql_identifier(std::string_view name);

namespace detail {

template <class M>
void collect_types(std::vector<type_definition>& out, std::vector<std::string>& errors);

template <mapped_struct S>
void collect_struct_type(std::vector<type_definition>& out, std::vector<std::string>& errors) {
    const auto& mapping = model_of<S>().mapping();
    for_each_member_index<S>([&](auto i) { collect_types<member_type<S, i>>(out, errors); });
    if (!mapping.by_name) {
        errors.push_back("struct " + mapping.struct_name +
                         " is mapped by position: describe it with BOOST_DESCRIBE_STRUCT to "
                         "use it as a user type in DDL");
        return;
    }
    if (mapping.type_name.empty()) {
        errors.push_back("struct " + mapping.struct_name +
                         " has no user type name: give it one with model::type_name()");
        return;
    }
    for (const auto& t : out)
        if (t.name == mapping.type_name) return;
    type_definition def;
    def.name = mapping.type_name;
    for_each_member_index<S>([&](auto i) {
        auto t = cql_type_of<member_type<S, i>>();
        t.frozen = t.frozen || t.id == protocol::type_id::list || t.id == protocol::type_id::set ||
                   t.id == protocol::type_id::map;  // a collection in a user type is frozen
        def.fields.emplace_back(mapping.members[i].column, std::move(t));
    });
    out.push_back(std::move(def));
}

// The user types M uses, nested ones first.
template <class M>
void collect_types(std::vector<type_definition>& out, std::vector<std::string>& errors) {
    if constexpr (is_optional_v<M>) {
        collect_types<without_optional_t<M>>(out, errors);
    } else if constexpr (mapped_struct<M>) {
        collect_struct_type<M>(out, errors);
    } else if constexpr (collection_kind<M>::value == 1 || collection_kind<M>::value == 2 ||
                         collection_kind<M>::value == 5) {
        collect_types<typename M::value_type>(out, errors);
    } else if constexpr (collection_kind<M>::value == 3) {
        collect_types<typename M::key_type>(out, errors);
        collect_types<typename M::mapped_type>(out, errors);
    } else if constexpr (collection_kind<M>::value == 4) {
        [&]<class... Ts>(std::type_identity<std::tuple<Ts...>>) {
            (collect_types<Ts>(out, errors), ...);
        }(std::type_identity<M>{});
    }
}

bool holds_user_type(const protocol::data_type& t) noexcept;

// A model's CQL type override, checked against the member's C++ type.
template <class M>
bool override_type(const std::string& text, protocol::data_type& out, std::string& error) {
    if (protocol::parse_cql_type(text, out)) {
        error = "cql_type '" + text + "' is not a CQL type";
        return false;
    }
    std::string why;
    // A user type's fields are not known from its name: decoding checks them.
    if (holds_user_type(out) || type_fits<M>(out, why)) return true;
    error = "cql_type '" + text + "' does not fit C++ " + cpp_type_name<M>();
    if (!why.empty()) error += ": " + why;
    return false;
}

void check_table_definition(const struct_mapping& mapping, table_definition& def);

using sync_completion = op_ptr<error_code, sync_report>;
void start_sync_table(session& s, table_definition def, diagnostics* diag, sync_completion op);

}  // namespace detail

/// The table `T`'s model describes (keys, columns and their CQL types, the user types they
/// use). `errors` lists what makes it unusable: no partition key, a member type without a
/// CQL type, a mistaken model, a struct mapped by position.
template <mapped_struct T>
table_definition table_definition_of() {
    static_assert(detail::members_have_codecs<T>());
    const auto& mapping = model_of<T>().mapping();
    table_definition def;
    def.keyspace = mapping.keyspace;
    def.table = mapping.table;
    def.errors = mapping.errors;
    if (!mapping.by_name) {
        def.errors.push_back("struct " + mapping.struct_name +
                             " is mapped by position: describe it with BOOST_DESCRIBE_STRUCT "
                             "to use it as a table");
        return def;
    }
    detail::for_each_member_index<T>([&](auto i) {
        using M = detail::member_type<T, i>;
        const auto& mm = mapping.members[i];
        column_definition c;
        c.name = mm.column;
        c.role = mm.role;
        c.key_position = mm.key_position;
        c.descending = mm.descending;
        std::string error;
        if (!mm.cql_type.empty()) {
            if (!detail::override_type<M>(mm.cql_type, c.type, error))
                def.errors.push_back("member '" + mm.member + "' of " + mapping.struct_name + ": " +
                                     error);
        } else {
            c.type = detail::cql_type_of<M>();
            if (c.type.id == protocol::type_id::custom)
                def.errors.push_back("member '" + mm.member + "' of " + mapping.struct_name +
                                     " (C++ " + detail::cpp_type_name<M>() +
                                     ") has no default CQL type: give it one with "
                                     "model::cql_type()");
        }
        def.columns.push_back(std::move(c));
        detail::collect_types<M>(def.types, def.errors);
    });
    detail::check_table_definition(mapping, def);
    return def;
}

/// Creates or completes the table of `T` (and the user types it uses) in the keyspace of
/// its model, else the session's (see the file description). Completes with
/// `void(cql::error_code, cql::sync_report)`; mapping_errc::invalid_model (nothing sent)
/// when the struct cannot describe a table (the reason in `diag`), or the error of a
/// schema query or DDL statement. Not cancellable; each statement has the request timeout.
/// \param s the session (it must outlive the operation).
/// \param diag failure details (alive until completion).
/// \param tok an Asio completion token, or a handler `void(cql::error_code, cql::sync_report)`.
template <mapped_struct T, class Token>
auto async_sync_table(session& s, diagnostics& diag, Token&& tok) {
    return boost::asio::async_initiate<Token, void(error_code, sync_report)>(
        [&s](auto handler, diagnostics* d) {
            detail::start_sync_table(s, table_definition_of<T>(), d,
                                     detail::make_op_completion<error_code, sync_report>(
                                         std::move(handler), s.get_executor()));
        },
        tok, &diag);
}
/// \copybrief async_sync_table(session&, diagnostics&, Token&&)
/// As the overload with `diag`, without the details.
/// \param s the session (it must outlive the operation).
/// \param tok an Asio completion token, or a handler `void(cql::error_code, cql::sync_report)`.
template <mapped_struct T, class Token>
auto async_sync_table(session& s, Token&& tok) {
    return boost::asio::async_initiate<Token, void(error_code, sync_report)>(
        [&s](auto handler) {
            detail::start_sync_table(s, table_definition_of<T>(), nullptr,
                                     detail::make_op_completion<error_code, sync_report>(
                                         std::move(handler), s.get_executor()));
        },
        tok);
}

}  // namespace cql
