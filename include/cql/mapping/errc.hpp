#pragma once
/// \file
/// Errors of the object mapping (category "cql.mapping"). Each comes with a message naming
/// the struct, the member, the column and both types, in the cql::diagnostics of the
/// operation (or the `what()` of the exception a throwing read raises).

#include <system_error>
#include <type_traits>

namespace cql {

/// Failures of the object mapping, category mapping_category() ("cql.mapping").
enum class mapping_errc {
    ok = 0,
    missing_column = 1,  ///< a member has no column in the result (or no field in the UDT)
    extra_column,        ///< a column of the result (or UDT field) has no member
    type_mismatch,       ///< a member's C++ type cannot hold its column's CQL type
    null_value,          ///< a null column (or field) read into a member that is not optional
    unmatched_marker,    ///< a bind marker of the statement names no member of the struct
    invalid_model,       ///< the struct's cql::model has mistakes (struct_mapping::errors)
    invalid_query,       ///< the query builder refused the query (nothing was sent)
};

/// The category of cql::mapping_errc, named "cql.mapping"; a singleton.
const std::error_category& mapping_category() noexcept;
/// Makes cql::mapping_errc usable as a std::error_code (found by ADL).
inline std::error_code make_error_code(mapping_errc e) noexcept {
    return {static_cast<int>(e), mapping_category()};
}

}  // namespace cql

template <>
struct std::is_error_code_enum<cql::mapping_errc> : std::true_type {};
