#pragma once
// Typed, allocation-free cell codecs for the driver's hot path: a C++ value to the bytes
// of one cell, and the bytes of one cell (a view into the received frame) back to a
// C++ value, with an error code instead of exceptions.
//
//   C++ type          CQL types it reads/writes (cell_codec<T>::accepts)
//   std::int8_t       tinyint
//   std::int16_t      smallint
//   std::int32_t      int
//   std::int64_t      bigint, counter, timestamp (ms), time (ns)
//   float, double     float, double
//   bool              boolean
//   std::string_view  text/varchar, ascii (decoding checks UTF-8, or 7-bit for ascii
//                     through decode_cell(type, ...); encoding does not check: the
//                     server does)
//   std::string       same, owning (allocates)
//   bytes_view        any type: the raw cell
//   byte_buffer       same, owning
//   uuid_bytes        uuid, timeuuid
//   inet_address      inet (the port is not part of the cell and reads as 0)
//   cql_date          date (uint32 days, 2^31 at 1970-01-01)
//   cql_time          time (ns since midnight, 0..86399999999999)
//   cql_timestamp     timestamp (ms since the epoch)
//   cql_duration      duration
//   varint_view       varint (two's-complement big-endian bytes)
//   decimal_view      decimal (scale + varint bytes)
//
// An empty cell is Cassandra's "empty value": reading it into any type but text and
// bytes gives value_type_mismatch, reading it into std::optional<T> gives nullopt (as
// does null). Empty text is the empty string.

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/types.hpp"
#include "cql/protocol/value.hpp"

namespace cql::protocol {

/// Whole-string checks used by the codecs (strict UTF-8: no overlong forms, surrogates
/// or code points above U+10FFFF).
bool is_valid_utf8(bytes_view b) noexcept;
/// True when every byte is 7-bit ASCII.
bool is_valid_ascii(bytes_view b) noexcept;

/// date: days since 1970-01-01, stored as the wire's unsigned value with 2^31 at the epoch.
struct cql_date {
    /// The wire value of 1970-01-01.
    static constexpr std::uint32_t epoch = std::uint32_t{1} << 31;
    std::uint32_t days = epoch;  ///< as on the wire: 2^31 is 1970-01-01

    /// The date `d` days after (negative: before) 1970-01-01.
    static constexpr cql_date from_days_since_epoch(std::int32_t d) noexcept {
        return {static_cast<std::uint32_t>(static_cast<std::int64_t>(d) + epoch)};
    }
    /// Days after (negative: before) 1970-01-01.
    constexpr std::int64_t days_since_epoch() const noexcept {
        return static_cast<std::int64_t>(days) - epoch;
    }
    /// The date of a std::chrono day.
    static constexpr cql_date from(std::chrono::sys_days d) noexcept {
        return from_days_since_epoch(static_cast<std::int32_t>(d.time_since_epoch().count()));
    }
    /// As a std::chrono day.
    constexpr std::chrono::sys_days to_sys_days() const noexcept {
        return std::chrono::sys_days{std::chrono::days{days_since_epoch()}};
    }
    friend constexpr bool operator==(cql_date, cql_date) = default;
};

/// time: nanoseconds since midnight, 0 to max.
struct cql_time {
    /// The last nanosecond of a day.
    static constexpr std::int64_t max = 86399999999999;
    std::int64_t nanoseconds = 0;  ///< since midnight

    /// The time `since_midnight` after midnight (binding fails outside 0..max).
    static constexpr cql_time from(std::chrono::nanoseconds since_midnight) noexcept {
        return {since_midnight.count()};
    }
    /// The time since midnight as a std::chrono duration.
    constexpr std::chrono::nanoseconds since_midnight() const noexcept {
        return std::chrono::nanoseconds{nanoseconds};
    }
    friend constexpr bool operator==(cql_time, cql_time) = default;
};

/// timestamp: milliseconds since the Unix epoch (negative before it).
struct cql_timestamp {
    std::int64_t milliseconds = 0;  ///< since 1970-01-01T00:00:00Z

