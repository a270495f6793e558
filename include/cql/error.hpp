#pragma once
/// \file
/// Errors of the driver. Boost.System categories (so that cql::error_code, the error type of
/// every completion handler, prints their names and values):
///  - cql::errc ("cql.client"): failures seen by the client itself (connection closed,
///    timed out, no stream id available, negotiation or authentication failed, ...);
///  - cql::server_errc ("cql.server"): the error codes of a server ERROR response
///    (native_protocol_v5.spec section 9), one enumerator per code.
///
/// Protocol decoding failures keep their own category (cql::protocol::codec_errc,
/// "cql.codec"), and the cluster/session layer has cql::session_errc (cluster_errc.hpp).
/// Each enum converts to std::error_code too, and back, without loss.
/// cql::diagnostics carries the details: the server's message and the fields that come
/// with the error code (consistency, received/required, write type, ...).

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/is_error_code_enum.hpp>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/errc.hpp"
#include "cql/protocol/version.hpp"

namespace cql {

/// The error type of completion handlers: Asio's. Compare it with the enums
/// (`ec == cql::server_errc::syntax_error`); `ec.category().name()` and `ec.value()` are the
/// category's ("cql.server", 0x2000); it converts to std::error_code and back unchanged.
/// to_error_code() brings a std::error_code of the system or generic category back to
/// Boost's own (so that `ec == boost::asio::error::connection_reset` holds).
using error_code = boost::system::error_code;

/// `ec` as a cql::error_code: the std system and generic categories become Boost's, any other
/// category is kept (ours round-trip to themselves).
error_code to_error_code(const std::error_code& ec) noexcept;

using protocol::consistency;
using protocol::protocol_version;

/// Failures seen by the client itself, category client_category() ("cql.client"). Compare
/// with `ec == cql::errc::timed_out`; is_connection_error() groups those after which a
/// request's fate on the server is unknown.
enum class errc {
    ok = 0,
    connection_closed = 1,        ///< the peer closed the connection (or it was reset)
    timed_out,                    ///< a request, connect or handshake deadline passed
    no_stream_available,          ///< every stream id of the connection is in flight
    protocol_negotiation_failed,  ///< no protocol version both sides speak
    authentication_failed,        ///< credentials refused, or required but not configured
    resolution_failed,            ///< the host name did not resolve
    host_unreachable,             ///< TCP connect failed (refused, unreachable, ...)
    tls_handshake_failed,         ///< TLS handshake or certificate verification failed
    connection_defunct,           ///< the connection failed earlier and takes no requests
    not_connected,                ///< a request before the connection was ready
    unexpected_response,          ///< a response of an opcode the request cannot get
    bad_bind_value,               ///< a value that cannot be bound to a marker
    request_too_large,            ///< an encoded request above the frame size limit
    heartbeat_failed,             ///< the idle-time OPTIONS probe got no answer in time
    compression_not_available,    ///< lz4 was required but the server does not offer it
    internal_error,               ///< a bug in the driver (an exception escaped, ...)
    no_such_column,               ///< a row read by a column index out of range or unknown name
    connect_timed_out,            ///< connect or handshake did not finish within connect_timeout
    /// The connection stopped delivering answers (a frame that never completed, or too many
    /// requests without an answer) and was closed.
    connection_stalled,
};

/// The category of cql::errc, named "cql.client"; a singleton, compare by address.
const boost::system::error_category& client_category() noexcept;
/// Makes cql::errc usable as a cql::error_code or std::error_code (found by ADL:
/// `std::error_code ec = cql::errc::timed_out;` calls it).
inline error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), client_category()};
}

/// The error codes of a server ERROR response, category server_category() ("cql.server").
/// The enumerator values are the CQL error codes, except server_error whose code 0x0000
/// would read as success in a std::error_code. The fields that come with a code are in the
/// cql::diagnostics of the failed operation.
enum class server_errc {
    server_error = 0x10000,  ///< code 0x0000 on the wire
    protocol_error = 0x000A,
    bad_credentials = 0x0100,
    unavailable = 0x1000,
    overloaded = 0x1001,
    is_bootstrapping = 0x1002,
    truncate_error = 0x1003,
    write_timeout = 0x1100,
    read_timeout = 0x1200,
    read_failure = 0x1300,
    function_failure = 0x1400,
    write_failure = 0x1500,
    cdc_write_failure = 0x1600,
    cas_write_unknown = 0x1700,
    syntax_error = 0x2000,
    unauthorized = 0x2100,
    invalid = 0x2200,
    config_error = 0x2300,
    already_exists = 0x2400,
    unprepared = 0x2500,
};

