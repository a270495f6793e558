#pragma once
// A BATCH of simple and prepared statements (logged, unlogged or counter).
//
//   cql::batch b(cql::batch_type::unlogged);
//   b.add(cql::statement("INSERT INTO ks.t (k, v) VALUES (?, ?)", 1, "a"));
//   b.add(ins.bind(2, "b"));
//   co_await s.async_batch(b, asio::use_awaitable);
//
// Named values cannot be sent in a BATCH (the protocol has no names there): such a batch
// fails with session_errc::bad_statement.

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

class batch {
  public:
    explicit batch(batch_type t = batch_type::logged) : type_(t) {}

    batch& add(statement s) {
        entries_.emplace_back(std::move(s));
        return *this;
    }
    batch& add(bound_statement s) {
        entries_.emplace_back(std::move(s));
        return *this;
    }
    std::size_t size() const noexcept { return entries_.size(); }
    batch_type type() const noexcept { return type_; }
    const std::vector<std::variant<statement, bound_statement>>& entries() const noexcept {
        return entries_;
    }

    batch& consistency(cql::consistency c) {
        consistency_ = c;
        return *this;
    }
    std::optional<cql::consistency> consistency() const noexcept { return consistency_; }
    batch& serial_consistency(cql::consistency c) {
        serial_consistency_ = c;
        return *this;
    }
    std::optional<cql::consistency> serial_consistency() const noexcept {
        return serial_consistency_;
    }
    batch& timestamp(std::int64_t micros) {
        timestamp_ = micros;
        return *this;
    }
    std::optional<std::int64_t> timestamp() const noexcept { return timestamp_; }
    batch& idempotent(bool yes) {
        idempotent_ = yes;
        return *this;
    }
    std::optional<bool> idempotent() const noexcept { return idempotent_; }
    batch& timeout(std::chrono::milliseconds t) {
        timeout_ = t;
        return *this;
    }
    std::optional<std::chrono::milliseconds> timeout() const noexcept { return timeout_; }
    batch& execution_profile(std::string name) {
        profile_ = std::move(name);
        return *this;
    }
    const std::string& execution_profile() const noexcept { return profile_; }
    batch& tracing(bool on) {
        tracing_ = on;
        return *this;
    }
    bool tracing() const noexcept { return tracing_; }

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
};

}  // namespace cql
