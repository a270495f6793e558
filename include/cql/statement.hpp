#pragma once
// A simple (unprepared) statement: CQL text, bound values (positional or named), and the
// per-request settings that travel in QUERY's <query_parameters> or steer the driver.
//
//   cql::statement s("SELECT k, v FROM ks.t WHERE k = ? AND c > ?", 42, "x");
//   s.consistency(cql::consistency::local_quorum).page_size(500).idempotent(true);
//
//   cql::statement n("UPDATE ks.t SET v = :v WHERE k = :k");
//   n.bind("v", std::optional<std::string_view>{}).bind("k", 7);   // named: QUERY only
//
// Values are encoded when bound (protocol/cells.hpp codecs: int8..int64, bool, float,
// double, string/string_view/const char*, bytes, uuid, inet, date/time/timestamp,
// duration, varint, decimal, std::optional<T> for null, cql::null, cql::unset). A value
// the codec refuses leaves the statement with bind_error() == errc::bad_bind_value; the
// request then fails with that code without being sent. Mixing positional and named
// values is such an error too.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "cql/error.hpp"
#include "cql/protocol/bytes.hpp"
#include "cql/protocol/cells.hpp"
#include "cql/protocol/requests.hpp"
#include "cql/protocol/version.hpp"

namespace cql {

struct null_t {};
struct unset_t {};
inline constexpr null_t null{};    // binds a null
inline constexpr unset_t unset{};  // binds "not set" (v4+): the column keeps its value

class statement {
  public:
    statement() = default;
    explicit statement(std::string query) : query_(std::move(query)) {}
    template <class First, class... Rest>
    statement(std::string query, const First& first, const Rest&... rest)
        : query_(std::move(query)) {
        bind(first);
        (bind(rest), ...);
    }

    const std::string& query() const noexcept { return query_; }

    // ---- values ----
    template <class T>
    statement& bind(const T& v) {
        if (!names_.empty()) return fail();
        return append(v);
    }
    template <class T>
    statement& bind(std::string_view name, const T& v) {
        if (names_.size() != cells_.size()) return fail();
        names_.emplace_back(name);
        append(v);
        if (cells_.size() != names_.size()) names_.pop_back();
        return *this;
    }
    statement& clear_values() {
        values_.clear();
        cells_.clear();
        names_.clear();
        bind_error_ = {};
        return *this;
    }
    std::size_t value_count() const noexcept { return cells_.size(); }
    bool has_names() const noexcept { return !names_.empty(); }
    std::error_code bind_error() const noexcept { return bind_error_; }

    // ---- settings ----
    statement& consistency(cql::consistency c) {
        consistency_ = c;
        return *this;
    }
    std::optional<cql::consistency> consistency() const noexcept { return consistency_; }
    statement& serial_consistency(cql::consistency c) {
        serial_consistency_ = c;
        return *this;
    }
    std::optional<cql::consistency> serial_consistency() const noexcept {
        return serial_consistency_;
    }
    // Rows per page; <= 0 disables paging. Unset: the profile's default.
    statement& page_size(std::int32_t n) {
        page_size_ = n;
        return *this;
    }
    std::optional<std::int32_t> page_size() const noexcept { return page_size_; }
    // The paging state of the previous page (copied); empty: first page.
    statement& paging_state(protocol::bytes_view state) {
        paging_state_.assign(state.begin(), state.end());
        has_paging_state_ = true;
        return *this;
    }
    statement& clear_paging_state() {
        paging_state_.clear();
        has_paging_state_ = false;
        return *this;
    }
    std::optional<protocol::bytes_view> paging_state() const noexcept {
        if (!has_paging_state_) return std::nullopt;
        return protocol::bytes_view(paging_state_);
    }
    // Safe to retry or to execute speculatively. Unset: the profile's default.
    statement& idempotent(bool yes) {
        idempotent_ = yes;
        return *this;
    }
    std::optional<bool> idempotent() const noexcept { return idempotent_; }
    // Client-side write timestamp in microseconds since the epoch.
    statement& timestamp(std::int64_t micros) {
        timestamp_ = micros;
        return *this;
    }
    std::optional<std::int64_t> timestamp() const noexcept { return timestamp_; }
    // Keyspace the statement runs in (v5 QUERY field; also routing).
    statement& keyspace(std::string ks) {
        keyspace_ = std::move(ks);
        return *this;
    }
    const std::optional<std::string>& keyspace() const noexcept { return keyspace_; }
    statement& tracing(bool on) {
        tracing_ = on;
        return *this;
    }
    bool tracing() const noexcept { return tracing_; }
    // Driver-side settings: request timeout and execution profile name (empty: default).
    statement& timeout(std::chrono::milliseconds t) {
        timeout_ = t;
        return *this;
    }
    std::optional<std::chrono::milliseconds> timeout() const noexcept { return timeout_; }
    statement& execution_profile(std::string name) {
        profile_ = std::move(name);
        return *this;
    }
    const std::string& execution_profile() const noexcept { return profile_; }

