#include "detail/pool.hpp"

#include <algorithm>

#include "cql/cluster.hpp"

namespace cql::detail {

host_pool::host_pool(strand_executor ex, host_ptr h, pool_settings s)
    : ex_(std::move(ex)),
      host_(std::move(h)),
      s_(std::move(s)),
      reconnect_timer_(ex_),
      schedule_(s_.reconnection->new_schedule()) {
    s_.connections = std::max<std::size_t>(s_.connections, 1);
    s_.max_requests_per_connection = std::max<std::size_t>(s_.max_requests_per_connection, 1);
}

host_pool::~host_pool() = default;

bool host_pool::healthy() const noexcept {
    return std::any_of(channels_.begin(), channels_.end(),
                       [](const auto& c) { return c->conn->is_ready(); });
}

std::vector<std::shared_ptr<pool_connection>> host_pool::connections() const {
    std::vector<std::shared_ptr<pool_connection>> out;
    for (const auto& c : channels_)
        out.push_back(c->conn);
    return out;
}

void host_pool::start() {
    while (!closed_ && !retiring_ && channels_.size() + opening_.size() < s_.connections)
        open_one();
}

void host_pool::open_one() {
    auto cfg = s_.connection_settings();
    std::weak_ptr<host_pool> w = shared_from_this();
    cfg.on_down = [w](const void* c, std::error_code ec) {
        if (auto self = w.lock()) self->on_connection_down(c, ec);
    };
    std::shared_ptr<pool_connection> conn;
    if (s_.factory)
        conn = s_.factory(ex_, std::move(cfg));
    else
        conn = connection::create_on(ex_, std::move(cfg));
    opening_.push_back(conn);
    conn->open([w, conn](std::error_code ec) mutable {
        if (auto self = w.lock())
            self->on_open(std::move(conn), ec);
        else
            conn->shutdown(errc::connection_closed);
    });
}

void host_pool::on_open(std::shared_ptr<pool_connection> c, std::error_code ec) {
    std::erase(opening_, c);
    if (closed_ || retiring_) {
        c->shutdown(closed_ ? closed_why_ : std::error_code(errc::connection_closed));
        return;
    }
    if (ec) {
        const auto why = "connection to " + host_->endpoint().to_string() +
                         " failed: " + describe_failure(ec, c->connect_diagnostics());
        if (s_.log) s_.log(log_level::warning, why);
        if (channels_.empty() && opening_.empty()) {
            was_healthy_ = false;
            fail_waiters(errc::connection_defunct);
            report(false, ec, why);
        }
        schedule_reconnect();
        return;
    }
    if (!c->is_ready()) {  // failed between its connect and this callback
        schedule_reconnect();
        return;
    }
    channels_.push_back(std::make_unique<pooled_channel>(std::move(c)));
    schedule_ = s_.reconnection->new_schedule();
    if (s_.log) s_.log(log_level::debug, "connected to " + host_->endpoint().to_string());
    if (!was_healthy_) {
        was_healthy_ = true;
        report(true, {}, {});
    }
    serve_waiters();
    start();  // more connections to open, if the pool is not full
}

void host_pool::report(bool healthy, std::error_code ec, const std::string& why) {
    // Changes only (the first report included): a host stays down through its failed
    // reconnection attempts without a report each.
    if (reported_ == healthy) return;
    reported_ = healthy;
    if (s_.on_health) s_.on_health(healthy, ec, why);
}

void host_pool::on_connection_down(const void* c, std::error_code ec) {
    // Called by the connection as it fails (its requests got the error already); the
    // connection object lives until that call returns (it holds itself).
    auto it = std::find_if(channels_.begin(), channels_.end(),
                           [c](const auto& ch) { return ch->conn.get() == c; });
    if (it == channels_.end()) return;
    auto gone = std::move(*it);
    channels_.erase(it);
    if (closed_) return;
    if (retiring_) {
        if (!healthy()) fail_waiters(errc::connection_defunct);  // (no replacement)
        return;
    }
    if (s_.log)
        s_.log(log_level::info, "connection to " + host_->endpoint().to_string() + " lost: " +
                                    describe_failure(ec, gone->conn->connect_diagnostics()));
    if (!healthy()) {
        fail_waiters(errc::connection_defunct);
        // Not reported down yet: the replacement opened now decides, and reports either way
        // (the host may have restarted: the control re-prepares when it is back).
        was_healthy_ = false;
        reported_.reset();
    }
    // A replacement at once; further failures back off (schedule_reconnect).
    open_one();
}

void host_pool::schedule_reconnect() {
    if (closed_ || retiring_ || reconnect_pending_) return;
    reconnect_pending_ = true;
    reconnect_timer_.expires_after(schedule_->next_delay());
    reconnect_timer_.async_wait([w = weak_from_this()](std::error_code) {
        auto self = w.lock();
        if (!self) return;
        self->reconnect_pending_ = false;
        self->start();  // (also when woken early by wake())
    });
}

void host_pool::wake(bool reset_schedule) {
    if (closed_ || retiring_) return;
    // A DOWN event while the connections work: the host is up as far as this pool knows.
    if (healthy() && s_.on_health) s_.on_health(true, {}, {});  // (again: said on purpose)
    if (reset_schedule) schedule_ = s_.reconnection->new_schedule();
    if (reconnect_pending_)
        reconnect_timer_.cancel();  // (its handler starts the connections)
    else
        start();
}

void host_pool::retire() {
    if (closed_ || retiring_) return;
    retiring_ = true;
    reconnect_timer_.cancel();
    for (auto& c : std::vector<std::shared_ptr<pool_connection>>(opening_))
        c->shutdown(errc::connection_closed);
    close_idle();
}

bool host_pool::drained() const noexcept {
    return (closed_ || retiring_) && channels_.empty() && opening_.empty();
}

// Retiring: the connections that no request holds are closed, unless requests wait for one.
void host_pool::close_idle() {
    if (head_) return;
    std::vector<std::unique_ptr<pooled_channel>> idle;
    for (auto it = channels_.begin(); it != channels_.end();) {
        if ((*it)->inflight == 0) {
            idle.push_back(std::move(*it));
            it = channels_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto& ch : idle)
        ch->conn->shutdown(errc::connection_closed);
}

void host_pool::close(std::error_code why) {
    if (closed_) return;
    closed_ = true;
    closed_why_ = why;
    reconnect_timer_.cancel();
    fail_waiters(why);
    auto chans = std::move(channels_);
    channels_.clear();
    for (auto& ch : chans)
        ch->conn->shutdown(why);
    for (auto& c : std::vector<std::shared_ptr<pool_connection>>(opening_))
        c->shutdown(why);
}

// ---- requests ------------------------------------------------------------------------

pooled_channel* host_pool::pick() noexcept {
    pooled_channel* best = nullptr;
    for (auto& ch : channels_) {
        if (ch->inflight >= s_.max_requests_per_connection || !ch->conn->is_ready()) continue;
        if (!best || ch->inflight < best->inflight) best = ch.get();
    }
    return best;
}

channel* host_pool::try_acquire() {
    if (closed_) return nullptr;
    auto* ch = pick();
    if (ch) ++ch->inflight;
    return ch;
}

void host_pool::release(channel& c) {
    auto& ch = static_cast<pooled_channel&>(c);
    if (ch.inflight > 0) --ch.inflight;
    if (head_) serve_waiters();
    if (retiring_) close_idle();
}

std::error_code host_pool::wait(pool_waiter& w) {
    if (closed_) return session_errc::closed;
    if (!healthy()) return errc::connection_defunct;
    if (waiting_ >= s_.max_wait_queue) return session_errc::busy;
    w.waiting = true;
    w.next_waiter = nullptr;
    w.prev_waiter = tail_;
    if (tail_)
        tail_->next_waiter = &w;
    else
        head_ = &w;
    tail_ = &w;
    ++waiting_;
    return {};
}

void host_pool::cancel_wait(pool_waiter& w) noexcept {
    if (!w.waiting) return;
    w.waiting = false;
    if (w.prev_waiter)
        w.prev_waiter->next_waiter = w.next_waiter;
    else
        head_ = w.next_waiter;
    if (w.next_waiter)
        w.next_waiter->prev_waiter = w.prev_waiter;
    else
        tail_ = w.prev_waiter;
    w.prev_waiter = w.next_waiter = nullptr;
    --waiting_;
}

void host_pool::serve_waiters() {
    while (head_) {
        auto* ch = pick();
        if (!ch) return;
        auto* w = head_;
        cancel_wait(*w);
        ++ch->inflight;
        w->on_channel(ch, {});
    }
}

void host_pool::fail_waiters(std::error_code ec) {
    while (head_) {
        auto* w = head_;
        cancel_wait(*w);
        w->on_channel(nullptr, ec);
    }
}

}  // namespace cql::detail
