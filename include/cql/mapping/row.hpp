#pragma once
/// \file
/// Rows as structs: `row.as<T>()`, cql::try_read and cql::rows_of for a mapped struct `T`
/// (reflect.hpp: described with BOOST_DESCRIBE_STRUCT, or a plain aggregate).
///
/// \code
///   for (const animal& a : cql::rows_of<animal>(r)) { ... }    // checks the metadata once
///   animal a = r.front().as<animal>();                         // one row
///   std::vector<animal> all = cql::rows_of<animal>(r).to_vector();
/// \endcode
///
/// A described struct's members are matched to the result's columns by name (model
/// renames apply; the order of the columns does not matter); a plain aggregate's member i
/// is column i. Every member needs a column and every column a member; each member's C++
/// type must hold its column's CQL type (std::optional for columns that may be null).
/// Anything else is a cql::mapping_errc (missing_column, extra_column, type_mismatch,
/// null_value) with a message naming the struct, the member, the column and both types:
/// the throwing reads (as, to_vector, the iterator) raise boost::system::system_error with
/// that message, try_read and try_read_all return the code and fill `why`.
///
/// rows_of matches names and checks types once per result, so reading its rows costs what
/// reading the same columns by position does; row.as<T>() matches names for every row (a
/// few string comparisons more).

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/system/system_error.hpp>

#include "cql/mapping/cql_types.hpp"
#include "cql/mapping/errc.hpp"
#include "cql/mapping/model.hpp"
#include "cql/mapping/reflect.hpp"
#include "cql/result.hpp"

namespace cql {

namespace detail {

// Which column each member of T reads, for one result metadata.
template <mapped_struct T>
class row_plan {
  public:
    static constexpr std::size_t size = members<T>::size;
    static constexpr std::uint32_t absent = 0xFFFFFFFF;

    // Matches `meta`'s columns to T's members. check_types: also check each member's type
    // (else a decoding error is explained when it happens). lenient: members without a
    // column are left alone and columns without a member ignored (an LWT's current row).
    static std::error_code make(const protocol::result_metadata* meta, row_plan& out,
                                std::string* why, bool check_types, bool lenient = false) {
        static_assert(members_have_codecs<T>());
        const auto& mapping = model_of<T>().mapping();
        if (!mapping.errors.empty())
            return fail(mapping_errc::invalid_model, why, mapping.errors[0]);
        const bool named = meta && !meta->no_metadata && mapping.by_name;
        const std::size_t columns =
            meta ? static_cast<std::size_t>(meta->column_count) : std::size_t{size};
        out.meta_ = meta && !meta->no_metadata ? meta : nullptr;
        std::size_t matched = 0;
        for (std::size_t i = 0; i < size; ++i) {
            std::size_t c = i;
            if (named) {
                c = columns;
                for (std::size_t k = 0; k < columns; ++k) {
                    const std::size_t at = (i + k) % columns;
                    if (meta->columns[at].name == mapping.members[i].column) {
                        c = at;
                        break;
                    }
                }
            }
            if (c >= columns) {
                out.column_[i] = absent;
                if (lenient) continue;
                return fail(mapping_errc::missing_column, why, missing_message(mapping, i, meta));
            }
            out.column_[i] = static_cast<std::uint32_t>(c);
            ++matched;
        }
        if (!lenient && matched != columns)
            return fail(mapping_errc::extra_column, why, extra_message(mapping, out, meta));
        if (check_types && out.meta_) {
            std::error_code ec;
            for_each_member_index<T>([&](auto i) {
                if (!ec && out.column_[i] != absent) ec = out.check_type<i>(why);
            });
            if (ec) return ec;
        }
        return {};
    }

    // True when at least one member has a column.
    bool any_column() const noexcept {
        for (auto c : column_)
            if (c != absent) return true;
        return false;
    }

