// Dynamically typed CQL values: decoding, encoding, validation, ordering and literals,
// per native_protocol_v5.spec section 6 ("Data Type Serialization Formats").
#include "cql/protocol/value.hpp"

#include "cql/protocol/cells.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace cql::protocol {

namespace {

constexpr codec_errc mismatch = codec_errc::value_type_mismatch;
constexpr std::int64_t max_time_ns = 86399999999999;

// A custom type whose class names a type we know (DurationType in protocol v4, a
// VectorType, ...) is handled as that type; any other custom type is a blob.
const data_type& resolve(const data_type& t, data_type& tmp) {
    if (t.id != type_id::custom) return t;
    if (parse_marshal_class(t.custom_class, tmp) || tmp.id == type_id::custom) return t;
    return tmp;
}

// Cassandra accepts an empty cell ("empty value") for most types; it is neither a
// value of the type nor null on the wire, and we decode it as null.
bool empty_is_null(type_id id) noexcept {
    return id != type_id::ascii && id != type_id::varchar && id != type_id::blob &&
           id != type_id::custom;
}

type_id resolved_id(const data_type& t) {
    data_type tmp;
    return resolve(t, tmp).id;
}

std::uint64_t load_be(bytes_view b) noexcept {
    std::uint64_t v = 0;
    for (auto c : b)
        v = (v << 8) | c;
    return v;
}

// Drops redundant leading sign bytes of a two's-complement big-endian integer.
bytes_view shortest_varint(bytes_view b) noexcept {
    std::size_t i = 0;
    while (i + 1 < b.size() &&
           ((b[i] == 0x00 && (b[i + 1] & 0x80) == 0) || (b[i] == 0xFF && (b[i + 1] & 0x80) != 0)))
        ++i;
    return b.subspan(i);
}

bool durations_signs_agree(std::int64_t months, std::int64_t days, std::int64_t nanos) noexcept {
    bool any_neg = months < 0 || days < 0 || nanos < 0;
    bool any_pos = months > 0 || days > 0 || nanos > 0;
    return !(any_neg && any_pos);
}

// --------------------------------------------------------------------------------
// Decoding (and validation, when out is null).

std::error_code decode_impl(const data_type& t0, bytes_view cell, value* out, int depth);

std::error_code decode_element(const data_type& t, byte_reader& r, value* out, int depth,
                               bool allow_null) {
    auto n = r.i32();
    if (!r.ok()) return mismatch;
    if (n < 0) {
        if (!allow_null || n != -1) return mismatch;
        if (out) *out = value{};
        return {};
    }
    auto b = r.raw(static_cast<std::size_t>(n));
    if (!r.ok()) return mismatch;
    // An empty cell of a non-string type decodes as null: not allowed where null is not.
    if (!allow_null && b.empty() && empty_is_null(resolved_id(t))) return mismatch;
    return decode_impl(t, b, out, depth + 1);
}

std::error_code decode_impl(const data_type& t0, bytes_view cell, value* out, int depth) {
    if (depth > max_type_depth) return codec_errc::type_nesting_too_deep;
    data_type tmp;
    const data_type& t = resolve(t0, tmp);
    const std::size_t n = cell.size();
    if (n == 0 && empty_is_null(t.id)) {
        if (out) *out = value{};
        return {};
    }
    auto fixed_int = [&](std::size_t size, auto narrow) -> std::error_code {
        if (n != size) return mismatch;
        if (out) out->v = static_cast<std::int64_t>(narrow(load_be(cell)));
        return {};
    };
    switch (t.id) {
        case type_id::ascii:
            if (!is_valid_ascii(cell)) return mismatch;
            if (out) out->v = std::string(as_string_view(cell));
            return {};
        case type_id::varchar:
            if (!is_valid_utf8(cell)) return mismatch;
            if (out) out->v = std::string(as_string_view(cell));
            return {};
        case type_id::blob:
        case type_id::custom:
            if (out) out->v = byte_buffer(cell.begin(), cell.end());
            return {};
        case type_id::boolean:
            if (n != 1) return mismatch;
            if (out) out->v = cell[0] != 0;
            return {};
        case type_id::tinyint:
            return fixed_int(1, [](std::uint64_t v) { return static_cast<std::int8_t>(v); });
        case type_id::smallint:
            return fixed_int(2, [](std::uint64_t v) { return static_cast<std::int16_t>(v); });
        case type_id::int_:
            return fixed_int(4, [](std::uint64_t v) { return static_cast<std::int32_t>(v); });
        case type_id::bigint:
        case type_id::counter:
        case type_id::timestamp:
            return fixed_int(8, [](std::uint64_t v) { return static_cast<std::int64_t>(v); });
        case type_id::date:
            return fixed_int(4, [](std::uint64_t v) { return static_cast<std::uint32_t>(v); });
        case type_id::time: {
            if (n != 8) return mismatch;
            auto v = static_cast<std::int64_t>(load_be(cell));
            if (v < 0 || v > max_time_ns) return mismatch;
            if (out) out->v = v;
            return {};
        }
        case type_id::float_:
            if (n != 4) return mismatch;
            if (out) out->v = std::bit_cast<float>(static_cast<std::uint32_t>(load_be(cell)));
            return {};
        case type_id::double_:
            if (n != 8) return mismatch;
            if (out) out->v = std::bit_cast<double>(load_be(cell));
            return {};
        case type_id::uuid:
        case type_id::timeuuid: {
            if (n != 16) return mismatch;
            if (t.id == type_id::timeuuid && (cell[6] >> 4) != 1) return mismatch;
            if (out) {
                uuid_bytes u{};
                std::memcpy(u.data(), cell.data(), 16);
                out->v = u;
            }
            return {};
        }
        case type_id::inet: {
            if (n != 4 && n != 16) return mismatch;
            if (out) {
                inet_address a;
                a.size = static_cast<std::uint8_t>(n);
                std::memcpy(a.bytes.data(), cell.data(), n);
                out->v = a;
            }
            return {};
        }
        case type_id::varint: {
            if (out) {
                auto s = shortest_varint(cell);
                out->v = cql_varint{byte_buffer(s.begin(), s.end())};
            }
            return {};
        }
        case type_id::decimal: {
            if (n < 5) return mismatch;
            if (out) {
                auto s = shortest_varint(cell.subspan(4));
                cql_decimal d;
                d.scale = static_cast<std::int32_t>(load_be(cell.first(4)));
                d.unscaled.bytes.assign(s.begin(), s.end());
                out->v = std::move(d);
            }
            return {};
        }
        case type_id::duration: {
            byte_reader r(cell);
            auto months = r.vint();
            auto days = r.vint();
            auto nanos = r.vint();
            if (r.finish()) return mismatch;
            if (months < std::numeric_limits<std::int32_t>::min() ||
                months > std::numeric_limits<std::int32_t>::max() ||
                days < std::numeric_limits<std::int32_t>::min() ||
                days > std::numeric_limits<std::int32_t>::max())
                return mismatch;
            if (!durations_signs_agree(months, days, nanos)) return mismatch;
            if (out)
                out->v = cql_duration{static_cast<std::int32_t>(months),
                                      static_cast<std::int32_t>(days), nanos};
            return {};
        }
        case type_id::list:
        case type_id::set: {
            if (t.params.size() != 1) return mismatch;
            byte_reader r(cell);
            auto count = r.i32();
            if (!r.ok() || count < 0 || !r.plausible_count(static_cast<std::size_t>(count), 4))
                return mismatch;
            value_list list;
            if (out) list.resize(static_cast<std::size_t>(count));
            for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i)
                if (auto ec =
                        decode_element(t.params[0], r, out ? &list[i] : nullptr, depth, false))
                    return ec;
            if (r.finish()) return mismatch;
            if (out) out->v = std::move(list);
            return {};
        }
        case type_id::map: {
            if (t.params.size() != 2) return mismatch;
            byte_reader r(cell);
            auto count = r.i32();
            if (!r.ok() || count < 0 || !r.plausible_count(static_cast<std::size_t>(count), 8))
                return mismatch;
            value_map map;
            if (out) map.resize(static_cast<std::size_t>(count));
            for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i) {
                if (auto ec =
                        decode_element(t.params[0], r, out ? &map[i].first : nullptr, depth, false))
                    return ec;
                if (auto ec = decode_element(t.params[1], r, out ? &map[i].second : nullptr, depth,
                                             false))
                    return ec;
            }
            if (r.finish()) return mismatch;
            if (out) out->v = std::move(map);
            return {};
        }
        case type_id::tuple:
        case type_id::udt: {
            byte_reader r(cell);
            value_list list;
            if (out) list.resize(t.params.size());
            for (std::size_t i = 0; i < t.params.size(); ++i) {
                // A UDT value may stop before its last fields (added by ALTER TYPE later).
                if (t.id == type_id::udt && r.remaining() == 0) break;
                if (auto ec = decode_element(t.params[i], r, out ? &list[i] : nullptr, depth, true))
                    return ec;
            }
            if (r.finish()) return mismatch;
            if (out) out->v = std::move(list);
            return {};
        }
        case type_id::vector: {
            if (t.params.size() != 1 || t.dimension == 0) return mismatch;
            const auto& elem = t.params[0];
            const std::size_t dim = t.dimension;
            value_list list;
            auto esize = fixed_value_size(elem);
            if (esize != 0) {
                if (n / esize != dim || n % esize != 0) return mismatch;
                if (out) list.resize(dim);
                for (std::size_t i = 0; i < dim; ++i) {
                    auto b = cell.subspan(i * esize, esize);
                    if (auto ec = decode_impl(elem, b, out ? &list[i] : nullptr, depth + 1))
                        return ec;
                }
            } else {
                // Every element takes at least its one-byte length.
                if (dim > n) return mismatch;
                byte_reader r(cell);
                if (out) list.resize(dim);
                for (std::size_t i = 0; i < dim; ++i) {
                    auto len = r.unsigned_vint();
                    if (!r.ok() || len > r.remaining()) return mismatch;
                    auto b = r.raw(static_cast<std::size_t>(len));
                    if (b.empty() && empty_is_null(resolved_id(elem))) return mismatch;
                    if (auto ec = decode_impl(elem, b, out ? &list[i] : nullptr, depth + 1))
                        return ec;
                }
                if (r.finish()) return mismatch;
            }
            if (out) out->v = std::move(list);
            return {};
        }
    }
    return mismatch;
}

