#pragma once
/// \file
/// The CQL side of the C++ types a struct's members have: whether a member type has a CQL
/// codec at all (checked at compile time, naming the member), whether it can hold a given
/// column type (checked at run time against result or prepared metadata, for clear
/// errors), and the CQL type generated DDL gives it.
///
///   C++                         CQL type in generated DDL
///   std::int8_t/16/32/64        tinyint, smallint, int, bigint
///   float, double, bool         float, double, boolean
///   std::string(_view)          text
///   protocol::byte_buffer       blob
///   protocol::uuid_bytes        uuid
///   other cell codecs           the first CQL type their codec accepts (inet, date, ...)
///   std::optional<X>            that of X (optional only says the column may be null)
///   std::vector<X>, std::set<X> list<X>, set<X> (nested collections frozen)
///   std::map<K, V>              map<K, V>
///   std::tuple<...>             frozen<tuple<...>>
///   std::array<X, n>            vector<X, n>
///   a mapped struct             frozen<its type name> (a user-defined type)
///
/// cql::model::cql_type() overrides the type of one member (ascii, timeuuid, counter, a
/// non-frozen collection or user type, ...).

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/core/type_name.hpp>

#include "cql/mapping/model.hpp"
#include "cql/mapping/reflect.hpp"
#include "cql/protocol/cells.hpp"
#include "cql/protocol/types.hpp"
#include "cql/values.hpp"