    std::error_code read(const row_view& row, T& out, std::string* why) const {
        std::error_code ec;
        for_each_member_index<T>([&](auto i) {
            if (ec || column_[i] == absent) return;
            auto& m = members<T>::template get<i>(out);
            if (row.try_get(column_[i], m)) ec = failed<i>(row, m, why);
        });
        return ec;
    }

  private:
    static std::error_code fail(mapping_errc e, std::string* why, std::string message) {
        if (why) *why = std::move(message);
        return e;
    }

    // Why member I could not be read (off the common path): a null into a member that is
    // not optional (a null collection reads as an empty one), a type the member cannot
    // hold, or a malformed value.
    template <std::size_t I>
    [[gnu::cold, gnu::noinline]] std::error_code failed(const row_view& row, member_type<T, I>& m,
                                                        std::string* why) const {
        using M = member_type<T, I>;
        const std::size_t c = column_[I];
        const auto& mapping = model_of<T>().mapping();
        if (c < row.size() && row[c].state != protocol::value_view::kind::bytes) {
            if constexpr (is_collection_v<M>) {
                m.clear();  // Cassandra stores an empty collection as null
                return {};
            }
            return fail(mapping_errc::null_value, why,
                        "cql mapping: column '" + column_name(c) + "' is null but member '" +
                            mapping.members[I].member + "' of " + mapping.struct_name + " (" +
                            cpp_type_name<M>() + ") is not optional");
        }
        if (meta_)
            if (auto ec = check_type<I>(why)) return ec;
        const auto e = row.try_get(c, m);
        if (why)
            *why = "cql mapping: column '" + column_name(c) + "' into member '" +
                   mapping.members[I].member + "' of " + mapping.struct_name + ": " + e.message();
        return e;
    }

    std::string column_name(std::size_t c) const {
        if (meta_ && c < meta_->columns.size()) return std::string(meta_->columns[c].name);
        return "#" + std::to_string(c);
    }

    template <std::size_t I>
    std::error_code check_type(std::string* why) const {
        using M = member_type<T, I>;
        const auto& col = meta_->columns[column_[I]];
        std::string detail;
        if (type_fits<M>(col.type, detail)) return {};
        const auto& mapping = model_of<T>().mapping();
        return fail(mapping_errc::type_mismatch, why,
                    type_mismatch_message("column", mapping.members[I].member, mapping.struct_name,
                                          cpp_type_name<M>(), col.name, col.type, detail));
    }

    static std::string missing_message(const struct_mapping& mapping, std::size_t i,
                                       const protocol::result_metadata* meta) {
        std::string out =
            "cql mapping: member '" + mapping.members[i].member + "' of " + mapping.struct_name;
        if (!mapping.by_name || !meta || meta->no_metadata)
            return out + " is member " + std::to_string(i) + " but the result has only " +
                   std::to_string(meta ? meta->column_count : 0) + " columns";
        out += " has no column '" + mapping.members[i].column + "' in the result (columns:";
        for (const auto& c : meta->columns)
            out += " " + std::string(c.name);
        return out + ")";
    }
    static std::string extra_message(const struct_mapping& mapping, const row_plan& plan,
                                     const protocol::result_metadata* meta) {
        const std::size_t columns = meta ? static_cast<std::size_t>(meta->column_count) : 0;
        for (std::size_t c = 0; c < columns; ++c) {
            bool used = false;
            for (auto col : plan.column_)
                used = used || col == c;
            if (used) continue;
            if (meta->no_metadata || c >= meta->columns.size())
                return "cql mapping: the result has " + std::to_string(columns) +
                       " columns, struct " + mapping.struct_name + " " + std::to_string(size) +
                       " members";
            return "cql mapping: column '" + std::string(meta->columns[c].name) + "' (CQL " +
                   protocol::to_cql_string(meta->columns[c].type) +
                   ") of the result has no member in " + mapping.struct_name;
        }
        return "cql mapping: the result's columns do not match " + mapping.struct_name;
    }

