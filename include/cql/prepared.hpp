#pragma once
/// \file
/// Prepared statements. session::async_prepare gives a prepared_statement (a cheap, shared
/// handle: copy it freely, from any thread); bind() makes a bound_statement to execute.
///
/// \code
///   auto ins = co_await s.async_prepare("INSERT INTO ks.t (k, v) VALUES (?, ?)", use_awaitable);
///   co_await s.async_execute(ins.bind(42, "hello").consistency(cql::consistency::quorum),
///                            use_awaitable);
/// \endcode
///
/// The routing key of a bound statement comes from the partition key markers the server
/// named in the PREPARED answer (pk_indexes), so token-aware routing sends it to a replica.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/types.hpp"
#include "cql/statement.hpp"

namespace cql {

/// A bind marker or result column of a prepared statement.
struct prepared_column {
    std::string keyspace;      ///< the keyspace of its table
    std::string table;         ///< its table
    std::string name;          ///< the column (or marker) name
    protocol::data_type type;  ///< its CQL type
};

/// What the server answered to PREPARE (owned copies).
struct prepared_info {
    std::string query;                       ///< the CQL text as prepared
    std::string keyspace;                    ///< the keyspace it was prepared in ("" : none)
    protocol::byte_buffer id;                ///< the statement id EXECUTE sends
    std::vector<prepared_column> variables;  ///< bind markers
    std::vector<std::uint16_t> pk_indexes;   ///< marker index of each partition key component
    /// Columns of the rows it returns (empty: no rows).
    std::vector<prepared_column> result_columns;
    std::string routing_keyspace;  ///< keyspace of the bound table (for routing)
    /// A conditional update (lightweight transaction: INSERT ... IF NOT EXISTS, UPDATE /
    /// DELETE ... IF ...), or a BATCH holding one: never retried nor executed speculatively,
    /// whatever it is marked. Set by the session at prepare time.
    bool lwt = false;
    /// A counter update (`SET c = c + ?` on a counter column), or a counter BATCH: never
    /// retried nor executed speculatively, whatever it is marked. Set at prepare time.
    bool counter_update = false;

    /// v5 result metadata id; replaced when a response says METADATA_CHANGED.
    protocol::byte_buffer result_metadata_id() const {
        std::lock_guard lk(mutex_);
        return result_metadata_id_;
    }
    /// \copydoc result_metadata_id()
    /// (Into `out`, whose capacity is reused: no allocation per request.)
    void result_metadata_id_into(protocol::byte_buffer& out) const {
        std::lock_guard lk(mutex_);
        out.assign(result_metadata_id_.begin(), result_metadata_id_.end());
    }
    /// \copydoc result_metadata_id()
    void set_result_metadata_id(protocol::bytes_view v) const {
        std::lock_guard lk(mutex_);
        result_metadata_id_.assign(v.begin(), v.end());
    }

  private:
    mutable std::mutex mutex_;
    mutable protocol::byte_buffer result_metadata_id_;
};

class bound_statement;
class prepared_statement;

namespace detail {
template <mapped_struct T>  // cql/mapping/bind.hpp
std::error_code bind_members(const prepared_statement& p, const T& v, bound_statement& out,
                             std::string* why);
}  // namespace detail

/// A statement prepared by session::async_prepare(): a shared, immutable handle (copying it
/// copies a shared_ptr), safe to use from any thread. The session keeps what is needed to
/// re-prepare it on nodes that lost it, so it stays valid for the cluster's lifetime.
/// On an empty handle the accessors return empty values, and executing what bind() gives
/// fails with session_errc::bad_statement (nothing is sent).
class prepared_statement {
  public:
    prepared_statement() = default;  ///< an empty handle (false); what a failed prepare gives
    /// A handle on `info` (the session makes them; tests may too).
    explicit prepared_statement(std::shared_ptr<const prepared_info> info)
        : info_(std::move(info)) {}

    /// False for an empty handle.
    explicit operator bool() const noexcept { return info_ != nullptr; }
    /// The CQL text.
    const std::string& query() const noexcept { return get().query; }
    /// The server's id of the statement.
    protocol::bytes_view id() const noexcept { return get().id; }
    /// The bind markers, in order: names and types of the values bind() expects.
    const std::vector<prepared_column>& variables() const noexcept { return get().variables; }
    /// The marker index of each partition key component (empty: not routable).
    const std::vector<std::uint16_t>& pk_indexes() const noexcept { return get().pk_indexes; }
    /// The columns of the rows it returns (empty for statements without rows).
    const std::vector<prepared_column>& result_columns() const noexcept {
        return get().result_columns;
    }
    /// Everything the server answered.
    const std::shared_ptr<const prepared_info>& info() const noexcept { return info_; }

