// The control work of a cluster, on the control executor: connect, the control connection
// (events, reconnection), discovery and schema, pools per host on every shard, host states.
#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "detail/cluster_impl.hpp"

namespace cql::detail {

namespace {
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// How long async_connect waits, beyond connect_timeout, for the pools' first connections
// (each attempt is bounded by connect_timeout already; this is a safety net).
constexpr std::chrono::seconds pools_wait_margin{1};

std::string key_of(const host_endpoint& e) {
    return e.to_string();
}

host_endpoint parse_endpoint(const std::string& s, std::uint16_t default_port) {
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
}  // namespace

// ---- connect -------------------------------------------------------------------------

void cluster_impl::start_connect(op_ptr<error_code> op, diagnostics* diag) {
    asio::dispatch(control_executor(),
                   [self = shared_from_this(), op = std::move(op), diag]() mutable {
                       self->connect_waiters_.emplace_back(std::move(op), diag);
                       if (self->connect_running_)
                           return;  // (completes with the connect under way)
                       self->connect_running_ = true;
                       auto* c = self.get();
                       asio::co_spawn(c->control_executor(), c->do_connect(), asio::detached);
                   });
}

void cluster_impl::finish_connect(std::error_code ec, std::string message) {
    if (ec) {
        // (info: the caller gets the error and this message; a default logger would say it
        // twice)
        log(log_level::info, message);
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
        complete(std::move(op), ec);
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
        contact_points_.push_back(parse_endpoint(cp, cfg_.port));

    std::string errors;
    auto cec = co_await open_control(contact_points_, errors);
    if (cec) co_return fail(cec, "could not connect to any contact point: " + errors);
    auto tec = co_await refresh_topology();
    if (tec)
        co_return fail(tec, "could not read the topology from " + key_of(control_endpoint_) + ": " +
                                tec.message());
    auto sec = co_await refresh_schema();
    if (sec) log(log_level::warning, "could not read the schema: " + sec.message());
    if (closing_) co_return fail(session_errc::closed, "the cluster was closed");

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
    sync_pools();
    co_await wait_for_pools();
    log(log_level::info, "connected to " + std::to_string(all.size()) + " hosts, protocol v" +
                             std::to_string(static_cast<int>(version_.load())));
    finish_connect({}, {});
}

asio::awaitable<void> cluster_impl::wait_for_pools() {
    if (pools_pending_ == 0) co_return;
    pools_ready_.emplace(control_executor());
    pools_ready_->expires_after(cfg_.connect_timeout + pools_wait_margin);
    co_await pools_ready_->async_wait(tuple_awaitable);
    pools_ready_.reset();
}

asio::awaitable<std::error_code> cluster_impl::open_control(
    const std::vector<host_endpoint>& candidates, std::string& errors) {
    std::error_code first_ec, last_ec;
    bool same = true;
    for (const auto& ep : candidates) {
        if (closing_) co_return std::error_code(session_errc::closed);
        auto settings = connection_settings(make_host(host_info{ep}));
        std::weak_ptr<cluster_impl> w = shared_from_this();
        // Both run on the control executor (the connection's).
        settings.on_event = [w](response&& r) {
            if (auto self = w.lock()) self->on_event(std::make_shared<response>(std::move(r)));
        };
        settings.on_down = [w](const void* c, std::error_code ec) {
            if (auto self = w.lock()) self->on_control_down(c, ec);
        };
        auto conn = connection::create_on(control_executor(), std::move(settings));
        control_opening_ = conn;  // (close shuts it down)
        auto [ec] = co_await conn->async_connect(tuple_awaitable);
        control_opening_.reset();
        if (!ec) {
            static constexpr std::string_view events[] = {"TOPOLOGY_CHANGE", "STATUS_CHANGE",
                                                          "SCHEMA_CHANGE"};
            protocol::register_request reg;
            reg.event_types = events;
            auto [rec, resp] = co_await conn->async_request(reg, tuple_awaitable);
            if (!rec && resp.opcode() != protocol::opcode::ready) rec = errc::unexpected_response;
            if (!rec && closing_) rec = session_errc::closed;
            if (!rec) {
                if (control_) control_->shutdown(errc::connection_closed);
                control_ = std::move(conn);
                control_channel_ = std::make_unique<pooled_channel>(control_);
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
            conn->shutdown(errc::connection_closed);
        }
        const auto why = describe_failure(ec, conn->connect_diagnostics());
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

void cluster_impl::on_control_down(const void* c, std::error_code ec) {
    if (closing_ || !control_ || c != static_cast<const pool_connection*>(control_.get()) ||
        reconnecting_control_)
        return;
    log(log_level::warning,
        "control connection to " + key_of(control_endpoint_) + " lost: " + ec.message());
    reconnecting_control_ = true;
    asio::co_spawn(control_executor(), reconnect_control(), asio::detached);
}

asio::awaitable<void> cluster_impl::reconnect_control() {
    auto self = shared_from_this();
    auto schedule = reconnection_->new_schedule();
    while (!closing_) {
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
        if (closing_) break;
        if (ec) {
            log(log_level::error, "no host for the control connection: " + errors);
            if (!co_await control_sleep(schedule->next_delay())) break;
            continue;
        }
        auto tec = co_await refresh_topology();
        if (tec) log(log_level::warning, "topology refresh failed: " + tec.message());
        auto sec = co_await refresh_schema();
        if (sec) log(log_level::warning, "schema refresh failed: " + sec.message());
        break;
    }
    reconnecting_control_ = false;
}

asio::awaitable<bool> cluster_impl::control_sleep(std::chrono::milliseconds d) {
    if (closing_) co_return false;
    asio::steady_timer t(control_executor(), d);
    sleepers_.insert(&t);
    auto [ec] = co_await t.async_wait(tuple_awaitable);
    sleepers_.erase(&t);
    co_return !ec && !closing_;
}

asio::awaitable<std::pair<std::error_code, result>> cluster_impl::run_on_control(request_handle r) {
    auto [ec, res] =
        co_await asio::async_initiate<decltype(tuple_awaitable), void(error_code, result)>(
            [this, &r](auto handler) {
                r->op = make_op_completion<error_code, result>(
                    std::move(handler), asio::any_io_executor(control_executor()));
                control_shard().submit(r.release());
            },
            tuple_awaitable);
    co_return std::pair<std::error_code, result>{ec, std::move(res)};
}

asio::awaitable<std::pair<std::error_code, result>> cluster_impl::control_query(std::string q) {
    using out = std::pair<std::error_code, result>;
    if (!control_ || !control_->is_ready() || closing_)
        co_return out{
            closing_ ? std::error_code(session_errc::closed) : std::error_code(errc::not_connected),
            result{}};
    request_handle r(new_request());
    auto& sp = r->spec;
    sp.type = request_spec::kind::query;
    sp.version = control_->version();
    sp.profile = &profiles_.default_profile();
    sp.pinned = control_channel_.get();
    sp.timeout = cfg_.request_timeout;  // control queries: the cluster's request timeout
    statement st(std::move(q));
    if (auto ec = st.encode_query_frame(sp.frame, sp.version, protocol::consistency::one))
        co_return out{ec, result{}};
    co_return co_await run_on_control(std::move(r));
}

// ---- topology and schema -------------------------------------------------------------

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
    if (closing_) co_return std::error_code(session_errc::closed);
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

void cluster_impl::start_refresh(op_ptr<error_code> op) {
    asio::co_spawn(
        control_executor(),
        [self = shared_from_this(), op = std::move(op)]() mutable -> asio::awaitable<void> {
            auto ec = co_await self->refresh_schema();
            complete(std::move(op), ec);
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
        remove_pools(h);
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
    if (lb_initialized_) sync_pools();
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

// ---- pools and host states ------------------------------------------------------------

void cluster_impl::add_pools(const host_ptr& h, host_distance d) {
    if (closing_) return;
    const auto n =
        d == host_distance::local ? cfg_.pool.local_connections : cfg_.pool.remote_connections;
    auto& st = host_states_[h.get()];
    st.reported.assign(shards_.size(), 0);
    st.healthy.assign(shards_.size(), 0);
    pools_pending_ += shards_.size();
    on_every_shard([h, n](shard& s) { s.add_pool(h, n); });
}

void cluster_impl::remove_pools(const host_ptr& h) {
    forget_pool_states(h);
    on_every_shard([h](shard& s) { s.remove_pool(h); });
}

void cluster_impl::retire_pools(const host_ptr& h) {
    forget_pool_states(h);
    on_every_shard([h](shard& s) { s.retire_pool(h); });
}

void cluster_impl::forget_pool_states(const host_ptr& h) {
    if (auto it = host_states_.find(h.get()); it != host_states_.end()) {
        for (auto r : it->second.reported)
            if (!r && pools_pending_ > 0) --pools_pending_;
        host_states_.erase(it);
    }
}

void cluster_impl::pool_health(std::size_t shard_index, const host_ptr& h, bool healthy,
                               std::error_code ec, const std::string& why) {
    asio::post(control_executor(), [self = shared_from_this(), shard_index, h, healthy, ec, why] {
        auto it = self->host_states_.find(h.get());
        if (it == self->host_states_.end() || self->closing_) return;
        auto& st = it->second;
        if (!st.reported[shard_index]) {
            st.reported[shard_index] = 1;
            if (self->pools_pending_ > 0 && --self->pools_pending_ == 0 && self->pools_ready_)
                self->pools_ready_->cancel();
        }
        const bool any_before =
            std::any_of(st.healthy.begin(), st.healthy.end(), [](char c) { return c; });
        st.healthy[shard_index] = healthy ? 1 : 0;
        if (healthy) {
            if (!h->is_up()) {
                self->host_up(h);
            } else if (!any_before && !self->prepared_.empty()) {
                // Every connection to it had gone (a restart, say): it may have lost the
                // prepared statements.
                asio::co_spawn(self->control_executor(), self->reprepare_on_host(h),
                               asio::detached);
            }
        } else if (std::none_of(st.healthy.begin(), st.healthy.end(), [](char c) { return c; })) {
            self->host_down(h, why.empty() ? ec.message() : why);
        }
    });
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

void cluster_impl::host_down(const host_ptr& h, const std::string& why) {
    if (!h->is_up()) return;
    h->set_up(false);
    for (auto& lb : lb_policies())
        lb->on_down(h);
    log(log_level::warning, "host down: " + key_of(h->endpoint()) + " (" + why + ")");
    sync_pools();
}

// Pools for the hosts found at connect and by refreshes. Hosts' distances also change when
// another host goes down or comes back (dc_aware_policy uses the first
// used_hosts_per_remote_dc remote hosts that are up). A host not ignored gets pools; one that
// became ignored while up gives them back once the requests they carry are done (plans no longer
// yield it). A host that is down keeps its pools: their reconnection is how it is found up again.
void cluster_impl::sync_pools() {
    const auto& lb = *profiles_.default_profile().load_balancing;
    for (const auto& [key, h] : host_map_) {
        const bool pooled = host_states_.count(h.get()) > 0;
        const auto d = lb.distance(*h);
        const bool ignored = d == host_distance::ignored;
        if (!pooled && !ignored) {
            add_pools(h, d);
        } else if (pooled && ignored && h->is_up()) {
            log(log_level::info, "host " + key + " no longer used: its connections close");
            retire_pools(h);
        }
    }
}

void cluster_impl::host_up(const host_ptr& h) {
    if (h->is_up()) return;
    h->set_up(true);
    for (auto& lb : lb_policies())
        lb->on_up(h);
    log(log_level::info, "host up: " + key_of(h->endpoint()));
    sync_pools();
    if (!prepared_.empty())
        asio::co_spawn(control_executor(), reprepare_on_host(h), asio::detached);
}

// ---- events ----------------------------------------------------------------------------

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
        if (st->change == protocol::status_change_type::up) {
            log(log_level::info, "event: " + key_of(h->endpoint()) + " UP");
            on_every_shard([h](shard& s) { s.wake_pool(h, true); });
        } else {
            log(log_level::info, "event: " + key_of(h->endpoint()) + " DOWN");
            host_down(h, "a DOWN event from the control connection");
            on_every_shard([h](shard& s) { s.wake_pool(h, false); });
        }
    } else if (std::holds_alternative<protocol::schema_change_event>(msg)) {
        schedule_refresh(false);
    }
}

void cluster_impl::schedule_refresh(bool topology) {
    bool& pending = topology ? topology_pending_ : schema_pending_;
    auto& timer = topology ? *topology_timer_ : *schema_timer_;
    if (pending) return;
    pending = true;
    timer.expires_after(cfg_.event_debounce);
    timer.async_wait([self = shared_from_this(), topology](std::error_code ec) {
        (topology ? self->topology_pending_ : self->schema_pending_) = false;
        if (ec || self->closing_) return;
        asio::co_spawn(
            self->control_executor(),
            [self, topology]() -> asio::awaitable<void> {
                std::error_code rec;
                if (topology)
                    rec = co_await self->refresh_topology();
                else
                    rec = co_await self->refresh_schema();
                if (rec && !self->closing_)
                    self->log(log_level::warning, std::string(topology ? "topology" : "schema") +
                                                      " refresh failed: " + rec.message());
            },
            asio::detached);
    });
}

}  // namespace cql::detail