// --------------------------------------------------------------------------------
// Encoding.

std::error_code encode_impl(const data_type& t0, const value& v, byte_buffer& out, int depth);

template <class T>
const T* get(const value& v) noexcept {
    return std::get_if<T>(&v.v);
}

std::error_code encode_element(const data_type& t, const value& v, byte_buffer& out, int depth,
                               bool allow_null) {
    byte_writer w(out);
    if (v.is_null()) {
        if (!allow_null) return mismatch;
        w.i32(-1);
        return {};
    }
    auto at = w.reserve_i32();
    if (auto ec = encode_impl(t, v, out, depth + 1)) return ec;
    auto len = out.size() - at - 4;
    if (len > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) return mismatch;
    w.patch_i32(at, static_cast<std::int32_t>(len));
    return {};
}

std::error_code encode_int(const value& v, std::int64_t lo, std::int64_t hi, std::size_t size,
                           byte_buffer& out) {
    auto* p = get<std::int64_t>(v);
    if (!p || *p < lo || *p > hi) return mismatch;
    auto u = static_cast<std::uint64_t>(*p);
    for (std::size_t i = 0; i < size; ++i)
        out.push_back(static_cast<std::uint8_t>(u >> (8 * (size - 1 - i))));
    return {};
}

std::error_code encode_impl(const data_type& t0, const value& v, byte_buffer& out, int depth) {
    if (depth > max_type_depth) return codec_errc::type_nesting_too_deep;
    data_type tmp;
    const data_type& t = resolve(t0, tmp);
    byte_writer w(out);
    switch (t.id) {
        case type_id::ascii:
        case type_id::varchar: {
            auto* s = get<std::string>(v);
            if (!s) return mismatch;
            if (t.id == type_id::ascii ? !is_valid_ascii(as_bytes(*s))
                                       : !is_valid_utf8(as_bytes(*s)))
                return mismatch;
            w.raw(*s);
            return {};
        }
        case type_id::blob:
        case type_id::custom: {
            auto* b = get<byte_buffer>(v);
            if (!b) return mismatch;
            w.raw(*b);
            return {};
        }
        case type_id::boolean: {
            auto* b = get<bool>(v);
            if (!b) return mismatch;
            w.u8(*b ? 1 : 0);
            return {};
        }
        case type_id::tinyint:
            return encode_int(v, -128, 127, 1, out);
        case type_id::smallint:
            return encode_int(v, -32768, 32767, 2, out);
        case type_id::int_:
            return encode_int(v, std::numeric_limits<std::int32_t>::min(),
                              std::numeric_limits<std::int32_t>::max(), 4, out);
        case type_id::bigint:
        case type_id::counter:
        case type_id::timestamp:
            return encode_int(v, std::numeric_limits<std::int64_t>::min(),
                              std::numeric_limits<std::int64_t>::max(), 8, out);
        case type_id::date:
            return encode_int(v, 0, std::numeric_limits<std::uint32_t>::max(), 4, out);
        case type_id::time:
            return encode_int(v, 0, max_time_ns, 8, out);
        case type_id::float_: {
            float f;
            if (auto* p = get<float>(v))
                f = *p;
            else if (auto* d = get<double>(v))
                f = static_cast<float>(*d);
            else
                return mismatch;
            w.u32(std::bit_cast<std::uint32_t>(f));
            return {};
        }
        case type_id::double_: {
            double d;
            if (auto* p = get<double>(v))
                d = *p;
            else if (auto* f = get<float>(v))
                d = *f;
            else
                return mismatch;
            w.i64(std::bit_cast<std::int64_t>(d));
            return {};
        }
        case type_id::uuid:
        case type_id::timeuuid: {
            auto* u = get<uuid_bytes>(v);
            if (!u) return mismatch;
            if (t.id == type_id::timeuuid && ((*u)[6] >> 4) != 1) return mismatch;
            w.uuid(*u);
            return {};
        }
        case type_id::inet: {
            auto* a = get<inet_address>(v);
            if (!a || (a->size != 4 && a->size != 16)) return mismatch;
            w.raw(a->address());
            return {};
        }
        case type_id::varint: {
            auto* p = get<cql_varint>(v);
            if (!p || p->bytes.empty()) return mismatch;
            w.raw(shortest_varint(p->bytes));
            return {};
        }
        case type_id::decimal: {
            auto* p = get<cql_decimal>(v);
            if (!p || p->unscaled.bytes.empty()) return mismatch;
            w.i32(p->scale);
            w.raw(shortest_varint(p->unscaled.bytes));
            return {};
        }
        case type_id::duration: {
            auto* p = get<cql_duration>(v);
            if (!p || !durations_signs_agree(p->months, p->days, p->nanoseconds)) return mismatch;
            w.vint(p->months);
            w.vint(p->days);
            w.vint(p->nanoseconds);
            return {};
        }
        case type_id::list:
        case type_id::set: {
            auto* l = get<value_list>(v);
            if (!l || t.params.size() != 1 ||
                l->size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
                return mismatch;
            w.i32(static_cast<std::int32_t>(l->size()));
            for (const auto& e : *l)
                if (auto ec = encode_element(t.params[0], e, out, depth, false)) return ec;
            return {};
        }
        case type_id::map: {
            auto* m = get<value_map>(v);
            if (!m || t.params.size() != 2 ||
                m->size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
                return mismatch;
            w.i32(static_cast<std::int32_t>(m->size()));
            for (const auto& [k, e] : *m) {
                if (auto ec = encode_element(t.params[0], k, out, depth, false)) return ec;
                if (auto ec = encode_element(t.params[1], e, out, depth, false)) return ec;
            }
            return {};
        }
        case type_id::tuple:
        case type_id::udt: {
            auto* l = get<value_list>(v);
            if (!l) return mismatch;
            if (t.id == type_id::tuple ? l->size() != t.params.size() : l->size() > t.params.size())
                return mismatch;
            for (std::size_t i = 0; i < l->size(); ++i)
                if (auto ec = encode_element(t.params[i], (*l)[i], out, depth, true)) return ec;
            return {};
        }
        case type_id::vector: {
            auto* l = get<value_list>(v);
            if (!l || t.params.size() != 1 || l->size() != t.dimension || t.dimension == 0)
                return mismatch;
            const auto& elem = t.params[0];
            bool fixed = fixed_value_size(elem) != 0;
            byte_buffer tmp_elem;
            for (const auto& e : *l) {
                if (e.is_null()) return mismatch;
                if (fixed) {
                    if (auto ec = encode_impl(elem, e, out, depth + 1)) return ec;
                } else {
                    tmp_elem.clear();
                    if (auto ec = encode_impl(elem, e, tmp_elem, depth + 1)) return ec;
                    w.unsigned_vint(tmp_elem.size());
                    w.raw(tmp_elem);
                }
            }
            return {};
        }
    }
    return mismatch;
}

// --------------------------------------------------------------------------------
// Big integers (two's-complement big-endian) for varint/decimal ordering and printing.

struct magnitude {
    bool negative = false;
    std::vector<std::uint8_t> mag;  // big-endian, no leading zeros (empty for zero)
};

magnitude to_magnitude(bytes_view b) {
    magnitude m;
    if (b.empty()) return m;
    m.negative = (b[0] & 0x80) != 0;
    m.mag.assign(b.begin(), b.end());
    if (m.negative) {
        // Two's complement negation: invert and add one.
        for (auto& c : m.mag)
            c = static_cast<std::uint8_t>(~c);
        for (std::size_t i = m.mag.size(); i-- > 0;) {
            if (++m.mag[i] != 0) break;
        }
    }
    auto first = std::find_if(m.mag.begin(), m.mag.end(), [](std::uint8_t c) { return c != 0; });
    m.mag.erase(m.mag.begin(), first);
    if (m.mag.empty()) m.negative = false;
    return m;
}

int compare_mag(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
}

void mul_small(std::vector<std::uint8_t>& m, unsigned k) {
    unsigned carry = 0;
    for (std::size_t i = m.size(); i-- > 0;) {
        unsigned x = m[i] * k + carry;
        m[i] = static_cast<std::uint8_t>(x & 0xFF);
        carry = x >> 8;
    }
    while (carry) {
        m.insert(m.begin(), static_cast<std::uint8_t>(carry & 0xFF));
        carry >>= 8;
    }
}

// Divides in place, returns the remainder.
unsigned div_small(std::vector<std::uint8_t>& m, unsigned k) {
    std::uint64_t rem = 0;
    for (auto& c : m) {
        std::uint64_t x = (rem << 8) | c;
        c = static_cast<std::uint8_t>(x / k);
        rem = x % k;
    }
    auto first = std::find_if(m.begin(), m.end(), [](std::uint8_t c) { return c != 0; });
    m.erase(m.begin(), first);
    return static_cast<unsigned>(rem);
}

std::string mag_to_decimal(std::vector<std::uint8_t> m) {
    if (m.empty()) return "0";
    std::string digits;
    while (!m.empty()) {
        unsigned r = div_small(m, 1000000000u);
        for (int i = 0; i < 9; ++i) {
            digits.push_back(static_cast<char>('0' + r % 10));
            r /= 10;
        }
    }
    while (digits.size() > 1 && digits.back() == '0')
        digits.pop_back();
    std::reverse(digits.begin(), digits.end());
    return digits;
}

int compare_varint(bytes_view a, bytes_view b) {
    auto ma = to_magnitude(a);
    auto mb = to_magnitude(b);
    if (ma.negative != mb.negative) return ma.negative ? -1 : 1;
    int c = compare_mag(ma.mag, mb.mag);
    return ma.negative ? -c : c;
}

// Compares |a| * 10^-sa with |b| * 10^-sb for non-negative magnitudes.
int compare_scaled(std::vector<std::uint8_t> a, std::int64_t sa, std::vector<std::uint8_t> b,
                   std::int64_t sb) {
    if (a.empty() || b.empty()) return a.empty() ? (b.empty() ? 0 : -1) : 1;
    // Bring both to the larger scale by multiplying the other by ten, stopping as soon
    // as the multiplied one is certainly the larger.
    if (sa < sb) {
        for (std::int64_t i = sa; i < sb; ++i) {
            mul_small(a, 10);
            if (a.size() > b.size() + 1) return 1;
        }
    } else {
        for (std::int64_t i = sb; i < sa; ++i) {
            mul_small(b, 10);
            if (b.size() > a.size() + 1) return -1;
        }
    }
    return compare_mag(a, b);
}

int compare_decimal(const cql_decimal& a, const cql_decimal& b) {
    auto ma = to_magnitude(a.unscaled.bytes);
    auto mb = to_magnitude(b.unscaled.bytes);
    int sign_a = ma.mag.empty() ? 0 : (ma.negative ? -1 : 1);
    int sign_b = mb.mag.empty() ? 0 : (mb.negative ? -1 : 1);
    if (sign_a != sign_b) return sign_a < sign_b ? -1 : 1;
    if (sign_a == 0) return 0;
    int c = compare_scaled(std::move(ma.mag), a.scale, std::move(mb.mag), b.scale);
    return sign_a < 0 ? -c : c;
}

// --------------------------------------------------------------------------------
// Ordering.

template <class T>
int three_way(const T& a, const T& b) {
    return a < b ? -1 : (b < a ? 1 : 0);
}

template <class F>
int compare_floating(F a, F b) {
    // Java's Float.compare / Double.compare: -0.0 < 0.0, NaN above everything.
    bool na = std::isnan(a), nb = std::isnan(b);
    if (na || nb) return na == nb ? 0 : (na ? 1 : -1);
    if (a < b) return -1;
    if (a > b) return 1;
    bool sa = std::signbit(a), sb = std::signbit(b);
    return sa == sb ? 0 : (sa ? -1 : 1);
}

int compare_bytes(bytes_view a, bytes_view b) {
    auto n = std::min(a.size(), b.size());
    if (n > 0) {
        int c = std::memcmp(a.data(), b.data(), n);
        if (c != 0) return c < 0 ? -1 : 1;
    }
    return three_way(a.size(), b.size());
}

std::uint64_t uuid_timestamp(const uuid_bytes& u) {
    std::uint64_t time_low = load_be(bytes_view(u.data(), 4));
    std::uint64_t time_mid = load_be(bytes_view(u.data() + 4, 2));
    std::uint64_t time_hi = load_be(bytes_view(u.data() + 6, 2)) & 0x0FFF;
    return (time_hi << 48) | (time_mid << 32) | time_low;
}

int compare_uuid(const uuid_bytes& a, const uuid_bytes& b, bool timeuuid) {
    int va = a[6] >> 4, vb = b[6] >> 4;
    if (!timeuuid && va != vb) return three_way(va, vb);
    if (va == 1 && vb == 1) {
        int c = three_way(uuid_timestamp(a), uuid_timestamp(b));
        if (c) return c;
        if (timeuuid) {
            // Cassandra's TimeUUIDType breaks ties on the low half as signed bytes.
            for (std::size_t i = 8; i < 16; ++i) {
                int c2 = three_way(static_cast<std::int8_t>(a[i]), static_cast<std::int8_t>(b[i]));
                if (c2) return c2;
            }
            return 0;
        }
        return compare_bytes(bytes_view(a.data() + 8, 8), bytes_view(b.data() + 8, 8));
    }
    return compare_bytes(bytes_view(a.data(), 16), bytes_view(b.data(), 16));
}

int compare_impl(const data_type& t0, const value& a, const value& b, int depth);

int compare_lists(const data_type& t, const value_list& a, const value_list& b, int depth) {
    auto n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const data_type* et = nullptr;
        if (t.id == type_id::list || t.id == type_id::set || t.id == type_id::vector) {
            if (!t.params.empty()) et = &t.params[0];
        } else if (i < t.params.size()) {
            et = &t.params[i];
        }
        static const data_type blob{type_id::blob};
        int c = compare_impl(et ? *et : blob, a[i], b[i], depth + 1);
        if (c) return c;
    }
    return three_way(a.size(), b.size());
}

int compare_impl(const data_type& t0, const value& a, const value& b, int depth) {
    if (depth > max_type_depth) return 0;
    // Nulls (and empty values) sort first.
    if (a.is_null() || b.is_null()) return a.is_null() == b.is_null() ? 0 : (a.is_null() ? -1 : 1);
    if (a.v.index() != b.v.index()) return three_way(a.v.index(), b.v.index());
    data_type tmp;
    const data_type& t = resolve(t0, tmp);
    return std::visit(
        [&](const auto& x) -> int {
            using T = std::decay_t<decltype(x)>;
            const auto& y = std::get<T>(b.v);
            if constexpr (std::is_same_v<T, std::monostate>) {
                return 0;
            } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::int64_t>) {
                return three_way(x, y);
            } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
                return compare_floating(x, y);
            } else if constexpr (std::is_same_v<T, std::string>) {
                return compare_bytes(as_bytes(x), as_bytes(y));
            } else if constexpr (std::is_same_v<T, byte_buffer>) {
                return compare_bytes(x, y);
            } else if constexpr (std::is_same_v<T, uuid_bytes>) {
                return compare_uuid(x, y, t.id == type_id::timeuuid);
            } else if constexpr (std::is_same_v<T, inet_address>) {
                return compare_bytes(x.address(), y.address());
            } else if constexpr (std::is_same_v<T, cql_duration>) {
                if (int c = three_way(x.months, y.months)) return c;
                if (int c = three_way(x.days, y.days)) return c;
                return three_way(x.nanoseconds, y.nanoseconds);
            } else if constexpr (std::is_same_v<T, cql_varint>) {
                return compare_varint(x.bytes, y.bytes);
            } else if constexpr (std::is_same_v<T, cql_decimal>) {
                return compare_decimal(x, y);
            } else if constexpr (std::is_same_v<T, value_list>) {
                return compare_lists(t, x, y, depth);
            } else {  // value_map
                static const data_type blob{type_id::blob};
                const data_type& kt = t.params.size() == 2 ? t.params[0] : blob;
                const data_type& vt = t.params.size() == 2 ? t.params[1] : blob;
                auto n = std::min(x.size(), y.size());
                for (std::size_t i = 0; i < n; ++i) {
                    if (int c = compare_impl(kt, x[i].first, y[i].first, depth + 1)) return c;
                    if (int c = compare_impl(vt, x[i].second, y[i].second, depth + 1)) return c;
                }
                return three_way(x.size(), y.size());
            }
        },
        a.v);
}

