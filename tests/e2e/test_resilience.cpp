// Routing and resilience, proved against cqlsim's request logs: a node stopped and restarted
// under 100,000 requests, remote datacenters only when allowed, the retry decision for every
// error kind (idempotent or not), speculative execution against a slow replica.
#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>

#include "e2e_fixture.hpp"

using namespace e2e;
namespace p = cql::protocol;
using clock_type = std::chrono::steady_clock;
constexpr auto tuple_awaitable = asio::as_tuple(use_awaitable);

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    t.expires_after(d);
    co_await t.async_wait(tuple_awaitable);
}

// Polls `pred` every 20 ms for at most `limit`; its last value.
template <class Pred>
asio::awaitable<bool> eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
    auto until = clock_type::now() + limit;
    while (!pred()) {
        if (clock_type::now() >= until) co_return pred();
        co_await sleep_for(20ms);
    }
    co_return true;
}

cql::host_ptr host_at(cql::cluster& c, const cqlsim::node_endpoint& ep) {
    for (const auto& h : c.hosts())
        if (h->address() == ep.address && h->port() == ep.port) return h;
    return nullptr;
}

std::size_t count_on(const cqlsim::cluster& sim, std::size_t node, p::opcode op,
                     std::string_view needle) {
    std::size_t n = 0;
    for (const auto& e : sim.request_log(node))
        if (e.op == op && e.query.find(needle) != std::string::npos) ++n;
    return n;
}