    // ---- to the wire ----
    // The bound values as [value]s (views into this statement).
    std::vector<protocol::value_view> values() const;
    std::vector<std::string_view> names() const;

    // A QUERY message viewing this statement and the two arrays given (keep all three
    // alive while it is encoded). `default_consistency` applies when none is set.
    protocol::query_request to_query(
        std::vector<protocol::value_view>& values, std::vector<std::string_view>& names,
        cql::consistency default_consistency = cql::consistency::local_one) const;
    // Appends the whole QUERY frame (stream 0: the connection sets it). bad_bind_value
    // if a value could not be bound; the encoder's errors otherwise.
    std::error_code encode_query_frame(
        protocol::byte_buffer& out, protocol::protocol_version v,
        cql::consistency default_consistency = cql::consistency::local_one) const;

  private:
    struct cell {
        std::int32_t offset = 0;
        std::int32_t length = 0;  // -1 null, -2 not set
    };

    statement& fail() {
        if (!bind_error_) bind_error_ = errc::bad_bind_value;
        return *this;
    }
    statement& append(null_t) {
        cells_.push_back({0, -1});
        return *this;
    }
    statement& append(unset_t) {
        cells_.push_back({0, -2});
        return *this;
    }
    template <class T>
    statement& append(const std::optional<T>& v) {
        if (!v) return append(null);
        return append(*v);
    }
    statement& append(const char* s) { return append(std::string_view(s)); }
    template <class T>
    statement& append(const T& v) {
        if constexpr (protocol::cell_type<T>) {
            const auto at = values_.size();
            protocol::byte_writer w(values_);
            if (protocol::encode_cell(w, v) || values_.size() - at > 0x7FFFFFFF) {
                values_.resize(at);
                return fail();
            }
            cells_.push_back(
                {static_cast<std::int32_t>(at), static_cast<std::int32_t>(values_.size() - at)});
            return *this;
        } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
            return append(std::string_view(v));
        } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T> && sizeof(T) == 8) {
            return append(static_cast<std::int64_t>(v));  // long long
        } else {
            static_assert(sizeof(T) == 0, "no CQL codec for this type");
            return *this;
        }
    }

    std::string query_;
    protocol::byte_buffer values_;
    std::vector<cell> cells_;
    std::vector<std::string> names_;
    std::error_code bind_error_;

    std::optional<cql::consistency> consistency_;
    std::optional<cql::consistency> serial_consistency_;
    std::optional<std::int32_t> page_size_;
    protocol::byte_buffer paging_state_;
    bool has_paging_state_ = false;
    std::optional<bool> idempotent_;
    std::optional<std::int64_t> timestamp_;
    std::optional<std::string> keyspace_;
    bool tracing_ = false;
    std::optional<std::chrono::milliseconds> timeout_;
    std::string profile_;
};

}  // namespace cql
