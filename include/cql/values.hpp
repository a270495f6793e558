#pragma once
/// \file
/// Collections, tuples, user-defined types and vectors as C++ types, on top of the scalar
/// codecs of protocol/cells.hpp (integers of exact width, float, double, bool, strings,
/// bytes, uuid, inet, date/time/timestamp, duration, varint, decimal) and of the value types
/// in cql:: (cql::varint, cql::decimal, Asio addresses for inet, std::chrono types for
/// timestamp, date and time: varint.hpp, decimal.hpp, inet.hpp, date_time.hpp):
///
///   CQL                        C++ (bind and read)
///   list<T>                    std::vector<T>        (reads a set column too)
///   set<T>                     std::set<T>           (reads a list column too)
///   map<K, V>                  std::map<K, V>
///   tuple<A, B, ...>           std::tuple<A, B, ...> (std::optional<X> for a null field)
///   user type {a, b, ...}      std::tuple<...>       (fields in declaration order; fields the
///                                                    cell lacks, added later, read as null)
///   vector<T, N>               std::array<T, N>      (a dimension mismatch is an error)
///   user type                  a mapped struct       (cql/mapping/struct_codec.hpp)
///
/// Elements nest (std::map<std::string, std::vector<std::int32_t>>, ...). Reading checks the
/// column type at each level: a mismatch is protocol::codec_errc::value_type_mismatch,
/// never a silent conversion. Binding cannot check the column type of a simple statement
/// (the server does): bind the C++ type matching the column.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "cql/date_time.hpp"
#include "cql/decimal.hpp"
#include "cql/inet.hpp"
#include "cql/mapping/reflect.hpp"
#include "cql/protocol/bytes.hpp"
#include "cql/protocol/cells.hpp"
#include "cql/protocol/types.hpp"
#include "cql/varint.hpp"

/// \cond internal
namespace cql::detail {
// Signed integers of any spelling (long long, long, short, signed char) bind and read as the
// CQL integer of their width; character types do not.
template <class T>
inline constexpr bool is_cql_integer =
    std::is_integral_v<T>&& std::is_signed_v<T> && !std::is_same_v<T, bool> &&
    !std::is_same_v<T, char> && !std::is_same_v<T, wchar_t> && !std::is_same_v<T, char8_t> &&
    !std::is_same_v<T, char16_t> && !std::is_same_v<T, char32_t>;
template <class T>
constexpr auto exact_width(T v) noexcept {
    if constexpr (sizeof(T) == 1)
        return static_cast<std::int8_t>(v);
    else if constexpr (sizeof(T) == 2)
        return static_cast<std::int16_t>(v);
    else if constexpr (sizeof(T) == 4)
        return static_cast<std::int32_t>(v);
    else
        return static_cast<std::int64_t>(v);
}
template <class T>
using exact_width_t = decltype(exact_width(T{}));
}  // namespace cql::detail
/// \endcond