asio::awaitable<void> create_rf_schema(cql::session& s, const std::string& ks,
                                       const std::string& replication) {
    co_await s.async_execute(
        cql::statement("CREATE KEYSPACE " + ks + " WITH replication = " + replication),
        use_awaitable);
    co_await s.async_execute(
        cql::statement("CREATE TABLE " + ks + ".kv (k int, c int, v text, PRIMARY KEY (k, c))"),
        use_awaitable);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// 1. A node stopped and restarted during 100,000 requests.

TEST_CASE("a node stopped and restarted during 100,000 requests") {
    E2E_NEEDS_CQLSIM("stopping a node, request logs");
    const int total = sanitized ? 20000 : 100000;
    const int workers = 256;
    const auto request_timeout = 3000ms;
    const auto slack = 5000ms;
    constexpr std::size_t down_node = 1;  // not the control connection's (node 0)

    test_cluster tc;
    run(
        [&](asio::io_context& io) -> asio::awaitable<void> {
            auto cfg = tc.config();
            cfg.request_timeout = request_timeout;
            cfg.io_threads = 2;  // the driver on its own threads: concurrency for TSan
            cfg.reconnection = std::make_shared<cql::constant_reconnection_policy>(100ms);
            cql::cluster cluster(io.get_executor(), cfg);
            co_await cluster.async_connect(use_awaitable);
            auto& s = cluster.session();
            auto ks = ks_name("restart");
            co_await create_rf_schema(s, ks,
                                      "{'class': 'SimpleStrategy', 'replication_factor': 3}");
            auto ins = co_await s.async_prepare(
                "INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)", use_awaitable);
            auto sel =
                co_await s.async_prepare("SELECT v FROM " + ks + ".kv WHERE k = ?", use_awaitable);
            auto& sim = tc.sim();
            for (std::size_t i = 0; i < sim.size(); ++i)
                sim.clear_request_log(i);
            auto down_host = host_at(cluster, sim.endpoint(down_node));
            REQUIRE(down_host);

            // Phases: 0 running, 1 node stopped, 2 node restarted.
            struct state {
                int next = 0;
                int completed = 0;
                int phase = 0;
                int writes = 0, reads = 0;
                std::vector<int> acked;
                std::map<std::string, int> errors;
                clock_type::duration max_latency{};
                bool seen_down = false;
                bool slowed = false;
                std::size_t log_at_stop = 0, log_at_restart = 0, log_before_restart = 0;
                int completed_at_stop = 0, completed_at_restart = 0;
                int errors_while_down = 0;
            } st;
            st.acked.reserve(static_cast<std::size_t>(total));

            auto on_completion = [&] {
                ++st.completed;
                if (st.phase == 1 && !down_host->is_up()) st.seen_down = true;
                if (st.phase == 0 && !st.slowed && st.completed >= total / 4 - 1000) {
                    // Answers from the node are delayed, so that requests are in flight on
                    // it (received, unanswered) when it stops: they fail and are retried.
                    sim.set_latency(down_node, 50ms);
                    st.slowed = true;
                } else if (st.phase == 0 && st.completed >= total / 4) {
                    sim.stop_node(down_node);
                    st.log_at_stop = sim.request_log(down_node).size();
                    st.completed_at_stop = st.completed;
                    st.phase = 1;
                } else if (st.phase == 1 && st.seen_down && st.completed >= total / 2) {
                    st.log_before_restart = sim.request_log(down_node).size();
                    sim.set_latency(down_node, 0ms);
                    sim.start_node(down_node);
                    st.log_at_restart = sim.request_log(down_node).size();
                    st.completed_at_restart = st.completed;
                    st.phase = 2;
                }
            };

            auto worker = [&]() -> asio::awaitable<void> {
                while (st.next < total) {
                    const int i = st.next++;
                    const bool write = i % 2 == 0;
                    const int phase_at_start = st.phase;
                    auto start = clock_type::now();
                    cql::error_code ec;
                    if (write) {
                        ++st.writes;
                        auto [e, r] = co_await s.async_execute(ins.bind(i, 0, "v").idempotent(true),
                                                               tuple_awaitable);
                        ec = e;
                        if (!ec) st.acked.push_back(i);
                    } else {
                        ++st.reads;
                        auto [e, r] = co_await s.async_execute(sel.bind(i - 1).idempotent(true),
                                                               tuple_awaitable);
                        ec = e;
                        if (!ec && r.size() == 1) CHECK(r.front().get<std::string>(0) == "v");
                    }
                    st.max_latency = std::max(st.max_latency, clock_type::now() - start);
                    if (ec) {
                        ++st.errors[ec.message()];
                        if (phase_at_start == 1) ++st.errors_while_down;
                    }
                    on_completion();
                }
            };
            auto started = clock_type::now();
            int running = workers;
            for (int w = 0; w < workers; ++w)
                asio::co_spawn(io, worker(), [&](std::exception_ptr e) {
                    --running;
                    if (e) std::rethrow_exception(e);
                });
            co_await eventually([&] { return running == 0; }, 240s);
            REQUIRE(running == 0);
            auto elapsed = clock_type::now() - started;
            if (st.phase == 1) {  // the load ended before the driver saw the node down
                const bool marked_down = co_await eventually([&] { return !down_host->is_up(); });
                CHECK(marked_down);
                st.seen_down = !down_host->is_up();
                st.log_before_restart = sim.request_log(down_node).size();
                sim.set_latency(down_node, 0ms);
                sim.start_node(down_node);
                st.log_at_restart = sim.request_log(down_node).size();
                st.phase = 2;
            }
            const std::size_t log_after_load = sim.request_log(down_node).size();

            // The driver returns to the node: it comes up and gets requests again.
            const bool back_up = co_await eventually([&] { return down_host->is_up(); });
            CHECK(back_up);
            int extra = 0;
            for (; extra < 300 && sim.request_log(down_node).size() <= st.log_at_restart; ++extra)
                co_await s.async_execute(sel.bind(extra).idempotent(true), use_awaitable);

            // Attempts as the nodes saw them (retries and re-sent requests included).
            std::size_t attempts = 0;
            for (std::size_t i = 0; i < sim.size(); ++i)
                attempts += count_on(sim, i, p::opcode::execute, ks + ".kv");

            // No acknowledged write is lost: read the whole table back.
            std::set<int> stored;
            auto pages = s.pages(cql::statement("SELECT k FROM " + ks + ".kv").page_size(5000));
            while (auto page = co_await pages.async_next(use_awaitable))
                for (auto row : *page)
                    stored.insert(row.get<int>(0));
            std::size_t lost = 0;
            for (int k : st.acked)
                if (!stored.count(k)) ++lost;

            int error_count = 0;
            for (const auto& [m, n] : st.errors)
                error_count += n;
            std::printf(
                "restart under load: %d requests (%d writes, %d reads), %d workers, %.2f s\n"
                "  node %zu stopped after %d completions, restarted after %d\n"
                "  acknowledged writes %zu, lost %zu, errors %d (%d while down), max latency "
                "%.1f ms (bound %lld ms)\n"
                "  attempts seen by the nodes %zu (retries/re-sends %lld), extra reads to see "
                "the node again %d\n"
                "  node %zu log: %zu at stop, %zu before restart, %zu after the load\n",
                total, st.writes, st.reads, workers, std::chrono::duration<double>(elapsed).count(),
                down_node, st.completed_at_stop, st.completed_at_restart, st.acked.size(), lost,
                error_count, st.errors_while_down,
                std::chrono::duration<double, std::milli>(st.max_latency).count(),
                static_cast<long long>((request_timeout + slack).count()), attempts,
                static_cast<long long>(attempts) - (total + extra), extra, down_node,
                st.log_at_stop, st.log_before_restart, log_after_load);
            for (const auto& [m, n] : st.errors)
                std::printf("  error: %s x %d\n", m.c_str(), n);

            CHECK(st.completed == total);
            CHECK(lost == 0);
            CHECK(st.max_latency <= request_timeout + slack);
            CHECK(st.seen_down);
            // Routed around: nothing reached the node while it was down.
            CHECK(st.log_before_restart == st.log_at_stop);
            // Came back: the node serves client requests again.
            CHECK(sim.request_log(down_node).size() > st.log_at_restart);
            // Requests in flight on the node when it stopped were sent again elsewhere...
            CHECK(attempts > static_cast<std::size_t>(total + extra));
            // ... and, idempotent, none failed.
            CHECK(error_count == 0);
            co_await cluster.async_close(use_awaitable);
        },
        300s);
}

// ---------------------------------------------------------------------------------------
// 2. Remote datacenters only when allowed.

TEST_CASE("remote datacenters only when allowed") {
    E2E_NEEDS_CQLSIM("two datacenters, stopping nodes");
    cqlsim::cluster_config scfg;
    scfg.datacenters = cqlsim::parse_datacenters("dc1:2,dc2:1");
    scfg.base_address = "127.0.0.1";
    scfg.port = 0;
    cqlsim::cluster sim(scfg);
    sim.start();
    constexpr std::size_t remote = 2;  // the dc2 node
    REQUIRE(sim.endpoint(remote).datacenter == "dc2");

    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto base = [&] {
            cql::cluster_config c;
            c.contact_points = {sim.endpoint(0).address};
            c.port = sim.endpoint(0).port;
            c.local_datacenter = "dc1";
            c.connect_timeout = 5s;
            c.reconnection = std::make_shared<cql::constant_reconnection_policy>(100ms);
            return c;
        };
        // Local only: the default.
        cql::cluster local_only(io.get_executor(), base());
        // Remote allowed: one host per remote DC, and not only for LOCAL_* consistency.
        auto rcfg = base();
        cql::execution_profile prof;
        prof.request_timeout = 5s;
        prof.consistency = cql::consistency::one;
        cql::default_load_balancing_options lbo;
        lbo.dc.local_dc = "dc1";
        lbo.dc.used_hosts_per_remote_dc = 1;
        prof.load_balancing = cql::make_default_load_balancing(lbo);
        rcfg.profiles = cql::execution_profiles(prof);
        cql::cluster with_remote(io.get_executor(), rcfg);
        co_await local_only.async_connect(use_awaitable);
        co_await with_remote.async_connect(use_awaitable);

        auto ks = ks_name("dcs");
        co_await create_rf_schema(local_only.session(), ks,
                                  "{'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}");
        const std::string ins_text = "INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)";
        auto ins_l = co_await local_only.session().async_prepare(ins_text, use_awaitable);
        auto ins_r = co_await with_remote.session().async_prepare(ins_text, use_awaitable);
        for (std::size_t i = 0; i < sim.size(); ++i)
            sim.clear_request_log(i);

        // dc1 up: dc2 receives nothing from either.
        for (int k = 0; k < 100; ++k) {
            co_await local_only.session().async_execute(ins_l.bind(k, 0, "l"), use_awaitable);
            co_await with_remote.session().async_execute(ins_r.bind(k, 1, "r"), use_awaitable);
        }
        CHECK(count_on(sim, remote, p::opcode::execute, ks) == 0);
        CHECK(count_on(sim, 0, p::opcode::execute, ks) + count_on(sim, 1, p::opcode::execute, ks) ==
              200);

        // Every dc1 node stopped.
        sim.stop_node(0);
        sim.stop_node(1);
        auto dc1_down = [&](cql::cluster& c) {
            return [&c, &sim] {
                auto h0 = host_at(c, sim.endpoint(0));
                auto h1 = host_at(c, sim.endpoint(1));
                return h0 && h1 && !h0->is_up() && !h1->is_up();
            };
        };
        const bool seen_by_local_only = co_await eventually(dc1_down(local_only));
        CHECK(seen_by_local_only);
        const bool seen_by_with_remote = co_await eventually(dc1_down(with_remote));
        CHECK(seen_by_with_remote);

        // Remote DCs not allowed: "no host available", and dc2 sees none of it.
        for (int k = 0; k < 20; ++k) {
            cql::diagnostics d;
            auto [ec, r] = co_await local_only.session().async_execute(ins_l.bind(k, 2, "l"), d,
                                                                       tuple_awaitable);
            CHECK(ec == cql::session_errc::no_host_available);
            INFO(d.message);
            // The message names each dc1 node as down.
            for (std::size_t n : {0u, 1u}) {
                auto ep = sim.endpoint(n);
                std::string named = ep.address;
                named.append(":").append(std::to_string(ep.port)).append(" (down, dc1)");
                CHECK(d.message.find(named) != std::string::npos);
            }
            if (k == 0) std::printf("remote DCs not allowed, dc1 down: %s\n", d.message.c_str());
        }
        CHECK(count_on(sim, remote, p::opcode::execute, ks) == 0);

        // Allowed: they succeed, on dc2's node.
        for (int k = 0; k < 50; ++k) {
            auto [ec, r] = co_await with_remote.session().async_execute(ins_r.bind(k, 3, "r"),
                                                                        tuple_awaitable);
            CHECK(!ec);
        }
        CHECK(count_on(sim, remote, p::opcode::execute, ks) == 50);
        // ... but not with a DC-local consistency (LOCAL_ONE stays in the local DC).
        {
            cql::diagnostics d;
            auto [ec, r] = co_await with_remote.session().async_execute(
                ins_r.bind(1, 4, "r").consistency(cql::consistency::local_one), d, tuple_awaitable);
            CHECK(ec == cql::session_errc::no_host_available);
        }
        CHECK(count_on(sim, remote, p::opcode::execute, ks) == 50);

        co_await local_only.async_close(use_awaitable);
        co_await with_remote.async_close(use_awaitable);
    });
}

