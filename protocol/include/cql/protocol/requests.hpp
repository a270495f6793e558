#pragma once
// Request messages (native_protocol_v4.spec and v5.spec section 4.1): STARTUP,
// AUTH_RESPONSE, OPTIONS, QUERY, PREPARE, EXECUTE, BATCH and REGISTER, in both
// directions. The driver encodes them, cqlsim and cqldump decode them.
//
// Messages are views: strings, ids and values point into caller memory (when encoding)
// or into the frame body (when decoding); arrays (values, names, batch statements,
// startup options, event types) are spans. Decoding needs somewhere to put those arrays:
// the caller passes a request_storage, which decode clears and fills, and the spans of
// the decoded message point into it until the next decode with the same storage.
//
// Encoding returns an error (codec_errc::invalid_value, and writes nothing) for a
// message the protocol cannot express: more than 65535 values, names that do not match
// the values, an invalid consistency, a v5-only field (keyspace, now_in_seconds, a
// non-empty result_metadata_id) with protocol v4, a string or id too long for its
// length field. Flags are never given by the caller: they are derived from which
// optional fields are set.
//
// Protocol v3 uses the v4 layouts (one-byte flags, no keyspace).

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/frame.hpp"
#include "cql/protocol/version.hpp"

namespace cql::protocol {

// Bits of <flags> in query parameters (QUERY, EXECUTE) and BATCH. [byte] in v4, [int] in v5.
namespace query_flags {
inline constexpr std::uint32_t values = 0x01;
inline constexpr std::uint32_t skip_metadata = 0x02;
inline constexpr std::uint32_t page_size = 0x04;
inline constexpr std::uint32_t paging_state = 0x08;
inline constexpr std::uint32_t serial_consistency = 0x10;
inline constexpr std::uint32_t default_timestamp = 0x20;
inline constexpr std::uint32_t names_for_values = 0x40;
inline constexpr std::uint32_t keyspace = 0x80;         ///< v5
inline constexpr std::uint32_t now_in_seconds = 0x100;  ///< v5
}  // namespace query_flags

// Bits of the v5 PREPARE <flags>.
namespace prepare_flags {
inline constexpr std::uint32_t keyspace = 0x01;
}

/// `<query_parameters>` of QUERY and EXECUTE.
struct query_parameters {
    /// The consistency level of the request.
    consistency consistency_level = consistency::one;
    /// Bound values, in marker order. Sent with flag 0x01 when not empty.
    std::span<const value_view> values{};
    /// Empty, or one name per value (flag 0x40: named bind markers, QUERY only in practice).
    std::span<const std::string_view> names{};
    bool skip_metadata = false;                     ///< 0x02
    std::optional<std::int32_t> page_size;          ///< 0x04
    std::optional<bytes_view> paging_state;         ///< 0x08
    std::optional<consistency> serial_consistency;  ///< 0x10 (SERIAL or LOCAL_SERIAL)
    std::optional<std::int64_t> default_timestamp;  ///< 0x20, microseconds
    std::optional<std::string_view> keyspace;       ///< 0x80, v5 only
    std::optional<std::int32_t> now_in_seconds;     ///< 0x100, v5 only

    /// The flags these fields give on the wire (before the v4 byte truncation).
    std::uint32_t flags() const noexcept;
};

/// STARTUP: the options of the connection (CQL_VERSION, COMPRESSION, ...).
struct startup_request {
    static constexpr opcode op = opcode::startup;  ///< the message's opcode
    /// e.g. {{"CQL_VERSION", "3.0.0"}, {"COMPRESSION", "lz4"}}, sent in this order.
    std::span<const string_pair> options{};