    /// The timestamp of a std::chrono time point.
    static constexpr cql_timestamp from(
        std::chrono::sys_time<std::chrono::milliseconds> t) noexcept {
        return {t.time_since_epoch().count()};
    }
    /// As a std::chrono time point.
    constexpr std::chrono::sys_time<std::chrono::milliseconds> to_time_point() const noexcept {
        return std::chrono::sys_time<std::chrono::milliseconds>{
            std::chrono::milliseconds{milliseconds}};
    }
    friend constexpr bool operator==(cql_timestamp, cql_timestamp) = default;
};

/// varint: two's-complement big-endian bytes, a view into the cell.
struct varint_view {
    /// The integer's bytes.
    bytes_view bytes;
    friend bool operator==(const varint_view& a, const varint_view& b) noexcept {
        return std::equal(a.bytes.begin(), a.bytes.end(), b.bytes.begin(), b.bytes.end());
    }
};

/// decimal: unscaled * 10^-scale, a view into the cell.
struct decimal_view {
    /// Decimal digits after the point.
    std::int32_t scale = 0;
    /// The unscaled integer as varint bytes.
    bytes_view unscaled;
    friend bool operator==(const decimal_view& a, const decimal_view& b) noexcept {
        return a.scale == b.scale && varint_view{a.unscaled} == varint_view{b.unscaled};
    }
};

namespace detail {

inline std::error_code cell_mismatch() noexcept {
    return make_error_code(codec_errc::value_type_mismatch);
}

template <class U, std::size_t N>
inline std::error_code load_fixed(bytes_view cell, U& out) noexcept {
    if (cell.size() != N) return cell_mismatch();
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < N; ++i)
        v = (v << 8) | cell[i];
    out = static_cast<U>(v);
    return {};
}

template <class T, std::size_t N, type_id... Ids>
struct fixed_int_codec {
    static constexpr std::size_t fixed_size = N;
    static constexpr bool accepts(type_id id) noexcept { return ((id == Ids) || ...); }
    static std::error_code encode(byte_writer& w, T v) {
        auto u = static_cast<std::uint64_t>(static_cast<std::int64_t>(v));
        std::uint8_t buf[N];
        for (std::size_t i = 0; i < N; ++i)
            buf[i] = static_cast<std::uint8_t>(u >> (8 * (N - 1 - i)));
        w.raw(bytes_view{buf, N});
        return {};
    }
    static std::error_code decode(bytes_view cell, T& out) noexcept {
        using U = std::make_unsigned_t<T>;
        U u{};
        if (auto ec = load_fixed<U, N>(cell, u)) return ec;
        out = static_cast<T>(u);
        return {};
    }
};

}  // namespace detail

/// The codec of C++ type T: `fixed_size` (cell bytes, 0 when variable), `accepts(type_id)`,
/// `encode(byte_writer&, T)` and `decode(bytes_view, T&)`. Specialised for every type in
/// the table at the top of cells.hpp.
template <class T>
struct cell_codec;

/// @cond INTERNAL
template <>
struct cell_codec<std::int8_t> : detail::fixed_int_codec<std::int8_t, 1, type_id::tinyint> {};
template <>
struct cell_codec<std::int16_t> : detail::fixed_int_codec<std::int16_t, 2, type_id::smallint> {};
template <>
struct cell_codec<std::int32_t> : detail::fixed_int_codec<std::int32_t, 4, type_id::int_> {};
template <>
struct cell_codec<std::int64_t>
    : detail::fixed_int_codec<std::int64_t, 8, type_id::bigint, type_id::counter,
                              type_id::timestamp, type_id::time> {};

template <>
struct cell_codec<bool> {
    static constexpr std::size_t fixed_size = 1;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::boolean; }
    static std::error_code encode(byte_writer& w, bool v) {
        w.u8(v ? 1 : 0);
        return {};
    }
    static std::error_code decode(bytes_view cell, bool& out) noexcept {
        if (cell.size() != 1) return detail::cell_mismatch();
        out = cell[0] != 0;
        return {};
    }
};

