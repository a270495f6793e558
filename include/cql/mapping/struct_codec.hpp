#pragma once
/// \file
/// Mapped structs as CQL user-defined types inside values.hpp's codecs, so that a struct
/// binds and reads wherever a value does: a column, a collection element, a tuple field,
/// another struct's member.
///
/// Reading matches the UDT's fields to the struct's members by name (cql::model renames
/// apply), whatever their order; fields added to the type after a value was written read
/// as null (std::nullopt). A field without a member, or a member without a field, is
/// protocol::codec_errc::value_type_mismatch (cql::rows_of and the mapper check the
/// metadata first and name them). A struct mapped by position reads field i into member i.
///
/// Binding a struct with statement::bind() writes its members in declaration order, which
/// is the type's field order when the type was made from the struct (cql::sync_table). The
/// mapper and bind-by-name (bind.hpp) write them in the order of the server's fields.
///
/// Every member's type must have a CQL codec: a struct member without one fails to compile
/// with a static_assert whose instantiation names the member.

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>

#include "cql/mapping/model.hpp"
#include "cql/mapping/reflect.hpp"
#include "cql/values.hpp"

namespace cql::detail {

template <class T>
inline constexpr bool is_optional_v = values::detail::is_optional<T>::value;
// The type a std::optional holds; any other type itself.
template <class T>
struct without_optional {
    using type = T;
};
template <class T>
struct without_optional<std::optional<T>> {
    using type = T;
};
template <class T>
using without_optional_t = typename without_optional<T>::type;

// A member type the driver can read and bind: a value type, or an optional of one, whose
// elements (collections, tuples) have codecs too.
template <class M>
constexpr bool codec_for() {
    constexpr int k = values::detail::kind<M>::value;
    if constexpr (is_optional_v<M>) {
        return codec_for<without_optional_t<M>>();
    } else if constexpr (protocol::cell_type<M> || mapped_struct<M>) {
        return true;  // a struct's own members are checked where it is used
    } else if constexpr (k == 1 || k == 2 || k == 5) {
        return codec_for<typename M::value_type>();
    } else if constexpr (k == 3) {
        return codec_for<typename M::key_type>() && codec_for<typename M::mapped_type>();
    } else if constexpr (k == 4) {
        return []<class... Ts>(std::type_identity<std::tuple<Ts...>>) {
            return (codec_for<Ts>() && ...);
        }(std::type_identity<M>{});
    } else {
        return values::value_type<M>;
    }
}
template <class M>
inline constexpr bool has_cql_codec = codec_for<M>();

// Named so that the compiler's "In instantiation of" line names the member.
template <auto Member, class MemberType>
struct member_type_has_a_cql_codec {
    static_assert(has_cql_codec<MemberType>,
                  "cql mapping: the type of a struct member has no CQL codec (the member is the "
                  "first template argument of 'member_type_has_a_cql_codec' above)");
    static constexpr bool ok = true;
};
template <class Struct, std::size_t Index, class MemberType>
struct positional_member_type_has_a_cql_codec {
    static_assert(has_cql_codec<MemberType>,
                  "cql mapping: the type of a struct member has no CQL codec (the struct and "
                  "the member's index are the template arguments of "
                  "'positional_member_type_has_a_cql_codec' above)");
    static constexpr bool ok = true;
};

// Compile-time check of every member of T (each use of a mapped struct instantiates it).
template <mapped_struct T>
constexpr bool members_have_codecs() {
    bool ok = true;
    for_each_member_index<T>([&](auto i) {
        using M = member_type<T, i>;
        if constexpr (described_struct<T>)
            ok = ok &&
                 member_type_has_a_cql_codec<members<T>::template descriptor<i>::pointer, M>::ok;
        else
            ok = ok && positional_member_type_has_a_cql_codec<T, i, M>::ok;
    });
    return ok;
}

// The member of S mapped to the column or field `name`, searched from `hint` on (members
// usually come in column order); members<S>::size when none.
template <mapped_struct S>
std::size_t member_of_name(std::string_view name, std::size_t hint) noexcept {
    const auto& ms = model_of<S>().mapping().members;
    const std::size_t n = ms.size();
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t i = (hint + k) % n;
        if (ms[i].column == name) return i;
    }
    return n;
}

// Calls f(std::integral_constant<std::size_t, I>) for the member whose index `i` is known at
// run time only.
template <class S, class F>
void visit_member(std::size_t i, F&& f) {
    any_member_index<S>([&](auto k) {
        if (k != i) return false;
        f(k);
        return true;
    });
}

}  // namespace cql::detail

namespace cql::values::detail {

template <class T>
struct struct_codec {
    static_assert(cql::detail::members_have_codecs<T>());
    using members = cql::detail::members<T>;
    static constexpr std::size_t size = members::size;

    // Members in declaration order, each a [bytes] element (null for an empty optional).
    static std::error_code encode(protocol::byte_writer& w, const T& v) {
        std::error_code ec;
        cql::detail::for_each_member_index<T>([&](auto i) {
            if (!ec) ec = write_element(w, members::template get<i>(v));
        });
        return ec;
    }

    // `t`: the UDT or tuple type (nullptr: no metadata, fields in member order).
    static std::error_code decode(const protocol::data_type* t, protocol::byte_reader& r, T& out) {
        using protocol::type_id;
        if (t && t->id != type_id::udt && t->id != type_id::tuple) return mismatch();
        const bool by_name = cql::model_of<T>().mapping().by_name && t && t->id == type_id::udt &&
                             t->field_names.size() == t->params.size();
        if (!by_name) return decode_by_position(t, r, out);

        std::array<bool, size> seen{};
        std::size_t f = 0;
        for (; f < t->params.size() && r.remaining() != 0; ++f) {
            const std::size_t i = cql::detail::member_of_name<T>(t->field_names[f], f);
            if (i == size) return mismatch();  // a field without a member
            seen[i] = true;
            std::error_code ec;
            cql::detail::visit_member<T>(i, [&](auto k) {
                ec = read_element(r, &t->params[f], members::template get<k>(out));
            });
            if (ec) return ec;
        }
        // Members not read: null when their field comes after the value's last one (added to
        // the type later), an error when the type has no such field.
        const auto& ms = cql::model_of<T>().mapping().members;
        for (std::size_t i = 0; i < size; ++i) {
            if (seen[i]) continue;
            bool later_field = false;
            for (std::size_t g = f; g < t->field_names.size(); ++g)
                later_field = later_field || t->field_names[g] == ms[i].column;
            if (!later_field) return mismatch();
            std::error_code ec;
            cql::detail::visit_member<T>(
                i, [&](auto k) { ec = set_null(members::template get<k>(out)); });
            if (ec) return ec;
        }
        return {};
    }

  private:
    template <class M>
    static std::error_code set_null(M& m) {
        if constexpr (is_optional<M>::value) {
            m.reset();
            return {};
        } else {
            return mismatch();
        }
    }

    static std::error_code decode_by_position(const protocol::data_type* t,
                                              protocol::byte_reader& r, T& out) {
        if (t && t->params.size() != size) return mismatch();
        std::error_code ec;
        cql::detail::for_each_member_index<T>([&](auto i) {
            if (ec) return;
            auto& m = members::template get<i>(out);
            if (r.remaining() == 0 && t && t->id == protocol::type_id::udt)
                ec = set_null(m);  // a field added after the value was written
            else
                ec = read_element(r, t ? &t->params[i] : nullptr, m);
        });
        return ec;
    }
};

}  // namespace cql::values::detail