    /// The value of an option, if present.
    std::optional<std::string_view> option(std::string_view key) const noexcept;
};

/// AUTH_RESPONSE: the client's SASL token.
struct auth_response_request {
    static constexpr opcode op = opcode::auth_response;  ///< the message's opcode
    std::optional<bytes_view> token;                     ///< nullopt: a null [bytes]
};

/// OPTIONS: asks for SUPPORTED.
struct options_request {
    static constexpr opcode op = opcode::options;  ///< the message's opcode
};

/// QUERY: a CQL string with its parameters.
struct query_request {
    static constexpr opcode op = opcode::query;  ///< the message's opcode
    /// The CQL text.
    std::string_view query;
    /// Consistency, values, paging, ...
    query_parameters params;
};

/// PREPARE: a CQL string to prepare.
struct prepare_request {
    static constexpr opcode op = opcode::prepare;  ///< the message's opcode
    /// The CQL text.
    std::string_view query;
    std::optional<std::string_view> keyspace;  ///< v5 only (flag 0x01)
};

/// EXECUTE: a prepared statement with its parameters.
struct execute_request {
    static constexpr opcode op = opcode::execute;  ///< the message's opcode
    /// The prepared statement id from RESULT Prepared.
    bytes_view id;
    bytes_view result_metadata_id;  ///< v5 only (always present there, may be empty)
    /// Consistency, values, paging, ...
    query_parameters params;
};

/// The type of a BATCH.
enum class batch_type : std::uint8_t { logged = 0, unlogged = 1, counter = 2 };

/// One statement of a BATCH: CQL text or a prepared id, with its values.
struct batch_statement {
    /// Text (0) or prepared id (1), as on the wire.
    enum class kind : std::uint8_t { query = 0, prepared = 1 };
    /// Which of the two this statement is.
    kind type = kind::query;
    std::string_view query;  ///< kind::query
    bytes_view id;           ///< kind::prepared
    /// Bound values, in marker order.
    std::span<const value_view> values{};

    /// A statement given as CQL text.
    static batch_statement simple(std::string_view q, std::span<const value_view> v = {}) noexcept {
        return {kind::query, q, {}, v};
    }
    /// A prepared statement given by its id.
    static batch_statement prepared(bytes_view prepared_id,
                                    std::span<const value_view> v = {}) noexcept {
        return {kind::prepared, {}, prepared_id, v};
    }
};

/// Named values in a batch (flag 0x40) are not supported: the spec itself says they
/// cannot work (CASSANDRA-10246), and decoding rejects the flag with invalid_value.
struct batch_request {
    static constexpr opcode op = opcode::batch;  ///< the message's opcode
    /// LOGGED, UNLOGGED or COUNTER.
    batch_type type = batch_type::logged;
    /// The statements, in order.
    std::span<const batch_statement> statements{};
    /// The consistency level of the batch.
    consistency consistency_level = consistency::one;
    std::optional<consistency> serial_consistency;  ///< 0x10
    std::optional<std::int64_t> default_timestamp;  ///< 0x20
    std::optional<std::string_view> keyspace;       ///< 0x80, v5 only
    std::optional<std::int32_t> now_in_seconds;     ///< 0x100, v5 only

    /// The flags these fields give on the wire.
    std::uint32_t flags() const noexcept;
};

/// REGISTER: the server events this connection wants.
struct register_request {
    static constexpr opcode op = opcode::register_;  ///< the message's opcode
    /// "TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"
    std::span<const std::string_view> event_types{};
};

/// Any request message.
using request = std::variant<startup_request, auth_response_request, options_request, query_request,
                             prepare_request, execute_request, batch_request, register_request>;

template <class T>
/// One of the request message types.
concept request_message = requires {
    T::op;
}
&&std::is_same_v<std::remove_cvref_t<decltype(T::op)>, opcode> && !std::is_same_v<T, request>;

/// The opcode of the message held.
opcode opcode_of(const request& r) noexcept;

/// Arrays a decoded message points into. Reuse one across decodes: decode clears it and
/// keeps its capacity. Move-only, so that decoded spans cannot be left pointing into a
/// copy's source by accident (moving a vector keeps its elements where they are).
struct request_storage {
    /// Bound values (of every statement of a batch).
    std::vector<value_view> values;
    std::vector<std::string_view> strings;  ///< value names, event types
    std::vector<string_pair> options;       ///< STARTUP
    /// Statements of a BATCH.
    std::vector<batch_statement> statements;

