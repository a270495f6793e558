#pragma once
/// \file
/// The result of executing a statement: owns the response frame it was decoded from; rows
/// are views into that frame (zero copy) until the caller asks for owning values.
///
/// \code
///   for (cql::row_view row : r) {
///       auto [k, v] = row.as<std::int32_t, std::string_view>();   // views into r
///       std::optional<double> d = row.get<std::optional<double>>(2);
///   }
/// \endcode
///
/// try_get(i or name, out) is the primary, non-throwing path: it checks the column's type
/// against T (protocol/cells.hpp) and returns protocol::codec_errc::value_type_mismatch on a
/// mismatch, a lossy conversion or a null read into a non-optional T (errc::no_such_column
/// for a column out of range or an unknown name); get<T>(i, ec) does the same with an error_code
/// out-parameter. get<T>(i or name) and as<Ts...>() are conveniences for code that prefers
/// exceptions: they throw cql::error_with_diagnostics (a boost::system::system_error) with
/// that code and a message naming the column, its CQL type and the C++ type asked for.

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/system/system_error.hpp>

#include "cql/detail/type_names.hpp"
#include "cql/error.hpp"
#include "cql/error_with_diagnostics.hpp"
#include "cql/protocol/cells.hpp"
#include "cql/protocol/responses.hpp"
#include "cql/protocol/value.hpp"
#include "cql/response.hpp"
#include "cql/values.hpp"

namespace cql {

class row_view;
struct prepared_info;

/// \cond internal
namespace detail {
struct prepared_access;  // (src/detail/result_columns.hpp)
template <class T>
struct optional_inner {
    using type = void;
};
template <class T>
struct optional_inner<std::optional<T>> {
    using type = T;
};
template <mapped_struct T>
T read_struct(const row_view& row);  // cql/mapping/row.hpp
// The type a column is decoded as: long long as std::int64_t, ...; std::optional<T> as T.
template <class T>
struct read_as {
    using type = T;
};
template <class T>
requires is_cql_integer<T>
struct read_as<T> {
    using type = exact_width_t<T>;
};
template <class T>
struct read_as<std::optional<T>> : read_as<T> {};
template <class T>
using read_as_t = typename read_as<T>::type;
template <class T>
inline constexpr bool readable_scalar =
    values::value_type<read_as_t<T>> || std::is_same_v<T, protocol::value>;
template <class T>
inline constexpr bool readable = readable_scalar<T>;
template <class T>
inline constexpr bool readable<std::optional<T>> = readable_scalar<T>;
}  // namespace detail
/// \endcond

/// One row of a cql::result: a cheap view (copy it by value) into the result's frame, valid
/// while the result lives (also after the result is moved). Columns are read by index (fast)
/// or by name (a linear search per call: look the index up once with index_of() in loops).
class row_view {
  public:
    row_view() = default;  ///< an empty row (size() 0)
    /// A view over `cells` described by `meta` (result::begin() makes them).
    row_view(protocol::row_view cells, const protocol::result_metadata* meta) noexcept
        : cells_(cells), meta_(meta) {}

    std::size_t size() const noexcept { return cells_.size(); }  ///< number of columns
    /// The raw cell (null is value_view::null()).
    protocol::value_view operator[](std::size_t i) const noexcept { return cells_[i]; }
    /// Index of a column by name, or size() when there is none (or no metadata).
    std::size_t index_of(std::string_view column) const noexcept;
    /// The columns' names and types (nullptr for a default-constructed row).
    const protocol::result_metadata* metadata() const noexcept { return meta_; }

