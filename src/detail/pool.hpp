#pragma once
// The connections of one shard to one host: opened at start, replaced when they fail (at
// once, then with the reconnection policy's backoff), handed to requests with room for one
// more (the least loaded first), and a bounded FIFO queue of requests waiting when every
// connection is busy. Everything runs on the shard's executor.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "cql/host.hpp"
#include "cql/policies/reconnection.hpp"
#include "detail/connection.hpp"
#include "detail/engine.hpp"
#include "detail/pool_connection.hpp"

namespace cql::detail {

// One connection of a pool, as requests see it.
class pooled_channel final : public channel {
  public:
    explicit pooled_channel(std::shared_ptr<pool_connection> c) : conn(std::move(c)) {}
    std::error_code send(stream_callback* cb, protocol::bytes_view frame,
                         std::int16_t& id) override {
        return conn->send(cb, frame, id);
    }
    void abandon(std::int16_t id) noexcept override { conn->abandon(id); }
    protocol::protocol_version version() const noexcept override { return conn->version(); }
    clock::time_point last_read() const noexcept override { return conn->last_read(); }

    std::shared_ptr<pool_connection> conn;
    std::size_t inflight = 0;  // requests that acquired it
};

// Makes the pool's connections (default: socket connections on the pool's executor).
using connection_factory =
    std::function<std::shared_ptr<pool_connection>(const strand_executor&, connection_config)>;

// What a pool needs from its shard and cluster.
struct pool_settings {
    connection_factory factory;  // empty: socket connections
    std::size_t connections = 1;
    std::size_t max_requests_per_connection = 1024;
    std::size_t max_wait_queue = 4096;
    std::function<connection_config()> connection_settings;  // for each new connection
    std::shared_ptr<reconnection_policy> reconnection;
    // The pool has a ready connection (true) or lost its last one / could open none (false,
    // with the error of the last attempt and its details).
    std::function<void(bool healthy, std::error_code ec, const std::string& why)> on_health;
    std::function<void(log_level, const std::string&)> log;
};

class host_pool final : public channel_pool, public std::enable_shared_from_this<host_pool> {
  public:
    host_pool(strand_executor ex, host_ptr h, pool_settings s);
    ~host_pool();

    const host_ptr& host() const noexcept { return host_; }
    // Opens the connections (and keeps them open) until close().
    void start();
    // Closes every connection (requests in flight complete with `why`); waiters fail with it.
    void close(std::error_code why);
    // For a host that plans no longer use while it is up (its distance became ignored): opens
    // no connection any more and closes each as its last request releases it (waiters are
    // still served by them), so the requests it carries complete; close() would fail them.
    void retire();
    // Retired (or closed) and without connections: nothing refers to the pool any more.
    bool drained() const noexcept;
    // Reconnects now (an UP event); reset_schedule: the backoff starts again.
    void wake(bool reset_schedule);
    bool healthy() const noexcept;
    std::size_t size() const noexcept { return channels_.size(); }
    std::vector<std::shared_ptr<pool_connection>> connections() const;

    channel* try_acquire() override;
    void release(channel& c) override;
    std::error_code wait(pool_waiter& w) override;
    void cancel_wait(pool_waiter& w) noexcept override;

  private:
    void open_one();
    void on_open(std::shared_ptr<pool_connection> c, std::error_code ec);
    void on_connection_down(const void* c, std::error_code ec);
    void schedule_reconnect();
    void report(bool healthy, std::error_code ec, const std::string& why);
    void fail_waiters(std::error_code ec);
    void close_idle();
    pooled_channel* pick() noexcept;
    void serve_waiters();

    strand_executor ex_;
    host_ptr host_;
    pool_settings s_;
    std::vector<std::unique_ptr<pooled_channel>> channels_;
    std::vector<std::shared_ptr<pool_connection>> opening_;  // connecting now
    asio::steady_timer reconnect_timer_;
    bool reconnect_pending_ = false;
    std::unique_ptr<reconnection_schedule> schedule_;
    bool was_healthy_ = false;
    std::optional<bool> reported_;  // the last health reported
    bool closed_ = false;
    bool retiring_ = false;
    std::error_code closed_why_;
    // Waiters: an intrusive FIFO list.
    pool_waiter* head_ = nullptr;
    pool_waiter* tail_ = nullptr;
    std::size_t waiting_ = 0;
};

}  // namespace cql::detail