// --------------------------------------------------------------------------------
// Literals.

// Days since 1970-01-01 to a civil date (proleptic Gregorian).
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) ++y;
}

void append_padded(std::string& out, std::int64_t v, int width) {
    if (v < 0) {
        out += '-';
        v = -v;
    }
    auto s = std::to_string(v);
    if (static_cast<int>(s.size()) < width)
        out.append(static_cast<std::size_t>(width) - s.size(), '0');
    out += s;
}

void append_date(std::string& out, std::int64_t days) {
    std::int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    append_padded(out, y, 4);
    out += '-';
    append_padded(out, m, 2);
    out += '-';
    append_padded(out, d, 2);
}

void append_quoted(std::string& out, std::string_view s) {
    out += '\'';
    for (char c : s) {
        if (c == '\'') out += '\'';
        out += c;
    }
    out += '\'';
}

void append_hex(std::string& out, bytes_view b) {
    constexpr char digits[] = "0123456789abcdef";
    for (auto c : b) {
        out += digits[c >> 4];
        out += digits[c & 0xF];
    }
}

template <class F>
void append_floating(std::string& out, F f) {
    if (std::isnan(f)) {
        out += "NaN";
        return;
    }
    if (std::isinf(f)) {
        out += f < 0 ? "-Infinity" : "Infinity";
        return;
    }
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, f);
    (void)ec;
    out.append(buf, p);
}

