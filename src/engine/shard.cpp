#include "detail/shard.hpp"

#include <utility>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "cql/cluster.hpp"
#include "detail/cluster_impl.hpp"
#include "detail/recycled_allocator.hpp"
#include "detail/thread_cache.hpp"

namespace cql::detail {

namespace {

struct request_cache_traits {
    using item = request*;
    static void dispose(request*&& r) noexcept { delete r; }
};
using request_cache = thread_cache<request_cache_traits>;

constexpr auto cancel_types = asio::cancellation_type::terminal | asio::cancellation_type::partial |
                              asio::cancellation_type::total;

}  // namespace

request* new_request() {
    request* r = nullptr;
    if (!request_cache::pop(r)) r = new request;
    return r;
}

void recycle_request(request* r) noexcept {
    r->reset();
    if (!request_cache::push(std::move(r))) delete r;
}

shard::shard(cluster_impl& c, std::size_t index, strand_executor ex)
    : cluster_(c), index_(index), ex_(std::move(ex)), timer_(ex_) {}

shard::~shard() = default;

void shard::submit(request* r, asio::cancellation_slot slot) {
    in_flight_.fetch_add(1);
    if (slot.is_connected()) {
        r->link = std::make_shared<cancel_link>();
        r->link->target = r;
        slot.assign([link = r->link, ex = ex_](asio::cancellation_type t) {
            if ((t & cancel_types) == asio::cancellation_type::none) return;
            asio::post(ex, [link] {
                if (auto* target = link->target) target->cancel();
            });
        });
    }
    asio::dispatch(ex_, asio::bind_allocator(recycled_allocator<void>(), [this, r] { start(r); }));
}

void shard::start(request* r) {
    r->start(*this);
}

void shard::done(request& r) {
    recycle_request(&r);
    if (in_flight_.fetch_sub(1) == 1 && closed_ && !drained_reported_) {
        drained_reported_ = true;
        cluster_.shard_drained(*this);
    }
}

// ---- pools ---------------------------------------------------------------------------

void shard::add_pool(const host_ptr& h, std::size_t connections) {
    if (closed_ || pools_.count(h.get())) return;
    pool_settings s;
    s.connections = connections;
    s.max_requests_per_connection = cluster_.config().pool.max_requests_per_connection;
    s.max_wait_queue = cluster_.config().pool.max_wait_queue;
    s.reconnection = cluster_.reconnection();
    auto* c = &cluster_;
    s.connection_settings = [c, h] { return c->connection_settings(h); };
    s.on_health = [c, h, i = index_](bool healthy, std::error_code ec, const std::string& why) {
        c->pool_health(i, h, healthy, ec, why);
    };
    s.log = [c](log_level l, const std::string& m) { c->log(l, m); };
    auto p = std::make_shared<host_pool>(ex_, h, std::move(s));
    pools_.emplace(h.get(), p);
    p->start();
}

void shard::remove_pool(const host_ptr& h) {
    auto it = pools_.find(h.get());
    if (it == pools_.end()) return;
    auto p = std::move(it->second);
    pools_.erase(it);
    p->close(errc::connection_closed);
}

void shard::retire_pool(const host_ptr& h) {
    std::erase_if(retiring_, [](const auto& p) { return p->drained(); });
    auto it = pools_.find(h.get());
    if (it == pools_.end()) return;
    auto p = std::move(it->second);
    pools_.erase(it);
    p->retire();
    if (!p->drained()) retiring_.push_back(std::move(p));
}

void shard::wake_pool(const host_ptr& h, bool reset_schedule) {
    if (auto it = pools_.find(h.get()); it != pools_.end()) it->second->wake(reset_schedule);
}

std::shared_ptr<host_pool> shard::pool(const host_ptr& h) const {
    auto it = pools_.find(h.get());
    return it == pools_.end() ? nullptr : it->second;
}

channel_pool* shard::pool_for(const host& h) {
    auto it = pools_.find(&h);
    return it == pools_.end() ? nullptr : it->second.get();
}

void shard::close(std::error_code why) {
    if (closed_) return;
    closed_ = true;
    auto pools = std::move(pools_);
    pools_.clear();
    for (auto& [h, p] : pools)
        p->close(why);
    for (auto& p : std::exchange(retiring_, {}))
        p->close(why);
    timer_.cancel();
    armed_ = clock::time_point::max();
    if (in_flight_.load() == 0 && !drained_reported_) {
        drained_reported_ = true;
        cluster_.shard_drained(*this);
    }
}

// ---- request_env ---------------------------------------------------------------------

void shard::timers_changed() {
    const auto e = timers_.earliest();
    if (e >= armed_ || closed_) return;
    armed_ = e;
    timer_.expires_at(e);
    // (The handler keeps the cluster, and so this shard, alive: it may run after a close.)
    timer_.async_wait(
        [this, keep = cluster_.shared_from_this()](std::error_code ec) { on_deadline_timer(ec); });
}

void shard::on_deadline_timer(std::error_code ec) {
    if (ec) return;  // re-armed earlier, or closed
    armed_ = clock::time_point::max();
    timers_.expire(clock::now());
    timers_changed();
}

bool shard::closing() const {
    return cluster_.closing();
}

void shard::log(log_level l, std::string_view message) {
    cluster_.log(l, std::string(message));
}

std::vector<host_ptr> shard::known_hosts() {
    return cluster_.hosts();
}

void shard::keyspace_changed(const std::string& ks) {
    cluster_.set_keyspace(ks);
}

void shard::settle_schema_change(request& r, const host_ptr& coordinator) {
    cluster_.settle_schema_change(*this, r, coordinator);
}

}  // namespace cql::detail