TEST_CASE("the next remote host takes over when the one in use goes down, until it is back") {
    E2E_NEEDS_CQLSIM("two datacenters, stopping nodes");
    cqlsim::cluster_config scfg;
    scfg.datacenters = cqlsim::parse_datacenters("dc1:1,dc2:2");
    scfg.base_address = "127.0.0.1";
    scfg.port = 0;
    cqlsim::cluster sim(scfg);
    sim.start();
    REQUIRE(sim.endpoint(1).datacenter == "dc2");
    REQUIRE(sim.endpoint(2).datacenter == "dc2");

    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster_config cfg;
        cfg.contact_points = {sim.endpoint(0).address};
        cfg.port = sim.endpoint(0).port;
        cfg.local_datacenter = "dc1";
        cfg.connect_timeout = 5s;
        cfg.reconnection = std::make_shared<cql::constant_reconnection_policy>(100ms);
        cql::execution_profile prof;
        prof.request_timeout = 5s;
        prof.consistency = cql::consistency::one;
        cql::default_load_balancing_options lbo;
        lbo.dc.local_dc = "dc1";
        lbo.dc.used_hosts_per_remote_dc = 1;  // one dc2 host at a time
        prof.load_balancing = cql::make_default_load_balancing(lbo);
        cfg.profiles = cql::execution_profiles(prof);
        cql::cluster cluster(io.get_executor(), cfg);
        co_await cluster.async_connect(use_awaitable);
        auto ks = ks_name("failover");
        co_await create_rf_schema(cluster.session(), ks,
                                  "{'class': 'NetworkTopologyStrategy', 'dc1': 1, 'dc2': 2}");
        auto ins = co_await cluster.session().async_prepare(
            "INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)", use_awaitable);
        auto down = [&](std::size_t node) {
            return [&cluster, &sim, node] {
                auto h = host_at(cluster, sim.endpoint(node));
                return h && !h->is_up();
            };
        };
        auto write_all = [&](int c) -> asio::awaitable<int> {
            int failed = 0;
            for (int k = 0; k < 20; ++k) {
                auto [ec, r] =
                    co_await cluster.session().async_execute(ins.bind(k, c, "v"), tuple_awaitable);
                if (ec) ++failed;
            }
            co_return failed;
        };
        sim.stop_node(0);  // dc1 gone: the first dc2 host takes the requests
        const bool dc1_seen_down = co_await eventually(down(0));
        CHECK(dc1_seen_down);
        for (std::size_t i = 0; i < sim.size(); ++i)
            sim.clear_request_log(i);
        const int failed_first = co_await write_all(1);  // (not inside CHECK: evaluated once)
        CHECK(failed_first == 0);
        const auto on1 = count_on(sim, 1, p::opcode::execute, ks);
        const auto on2 = count_on(sim, 2, p::opcode::execute, ks);
        CHECK(on1 + on2 == 20);
        REQUIRE((on1 == 0) != (on2 == 0));  // one dc2 host in use
        const std::size_t used = on1 ? 1 : 2, other = on1 ? 2 : 1;
        sim.stop_node(used);  // ... and then that one: the other dc2 host takes over
        const bool used_seen_down = co_await eventually(down(used));
        CHECK(used_seen_down);
        const int failed_then = co_await write_all(2);
        CHECK(failed_then == 0);
        CHECK(count_on(sim, other, p::opcode::execute, ks) == 20);
        // The first dc2 host comes back: it is used again, and the other's pool closes (its
        // count includes the control connection when that moved there).
        const auto other_connections = sim.connection_count(other);
        sim.start_node(used);
        const bool used_seen_up = co_await eventually([&] {
            auto h = host_at(cluster, sim.endpoint(used));
            return h && h->is_up();
        });
        CHECK(used_seen_up);
        const bool other_released = co_await eventually(
            [&] { return sim.connection_count(other) == other_connections - 1; });
        CHECK(other_released);
        for (std::size_t i = 0; i < sim.size(); ++i)
            sim.clear_request_log(i);
        const int failed_back = co_await write_all(3);
        CHECK(failed_back == 0);
        CHECK(count_on(sim, used, p::opcode::execute, ks) == 20);
        co_await cluster.async_close(use_awaitable);
    });
}

