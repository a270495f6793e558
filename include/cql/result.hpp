#pragma once
// The result of executing a statement: owns the response frame it was decoded from; rows
// are views into that frame (zero copy) until the caller asks for owning values.
//
//   for (cql::row_view row : r) {
//       auto [k, v] = row.as<std::int32_t, std::string_view>();   // views into r
//       std::optional<double> d = row.get<std::optional<double>>(2);
//   }
//
// get<T>/as<Ts...> check each column's type once against T (protocol/cells.hpp) and
// throw boost::system::system_error (protocol::codec_errc::value_type_mismatch, or
// errc::bad_bind_value for a column index out of range) on a mismatch or a null read
// into a non-optional T; try_get returns the error instead.

#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/system/system_error.hpp>

#include "cql/error.hpp"
#include "cql/protocol/cells.hpp"
#include "cql/protocol/responses.hpp"
#include "cql/response.hpp"

namespace cql {

namespace detail {
template <class T>
struct optional_inner {
    using type = void;
};
template <class T>
struct optional_inner<std::optional<T>> {
    using type = T;
};
}  // namespace detail

class row_view {
  public:
    row_view() = default;
    row_view(protocol::row_view cells, const protocol::result_metadata* meta) noexcept
        : cells_(cells), meta_(meta) {}

    std::size_t size() const noexcept { return cells_.size(); }
    // The raw cell (null is value_view::null()).
    protocol::value_view operator[](std::size_t i) const noexcept { return cells_[i]; }
    // Index of a column by name, or size() when there is none (or no metadata).
    std::size_t index_of(std::string_view column) const noexcept;

    template <class T>
    std::error_code try_get(std::size_t i, T& out) const {
        if (i >= size()) return errc::bad_bind_value;
        const auto cell = cells_[i];
        const protocol::data_type* type = meta_ && !meta_->no_metadata && i < meta_->columns.size()
                                              ? &meta_->columns[i].type
                                              : nullptr;
        using inner = typename detail::optional_inner<T>::type;
        if constexpr (!std::is_void_v<inner>) {
            std::optional<inner> probe;
            if (auto ec = protocol::decode_cell(cell, probe)) return ec;  // null/empty -> nullopt
            if (!probe) {
                out.reset();
                return {};
            }
            inner v{};
            if (auto ec = type ? protocol::decode_cell(*type, cell.data, v)
                               : protocol::decode_cell(cell.data, v))
                return ec;
            out = std::move(v);
            return {};
        } else {
            if (cell.state != protocol::value_view::kind::bytes)
                return protocol::codec_errc::value_type_mismatch;
            return type ? protocol::decode_cell(*type, cell.data, out)
                        : protocol::decode_cell(cell.data, out);
        }
    }

    template <class T>
    T get(std::size_t i) const {
        T out{};
        if (auto ec = try_get(i, out)) throw boost::system::system_error(error_code(ec));
        return out;
    }
    template <class T>
    T get(std::string_view column) const {
        return get<T>(index_of(column));
    }

    template <class... Ts>
    std::tuple<Ts...> as() const {
        return as_impl<Ts...>(std::index_sequence_for<Ts...>{});
    }

  private:
    template <class... Ts, std::size_t... I>
    std::tuple<Ts...> as_impl(std::index_sequence<I...>) const {
        return std::tuple<Ts...>{get<Ts>(I)...};
    }

    protocol::row_view cells_;
    const protocol::result_metadata* meta_ = nullptr;
};

class result {
  public:
    enum class kind { none, void_, rows, set_keyspace, prepared, schema_change };

    result() = default;
    result(result&&) noexcept = default;
    result& operator=(result&&) noexcept = default;

    // Decodes a RESULT response (an ERROR gives its server error code; any other opcode
    // errc::unexpected_response). On success `out` owns the response.
    static std::error_code from_response(response&& r, result& out);

    kind type() const noexcept { return kind_; }
    const response& raw() const noexcept { return response_; }
    const std::vector<std::string_view>& warnings() const noexcept { return response_.warnings(); }

    // Rows (empty for other kinds).
    const protocol::result_metadata& metadata() const noexcept { return rows_.metadata; }
    std::size_t column_count() const noexcept {
        return static_cast<std::size_t>(rows_.metadata.column_count);
    }
    std::size_t size() const noexcept { return static_cast<std::size_t>(rows_.row_count); }
    bool empty() const noexcept { return rows_.row_count == 0; }
    bool has_more_pages() const noexcept { return rows_.metadata.paging_state.has_value(); }
    std::optional<protocol::bytes_view> paging_state() const noexcept {
        return rows_.metadata.paging_state;
    }

    class iterator {
      public:
        using value_type = row_view;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        iterator(protocol::rows_range::iterator it, const protocol::result_metadata* m)
            : it_(it), meta_(m) {}
        row_view operator*() const noexcept { return {*it_, meta_}; }
        iterator& operator++() noexcept {
            ++it_;
            return *this;
        }
        iterator operator++(int) noexcept {
            auto old = *this;
            ++it_;
            return old;
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept {
            return a.it_ == b.it_;
        }

      private:
        protocol::rows_range::iterator it_;
        const protocol::result_metadata* meta_ = nullptr;
    };
    iterator begin() const noexcept { return {rows_.rows().begin(), &rows_.metadata}; }
    iterator end() const noexcept { return {rows_.rows().end(), &rows_.metadata}; }
    // The first row (precondition: !empty()).
    row_view front() const noexcept { return *begin(); }

    // Set_keyspace: the keyspace; Prepared and Schema_change: the decoded message.
    std::string_view keyspace() const noexcept { return keyspace_; }
    const protocol::response& message() const noexcept { return message_; }

  private:
    response response_;
    protocol::response message_;
    protocol::rows_result rows_;
    std::string_view keyspace_;
    kind kind_ = kind::none;
};

}  // namespace cql