    /// Decodes column `i` into `out`. `T` is any type with a CQL cell codec (string_view
    /// and bytes_view types view into the result), any signed integer type (long long reads
    /// a bigint), cql::protocol::value (any column, null included), or std::optional of one
    /// to accept nulls. Returns protocol::codec_errc::value_type_mismatch when the column's
    /// CQL type does not decode to T or a null meets a non-optional T, errc::no_such_column
    /// when `i` is out of range, another codec error for a malformed cell. `out` is
    /// unspecified on error. Other types fail to compile, saying which types are readable.
    template <class T>
    std::error_code try_get(std::size_t i, T& out) const {
        if constexpr (!detail::readable<T>) {
            static_assert(detail::readable<T>,
                          "row_view::get<T>/try_get: no CQL codec for T. Readable: "
                          "std::int8_t..std::int64_t (or any signed integer), float, double, "
                          "bool, std::string, std::string_view, bytes, cql::uuid, std::chrono "
                          "time points, cql value types, cql::protocol::value, collections "
                          "(std::vector, std::set, std::map), std::tuple, std::array, and "
                          "std::optional of any of them");
            return {};
        } else {
            if (i >= size()) return errc::no_such_column;
            const auto cell = cells_[i];
            const protocol::data_type* type = column_type(i);
            using inner = typename detail::optional_inner<T>::type;
            if constexpr (std::is_same_v<T, protocol::value>) {
                if (cell.state == protocol::value_view::kind::bytes)
                    return decode_into(type, cell.data, out);
                // (T, not protocol::value: written without the template parameter, clang
                // instantiates the value's destructor in every file that includes this)
                out = T{};  // null
                return {};
            } else if constexpr (!std::is_void_v<inner>) {
                if (cell.state != protocol::value_view::kind::bytes) {  // null / unset
                    out.reset();
                    return {};
                }
                using probe_t = detail::read_as_t<inner>;
                if constexpr (protocol::cell_type<probe_t>) {
                    std::optional<probe_t> probe;  // Cassandra's empty value -> nullopt
                    if (auto ec = protocol::decode_cell(cell, probe)) return ec;
                    if (!probe) {
                        out.reset();
                        return {};
                    }
                }
                inner v{};
                if (auto ec = decode_into(type, cell.data, v)) return ec;
                out = std::move(v);
                return {};
            } else {
                if (cell.state != protocol::value_view::kind::bytes)
                    return protocol::codec_errc::value_type_mismatch;
                return decode_into(type, cell.data, out);
            }
        }
    }

    /// By column name (no such column: errc::no_such_column).
    template <class T>
    std::error_code try_get(std::string_view column, T& out) const {
        return try_get(index_of(column), out);
    }
    /// Non-throwing get: the value (T{} on error) and the error in `ec`.
    template <class T>
    T get(std::size_t i, std::error_code& ec) const {
        T out{};
        ec = try_get(i, out);
        return out;
    }

    /// Column `i` as T, like try_get(); on error throws cql::error_with_diagnostics (a
    /// boost::system::system_error with try_get()'s code) whose message names the column,
    /// its CQL type and T: `column 2 "age" is int: it cannot be read as a std::string`,
    /// `column 2 "age" is null: read it as std::optional<std::int32_t>`.
    template <class T>
    T get(std::size_t i) const {
        T out{};
        if (auto ec = try_get(i, out)) {
            const auto* type = i < size() ? column_type(i) : nullptr;
            bool fits = false;
            if constexpr (values::value_type<detail::read_as_t<T>>)
                fits = type && values::accepts<detail::read_as_t<T>>(*type);
            throw_read_error(i, ec, detail::type_name<T>(), fits);
        }
        return out;
    }
    /// The column named `column` as T; an unknown name throws cql::error_with_diagnostics
    /// (errc::no_such_column) listing the row's columns.
    template <class T>
    T get(std::string_view column) const {
        const auto i = index_of(column);
        if (i >= size()) throw_no_column(column);
        return get<T>(i);
    }

    /// The first sizeof...(Ts) columns as a tuple, for structured bindings:
    /// `auto [k, v] = row.as<int, std::string_view>();`. Throws like get().
    /// With one mapped struct `T` (cql/mapping/row.hpp), the whole row as a T.
    template <class... Ts>
    auto as() const {
        if constexpr (sizeof...(Ts) == 1 && (mapped_struct<Ts> && ...))
            return detail::read_struct<Ts...>(*this);
        else
            return as_impl<Ts...>(std::index_sequence_for<Ts...>{});
    }

