// Failures: unreachable contact points, wrong password, retries (never twice for a
// non-idempotent write), UNPREPARED recovery, token-aware routing, a node stopped under
// load, shutdown with requests in flight, protocol variants (v4, LZ4, TLS).
#include <algorithm>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "e2e_fixture.hpp"

using namespace e2e;
namespace p = cql::protocol;
constexpr auto tuple_awaitable = asio::as_tuple(use_awaitable);

TEST_CASE("unreachable contact points: the error names each") {
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster_config cfg;
        cfg.contact_points = {"127.0.0.1:1", "no-such-host.invalid"};
        cfg.connect_timeout = 3s;
        cql::cluster cluster(io.get_executor(), cfg);
        // Two connects at once: one attempt, both complete with its error and details.
        std::optional<cql::error_code> first;
        cql::diagnostics first_diag, diag;
        cluster.async_connect(first_diag, [&](cql::error_code e) { first = e; });
        auto [ec] = co_await cluster.async_connect(diag, tuple_awaitable);
        CHECK(ec);
        for (int i = 0; i < 100 && !first; ++i)
            co_await asio::post(io, use_awaitable);
        REQUIRE(first);
        CHECK(*first == ec);
        CHECK(first_diag.message == diag.message);
        auto msg = cluster.last_error().message;
        INFO(msg);
        CHECK(diag.message == msg);
        CHECK(msg.find("127.0.0.1:1") != std::string::npos);
        CHECK(msg.find("no-such-host.invalid") != std::string::npos);
        cql::cluster_config none;
        cql::cluster c2(io.get_executor(), none);
        auto [ec2] = co_await c2.async_connect(tuple_awaitable);
        CHECK(ec2 == cql::session_errc::no_contact_points);
        // requests before connect fail cleanly
        auto [ec3, r] =
            co_await cluster.session().async_execute(cql::statement("SELECT 1"), tuple_awaitable);
        CHECK(ec3 == cql::session_errc::not_connected);
    });
}

