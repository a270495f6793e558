// cqlsim's cluster: nodes, listeners, topology, events, the fault API.
#include <boost/asio/post.hpp>
#include <future>
#include <limits>
#include <random>
#include <stdexcept>

#include "server_impl.hpp"

namespace cqlsim {

namespace {

engine_config make_engine_config(const cluster_config& c) {
    engine_config e;
    e.clock_micros = c.clock_micros;
    return e;
}

proto::inet_address to_inet(const std::string& address, std::uint16_t port) {
    proto::inet_address a;
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(address, ec);
    if (ec || ip.is_v4()) {
        auto b = ec ? asio::ip::address_v4::loopback().to_bytes() : ip.to_v4().to_bytes();
        a.size = 4;
        std::copy(b.begin(), b.end(), a.bytes.begin());
    } else {
        auto b = ip.to_v6().to_bytes();
        a.size = 16;
        std::copy(b.begin(), b.end(), a.bytes.begin());
    }
    a.port = port;
    return a;
}

std::string nth_address(const std::string& base, std::size_t i) {
    auto a = asio::ip::make_address_v4(base);
    return asio::ip::address_v4(a.to_uint() + static_cast<std::uint32_t>(i)).to_string();
}

}  // namespace

std::vector<datacenter_config> parse_datacenters(std::string_view text) {
    std::vector<datacenter_config> out;
    auto parse_count = [](std::string_view s, std::size_t& n) {
        if (s.empty() || s.size() > 6) return false;
        n = 0;
        for (char c : s) {
            if (c < '0' || c > '9') return false;
            n = n * 10 + static_cast<std::size_t>(c - '0');
        }
        return n > 0;
    };
    while (!text.empty()) {
        auto comma = text.find(',');
        auto item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        datacenter_config dc;
        auto colon = item.find(':');
        if (colon == std::string_view::npos) {
            dc.name = "dc" + std::to_string(out.size() + 1);
            if (!parse_count(item, dc.nodes)) return {};
        } else {
            dc.name = std::string(item.substr(0, colon));
            auto rest = item.substr(colon + 1);
            auto colon2 = rest.find(':');  // dc1:3:2 = 3 nodes over 2 racks
            if (colon2 != std::string_view::npos) {
                if (!parse_count(rest.substr(colon2 + 1), dc.racks)) return {};
                rest = rest.substr(0, colon2);
            }
            if (dc.name.empty() || !parse_count(rest, dc.nodes)) return {};
        }
        out.push_back(std::move(dc));
    }
    return out;
}

std::optional<error_code> parse_error_kind(std::string_view n) noexcept {
    struct entry {
        std::string_view name;
        error_code code;
    };
    static constexpr entry table[] = {
        {"server_error", error_code::server_error},
        {"protocol_error", error_code::protocol_error},
        {"bad_credentials", error_code::bad_credentials},
        {"unavailable", error_code::unavailable},
        {"overloaded", error_code::overloaded},
        {"is_bootstrapping", error_code::is_bootstrapping},
        {"truncate_error", error_code::truncate_error},
        {"write_timeout", error_code::write_timeout},
        {"read_timeout", error_code::read_timeout},
        {"read_failure", error_code::read_failure},
        {"function_failure", error_code::function_failure},
        {"write_failure", error_code::write_failure},
        {"syntax_error", error_code::syntax_error},
        {"unauthorized", error_code::unauthorized},
        {"invalid", error_code::invalid},
        {"config_error", error_code::config_error},
        {"already_exists", error_code::already_exists},
        {"unprepared", error_code::unprepared},
    };
    for (const auto& e : table)
        if (e.name == n) return e.code;
    return std::nullopt;
}

}  // namespace cqlsim