// ---------------------------------------------------------------------------------------
// 3. Every error kind leads to the documented decision.

namespace {

struct outcome {
    cql::error_code ec;
    cql::diagnostics diag;
    std::vector<std::size_t> per_node;  // attempts seen by each node
    std::size_t total() const {
        std::size_t n = 0;
        for (auto c : per_node)
            n += c;
        return n;
    }
    std::size_t nodes() const {
        return static_cast<std::size_t>(
            std::count_if(per_node.begin(), per_node.end(), [](auto c) { return c > 0; }));
    }
};

// Primes `err` forever on every node for requests matching `pattern`, runs `st` and counts
// the attempts (requests whose text contains `needle`) per node.
template <class Statement>
asio::awaitable<outcome> attempt_counts(test_cluster& tc, cql::session& s, Statement st,
                                        std::string pattern, std::string needle,
                                        cqlsim::primed_error err) {
    auto& sim = tc.sim();
    for (std::size_t i = 0; i < sim.size(); ++i)
        sim.clear_request_log(i);
    cqlsim::prime_rule rule;
    rule.pattern = pattern;
    rule.error = err;
    sim.prime(cqlsim::cluster::all_nodes, rule);
    outcome o;
    if constexpr (std::is_same_v<Statement, cql::batch>) {
        auto [ec, res] = co_await s.async_batch(st, o.diag, tuple_awaitable);
        o.ec = ec;
    } else {
        auto [ec, res] = co_await s.async_execute(st, o.diag, tuple_awaitable);
        o.ec = ec;
    }
    sim.clear_primes(cqlsim::cluster::all_nodes);
    for (std::size_t i = 0; i < sim.size(); ++i) {
        std::size_t n = 0;
        for (const auto& e : sim.request_log(i))
            if ((e.op == p::opcode::query || e.op == p::opcode::execute ||
                 e.op == p::opcode::batch) &&
                e.query.find(needle) != std::string::npos)
                ++n;
        o.per_node.push_back(n);
    }
    co_return o;
}

cqlsim::primed_error primed(cqlsim::error_code code) {
    cqlsim::primed_error e;
    e.code = code;
    return e;
}

}  // namespace

