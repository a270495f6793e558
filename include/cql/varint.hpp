#pragma once
/// \file
/// cql::varint: an integer of any size, as the CQL varint type holds it. Built from any C++
/// integer or from decimal text, converted back to either exactly (to<I>() says when the
/// value does not fit), bound to and read from varint columns.
///
/// \code
///   cql::varint big = *cql::varint::from_string("-123456789012345678901234567890");
///   s.async_execute(cql::statement("INSERT INTO ks.t (k, v) VALUES (?, ?)", 1, big), tok);
///   cql::varint v = row.get<cql::varint>("v");
///   std::optional<std::int64_t> small = v.to<std::int64_t>();   // nullopt: too large
///   std::string text = v.to_string();
/// \endcode

#include <compare>
#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/cells.hpp"

namespace cql {

/// An integer of any size: the two's-complement big-endian bytes of the CQL varint type, in
/// their shortest form (so equal values have equal bytes). A value type; default: 0.
class varint {
  public:
    varint() = default;  ///< zero
    /// The value of any C++ integer (bool excluded).
    template <std::integral I>
    requires(!std::is_same_v<I, bool>)
        varint(I v) {  // NOLINT: implicit, as integers convert to each other
        if constexpr (std::is_signed_v<I>)
            assign_signed(static_cast<std::int64_t>(v));
        else
            assign_unsigned(static_cast<std::uint64_t>(v));
    }
    /// Parses decimal text: an optional sign, then digits ("-42", "+7",
    /// "123456789012345678901234567890"); nullopt for anything else (empty, spaces, "1e3").
    static std::optional<varint> from_string(std::string_view text);
    /// The value of two's-complement big-endian bytes (a varint cell); nullopt when empty.
    static std::optional<varint> from_bytes(protocol::bytes_view bytes);

    /// Decimal text, "-" for negative values ("0", "-123456789012345678901234567890").
    std::string to_string() const;
    /// The value as I when it fits, else nullopt.
    template <std::integral I>
    std::optional<I> to() const noexcept {
        if constexpr (std::is_signed_v<I>) {
            std::int64_t v = 0;
            if (!to_int64(v) || v < std::numeric_limits<I>::min() ||
                v > std::numeric_limits<I>::max())
                return std::nullopt;
            return static_cast<I>(v);
        } else {
            std::uint64_t v = 0;
            if (!to_uint64(v) || v > std::numeric_limits<I>::max()) return std::nullopt;
            return static_cast<I>(v);
        }
    }
    /// The shortest two's-complement big-endian bytes (what a varint cell holds).
    protocol::bytes_view bytes() const noexcept { return bytes_; }
    /// True below zero.
    bool negative() const noexcept { return (bytes_[0] & 0x80) != 0; }

    /// The same value.
    friend bool operator==(const varint& a, const varint& b) noexcept {
        return a.bytes_ == b.bytes_;
    }
    /// Numeric order.
    friend std::strong_ordering operator<=>(const varint& a, const varint& b) noexcept;

  private:
    void assign_signed(std::int64_t v);
    void assign_unsigned(std::uint64_t v);
    bool to_int64(std::int64_t& out) const noexcept;
    bool to_uint64(std::uint64_t& out) const noexcept;

    protocol::byte_buffer bytes_ = {0};
};

/// varint::to_string().
inline std::string to_string(const varint& v) {
    return v.to_string();
}

}  // namespace cql

/// \cond internal
// Binds to and reads from varint columns.
template <>
struct cql::protocol::cell_codec<cql::varint> {
    static constexpr std::size_t fixed_size = 0;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::varint; }
    static std::error_code encode(byte_writer& w, const cql::varint& v) {
        w.raw(v.bytes());
        return {};
    }
    static std::error_code decode(bytes_view cell, cql::varint& out) {
        auto v = cql::varint::from_bytes(cell);
        if (!v) return codec_errc::value_type_mismatch;
        out = std::move(*v);
        return {};
    }
};
/// \endcond