    std::array<std::uint32_t, size> column_{};
    const protocol::result_metadata* meta_ = nullptr;
};

[[noreturn]] void throw_mapping_error(std::error_code ec, const std::string& why);

template <mapped_struct T>
T read_struct(const row_view& row) {
    row_plan<T> plan;
    std::string why;
    T out{};
    auto ec = row_plan<T>::make(row.metadata(), plan, &why, false);
    if (!ec) ec = plan.read(row, out, &why);
    if (ec) throw_mapping_error(ec, why);
    return out;
}

}  // namespace detail

/// Reads `row` into `out` (see the file description); `why` (if given) gets the message of
/// a failure. `out` is unspecified on error.
template <mapped_struct T>
std::error_code try_read(const row_view& row, T& out, std::string* why = nullptr) {
    detail::row_plan<T> plan;
    if (auto ec = detail::row_plan<T>::make(row.metadata(), plan, why, true)) return ec;
    return plan.read(row, out, why);
}

/// The rows of a result as values of `T`: a forward range whose iterator decodes one row
/// per dereference. The columns are matched and checked when it is made; error() tells the
/// outcome (dereferencing then throws it). Views the result: keep the result alive.
template <mapped_struct T>
class mapped_rows {
  public:
    /// Matches the columns of `r` to the members of T.
    explicit mapped_rows(const result& r) : result_(&r) {
        ec_ = detail::row_plan<T>::make(&r.metadata(), plan_, &why_, true);
    }

    /// The outcome of matching the columns (mapping_errc::missing_column, ...).
    std::error_code error() const noexcept { return ec_; }
    /// The explanation of error() ("" when none).
    const std::string& error_message() const noexcept { return why_; }

    /// Decodes the rows it passes over.
    class iterator {
      public:
        using value_type = T;                    ///< what operator* returns
        using difference_type = std::ptrdiff_t;  ///< for std::iterator_traits
        iterator() = default;                    ///< a singular iterator
        /// At `it` of `rows`.
        iterator(const mapped_rows* rows, result::iterator it) : rows_(rows), it_(it) {}
        /// The current row as T; throws boost::system::system_error on a mapping error.
        T operator*() const {
            T out{};
            std::string why;
            if (auto ec = rows_->read(*it_, out, &why)) detail::throw_mapping_error(ec, why);
            return out;
        }
        /// The next row.
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
        const mapped_rows* rows_ = nullptr;
        result::iterator it_;
    };

    iterator begin() const { return {this, result_->begin()}; }    ///< the first row
    iterator end() const { return {this, result_->end()}; }        ///< past the last row
    std::size_t size() const noexcept { return result_->size(); }  ///< rows of the page
    bool empty() const noexcept { return result_->empty(); }       ///< no rows

    /// Reads one row of the result into `out` (the plan made at construction).
    std::error_code read(const row_view& row, T& out, std::string* why = nullptr) const {
        if (ec_) {
            if (why) *why = why_;
            return ec_;
        }
        return plan_.read(row, out, why);
    }
    /// Appends every row to `out`; stops at the first error.
    std::error_code try_read_all(std::vector<T>& out, std::string* why = nullptr) const {
        out.reserve(out.size() + size());
        for (row_view row : *result_) {
            T v{};
            if (auto ec = read(row, v, why)) return ec;
            out.push_back(std::move(v));
        }
        return {};
    }
    /// Every row; throws boost::system::system_error on a mapping error.
    std::vector<T> to_vector() const {
        std::vector<T> out;
        std::string why;
        if (auto ec = try_read_all(out, &why)) detail::throw_mapping_error(ec, why);
        return out;
    }

  private:
    const result* result_;
    detail::row_plan<T> plan_;
    std::error_code ec_;
    std::string why_;
};

/// The rows of `r` as values of `T` (see mapped_rows).
template <mapped_struct T>
mapped_rows<T> rows_of(const result& r) {
    return mapped_rows<T>(r);
}

}  // namespace cql