void append_inet(std::string& out, const inet_address& a) {
    if (a.size == 4) {
        for (int i = 0; i < 4; ++i) {
            if (i) out += '.';
            out += std::to_string(a.bytes[static_cast<std::size_t>(i)]);
        }
        return;
    }
    // RFC 5952: lower-case hex, the longest run (>= 2) of zero groups becomes "::".
    std::uint16_t g[8];
    for (std::size_t i = 0; i < 8; ++i)
        g[i] = static_cast<std::uint16_t>((a.bytes[2 * i] << 8) | a.bytes[2 * i + 1]);
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (g[i] != 0) {
            ++i;
            continue;
        }
        int j = i;
        while (j < 8 && g[j] == 0)
            ++j;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    if (best_len < 2) best = -1;
    char buf[8];
    for (int i = 0; i < 8; ++i) {
        if (i == best) {
            out += "::";
            i += best_len - 1;
            continue;
        }
        if (i > 0 && i != best + best_len) out += ':';
        auto [p, ec] = std::to_chars(buf, buf + sizeof buf, g[i], 16);
        (void)ec;
        out.append(buf, p);
    }
}

void append_duration(std::string& out, const cql_duration& d) {
    if (d.months == 0 && d.days == 0 && d.nanoseconds == 0) {
        out += "0s";
        return;
    }
    bool neg = d.months < 0 || d.days < 0 || d.nanoseconds < 0;
    if (neg) out += '-';
    auto months =
        static_cast<std::uint64_t>(d.months < 0 ? -static_cast<std::int64_t>(d.months) : d.months);
    auto days =
        static_cast<std::uint64_t>(d.days < 0 ? -static_cast<std::int64_t>(d.days) : d.days);
    std::uint64_t nanos = d.nanoseconds < 0 ? static_cast<std::uint64_t>(0) -
                                                  static_cast<std::uint64_t>(d.nanoseconds)
                                            : static_cast<std::uint64_t>(d.nanoseconds);
    auto part = [&](std::uint64_t v, const char* unit) {
        if (v) {
            out += std::to_string(v);
            out += unit;
        }
    };
    part(months / 12, "y");
    part(months % 12, "mo");
    part(days, "d");
    constexpr std::uint64_t ns_hour = 3600000000000ULL, ns_min = 60000000000ULL,
                            ns_s = 1000000000ULL;
    part(nanos / ns_hour, "h");
    nanos %= ns_hour;
    part(nanos / ns_min, "m");
    nanos %= ns_min;
    part(nanos / ns_s, "s");
    nanos %= ns_s;
    part(nanos / 1000000, "ms");
    nanos %= 1000000;
    part(nanos / 1000, "us");
    part(nanos % 1000, "ns");
}

