#pragma once
/// \file
/// A simple (unprepared) statement: CQL text, bound values (positional or named), and the
/// per-request settings that travel in QUERY's `<query_parameters>` or steer the driver.
///
/// \code
///   cql::statement s("SELECT k, v FROM ks.t WHERE k = ? AND c > ?", 42, "x");
///   s.consistency(cql::consistency::local_quorum).page_size(500).idempotent(true);
///
///   cql::statement n("UPDATE ks.t SET v = :v WHERE k = :k");
///   n.bind("v", std::optional<std::string_view>{}).bind("k", 7);   // named: QUERY only
/// \endcode
///
/// Values are encoded when bound (protocol/cells.hpp codecs: int8..int64, bool, float,
/// double, string/string_view/const char*, bytes, uuid, inet, date/time/timestamp,
/// duration, varint, decimal, std::optional<T> for null, cql::null, cql::unset). A value
/// the codec refuses leaves the statement with bind_error() == errc::bad_bind_value; the
/// request then fails with that code without being sent. Mixing positional and named
/// values is such an error too.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "cql/detail/type_names.hpp"
#include "cql/error.hpp"
#include "cql/protocol/bytes.hpp"
#include "cql/protocol/cells.hpp"
#include "cql/protocol/requests.hpp"
#include "cql/protocol/version.hpp"
#include "cql/values.hpp"

namespace cql {

struct null_t {};                  ///< the type of cql::null
struct unset_t {};                 ///< the type of cql::unset
inline constexpr null_t null{};    ///< binds a null
inline constexpr unset_t unset{};  ///< binds "not set" (v4+): the column keeps its value

/// A simple (unprepared) statement, run with session::async_execute() (a QUERY: the server
/// parses the text each time; prefer a prepared_statement for statements run often) or
/// added to a batch. A value type: copy it, reuse it, change it between executions; the
/// session encodes it when the operation starts, so it need not outlive the call. Not
/// synchronized: do not modify one statement from several threads at once.
///
/// Setters return `*this` to chain; an unset optional setting falls back to the execution
/// profile's.
class statement {
  public:
    statement() = default;  ///< an empty query (set one before executing)
    /// A statement without values.
    explicit statement(std::string query) : query_(std::move(query)) {}
    /// A statement with positional values, bound in order as by bind(v) for each.
    template <class First, class... Rest>
    statement(std::string query, const First& first, const Rest&... rest)
        : query_(std::move(query)) {
        bind(first);
        (bind(rest), ...);
    }

    const std::string& query() const noexcept { return query_; }  ///< the CQL text

    // ---- values ----
    /// Appends a positional value for the next `?` marker. `T` is any type with a CQL codec
    /// (see the file description), std::optional<T> (nullopt binds null), cql::null or
    /// cql::unset; other types fail to compile. A value the codec refuses, or a positional
    /// value after named ones, sets bind_error().
    template <class T>
    statement& bind(const T& v) {
        if (!names_.empty()) return fail("a positional value after named ones");
        return append(v);
    }
    /// Binds a named value (`:name` marker; names are matched by the server, QUERY only: not
    /// in batches). Mixing with positional values sets bind_error().
    template <class T>
    statement& bind(std::string_view name, const T& v) {
        if (names_.size() != cells_.size())
            return fail("named value \"" + std::string(name) + "\" after positional ones");
        names_.emplace_back(name);
        append(v);
        if (cells_.size() != names_.size()) names_.pop_back();
        return *this;
    }
    /// Removes every value and clears bind_error(), to rebind the same query.
    statement& clear_values() {
        values_.clear();
        cells_.clear();
        names_.clear();
        bind_error_ = {};
        bind_error_message_.clear();
        return *this;
    }
    /// Number of values bound.
    std::size_t value_count() const noexcept { return cells_.size(); }
    /// True when the values are named.
    bool has_names() const noexcept { return !names_.empty(); }
    /// errc::bad_bind_value after a failed bind (the first failure is kept); executing the
    /// statement then fails with it, without sending anything.
    std::error_code bind_error() const noexcept { return bind_error_; }
    /// Why the first failed bind failed, naming the value ("value 2: ...", or for a bound
    /// statement "bind marker 2 (\"id\", bigint): ..."); empty when bind_error() is not set.
    /// Executing the statement fails with this text in the diagnostics.
    const std::string& bind_error_message() const noexcept { return bind_error_message_; }