  private:
    template <class... Ts, std::size_t... I>
    std::tuple<Ts...> as_impl(std::index_sequence<I...>) const {
        return std::tuple<Ts...>{get<Ts>(I)...};
    }
    // The CQL type of column i (nullptr without metadata).
    const protocol::data_type* column_type(std::size_t i) const noexcept {
        return meta_ && !meta_->no_metadata && i < meta_->columns.size() ? &meta_->columns[i].type
                                                                         : nullptr;
    }
    template <class T>
    static std::error_code decode_into(const protocol::data_type* type, protocol::bytes_view cell,
                                       T& out) {
        if constexpr (std::is_same_v<T, protocol::value>) {
            if (!type) return protocol::codec_errc::value_type_mismatch;  // no metadata
            return protocol::decode_value(*type, cell, out);
        } else if constexpr (detail::is_cql_integer<T> && !protocol::cell_type<T>) {
            detail::exact_width_t<T> v{};
            if (auto ec = values::decode(type, cell, v)) return ec;
            out = v;
            return {};
        } else {
            return values::decode(type, cell, out);
        }
    }
    [[noreturn]] void throw_read_error(std::size_t i, std::error_code ec,
                                       const std::string& cpp_type, bool type_fits) const;
    [[noreturn]] void throw_no_column(std::string_view name) const;

    protocol::row_view cells_;
    const protocol::result_metadata* meta_ = nullptr;
};

/// The result of a statement, what session::async_execute() and async_batch() complete
/// with: rows (with their metadata and paging state) or another kind of RESULT. Owns the
/// response frame; rows, strings and bytes read from it are views valid while it lives.
/// Move-only (moving keeps those views valid); not synchronized, but const members may be
/// called from several threads at once.
class result {
  public:
    /// The kind of a RESULT message (none: a default-constructed or ignored result).
    enum class kind { none, void_, rows, set_keyspace, prepared, schema_change };

    result() = default;  ///< empty: kind::none, no rows
    /// Moves the response (a pointer: cheap); views into it stay valid.
    result(result&&) noexcept = default;
    /// Moves the response (a pointer: cheap); views into the moved-from result stay valid.
    result& operator=(result&&) noexcept = default;

    /// Decodes a RESULT response (an ERROR gives its server error code; any other opcode
    /// errc::unexpected_response). On success `out` owns the response.
    static std::error_code from_response(response&& r, result& out);

    kind type() const noexcept { return st().which; }  ///< rows, void_, schema_change, ...
    /// The response frame (header, prefix, body).
    const response& raw() const noexcept { return st().resp; }
    /// The server's warnings about the statement (e.g. a large batch, tombstones).
    const std::vector<std::string_view>& warnings() const noexcept { return st().resp.warnings(); }
    /// The tracing session id (when the statement asked for tracing and the server traced).
    std::optional<protocol::uuid_bytes> tracing_id() const noexcept {
        return st().resp.prefix().tracing_id;
    }
    /// The custom payload the server sent (views into this result).
    const std::vector<std::pair<std::string_view, protocol::value_view>>& custom_payload()
        const noexcept {
        return st().resp.prefix().custom_payload;
    }
    /// After a schema change (kind::schema_change): whether every up node reported the same
    /// schema version within cluster_config::max_schema_agreement_wait. True otherwise.
    bool schema_in_agreement() const noexcept { return st().schema_agreement; }
    /// Set by the session after its schema agreement wait.
    void set_schema_in_agreement(bool yes) noexcept;

