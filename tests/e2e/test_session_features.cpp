// Session features end to end against cqlsim: sessions bound to a keyspace, per-operation
// cancellation, schema agreement after DDL, custom payload and tracing on the wire, client
// timestamps, LWT with serial consistency, prepared statements on every node.
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include "detail/cluster_impl.hpp"
#include "e2e_fixture.hpp"

using namespace e2e;
namespace p = cql::protocol;

namespace {

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(use_awaitable);
}

}  // namespace

TEST_CASE("cluster.session(ks): bound to its keyspace whatever USE the default session ran") {
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks1 = ks_name("bound_a");
        auto ks2 = ks_name("bound_b");
        co_await create_schema(s, ks1);
        co_await create_schema(s, ks2);
        co_await s.async_execute(cql::statement("USE " + ks1), use_awaitable);
        CHECK(s.keyspace() == ks1);

        auto& b = cluster.session(ks2);
        CHECK(&b == &cluster.session(ks2));
        CHECK(b.bound());
        CHECK(b.keyspace() == ks2);
        // Interleave: every connection flips between the two keyspaces.
        for (int i = 0; i < 6; ++i) {
            co_await b.async_execute(
                cql::statement("INSERT INTO kv (k, c, v) VALUES (?, ?, 'in_b')", 1, i),
                use_awaitable);
            co_await s.async_execute(
                cql::statement("INSERT INTO kv (k, c, v) VALUES (?, ?, 'in_a')", 1, i),
                use_awaitable);
        }
        auto ins =
            co_await b.async_prepare("INSERT INTO kv (k, c, v) VALUES (?, ?, ?)", use_awaitable);
        co_await b.async_execute(ins.bind(2, 0, "prepared_in_b"), use_awaitable);
        auto ra = co_await s.async_execute(
            cql::statement("SELECT v FROM " + ks1 + ".kv WHERE k = 1"), use_awaitable);
        auto rb = co_await s.async_execute(
            cql::statement("SELECT v FROM " + ks2 + ".kv WHERE k = 1"), use_awaitable);
        REQUIRE(ra.size() == 6);
        REQUIRE(rb.size() == 6);
        for (auto row : ra)
            CHECK(row.get<std::string>(0) == "in_a");
        for (auto row : rb)
            CHECK(row.get<std::string>(0) == "in_b");
        auto r2 = co_await s.async_execute(
            cql::statement("SELECT v FROM " + ks2 + ".kv WHERE k = 2"), use_awaitable);
        REQUIRE(r2.size() == 1);
        CHECK(r2.front().get<std::string>(0) == "prepared_in_b");
        // The default session's keyspace did not change.
        CHECK(s.keyspace() == ks1);
        auto pages = b.pages(cql::statement("SELECT v FROM kv WHERE k = 1").page_size(4));
        std::size_t rows = 0;
        while (auto page = co_await pages.async_next(use_awaitable))
            rows += page->size();
        CHECK(rows == 6);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("per-operation cancellation completes with operation_aborted; no re-send") {
    E2E_NEEDS_CQLSIM("pauses nodes");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        auto cfg = tc.config();
        cfg.request_timeout = 60s;  // only cancellation can end the requests below
        cql::cluster cluster(io.get_executor(), cfg);
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("cancel");
        co_await create_schema(s, ks);
        auto ins = co_await s.async_prepare("INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)",
                                            use_awaitable);
        for (std::size_t i = 0; i < tc.sim().size(); ++i) {
            tc.sim().clear_request_log(i);
            tc.sim().pause_node(i);
        }

        // bind_cancellation_slot with a callback: operation_aborted, at once.
        asio::cancellation_signal sig;
        std::optional<cql::error_code> got;
        s.async_execute(cql::statement("INSERT INTO " + ks + ".kv (k, c, v) VALUES (1, 1, 'x')"),
                        asio::bind_cancellation_slot(
                            sig.slot(), [&](cql::error_code ec, cql::result) { got = ec; }));
        co_await sleep_for(50ms);
        CHECK_FALSE(got);
        sig.emit(asio::cancellation_type::terminal);
        for (int i = 0; i < 100 && !got; ++i)
            co_await sleep_for(10ms);
        REQUIRE(got);
        CHECK(*got == asio::error::operation_aborted);

        // awaitable operators: a timer wins over execute, prepare and a page.
        asio::steady_timer t1(io, 50ms);
        auto r1 = co_await (s.async_execute(ins.bind(2, 2, "y"), use_awaitable) ||
                            t1.async_wait(use_awaitable));
        CHECK(r1.index() == 1);
        asio::steady_timer t2(io, 50ms);
        auto r2 =
            co_await (s.async_prepare("SELECT v FROM " + ks + ".kv WHERE k = ?", use_awaitable) ||
                      t2.async_wait(use_awaitable));
        CHECK(r2.index() == 1);
        auto pages = s.pages(cql::statement("SELECT v FROM " + ks + ".kv"));
        asio::steady_timer t3(io, 50ms);
        auto r3 = co_await (pages.async_next(use_awaitable) || t3.async_wait(use_awaitable));
        CHECK(r3.index() == 1);
        CHECK(pages.pages_fetched() == 0);

        // The nodes answer late: each cancelled write reached a node once and was not
        // retried; the connections stay usable (stream ids were kept until the answers).
        for (std::size_t i = 0; i < tc.sim().size(); ++i)
            tc.sim().resume_node(i);
        co_await sleep_for(300ms);
        CHECK(tc.count_requests(p::opcode::query, "VALUES (1, 1, 'x')") == 1);
        std::size_t executes = 0;
        for (std::size_t i = 0; i < tc.sim().size(); ++i)
            for (const auto& e : tc.sim().request_log(i))
                if (e.op == p::opcode::execute) ++executes;
        CHECK(executes == 1);
        for (int i = 0; i < 20; ++i)
            co_await s.async_execute(ins.bind(3, i, "after"), use_awaitable);
        auto r = co_await s.async_execute(
            cql::statement("SELECT v FROM " + ks + ".kv WHERE k IN (1, 2, 3)"), use_awaitable);
        CHECK(r.size() == 22);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("schema agreement: DDL waits for one schema version, bounded") {
    E2E_NEEDS_CQLSIM("sets a node's schema version");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto cfg = tc.config();
        cfg.max_schema_agreement_wait = 400ms;
        cql::cluster cluster(io.get_executor(), cfg);
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("agree");
        auto r = co_await s.async_execute(
            cql::statement("CREATE KEYSPACE " + ks +
                           " WITH replication = {'class': 'SimpleStrategy', "
                           "'replication_factor': 1}"),
            use_awaitable);
        CHECK(r.type() == cql::result::kind::schema_change);
        CHECK(r.schema_in_agreement());
        const bool agreed = co_await cluster.async_check_schema_agreement(use_awaitable);
        CHECK(agreed);

        // Node 2 (a peer of the control node) reports another schema version.
        auto& engine = tc.sim().get_engine();
        auto saved = engine.get_topology();
        auto odd = saved;
        REQUIRE(odd.nodes.size() == 3);
        auto ctl = tc.node_of(cluster.hosts().front()->endpoint());
        for (const auto& h : cluster.hosts())
            if (h->endpoint().to_string() == cluster.control_host())
                ctl = tc.node_of(h->endpoint());
        odd.nodes[(ctl + 1) % 3].schema_version = p::uuid_bytes{0xde, 0xad};
        engine.set_topology(odd);
        const bool agreed_with_odd = co_await cluster.async_check_schema_agreement(use_awaitable);
        CHECK_FALSE(agreed_with_odd);
        r = co_await s.async_execute(
            cql::statement("CREATE TABLE " + ks + ".t (k int PRIMARY KEY, v int)"), use_awaitable);
        CHECK(r.type() == cql::result::kind::schema_change);
        CHECK_FALSE(r.schema_in_agreement());
        // A node known to be down does not count.
        tc.sim().stop_node((ctl + 1) % 3);
        for (int i = 0; i < 100; ++i) {
            bool down = false;
            for (const auto& h : cluster.hosts())
                if (tc.node_of(h->endpoint()) == (ctl + 1) % 3 && !h->is_up()) down = true;
            if (down) break;
            co_await sleep_for(20ms);
        }
        const bool agreed_with_odd_down =
            co_await cluster.async_check_schema_agreement(use_awaitable);
        CHECK(agreed_with_odd_down);
        tc.sim().start_node((ctl + 1) % 3);
        engine.set_topology(saved);
        const bool agreed_again = co_await cluster.async_check_schema_agreement(use_awaitable);
        CHECK(agreed_again);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("custom payload and tracing flag on the wire; client timestamps; LWT serial") {
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("payload");
        co_await create_schema(s, ks);
        const p::byte_buffer blob = {0xAB, 0xCD};
        auto ins = co_await s.async_prepare("INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)",
                                            use_awaitable);

        // The frames the session sends (encoded at initiation) carry the payload.
        auto check_frame = [&](const cql::detail::request_spec& spec, p::opcode op) {
            REQUIRE_FALSE(spec.ec);
            auto split = p::split_frame(spec.frame);
            REQUIRE(split.consumed == spec.frame.size());
            p::decoded_request d;
            REQUIRE_FALSE(p::decode_request(split.frame, d));
            CHECK(split.frame.header.op == op);
            CHECK(d.tracing);
            REQUIRE(d.prefix.custom_payload.size() == 1);
            CHECK(d.prefix.custom_payload[0].first == "tag");
            CHECK(d.prefix.custom_payload[0].second == p::value_view::of(blob));
        };
        auto st = cql::statement("SELECT v FROM " + ks + ".kv WHERE k = 1")
                      .custom_payload("tag", blob)
                      .tracing(true);
        check_frame(s.make_request(st, nullptr)->spec, p::opcode::query);
        auto bs = ins.bind(1, 1, "p").custom_payload("tag", blob).tracing(true);
        check_frame(s.make_request(bs, nullptr)->spec, p::opcode::execute);
        cql::batch b;
        b.add(ins.bind(1, 2, "q")).custom_payload("tag", blob).tracing(true);
        check_frame(s.make_request(b, nullptr)->spec, p::opcode::batch);
        // ... and the server accepts them.
        auto r = co_await s.async_execute(st, use_awaitable);
        CHECK(r.type() == cql::result::kind::rows);
        co_await s.async_execute(bs, use_awaitable);
        co_await s.async_batch(b, use_awaitable);
        r = co_await s.async_execute(cql::statement("SELECT v FROM " + ks + ".kv WHERE k = 1"),
                                     use_awaitable);
        CHECK(r.size() == 2);

        // Client-side timestamps: strictly increasing, in microseconds, on every request.
        std::int64_t last = 0;
        for (int i = 0; i < 50; ++i) {
            auto req = s.make_request(ins.bind(5, i, "t"), nullptr);
            auto split = p::split_frame(req->spec.frame);
            p::decoded_request d;
            REQUIRE_FALSE(p::decode_request(split.frame, d));
            auto& e = std::get<p::execute_request>(d.message);
            REQUIRE(e.params.default_timestamp);
            CHECK(*e.params.default_timestamp > last);
            last = *e.params.default_timestamp;
        }
        auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
        CHECK(last <= now_us + 1000000);
        CHECK(last > now_us - 60000000);
        // A write with an explicit older timestamp loses against the newer one.
        co_await s.async_execute(ins.bind(6, 0, "new").timestamp(2000), use_awaitable);
        co_await s.async_execute(ins.bind(6, 0, "old").timestamp(1000), use_awaitable);
        r = co_await s.async_execute(cql::statement("SELECT v FROM " + ks + ".kv WHERE k = 6"),
                                     use_awaitable);
        REQUIRE(r.size() == 1);
        CHECK(r.front().get<std::string>(0) == "new");

        // LWT with serial consistency: applied() and the serial consistency on the wire.
        auto lwt_q = cql::statement("UPDATE " + ks +
                                    ".kv SET v = 'second' WHERE k = 7 AND c = 0 IF v = 'first'")
                         .serial_consistency(cql::consistency::local_serial);
        auto cond = co_await s.async_prepare(
            "INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?) IF NOT EXISTS", use_awaitable);
        auto c1 = cond.bind(7, 0, "first").serial_consistency(cql::consistency::local_serial);
        r = co_await s.async_execute(c1, use_awaitable);
        CHECK(cql::applied(r));
        r = co_await s.async_execute(c1, use_awaitable);
        CHECK_FALSE(cql::applied(r));
        r = co_await s.async_execute(lwt_q, use_awaitable);
        CHECK(cql::applied(r));
        r = co_await s.async_execute(lwt_q, use_awaitable);
        CHECK_FALSE(cql::applied(r));
        {
            auto req = s.make_request(c1, nullptr);
            auto split = p::split_frame(req->spec.frame);
            p::decoded_request d;
            REQUIRE_FALSE(p::decode_request(split.frame, d));
            CHECK(std::get<p::execute_request>(d.message).params.serial_consistency ==
                  cql::consistency::local_serial);
        }
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("prepared on every up node, and again on a node that restarts") {
    E2E_NEEDS_CQLSIM("reads request logs");
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("prepall");
        co_await create_schema(s, ks);
        const std::string q = "SELECT v FROM " + ks + ".kv WHERE k = ? AND c = ?";
        co_await s.async_prepare(q, use_awaitable);
        for (std::size_t i = 0; i < tc.sim().size(); ++i)
            CHECK(tc.count_requests_on(i, p::opcode::prepare, q) == 1);

        tc.sim().clear_request_log(1);
        tc.sim().restart_node(1);
        // The node comes back: the driver prepares what it knows there.
        for (int i = 0; i < 200 && tc.count_requests_on(1, p::opcode::prepare, q) == 0; ++i)
            co_await sleep_for(20ms);
        CHECK(tc.count_requests_on(1, p::opcode::prepare, q) >= 1);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("hosts' response times are measured when the profile's policy reads them") {
    test_cluster tc;
    const bool avoid_slow = GENERATE(false, true);
    INFO("avoid_slow_replicas " << avoid_slow);
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto cfg = tc.config();
        cql::default_load_balancing_options lb;
        lb.dc.local_dc = cfg.local_datacenter;
        lb.token.avoid_slow_replicas = avoid_slow;
        cql::execution_profile def;
        def.load_balancing = cql::make_default_load_balancing(lb);
        cfg.profiles = cql::execution_profiles(def);
        cql::cluster cluster(io.get_executor(), cfg);
        co_await cluster.async_connect(use_awaitable);
        auto sel = co_await cluster.session().async_prepare(
            "SELECT release_version FROM system.local", use_awaitable);
        for (int i = 0; i < 10; ++i)
            co_await cluster.session().async_execute(sel.bind(), use_awaitable);
        std::uint64_t samples = 0;
        for (const auto& h : cluster.hosts())
            samples += h->latency().get().samples;
        if (avoid_slow)
            CHECK(samples >= 10);
        else
            CHECK(samples == 0);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("the profile's serial consistency goes with statements that have none of their own") {
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto cfg = tc.config();
        cql::execution_profiles profiles;
        auto local = profiles.default_profile();
        local.serial_consistency = cql::consistency::local_serial;
        profiles.add("local", local);
        cfg.profiles = profiles;
        cql::cluster cluster(io.get_executor(), cfg);
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("serial");
        co_await create_schema(s, ks);
        auto cond = co_await s.async_prepare(
            "INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?) IF NOT EXISTS", use_awaitable);
        // The serial consistency each kind of request carries on the wire.
        auto serial_sent = [&](const auto& stmt) -> std::optional<cql::consistency> {
            auto req = s.make_request(stmt, nullptr);
            REQUIRE_FALSE(req->spec.ec);
            auto split = p::split_frame(req->spec.frame);
            p::decoded_request d;
            REQUIRE_FALSE(p::decode_request(split.frame, d));
            if (auto* q = std::get_if<p::query_request>(&d.message))
                return q->params.serial_consistency;
            if (auto* e = std::get_if<p::execute_request>(&d.message))
                return e->params.serial_consistency;
            return std::get<p::batch_request>(d.message).serial_consistency;
        };
        auto lwt =
            cql::statement("UPDATE " + ks + ".kv SET v = 'b' WHERE k = 1 AND c = 1 IF v = 'a'");
        cql::batch b;
        b.add(cond.bind(2, 2, "x"));
        // The default profile (SERIAL, the server's default): nothing sent.
        CHECK(serial_sent(lwt) == std::nullopt);
        CHECK(serial_sent(cond.bind(1, 1, "a")) == std::nullopt);
        CHECK(serial_sent(b) == std::nullopt);
        // The "local" profile: LOCAL_SERIAL, unless the statement says otherwise.
        lwt.execution_profile("local");
        b.execution_profile("local");
        CHECK(serial_sent(lwt) == cql::consistency::local_serial);
        CHECK(serial_sent(cond.bind(1, 1, "a").execution_profile("local")) ==
              cql::consistency::local_serial);
        CHECK(serial_sent(b) == cql::consistency::local_serial);
        CHECK(serial_sent(cql::statement(lwt).serial_consistency(cql::consistency::serial)) ==
              cql::consistency::serial);
        // ... and the server takes them.
        auto r = co_await s.async_execute(cond.bind(1, 1, "a").execution_profile("local"),
                                          use_awaitable);
        CHECK(cql::applied(r));
        r = co_await s.async_execute(lwt, use_awaitable);
        CHECK(cql::applied(r));
        co_await cluster.async_close(use_awaitable);
    });
}
