#pragma once
/// \file
/// Which C++ structs the driver maps to rows and user-defined types, and how it walks their
/// members at compile time:
///
///  - a struct described with `BOOST_DESCRIBE_STRUCT(T, (bases), (members...))` is mapped
///    **by name**: each member to the column (or UDT field) of the same name, or of the name
///    its cql::model gives it (see model.hpp);
///  - any other aggregate (no base classes, no user-declared constructors) is mapped
///    **by position** through Boost.PFR: member i to column (or field) i. Boost 1.81's PFR
///    cannot name members, so such a struct cannot describe a table (no DDL, no query
///    builder) but reads rows and binds values like a tuple of its members.
///
/// Types with a CQL codec of their own (protocol::cell_codec: inet_address, cql_duration,
/// ...) and std::array (CQL vectors) are never treated as structs.

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/describe/members.hpp>
#include <boost/describe/modifiers.hpp>
#include <boost/mp11/algorithm.hpp>
#include <boost/pfr/core.hpp>

#include "cql/protocol/cells.hpp"

namespace cql {

namespace detail {
template <class T>
struct is_std_array : std::false_type {};
template <class T, std::size_t N>
struct is_std_array<std::array<T, N>> : std::true_type {};
}  // namespace detail

/// A struct described with BOOST_DESCRIBE_STRUCT: mapped by member name.
template <class T>
concept described_struct = std::is_class_v<T> && boost::describe::has_describe_members<T>::value;

/// A plain aggregate without a description: mapped by position (Boost.PFR).
template <class T>
concept positional_struct =
    std::is_class_v<T> && std::is_aggregate_v<T> && !std::is_empty_v<T> && !described_struct<T> &&
    !protocol::cell_type<T> && !detail::is_std_array<T>::value;

/// A struct that maps to a row or a user-defined type (by name or by position).
template <class T>
concept mapped_struct = described_struct<T> || positional_struct<T>;

namespace detail {

template <class T>
using described_members_of =
    boost::describe::describe_members<T,
                                      boost::describe::mod_public | boost::describe::mod_inherited>;

// The members of a mapped struct: how many, the type of member I, access, and its name
// ("" when mapped by position).
template <class T>
struct members;

template <described_struct T>
struct members<T> {
    using list = described_members_of<T>;
    static constexpr std::size_t size = boost::mp11::mp_size<list>::value;
    static constexpr bool named = true;
    template <std::size_t I>
    using descriptor = boost::mp11::mp_at_c<list, I>;
    template <std::size_t I>
    using type = std::remove_cvref_t<decltype(std::declval<T&>().*descriptor<I>::pointer)>;
    template <std::size_t I>
    static constexpr auto& get(T& v) noexcept {
        return v.*descriptor<I>::pointer;
    }
    template <std::size_t I>
    static constexpr const auto& get(const T& v) noexcept {
        return v.*descriptor<I>::pointer;
    }
    template <std::size_t I>
    static constexpr std::string_view name() noexcept {
        return descriptor<I>::name;
    }
};

template <positional_struct T>
struct members<T> {
    static constexpr std::size_t size = boost::pfr::tuple_size_v<T>;
    static constexpr bool named = false;
    template <std::size_t I>
    using type = std::remove_cvref_t<boost::pfr::tuple_element_t<I, T>>;
    template <std::size_t I>
    static constexpr auto& get(T& v) noexcept {
        return boost::pfr::get<I>(v);
    }
    template <std::size_t I>
    static constexpr const auto& get(const T& v) noexcept {
        return boost::pfr::get<I>(v);
    }
    template <std::size_t I>
    static constexpr std::string_view name() noexcept {
        return {};
    }
};

template <class T, std::size_t I>
using member_type = typename members<T>::template type<I>;

// Calls f(std::integral_constant<std::size_t, I>) for every member index, in order.
template <class T, class F>
constexpr void for_each_member_index(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (f(std::integral_constant<std::size_t, I>{}), ...);
    }
    (std::make_index_sequence<members<T>::size>{});
}

// As for_each_member_index, stopping at the first call that returns true; true if one did.
template <class T, class F>
constexpr bool any_member_index(F&& f) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return (f(std::integral_constant<std::size_t, I>{}) || ...);
    }
    (std::make_index_sequence<members<T>::size>{});
}

// The member names of a described struct, in declaration order (empty strings by position).
template <mapped_struct T>
constexpr std::array<std::string_view, members<T>::size> member_names() {
    std::array<std::string_view, members<T>::size> out{};
    for_each_member_index<T>([&](auto i) { out[i] = members<T>::template name<i>(); });
    return out;
}

}  // namespace detail

}  // namespace cql
