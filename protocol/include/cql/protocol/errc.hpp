#pragma once
// Errors of the sans-I/O protocol layer. Malformed input is always reported as one of
// these values; nothing in protocol/ throws.
//
// The category is a Boost.System one (header-only; no Asio here), so that the driver's
// completion handlers, whose error type is boost::system::error_code, print its name
// ("cql.codec") and value; it converts to and from std::error_code without loss, which the
// protocol layer uses throughout.

#include <system_error>

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/is_error_code_enum.hpp>

namespace cql::protocol {

enum class codec_errc {
    ok = 0,
    truncated,               ///< input ended before the structure was complete
    body_too_large,          ///< a frame body length above the configured maximum
    unsupported_version,     ///< a version byte we do not speak
    unexpected_direction,    ///< a request where a response was expected, or the reverse
    unknown_opcode,          ///< opcode byte not defined by the protocol
    invalid_length,          ///< a negative or impossible length field
    invalid_value,           ///< a field whose value is outside its domain
    unknown_type,            ///< a type option id we do not know
    type_nesting_too_deep,   ///< type descriptions nested beyond a sane depth
    trailing_bytes,          ///< a message body longer than its contents
    header_crc_mismatch,     ///< v5 segment header CRC24 mismatch
    payload_crc_mismatch,    ///< v5 segment payload CRC32 mismatch
    segment_too_large,       ///< a v5 segment payload above 128 KiB - 1
    compression_failed,      ///< the compressor refused its input
    decompression_failed,    ///< corrupt compressed data, or a size that does not match
    unexpected_compression,  ///< a compressed frame or segment when none was negotiated
    value_type_mismatch,     ///< a cell whose bytes do not fit the declared CQL type
    version_mismatch,        ///< a frame of another protocol version than the connection's
};

/// The category of codec_errc, named "cql.codec"; a singleton, compare by address.
const boost::system::error_category& codec_category() noexcept;

/// Makes codec_errc usable as a std::error_code or boost::system::error_code (found by ADL).
inline boost::system::error_code make_error_code(codec_errc e) noexcept {
    return {static_cast<int>(e), codec_category()};
}

}  // namespace cql::protocol

template <>
struct std::is_error_code_enum<cql::protocol::codec_errc> : std::true_type {};
/// \cond internal
namespace boost::system {
template <>
struct is_error_code_enum<cql::protocol::codec_errc> : std::true_type {};
}  // namespace boost::system
/// \endcond
