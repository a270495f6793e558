// The cluster: connect, control connection, discovery, events, close.
#include <algorithm>
#include <future>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "detail/cluster_impl.hpp"

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
    std::lock_guard lk(sessions_mutex_);
    auto it = sessions_.find(keyspace);
    if (it == sessions_.end())
        it = sessions_
                 .emplace(std::string(keyspace),
                          std::make_unique<cql::session>(impl_, std::string(keyspace)))
                 .first;
    return *it->second;
}

boost::asio::any_io_executor cluster::get_executor() const noexcept {
    return impl_->user_executor();
}
void cluster::start_connect(std::unique_ptr<detail::op_completion<error_code>> op,
                            diagnostics* diag) {
    impl_->start_connect(std::move(op), diag);
}
void cluster::start_close(std::unique_ptr<detail::op_completion<error_code>> op) {
    impl_->start_close(std::move(op));
}
void cluster::start_refresh(std::unique_ptr<detail::op_completion<error_code>> op) {
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
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// "host", "host:port", "[v6]", "[v6]:port", "v6" (more than one colon, no brackets).
host_endpoint parse_contact_point(const std::string& s, std::uint16_t default_port) {
    host_endpoint ep{s, default_port};
    auto parse_port = [&](std::string_view p) {
        unsigned v = 0;
        for (char c : p) {
            if (c < '0' || c > '9') return;
            v = v * 10 + static_cast<unsigned>(c - '0');
            if (v > 65535) return;
        }
        if (!p.empty()) ep.port = static_cast<std::uint16_t>(v);
    };
    if (!s.empty() && s.front() == '[') {
        auto close = s.find(']');
        if (close == std::string::npos) return ep;
        ep.address = s.substr(1, close - 1);
        if (close + 1 < s.size() && s[close + 1] == ':')
            parse_port(std::string_view(s).substr(close + 2));
        return ep;
    }
    auto colon = s.find(':');
    if (colon != std::string::npos && s.find(':', colon + 1) == std::string::npos) {
        ep.address = s.substr(0, colon);
        parse_port(std::string_view(s).substr(colon + 1));
    }
    return ep;
}

execution_profiles default_profiles(const cluster_config& cfg) {
    if (cfg.profiles) return *cfg.profiles;
    execution_profile p;
    p.request_timeout = cfg.request_timeout;
    default_load_balancing_options o;
    o.dc.local_dc = cfg.local_datacenter;
    p.load_balancing = make_default_load_balancing(o);
    return execution_profiles(std::move(p));
}

std::string key_of(const host_endpoint& e) {
    return e.to_string();
}
}  // namespace

cluster_impl::cluster_impl(asio::any_io_executor ex, cluster_config cfg)
    : user_ex_(std::move(ex)),
      cfg_(std::move(cfg)),
      strand_([this]() -> asio::any_io_executor {
          for (std::size_t i = 0; i < cfg_.io_threads; ++i) {
              ios_.push_back(std::make_unique<asio::io_context>(1));
              work_.push_back(asio::make_work_guard(*ios_.back()));
          }
          if (ios_.empty()) return user_ex_;
          return ios_.front()->get_executor();
      }()),
      profiles_(default_profiles(cfg_)),
      reconnection_(cfg_.reconnection
                        ? cfg_.reconnection
                        : std::make_shared<exponential_reconnection_policy>(
                              std::chrono::milliseconds(500), std::chrono::seconds(30))),
      topology_timer_(strand_),
      schema_timer_(strand_) {
    if (cfg_.version) version_ = *cfg_.version;
    set_keyspace(cfg_.keyspace);
    for (auto& io : ios_)
        threads_.emplace_back([ctx = io.get()] { ctx->run(); });
}

cluster_impl::~cluster_impl() {
    work_.clear();
    for (auto& t : threads_) {
        if (!t.joinable()) continue;
        if (t.get_id() == std::this_thread::get_id())
            t.detach();
        else
            t.join();
    }
}

void cluster_impl::shutdown() {
    auto done = std::make_shared<std::promise<void>>();
    auto fut = done->get_future();
    struct promise_completion final : op_completion<error_code> {
        std::shared_ptr<std::promise<void>> p;
        void complete(error_code) override { p->set_value(); }
    };
    auto op = std::make_unique<promise_completion>();
    op->p = done;
    start_close(std::move(op));
    if (threads_.empty()) return;  // the user's executor finishes the close
    for (auto& t : threads_)
        if (t.get_id() == std::this_thread::get_id()) return;
    fut.wait_for(std::chrono::seconds(10));
    work_.clear();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
}