template <>
struct cell_codec<float> {
    static constexpr std::size_t fixed_size = 4;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::float_; }
    static std::error_code encode(byte_writer& w, float v) {
        w.u32(std::bit_cast<std::uint32_t>(v));
        return {};
    }
    static std::error_code decode(bytes_view cell, float& out) noexcept {
        std::uint32_t u = 0;
        if (auto ec = detail::load_fixed<std::uint32_t, 4>(cell, u)) return ec;
        out = std::bit_cast<float>(u);
        return {};
    }
};

template <>
struct cell_codec<double> {
    static constexpr std::size_t fixed_size = 8;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::double_; }
    static std::error_code encode(byte_writer& w, double v) {
        w.i64(std::bit_cast<std::int64_t>(v));
        return {};
    }
    static std::error_code decode(bytes_view cell, double& out) noexcept {
        std::uint64_t u = 0;
        if (auto ec = detail::load_fixed<std::uint64_t, 8>(cell, u)) return ec;
        out = std::bit_cast<double>(u);
        return {};
    }
};

template <>
struct cell_codec<std::string_view> {
    static constexpr std::size_t fixed_size = 0;
    static constexpr bool accepts(type_id id) noexcept {
        return id == type_id::varchar || id == type_id::ascii;
    }
    static std::error_code encode(byte_writer& w, std::string_view v) {
        w.raw(v);
        return {};
    }
    static std::error_code decode(bytes_view cell, std::string_view& out) noexcept {
        if (!is_valid_utf8(cell)) return detail::cell_mismatch();
        out = as_string_view(cell);
        return {};
    }
};

template <>
struct cell_codec<std::string> {
    static constexpr std::size_t fixed_size = 0;
    static constexpr bool accepts(type_id id) noexcept {
        return cell_codec<std::string_view>::accepts(id);
    }
    static std::error_code encode(byte_writer& w, const std::string& v) {
        w.raw(std::string_view(v));
        return {};
    }
    static std::error_code decode(bytes_view cell, std::string& out) {
        std::string_view sv;
        if (auto ec = cell_codec<std::string_view>::decode(cell, sv)) return ec;
        out.assign(sv);
        return {};
    }
};

template <>
struct cell_codec<bytes_view> {
    static constexpr std::size_t fixed_size = 0;
    static constexpr bool accepts(type_id) noexcept { return true; }
    static std::error_code encode(byte_writer& w, bytes_view v) {
        w.raw(v);
        return {};
    }
    static std::error_code decode(bytes_view cell, bytes_view& out) noexcept {
        out = cell;
        return {};
    }
};

template <>
struct cell_codec<byte_buffer> {
    static constexpr std::size_t fixed_size = 0;
    static constexpr bool accepts(type_id) noexcept { return true; }
    static std::error_code encode(byte_writer& w, const byte_buffer& v) {
        w.raw(bytes_view(v));
        return {};
    }
    static std::error_code decode(bytes_view cell, byte_buffer& out) {
        out.assign(cell.begin(), cell.end());
        return {};
    }
};

template <>
struct cell_codec<uuid_bytes> {
    static constexpr std::size_t fixed_size = 16;
    static constexpr bool accepts(type_id id) noexcept {
        return id == type_id::uuid || id == type_id::timeuuid;
    }
    static std::error_code encode(byte_writer& w, const uuid_bytes& v) {
        w.uuid(v);
        return {};
    }
    static std::error_code decode(bytes_view cell, uuid_bytes& out) noexcept {
        if (cell.size() != 16) return detail::cell_mismatch();
        std::memcpy(out.data(), cell.data(), 16);
        return {};
    }
};

template <>
struct cell_codec<inet_address> {
    static constexpr std::size_t fixed_size = 0;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::inet; }
    static std::error_code encode(byte_writer& w, const inet_address& v) {
        if (v.size != 4 && v.size != 16) return detail::cell_mismatch();
        w.raw(v.address());
        return {};
    }
    static std::error_code decode(bytes_view cell, inet_address& out) noexcept {
        if (cell.size() != 4 && cell.size() != 16) return detail::cell_mismatch();
        out = inet_address{};
        out.size = static_cast<std::uint8_t>(cell.size());
        std::memcpy(out.bytes.data(), cell.data(), cell.size());
        return {};
    }
};