    // ---- settings ----
    /// The consistency level. Unset: the execution profile's.
    ///@{
    statement& consistency(cql::consistency c) {
        consistency_ = c;
        return *this;
    }
    std::optional<cql::consistency> consistency() const noexcept { return consistency_; }
    ///@}
    /// The serial consistency of a conditional (LWT) statement: serial or local_serial.
    /// Unset: the execution profile's.
    ///@{
    statement& serial_consistency(cql::consistency c) {
        serial_consistency_ = c;
        return *this;
    }
    std::optional<cql::consistency> serial_consistency() const noexcept {
        return serial_consistency_;
    }
    ///@}
    /// Rows per page; <= 0 disables paging. Unset: the profile's default.
    ///@{
    statement& page_size(std::int32_t n) {
        page_size_ = n;
        return *this;
    }
    std::optional<std::int32_t> page_size() const noexcept { return page_size_; }
    ///@}
    /// The paging state of the previous page (copied); empty: first page.
    statement& paging_state(protocol::bytes_view state) {
        paging_state_.assign(state.begin(), state.end());
        has_paging_state_ = true;
        return *this;
    }
    /// Back to the first page.
    statement& clear_paging_state() {
        paging_state_.clear();
        has_paging_state_ = false;
        return *this;
    }
    /// The paging state set (a view into this statement), nullopt for the first page.
    std::optional<protocol::bytes_view> paging_state() const noexcept {
        if (!has_paging_state_) return std::nullopt;
        return protocol::bytes_view(paging_state_);
    }
    /// Safe to retry or to execute speculatively. Unset: the profile's default.
    ///@{
    statement& idempotent(bool yes) {
        idempotent_ = yes;
        return *this;
    }
    std::optional<bool> idempotent() const noexcept { return idempotent_; }
    ///@}
    /// Client-side write timestamp in microseconds since the epoch. Unset: the cluster's
    /// generator when cluster_config::client_timestamps, else the server's clock.
    ///@{
    statement& timestamp(std::int64_t micros) {
        timestamp_ = micros;
        return *this;
    }
    std::optional<std::int64_t> timestamp() const noexcept { return timestamp_; }
    ///@}
    /// Keyspace the statement runs in (v5 QUERY field; also routing).
    ///@{
    statement& keyspace(std::string ks) {
        keyspace_ = std::move(ks);
        return *this;
    }
    const std::optional<std::string>& keyspace() const noexcept { return keyspace_; }
    ///@}
    /// Asks the server to trace the request; the tracing id is in result::tracing_id().
    ///@{
    statement& tracing(bool on) {
        tracing_ = on;
        return *this;
    }
    bool tracing() const noexcept { return tracing_; }
    ///@}
    /// Driver-side request timeout, covering every attempt and retry (zero: none). Unset:
    /// the execution profile's. Expiry fails the request with errc::timed_out.
    ///@{
    statement& timeout(std::chrono::milliseconds t) {
        timeout_ = t;
        return *this;
    }
    std::optional<std::chrono::milliseconds> timeout() const noexcept { return timeout_; }
    ///@}
    /// The name of the execution profile (empty: the default profile; an unknown name also
    /// gets the default profile).
    ///@{
    statement& execution_profile(std::string name) {
        profile_ = std::move(name);
        return *this;
    }
    const std::string& execution_profile() const noexcept { return profile_; }
    ///@}
    /// Custom payload sent with the request (the frame's custom payload flag and its
    /// [bytes map]); the server's own payload is result::custom_payload(). Ignored for the
    /// statements inside a batch: set it on the batch.
    statement& custom_payload(std::string key, protocol::bytes_view value) {
        payload_.emplace_back(std::move(key), protocol::byte_buffer(value.begin(), value.end()));
        return *this;
    }
    /// Removes every custom payload entry.
    statement& clear_custom_payload() {
        payload_.clear();
        return *this;
    }
    /// The custom payload entries added, in order.
    const std::vector<std::pair<std::string, protocol::byte_buffer>>& custom_payload()
        const noexcept {
        return payload_;
    }

