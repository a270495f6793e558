// LWTs and counter updates are never treated as idempotent, whatever they are marked (or the
// profile's default): a write that may have been applied is never sent again. Proved against
// cqlsim's request logs with primed WRITE_TIMEOUTs, a retry policy that would retry any
// write timeout, and speculative execution against slow nodes.
#include <boost/asio/as_tuple.hpp>

#include "e2e_fixture.hpp"

using namespace e2e;
namespace p = cql::protocol;
constexpr auto tuple_awaitable = asio::as_tuple(use_awaitable);

namespace {

// Retries every write timeout once on the next host (the default policy retries only
// BATCH_LOG): the session must still never retry what is not idempotent.
class eager_write_retry : public cql::default_retry_policy {
  public:
    cql::retry_decision on_write_timeout(const cql::retry_request& req, p::consistency,
                                         cql::write_type, int, int) const override {
        return req.retry_count == 0 ? cql::retry_decision::retry_next_host()
                                    : cql::retry_decision::rethrow();
    }
};

struct outcome {
    cql::error_code ec;
    cql::diagnostics diag;
    std::size_t attempts = 0;  // QUERY / EXECUTE / BATCH requests holding the needle
};

std::size_t count_attempts(test_cluster& tc, std::string_view needle) {
    return tc.count_requests(p::opcode::query, needle) +
           tc.count_requests(p::opcode::execute, needle) +
           tc.count_requests(p::opcode::batch, needle);
}

void clear_logs(test_cluster& tc) {
    for (std::size_t i = 0; i < tc.sim().size(); ++i)
        tc.sim().clear_request_log(i);
}

// Primes a WRITE_TIMEOUT (`write_type`) on every node for texts matching `pattern`, runs `st`,
// counts the attempts.
template <class Statement>
asio::awaitable<outcome> run_primed(test_cluster& tc, cql::session& s, const Statement& st,
                                    std::string pattern, std::string_view needle,
                                    std::string write_type) {
    clear_logs(tc);
    cqlsim::prime_rule rule;
    rule.pattern = std::move(pattern);
    rule.error.code = cqlsim::error_code::write_timeout;
    rule.error.write_type = std::move(write_type);
    rule.error.received = 0;
    rule.error.block_for = 1;
    tc.sim().prime(cqlsim::cluster::all_nodes, rule);
    outcome o;
    if constexpr (std::is_same_v<Statement, cql::batch>) {
        auto [ec, r] = co_await s.async_batch(st, o.diag, tuple_awaitable);
        o.ec = ec;
    } else {
        auto [ec, r] = co_await s.async_execute(st, o.diag, tuple_awaitable);
        o.ec = ec;
    }
    tc.sim().clear_primes(cqlsim::cluster::all_nodes);
    o.attempts = count_attempts(tc, needle);
    co_return o;
}

cql::cluster_config config_with(test_cluster& tc) {
    auto cfg = tc.config();
    cql::execution_profile def;
    def.retry = std::make_shared<eager_write_retry>();
    def.request_timeout = 10s;
    cql::execution_profiles profiles(def);
    // Everything idempotent unless marked otherwise.
    cql::execution_profile idem = def;
    idem.default_idempotence = true;
    profiles.add("idem", idem);
    // A speculative execution after 50 ms, up to 3 in all.
    cql::execution_profile spec = def;
    spec.speculative_execution =
        std::make_shared<cql::constant_speculative_execution_policy>(50ms, 3);
    profiles.add("spec", spec);
    cfg.profiles = std::move(profiles);
    return cfg;
}

asio::awaitable<std::string> create_tables(cql::session& s) {
    auto ks = ks_name("idem");
    co_await create_schema(s, ks);
    co_await s.async_execute(
        cql::statement("CREATE TABLE " + ks + ".counts (k int PRIMARY KEY, n counter)"),
        use_awaitable);
    co_await s.async_execute(
        cql::statement("CREATE TABLE " + ks + ".lists (k int PRIMARY KEY, l list<int>)"),
        use_awaitable);
    co_return ks;
}

}  // namespace