/// The category of cql::server_errc, named "cql.server"; a singleton, compare by address.
const boost::system::error_category& server_category() noexcept;
/// Makes cql::server_errc usable as a cql::error_code or std::error_code (found by ADL).
inline error_code make_error_code(server_errc e) noexcept {
    return {static_cast<int>(e), server_category()};
}
/// The error_code for a CQL error code as found in an ERROR body (0 -> server_error;
/// unknown codes keep their value in the server category).
std::error_code server_error_code(std::int32_t cql_code) noexcept;

/// True for errors after which the connection cannot be used any more (socket errors,
/// closed or defunct connections, protocol decoding failures): a request that failed
/// with one of them may or may not have reached the server.
bool is_connection_error(std::error_code ec) noexcept;

/// Details of a failed operation. For a server ERROR every field the error code defines
/// is filled; for a client error `message` explains it in words.
struct diagnostics {
    std::int32_t code = 0;     ///< CQL error code of a server error (0x0000: "server error")
    bool from_server = false;  ///< true when the fields come from a server ERROR response
    std::string message;       ///< the server's message, or the driver's explanation

    /// The consistency of the failed request: unavailable, read/write timeout, read/write
    /// failure, cas_write_unknown.
    std::optional<consistency> consistency_level;
    std::int32_t received = 0;      ///< replicas that answered / acknowledged
    std::int32_t required = 0;      ///< `<required>` (unavailable) or `<blockfor>`
    std::int32_t alive = 0;         ///< unavailable
    std::string write_type;         ///< write timeout / failure: SIMPLE, BATCH, CAS, ...
    bool data_present = false;      ///< read timeout / failure
    std::int32_t num_failures = 0;  ///< read/write failure (v5: size of the reason map)
    std::vector<std::pair<protocol::inet_address, std::uint16_t>> reasons;  ///< v5 failures
    std::int16_t contentions = 0;  ///< v5 write timeout of CAS

    std::string keyspace;                 ///< already_exists, function_failure
    std::string table;                    ///< already_exists (empty for a keyspace)
    std::string function;                 ///< function_failure
    std::vector<std::string> arg_types;   ///< function_failure
    protocol::byte_buffer unprepared_id;  ///< unprepared

    /// Resets every field, e.g. before reusing the object for another operation (the driver
    /// overwrites it on failure, and leaves it alone on success).
    void clear() { *this = diagnostics{}; }
};

/// The details in words: the message, then the fields its error code carries, e.g.
/// "Operation timed out - received only 1 responses. (consistency LOCAL_QUORUM, 1 of 2
/// replicas answered, write type SIMPLE)". Empty when there are none.
std::string to_string(const diagnostics& d);

/// A failure as a person reads it: the error's message, category and value, then
/// to_string(d) when not empty: "syntax error [cql.server:8192]: line 1:0 no viable
/// alternative at input 'SELEC'". What error_with_diagnostics::what() says.
std::string describe(const error_code& ec, const diagnostics& d);

/// Decodes the body of an ERROR message (after any tracing/warning/payload prefix) into
/// `diag`; returns the server error code, or a codec error for a malformed body (then
/// `diag` holds what could be read).
std::error_code decode_error_body(protocol::bytes_view body, protocol_version version,
                                  diagnostics& diag);

}  // namespace cql

template <>
struct std::is_error_code_enum<cql::errc> : std::true_type {};
template <>
struct std::is_error_code_enum<cql::server_errc> : std::true_type {};
/// \cond internal
namespace boost::system {
template <>
struct is_error_code_enum<cql::errc> : std::true_type {};
template <>
struct is_error_code_enum<cql::server_errc> : std::true_type {};
}  // namespace boost::system
/// \endcond