TEST_CASE("authentication: right and wrong password") {
    E2E_NEEDS_CQLSIM("its users");
    sim_options o;
    o.users = {{"alice", "secret"}};
    test_cluster tc(o);
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto cfg = tc.config();
        cfg.auth = cql::plain_text_auth("alice", "wrong");
        {
            cql::cluster cluster(io.get_executor(), cfg);
            auto [ec] = co_await cluster.async_connect(tuple_awaitable);
            CHECK(ec == cql::errc::authentication_failed);
            INFO(cluster.last_error().message);
            CHECK(cluster.last_error().message.find("127.0.0.1") != std::string::npos);
        }
        cfg.auth = cql::plain_text_auth("alice", "secret");
        cql::cluster cluster(io.get_executor(), cfg);
        for (std::size_t n = 0; n < tc.sim().size(); ++n)
            tc.sim().clear_request_log(n);
        // Two connects at once: the cluster connects once (one control connection, one
        // pool connection per node), both complete; the diagnostics are cleared.
        std::optional<cql::error_code> first;
        cql::diagnostics diag;
        diag.message = "stale";
        cluster.async_connect(diag, [&](cql::error_code e) { first = e; });
        co_await cluster.async_connect(use_awaitable);
        for (int i = 0; i < 100 && !first; ++i)
            co_await asio::post(io, use_awaitable);
        REQUIRE(first);
        CHECK_FALSE(*first);
        CHECK(diag.message.empty());
        CHECK(tc.count_requests(p::opcode::register_, "") == 1);
        CHECK(tc.count_requests(p::opcode::startup, "") == 1 + tc.sim().size());
        auto r = co_await cluster.session().async_execute(
            cql::statement("SELECT release_version FROM system.local"), use_awaitable);
        CHECK(r.size() == 1);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("a non-idempotent write on WriteTimeout is sent once; an idempotent one is retried") {
    E2E_NEEDS_CQLSIM("primed errors and request logs");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("retry");
        co_await create_schema(s, ks);

        cqlsim::prime_rule rule;
        rule.pattern = "VALUES \\(1, 1, 'wt'\\)";
        rule.error.code = cqlsim::error_code::write_timeout;
        rule.error.write_type = "SIMPLE";
        tc.sim().prime(cqlsim::cluster::all_nodes, rule);
        cql::diagnostics diag;
        auto [ec, r] = co_await s.async_execute(
            cql::statement("INSERT INTO " + ks + ".kv (k, c, v) VALUES (1, 1, 'wt')"), diag,
            tuple_awaitable);
        CHECK(ec == cql::server_errc::write_timeout);
        CHECK(diag.write_type == "SIMPLE");
        CHECK(tc.count_requests(p::opcode::query, "VALUES (1, 1, 'wt')") == 1);

        // OVERLOADED once on the replica (token-aware routing tries it first): an idempotent
        // write goes on to the next host, a non-idempotent one fails having been sent once.
        auto ins = co_await s.async_prepare("INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)",
                                            use_awaitable);
        auto replica_of = [&](int k) {
            p::byte_buffer key{0, 0, 0, static_cast<std::uint8_t>(k)};
            return tc.node_of(cluster.token_map()->replicas(ks, key)[0]->endpoint());
        };
        cqlsim::prime_rule ov;
        ov.pattern = "INSERT INTO " + ks;
        ov.error.code = cqlsim::error_code::overloaded;
        ov.times = 1;
        for (std::size_t i = 0; i < tc.sim().size(); ++i)
            tc.sim().clear_request_log(i);
        tc.sim().prime(replica_of(2), ov);
        co_await s.async_execute(ins.bind(2, 2, "ov").idempotent(true), use_awaitable);
        CHECK(tc.count_requests(p::opcode::execute, "INSERT INTO " + ks) == 2);
        tc.sim().clear_primes(replica_of(2));

        for (std::size_t i = 0; i < tc.sim().size(); ++i)
            tc.sim().clear_request_log(i);
        tc.sim().prime(replica_of(3), ov);
        auto [ec2, r2] = co_await s.async_execute(ins.bind(3, 3, "ov"), tuple_awaitable);
        CHECK(ec2 == cql::server_errc::overloaded);
        CHECK(tc.count_requests(p::opcode::execute, "INSERT INTO " + ks) == 1);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("UNPREPARED: re-prepared transparently") {
    E2E_NEEDS_CQLSIM("primed UNPREPARED");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("unprep");
        co_await create_schema(s, ks);
        auto ins = co_await s.async_prepare("INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)",
                                            use_awaitable);
        auto prepares_before = tc.count_requests(p::opcode::prepare, ks + ".kv");
        CHECK(prepares_before == 3);  // on every node
        cqlsim::prime_rule rule;
        rule.pattern = ks + "\\.kv";
        rule.error.code = cqlsim::error_code::unprepared;
        rule.times = 1;
        tc.sim().prime(cqlsim::cluster::all_nodes, rule);
        co_await s.async_execute(ins.bind(5, 5, "u"), use_awaitable);
        CHECK(tc.count_requests(p::opcode::prepare, ks + ".kv") == prepares_before + 1);
        auto r = co_await s.async_execute(cql::statement("SELECT v FROM " + ks + ".kv WHERE k = 5"),
                                          use_awaitable);
        CHECK(r.size() == 1);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("token-aware routing sends a bound statement to its replica") {
    E2E_NEEDS_CQLSIM("request logs");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("route");
        co_await create_schema(s, ks);
        auto ins = co_await s.async_prepare("INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)",
                                            use_awaitable);
        for (std::size_t i = 0; i < tc.sim().size(); ++i)
            tc.sim().clear_request_log(i);
        auto tm = cluster.token_map();
        for (int k = 0; k < 30; ++k) {
            p::byte_buffer key{0, 0, 0, static_cast<std::uint8_t>(k)};
            auto replicas = tm->replicas(ks, key);
            REQUIRE(replicas.size() == 1);
            auto node = tc.node_of(replicas[0]->endpoint());
            REQUIRE(node < tc.sim().size());
            // (Counted, not the log's last entry: the control connection's queries, e.g. a
            // schema refresh, may land on that node in between.)
            const auto before = tc.count_requests_on(node, p::opcode::execute, ks + ".kv");
            co_await s.async_execute(ins.bind(k, 0, "r"), use_awaitable);
            CHECK(tc.count_requests_on(node, p::opcode::execute, ks + ".kv") == before + 1);
            auto log = tc.sim().request_log(node);
            auto last = std::find_if(log.rbegin(), log.rend(),
                                     [](const auto& e) { return e.op == p::opcode::execute; });
            REQUIRE(last != log.rend());
            CHECK(last->values == 3);
        }
        std::size_t total = 0;
        for (std::size_t i = 0; i < tc.sim().size(); ++i)
            total += tc.count_requests_on(i, p::opcode::execute, ks + ".kv");
        CHECK(total == 30);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("a node stopped under load: no acknowledged write is lost") {
    E2E_NEEDS_CQLSIM("stopping a node");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto cfg = tc.config();
        cfg.reconnection = std::make_shared<cql::constant_reconnection_policy>(100ms);
        cql::cluster cluster(io.get_executor(), cfg);
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("load");
        co_await s.async_execute(cql::statement("CREATE KEYSPACE " + ks +
                                                " WITH replication = {'class': 'SimpleStrategy', "
                                                "'replication_factor': 3}"),
                                 use_awaitable);
        co_await s.async_execute(
            cql::statement("CREATE TABLE " + ks + ".kv (k int, c int, v text, PRIMARY KEY (k, c))"),
            use_awaitable);
        auto ins = co_await s.async_prepare("INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)",
                                            use_awaitable);
        std::vector<int> acked;
        int failed = 0;
        // Node 2 is stopped (not the control connection's) part way; writes go on.
        for (int k = 0; k < 300; ++k) {
            if (k == 100) tc.sim().stop_node(1);
            if (k == 200) tc.sim().start_node(1);
            auto [ec, r] =
                co_await s.async_execute(ins.bind(k, 0, "x").idempotent(true), tuple_awaitable);
            if (!ec)
                acked.push_back(k);
            else
                ++failed;
        }
        CHECK(failed == 0);
        CHECK(acked.size() == 300);
        // Every acknowledged write is in cqlsim's data.
        for (int k : acked) {
            auto r = co_await s.async_execute(
                cql::statement("SELECT v FROM " + ks + ".kv WHERE k = ?", k), use_awaitable);
            CHECK(r.size() == 1);
        }
        // The stopped node comes back up (reconnection or UP event).
        asio::steady_timer t(io);
        for (int i = 0; i < 50; ++i) {
            bool all_up = true;
            for (const auto& h : cluster.hosts())
                all_up = all_up && h->is_up();
            if (all_up) break;
            t.expires_after(100ms);
            co_await t.async_wait(use_awaitable);
        }
        for (const auto& h : cluster.hosts())
            CHECK(h->is_up());
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("the control connection moves when its node stops") {
    E2E_NEEDS_CQLSIM("stopping a node");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto before = cluster.control_host();
        tc.sim().stop_node(0);
        asio::steady_timer t(io);
        for (int i = 0; i < 50 && cluster.control_host() == before; ++i) {
            t.expires_after(100ms);
            co_await t.async_wait(use_awaitable);
        }
        CHECK(cluster.control_host() != before);
        // Schema events still arrive through the new control connection.
        auto ks = ks_name("moved");
        co_await create_schema(cluster.session(), ks);
        CHECK(cluster.metadata()->table(ks, "kv") != nullptr);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("close with requests in flight completes every one") {
    E2E_NEEDS_CQLSIM("latency injection");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        for (std::size_t i = 0; i < tc.sim().size(); ++i)
            tc.sim().set_latency(i, 2000ms);
        int completed = 0;
        for (int i = 0; i < 20; ++i)
            s.async_execute(cql::statement("SELECT release_version FROM system.local"),
                            [&](cql::error_code, cql::result) { ++completed; });
        asio::steady_timer t(io);
        t.expires_after(100ms);
        co_await t.async_wait(use_awaitable);
        auto start = std::chrono::steady_clock::now();
        co_await cluster.async_close(use_awaitable);
        CHECK(std::chrono::steady_clock::now() - start < 1500ms);
        t.expires_after(50ms);
        co_await t.async_wait(use_awaitable);
        CHECK(completed == 20);
        auto [ec, r] = co_await s.async_execute(cql::statement("SELECT 1"), tuple_awaitable);
        CHECK(ec == cql::session_errc::closed);
    });
}

TEST_CASE("all connections busy: a bounded wait queue, then a busy error") {
    E2E_NEEDS_CQLSIM("latency injection");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto cfg = tc.config();
        cfg.pool.max_requests_per_connection = 1;
        cfg.pool.max_wait_queue = 1;
        cql::cluster cluster(io.get_executor(), cfg);
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        for (std::size_t i = 0; i < tc.sim().size(); ++i)
            tc.sim().set_latency(i, 300ms);
        int ok = 0, busy = 0, other = 0;
        for (int i = 0; i < 10; ++i)
            s.async_execute(cql::statement("SELECT release_version FROM system.local"),
                            [&](cql::error_code ec, cql::result) {
                                if (!ec)
                                    ++ok;
                                else if (ec == cql::session_errc::busy)
                                    ++busy;
                                else
                                    ++other;
                            });
        asio::steady_timer t(io);
        for (int i = 0; i < 100 && ok + busy + other < 10; ++i) {
            t.expires_after(50ms);
            co_await t.async_wait(use_awaitable);
        }
        // 3 hosts x 1 connection x 1 request in flight, plus 1 waiting per host.
        CHECK(ok == 6);
        CHECK(busy == 4);
        CHECK(other == 0);
        for (std::size_t i = 0; i < tc.sim().size(); ++i)
            tc.sim().set_latency(i, 0ms);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("per-request timeout and speculative execution") {
    E2E_NEEDS_CQLSIM("latency injection");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto cfg = tc.config();
        cql::execution_profile def;
        def.request_timeout = 5s;
        cql::execution_profiles profiles(def);
        cql::execution_profile fast = profiles.default_profile();
        fast.speculative_execution =
            std::make_shared<cql::constant_speculative_execution_policy>(50ms, 3);
        fast.default_idempotence = true;
        profiles.add("fast", fast);
        cfg.profiles = profiles;
        cql::cluster cluster(io.get_executor(), cfg);
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        tc.sim().set_latency(0, 1000ms);
        tc.sim().set_latency(1, 1000ms);
        tc.sim().set_latency(2, 1000ms);
        cql::diagnostics d;
        auto [ec, r] = co_await s.async_execute(
            cql::statement("SELECT release_version FROM system.local").timeout(200ms), d,
            tuple_awaitable);
        CHECK(ec == cql::errc::timed_out);
        CHECK(d.message.find("200 ms") != std::string::npos);
        tc.sim().set_latency(1, 0ms);
        tc.sim().set_latency(2, 0ms);
        // Whatever node the plan starts with, a speculative execution reaches a fast one.
        for (int i = 0; i < 5; ++i) {
            auto start = std::chrono::steady_clock::now();
            auto res =
                co_await s.async_execute(cql::statement("SELECT release_version FROM system.local")
                                             .execution_profile("fast"),
                                         use_awaitable);
            CHECK(res.size() == 1);
            CHECK(std::chrono::steady_clock::now() - start < 900ms);
        }
        tc.sim().set_latency(0, 0ms);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("a statement's timeout longer than the cluster's request timeout is honoured") {
    E2E_NEEDS_CQLSIM("latency injection");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto cfg = tc.config();
        cfg.request_timeout = 300ms;
        cql::cluster cluster(io.get_executor(), cfg);
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        for (std::size_t i = 0; i < tc.sim().size(); ++i)
            tc.sim().set_latency(i, 800ms);
        // One deadline per request: the statement's 5 s, not the cluster's 300 ms.
        cql::diagnostics d;
        auto [ec, r] = co_await s.async_execute(
            cql::statement("SELECT release_version FROM system.local").timeout(5s), d,
            tuple_awaitable);
        INFO(d.message);
        CHECK_FALSE(ec);
        CHECK(r.size() == 1);
        // A statement without one gets the cluster's.
        auto [ec2, r2] = co_await s.async_execute(
            cql::statement("SELECT release_version FROM system.local"), d, tuple_awaitable);
        CHECK(ec2 == cql::errc::timed_out);
        CHECK(d.message.find("300 ms") != std::string::npos);
        for (std::size_t i = 0; i < tc.sim().size(); ++i)
            tc.sim().set_latency(i, 0ms);
        co_await cluster.async_close(use_awaitable);
    });
}

namespace {
std::pair<std::string, std::string> self_signed() {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("cqlsim e2e"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name,
                                              "IP:127.0.0.1,IP:127.0.0.2,IP:127.0.0.3");
    X509_add_ext(x, san, -1);
    X509_EXTENSION_free(san);
    X509_sign(x, key, EVP_sha256());
    auto to_string = [](BIO* b) {
        char* data = nullptr;
        long n = BIO_get_mem_data(b, &data);
        std::string s(data, static_cast<std::size_t>(n));
        BIO_free(b);
        return s;
    };
    BIO* cb = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(cb, x);
    BIO* kb = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
    auto out = std::make_pair(to_string(cb), to_string(kb));
    X509_free(x);
    EVP_PKEY_free(key);
    return out;
}

asio::awaitable<void> round_trip(cql::cluster& cluster) {
    co_await cluster.async_connect(use_awaitable);
    auto& s = cluster.session();
    auto ks = ks_name("variant");
    co_await create_schema(s, ks);
    auto ins = co_await s.async_prepare("INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)",
                                        use_awaitable);
    std::string big(20000, 'z');  // compressible
    for (int i = 0; i < 5; ++i)
        co_await s.async_execute(ins.bind(1, i, big), use_awaitable);
    auto r = co_await s.async_execute(cql::statement("SELECT v FROM " + ks + ".kv WHERE k = 1"),
                                      use_awaitable);
    CHECK(r.size() == 5);
    CHECK(r.front().get<std::string>(0) == big);
    co_await cluster.async_close(use_awaitable);
}
}  // namespace

TEST_CASE("protocol variants: v4, v5, LZ4, TLS") {
    sim_options o;
    const bool tls = GENERATE(false, true);
    if (tls) {
        if (real_cluster()) return;
        auto [cert, key] = self_signed();
        o.tls = cqlsim::tls_config{cert, key, "", ""};
    }
    test_cluster tc(o);
    auto version = GENERATE(p::protocol_version::v4, p::protocol_version::v5);
    auto compression = GENERATE(cql::compression::none, cql::compression::lz4);
    INFO("tls " << tls << " v" << static_cast<int>(version) << " lz4 "
                << (compression == cql::compression::lz4));
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto cfg = tc.config();
        cfg.version = version;
        cfg.compression = compression;
        if (tls) {
            cfg.tls.enabled = true;
            cfg.tls.ca_pem = tc.sim().config().tls->certificate_pem;
        }
        cql::cluster cluster(io.get_executor(), cfg);
        co_await round_trip(cluster);
        CHECK(cluster.version() == version);
        CHECK(cluster.hosts().size() == (tc.is_sim() ? 3u : cluster.hosts().size()));
    });
}
