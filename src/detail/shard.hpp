#pragma once
// A shard: one executor (a strand over an io_context) with its own connection pools to
// every host, its own request deadlines, and the requests running on it. A request
// initiated on any thread runs on one shard from start to completion: its connections'
// answers arrive there, so it crosses no thread once it was submitted. With
// cluster_config::io_threads = N there are N shards, one per io_context; without, one shard
// on the user's executor.

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include "detail/connection.hpp"
#include "detail/engine.hpp"
#include "detail/pool.hpp"
#include "detail/timer_queue.hpp"

namespace cql::detail {

class cluster_impl;

class shard final : public request_env {
  public:
    shard(cluster_impl& c, std::size_t index, strand_executor ex);
    ~shard();
    shard(const shard&) = delete;
    shard& operator=(const shard&) = delete;

    const strand_executor& executor() const noexcept { return ex_; }
    std::size_t index() const noexcept { return index_; }

    // From any thread: counts the request in flight, then runs it here (inline when the
    // caller is on this shard's executor). The slot, when connected, cancels it.
    void submit(request* r, boost::asio::cancellation_slot slot = {});
    // Requests submitted and not yet done (any thread).
    std::size_t in_flight() const noexcept { return in_flight_.load(); }

    // On this shard (the control posts them):
    void add_pool(const host_ptr& h, std::size_t connections);
    void remove_pool(const host_ptr& h);
    // The host's pool stops taking requests and closes once those it carries are done.
    void retire_pool(const host_ptr& h);
    void wake_pool(const host_ptr& h, bool reset_schedule);
    std::shared_ptr<host_pool> pool(const host_ptr& h) const;
    // Closes every pool (requests in flight complete with `why`) and the deadline timer.
    void close(std::error_code why);

    // request_env
    clock::time_point now() override { return clock::now(); }
    channel_pool* pool_for(const host& h) override;
    timer_queue& timers() override { return timers_; }
    void timers_changed() override;
    bool closing() const override;
    void log(log_level l, std::string_view message) override;
    std::vector<host_ptr> known_hosts() override;
    void keyspace_changed(const std::string& ks) override;
    void settle_schema_change(request& r, const host_ptr& coordinator) override;
    void done(request& r) override;

  private:
    void start(request* r);
    void on_deadline_timer(std::error_code ec);

    cluster_impl& cluster_;
    std::size_t index_;
    strand_executor ex_;
    boost::asio::steady_timer timer_;
    clock::time_point armed_ = clock::time_point::max();
    timer_queue timers_;
    std::unordered_map<const host*, std::shared_ptr<host_pool>> pools_;
    // Retired pools until they are drained (their requests refer to them).
    std::vector<std::shared_ptr<host_pool>> retiring_;
    std::atomic<std::size_t> in_flight_{0};
    bool closed_ = false;
    bool drained_reported_ = false;
};

// A new request object, from the calling thread's recycled ones when it has some.
request* new_request();
// Gives a request back for reuse (any thread; it must not be running).
void recycle_request(request* r) noexcept;

}  // namespace cql::detail