    ///@{
    /// Default-constructible and movable, not copyable.
    request_storage() = default;
    request_storage(request_storage&&) noexcept = default;
    request_storage& operator=(request_storage&&) noexcept = default;
    request_storage(const request_storage&) = delete;
    request_storage& operator=(const request_storage&) = delete;
    ///@}

    /// Empties every array, keeping the capacity.
    void clear() noexcept {
        values.clear();
        strings.clear();
        options.clear();
        statements.clear();
    }
};

// ---- message bodies (no frame header, no body prefix) ----

/// Appends the body. On error nothing is appended.
std::error_code encode(byte_writer& w, const startup_request& m, protocol_version v);
std::error_code encode(byte_writer& w, const auth_response_request& m, protocol_version v);
std::error_code encode(byte_writer& w, const options_request& m, protocol_version v);
std::error_code encode(byte_writer& w, const query_request& m, protocol_version v);
std::error_code encode(byte_writer& w, const prepare_request& m, protocol_version v);
std::error_code encode(byte_writer& w, const execute_request& m, protocol_version v);
std::error_code encode(byte_writer& w, const batch_request& m, protocol_version v);
std::error_code encode(byte_writer& w, const register_request& m, protocol_version v);
std::error_code encode(byte_writer& w, const request& m, protocol_version v);

/// Reads one message from `r` (which is left after it; the caller checks for trailing
/// bytes, or uses decode_request_body). Unknown flag bits, invalid consistencies, batch
/// types and statement kinds give invalid_value. `storage` is cleared first.
std::error_code decode(byte_reader& r, startup_request& m, protocol_version v,
                       request_storage& storage);
std::error_code decode(byte_reader& r, auth_response_request& m, protocol_version v);
std::error_code decode(byte_reader& r, options_request& m, protocol_version v);
std::error_code decode(byte_reader& r, query_request& m, protocol_version v,
                       request_storage& storage);
std::error_code decode(byte_reader& r, prepare_request& m, protocol_version v);
std::error_code decode(byte_reader& r, execute_request& m, protocol_version v,
                       request_storage& storage);
std::error_code decode(byte_reader& r, batch_request& m, protocol_version v,
                       request_storage& storage);
std::error_code decode(byte_reader& r, register_request& m, protocol_version v,
                       request_storage& storage);

/// Decodes a whole message body (after any body prefix) of the given request opcode and
/// rejects trailing bytes. A response opcode gives unknown_opcode.
std::error_code decode_request_body(opcode op, bytes_view body, protocol_version v, request& out,
                                    request_storage& storage);

// ---- whole frames ----

/// A request frame, decoded: the message, the header's tracing flag, the custom payload
/// (body prefix), and the arrays the message points into. Move-only.
struct decoded_request {
    /// The message (views into the frame body and `storage`).
    request message;
    /// The frame's stream id.
    std::int16_t stream = 0;
    /// The header's tracing flag.
    bool tracing = false;
    /// The custom payload, if any.
    body_prefix prefix;
    /// The arrays `message` points into.
    request_storage storage;
};

/// Decodes the frame's body: the body prefix the header flags announce (read_body_prefix),
/// then the message for the header's opcode; rejects response frames
/// (unexpected_direction), response opcodes (unknown_opcode) and trailing bytes. The body
/// must already be decompressed (the compression flag is not looked at). Views point into
/// f.body, arrays into out.storage.
std::error_code decode_request(const frame_view& f, decoded_request& out);

/// Appends a whole request frame: header (with the tracing flag if asked, the custom
/// payload flag if prefix has one), body prefix, body; the body length is patched in.
/// Allocation-free beyond growing `out`. On error `out` is left as it was.
std::error_code encode_request_frame(byte_buffer& out, protocol_version v, std::int16_t stream,
                                     const request& m, const body_prefix* prefix = nullptr,
                                     bool tracing = false);
std::error_code encode_request_frame(byte_buffer& out, protocol_version v, std::int16_t stream,
                                     const query_request& m, const body_prefix* prefix = nullptr,
                                     bool tracing = false);
std::error_code encode_request_frame(byte_buffer& out, protocol_version v, std::int16_t stream,
                                     const execute_request& m, const body_prefix* prefix = nullptr,
                                     bool tracing = false);
/// Clears the query flag `flag` (a query_flags bit) of the EXECUTE request frame `frame`
/// (uncompressed, as encode_request_frame makes it), in place; nothing else changes. The
/// driver sends a prepared SELECT again with its result metadata when the server's rows
/// show that the metadata it skipped is stale. codec_errc for anything but a whole
/// uncompressed EXECUTE request frame.
std::error_code clear_execute_flag(std::span<std::uint8_t> frame, std::uint32_t flag);
/// Sets the consistency of the QUERY, EXECUTE or BATCH request frame `frame` (uncompressed,
/// as encode_request_frame makes it) to `cl`, in place: a retry policy may retry at another
/// consistency. codec_errc for anything else.
std::error_code set_request_consistency(std::span<std::uint8_t> frame, consistency cl);
/// Any other single message type goes through the variant (they are not on the hot path).
template <request_message M>
requires(!std::is_same_v<M, query_request> && !std::is_same_v<M, execute_request>) std::error_code
    encode_request_frame(byte_buffer& out, protocol_version v, std::int16_t stream, const M& m,
                         const body_prefix* prefix = nullptr, bool tracing = false) {
    return encode_request_frame(out, v, stream, request{m}, prefix, tracing);
}

// ---- equality (element-wise over spans; for tests, fuzzers and cqlsim) ----

namespace detail {
template <class T>
bool span_equal(std::span<const T> a, std::span<const T> b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}
inline bool bytes_equal(bytes_view a, bytes_view b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}
inline bool opt_bytes_equal(const std::optional<bytes_view>& a,
                            const std::optional<bytes_view>& b) noexcept {
    if (a.has_value() != b.has_value()) return false;
    return !a || bytes_equal(*a, *b);
}
}  // namespace detail

inline bool operator==(const query_parameters& a, const query_parameters& b) noexcept {
    return a.consistency_level == b.consistency_level && detail::span_equal(a.values, b.values) &&
           detail::span_equal(a.names, b.names) && a.skip_metadata == b.skip_metadata &&
           a.page_size == b.page_size && detail::opt_bytes_equal(a.paging_state, b.paging_state) &&
           a.serial_consistency == b.serial_consistency &&
           a.default_timestamp == b.default_timestamp && a.keyspace == b.keyspace &&
           a.now_in_seconds == b.now_in_seconds;
}
inline bool operator==(const startup_request& a, const startup_request& b) noexcept {
    return detail::span_equal(a.options, b.options);
}
inline bool operator==(const auth_response_request& a, const auth_response_request& b) noexcept {
    return detail::opt_bytes_equal(a.token, b.token);
}
inline bool operator==(const options_request&, const options_request&) noexcept {
    return true;
}
inline bool operator==(const query_request& a, const query_request& b) noexcept {
    return a.query == b.query && a.params == b.params;
}
inline bool operator==(const prepare_request& a, const prepare_request& b) noexcept {
    return a.query == b.query && a.keyspace == b.keyspace;
}
inline bool operator==(const execute_request& a, const execute_request& b) noexcept {
    return detail::bytes_equal(a.id, b.id) &&
           detail::bytes_equal(a.result_metadata_id, b.result_metadata_id) && a.params == b.params;
}
inline bool operator==(const batch_statement& a, const batch_statement& b) noexcept {
    return a.type == b.type && a.query == b.query && detail::bytes_equal(a.id, b.id) &&
           detail::span_equal(a.values, b.values);
}
inline bool operator==(const batch_request& a, const batch_request& b) noexcept {
    return a.type == b.type && detail::span_equal(a.statements, b.statements) &&
           a.consistency_level == b.consistency_level &&
           a.serial_consistency == b.serial_consistency &&
           a.default_timestamp == b.default_timestamp && a.keyspace == b.keyspace &&
           a.now_in_seconds == b.now_in_seconds;
}
inline bool operator==(const register_request& a, const register_request& b) noexcept {
    return detail::span_equal(a.event_types, b.event_types);
}

}  // namespace cql::protocol