void append_decimal(std::string& out, const cql_decimal& d) {
    auto m = to_magnitude(d.unscaled.bytes);
    auto digits = mag_to_decimal(std::move(m.mag));
    if (m.negative) out += '-';
    std::int64_t scale = d.scale;
    if (scale == 0) {
        out += digits;
    } else if (scale > 0 && scale <= static_cast<std::int64_t>(digits.size()) + 6) {
        auto n = static_cast<std::int64_t>(digits.size());
        if (scale >= n) {
            out += "0.";
            out.append(static_cast<std::size_t>(scale - n), '0');
            out += digits;
        } else {
            out.append(digits, 0, static_cast<std::size_t>(n - scale));
            out += '.';
            out.append(digits, static_cast<std::size_t>(n - scale));
        }
    } else {
        out += digits;
        out += 'E';
        out += std::to_string(-scale);
    }
}

bool plain_identifier(std::string_view s) {
    if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

void literal_impl(const data_type& t0, const value& v, std::string& out, int depth) {
    if (v.is_null() || depth > max_type_depth) {
        out += "null";
        return;
    }
    data_type tmp;
    const data_type& t = resolve(t0, tmp);
    static const data_type blob{type_id::blob};
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
                out += "null";
            } else if constexpr (std::is_same_v<T, bool>) {
                out += x ? "true" : "false";
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                if (t.id == type_id::timestamp) {
                    // Floor division without overflow, even for INT64_MIN.
                    auto days = x / 86400000;
                    auto ms = x % 86400000;
                    if (ms < 0) {
                        ms += 86400000;
                        --days;
                    }
                    out += '\'';
                    append_date(out, days);
                    out += ' ';
                    append_padded(out, ms / 3600000, 2);
                    out += ':';
                    append_padded(out, ms / 60000 % 60, 2);
                    out += ':';
                    append_padded(out, ms / 1000 % 60, 2);
                    out += '.';
                    append_padded(out, ms % 1000, 3);
                    out += "Z'";
                } else if (t.id == type_id::date) {
                    out += '\'';
                    append_date(out, x - (std::int64_t{1} << 31));
                    out += '\'';
                } else if (t.id == type_id::time) {
                    out += '\'';
                    append_padded(out, x / 3600000000000LL, 2);
                    out += ':';
                    append_padded(out, x / 60000000000LL % 60, 2);
                    out += ':';
                    append_padded(out, x / 1000000000LL % 60, 2);
                    out += '.';
                    append_padded(out, x % 1000000000LL, 9);
                    out += '\'';
                } else {
                    out += std::to_string(x);
                }
            } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
                append_floating(out, x);
            } else if constexpr (std::is_same_v<T, std::string>) {
                append_quoted(out, x);
            } else if constexpr (std::is_same_v<T, byte_buffer>) {
                out += "0x";
                append_hex(out, x);
            } else if constexpr (std::is_same_v<T, uuid_bytes>) {
                for (std::size_t i = 0; i < 16; ++i) {
                    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
                    append_hex(out, bytes_view(x.data() + i, 1));
                }
            } else if constexpr (std::is_same_v<T, inet_address>) {
                out += '\'';
                append_inet(out, x);
                out += '\'';
            } else if constexpr (std::is_same_v<T, cql_duration>) {
                append_duration(out, x);
            } else if constexpr (std::is_same_v<T, cql_varint>) {
                auto m = to_magnitude(x.bytes);
                if (m.negative) out += '-';
                out += mag_to_decimal(std::move(m.mag));
            } else if constexpr (std::is_same_v<T, cql_decimal>) {
                append_decimal(out, x);
            } else if constexpr (std::is_same_v<T, value_list>) {
                const bool udt = t.id == type_id::udt;
                const char* open =
                    t.id == type_id::set ? "{" : (t.id == type_id::tuple ? "(" : (udt ? "{" : "["));
                const char* close =
                    t.id == type_id::set ? "}" : (t.id == type_id::tuple ? ")" : (udt ? "}" : "]"));
                out += open;
                for (std::size_t i = 0; i < x.size(); ++i) {
                    if (i) out += ", ";
                    const data_type* et = &blob;
                    if (t.id == type_id::list || t.id == type_id::set || t.id == type_id::vector) {
                        if (!t.params.empty()) et = &t.params[0];
                    } else if (i < t.params.size()) {
                        et = &t.params[i];
                    }
                    if (udt) {
                        std::string_view name =
                            i < t.field_names.size() ? t.field_names[i] : std::string_view{};
                        if (plain_identifier(name)) {
                            out += name;
                        } else {
                            out += '"';
                            for (char c : name) {
                                if (c == '"') out += '"';
                                out += c;
                            }
                            out += '"';
                        }
                        out += ": ";
                    }
                    literal_impl(*et, x[i], out, depth + 1);
                }
                out += close;
            } else {  // value_map
                const data_type& kt = t.params.size() == 2 ? t.params[0] : blob;
                const data_type& vt = t.params.size() == 2 ? t.params[1] : blob;
                out += '{';
                for (std::size_t i = 0; i < x.size(); ++i) {
                    if (i) out += ", ";
                    literal_impl(kt, x[i].first, out, depth + 1);
                    out += ": ";
                    literal_impl(vt, x[i].second, out, depth + 1);
                }
                out += '}';
            }
        },
        v.v);
}

}  // namespace

std::error_code decode_value(const data_type& t, bytes_view cell, value& out) {
    value tmp;
    if (auto ec = decode_impl(t, cell, &tmp, 1)) return ec;
    out = std::move(tmp);
    return {};
}

std::error_code encode_value(const data_type& t, const value& v, byte_buffer& out) {
    const auto start = out.size();
    std::error_code ec = v.is_null() ? std::error_code(mismatch) : encode_impl(t, v, out, 1);
    if (ec) out.resize(start);
    return ec;
}

std::error_code validate_value(const data_type& t, bytes_view cell) {
    return decode_impl(t, cell, nullptr, 1);
}

int compare_values(const data_type& t, const value& a, const value& b) {
    return compare_impl(t, a, b, 1);
}

std::string to_cql_literal(const data_type& t, const value& v) {
    std::string out;
    literal_impl(t, v, out, 1);
    return out;
}

}  // namespace cql::protocol