TEST_CASE("every error kind leads to the documented retry decision") {
    E2E_NEEDS_CQLSIM("primed errors and request logs");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto cfg = tc.config();
        cfg.reconnection = std::make_shared<cql::constant_reconnection_policy>(100ms);
        cql::cluster cluster(io.get_executor(), cfg);
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("decide");
        co_await create_schema(s, ks);
        int key = 1000;
        // A fresh statement text per run: "SELECT ... WHERE k = <key>" / "INSERT ... (<key>, ...)".
        auto select = [&](bool idem) {
            return cql::statement("SELECT v FROM " + ks + ".kv WHERE k = " + std::to_string(key))
                .consistency(cql::consistency::quorum)
                .idempotent(idem);
        };
        auto insert = [&](bool idem) {
            return cql::statement("INSERT INTO " + ks + ".kv (k, c, v) VALUES (" +
                                  std::to_string(key) + ", 0, 'x')")
                .consistency(cql::consistency::quorum)
                .idempotent(idem);
        };
        auto needle = [&] { return "k = " + std::to_string(key); };
        auto ins_needle = [&] { return "VALUES (" + std::to_string(key) + ","; };
        auto ins_pattern = [&] { return "VALUES \\(" + std::to_string(key) + ","; };

        for (int round = 0; round < 2; ++round) {
            const bool idem = round == 1;
            INFO("idempotent " << idem);
            // Read timeout, enough replicas answered but no data: once more, same host.
            {
                ++key;
                auto err = primed(cqlsim::error_code::read_timeout);
                err.received = 2;
                err.block_for = 2;
                err.data_present = false;
                auto o = co_await attempt_counts(tc, s, select(idem), needle(), needle(), err);
                CHECK(o.ec == cql::server_errc::read_timeout);
                CHECK(o.total() == 2);
                CHECK(o.nodes() == 1);
                CHECK(o.diag.from_server);
                CHECK(o.diag.received == 2);
                CHECK(o.diag.required == 2);
                CHECK_FALSE(o.diag.data_present);
                CHECK(o.diag.consistency_level == cql::consistency::quorum);
            }
            // Read timeout, not enough replicas: no retry.
            {
                ++key;
                auto err = primed(cqlsim::error_code::read_timeout);
                err.received = 1;
                err.block_for = 2;
                auto o = co_await attempt_counts(tc, s, select(idem), needle(), needle(), err);
                CHECK(o.ec == cql::server_errc::read_timeout);
                CHECK(o.total() == 1);
                CHECK(o.diag.received == 1);
            }
            // Read timeout, data present: no retry.
            {
                ++key;
                auto err = primed(cqlsim::error_code::read_timeout);
                err.received = 2;
                err.block_for = 2;
                err.data_present = true;
                auto o = co_await attempt_counts(tc, s, select(idem), needle(), needle(), err);
                CHECK(o.ec == cql::server_errc::read_timeout);
                CHECK(o.total() == 1);
                CHECK(o.diag.data_present);
            }
            // Write timeout, SIMPLE: never retried (even idempotent: the default policy
            // retries only BATCH_LOG).
            {
                ++key;
                auto err = primed(cqlsim::error_code::write_timeout);
                err.write_type = "SIMPLE";
                err.received = 1;
                err.block_for = 2;
                auto o =
                    co_await attempt_counts(tc, s, insert(idem), ins_pattern(), ins_needle(), err);
                CHECK(o.ec == cql::server_errc::write_timeout);
                CHECK(o.total() == 1);
                CHECK(o.diag.write_type == "SIMPLE");
                CHECK(o.diag.received == 1);
                CHECK(o.diag.required == 2);
            }
            // Write timeout of a logged batch's batch log write: retried once on the same host,
            // only when idempotent.
            {
                ++key;
                auto err = primed(cqlsim::error_code::write_timeout);
                err.write_type = "BATCH_LOG";
                cql::batch b(cql::batch_type::logged);
                b.add(insert(idem));
                b.add(cql::statement("INSERT INTO " + ks + ".kv (k, c, v) VALUES (" +
                                     std::to_string(key) + ", 1, 'y')"));
                b.consistency(cql::consistency::quorum).idempotent(idem);
                auto o = co_await attempt_counts(tc, s, b, ins_pattern(), ins_needle(), err);
                CHECK(o.ec == cql::server_errc::write_timeout);
                CHECK(o.total() == (idem ? 2u : 1u));
                CHECK(o.nodes() == 1);
                CHECK(o.diag.write_type == "BATCH_LOG");
            }
            // Unavailable: the next host, once.
            {
                ++key;
                auto err = primed(cqlsim::error_code::unavailable);
                err.required = 2;
                err.alive = 1;
                auto o =
                    co_await attempt_counts(tc, s, insert(idem), ins_pattern(), ins_needle(), err);
                CHECK(o.ec == cql::server_errc::unavailable);
                CHECK(o.total() == 2);
                CHECK(o.nodes() == 2);
                CHECK(o.diag.required == 2);
                CHECK(o.diag.alive == 1);
                CHECK(o.diag.consistency_level == cql::consistency::quorum);
            }
            // Overloaded, server error, truncate error: every host in turn when idempotent
            // (then "no host available" naming each), else sent once.
            const std::pair<cqlsim::error_code, cql::server_errc> next_host_errors[] = {
                {cqlsim::error_code::overloaded, cql::server_errc::overloaded},
                {cqlsim::error_code::server_error, cql::server_errc::server_error},
                {cqlsim::error_code::truncate_error, cql::server_errc::truncate_error},
            };
            for (auto [code, errc] : next_host_errors) {
                ++key;
                INFO("error " << cql::error_code(errc).message());
                auto o = co_await attempt_counts(tc, s, insert(idem), ins_pattern(), ins_needle(),
                                                 primed(code));
                if (idem) {
                    CHECK(o.ec == cql::session_errc::no_host_available);
                    CHECK(o.total() == tc.sim().size());
                    CHECK(o.nodes() == tc.sim().size());
                    INFO(o.diag.message);
                    for (std::size_t i = 0; i < tc.sim().size(); ++i) {
                        auto ep = tc.sim().endpoint(i);
                        CHECK(o.diag.message.find(ep.address + ":" + std::to_string(ep.port)) !=
                              std::string::npos);
                    }
                } else {
                    CHECK(o.ec == errc);
                    CHECK(o.total() == 1);
                    CHECK(o.diag.from_server);
                    CHECK(!o.diag.message.empty());
                }
            }
            // Read / write failure: never retried.
            {
                ++key;
                auto err = primed(cqlsim::error_code::write_failure);
                err.write_type = "SIMPLE";
                auto o =
                    co_await attempt_counts(tc, s, insert(idem), ins_pattern(), ins_needle(), err);
                CHECK(o.ec == cql::server_errc::write_failure);
                CHECK(o.total() == 1);
            }
            // Bootstrapping: nothing was executed, the next host whatever the idempotence.
            {
                ++key;
                auto o = co_await attempt_counts(tc, s, insert(idem), ins_pattern(), ins_needle(),
                                                 primed(cqlsim::error_code::is_bootstrapping));
                CHECK(o.ec == cql::session_errc::no_host_available);
                CHECK(o.total() == tc.sim().size());
                CHECK(o.nodes() == tc.sim().size());
            }
            // Errors that say the request is wrong: never retried.
            {
                ++key;
                auto o = co_await attempt_counts(tc, s, insert(idem), ins_pattern(), ins_needle(),
                                                 primed(cqlsim::error_code::invalid));
                CHECK(o.ec == cql::server_errc::invalid);
                CHECK(o.total() == 1);
            }
        }
    });
}