    /// A bound_statement with positional values, in marker order (each as
    /// statement::bind(const T&)); bind failures show in its settings().bind_error().
    /// With one mapped struct, its members bound by marker name (cql/mapping/bind.hpp).
    template <class... Args>
    bound_statement bind(const Args&... args) const;

  private:
    const prepared_info& get() const noexcept {
        static const prepared_info empty{};
        return info_ ? *info_ : empty;
    }
    std::shared_ptr<const prepared_info> info_;
};

/// A prepared statement with its values and per-request settings (as cql::statement).
/// A value type like cql::statement: copy it, change it, execute it several times; it need
/// not outlive the execute call. Not synchronized. Positional values must match the markers
/// in number (else the execution fails with errc::bad_bind_value, nothing sent). Setters
/// return `*this`; read the settings back through settings().
class bound_statement {
  public:
    /// Empty (no prepared statement): executing it fails with session_errc::bad_statement.
    bound_statement() = default;
    /// Values to bind to the statement `info` (prepared_statement::bind() is the usual way).
    explicit bound_statement(std::shared_ptr<const prepared_info> info) : info_(std::move(info)) {}

    /// The prepared statement it binds.
    const std::shared_ptr<const prepared_info>& info() const noexcept { return info_; }
    /// The values and settings (the query text is unused).
    const cql::statement& settings() const noexcept { return st_; }
    /// \copydoc settings() const
    cql::statement& settings() noexcept { return st_; }

    /// Appends a positional value, as statement::bind(const T&).
    template <class T>
    bound_statement& bind(const T& v) {
        st_.bind(v);
        return *this;
    }
    /// By marker name (sent with the names flag).
    template <class T>
    bound_statement& bind(std::string_view name, const T& v) {
        st_.bind(name, v);
        return *this;
    }
    /// \copydoc statement::consistency(cql::consistency)
    bound_statement& consistency(cql::consistency c) {
        st_.consistency(c);
        return *this;
    }
    /// \copydoc statement::serial_consistency(cql::consistency)
    bound_statement& serial_consistency(cql::consistency c) {
        st_.serial_consistency(c);
        return *this;
    }
    /// \copydoc statement::page_size(std::int32_t)
    bound_statement& page_size(std::int32_t n) {
        st_.page_size(n);
        return *this;
    }
    /// \copydoc statement::paging_state(protocol::bytes_view)
    bound_statement& paging_state(protocol::bytes_view s) {
        st_.paging_state(s);
        return *this;
    }
    /// \copydoc statement::clear_paging_state()
    bound_statement& clear_paging_state() {
        st_.clear_paging_state();
        return *this;
    }
    /// \copydoc statement::idempotent(bool)
    bound_statement& idempotent(bool yes) {
        st_.idempotent(yes);
        return *this;
    }
    /// \copydoc statement::timestamp(std::int64_t)
    bound_statement& timestamp(std::int64_t micros) {
        st_.timestamp(micros);
        return *this;
    }
    /// \copydoc statement::tracing(bool)
    bound_statement& tracing(bool on) {
        st_.tracing(on);
        return *this;
    }
    /// \copydoc statement::timeout(std::chrono::milliseconds)
    bound_statement& timeout(std::chrono::milliseconds t) {
        st_.timeout(t);
        return *this;
    }
    /// \copydoc statement::execution_profile(std::string)
    bound_statement& execution_profile(std::string name) {
        st_.execution_profile(std::move(name));
        return *this;
    }
    /// \copydoc statement::custom_payload(std::string, protocol::bytes_view)
    bound_statement& custom_payload(std::string key, protocol::bytes_view value) {
        st_.custom_payload(std::move(key), value);
        return *this;
    }

  private:
    std::shared_ptr<const prepared_info> info_;
    cql::statement st_;
};

template <class... Args>
bound_statement prepared_statement::bind(const Args&... args) const {
    bound_statement b(info_);
    if constexpr (sizeof...(Args) == 1 && (mapped_struct<Args> && ...))
        (void)detail::bind_members(*this, args..., b, nullptr);
    else
        (b.bind(args), ...);
    return b;
}

}  // namespace cql

#include "cql/mapping/bind.hpp"