    // ---- to the wire ----
    /// The bound values as [value]s (views into this statement).
    std::vector<protocol::value_view> values() const;
    /// As values(), into `out` (cleared first; its capacity is reused).
    void values_into(std::vector<protocol::value_view>& out) const;
    /// The names of named values, in binding order (empty for positional values).
    std::vector<std::string_view> names() const;

    /// A QUERY message viewing this statement and the two arrays given (keep all three
    /// alive while it is encoded). `default_consistency` applies when none is set.
    protocol::query_request to_query(
        std::vector<protocol::value_view>& values, std::vector<std::string_view>& names,
        cql::consistency default_consistency = cql::consistency::local_one) const;
    /// Appends the whole QUERY frame (stream 0: the connection sets it). bad_bind_value
    /// if a value could not be bound; the encoder's errors otherwise.
    std::error_code encode_query_frame(
        protocol::byte_buffer& out, protocol::protocol_version v,
        cql::consistency default_consistency = cql::consistency::local_one) const;

  private:
    friend class bound_statement;  // binds values it checked against the markers' types

    struct cell {
        std::int32_t offset = 0;
        std::int32_t length = 0;  // -1 null, -2 not set
    };

    statement& fail(std::string why) {
        if (!bind_error_) {
            bind_error_ = errc::bad_bind_value;
            bind_error_message_ = std::move(why);
        }
        return *this;
    }
    // "value 3" or "value \"name\"": the value being appended.
    std::string value_label() const {
        if (names_.size() == cells_.size() + 1) return "value \"" + names_.back() + "\"";
        return "value " + std::to_string(cells_.size() + 1);
    }
    template <class T>
    statement& fail_encoding() {
        return fail(value_label() + ": this " + detail::type_name<T>() +
                    " cannot be encoded (outside what its CQL type can hold)");
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
                return fail_encoding<T>();
            }
            cells_.push_back(
                {static_cast<std::int32_t>(at), static_cast<std::int32_t>(values_.size() - at)});
            return *this;
        } else if constexpr (values::composite_type<T>) {
            const auto at = values_.size();
            protocol::byte_writer w(values_);
            if (values::encode(w, v) || values_.size() - at > 0x7FFFFFFF) {
                values_.resize(at);
                return fail_encoding<T>();
            }
            cells_.push_back(
                {static_cast<std::int32_t>(at), static_cast<std::int32_t>(values_.size() - at)});
            return *this;
        } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
            return append(std::string_view(v));
        } else if constexpr (detail::is_cql_integer<T>) {
            return append(detail::exact_width(v));  // long long, long, short, signed char
        } else {
            static_assert(sizeof(T) == 0,
                          "no CQL codec for this type: bind std::int8_t..std::int64_t (or any "
                          "signed integer), float, double, bool, a string, bytes, cql::uuid, "
                          "std::chrono time points, cql value types, std::optional<T>, "
                          "collections (std::vector, std::set, std::map), std::tuple, "
                          "std::array, cql::null or cql::unset");
            return *this;
        }
    }

    std::string query_;
    protocol::byte_buffer values_;
    std::vector<cell> cells_;
    std::vector<std::string> names_;
    std::error_code bind_error_;
    std::string bind_error_message_;

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
    std::vector<std::pair<std::string, protocol::byte_buffer>> payload_;
};

/// The request prefix carrying a custom payload (views into `payload`), or nullopt when it
/// is empty.
inline std::optional<protocol::body_prefix> payload_prefix(
    const std::vector<std::pair<std::string, protocol::byte_buffer>>& payload) {
    if (payload.empty()) return std::nullopt;
    protocol::body_prefix p;
    for (const auto& [k, v] : payload)
        p.custom_payload.emplace_back(k, protocol::value_view::of(v));
    return p;
}

}  // namespace cql