namespace cql::values {

namespace detail {
template <class T>
struct kind {
    static constexpr int value = 0;
};
template <class T, class A>
struct kind<std::vector<T, A>> {
    static constexpr int value = 1;
};
template <class T, class C, class A>
struct kind<std::set<T, C, A>> {
    static constexpr int value = 2;
};
template <class K, class V, class C, class A>
struct kind<std::map<K, V, C, A>> {
    static constexpr int value = 3;
};
template <class... Ts>
struct kind<std::tuple<Ts...>> {
    static constexpr int value = 4;
};
template <class T, std::size_t N>
struct kind<std::array<T, N>> {
    static constexpr int value = 5;
};
template <mapped_struct T>
struct kind<T> {
    static constexpr int value = 6;
};
template <class T>
struct struct_codec;  // a mapped struct as a UDT (cql/mapping/struct_codec.hpp)
// std::vector<std::uint8_t> is protocol::byte_buffer (blob), not list<tinyint>.
template <class T>
inline constexpr bool is_composite =
    kind<T>::value != 0 && !protocol::cell_type<T> && !std::is_same_v<T, protocol::byte_buffer>;
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

inline std::error_code mismatch() noexcept {
    return protocol::codec_errc::value_type_mismatch;
}
}  // namespace detail

/// A C++ type with a CQL codec: a scalar of cells.hpp or a composite above.
template <class T>
concept value_type = protocol::cell_type<T> || detail::is_composite<T>;
/// A composite (collection, tuple/UDT, vector, mapped struct) type.
template <class T>
concept composite_type = detail::is_composite<T>;

template <value_type T>
std::error_code encode(protocol::byte_writer& w, const T& v);

namespace detail {

// [bytes] element: int32 length (or -1 for null), then the bytes.
template <class T>
std::error_code write_element(protocol::byte_writer& w, const T& v) {
    if constexpr (is_optional<T>::value) {
        if (!v) {
            w.null_bytes();
            return {};
        }
        return write_element(w, *v);
    } else {
        auto at = w.reserve_i32();
        if (auto ec = encode(w, v)) {
            w.buffer().resize(at);
            return ec;
        }
        auto len = w.size() - at - 4;
        if (len > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
            w.buffer().resize(at);
            return mismatch();
        }
        w.patch_i32(at, static_cast<std::int32_t>(len));
        return {};
    }
}

template <class T>
constexpr std::size_t fixed_size() {
    if constexpr (protocol::cell_type<T>)
        return protocol::cell_codec<T>::fixed_size;
    else
        return 0;
}

}  // namespace detail

/// The cell bytes of `v` (no length prefix). On error nothing is written.
template <value_type T>
std::error_code encode(protocol::byte_writer& w, const T& v) {
    if constexpr (protocol::cell_type<T>) {
        return protocol::encode_cell(w, v);
    } else {
        const auto start = w.size();
        std::error_code ec;
        constexpr int k = detail::kind<T>::value;
        if constexpr (k == 1 || k == 2 || k == 3) {
            if (v.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
                return detail::mismatch();
            w.i32(static_cast<std::int32_t>(v.size()));
            for (const auto& e : v) {
                if constexpr (k == 3) {
                    if ((ec = detail::write_element(w, e.first))) break;
                    if ((ec = detail::write_element(w, e.second))) break;
                } else {
                    if ((ec = detail::write_element(w, e))) break;
                }
            }
        } else if constexpr (k == 4) {
            std::apply(
                [&](const auto&... f) {
                    ((ec ? void() : void(ec = detail::write_element(w, f))), ...);
                },
                v);
        } else if constexpr (k == 6) {
            ec = detail::struct_codec<T>::encode(w, v);
        } else if constexpr (k == 5) {
            using E = typename T::value_type;
            for (const auto& e : v) {
                if constexpr (detail::fixed_size<E>() != 0) {
                    if ((ec = encode(w, e))) break;
                } else {  // variable-size elements: [unsigned vint] length, then the bytes
                    protocol::byte_buffer tmp;
                    protocol::byte_writer tw(tmp);
                    if ((ec = encode(tw, e))) break;
                    w.unsigned_vint(tmp.size());
                    w.raw(tmp);
                }
            }
        }
        if (ec) w.buffer().resize(start);
        return ec;
    }
}

/// True when a value of C++ type T can be bound to (and read from) a column of type `t`:
/// the checks decode() makes at each level, without a value. std::optional<T> as T.
template <class T>
bool accepts(const protocol::data_type& t) {
    if constexpr (detail::is_optional<T>::value) {
        return accepts<typename T::value_type>(t);
    } else if constexpr (protocol::cell_type<T>) {
        return protocol::cell_accepts<T>(t);
    } else if constexpr (detail::is_composite<T>) {
        using protocol::type_id;
        if (t.id == type_id::custom) return accepts<T>(protocol::resolve_custom(t));
        constexpr int k = detail::kind<T>::value;
        if constexpr (k == 1 || k == 2) {
            return (t.id == type_id::list || t.id == type_id::set) && t.params.size() == 1 &&
                   accepts<typename T::value_type>(t.params[0]);
        } else if constexpr (k == 3) {
            return t.id == type_id::map && t.params.size() == 2 &&
                   accepts<typename T::key_type>(t.params[0]) &&
                   accepts<typename T::mapped_type>(t.params[1]);
        } else if constexpr (k == 4) {
            constexpr std::size_t n = std::tuple_size_v<T>;
            // A user type may have fields added after T was written: they bind as null.
            const bool shape = (t.id == type_id::tuple && t.params.size() == n) ||
                               (t.id == type_id::udt && t.params.size() >= n);
            if (!shape) return false;
            return [&]<std::size_t... I>(std::index_sequence<I...>) {
                return (accepts<std::tuple_element_t<I, T>>(t.params[I]) && ...);
            }
            (std::make_index_sequence<n>{});
        } else {
            return t.id == type_id::vector && t.dimension == std::tuple_size_v<T> &&
                   t.params.size() == 1 && accepts<typename T::value_type>(t.params[0]);
        }
    } else {
        return false;
    }
}

template <value_type T>
std::error_code decode(const protocol::data_type* t, protocol::bytes_view cell, T& out);

namespace detail {

inline bool is(const protocol::data_type* t, protocol::type_id id) {
    return t->id == id;
}

// Reads one [bytes] element into T (std::optional<T> for a nullable one).
template <class T>
std::error_code read_element(protocol::byte_reader& r, const protocol::data_type* t, T& out) {
    auto b = r.bytes();
    if (!r.ok()) return mismatch();
    if constexpr (is_optional<T>::value) {
        if (!b) {
            out.reset();
            return {};
        }
        typename T::value_type v{};
        if (auto ec = decode(t, *b, v)) return ec;
        out = std::move(v);
        return {};
    } else {
        if (!b) return mismatch();  // null element into a non-optional
        return decode(t, *b, out);
    }
}

}  // namespace detail

/// Decodes non-null cell bytes into `out`, checking them against `t` (nullptr: no
/// metadata, bytes only).
template <value_type T>
std::error_code decode(const protocol::data_type* t, protocol::bytes_view cell, T& out) {
    if constexpr (protocol::cell_type<T>) {
        return t ? protocol::decode_cell(*t, cell, out) : protocol::decode_cell(cell, out);
    } else {
        using protocol::type_id;
        constexpr int k = detail::kind<T>::value;
        protocol::data_type resolved;
        if (t && t->id == type_id::custom) {
            resolved = protocol::resolve_custom(*t);
            t = &resolved;
        }
        protocol::byte_reader r(cell);
        if constexpr (k == 1 || k == 2 || k == 3) {
            if (t) {
                const bool ok =
                    k == 3 ? detail::is(t, type_id::map) && t->params.size() == 2
                           : (detail::is(t, type_id::list) || detail::is(t, type_id::set)) &&
                                 t->params.size() == 1;
                if (!ok) return detail::mismatch();
            }
            auto n = r.i32();
            if (!r.ok() || n < 0) return detail::mismatch();
            out.clear();
            for (std::int32_t i = 0; i < n; ++i) {
                if constexpr (k == 3) {
                    typename T::key_type key{};
                    typename T::mapped_type val{};
                    if (auto ec = detail::read_element(r, t ? &t->params[0] : nullptr, key))
                        return ec;
                    if (auto ec = detail::read_element(r, t ? &t->params[1] : nullptr, val))
                        return ec;
                    out.emplace(std::move(key), std::move(val));
                } else {
                    typename T::value_type e{};
                    if (auto ec = detail::read_element(r, t ? &t->params[0] : nullptr, e))
                        return ec;
                    if constexpr (k == 1)
                        out.push_back(std::move(e));
                    else
                        out.insert(std::move(e));
                }
            }
        } else if constexpr (k == 4) {
            constexpr std::size_t n = std::tuple_size_v<T>;
            if (t) {
                if (!detail::is(t, type_id::tuple) && !detail::is(t, type_id::udt))
                    return detail::mismatch();
                if (t->params.size() != n) return detail::mismatch();
            }
            std::error_code ec;
            std::size_t i = 0;
            std::apply(
                [&](auto&... f) {
                    auto one = [&](auto& field) {
                        if (ec) return;
                        const protocol::data_type* ft = t ? &t->params[i] : nullptr;
                        ++i;
                        if (r.remaining() == 0 && t && detail::is(t, type_id::udt)) {
                            // a field added after this value was written: null
                            if constexpr (detail::is_optional<std::decay_t<decltype(field)>>::value)
                                field.reset();
                            else
                                ec = detail::mismatch();
                            return;
                        }
                        ec = detail::read_element(r, ft, field);
                    };
                    (one(f), ...);
                },
                out);
            if (ec) return ec;
        } else if constexpr (k == 5) {
            using E = typename T::value_type;
            constexpr std::size_t n = std::tuple_size_v<T>;
            if (t &&
                (!detail::is(t, type_id::vector) || t->dimension != n || t->params.size() != 1))
                return detail::mismatch();
            const protocol::data_type* et = t ? &t->params[0] : nullptr;
            for (std::size_t i = 0; i < n; ++i) {
                protocol::bytes_view b;
                if constexpr (detail::fixed_size<E>() != 0) {
                    b = r.raw(detail::fixed_size<E>());
                } else {
                    auto len = r.unsigned_vint();
                    if (!r.ok() || len > r.remaining()) return detail::mismatch();
                    b = r.raw(static_cast<std::size_t>(len));
                }
                if (!r.ok()) return detail::mismatch();
                if (auto ec = decode(et, b, out[i])) return ec;
            }
        } else if constexpr (k == 6) {
            if (auto ec = detail::struct_codec<T>::decode(t, r, out)) return ec;
        }
        if (!r.ok() || r.remaining() != 0) return detail::mismatch();
        return {};
    }
}

}  // namespace cql::values

#include "cql/mapping/struct_codec.hpp"
