// cql::decimal: exact decimal text in and out (unscaled varint and scale, as BigDecimal).
#include "cql/decimal.hpp"

#include <cstdlib>
#include <limits>

namespace cql {
namespace {

// Beyond this many zeros to_string() writes an exponent instead.
constexpr std::int64_t max_plain_zeros = 1000;

bool all_digits(std::string_view s) {
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

}  // namespace

std::optional<decimal> decimal::from_string(std::string_view text) {
    std::string_view sign;
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
        sign = text.substr(0, 1);
        text.remove_prefix(1);
    }
    std::int64_t exponent = 0;
    if (auto e = text.find_first_of("eE"); e != std::string_view::npos) {
        auto exp_text = text.substr(e + 1);
        text = text.substr(0, e);
        bool minus = false;
        if (!exp_text.empty() && (exp_text[0] == '-' || exp_text[0] == '+')) {
            minus = exp_text[0] == '-';
            exp_text.remove_prefix(1);
        }
        if (exp_text.empty() || exp_text.size() > 10 || !all_digits(exp_text)) return std::nullopt;
        for (char c : exp_text)
            exponent = exponent * 10 + (c - '0');
        if (minus) exponent = -exponent;
    }
    std::string digits;
    std::int64_t fraction = 0;
    if (auto point = text.find('.'); point != std::string_view::npos) {
        auto whole = text.substr(0, point);
        auto frac = text.substr(point + 1);
        if (!all_digits(whole) || !all_digits(frac) || whole.size() + frac.size() == 0)
            return std::nullopt;
        digits.append(whole).append(frac);
        fraction = static_cast<std::int64_t>(frac.size());
    } else {
        if (text.empty() || !all_digits(text)) return std::nullopt;
        digits.assign(text);
    }
    const std::int64_t scale = fraction - exponent;
    if (scale < std::numeric_limits<std::int32_t>::min() ||
        scale > std::numeric_limits<std::int32_t>::max())
        return std::nullopt;
    auto unscaled = varint::from_string(std::string(sign) + digits);
    if (!unscaled) return std::nullopt;
    return decimal(std::move(*unscaled), static_cast<std::int32_t>(scale));
}

std::string decimal::to_string() const {
    std::string digits = unscaled_.to_string();
    std::string sign;
    if (digits[0] == '-') {
        sign = "-";
        digits.erase(0, 1);
    }
    const std::int64_t scale = scale_;
    const auto n = static_cast<std::int64_t>(digits.size());
    // A negative scale (and a long run of leading zeros) is written with an exponent, so that
    // the text reads back with the same scale.
    if (scale < 0 || scale - n > max_plain_zeros) {
        const std::int64_t exponent = -scale;
        return sign + digits + "E" + (exponent >= 0 ? "+" : "") + std::to_string(exponent);
    }
    if (scale == 0) return sign + digits;
    if (n > scale) {
        digits.insert(static_cast<std::size_t>(n - scale), ".");
        return sign + digits;
    }
    return sign + "0." + std::string(static_cast<std::size_t>(scale - n), '0') + digits;
}

double decimal::to_double() const {
    return std::strtod(to_string().c_str(), nullptr);
}

std::optional<varint> decimal::integral_part() const {
    std::string digits = unscaled_.to_string();
    if (digits == "0") return varint{};
    if (scale_ <= 0) {
        if (-static_cast<std::int64_t>(scale_) > 100) return std::nullopt;  // beyond any integer
        return varint::from_string(digits + std::string(static_cast<std::size_t>(-scale_), '0'));
    }
    const bool minus = digits[0] == '-';
    const auto n = digits.size() - (minus ? 1 : 0);
    const auto scale = static_cast<std::size_t>(scale_);
    if (n <= scale) return std::nullopt;  // 0 < |value| < 1
    for (std::size_t i = digits.size() - scale; i < digits.size(); ++i)
        if (digits[i] != '0') return std::nullopt;
    return varint::from_string(digits.substr(0, digits.size() - scale));
}

std::strong_ordering compare(const decimal& a, const decimal& b) {
    const auto zero = varint{};
    const int sa = a.unscaled_ == zero ? 0 : (a.unscaled_.negative() ? -1 : 1);
    const int sb = b.unscaled_ == zero ? 0 : (b.unscaled_.negative() ? -1 : 1);
    if (sa != sb) return sa <=> sb;
    if (sa == 0) return std::strong_ordering::equal;
    // Same sign: compare magnitudes as 0.DIGITS x 10^position.
    auto magnitude = [](const decimal& d) {
        std::string s = d.unscaled_.to_string();
        if (s[0] == '-') s.erase(0, 1);
        const std::int64_t position = static_cast<std::int64_t>(s.size()) - d.scale_;
        while (s.size() > 1 && s.back() == '0')
            s.pop_back();
        return std::pair(position, s);
    };
    auto [pa, da] = magnitude(a);
    auto [pb, db] = magnitude(b);
    auto by_magnitude =
        pa != pb ? pa <=> pb : da <=> db;  // (equal positions: digits, left to right)
    if (sa < 0) return 0 <=> by_magnitude;
    return by_magnitude;
}

}  // namespace cql
