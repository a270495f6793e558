#pragma once
// A dynamically typed CQL value, decoded from (or encoded to) the bytes of one cell,
// given its data_type. cqlsim stores and compares these; cqldump prints them. The
// driver's hot path uses the typed codecs in cells.hpp instead.
//
// A value does not carry its type: every function takes the data_type alongside.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/types.hpp"
#include "cql/protocol/version.hpp"

namespace cql::protocol {

/// duration: months, days and nanoseconds, each signed (all of one sign on the wire).
struct cql_duration {
    std::int32_t months = 0;       ///< whole months
    std::int32_t days = 0;         ///< whole days
    std::int64_t nanoseconds = 0;  ///< the rest, in nanoseconds

    /// A span of time as nanoseconds alone (months and days 0: a std::chrono duration is a
    /// fixed length, while a CQL day or month follows the calendar).
    template <class Rep, class Period>
    static constexpr cql_duration from(std::chrono::duration<Rep, Period> d) noexcept {
        return {0, 0, std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()};
    }
    /// As a fixed length, counting a day as 24 hours: nullopt when there are months (whose
    /// length varies) or the sum does not fit in std::chrono::nanoseconds.
    constexpr std::optional<std::chrono::nanoseconds> to_nanoseconds() const noexcept {
        if (months != 0) return std::nullopt;
        constexpr std::int64_t day = 86400000000000;
        std::int64_t total = 0;
        if (__builtin_mul_overflow(static_cast<std::int64_t>(days), day, &total) ||
            __builtin_add_overflow(total, nanoseconds, &total))
            return std::nullopt;
        return std::chrono::nanoseconds{total};
    }
    friend bool operator==(const cql_duration&, const cql_duration&) = default;
};

/// varint: two's-complement big-endian bytes, shortest form (as on the wire).
struct cql_varint {
    byte_buffer bytes;  ///< the wire bytes
    friend bool operator==(const cql_varint&, const cql_varint&) = default;
};

/// decimal: unscaled * 10^-scale.
struct cql_decimal {
    std::int32_t scale = 0;  ///< decimal digits after the point
    cql_varint unscaled;     ///< the unscaled integer
    friend bool operator==(const cql_decimal&, const cql_decimal&) = default;
};

struct value;
using value_list = std::vector<value>;                   ///< list, set, tuple, udt, vector
using value_map = std::vector<std::pair<value, value>>;  ///< map, in key order as given

/// An owning CQL value of any type (for bound values, cqlsim's storage and tests).
struct value {
    /// null; boolean; every integer type (tinyint..bigint, counter, timestamp ms since
    /// epoch, time ns since midnight, date as days with 2^31 at the epoch); float; double;
    /// ascii/text; blob; uuid/timeuuid; inet; duration; varint; decimal; collections.
    using storage = std::variant<std::monostate, bool, std::int64_t, float, double, std::string,
                                 byte_buffer, uuid_bytes, inet_address, cql_duration, cql_varint,
                                 cql_decimal, value_list, value_map>;
    storage v;  ///< the value; std::monostate is null

    value() = default;  ///< null
    /// Any type `storage` can be built from.
    template <class T>
    requires std::is_constructible_v<storage, T&&> value(T&& x) : v(std::forward<T>(x)) {}

    /// True for null.
    bool is_null() const noexcept { return std::holds_alternative<std::monostate>(v); }
    friend bool operator==(const value&, const value&) = default;
};

/// Decodes a cell. Collections use [int] counts and lengths (protocol v3 and later).
/// Bytes that do not fit the type give value_type_mismatch (or truncated).
std::error_code decode_value(const data_type& t, bytes_view cell, value& out);

/// Encodes the cell bytes (without the [bytes] length prefix). A value whose
/// alternative does not fit the type, or is out of range (an int of 2^40), gives
/// value_type_mismatch and writes nothing.
std::error_code encode_value(const data_type& t, const value& v, byte_buffer& out);

/// Checks that bytes are a well-formed value of the type, without building a value.
std::error_code validate_value(const data_type& t, bytes_view cell);

/// Cassandra's ordering for the type (negative, 0, positive): signed integers,
/// bytewise text and blobs, timeuuid by timestamp, collections element-wise.
int compare_values(const data_type& t, const value& a, const value& b);

/// A CQL literal, as cqlsh prints one: 42, 'it''s', 0xcafe, 1.5, true,
/// 2d1c7a10-..., '2021-03-04 05:06:07.000Z', [1, 2], {'a': 1}, (1, 'x'), {f: 1}.
std::string to_cql_literal(const data_type& t, const value& v);

}  // namespace cql::protocol