namespace cqlsim {

cluster::impl::impl(asio::io_context* external, cluster_config c)
    : cfg(std::move(c)),
      own_io(external ? nullptr : std::make_unique<asio::io_context>(1)),
      io(external ? external : own_io.get()),
      strand(asio::make_strand(*io)),
      eng(make_engine_config(cfg)) {
    if (cfg.datacenters.empty()) cfg.datacenters.push_back({});
    std::size_t total = 0;
    for (const auto& dc : cfg.datacenters)
        total += dc.nodes;
    if (total == 0) throw std::invalid_argument("cqlsim: a cluster needs at least one node");
    if (cfg.vnodes == 0) cfg.vnodes = 1;
    std::size_t i = 0;
    for (const auto& dc : cfg.datacenters) {
        for (std::size_t j = 0; j < dc.nodes; ++j, ++i) {
            auto n = std::make_unique<node_state>();
            n->index = i;
            n->datacenter = dc.name;
            n->rack = "rack" + std::to_string(j % std::max<std::size_t>(dc.racks, 1) + 1);
            if (cfg.single_address) {
                n->address = cfg.base_address;
                n->port = cfg.port == 0 ? 0 : static_cast<std::uint16_t>(cfg.port + i);
            } else {
                n->address = nth_address(cfg.base_address, i);
                n->port = cfg.port;
            }
            nodes.push_back(std::move(n));
        }
    }
    // Tokens: evenly spaced and interleaved between the nodes, or seeded random.
    std::size_t ntokens = total * cfg.vnodes;
    std::mt19937_64 rng(cfg.token_seed);
    auto step = std::numeric_limits<std::uint64_t>::max() / ntokens;
    for (std::size_t k = 0; k < ntokens; ++k) {
        std::int64_t t;
        if (cfg.random_tokens)
            t = static_cast<std::int64_t>(rng());
        else
            t = static_cast<std::int64_t>(
                static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::min()) + step * k);
        nodes[k % total]->tokens.push_back(std::to_string(t));
    }
    if (cfg.tls) {
        ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
        ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3);
        const auto& t = *cfg.tls;
        if (!t.certificate_file.empty())
            ssl->use_certificate_chain_file(t.certificate_file);
        else
            ssl->use_certificate_chain(asio::buffer(t.certificate_pem));
        if (!t.private_key_file.empty())
            ssl->use_private_key_file(t.private_key_file, asio::ssl::context::pem);
        else
            ssl->use_private_key(asio::buffer(t.private_key_pem), asio::ssl::context::pem);
    }
}

const std::string* cluster::impl::prepared_text(proto::bytes_view id) const {
    auto it = prepared_texts.find(proto::as_string_view(id));
    return it == prepared_texts.end() ? nullptr : &it->second;
}

node_state& cluster::impl::node_at(std::size_t i) {
    if (i >= nodes.size()) throw std::out_of_range("cqlsim: no node " + std::to_string(i));
    return *nodes[i];
}

void cluster::impl::sync(const std::function<void()>& f) {
    if (!started || strand.running_in_this_thread() || io->stopped()) return f();
    std::promise<void> done;
    asio::post(strand, [&] {
        try {
            f();
            done.set_value();
        } catch (...) {
            done.set_exception(std::current_exception());
        }
    });
    done.get_future().get();
}

void cluster::impl::open_listener(node_state& n) {
    tcp::endpoint ep(asio::ip::make_address(n.address), n.port);
    tcp::acceptor a(strand);
    a.open(ep.protocol());
    a.set_option(asio::socket_base::reuse_address(true));
    a.bind(ep);
    a.listen(asio::socket_base::max_listen_connections);
    n.port = a.local_endpoint().port();
    n.acceptor.emplace(std::move(a));
    n.up = true;
}

void cluster::impl::do_accept(node_state& n) {
    if (!n.acceptor) return;
    n.acceptor->async_accept(strand, [self = shared_from_this(), &n](
                                         const boost::system::error_code& ec, tcp::socket s) {
        if (ec == asio::error::operation_aborted || !n.up || !n.acceptor) return;
        if (!ec) {
            auto c = std::make_shared<connection>(self, n, std::move(s), n.next_connection_id++);
            n.connections.insert(c);
            c->start();
        }
        self->do_accept(n);
    });
}

void cluster::impl::close_node(node_state& n) {
    n.up = false;
    if (n.acceptor) {
        boost::system::error_code ignored;
        n.acceptor->close(ignored);
        n.acceptor.reset();
    }
    auto conns = n.connections;
    for (auto& c : conns)
        c->close(true);
    n.connections.clear();
}

void cluster::impl::update_topology() {
    topology t;
    t.cluster_name = cfg.cluster_name;
    for (const auto& n : nodes) {
        if (n->removed) continue;
        n->topology_index = t.nodes.size();
        node_info ni;
        ni.address = n->address;
        ni.port = n->port;
        // Nodes sharing an address need distinct storage ports, as in a real multi-port
        // setup, or their system.peers_v2 rows (key: peer, peer_port) would collide.
        ni.storage_port = cfg.single_address ? 7000 + static_cast<std::int32_t>(n->index) : 7000;
        ni.datacenter = n->datacenter;
        ni.rack = n->rack;
        ni.tokens = n->tokens;
        ni.release_version = cfg.release_version;
        t.nodes.push_back(std::move(ni));
    }
    eng.set_topology(std::move(t));
}

