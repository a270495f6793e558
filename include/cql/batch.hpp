#pragma once
/// \file
/// A BATCH of simple and prepared statements (logged, unlogged or counter).
///
/// \code
///   cql::batch b(cql::batch_type::unlogged);
///   b.add(cql::statement("INSERT INTO ks.t (k, v) VALUES (?, ?)", 1, "a"));
///   b.add(ins.bind(2, "b"));
///   co_await s.async_batch(b, asio::use_awaitable);
/// \endcode
///
/// Named values cannot be sent in a BATCH (the protocol has no names there): such a batch
/// fails with session_errc::bad_statement.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "cql/prepared.hpp"
#include "cql/protocol/requests.hpp"
#include "cql/statement.hpp"

namespace cql {

using protocol::batch_type;

/// Statements sent together in one BATCH request, run with session::async_batch(). Logged
/// batches are atomic (all or none applied, through the batch log); unlogged ones save that
/// cost (best for statements of one partition); counter batches hold only counter updates.
///
/// Only the values (and query text or prepared id) of the statements added are sent: their
/// own settings (consistency, timestamp, timeout, profile, payload, ...) are ignored; set
/// them on the batch. A value type, not synchronized; it need not outlive the call. The
/// routing key is that of the first prepared statement with a bound partition key.
class batch {
  public:
    /// An empty batch of type `t`.
    explicit batch(batch_type t = batch_type::logged) : type_(t) {}

    // (The members that change entries_ or payload_ are compiled in the library: inline,
    // their vector and variant code cost every file that includes the driver ~0.15 s.)

    /// Adds a simple statement (positional values only).
    batch& add(statement s);
    /// Adds a prepared statement with its values.
    batch& add(bound_statement s);
    /// Number of statements added.
    std::size_t size() const noexcept { return entries_.size(); }
    /// Logged, unlogged or counter.
    batch_type type() const noexcept { return type_; }
    /// The statements added, in order.
    const std::vector<std::variant<statement, bound_statement>>& entries() const noexcept {
        return entries_;
    }

    /// The consistency of the whole batch. Unset: the execution profile's.
    ///@{
    batch& consistency(cql::consistency c) {
        consistency_ = c;
        return *this;
    }
    std::optional<cql::consistency> consistency() const noexcept { return consistency_; }
    ///@}
    /// The serial consistency of a conditional batch. Unset: the execution profile's.
    ///@{
    batch& serial_consistency(cql::consistency c) {
        serial_consistency_ = c;
        return *this;
    }
    std::optional<cql::consistency> serial_consistency() const noexcept {
        return serial_consistency_;
    }
    ///@}
    /// The write timestamp of every statement, in microseconds since the epoch.
    ///@{
    batch& timestamp(std::int64_t micros) {
        timestamp_ = micros;
        return *this;
    }
    std::optional<std::int64_t> timestamp() const noexcept { return timestamp_; }
    ///@}
    /// Safe to retry or to execute speculatively (never for counter batches). Unset: the
    /// profile's default.
    ///@{
    batch& idempotent(bool yes) {
        idempotent_ = yes;
        return *this;
    }
    std::optional<bool> idempotent() const noexcept { return idempotent_; }
    ///@}
    /// Driver-side timeout of the whole request, retries included (zero: none). Unset: the
    /// profile's.
    ///@{
    batch& timeout(std::chrono::milliseconds t) {
        timeout_ = t;
        return *this;
    }
    std::optional<std::chrono::milliseconds> timeout() const noexcept { return timeout_; }
    ///@}
    /// The execution profile's name (empty or unknown: the default profile).
    ///@{
    batch& execution_profile(std::string name) {
        profile_ = std::move(name);
        return *this;
    }
    const std::string& execution_profile() const noexcept { return profile_; }
    ///@}
    /// Asks the server to trace the batch.
    ///@{
    batch& tracing(bool on) {
        tracing_ = on;
        return *this;
    }
    bool tracing() const noexcept { return tracing_; }
    ///@}
    /// Custom payload of the BATCH request (see statement::custom_payload).
    batch& custom_payload(std::string key, protocol::bytes_view value);
    /// The custom payload entries added, in order.
    const std::vector<std::pair<std::string, protocol::byte_buffer>>& custom_payload()
        const noexcept {
        return payload_;
    }

  private:
    batch_type type_;
    std::vector<std::variant<statement, bound_statement>> entries_;
    std::optional<cql::consistency> consistency_;
    std::optional<cql::consistency> serial_consistency_;
    std::optional<std::int64_t> timestamp_;
    std::optional<bool> idempotent_;
    std::optional<std::chrono::milliseconds> timeout_;
    std::string profile_;
    bool tracing_ = false;
    std::vector<std::pair<std::string, protocol::byte_buffer>> payload_;
};

}  // namespace cql