template <>
struct cell_codec<cql_date> {
    static constexpr std::size_t fixed_size = 4;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::date; }
    static std::error_code encode(byte_writer& w, cql_date v) {
        w.u32(v.days);
        return {};
    }
    static std::error_code decode(bytes_view cell, cql_date& out) noexcept {
        return detail::load_fixed<std::uint32_t, 4>(cell, out.days);
    }
};

template <>
struct cell_codec<cql_time> {
    static constexpr std::size_t fixed_size = 8;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::time; }
    static std::error_code encode(byte_writer& w, cql_time v) {
        if (v.nanoseconds < 0 || v.nanoseconds > cql_time::max) return detail::cell_mismatch();
        w.i64(v.nanoseconds);
        return {};
    }
    static std::error_code decode(bytes_view cell, cql_time& out) noexcept {
        std::int64_t ns = 0;
        if (auto ec = cell_codec<std::int64_t>::decode(cell, ns)) return ec;
        if (ns < 0 || ns > cql_time::max) return detail::cell_mismatch();
        out.nanoseconds = ns;
        return {};
    }
};

template <>
struct cell_codec<cql_timestamp> {
    static constexpr std::size_t fixed_size = 8;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::timestamp; }
    static std::error_code encode(byte_writer& w, cql_timestamp v) {
        w.i64(v.milliseconds);
        return {};
    }
    static std::error_code decode(bytes_view cell, cql_timestamp& out) noexcept {
        return cell_codec<std::int64_t>::decode(cell, out.milliseconds);
    }
};

template <>
struct cell_codec<cql_duration> {
    static constexpr std::size_t fixed_size = 0;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::duration; }
    static constexpr bool signs_agree(std::int64_t m, std::int64_t d, std::int64_t n) noexcept {
        return !((m < 0 || d < 0 || n < 0) && (m > 0 || d > 0 || n > 0));
    }
    static std::error_code encode(byte_writer& w, const cql_duration& v) {
        if (!signs_agree(v.months, v.days, v.nanoseconds)) return detail::cell_mismatch();
        w.vint(v.months);
        w.vint(v.days);
        w.vint(v.nanoseconds);
        return {};
    }
    static std::error_code decode(bytes_view cell, cql_duration& out) noexcept {
        byte_reader r(cell);
        auto m = r.vint();
        auto d = r.vint();
        auto n = r.vint();
        if (r.finish()) return detail::cell_mismatch();
        constexpr auto lo = std::numeric_limits<std::int32_t>::min();
        constexpr auto hi = std::numeric_limits<std::int32_t>::max();
        if (m < lo || m > hi || d < lo || d > hi || !signs_agree(m, d, n))
            return detail::cell_mismatch();
        out = cql_duration{static_cast<std::int32_t>(m), static_cast<std::int32_t>(d), n};
        return {};
    }
};

template <>
struct cell_codec<varint_view> {
    static constexpr std::size_t fixed_size = 0;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::varint; }
    static std::error_code encode(byte_writer& w, varint_view v) {
        if (v.bytes.empty()) return detail::cell_mismatch();
        w.raw(v.bytes);
        return {};
    }
    static std::error_code decode(bytes_view cell, varint_view& out) noexcept {
        if (cell.empty()) return detail::cell_mismatch();
        out.bytes = cell;
        return {};
    }
};

template <>
struct cell_codec<decimal_view> {
    static constexpr std::size_t fixed_size = 0;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::decimal; }
    static std::error_code encode(byte_writer& w, decimal_view v) {
        if (v.unscaled.empty()) return detail::cell_mismatch();
        w.i32(v.scale);
        w.raw(v.unscaled);
        return {};
    }
    static std::error_code decode(bytes_view cell, decimal_view& out) noexcept {
        if (cell.size() < 5) return detail::cell_mismatch();
        std::uint32_t s = 0;
        (void)detail::load_fixed<std::uint32_t, 4>(cell.first(4), s);
        out.scale = static_cast<std::int32_t>(s);
        out.unscaled = cell.subspan(4);
        return {};
    }
};
/// @endcond