    /// The columns of the rows (names and types; none for other kinds). For a prepared
    /// SELECT whose answer left them out (skip_metadata: the driver asks for that once it
    /// knows them), the prepared statement's; read the paging state with paging_state().
    const protocol::result_metadata& metadata() const noexcept { return columns(); }
    /// Columns per row (from the metadata; also with skip_metadata).
    std::size_t column_count() const noexcept {
        return static_cast<std::size_t>(st().rows.metadata.column_count);
    }
    /// Number of rows (of this page).
    std::size_t size() const noexcept { return static_cast<std::size_t>(st().rows.row_count); }
    bool empty() const noexcept { return st().rows.row_count == 0; }  ///< no rows
    /// True when the server has more rows: pass paging_state() to the statement (or use
    /// session::pages()). A page may be empty and still have more pages.
    bool has_more_pages() const noexcept { return st().rows.metadata.paging_state.has_value(); }
    /// The paging state for the next page (a view into this result), nullopt on the last.
    std::optional<protocol::bytes_view> paging_state() const noexcept {
        return st().rows.metadata.paging_state;
    }

    /// A forward iterator over the rows, yielding row_view by value.
    class iterator {
      public:
        using value_type = row_view;             ///< what operator* returns
        using difference_type = std::ptrdiff_t;  ///< for std::iterator_traits
        iterator() = default;                    ///< a singular iterator
        /// An iterator at `it` (result::begin()/end() make them).
        iterator(protocol::rows_range::iterator it, const protocol::result_metadata* m)
            : it_(it), meta_(m) {}
        row_view operator*() const noexcept { return {*it_, meta_}; }  ///< the current row
        /// Next row (decodes the row's cell lengths; no allocation).
        iterator& operator++() noexcept {
            ++it_;
            return *this;
        }
        /// \copydoc operator++()
        iterator operator++(int) noexcept {
            auto old = *this;
            ++it_;
            return old;
        }
        /// Same position.
        friend bool operator==(const iterator& a, const iterator& b) noexcept {
            return a.it_ == b.it_;
        }

      private:
        protocol::rows_range::iterator it_;
        const protocol::result_metadata* meta_ = nullptr;
    };
    /// The first row: `for (cql::row_view row : r)`.
    iterator begin() const noexcept { return {st().rows.rows().begin(), &columns()}; }
    /// Past the last row.
    iterator end() const noexcept { return {st().rows.rows().end(), &columns()}; }
    /// The first row; for a result without rows an empty row (size() 0) whose get() throws
    /// saying so.
    row_view front() const noexcept {
        if (empty()) return row_view({}, &columns());
        return *begin();
    }

    /// Set_keyspace: the keyspace; Prepared and Schema_change: the decoded message.
    std::string_view keyspace() const noexcept { return st().keyspace; }
    /// \copydoc keyspace()
    const protocol::response& message() const noexcept { return st().message; }

  private:
    // Everything a result holds, behind one pointer: a result is handed through several
    // completion layers, and moving ~800 bytes of response, message and metadata at each
    // step cost more CPU than the request's decoding. States (with the capacity of their
    // column vectors) are recycled per thread.
    struct state {
        response resp;
        protocol::response message;
        protocol::rows_result rows;
        std::string_view keyspace;
        kind which = kind::none;
        bool schema_agreement = true;
        // The rows came without metadata: they are read with the prepared statement's
        // columns (`read_with`, which `statement` keeps alive).
        const protocol::result_metadata* read_with = nullptr;
        std::shared_ptr<const prepared_info> statement;
    };
    struct state_release {
        void operator()(state* s) const noexcept;
    };
    struct state_cache_traits;  // (for the recycling of states)
    static std::unique_ptr<state, state_release> new_state();
    static const state& empty_state() noexcept;
    const state& st() const noexcept { return s_ ? *s_ : empty_state(); }
    const protocol::result_metadata& columns() const noexcept {
        return st().read_with ? *st().read_with : st().rows.metadata;
    }
    friend struct detail::prepared_access;

    std::unique_ptr<state, state_release> s_;
};

}  // namespace cql

#include "cql/mapping/row.hpp"