TEST_CASE("an LWT marked idempotent that times out is sent exactly once") {
    E2E_NEEDS_CQLSIM("primed errors and request logs");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), config_with(tc));
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        const auto ks = co_await create_tables(s);

        // Simple statements: marked idempotent, and idempotent by the profile's default.
        for (const char* profile : {"default", "idem"}) {
            INFO("profile " << profile);
            const std::string q =
                "INSERT INTO " + ks + ".kv (k, c, v) VALUES (1, 1, 'lwt') IF NOT EXISTS";
            auto st = cql::statement(q).execution_profile(profile);
            if (std::string_view(profile) == "default") st.idempotent(true);
            auto o = co_await run_primed(tc, s, st, "IF NOT EXISTS", "VALUES (1, 1, 'lwt')", "CAS");
            CHECK(o.ec == cql::server_errc::write_timeout);
            CHECK(o.diag.write_type == "CAS");
            CHECK(o.attempts == 1);
        }
        // Lower case, a condition rather than IF NOT EXISTS, a comment holding "IF".
        {
            const std::string q =
                "update " + ks + ".kv /* IF */ set v = 'b' where k = 2 and c = 2 if v = 'a'";
            auto o = co_await run_primed(tc, s, cql::statement(q).idempotent(true), "if v = 'a'",
                                         "where k = 2 and c = 2", "CAS");
            CHECK(o.ec == cql::server_errc::write_timeout);
            CHECK(o.attempts == 1);
        }
        // Prepared: classified once, at prepare time.
        {
            auto lwt = co_await s.async_prepare(
                "UPDATE " + ks + ".kv SET v = ? WHERE k = ? AND c = ? IF EXISTS", use_awaitable);
            REQUIRE(lwt);
            CHECK(lwt.info()->lwt);
            CHECK_FALSE(lwt.info()->counter_update);
            auto o = co_await run_primed(tc, s, lwt.bind("x", 3, 3).idempotent(true), "IF EXISTS",
                                         "IF EXISTS", "CAS");
            CHECK(o.ec == cql::server_errc::write_timeout);
            CHECK(o.attempts == 1);
        }
        // A batch holding one conditional statement (simple or prepared).
        {
            auto ins = co_await s.async_prepare(
                "INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?) IF NOT EXISTS",
                use_awaitable);
            REQUIRE(ins);
            for (int prepared = 0; prepared < 2; ++prepared) {
                INFO("prepared " << prepared);
                cql::batch b(cql::batch_type::logged);
                b.add(cql::statement("INSERT INTO " + ks + ".kv (k, c, v) VALUES (4, 1, 'x')"));
                if (prepared)
                    b.add(ins.bind(4, 2, "y"));
                else
                    b.add(cql::statement("INSERT INTO " + ks +
                                         ".kv (k, c, v) VALUES (4, 2, 'y') IF NOT EXISTS"));
                b.idempotent(true);
                auto o = co_await run_primed(tc, s, b, "VALUES \\(4, 1,", "VALUES (4, 1,", "CAS");
                CHECK(o.ec == cql::server_errc::write_timeout);
                CHECK(o.attempts == 1);
            }
        }
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("a counter update marked idempotent that times out is sent exactly once") {
    E2E_NEEDS_CQLSIM("primed errors and request logs");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), config_with(tc));
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        const auto ks = co_await create_tables(s);

        // Simple: by a literal, by a marker (the schema decides; unknown counts as counter).
        const std::vector<std::string> simple{
            "UPDATE " + ks + ".counts SET n = n + 1 WHERE k = 1",
            "UPDATE " + ks + ".counts SET n = n - ? WHERE k = 2",
        };
        for (std::size_t i = 0; i < simple.size(); ++i) {
            INFO(simple[i]);
            cql::statement st(simple[i]);
            if (i == 1) st.bind(std::int64_t{1});
            st.idempotent(true);
            const auto where = "WHERE k = " + std::to_string(i + 1);
            auto o = co_await run_primed(tc, s, st, where, where, "COUNTER");
            CHECK(o.ec == cql::server_errc::write_timeout);
            CHECK(o.diag.write_type == "COUNTER");
            CHECK(o.attempts == 1);
        }
        // Prepared: the marker's type (counter) says so.
        {
            auto inc = co_await s.async_prepare(
                "UPDATE " + ks + ".counts SET n = n + ? WHERE k = ?", use_awaitable);
            REQUIRE(inc);
            CHECK(inc.info()->counter_update);
            CHECK_FALSE(inc.info()->lwt);
            auto o =
                co_await run_primed(tc, s, inc.bind(std::int64_t{1}, 3).execution_profile("idem"),
                                    "SET n = n \\+ \\?", "SET n = n + ?", "COUNTER");
            CHECK(o.ec == cql::server_errc::write_timeout);
            CHECK(o.attempts == 1);
            // A counter batch, marked idempotent.
            cql::batch b(cql::batch_type::counter);
            b.add(inc.bind(std::int64_t{2}, 4));
            b.idempotent(true);
            o = co_await run_primed(tc, s, b, "SET n = n \\+ \\?", "SET n = n + ?", "COUNTER");
            CHECK(o.ec == cql::server_errc::write_timeout);
            CHECK(o.attempts == 1);
        }
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("an idempotent plain write that times out is retried; a non-idempotent one is not") {
    E2E_NEEDS_CQLSIM("primed errors and request logs");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), config_with(tc));
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        const auto ks = co_await create_tables(s);

        for (int idem = 0; idem < 2; ++idem) {
            INFO("idempotent " << idem);
            const auto values = "VALUES (5, " + std::to_string(idem) + ",";
            auto st = cql::statement("INSERT INTO " + ks + ".kv (k, c, v) " + values + " 'if')")
                          .idempotent(idem == 1);
            auto o = co_await run_primed(tc, s, st, "VALUES \\(5, " + std::to_string(idem) + ",",
                                         values, "SIMPLE");
            CHECK(o.ec == cql::server_errc::write_timeout);
            CHECK(o.attempts == (idem ? 2u : 1u));
        }
        // A list append is no counter update: marked idempotent, it is retried (the marker's
        // type says list<int>).
        auto app = co_await s.async_prepare("UPDATE " + ks + ".lists SET l = l + ? WHERE k = ?",
                                            use_awaitable);
        REQUIRE(app);
        CHECK_FALSE(app.info()->counter_update);
        CHECK_FALSE(app.info()->lwt);
        const std::vector<std::int32_t> one{1};  // (no braced temporary in a co_await: g++ 12)
        auto o = co_await run_primed(tc, s, app.bind(one, 6).idempotent(true), "SET l = l \\+",
                                     "SET l = l +", "SIMPLE");
        CHECK(o.ec == cql::server_errc::write_timeout);
        CHECK(o.attempts == 2);
        // The same as a simple statement: the schema metadata says l is a list.
        REQUIRE(cluster.metadata()->table(ks, "lists"));
        auto simple = cql::statement("UPDATE " + ks + ".lists SET l = l + ? WHERE k = 8");
        simple.bind(one).idempotent(true);
        o = co_await run_primed(tc, s, simple, "SET l = l \\+", "SET l = l +", "SIMPLE");
        CHECK(o.ec == cql::server_errc::write_timeout);
        CHECK(o.attempts == 2);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("speculative execution never duplicates an LWT or a counter update") {
    E2E_NEEDS_CQLSIM("latency injection and request logs");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), config_with(tc));
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        const auto ks = co_await create_tables(s);
        auto inc = co_await s.async_prepare("UPDATE " + ks + ".counts SET n = n + ? WHERE k = ?",
                                            use_awaitable);
        REQUIRE(inc);
        auto& sim = tc.sim();
        // Every node slow: an idempotent request gets its speculative executions (50 ms, up
        // to 3 in all) long before any answer.
        constexpr auto latency = 1000ms;
        for (std::size_t i = 0; i < sim.size(); ++i)
            sim.set_latency(i, latency);
        clear_logs(tc);

        auto run_one = [&](auto st, std::string_view needle) -> asio::awaitable<std::size_t> {
            st.execution_profile("spec").idempotent(true);
            auto [ec, r] = co_await s.async_execute(st, tuple_awaitable);
            CHECK(!ec);
            co_return count_attempts(tc, needle);
        };
        // The control: a plain idempotent write is sent to several hosts.
        auto plain = co_await run_one(
            cql::statement("INSERT INTO " + ks + ".kv (k, c, v) VALUES (7, 0, 'plain')"),
            "VALUES (7, 0, 'plain')");
        CHECK(plain >= 2);
        // An LWT (simple and prepared) and a counter update: one attempt each.
        auto lwt =
            co_await run_one(cql::statement("INSERT INTO " + ks +
                                            ".kv (k, c, v) VALUES (7, 1, 'lwt') IF NOT EXISTS"),
                             "VALUES (7, 1, 'lwt')");
        CHECK(lwt == 1);
        auto upd = co_await s.async_prepare(
            "UPDATE " + ks + ".kv SET v = ? WHERE k = ? AND c = ? IF v = 'lwt'", use_awaitable);
        REQUIRE(upd);
        auto cond = co_await run_one(upd.bind("z", 7, 1), "IF v = 'lwt'");
        CHECK(cond == 1);
        auto cnt = co_await run_one(inc.bind(std::int64_t{1}, 7), "SET n = n + ?");
        CHECK(cnt == 1);
        auto lit = co_await run_one(
            cql::statement("UPDATE " + ks + ".counts SET n = n + 1 WHERE k = 8"), "WHERE k = 8");
        CHECK(lit == 1);
        // The counter was incremented once by each, not more.
        for (std::size_t i = 0; i < sim.size(); ++i)
            sim.set_latency(i, 0ms);
        auto rows = co_await s.async_execute(
            cql::statement("SELECT n FROM " + ks + ".counts WHERE k IN (7, 8)"), use_awaitable);
        REQUIRE(rows.size() == 2);
        for (auto row : rows)
            CHECK(row.template get<std::int64_t>(0) == 1);
        std::printf(
            "speculative execution, every node +%lld ms: plain write %zu attempts, LWT %zu, "
            "prepared LWT %zu, counter %zu + %zu\n",
            static_cast<long long>(latency.count()), plain, lwt, cond, cnt, lit);
        co_await cluster.async_close(use_awaitable);
    });
}
