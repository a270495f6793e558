#pragma once
// Readable names of the C++ types that bind to and read from CQL values, for error
// messages ("std::string", "std::optional<std::int64_t>", "std::map<std::string, double>").

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "cql/date_time.hpp"
#include "cql/decimal.hpp"
#include "cql/inet.hpp"
#include "cql/protocol/bytes.hpp"
#include "cql/protocol/cells.hpp"
#include "cql/protocol/value.hpp"
#include "cql/varint.hpp"

/// \cond internal
namespace cql::detail {

template <class T>
struct type_name_of {
    static std::string get() {
        if constexpr (std::is_same_v<T, bool>)
            return "bool";
        else if constexpr (std::is_same_v<T, char>)
            return "char";
        else if constexpr (std::is_integral_v<T>)
            return std::string(std::is_signed_v<T> ? "std::int" : "std::uint") +
                   std::to_string(8 * sizeof(T)) + "_t";
        else if constexpr (std::is_same_v<T, float>)
            return "float";
        else if constexpr (std::is_same_v<T, double>)
            return "double";
        else if constexpr (std::is_same_v<T, std::string>)
            return "std::string";
        else if constexpr (std::is_same_v<T, std::string_view> || std::is_same_v<T, const char*> ||
                           std::is_same_v<T, char*> ||
                           std::is_same_v<std::remove_cv_t<std::remove_extent_t<T>>, char>)
            return "a string";
        else if constexpr (std::is_same_v<T, protocol::bytes_view>)
            return "cql::protocol::bytes_view";
        else if constexpr (std::is_same_v<T, protocol::inet_address>)
            return "cql::inet_address";
        else if constexpr (std::is_same_v<T, protocol::cql_date>)
            return "cql::date";
        else if constexpr (std::is_same_v<T, protocol::cql_time>)
            return "cql::time_of_day";
        else if constexpr (std::is_same_v<T, protocol::cql_timestamp>)
            return "cql::timestamp";
        else if constexpr (std::is_same_v<T, protocol::cql_duration>)
            return "cql::duration";
        else if constexpr (std::is_same_v<T, protocol::varint_view>)
            return "cql::protocol::varint_view";
        else if constexpr (std::is_same_v<T, protocol::decimal_view>)
            return "cql::protocol::decimal_view";
        else if constexpr (std::is_same_v<T, protocol::value>)
            return "cql::protocol::value";
        else if constexpr (std::is_same_v<T, varint>)
            return "cql::varint";
        else if constexpr (std::is_same_v<T, decimal>)
            return "cql::decimal";
        else if constexpr (std::is_same_v<T, boost::asio::ip::address>)
            return "boost::asio::ip::address";
        else if constexpr (std::is_same_v<T, boost::asio::ip::address_v4>)
            return "boost::asio::ip::address_v4";
        else if constexpr (std::is_same_v<T, boost::asio::ip::address_v6>)
            return "boost::asio::ip::address_v6";
        else if constexpr (std::is_same_v<T, std::chrono::sys_days>)
            return "std::chrono::sys_days";
        else if constexpr (std::is_same_v<T, std::chrono::year_month_day>)
            return "std::chrono::year_month_day";
        else if constexpr (std::is_same_v<T, std::chrono::hh_mm_ss<std::chrono::nanoseconds>>)
            return "std::chrono::hh_mm_ss<std::chrono::nanoseconds>";
        else if constexpr (requires { typename T::clock; })
            return "a std::chrono time point";
        else
            return "a C++ value";
    }
};
template <class T>
std::string type_name() {
    return type_name_of<std::remove_cvref_t<T>>::get();
}

template <class T>
struct type_name_of<std::optional<T>> {
    static std::string get() { return "std::optional<" + type_name<T>() + ">"; }
};
template <class T, class A>
struct type_name_of<std::vector<T, A>> {
    static std::string get() {
        if constexpr (std::is_same_v<std::vector<T, A>, protocol::byte_buffer>)
            return "cql::protocol::byte_buffer";
        else
            return "std::vector<" + type_name<T>() + ">";
    }
};
template <class T, class C, class A>
struct type_name_of<std::set<T, C, A>> {
    static std::string get() { return "std::set<" + type_name<T>() + ">"; }
};
template <class K, class V, class C, class A>
struct type_name_of<std::map<K, V, C, A>> {
    static std::string get() { return "std::map<" + type_name<K>() + ", " + type_name<V>() + ">"; }
};
template <class T, std::size_t N>
struct type_name_of<std::array<T, N>> {
    static std::string get() {
        if constexpr (std::is_same_v<std::array<T, N>, protocol::uuid_bytes>)
            return "cql::uuid";
        else
            return "std::array<" + type_name<T>() + ", " + std::to_string(N) + ">";
    }
};
template <class... Ts>
struct type_name_of<std::tuple<Ts...>> {
    static std::string get() {
        std::string out = "std::tuple<";
        bool first = true;
        ((out += (first ? "" : ", ") + type_name<Ts>(), first = false), ...);
        return out + ">";
    }
};

}  // namespace cql::detail
/// \endcond
