#pragma once
/// \file
/// Binding a mapped struct to a prepared statement by marker name: each bind marker gets
/// the member mapped to the column it names (`INSERT INTO t (k, v) VALUES (?, ?)` names its
/// markers k and v, `WHERE k = ?` names it k, `:name` markers their own name), so the same
/// struct binds an INSERT, an UPDATE or the key of a SELECT or DELETE.
///
/// \code
///   auto ins = co_await s.async_prepare("INSERT INTO zoo.animals (genus, species, size_cm) "
///                                       "VALUES (?, ?, ?)", use_awaitable);
///   co_await s.async_execute(ins.bind(lion), use_awaitable);      // lion is an animal
///
///   cql::bound_statement b;
///   std::string why;
///   if (auto ec = cql::try_bind(ins, lion, b, &why)) { ... why names the marker ... }
/// \endcode
///
/// A marker without a member (mapping_errc::unmatched_marker) or of a CQL type the
/// member's C++ type cannot hold (mapping_errc::type_mismatch) fails the binding;
/// prepared_statement::bind(struct) then leaves markers unbound, so executing the statement
/// fails with errc::bad_bind_value without sending it; try_bind says why. Members no marker
/// names are left out. User types are written in the order of the server's fields, whatever
/// the struct's order.

#include <cstddef>
#include <string>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <vector>

#include "cql/mapping/cql_types.hpp"
#include "cql/mapping/errc.hpp"
#include "cql/mapping/model.hpp"
#include "cql/prepared.hpp"

