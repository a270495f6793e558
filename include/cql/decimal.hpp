#pragma once
/// \file
/// cql::decimal: an exact decimal number (unscaled integer x 10^-scale), as the CQL decimal
/// type holds it. Built from decimal text or integers, converted back exactly, bound to and
/// read from decimal columns.
///
/// \code
///   auto price = *cql::decimal::from_string("19.990");   // unscaled 19990, scale 3
///   s.async_execute(cql::statement("INSERT INTO ks.t (k, price) VALUES (?, ?)", 1, price), tok);
///   cql::decimal d = row.get<cql::decimal>("price");
///   std::string text = d.to_string();                      // "19.990"
///   std::optional<std::int64_t> whole = d.to<std::int64_t>();  // nullopt: not an integer
/// \endcode

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/cells.hpp"
#include "cql/varint.hpp"

namespace cql {

/// unscaled() x 10^-scale(), exactly (Java's BigDecimal, which Cassandra uses). 1.5 and 1.50
/// are the same number written with different scales: == compares the representation (as
/// Cassandra stores it); compare() compares numbers. A value type; default: 0.
class decimal {
  public:
    decimal() = default;  ///< zero, scale 0
    /// unscaled x 10^-scale.
    decimal(varint unscaled, std::int32_t scale) : unscaled_(std::move(unscaled)), scale_(scale) {}
    /// An integer (scale 0).
    template <std::integral I>
    requires(!std::is_same_v<I, bool>) decimal(I v)
        : unscaled_(v) {}  // NOLINT: implicit, as integers convert to each other
    /// Parses decimal text: an optional sign, digits with an optional point, an optional
    /// exponent ("-12.340", ".5", "1E+3", "2.5e-7"); the scale is the number of digits after
    /// the point minus the exponent. nullopt for anything else (empty, "1.2.3", "0x10", "NaN").
    static std::optional<decimal> from_string(std::string_view text);

    /// The digits, with a point when scale() > 0 ("19.990", "-0.05"); a negative scale, or
    /// more than 1000 zeros after the point, with an exponent ("1E+3" for unscaled 1, scale
    /// -3; "7E-2000"). from_string() reads it back to the same value and scale.
    std::string to_string() const;
    /// The value as I when it is a whole number that fits, else nullopt ("12.00" gives 12).
    template <std::integral I>
    std::optional<I> to() const {
        auto whole = integral_part();
        if (!whole) return std::nullopt;
        return whole->template to<I>();
    }
    /// The nearest double (inexact for most decimals; ±inf beyond its range).
    double to_double() const;

    const varint& unscaled() const noexcept { return unscaled_; }  ///< the digits
    std::int32_t scale() const noexcept { return scale_; }         ///< digits after the point

    /// Numeric order, whatever the scales (1.5 and 1.50 are equivalent).
    friend std::strong_ordering compare(const decimal& a, const decimal& b);
    /// The same unscaled value and scale.
    friend bool operator==(const decimal&, const decimal&) = default;

  private:
    // The value as an integer when it is one (exactly), else nullopt.
    std::optional<varint> integral_part() const;

    varint unscaled_;
    std::int32_t scale_ = 0;
};

/// decimal::to_string().
inline std::string to_string(const decimal& d) {
    return d.to_string();
}

}  // namespace cql

/// \cond internal
// Binds to and reads from decimal columns: [int] scale, then the unscaled varint.
template <>
struct cql::protocol::cell_codec<cql::decimal> {
    static constexpr std::size_t fixed_size = 0;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::decimal; }
    static std::error_code encode(byte_writer& w, const cql::decimal& v) {
        w.i32(v.scale());
        w.raw(v.unscaled().bytes());
        return {};
    }
    static std::error_code decode(bytes_view cell, cql::decimal& out) {
        decimal_view view;
        if (auto ec = cell_codec<decimal_view>::decode(cell, view)) return ec;
        out = cql::decimal(*cql::varint::from_bytes(view.unscaled), view.scale);
        return {};
    }
};
/// \endcond