TEST_CASE("a connection broken with the request in flight: next host only when idempotent") {
    E2E_NEEDS_CQLSIM("restarting a node, request logs");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto cfg = tc.config();
        cfg.reconnection = std::make_shared<cql::constant_reconnection_policy>(100ms);
        cql::cluster cluster(io.get_executor(), cfg);
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("broken");
        co_await create_schema(s, ks);
        auto& sim = tc.sim();
        for (int round = 0; round < 2; ++round) {
            const bool idem = round == 1;
            INFO("idempotent " << idem);
            const std::string needle = idem ? "VALUES (7, 1," : "VALUES (7, 0,";
            for (std::size_t i = 0; i < sim.size(); ++i) {
                sim.clear_request_log(i);
                sim.set_latency(i, 400ms);
            }
            bool done = false;
            cql::error_code ec;
            cql::diagnostics diag;
            s.async_execute(cql::statement("INSERT INTO " + ks + ".kv (k, c, v) VALUES (7, " +
                                           std::string(idem ? "1" : "0") + ", 'b')")
                                .idempotent(idem),
                            diag, [&](cql::error_code e, cql::result) {
                                ec = e;
                                done = true;
                            });
            // The node that received it is restarted before it answers: its connections reset.
            std::size_t node = sim.size();
            const bool received = co_await eventually([&] {
                for (std::size_t i = 0; i < sim.size(); ++i)
                    if (count_on(sim, i, p::opcode::query, needle) > 0) node = i;
                return node < sim.size();
            });
            CHECK(received);
            REQUIRE(node < sim.size());
            sim.restart_node(node);
            const bool completed = co_await eventually([&] { return done; });
            CHECK(completed);
            std::size_t total = 0, nodes = 0;
            for (std::size_t i = 0; i < sim.size(); ++i) {
                auto n = count_on(sim, i, p::opcode::query, needle);
                total += n;
                nodes += n > 0;
                sim.set_latency(i, 0ms);
            }
            if (idem) {
                CHECK(!ec);  // answered by another host
                CHECK(total == 2);
                CHECK(nodes == 2);
            } else {
                INFO(ec.message() << " / " << diag.message);
                CHECK(ec);
                CHECK(cql::is_connection_error(ec));
                CHECK(!diag.message.empty());
                CHECK(total == 1);
            }
            // Every host up again before the next round.
            const bool all_up = co_await eventually([&] {
                for (const auto& h : cluster.hosts())
                    if (!h->is_up()) return false;
                return true;
            });
            CHECK(all_up);
        }
        co_await cluster.async_close(use_awaitable);
    });
}