namespace cql {

namespace detail {

template <class M>
std::error_code encode_typed(protocol::byte_writer& w, const M& v, const protocol::data_type* t);

// One [bytes] element (null for an empty optional) of type `t`.
template <class M>
std::error_code write_typed_element(protocol::byte_writer& w, const M& v,
                                    const protocol::data_type* t) {
    if constexpr (is_optional_v<M>) {
        if (!v) {
            w.null_bytes();
            return {};
        }
        return write_typed_element(w, *v, t);
    } else {
        const auto at = w.reserve_i32();
        if (auto ec = encode_typed(w, v, t)) {
            w.buffer().resize(at);
            return ec;
        }
        const auto len = w.size() - at - 4;
        if (len > 0x7FFFFFFF) {
            w.buffer().resize(at);
            return protocol::codec_errc::value_type_mismatch;
        }
        w.patch_i32(at, static_cast<std::int32_t>(len));
        return {};
    }
}

template <mapped_struct S>
std::error_code encode_struct_typed(protocol::byte_writer& w, const S& v,
                                    const protocol::data_type* t) {
    using protocol::type_id;
    constexpr std::size_t n = members<S>::size;
    const auto mismatch = [] { return make_error_code(protocol::codec_errc::value_type_mismatch); };
    const bool by_name = model_of<S>().mapping().by_name && t && t->id == type_id::udt &&
                         t->field_names.size() == t->params.size();
    if (!by_name) {
        if (t && t->params.size() != n) return mismatch();
        std::error_code ec;
        for_each_member_index<S>([&](auto i) {
            if (!ec)
                ec = write_typed_element(w, members<S>::template get<i>(v),
                                         t ? &t->params[i] : nullptr);
        });
        return ec;
    }
    if (t->params.size() != n) return mismatch();  // a field or a member without the other
    for (std::size_t f = 0; f < n; ++f) {
        const std::size_t i = member_of_name<S>(t->field_names[f], f);
        if (i == n) return mismatch();
        std::error_code ec;
        visit_member<S>(i, [&](auto k) {
            ec = write_typed_element(w, members<S>::template get<k>(v), &t->params[f]);
        });
        if (ec) return ec;
    }
    return {};
}

// The cell bytes of `v` as CQL type `t` (nullptr: no type known, user types in member
// order). Only values holding a struct need the type; others go to values::encode.
template <class M>
std::error_code encode_typed(protocol::byte_writer& w, const M& v, const protocol::data_type* t) {
    if constexpr (!contains_struct<M>()) {
        return values::encode(w, v);
    } else {
        protocol::data_type resolved;
        if (t && t->id == protocol::type_id::custom) {
            resolved = protocol::resolve_custom(*t);
            t = &resolved;
        }
        const auto start = w.size();
        std::error_code ec;
        constexpr int k = collection_kind<M>::value;
        auto param = [&](std::size_t i) {
            return t && i < t->params.size() ? &t->params[i] : nullptr;
        };
        if constexpr (mapped_struct<M>) {
            ec = encode_struct_typed(w, v, t);
        } else if constexpr (k == 1 || k == 2 || k == 3) {
            w.i32(static_cast<std::int32_t>(v.size()));
            for (const auto& e : v) {
                if constexpr (k == 3) {
                    if ((ec = write_typed_element(w, e.first, param(0)))) break;
                    if ((ec = write_typed_element(w, e.second, param(1)))) break;
                } else {
                    if ((ec = write_typed_element(w, e, param(0)))) break;
                }
            }
        } else if constexpr (k == 4) {
            std::size_t i = 0;
            std::apply(
                [&](const auto&... f) {
                    ((ec ? void() : void(ec = write_typed_element(w, f, param(i++)))), ...);
                },
                v);
        } else if constexpr (k == 5) {
            for (const auto& e : v) {  // elements of variable size: [unsigned vint] length
                protocol::byte_buffer tmp;
                protocol::byte_writer tw(tmp);
                if ((ec = encode_typed(tw, e, param(0)))) break;
                w.unsigned_vint(tmp.size());
                w.raw(tmp);
            }
        }
        if (ec) w.buffer().resize(start);
        return ec;
    }
}

// Binds member `m` to the next marker of `out` as CQL type `t`.
template <class M>
std::error_code bind_typed(bound_statement& out, const M& m, const protocol::data_type& t) {
    if constexpr (!contains_struct<M>()) {
        out.bind(m);
        return out.settings().bind_error();
    } else if constexpr (is_optional_v<M>) {
        if (!m) {
            out.bind(cql::null);
            return {};
        }
        return bind_typed(out, *m, t);
    } else {
        protocol::byte_buffer cell;
        protocol::byte_writer w(cell);
        if (auto ec = encode_typed(w, m, &t)) return ec;
        out.bind(protocol::bytes_view(cell));
        return out.settings().bind_error();
    }
}

template <mapped_struct T>
std::error_code bind_members(const prepared_statement& p, const T& v, bound_statement& out,
                             std::string* why) {
    static_assert(members_have_codecs<T>());
    const auto& mapping = model_of<T>().mapping();
    auto fail = [&](mapping_errc e, std::string message) -> std::error_code {
        if (why) *why = std::move(message);
        return e;
    };
    if (!mapping.errors.empty()) return fail(mapping_errc::invalid_model, mapping.errors[0]);
    const auto& vars = p.variables();
    constexpr std::size_t n = members<T>::size;
    for (std::size_t j = 0; j < vars.size(); ++j) {
        const std::size_t i = mapping.by_name ? member_of_name<T>(vars[j].name, j) : j;
        if (i >= n)
            return fail(mapping_errc::unmatched_marker,
                        "cql mapping: bind marker '" + vars[j].name + "' (CQL " +
                            protocol::to_cql_string(vars[j].type) +
                            ") of the statement has no member in " + mapping.struct_name);
        std::error_code ec;
        visit_member<T>(i, [&](auto k) {
            using M = member_type<T, k>;
            std::string detail;
            if (!type_fits<M>(vars[j].type, detail)) {
                ec = fail(mapping_errc::type_mismatch,
                          type_mismatch_message("bind marker", mapping.members[i].member,
                                                mapping.struct_name, cpp_type_name<M>(),
                                                vars[j].name, vars[j].type, detail));
                return;
            }
            if (auto e = bind_typed(out, members<T>::template get<k>(v), vars[j].type))
                ec = fail(mapping_errc::type_mismatch,
                          "cql mapping: member '" + mapping.members[i].member + "' of " +
                              mapping.struct_name + " could not be bound to marker '" +
                              vars[j].name + "': " + e.message());
        });
        if (ec) return ec;
    }
    return {};
}

}  // namespace detail

/// Binds the members of `v` to the markers of `p` by name into `out` (a new
/// bound_statement of `p`); `why` gets the explanation of a failure.
template <mapped_struct T>
std::error_code try_bind(const prepared_statement& p, const T& v, bound_statement& out,
                         std::string* why = nullptr) {
    out = bound_statement(p.info());
    return detail::bind_members(p, v, out, why);
}

}  // namespace cql