namespace cql::detail {

template <class T>
std::string cpp_type_name() {
    return boost::core::type_name<T>();
}

template <class T>
struct collection_kind : std::integral_constant<int, 0> {};
template <class T, class A>
struct collection_kind<std::vector<T, A>> : std::integral_constant<int, 1> {};
template <class T, class C, class A>
struct collection_kind<std::set<T, C, A>> : std::integral_constant<int, 2> {};
template <class K, class V, class C, class A>
struct collection_kind<std::map<K, V, C, A>> : std::integral_constant<int, 3> {};
template <class... Ts>
struct collection_kind<std::tuple<Ts...>> : std::integral_constant<int, 4> {};
template <class T, std::size_t N>
struct collection_kind<std::array<T, N>> : std::integral_constant<int, 5> {};

// A list, set or map (read from null as empty: Cassandra stores an empty one as null).
template <class M>
inline constexpr bool is_collection_v =
    collection_kind<M>::value >= 1 && collection_kind<M>::value <= 3 &&
    !std::is_same_v<M, protocol::byte_buffer>;

// True when M holds a mapped struct somewhere (then binding it needs the column's type:
// user types are encoded in the order of the server's fields).
template <class M>
constexpr bool contains_struct() {
    if constexpr (is_optional_v<M>) {
        return contains_struct<without_optional_t<M>>();
    } else if constexpr (mapped_struct<M>) {
        return true;
    } else if constexpr (protocol::cell_type<M> || std::is_same_v<M, protocol::byte_buffer>) {
        return false;
    } else if constexpr (collection_kind<M>::value == 1 || collection_kind<M>::value == 2 ||
                         collection_kind<M>::value == 5) {
        return contains_struct<typename M::value_type>();
    } else if constexpr (collection_kind<M>::value == 3) {
        return contains_struct<typename M::key_type>() ||
               contains_struct<typename M::mapped_type>();
    } else if constexpr (collection_kind<M>::value == 4) {
        return []<class... Ts>(std::type_identity<std::tuple<Ts...>>) {
            return (contains_struct<Ts>() || ...);
        }(std::type_identity<M>{});
    } else {
        return false;
    }
}

// The CQL type a scalar codec stands for: the first of these its codec accepts (blob first:
// only codecs that take any type accept it).
template <protocol::cell_type M>
protocol::data_type scalar_cql_type() {
    using protocol::type_id;
    for (type_id id : {type_id::blob,    type_id::boolean,   type_id::tinyint,  type_id::smallint,
                       type_id::int_,    type_id::bigint,    type_id::float_,   type_id::double_,
                       type_id::varchar, type_id::uuid,      type_id::inet,     type_id::date,
                       type_id::time,    type_id::timestamp, type_id::duration, type_id::varint,
                       type_id::decimal, type_id::timeuuid,  type_id::ascii,    type_id::counter})
        if (protocol::cell_codec<M>::accepts(id)) return protocol::data_type(id);
    return protocol::data_type(type_id::custom);
}

// The CQL type of a C++ type as generated DDL writes it (type_id::custom with an empty
// class: none known; a user type: its name only).
template <class M>
protocol::data_type cql_type_of() {
    using protocol::data_type;
    using protocol::type_id;
    if constexpr (is_optional_v<M>) {
        return cql_type_of<without_optional_t<M>>();
    } else if constexpr (mapped_struct<M>) {
        data_type t(type_id::udt);
        t.name = model_of<M>().mapping().type_name;
        t.frozen = true;
        return t;
    } else if constexpr (protocol::cell_type<M>) {
        return scalar_cql_type<M>();
    } else if constexpr (collection_kind<M>::value == 1) {
        return protocol::list_of(cql_type_of<typename M::value_type>());
    } else if constexpr (collection_kind<M>::value == 2) {
        return protocol::set_of(cql_type_of<typename M::value_type>());
    } else if constexpr (collection_kind<M>::value == 3) {
        return protocol::map_of(cql_type_of<typename M::key_type>(),
                                cql_type_of<typename M::mapped_type>());
    } else if constexpr (collection_kind<M>::value == 4) {
        return []<class... Ts>(std::type_identity<std::tuple<Ts...>>) {
            return protocol::tuple_of({cql_type_of<Ts>()...});
        }(std::type_identity<M>{});
    } else if constexpr (collection_kind<M>::value == 5) {
        return protocol::vector_of(cql_type_of<typename M::value_type>(),
                                   static_cast<std::uint32_t>(std::tuple_size_v<M>));
    } else {
        return data_type(type_id::custom);
    }
}

template <class M>
bool type_fits(const protocol::data_type& t, std::string& why);

// A user type (or tuple, for a struct mapped by position) that S can hold.
template <mapped_struct S>
bool struct_fits(const protocol::data_type& t, std::string& why) {
    using protocol::type_id;
    const auto& mapping = model_of<S>().mapping();
    const std::size_t n = members<S>::size;
    if (!mapping.by_name || t.id != type_id::udt) {
        if (t.id != type_id::udt && t.id != type_id::tuple) return false;
        if (t.params.size() != n) {
            why = "struct " + mapping.struct_name + " has " + std::to_string(n) +
                  " members, the type " + std::to_string(t.params.size()) + " fields";
            return false;
        }
        bool ok = true;
        for_each_member_index<S>([&](auto i) {
            if (ok && !type_fits<member_type<S, i>>(t.params[i], why)) {
                if (why.empty())
                    why = "field " + std::to_string(i) + " (" +
                          protocol::to_cql_string(t.params[i]) + ") does not fit member " +
                          std::to_string(i) + " of " + mapping.struct_name + " (" +
                          cpp_type_name<member_type<S, i>>() + ")";
                ok = false;
            }
        });
        return ok;
    }
    std::vector<bool> seen(n, false);
    for (std::size_t f = 0; f < t.params.size() && f < t.field_names.size(); ++f) {
        const std::size_t i = member_of_name<S>(t.field_names[f], f);
        if (i == n) {
            why = "field '" + t.field_names[f] + "' of user type " + t.name +
                  " has no member in struct " + mapping.struct_name;
            return false;
        }
        seen[i] = true;
        bool ok = true;
        visit_member<S>(i, [&](auto k) {
            using M = member_type<S, k>;
            if (type_fits<M>(t.params[f], why)) return;
            if (why.empty())
                why = "field '" + t.field_names[f] + "' of user type " + t.name + " (" +
                      protocol::to_cql_string(t.params[f]) + ") does not fit member '" +
                      mapping.members[i].member + "' of " + mapping.struct_name + " (" +
                      cpp_type_name<M>() + ")";
            ok = false;
        });
        if (!ok) return false;
    }
    for (std::size_t i = 0; i < n; ++i)
        if (!seen[i]) {
            why = "member '" + mapping.members[i].member + "' of " + mapping.struct_name +
                  " has no field '" + mapping.members[i].column + "' in user type " + t.name;
            return false;
        }
    return true;
}

// Whether a value of CQL type `t` decodes into (and encodes from) M. `why` gets the reason
// when it lies deeper than the top level (a UDT field, a collection element's struct).
// Types this check does not know are accepted: decoding checks them.
template <class M>
bool type_fits(const protocol::data_type& t0, std::string& why) {
    using protocol::type_id;
    protocol::data_type resolved;
    const protocol::data_type* t = &t0;
    if (t->id == type_id::custom) {
        resolved = protocol::resolve_custom(*t);
        t = &resolved;
    }
    if constexpr (is_optional_v<M>) {
        return type_fits<without_optional_t<M>>(*t, why);
    } else if constexpr (mapped_struct<M>) {
        return struct_fits<M>(*t, why);
    } else if constexpr (protocol::cell_type<M>) {
        return protocol::cell_accepts<M>(*t);
    } else if constexpr (collection_kind<M>::value == 1 || collection_kind<M>::value == 2) {
        return (t->id == type_id::list || t->id == type_id::set) && t->params.size() == 1 &&
               type_fits<typename M::value_type>(t->params[0], why);
    } else if constexpr (collection_kind<M>::value == 3) {
        return t->id == type_id::map && t->params.size() == 2 &&
               type_fits<typename M::key_type>(t->params[0], why) &&
               type_fits<typename M::mapped_type>(t->params[1], why);
    } else if constexpr (collection_kind<M>::value == 4) {
        if ((t->id != type_id::tuple && t->id != type_id::udt) ||
            t->params.size() != std::tuple_size_v<M>)
            return false;
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return (type_fits<std::tuple_element_t<I, M>>(t->params[I], why) && ...);
        }
        (std::make_index_sequence<std::tuple_size_v<M>>{});
    } else if constexpr (collection_kind<M>::value == 5) {
        return t->id == type_id::vector && t->params.size() == 1 &&
               t->dimension == std::tuple_size_v<M> &&
               type_fits<typename M::value_type>(t->params[0], why);
    } else {
        return true;
    }
}

// "member 'size_cm' of animal (C++ std::optional<float>) cannot hold column 'size' (CQL
// int)", with the deeper reason when there is one.
std::string type_mismatch_message(std::string_view what, std::string_view member,
                                  std::string_view struct_name, std::string_view cpp_type,
                                  std::string_view column, const protocol::data_type& type,
                                  std::string_view why);

}  // namespace cql::detail