void cluster::impl::broadcast_status(const node_state& about, bool is_up) {
    proto::status_change_event ev;
    ev.change = is_up ? proto::status_change_type::up : proto::status_change_type::down;
    ev.address = to_inet(about.address, about.port);
    for (auto& n : nodes) {
        if (n.get() == &about || !n->up) continue;
        auto conns = n->connections;
        for (auto& c : conns)
            if (c->wants(event_mask::status)) c->send_event(ev);
    }
}

void cluster::impl::broadcast_topology(const node_state& about, bool added) {
    proto::topology_change_event ev;
    ev.change =
        added ? proto::topology_change_type::new_node : proto::topology_change_type::removed_node;
    ev.address = to_inet(about.address, about.port);
    for (auto& n : nodes) {
        if (n.get() == &about || !n->up) continue;
        auto conns = n->connections;
        for (auto& c : conns)
            if (c->wants(event_mask::topology)) c->send_event(ev);
    }
}

void cluster::impl::broadcast_schema(const schema_change_result& c) {
    proto::schema_change_event ev;
    ev.change.change = static_cast<proto::schema_change_type>(c.change);
    ev.change.target = static_cast<proto::schema_change_target>(c.target);
    ev.change.keyspace = c.keyspace;
    ev.change.name = c.name;
    for (const auto& a : c.arg_types)
        ev.change.arg_types.push_back(a);
    for (auto& n : nodes) {
        if (!n->up) continue;
        auto conns = n->connections;
        for (auto& conn : conns)
            if (conn->wants(event_mask::schema)) conn->send_event(ev);
    }
}

void cluster::impl::log_request(node_state& n, request_log_entry e) {
    if (cfg.max_request_log == 0) return;
    e.timestamp = std::chrono::system_clock::now();
    n.log.push_back(std::move(e));
    while (n.log.size() > cfg.max_request_log)
        n.log.pop_front();
}

// ---- cluster ----

cluster::cluster(cluster_config cfg) : impl_(std::make_shared<impl>(nullptr, std::move(cfg))) {
    std::weak_ptr<impl> w = impl_;
    impl_->eng.on_schema_change([w](const schema_change_result& c) {
        if (auto s = w.lock()) asio::post(s->strand, [s, c] { s->broadcast_schema(c); });
    });
}

cluster::cluster(asio::io_context& io, cluster_config cfg)
    : impl_(std::make_shared<impl>(&io, std::move(cfg))) {
    std::weak_ptr<impl> w = impl_;
    impl_->eng.on_schema_change([w](const schema_change_result& c) {
        if (auto s = w.lock()) asio::post(s->strand, [s, c] { s->broadcast_schema(c); });
    });
}

cluster::~cluster() {
    try {
        stop();
    } catch (...) {
    }
}

void cluster::start() {
    auto& m = *impl_;
    if (m.started) return;
    try {
        for (auto& n : m.nodes)
            m.open_listener(*n);
    } catch (...) {
        for (auto& n : m.nodes)
            m.close_node(*n);
        throw;
    }
    m.update_topology();
    for (auto& n : m.nodes)
        m.do_accept(*n);
    m.started = true;
    if (m.own_io) {
        m.own_io->restart();
        m.work.emplace(m.own_io->get_executor());
        m.thread = std::thread([io = m.own_io.get()] { io->run(); });
    }
}

void cluster::stop() {
    auto& m = *impl_;
    if (!m.started) return;
    m.sync([&m] {
        for (auto& n : m.nodes)
            m.close_node(*n);
    });
    m.started = false;
    if (m.own_io) {
        m.work.reset();
        if (m.thread.joinable()) m.thread.join();
    }
}

std::size_t cluster::size() const noexcept {
    return impl_->nodes.size();
}

node_endpoint cluster::endpoint(std::size_t node) const {
    node_endpoint e;
    impl_->sync([&] {
        auto& n = impl_->node_at(node);
        e = {n.address, n.port, n.datacenter, n.rack, n.up, n.paused, n.removed};
    });
    return e;
}

engine& cluster::get_engine() noexcept {
    return impl_->eng;
}

const cluster_config& cluster::config() const noexcept {
    return impl_->cfg;
}

void cluster::stop_node(std::size_t node) {
    impl_->sync([&] {
        auto& n = impl_->node_at(node);
        if (!n.up) return;
        impl_->close_node(n);
        impl_->broadcast_status(n, false);
    });
}

