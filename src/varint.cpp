// cql::varint: arbitrary-size integers as two's-complement big-endian bytes, with decimal
// text in and out (schoolbook arithmetic: the numbers people store are short).
#include "cql/varint.hpp"

#include <algorithm>
#include <vector>

namespace cql {
namespace {

using byte_buffer = protocol::byte_buffer;

// Drops the leading bytes that only repeat the sign (0x00 before a byte < 0x80, 0xFF before a
// byte >= 0x80): the shortest form, as Java's BigInteger.toByteArray() writes it.
void shorten(byte_buffer& b) {
    std::size_t drop = 0;
    while (drop + 1 < b.size() &&
           ((b[drop] == 0x00 && b[drop + 1] < 0x80) || (b[drop] == 0xFF && b[drop + 1] >= 0x80)))
        ++drop;
    b.erase(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(drop));
}

// Two's-complement negation in place (big-endian).
void negate(byte_buffer& b) {
    for (auto& x : b)
        x = static_cast<std::uint8_t>(~x);
    for (auto it = b.rbegin(); it != b.rend(); ++it)
        if (++*it != 0) break;
}

// Magnitude (unsigned big-endian) -> decimal digits.
std::string magnitude_to_decimal(byte_buffer mag) {
    std::string digits;
    auto nonzero = [&] { return std::any_of(mag.begin(), mag.end(), [](auto x) { return x; }); };
    while (nonzero()) {  // divide by 10^9, keep the remainder's 9 digits
        std::uint64_t rem = 0;
        for (auto& x : mag) {
            const std::uint64_t cur = (rem << 8) | x;
            x = static_cast<std::uint8_t>(cur / 1000000000);
            rem = cur % 1000000000;
        }
        for (int i = 0; i < 9; ++i) {
            digits.push_back(static_cast<char>('0' + rem % 10));
            rem /= 10;
        }
    }
    while (digits.size() > 1 && digits.back() == '0')
        digits.pop_back();
    if (digits.empty()) digits = "0";
    std::reverse(digits.begin(), digits.end());
    return digits;
}

}  // namespace

void varint::assign_signed(std::int64_t v) {
    bytes_.resize(8);
    auto u = static_cast<std::uint64_t>(v);
    for (int i = 7; i >= 0; --i, u >>= 8)
        bytes_[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(u);
    shorten(bytes_);
}

void varint::assign_unsigned(std::uint64_t v) {
    bytes_.resize(9);
    bytes_[0] = 0;
    for (int i = 8; i >= 1; --i, v >>= 8)
        bytes_[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    shorten(bytes_);
}

std::optional<varint> varint::from_bytes(protocol::bytes_view b) {
    if (b.empty()) return std::nullopt;
    varint v;
    v.bytes_.assign(b.begin(), b.end());
    shorten(v.bytes_);
    return v;
}

std::optional<varint> varint::from_string(std::string_view text) {
    bool minus = false;
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
        minus = text[0] == '-';
        text.remove_prefix(1);
    }
    if (text.empty()) return std::nullopt;
    // Little-endian magnitude in base 256: times 10, plus the digit.
    std::vector<std::uint8_t> mag;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        unsigned carry = static_cast<unsigned>(c - '0');
        for (auto& x : mag) {
            const unsigned cur = x * 10u + carry;
            x = static_cast<std::uint8_t>(cur);
            carry = cur >> 8;
        }
        if (carry) mag.push_back(static_cast<std::uint8_t>(carry));
    }
    varint v;
    v.bytes_.assign(mag.rbegin(), mag.rend());
    v.bytes_.insert(v.bytes_.begin(), 0);  // a sign byte: the magnitude is non-negative
    if (minus) negate(v.bytes_);
    shorten(v.bytes_);
    return v;
}

std::string varint::to_string() const {
    byte_buffer mag = bytes_;
    if (negative()) negate(mag);  // (the most negative value's magnitude still fits: unsigned)
    auto digits = magnitude_to_decimal(std::move(mag));
    return negative() ? "-" + digits : digits;
}

bool varint::to_int64(std::int64_t& out) const noexcept {
    if (bytes_.size() > 8) return false;
    std::uint64_t u = negative() ? ~std::uint64_t{0} : 0;
    for (auto x : bytes_)
        u = (u << 8) | x;
    out = static_cast<std::int64_t>(u);
    return true;
}

bool varint::to_uint64(std::uint64_t& out) const noexcept {
    if (negative() || bytes_.size() > 9 || (bytes_.size() == 9 && bytes_[0] != 0)) return false;
    std::uint64_t u = 0;
    for (auto x : bytes_)
        u = (u << 8) | x;
    out = u;
    return true;
}

std::strong_ordering operator<=>(const varint& a, const varint& b) noexcept {
    if (a.negative() != b.negative())
        return a.negative() ? std::strong_ordering::less : std::strong_ordering::greater;
    // Same sign, shortest forms: more bytes is further from zero.
    if (a.bytes_.size() != b.bytes_.size()) {
        const bool longer = a.bytes_.size() > b.bytes_.size();
        return longer != a.negative() ? std::strong_ordering::greater : std::strong_ordering::less;
    }
    // Same length and sign: two's-complement bytes order as the values do.
    return std::lexicographical_compare_three_way(a.bytes_.begin(), a.bytes_.end(),
                                                  b.bytes_.begin(), b.bytes_.end());
}

}  // namespace cql
