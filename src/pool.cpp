// Per-host connection pools.
#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "detail/cluster_impl.hpp"

namespace cql::detail {

namespace {
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds health_interval{500};
}  // namespace

host_pool::host_pool(cluster_impl& c, host_ptr h, std::size_t size)
    : cluster_(c),
      host_(std::move(h)),
      target_(std::max<std::size_t>(size, 1)),
      timer_(c.strand()),
      schedule_(c.reconnection().new_schedule()) {}

bool host_pool::healthy() const {
    return std::any_of(conns_.begin(), conns_.end(),
                       [](const auto& pc) { return pc->conn->is_ready(); });
}

void host_pool::prune() {
    std::erase_if(conns_, [](const auto& pc) { return !pc->conn->is_ready(); });
}

asio::awaitable<std::error_code> host_pool::open_one() {
    // Without io threads of its own the cluster runs on the user's io_context, and with one
    // io thread everything runs on that thread anyway: then its connections share the
    // cluster's strand, so the request fast path calls them directly. (With several io
    // threads, connections spread over them and the requests take the coroutine path.)
    auto conn =
        cluster_.ios_.size() <= 1
            ? connection::create_on(cluster_.strand(), cluster_.connection_settings(host_))
            : connection::create(cluster_.next_io_executor(), cluster_.connection_settings(host_));
    auto [ec] = co_await conn->async_connect(tuple_awaitable);
    if (closed_) {
        conn->close();
        co_return std::error_code(session_errc::closed);
    }
    if (ec) {
        std::string msg =
            "connection to " + host_->endpoint().to_string() + " failed: " + ec.message();
        if (!conn->connect_diagnostics().message.empty())
            msg += " (" + conn->connect_diagnostics().message + ")";
        cluster_.log(log_level::warning, msg);
        co_return std::error_code(ec);
    }
    auto pc = std::make_shared<pooled_connection>();
    pc->conn = std::move(conn);
    conns_.push_back(std::move(pc));
    cluster_.log(log_level::debug, "connected to " + host_->endpoint().to_string());
    // A waiter may use the new connection.
    if (!waiters_.empty()) {
        waiters_.front()->cancel();
        waiters_.pop_front();
    }
    co_return std::error_code{};
}

asio::awaitable<bool> host_pool::fill() {
    connecting_ = true;
    prune();
    while (conns_.size() < target_ && !closed_) {
        auto ec = co_await open_one();
        if (ec) break;
    }
    connecting_ = false;
    co_return healthy();
}

void host_pool::start() {
    asio::co_spawn(cluster_.strand(), maintain(), asio::detached);
}

asio::awaitable<void> host_pool::maintain() {
    auto self = shared_from_this();
    auto keep_cluster = cluster_.shared_from_this();
    while (!closed_) {
        prune();
        std::chrono::milliseconds delay = health_interval;
        if (reset_schedule_) {
            schedule_ = cluster_.reconnection().new_schedule();
            reset_schedule_ = false;
        }
        if (conns_.size() < target_) {
            bool ok = co_await fill();
            if (closed_) break;
            if (ok) {
                schedule_ = cluster_.reconnection().new_schedule();
                cluster_.host_up(host_);
            } else {
                cluster_.host_down(host_, errc::host_unreachable);
                delay = schedule_->next_delay();
            }
            if (conns_.size() < target_ && ok) delay = schedule_->next_delay();
        } else if (!host_->is_up() && healthy()) {
            cluster_.host_up(host_);  // a DOWN event that did not hold
        }
        timer_.expires_after(delay);
        co_await timer_.async_wait(tuple_awaitable);
    }
}

void host_pool::wake(bool reset_schedule) {
    if (reset_schedule) reset_schedule_ = true;
    timer_.cancel();
}

void host_pool::close() {
    closed_ = true;
    timer_.cancel();
    for (auto& pc : conns_)
        pc->conn->close();
    conns_.clear();
    for (auto& w : waiters_)
        w->cancel();
    waiters_.clear();
}

std::shared_ptr<pooled_connection> host_pool::pick() {
    std::shared_ptr<pooled_connection> best;
    const auto limit = cluster_.config().pool.max_requests_per_connection;
    for (auto& pc : conns_) {
        if (!pc->conn->is_ready() || pc->inflight >= limit) continue;
        if (!best || pc->inflight < best->inflight) best = pc;
    }
    return best;
}

asio::awaitable<std::pair<std::error_code, std::shared_ptr<pooled_connection>>> host_pool::acquire(
    clock::time_point deadline) {
    using out = std::pair<std::error_code, std::shared_ptr<pooled_connection>>;
    for (;;) {
        if (closed_) co_return out{session_errc::closed, nullptr};
        if (auto pc = pick()) {
            ++pc->inflight;
            co_return out{{}, pc};
        }
        if (!healthy()) {
            wake(false);
            co_return out{errc::connection_defunct, nullptr};
        }
        if (waiters_.size() >= cluster_.config().pool.max_wait_queue)
            co_return out{session_errc::busy, nullptr};
        if (clock::now() >= deadline) co_return out{errc::timed_out, nullptr};
        auto t = std::make_shared<asio::steady_timer>(cluster_.strand());
        t->expires_at(deadline);
        waiters_.push_back(t);
        co_await t->async_wait(tuple_awaitable);
        std::erase(waiters_, t);
    }
}

std::shared_ptr<pooled_connection> host_pool::try_acquire() {
    if (closed_) return nullptr;
    auto pc = pick();
    if (pc) ++pc->inflight;
    return pc;
}

void host_pool::release(pooled_connection& pc) {
    if (pc.inflight > 0) --pc.inflight;
    if (!pc.conn->is_ready()) {
        prune();
        wake(false);
    }
    if (!waiters_.empty()) {
        waiters_.front()->cancel();
        waiters_.pop_front();
    }
}

}  // namespace cql::detail
