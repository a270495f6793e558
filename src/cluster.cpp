// The cluster object: its shards and own threads, settings, snapshots, request hand-off
// and close. (control.cpp: connect, control connection, topology; prepare.cpp.)
#include <algorithm>
#include <future>

#include <boost/asio/post.hpp>

#include "detail/cluster_impl.hpp"
#include "detail/direct_completion.hpp"

namespace cql {

std::string_view to_string(log_level l) noexcept {
    switch (l) {
        case log_level::trace:
            return "trace";
        case log_level::debug:
            return "debug";
        case log_level::info:
            return "info";
        case log_level::warning:
            return "warning";
        case log_level::error:
            return "error";
        case log_level::off:
            return "off";
    }
    return "?";
}

// ---- cql::cluster ----

cluster::cluster(boost::asio::any_io_executor ex, cluster_config cfg)
    : impl_(std::make_shared<detail::cluster_impl>(std::move(ex), std::move(cfg))),
      session_(impl_) {}

cluster::~cluster() {
    impl_->shutdown();
}

cql::session& cluster::session(std::string_view keyspace) {
    return impl_->bound_session(keyspace);
}

boost::asio::any_io_executor cluster::get_executor() const noexcept {
    return impl_->user_executor();
}
void cluster::start_connect(detail::op_ptr<error_code> op, diagnostics* diag) {
    impl_->start_connect(std::move(op), diag);
}
void cluster::start_close(detail::op_ptr<error_code> op) {
    impl_->start_close(std::move(op));
}
void cluster::start_refresh(detail::op_ptr<error_code> op) {
    impl_->start_refresh(std::move(op));
}
std::vector<host_ptr> cluster::hosts() const {
    return impl_->hosts();
}
std::shared_ptr<const schema_metadata> cluster::metadata() const {
    return impl_->metadata();
}
std::shared_ptr<const cql::token_map> cluster::token_map() const {
    return impl_->tokens();
}
protocol::protocol_version cluster::version() const noexcept {
    return impl_->version();
}
std::string cluster::control_host() const {
    return impl_->control_host();
}
diagnostics cluster::last_error() const {
    return impl_->last_error();
}

}  // namespace cql

