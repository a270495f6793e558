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

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "cql/detail/type_names.hpp"
#include "cql/protocol/bytes.hpp"
#include "cql/protocol/cells.hpp"
#include "cql/protocol/types.hpp"
#include "cql/statement.hpp"
#include "cql/values.hpp"

namespace cql {

/// A bind marker or result column of a prepared statement.
struct prepared_column {
    std::string keyspace;      ///< the keyspace of its table
    std::string table;         ///< its table
    std::string name;          ///< the column (or marker) name
    protocol::data_type type;  ///< its CQL type
};

/// \cond internal
namespace detail {
struct result_columns;   // the result columns EXECUTE may skip (src/detail/result_columns.hpp)
struct prepared_access;  // the driver's access to them
}  // namespace detail
/// \endcond

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
    friend struct detail::prepared_access;
    mutable std::mutex mutex_;
    mutable protocol::byte_buffer result_metadata_id_;
    // The result columns an EXECUTE leaves out of its answer (skip_metadata) and reads its
    // rows with, or null (never skipped). Replaced when the server's answers show that they
    // changed; every version stays in versions_ while the statement lives, since results
    // read with an older one may still be in the user's hands.
    mutable std::atomic<const detail::result_columns*> skippable_{nullptr};
    mutable std::vector<std::shared_ptr<const detail::result_columns>> versions_;
    bool skip_with_v4_ = false;  // its columns are named in its text (v4 cannot tell a change)
};

class bound_statement;
class prepared_statement;

namespace detail {
template <mapped_struct T>  // cql/mapping/bind.hpp
std::error_code bind_members(const prepared_statement& p, const T& v, bound_statement& out,
                             std::string* why);
}  // namespace detail

/// \cond internal
namespace detail {
// "bind marker 2 (\"id\", bigint)"
std::string describe_marker(std::size_t marker, const prepared_column& c);
// "a std::string cannot be bound to it"
std::string mismatch_reason(const std::string& cpp_type);
// A double as text, without a trailing run of zeros ("0.1", "1e+300").
std::string describe_double(double v);
}  // namespace detail
/// \endcond

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
    /// bound_statement::bind(const T&), checked against its marker's type); bind failures
    /// show in its settings().bind_error() and bind_error_message(). With one mapped
    /// struct, its members bound by marker name (cql/mapping/bind.hpp).
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

    /// Appends a positional value, as statement::bind(const T&), checked against the type of
    /// its marker: a value that does not fit (a string for an int, a std::vector<int> for a
    /// list<text>, 300 for a tinyint) sets settings().bind_error() with a message naming the
    /// marker, its CQL type and the C++ type, and the execution fails without sending
    /// anything. Integers bind to any CQL integer type their value fits in (43 to a bigint
    /// marker is sent as a bigint), to varint and decimal, and to timestamp and time; a float
    /// to a double marker, a double to a float marker when it is exactly a float.
    template <class T>
    bound_statement& bind(const T& v) {
        const auto i = st_.value_count();
        if (info_ && !st_.has_names() && i < info_->variables.size())
            bind_checked(i, v, [this](const auto& x) { st_.bind(x); });
        else
            st_.bind(v);
        return *this;
    }
    /// By marker name (sent with the names flag), checked as bind(const T&) against the
    /// marker of that name (a name the statement does not have is left to the server).
    template <class T>
    bound_statement& bind(std::string_view name, const T& v) {
        if (info_) {
            for (std::size_t i = 0; i < info_->variables.size(); ++i) {
                if (info_->variables[i].name == name) {
                    bind_checked(i, v, [&](const auto& x) { st_.bind(name, x); });
                    return *this;
                }
            }
        }
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
    template <class T, class Bind>
    void bind_checked(std::size_t marker, const T& v, const Bind& bind);
    template <class T, class Bind>
    void bind_integer(std::size_t marker, T value, const Bind& bind);
    // Records why the value for `marker` cannot be bound (and binds a null in its place, so
    // that the values after it keep their positions).
    template <class Bind>
    void refuse(std::size_t marker, const std::string& why, const Bind& bind) {
        st_.fail(detail::describe_marker(marker, info_->variables[marker]) + ": " + why);
        bind(null);
    }

    std::shared_ptr<const prepared_info> info_;
    cql::statement st_;
};

template <class T, class Bind>
void bound_statement::bind_checked(std::size_t marker, const T& v, const Bind& bind) {
    using protocol::type_id;
    const auto& type = info_->variables[marker].type;
    if constexpr (std::is_same_v<T, null_t> || std::is_same_v<T, unset_t>) {
        bind(v);
    } else if constexpr (values::detail::is_optional<T>::value) {
        if (v)
            bind_checked(marker, *v, bind);
        else
            bind(null);
    } else if constexpr (std::is_convertible_v<const T&, std::string_view> &&
                         !std::is_same_v<T, protocol::bytes_view>) {
        const std::string_view text(v);
        if (!protocol::cell_accepts<std::string_view>(type))
            refuse(marker, detail::mismatch_reason(detail::type_name<T>()), bind);
        else if (type.id == type_id::ascii && !protocol::is_valid_ascii(protocol::as_bytes(text)))
            refuse(marker, "the string is not ASCII (7-bit characters only)", bind);
        else
            bind(text);
    } else if constexpr (detail::is_cql_integer<T>) {
        bind_integer(marker, v, bind);
    } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        if (values::accepts<T>(type))
            bind(v);
        else if (type.id == type_id::double_)
            bind(static_cast<double>(v));
        else if (type.id == type_id::float_ && static_cast<double>(static_cast<float>(v)) == v)
            bind(static_cast<float>(v));
        else if (type.id == type_id::float_)
            refuse(marker,
                   detail::describe_double(static_cast<double>(v)) +
                       " is not exactly a float: bind a float",
                   bind);
        else
            refuse(marker, detail::mismatch_reason(detail::type_name<T>()), bind);
    } else if constexpr (values::value_type<T>) {
        if (values::accepts<T>(type))
            bind(v);
        else
            refuse(marker, detail::mismatch_reason(detail::type_name<T>()), bind);
    } else {
        bind(v);  // no codec: statement::bind says so at compile time
    }
}

template <class T, class Bind>
void bound_statement::bind_integer(std::size_t marker, T value, const Bind& bind) {
    using protocol::type_id;
    const auto v = static_cast<std::int64_t>(value);
    auto fits = [v]<class I>(I) {
        return v >= std::numeric_limits<I>::min() && v <= std::numeric_limits<I>::max();
    };
    auto narrow = [&]<class I>(I probe) {
        if (fits(probe))
            bind(static_cast<I>(v));
        else
            refuse(marker, std::to_string(v) + " is out of its range", bind);
    };
    switch (info_->variables[marker].type.id) {
        case type_id::tinyint:
            narrow(std::int8_t{});
            break;
        case type_id::smallint:
            narrow(std::int16_t{});
            break;
        case type_id::int_:
            narrow(std::int32_t{});
            break;
        case type_id::bigint:
        case type_id::counter:
        case type_id::timestamp:
        case type_id::time:
            bind(v);
            break;
        case type_id::varint:
            bind(varint(v));
            break;
        case type_id::decimal:
            bind(decimal(v));
            break;
        default:
            refuse(marker, detail::mismatch_reason(detail::type_name<T>()), bind);
    }
}

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