/// A C++ type with a cell_codec.
template <class T>
concept cell_type = requires {
    cell_codec<T>::fixed_size;
};

/// True when a column of this type can be read into / written from T. A custom type
/// counts as the type its class names (DurationType in protocol v4); any other custom
/// type is only readable as bytes (bytes_view, byte_buffer). Call it once per column.
template <cell_type T>
inline bool cell_accepts(const data_type& t) {
    if (cell_codec<T>::accepts(t.id)) return true;
    return t.id == type_id::custom && cell_codec<T>::accepts(resolve_custom(t).id);
}

/// The cell bytes alone (no length prefix). On error nothing is written.
template <cell_type T>
inline std::error_code encode_cell(byte_writer& w, const T& v) {
    return cell_codec<T>::encode(w, v);
}

/// The cell as a [value]: [int] length, then the bytes. On error nothing is written.
template <cell_type T>
inline std::error_code write_cell(byte_writer& w, const T& v) {
    if constexpr (cell_codec<T>::fixed_size != 0) {
        w.i32(static_cast<std::int32_t>(cell_codec<T>::fixed_size));
        return cell_codec<T>::encode(w, v);
    } else {
        auto at = w.reserve_i32();
        auto ec = cell_codec<T>::encode(w, v);
        auto len = w.size() - at - 4;
        if (!ec && len > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
            ec = detail::cell_mismatch();
        if (ec) {
            w.buffer().resize(at);
            return ec;
        }
        w.patch_i32(at, static_cast<std::int32_t>(len));
        return {};
    }
}
template <cell_type T>
inline std::error_code write_cell(byte_writer& w, const std::optional<T>& v) {
    if (!v) {
        w.null_bytes();
        return {};
    }
    return write_cell(w, *v);
}

/// Decodes the bytes of a non-null cell. On error `out` is unspecified.
template <cell_type T>
inline std::error_code decode_cell(bytes_view cell, T& out) {
    return cell_codec<T>::decode(cell, out);
}
/// A null (or unset) cell is value_type_mismatch for a plain T.
template <cell_type T>
inline std::error_code decode_cell(const value_view& cell, T& out) {
    if (cell.state != value_view::kind::bytes) return detail::cell_mismatch();
    return cell_codec<T>::decode(cell.data, out);
}
/// Null, unset, or Cassandra's empty value of a non-string type give nullopt.
template <cell_type T>
inline std::error_code decode_cell(const value_view& cell, std::optional<T>& out) {
    constexpr bool empty_is_value = std::is_same_v<T, std::string_view> ||
                                    std::is_same_v<T, std::string> ||
                                    std::is_same_v<T, bytes_view> || std::is_same_v<T, byte_buffer>;
    if (cell.state != value_view::kind::bytes || (cell.data.empty() && !empty_is_value)) {
        out.reset();
        return {};
    }
    T v{};
    if (auto ec = cell_codec<T>::decode(cell.data, v)) return ec;
    out = std::move(v);
    return {};
}

/// Type-aware decoding: checks that T fits the column type, and for ascii columns that
/// the text is 7-bit.
template <cell_type T>
inline std::error_code decode_cell(const data_type& t, bytes_view cell, T& out) {
    if (!cell_accepts<T>(t)) return detail::cell_mismatch();
    if constexpr (std::is_same_v<T, std::string_view> || std::is_same_v<T, std::string>) {
        if (t.id == type_id::ascii && !is_valid_ascii(cell)) return detail::cell_mismatch();
    }
    if constexpr (std::is_same_v<T, std::int64_t>) {
        if (t.id == type_id::time) {
            cql_time tm;
            if (auto ec = cell_codec<cql_time>::decode(cell, tm)) return ec;
            out = tm.nanoseconds;
            return {};
        }
    }
    if constexpr (std::is_same_v<T, uuid_bytes>) {
        if (t.id == type_id::timeuuid && cell.size() == 16 && (cell[6] >> 4) != 1)
            return detail::cell_mismatch();
    }
    return cell_codec<T>::decode(cell, out);
}

}  // namespace cql::protocol