// Counter updates and LWTs may have been applied when they fail: never retried, whatever
// they are marked.
TEST_CASE("counter updates and LWTs are never retried, even marked idempotent") {
    E2E_NEEDS_CQLSIM("primed errors and request logs");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("nonidem");
        co_await create_schema(s, ks);
        co_await s.async_execute(
            cql::statement("CREATE TABLE " + ks + ".counts (k int PRIMARY KEY, n counter)"),
            use_awaitable);
        const std::string lwt =
            "INSERT INTO " + ks + ".kv (k, c, v) VALUES (9, 9, 'lwt') IF NOT EXISTS";
        const std::string counter = "UPDATE " + ks + ".counts SET n = n + 1 WHERE k = 9";
        // (statement text, prime pattern, log needle)
        const std::vector<std::array<std::string, 3>> cases{{lwt, "IF NOT EXISTS", "IF NOT EXISTS"},
                                                            {counter, "n = n \\+ 1", "n = n + 1"}};
        for (const auto& c : cases) {
            INFO(c[0]);
            auto st = cql::statement(c[0]);
            st.idempotent(true);
            auto o = co_await attempt_counts(tc, s, st, c[1], c[2],
                                             primed(cqlsim::error_code::overloaded));
            CHECK(o.ec == cql::server_errc::overloaded);
            CHECK(o.total() == 1);
        }
        // Prepared, with bind markers.
        const std::vector<std::array<std::string, 3>> prepared_cases{
            {"INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?) IF NOT EXISTS", "IF NOT EXISTS",
             "IF NOT EXISTS"},
            {"UPDATE " + ks + ".counts SET n = n + ? WHERE k = ?", "n = n \\+ \\?", "n = n + ?"}};
        for (const auto& c : prepared_cases) {
            INFO(c[0]);
            auto ps = co_await s.async_prepare(c[0], use_awaitable);
            auto st = c[0].find("IF NOT EXISTS") != std::string::npos ? ps.bind(9, 9, "lwt")
                                                                      : ps.bind(std::int64_t{1}, 9);
            st.idempotent(true);
            auto o = co_await attempt_counts(tc, s, st, c[1], c[2],
                                             primed(cqlsim::error_code::overloaded));
            CHECK(o.ec == cql::server_errc::overloaded);
            CHECK(o.total() == 1);
        }
    });
}

// ---------------------------------------------------------------------------------------
// 4. Speculative execution against a slow replica.

