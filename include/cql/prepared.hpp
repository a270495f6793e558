#pragma once
// Prepared statements. session::async_prepare gives a prepared_statement (a cheap, shared
// handle: copy it freely, from any thread); bind() makes a bound_statement to execute.
//
//   auto ins = co_await s.async_prepare("INSERT INTO ks.t (k, v) VALUES (?, ?)", use_awaitable);
//   co_await s.async_execute(ins.bind(42, "hello").consistency(cql::consistency::quorum),
//                            use_awaitable);
//
// The routing key of a bound statement comes from the partition key markers the server
// named in the PREPARED answer (pk_indexes), so token-aware routing sends it to a replica.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/types.hpp"
#include "cql/statement.hpp"

namespace cql {

struct prepared_column {
    std::string keyspace;
    std::string table;
    std::string name;
    protocol::data_type type;
};

// What the server answered to PREPARE (owned copies).
struct prepared_info {
    std::string query;
    std::string keyspace;  // the keyspace it was prepared in ("" : none)
    protocol::byte_buffer id;
    std::vector<prepared_column> variables;  // bind markers
    std::vector<std::uint16_t> pk_indexes;   // marker index of each partition key component
    std::vector<prepared_column> result_columns;
    std::string routing_keyspace;  // keyspace of the bound table (for routing)

    // v5 result metadata id; replaced when a response says METADATA_CHANGED.
    protocol::byte_buffer result_metadata_id() const {
        std::lock_guard lk(mutex_);
        return result_metadata_id_;
    }
    void set_result_metadata_id(protocol::bytes_view v) const {
        std::lock_guard lk(mutex_);
        result_metadata_id_.assign(v.begin(), v.end());
    }

  private:
    mutable std::mutex mutex_;
    mutable protocol::byte_buffer result_metadata_id_;
};

class bound_statement;

class prepared_statement {
  public:
    prepared_statement() = default;
    explicit prepared_statement(std::shared_ptr<const prepared_info> info)
        : info_(std::move(info)) {}

    explicit operator bool() const noexcept { return info_ != nullptr; }
    const std::string& query() const noexcept { return info_->query; }
    protocol::bytes_view id() const noexcept { return info_->id; }
    const std::vector<prepared_column>& variables() const noexcept { return info_->variables; }
    const std::vector<std::uint16_t>& pk_indexes() const noexcept { return info_->pk_indexes; }
    const std::vector<prepared_column>& result_columns() const noexcept {
        return info_->result_columns;
    }
    const std::shared_ptr<const prepared_info>& info() const noexcept { return info_; }

    // Positional values, in marker order.
    template <class... Args>
    bound_statement bind(const Args&... args) const;

  private:
    std::shared_ptr<const prepared_info> info_;
};

// A prepared statement with its values and per-request settings (as cql::statement).
class bound_statement {
  public:
    bound_statement() = default;
    explicit bound_statement(std::shared_ptr<const prepared_info> info) : info_(std::move(info)) {}

    const std::shared_ptr<const prepared_info>& info() const noexcept { return info_; }
    // The values and settings (the query text is unused).
    const cql::statement& settings() const noexcept { return st_; }
    cql::statement& settings() noexcept { return st_; }

    template <class T>
    bound_statement& bind(const T& v) {
        st_.bind(v);
        return *this;
    }
    // By marker name (sent with the names flag).
    template <class T>
    bound_statement& bind(std::string_view name, const T& v) {
        st_.bind(name, v);
        return *this;
    }
    bound_statement& consistency(cql::consistency c) {
        st_.consistency(c);
        return *this;
    }
    bound_statement& serial_consistency(cql::consistency c) {
        st_.serial_consistency(c);
        return *this;
    }
    bound_statement& page_size(std::int32_t n) {
        st_.page_size(n);
        return *this;
    }
    bound_statement& paging_state(protocol::bytes_view s) {
        st_.paging_state(s);
        return *this;
    }
    bound_statement& clear_paging_state() {
        st_.clear_paging_state();
        return *this;
    }
    bound_statement& idempotent(bool yes) {
        st_.idempotent(yes);
        return *this;
    }
    bound_statement& timestamp(std::int64_t micros) {
        st_.timestamp(micros);
        return *this;
    }
    bound_statement& tracing(bool on) {
        st_.tracing(on);
        return *this;
    }
    bound_statement& timeout(std::chrono::milliseconds t) {
        st_.timeout(t);
        return *this;
    }
    bound_statement& execution_profile(std::string name) {
        st_.execution_profile(std::move(name));
        return *this;
    }

  private:
    std::shared_ptr<const prepared_info> info_;
    cql::statement st_;
};

template <class... Args>
bound_statement prepared_statement::bind(const Args&... args) const {
    bound_statement b(info_);
    (b.bind(args), ...);
    return b;
}

}  // namespace cql
