#pragma once
/// \file
/// Errors of the cluster and session layer ("cql.session"): what goes wrong above a single
/// connection. Messages with details (which hosts were tried and why) are in the
/// diagnostics of the failed operation.

#include <system_error>

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/is_error_code_enum.hpp>

namespace cql {

/// Errors of the cluster and session layer, category session_category() ("cql.session").
enum class session_errc {
    ok = 0,
    no_contact_points = 1,  ///< cluster_config::contact_points is empty
    no_host_available,      ///< every host of the query plan failed or was down
    busy,                   ///< every connection of the hosts tried is busy and the wait queue full
    closed,                 ///< the cluster was closed (or is closing)
    not_connected,          ///< an operation before async_connect completed
    bad_statement,          ///< a statement the driver cannot send (e.g. named values in a batch)
};

/// The category of cql::session_errc, named "cql.session"; a singleton, compare by address.
const boost::system::error_category& session_category() noexcept;
/// Makes cql::session_errc usable as a cql::error_code or std::error_code (found by ADL).
inline boost::system::error_code make_error_code(session_errc e) noexcept {
    return {static_cast<int>(e), session_category()};
}

}  // namespace cql

template <>
struct std::is_error_code_enum<cql::session_errc> : std::true_type {};
/// \cond internal
namespace boost::system {
template <>
struct is_error_code_enum<cql::session_errc> : std::true_type {};
}  // namespace boost::system
/// \endcond