namespace cql::detail {

namespace {

execution_profiles default_profiles(const cluster_config& cfg) {
    if (cfg.profiles) return *cfg.profiles;
    execution_profile p;
    p.request_timeout = cfg.request_timeout;
    default_load_balancing_options o;
    o.dc.local_dc = cfg.local_datacenter;
    p.load_balancing = make_default_load_balancing(o);
    return execution_profiles(std::move(p));
}

// How long the destructor of a cluster with its own io threads waits for the close before it
// stops them.
constexpr std::chrono::seconds close_wait{10};

// Which shard of which cluster the calling thread runs (the cluster's own io threads).
struct thread_shard {
    const cluster_impl* owner = nullptr;
    std::size_t index = 0;
};
thread_local thread_shard current_thread_shard;
// Requests from other threads are spread over the shards in turn (a counter per thread:
// no shared cache line on the request path).
thread_local std::size_t next_shard_of_thread = 0;
// Requests from another thread go to one shard in runs of this many: a shard then takes
// them in one wake-up and writes them in a few syscalls, instead of every io thread waking
// for one request each (measured, select at 256 in flight from one thread: 2 io threads
// 1.5 -> 1.2 us of CPU per request, 4 io threads 3.9 -> 1.1 us; runs of 1024 gave the same).
constexpr std::size_t shard_run = 256;

}  // namespace

cluster_impl::cluster_impl(asio::any_io_executor ex, cluster_config cfg)
    : user_ex_(std::move(ex)),
      cfg_(std::move(cfg)),
      profiles_(default_profiles(cfg_)),
      reconnection_(cfg_.reconnection
                        ? cfg_.reconnection
                        : std::make_shared<exponential_reconnection_policy>(
                              std::chrono::milliseconds(500), std::chrono::seconds(30))) {
    if (cfg_.io_threads == 0) {
        shards_.push_back(
            std::make_unique<shard>(*this, 0, asio::make_strand(io_executor_of(user_ex_))));
    } else {
        for (std::size_t i = 0; i < cfg_.io_threads; ++i) {
            ios_.push_back(std::make_unique<asio::io_context>(1));
            work_.push_back(asio::make_work_guard(*ios_.back()));
            shards_.push_back(
                std::make_unique<shard>(*this, i, asio::make_strand(ios_.back()->get_executor())));
        }
    }
    topology_timer_.emplace(control_executor());
    schema_timer_.emplace(control_executor());
    if (cfg_.version) version_ = *cfg_.version;
    set_keyspace(cfg_.keyspace);
    for (std::size_t i = 0; i < ios_.size(); ++i)
        threads_.emplace_back([this, i, ctx = ios_[i].get()] {
            current_thread_shard = {this, i};
            ctx->run();
        });
}

cluster_impl::~cluster_impl() {
    release_threads();
    for (auto& io : ios_)
        io->stop();
    for (auto& t : threads_) {
        if (!t.joinable()) continue;
        if (t.get_id() == std::this_thread::get_id())
            t.detach();
        else
            t.join();
    }
    // The shards' strands and pools go before the io_contexts they run on.
    shards_.clear();
}

void cluster_impl::shutdown() {
    auto done = std::make_shared<std::promise<void>>();
    auto fut = done->get_future();
    struct promise_completion final : direct_completion<error_code> {
        std::shared_ptr<std::promise<void>> p;
        void done(error_code) override { p->set_value(); }
    };
    auto* op = new promise_completion;
    op->p = done;
    start_close(op_ptr<error_code>(op));
    {
        // The bound sessions hold the implementation: dropped with the cluster object.
        std::lock_guard lk(sessions_mutex_);
        sessions_.clear();
    }
    if (threads_.empty()) return;  // the user's executor finishes the close
    for (auto& t : threads_)
        if (t.get_id() == std::this_thread::get_id()) return;
    // The own threads end once the close completed and their last handlers ran: joined here,
    // so that nothing of the cluster is released on them (it owns their io_contexts).
    if (fut.wait_for(close_wait) != std::future_status::ready)
        for (auto& io : ios_)
            io->stop();
    release_threads();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
}

shard& cluster_impl::pick_shard() noexcept {
    if (shards_.size() == 1) return *shards_.front();
    const auto& cur = current_thread_shard;
    if (cur.owner == this) return *shards_[cur.index];
    return *shards_[(next_shard_of_thread++ / shard_run) % shards_.size()];
}

connection_config cluster_impl::connection_settings(const host_ptr& h) const {
    connection_config c;
    c.host = h->address();
    c.port = h->port();
    if (connected_.load() || cfg_.version) c.version = version_.load();
    c.compression = cfg_.compression;
    c.auth = cfg_.auth;
    c.tls = cfg_.tls;
    c.connect_timeout = cfg_.connect_timeout;
    c.request_timeout = cfg_.request_timeout;
    c.heartbeat_interval = cfg_.heartbeat_interval;
    c.max_body_size = cfg_.max_frame_size;
    return c;
}

void cluster_impl::log(log_level l, const std::string& message) const {
    if (!cfg_.logger || l < cfg_.log_level || l == log_level::off) return;
    std::lock_guard lk(log_mutex_);
    if (!log_silenced_) cfg_.logger(l, message);
}

std::int64_t cluster_impl::next_timestamp() noexcept {
    auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    auto last = last_timestamp_.load();
    for (;;) {
        auto next = now > last ? now : last + 1;
        if (last_timestamp_.compare_exchange_weak(last, next)) return next;
    }
}

std::vector<host_ptr> cluster_impl::hosts() const {
    std::lock_guard lk(mutex_);
    return hosts_;
}
std::shared_ptr<const schema_metadata> cluster_impl::metadata() const {
    std::lock_guard lk(mutex_);
    return schema_;
}
std::shared_ptr<const token_map> cluster_impl::tokens() const {
    std::lock_guard lk(mutex_);
    return token_map_;
}
std::string cluster_impl::keyspace() const {
    if (!has_keyspace_.load(std::memory_order_acquire)) return {};
    std::lock_guard lk(mutex_);
    return keyspace_;
}
void cluster_impl::set_keyspace(const std::string& ks) {
    std::lock_guard lk(mutex_);
    keyspace_ = ks;
    has_keyspace_.store(!ks.empty(), std::memory_order_release);
}
std::string cluster_impl::control_host() const {
    std::lock_guard lk(mutex_);
    return control_host_;
}
diagnostics cluster_impl::last_error() const {
    std::lock_guard lk(mutex_);
    return last_error_;
}

std::vector<std::shared_ptr<load_balancing_policy>> cluster_impl::lb_policies() const {
    return profiles_.load_balancing_policies();
}

cql::session& cluster_impl::bound_session(std::string_view keyspace) {
    std::lock_guard lk(sessions_mutex_);
    auto it = sessions_.find(keyspace);
    if (it == sessions_.end())
        it = sessions_
                 .emplace(std::string(keyspace),
                          std::make_unique<cql::session>(shared_from_this(), std::string(keyspace)))
                 .first;
    return *it->second;
}

// ---- requests ----

void cluster_impl::start_request(request_handle r, result_completion op,
                                 asio::cancellation_slot slot) {
    auto& sp = r->spec;
    if (sp.ec) {
        if (sp.diag) {
            sp.diag->clear();
            sp.diag->message = sp.ec_message.empty() ? sp.ec.message() : sp.ec_message;
        }
        complete(std::move(op), sp.ec, result{});
        return;
    }
    if (closing_) {
        if (sp.diag) {
            sp.diag->clear();
            sp.diag->message = "the cluster is closed";
        }
        complete(std::move(op), session_errc::closed, result{});
        return;
    }
    r->op = std::move(op);
    pick_shard().submit(r.release(), slot);
}

// ---- close ----

void cluster_impl::start_close(op_ptr<error_code> op) {
    closing_.store(true);
    asio::post(control_executor(), [self = shared_from_this(), op = std::move(op)]() mutable {
        if (self->close_finished_) {
            complete(std::move(op), error_code{});
            return;
        }
        self->close_waiters_.push_back(std::move(op));
        if (!self->closed_) {
            self->closed_ = true;
            self->log(log_level::info, "closing");
            self->topology_timer_->cancel();
            self->schema_timer_->cancel();
            for (auto* t : self->sleepers_)
                t->cancel();
            if (self->pools_ready_) self->pools_ready_->cancel();
            if (self->control_) self->control_->shutdown(session_errc::closed);
            if (self->control_opening_) self->control_opening_->shutdown(session_errc::closed);
            self->on_every_shard([](shard& s) { s.close(session_errc::closed); });
        }
        self->maybe_finish_close();
    });
}

void cluster_impl::shard_drained(shard&) {
    asio::post(control_executor(), [self = shared_from_this()] {
        ++self->shards_drained_;
        self->maybe_finish_close();
    });
}

void cluster_impl::maybe_finish_close() {
    if (!closed_ || close_finished_ || shards_drained_ < shards_.size()) return;
    close_finished_ = true;
    {
        // Nothing of the user's is called after the close completed.
        std::lock_guard lk(log_mutex_);
        log_silenced_ = true;
    }
    control_.reset();
    control_channel_.reset();
    // The own io threads end once their last handlers ran.
    release_threads();
    auto waiters = std::move(close_waiters_);
    close_waiters_.clear();
    for (auto& w : waiters)
        complete(std::move(w), error_code{});
}

void cluster_impl::release_threads() {
    std::lock_guard lk(work_mutex_);
    work_.clear();
}

}  // namespace cql::detail