void cluster::start_node(std::size_t node) {
    impl_->sync([&] {
        auto& n = impl_->node_at(node);
        if (n.up) return;
        if (n.removed)
            throw std::logic_error("cqlsim: node was removed; add_node() brings it back");
        impl_->open_listener(n);
        impl_->do_accept(n);
        impl_->broadcast_status(n, true);
    });
}

void cluster::remove_node(std::size_t node) {
    impl_->sync([&] {
        auto& n = impl_->node_at(node);
        if (n.removed) return;
        bool was_up = n.up;
        if (was_up) impl_->close_node(n);
        n.removed = true;
        impl_->update_topology();
        if (was_up) impl_->broadcast_status(n, false);
        impl_->broadcast_topology(n, false);
    });
}

void cluster::add_node(std::size_t node) {
    impl_->sync([&] {
        auto& n = impl_->node_at(node);
        if (!n.removed) return;
        impl_->open_listener(n);
        n.removed = false;
        impl_->update_topology();
        impl_->do_accept(n);
        impl_->broadcast_topology(n, true);
        impl_->broadcast_status(n, true);
    });
}

void cluster::restart_node(std::size_t node) {
    stop_node(node);
    start_node(node);
}

void cluster::pause_node(std::size_t node) {
    impl_->sync([&] { impl_->node_at(node).paused = true; });
}

void cluster::resume_node(std::size_t node) {
    impl_->sync([&] {
        auto& n = impl_->node_at(node);
        if (!n.paused) return;
        n.paused = false;
        auto conns = n.connections;
        for (auto& c : conns)
            c->resume();
    });
}

void cluster::set_latency(std::size_t node, std::chrono::milliseconds d) {
    impl_->sync([&] { impl_->node_at(node).latency = d; });
}

namespace {
template <class F>
void for_nodes(cluster::impl& m, std::size_t node, F&& f) {
    if (node == cluster::all_nodes) {
        for (auto& n : m.nodes)
            f(*n);
    } else {
        f(m.node_at(node));
    }
}
}  // namespace

void cluster::prime(std::size_t node, prime_rule rule) {
    std::regex re(rule.pattern, std::regex::ECMAScript);  // throws std::regex_error if invalid
    impl_->sync([&] {
        for_nodes(*impl_, node, [&](node_state& n) { n.primes.push_back({rule, re}); });
    });
}

void cluster::clear_primes(std::size_t node) {
    impl_->sync([&] { for_nodes(*impl_, node, [](node_state& n) { n.primes.clear(); }); });
}

void cluster::close_connection_after(std::size_t node, std::uint64_t count) {
    impl_->sync([&] { for_nodes(*impl_, node, [&](node_state& n) { n.close_after = count; }); });
}

void cluster::corrupt_next_segment_crc(std::size_t node) {
    impl_->sync([&] { for_nodes(*impl_, node, [](node_state& n) { n.corrupt_next_crc = true; }); });
}

void cluster::reply_on_wrong_stream(std::size_t node, std::uint64_t count) {
    impl_->sync([&] { for_nodes(*impl_, node, [&](node_state& n) { n.wrong_stream = count; }); });
}

void cluster::cap_concurrent_streams(std::size_t node, std::size_t count) {
    impl_->sync([&] { for_nodes(*impl_, node, [&](node_state& n) { n.stream_cap = count; }); });
}

void cluster::clear_faults(std::size_t node) {
    impl_->sync([&] {
        for_nodes(*impl_, node, [&](node_state& n) {
            n.primes.clear();
            n.latency = std::chrono::milliseconds(0);
            n.close_after = 0;
            n.corrupt_next_crc = false;
            n.wrong_stream = 0;
            n.stream_cap = 0;
            if (n.paused) {
                n.paused = false;
                auto conns = n.connections;
                for (auto& c : conns)
                    c->resume();
            }
        });
    });
}

std::vector<request_log_entry> cluster::request_log(std::size_t node) const {
    std::vector<request_log_entry> out;
    impl_->sync([&] {
        const auto& l = impl_->node_at(node).log;
        out.assign(l.begin(), l.end());
    });
    return out;
}

void cluster::clear_request_log(std::size_t node) {
    impl_->sync([&] { for_nodes(*impl_, node, [](node_state& n) { n.log.clear(); }); });
}

std::size_t cluster::connection_count(std::size_t node) const {
    std::size_t out = 0;
    impl_->sync([&] { out = impl_->node_at(node).connections.size(); });
    return out;
}

}  // namespace cqlsim