namespace {
// Plans in a fixed order: the host at `first` (address), then the others by address.
class fixed_order_policy : public cql::load_balancing_policy {
  public:
    explicit fixed_order_policy(std::string first) : first_(std::move(first)) {}
    void init(std::span<const cql::host_ptr> hosts, std::span<const cql::host_ptr>) override {
        hosts_.assign(hosts.begin(), hosts.end());
        std::sort(hosts_.begin(), hosts_.end(), [&](const auto& a, const auto& b) {
            return std::make_pair(a->address() != first_, a->address()) <
                   std::make_pair(b->address() != first_, b->address());
        });
    }
    cql::host_distance distance(const cql::host&) const override {
        return cql::host_distance::local;
    }
    void new_plan(const cql::routing_info&, cql::query_plan& plan) const override {
        plan.emplace_source<source>(&hosts_);
    }
    void on_add(const cql::host_ptr&) override {}
    void on_remove(const cql::host_ptr&) override {}

  private:
    struct source final : cql::query_plan::source {
        explicit source(const std::vector<cql::host_ptr>* h) : hosts(h) {}
        cql::host_ptr next() override { return i < hosts->size() ? (*hosts)[i++] : nullptr; }
        const std::vector<cql::host_ptr>* hosts;
        std::size_t i = 0;
    };
    std::string first_;
    std::vector<cql::host_ptr> hosts_;
};

// Runs `requests` idempotent reads whose plan starts with a slow host (+3 s), with a
// speculative execution after 50 ms; then one read that is not idempotent.
void speculative_run(bool one_request_per_connection) {
    test_cluster tc;
    constexpr std::size_t slow = 1;
    const auto slow_latency = 3000ms;
    const int requests = 20;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto cfg = tc.config();
        if (one_request_per_connection) {
            // One connection per host, one request at a time on it: a losing attempt that
            // kept its place (pool slot, stream) would keep the next request away from the
            // slow host until its late answer.
            cfg.pool.local_connections = 1;
            cfg.pool.max_requests_per_connection = 1;
        }
        cql::execution_profile prof;
        prof.request_timeout = 10s;
        prof.load_balancing = std::make_shared<fixed_order_policy>(tc.sim().endpoint(slow).address);
        prof.speculative_execution =
            std::make_shared<cql::constant_speculative_execution_policy>(50ms, 2);
        cfg.profiles = cql::execution_profiles(prof);
        cql::cluster cluster(io.get_executor(), cfg);
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("spec");
        co_await create_schema(s, ks);
        auto& sim = tc.sim();
        for (std::size_t i = 0; i < sim.size(); ++i)
            sim.clear_request_log(i);
        sim.set_latency(slow, slow_latency);

        const std::string q = "SELECT v FROM " + ks + ".kv WHERE k = 1";
        auto count_slow = [&] { return count_on(sim, slow, p::opcode::query, q); };
        auto count_others = [&] {
            std::size_t n = 0;
            for (std::size_t i = 0; i < sim.size(); ++i)
                if (i != slow) n += count_on(sim, i, p::opcode::query, q);
            return n;
        };
        clock_type::duration worst{};
        for (int i = 0; i < requests; ++i) {
            auto start = clock_type::now();
            auto [ec, r] =
                co_await s.async_execute(cql::statement(q).idempotent(true), tuple_awaitable);
            auto took = clock_type::now() - start;
            worst = std::max(worst, took);
            CHECK(!ec);
            CHECK(took < slow_latency / 2);
        }
        // Every request went to the slow host first, then to the next one, which answered.
        CHECK(count_slow() == static_cast<std::size_t>(requests));
        CHECK(count_others() == static_cast<std::size_t>(requests));

        // Not idempotent: no speculative execution, the answer waits for the slow host.
        if (!one_request_per_connection) {
            auto start = clock_type::now();
            auto [ec, r] = co_await s.async_execute(cql::statement(q), tuple_awaitable);
            CHECK(!ec);
            CHECK(clock_type::now() - start >= slow_latency - 100ms);
            CHECK(count_slow() == static_cast<std::size_t>(requests) + 1);
            CHECK(count_others() == static_cast<std::size_t>(requests));
        }
        std::printf(
            "speculative execution%s: %d requests, slow host +%lld ms, delay 50 ms, "
            "worst answer %.1f ms, slow host got %zu\n",
            one_request_per_connection ? " (1 request per connection)" : "", requests,
            static_cast<long long>(slow_latency.count()),
            std::chrono::duration<double, std::milli>(worst).count(), count_slow());
        sim.set_latency(slow, 0ms);
        co_await cluster.async_close(use_awaitable);
    });
}
}  // namespace

TEST_CASE("speculative execution answers in about the delay when the first replica is slow") {
    E2E_NEEDS_CQLSIM("latency injection");
    speculative_run(false);
}

// The losing attempt is cancelled when another answers, releasing its pool slot at once.
TEST_CASE("speculative execution: the losing attempt is cancelled and its slot released") {
    E2E_NEEDS_CQLSIM("latency injection");
    speculative_run(true);
}