asio::any_io_executor cluster_impl::next_io_executor() {
    if (ios_.empty()) return user_ex_;
    return ios_[next_io_.fetch_add(1) % ios_.size()]->get_executor();
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
    return c;
}

void cluster_impl::log(log_level l, const std::string& message) const {
    if (cfg_.logger && l >= cfg_.log_level && l != log_level::off) cfg_.logger(l, message);
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

// ---- connect ----

void cluster_impl::start_connect(std::unique_ptr<op_completion<error_code>> op, diagnostics* diag) {
    asio::dispatch(strand_, [self = shared_from_this(), op = std::move(op), diag]() mutable {
        self->connect_waiters_.emplace_back(std::move(op), diag);
        if (self->connect_running_) return;  // (completes with the connect under way)
        self->connect_running_ = true;
        auto* c = self.get();
        asio::co_spawn(c->strand_, c->do_connect(), asio::detached);
    });
}

void cluster_impl::finish_connect(std::error_code ec, std::string message) {
    if (ec) {
        log(log_level::error, message);
        std::lock_guard lk(mutex_);
        last_error_.clear();
        last_error_.message = message;
    }
    connect_running_ = false;
    auto waiters = std::move(connect_waiters_);
    connect_waiters_.clear();
    for (auto& [op, diag] : waiters) {
        if (diag) {
            diag->clear();
            if (ec) diag->message = message;
        }
        op->complete(ec);
    }
}

asio::awaitable<void> cluster_impl::do_connect() {
    auto self = shared_from_this();
    auto fail = [&](std::error_code ec, std::string message) {
        finish_connect(ec, std::move(message));
    };
    if (closing_) co_return fail(session_errc::closed, "the cluster is closed");
    if (connected_) co_return finish_connect({}, {});
    if (cfg_.contact_points.empty())
        co_return fail(session_errc::no_contact_points, "no contact points configured");
    contact_points_.clear();
    for (const auto& cp : cfg_.contact_points)
        contact_points_.push_back(parse_contact_point(cp, cfg_.port));

    std::string errors;
    auto cec = co_await open_control(contact_points_, errors);
    if (cec) co_return fail(cec, "could not connect to any contact point: " + errors);
    auto tec = co_await refresh_topology();
    if (tec)
        co_return fail(tec, "could not read the topology from " + key_of(control_endpoint_) + ": " +
                                tec.message());
    auto sec = co_await refresh_schema();
    if (sec) log(log_level::warning, "could not read the schema: " + sec.message());

    // Load balancing: the hosts, with the contact point that answered first.
    std::vector<host_ptr> all, contacts;
    for (const auto& [k, h] : host_map_) {
        all.push_back(h);
        if (h->endpoint() == control_endpoint_) contacts.insert(contacts.begin(), h);
    }
    for (auto& lb : lb_policies()) {
        lb->init(all, contacts);
        if (auto tm = tokens()) lb->on_token_map(tm);
    }
    lb_initialized_ = true;
    connected_ = true;

    auto& lb = *profiles_.default_profile().load_balancing;
    for (auto& h : all) {
        auto d = lb.distance(*h);
        if (d == host_distance::ignored) continue;
        auto pool = std::make_shared<host_pool>(
            *this, h,
            d == host_distance::local ? cfg_.pool.local_connections : cfg_.pool.remote_connections);
        pools_[key_of(h->endpoint())] = pool;
        bool ok = co_await pool->fill();
        if (!ok) host_down(h, errc::host_unreachable);
        pool->start();
    }
    asio::co_spawn(strand_, watch_control(), asio::detached);
    log(log_level::info, "connected to " + std::to_string(all.size()) + " hosts, protocol v" +
                             std::to_string(static_cast<int>(version_.load())));
    finish_connect({}, {});
}

asio::awaitable<std::error_code> cluster_impl::open_control(
    const std::vector<host_endpoint>& candidates, std::string& errors) {
    std::error_code first_ec, last_ec;
    bool same = true;
    for (const auto& ep : candidates) {
        if (closing_) co_return std::error_code(session_errc::closed);
        auto tmp = make_host(host_info{ep});
        auto settings = connection_settings(tmp);
        std::weak_ptr<cluster_impl> w = shared_from_this();
        auto strand = strand_;
        settings.on_event = [w, strand](response&& r) {
            auto rp = std::make_shared<response>(std::move(r));
            asio::post(strand, [w, rp] {
                if (auto self = w.lock()) self->on_event(rp);
            });
        };
        auto conn = connection::create(next_io_executor(), std::move(settings));
        auto [ec] = co_await conn->async_connect(tuple_awaitable);
        if (!ec) {
            static constexpr std::string_view events[] = {"TOPOLOGY_CHANGE", "STATUS_CHANGE",
                                                          "SCHEMA_CHANGE"};
            protocol::register_request reg;
            reg.event_types = events;
            auto [rec, resp] = co_await conn->async_request(reg, tuple_awaitable);
            if (!rec && resp.opcode() != protocol::opcode::ready) rec = errc::unexpected_response;
            if (!rec) {
                if (control_) control_->close();
                control_ = std::move(conn);
                control_endpoint_ = ep;
                if (!connected_ && !cfg_.version) version_ = control_->version();
                {
                    std::lock_guard lk(mutex_);
                    control_host_ = key_of(ep);
                }
                log(log_level::info, "control connection to " + key_of(ep));
                co_return std::error_code{};
            }
            ec = rec;
            conn->close();
        }
        std::string why = ec.message();
        if (!conn->connect_diagnostics().message.empty() &&
            conn->connect_diagnostics().message != why)
            why += ": " + conn->connect_diagnostics().message;
        if (!errors.empty()) errors += "; ";
        errors += key_of(ep) + " (" + why + ")";
        if (!first_ec) first_ec = ec;
        if (ec != first_ec) same = false;
        last_ec = ec;
    }
    if (!last_ec) co_return std::error_code(session_errc::no_host_available);
    // One cause for all (a wrong password, one unreachable host): keep its code.
    co_return same ? first_ec : std::error_code(session_errc::no_host_available);
}

asio::awaitable<std::pair<std::error_code, result>> cluster_impl::control_query(std::string q) {
    using out = std::pair<std::error_code, result>;
    if (!control_ || !control_->is_ready()) co_return out{errc::not_connected, result{}};
    auto conn = control_;
    protocol::byte_buffer frame;
    statement st(std::move(q));
    if (auto ec = st.encode_query_frame(frame, conn->version(), protocol::consistency::one))
        co_return out{ec, result{}};
    auto [ec, resp] = co_await conn->async_send_frame(std::move(frame), tuple_awaitable);
    result r;
    if (ec) co_return out{ec, std::move(r)};
    auto rec = result::from_response(std::move(resp), r);
    co_return out{rec, std::move(r)};
}

asio::awaitable<std::error_code> cluster_impl::refresh_topology() {
    auto [lec, local] = co_await control_query("SELECT * FROM system.local WHERE key='local'");
    if (lec) co_return lec;
    std::error_code pec;
    result peers;
    if (peers_v2_) {
        std::tie(pec, peers) = co_await control_query("SELECT * FROM system.peers_v2");
        if (pec && pec.category() == server_category()) peers_v2_ = false;  // Cassandra < 4
    }
    if (!peers_v2_) std::tie(pec, peers) = co_await control_query("SELECT * FROM system.peers");
    if (pec) co_return pec;
    apply_hosts(parse_local_and_peers(local, peers, peers_v2_, control_endpoint_, cfg_.port));
    co_return std::error_code{};
}

asio::awaitable<std::error_code> cluster_impl::refresh_schema() {
    auto [e1, ks] = co_await control_query("SELECT * FROM system_schema.keyspaces");
    if (e1) co_return e1;
    auto [e2, tables] = co_await control_query("SELECT * FROM system_schema.tables");
    if (e2) co_return e2;
    auto [e3, cols] = co_await control_query("SELECT * FROM system_schema.columns");
    if (e3) co_return e3;
    auto [e4, types] = co_await control_query("SELECT * FROM system_schema.types");
    if (e4) co_return e4;
    auto s = parse_schema(ks, tables, cols, types);
    {
        std::lock_guard lk(mutex_);
        schema_ = std::move(s);
    }
    rebuild_token_map();
    co_return std::error_code{};
}

void cluster_impl::start_refresh(std::unique_ptr<op_completion<error_code>> op) {
    asio::co_spawn(
        strand_,
        [self = shared_from_this(), op = std::move(op)]() mutable -> asio::awaitable<void> {
            auto ec = co_await self->refresh_schema();
            op->complete(ec);
        },
        asio::detached);
}

void cluster_impl::apply_hosts(std::vector<host_info> infos) {
    std::map<std::string, host_info> fresh;
    for (auto& i : infos)
        fresh.emplace(key_of(i.endpoint), std::move(i));
    auto remove = [&](const std::string& key) {
        auto it = host_map_.find(key);
        if (it == host_map_.end()) return;
        auto h = it->second;
        host_map_.erase(it);
        if (lb_initialized_)
            for (auto& lb : lb_policies())
                lb->on_remove(h);
        if (auto p = pools_.find(key); p != pools_.end()) {
            p->second->close();
            pools_.erase(p);
        }
        log(log_level::info, "host removed: " + key);
    };
    std::vector<std::string> gone;
    for (const auto& [k, h] : host_map_)
        if (!fresh.count(k)) gone.push_back(k);
    for (const auto& k : gone)
        remove(k);
    for (auto& [k, info] : fresh) {
        auto it = host_map_.find(k);
        if (it != host_map_.end()) {
            const auto& o = it->second->info();
            if (o.datacenter == info.datacenter && o.rack == info.rack && o.tokens == info.tokens &&
                o.host_id == info.host_id)
                continue;
            remove(k);
        }
        auto h = make_host(std::move(info));
        host_map_[k] = h;
        log(log_level::info, "host added: " + k + " (" + h->datacenter() + ")");
        if (!lb_initialized_) continue;
        for (auto& lb : lb_policies())
            lb->on_add(h);
        auto d = profiles_.default_profile().load_balancing->distance(*h);
        if (d == host_distance::ignored || closing_) continue;
        auto pool = std::make_shared<host_pool>(
            *this, h,
            d == host_distance::local ? cfg_.pool.local_connections : cfg_.pool.remote_connections);
        pools_[k] = pool;
        pool->start();
    }
    std::vector<host_ptr> list;
    for (const auto& [k, h] : host_map_) {
        if (h->endpoint() == control_endpoint_)
            list.insert(list.begin(), h);
        else
            list.push_back(h);
    }
    {
        std::lock_guard lk(mutex_);
        hosts_ = std::move(list);
    }
    rebuild_token_map();
}

void cluster_impl::rebuild_token_map() {
    auto schema = metadata();
    token_map::keyspace_list ks;
    if (schema)
        for (const auto& [n, k] : schema->keyspaces)
            ks.emplace_back(n, k.strategy);
    host_ptr local;
    if (auto it = host_map_.find(key_of(control_endpoint_)); it != host_map_.end())
        local = it->second;
    auto tm = token_map::build(hosts(), ks, local);
    {
        std::lock_guard lk(mutex_);
        token_map_ = tm;
    }
    if (lb_initialized_)
        for (auto& lb : lb_policies())
            lb->on_token_map(tm);
}

std::shared_ptr<host_pool> cluster_impl::pool_for(const host_ptr& h) const {
    auto it = pools_.find(key_of(h->endpoint()));
    if (it == pools_.end() || it->second->host() != h) return nullptr;
    return it->second;
}

host_ptr cluster_impl::find_host(const protocol::inet_address& a) const {
    auto addr = host_endpoint::from_inet(a, 0).address;
    host_ptr by_address;
    for (const auto& [k, h] : host_map_) {
        if (h->address() != addr) continue;
        if (h->port() == a.port) return h;
        if (!by_address) by_address = h;
    }
    return by_address;
}

void cluster_impl::host_down(const host_ptr& h, std::error_code why) {
    if (!h->is_up()) return;
    h->set_up(false);
    for (auto& lb : lb_policies())
        lb->on_down(h);
    log(log_level::warning, "host down: " + key_of(h->endpoint()) + " (" + why.message() + ")");
}

void cluster_impl::host_up(const host_ptr& h) {
    if (h->is_up()) return;
    h->set_up(true);
    for (auto& lb : lb_policies())
        lb->on_up(h);
    log(log_level::info, "host up: " + key_of(h->endpoint()));
    if (!prepared_.empty()) asio::co_spawn(strand_, reprepare_on_host(h), asio::detached);
}

// ---- events ----

void cluster_impl::on_event(std::shared_ptr<response> r) {
    if (closing_) return;
    protocol::response msg;
    if (r->decode(msg)) return;
    if (std::holds_alternative<protocol::topology_change_event>(msg)) {
        schedule_refresh(true);
    } else if (auto* st = std::get_if<protocol::status_change_event>(&msg)) {
        auto h = find_host(st->address);
        if (!h) {
            schedule_refresh(true);
            return;
        }
        auto pool = pool_for(h);
        if (st->change == protocol::status_change_type::up) {
            log(log_level::info, "event: " + key_of(h->endpoint()) + " UP");
            if (pool) pool->wake(true);
        } else {
            log(log_level::info, "event: " + key_of(h->endpoint()) + " DOWN");
            host_down(h, errc::connection_closed);
            if (pool) pool->wake(false);
        }
    } else if (std::holds_alternative<protocol::schema_change_event>(msg)) {
        schedule_refresh(false);
    }
}

void cluster_impl::schedule_refresh(bool topology) {
    bool& pending = topology ? topology_pending_ : schema_pending_;
    auto& timer = topology ? topology_timer_ : schema_timer_;
    if (pending) return;
    pending = true;
    timer.expires_after(cfg_.event_debounce);
    timer.async_wait([self = shared_from_this(), topology](std::error_code ec) {
        (topology ? self->topology_pending_ : self->schema_pending_) = false;
        if (ec || self->closing_) return;
        asio::co_spawn(
            self->strand_,
            [self, topology]() -> asio::awaitable<void> {
                std::error_code rec;
                if (topology)
                    rec = co_await self->refresh_topology();
                else
                    rec = co_await self->refresh_schema();
                if (rec)
                    self->log(log_level::warning, std::string(topology ? "topology" : "schema") +
                                                      " refresh failed: " + rec.message());
            },
            asio::detached);
    });
}

asio::awaitable<void> cluster_impl::watch_control() {
    auto self = shared_from_this();
    asio::steady_timer timer(strand_);
    while (!closing_) {
        timer.expires_after(std::chrono::milliseconds(200));
        co_await timer.async_wait(tuple_awaitable);
        if (closing_) break;
        if (control_ && control_->is_ready()) continue;
        log(log_level::warning, "control connection to " + key_of(control_endpoint_) + " lost");
        std::vector<host_endpoint> candidates;
        for (const auto& h : hosts())
            if (h->is_up() && !(h->endpoint() == control_endpoint_))
                candidates.push_back(h->endpoint());
        for (const auto& h : hosts())
            if (!h->is_up() || h->endpoint() == control_endpoint_)
                candidates.push_back(h->endpoint());
        for (const auto& c : contact_points_)
            if (std::find(candidates.begin(), candidates.end(), c) == candidates.end())
                candidates.push_back(c);
        std::string errors;
        auto ec = co_await open_control(candidates, errors);
        if (ec) {
            log(log_level::error, "no host for the control connection: " + errors);
            timer.expires_after(std::chrono::milliseconds(800));
            co_await timer.async_wait(tuple_awaitable);
            continue;
        }
        auto tec = co_await refresh_topology();
        if (tec) log(log_level::warning, "topology refresh failed: " + tec.message());
        auto sec = co_await refresh_schema();
        if (sec) log(log_level::warning, "schema refresh failed: " + sec.message());
    }
}

// ---- close ----

void cluster_impl::start_close(std::unique_ptr<op_completion<error_code>> op) {
    closing_ = true;
    asio::post(strand_, [self = shared_from_this(), op = std::move(op)]() mutable {
        self->close_waiters_.push_back(std::move(op));
        if (!self->closed_) {
            self->closed_ = true;
            if (self->control_) self->control_->close();
            for (auto& [k, p] : self->pools_)
                p->close();
            self->topology_timer_.cancel();
            self->schema_timer_.cancel();
            self->log(log_level::info, "closing");
        }
        if (self->inflight_ == 0) self->finish_close();
    });
}

void cluster_impl::request_done() {
    if (inflight_ > 0) --inflight_;
    if (closing_ && closed_ && inflight_ == 0) finish_close();
}

void cluster_impl::finish_close() {
    auto waiters = std::move(close_waiters_);
    close_waiters_.clear();
    pools_.clear();
    control_.reset();
    for (auto& w : waiters)
        w->complete({});
}

}  // namespace cql::detail
