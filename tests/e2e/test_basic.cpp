// The session against a 3-node cluster: discovery and metadata, simple and prepared
// statements, batches, USE, LWT, paging with a saved state, completion styles.
#include <future>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/use_future.hpp>

#include "e2e_fixture.hpp"

using namespace e2e;
namespace p = cql::protocol;

TEST_CASE("connect: discovery, metadata, token map") {
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto hosts = cluster.hosts();
        if (tc.is_sim()) {
            CHECK(hosts.size() == 3);
            for (const auto& h : hosts) {
                CHECK(h->datacenter() == "dc1");
                CHECK(h->is_up());
                CHECK(!h->tokens().empty());
            }
            CHECK(cluster.version() == p::protocol_version::v5);
            CHECK(cluster.control_host() == hosts.front()->endpoint().to_string());
        } else {
            // A real cluster: one host per node the contact point knows, each up with tokens.
            auto peers = co_await cluster.session().async_execute(
                cql::statement("SELECT peer FROM system.peers"), use_awaitable);
            CHECK(hosts.size() == peers.size() + 1);
            for (const auto& h : hosts) {
                CHECK(h->is_up());
                CHECK(!h->tokens().empty());
            }
        }
        auto& s = cluster.session();
        auto ks = ks_name("meta");
        co_await create_schema(s, ks);
        co_await s.async_execute(
            cql::statement("CREATE TYPE " + ks + ".addr (street text, zip int)"), use_awaitable);
        co_await cluster.async_refresh_schema(use_awaitable);
        auto md = cluster.metadata();
        REQUIRE(md);
        CHECK(md->keyspace("system") != nullptr);
        auto* k = md->keyspace(ks);
        REQUIRE(k);
        CHECK(k->strategy.type == cql::replication_strategy::kind::simple);
        CHECK(k->strategy.replication_factor == 1);
        auto* t = k->table("kv");
        REQUIRE(t);
        CHECK(t->partition_key == std::vector<std::string>{"k"});
        CHECK(t->clustering_key == std::vector<std::string>{"c"});
        REQUIRE(t->column("v"));
        CHECK(t->column("v")->type == "text");
        auto* u = k->user_type("addr");
        REQUIRE(u);
        CHECK(u->field_names == std::vector<std::string>{"street", "zip"});
        auto tm = cluster.token_map();
        REQUIRE(tm);
        auto key = p::byte_buffer{0, 0, 0, 7};
        CHECK(tm->replicas(ks, key).size() == 1);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("simple, prepared, batch, USE, LWT") {
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("crud");
        co_await create_schema(s, ks);

        // positional and named values
        co_await s.async_execute(
            cql::statement("INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)", 1, 1, "one"),
            use_awaitable);
        co_await s.async_execute(
            cql::statement("INSERT INTO " + ks + ".kv (k, c, v) VALUES (:k, :c, :v)")
                .bind("k", 1)
                .bind("c", 2)
                .bind("v", "two"),
            use_awaitable);
        auto r = co_await s.async_execute(
            cql::statement("SELECT c, v FROM " + ks + ".kv WHERE k = ?", 1), use_awaitable);
        REQUIRE(r.size() == 2);
        auto [c0, v0] = r.front().as<std::int32_t, std::string>();
        CHECK(c0 == 1);
        CHECK(v0 == "one");

        // prepared
        auto ins = co_await s.async_prepare("INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)",
                                            use_awaitable);
        CHECK(ins.variables().size() == 3);
        CHECK(ins.pk_indexes() == std::vector<std::uint16_t>{0});
        auto again = co_await s.async_prepare(
            "INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)", use_awaitable);
        CHECK(again.info() == ins.info());  // cached
        for (int i = 0; i < 10; ++i)
            co_await s.async_execute(ins.bind(2, i, "v" + std::to_string(i)), use_awaitable);
        auto sel = co_await s.async_prepare("SELECT v FROM " + ks + ".kv WHERE k = ? AND c = ?",
                                            use_awaitable);
        r = co_await s.async_execute(sel.bind(2, 7), use_awaitable);
        REQUIRE(r.size() == 1);
        CHECK(r.front().get<std::string>(0) == "v7");
        // a wrong number of values is refused before sending
        cql::diagnostics diag;
        auto [bec, br] = co_await s.async_execute(ins.bind(1), diag, asio::as_tuple(use_awaitable));
        CHECK(bec == cql::errc::bad_bind_value);
        CHECK(diag.message.find("3 markers") != std::string::npos);
        // an empty handle (what a failed prepare gives) is safe to read and to execute
        const cql::prepared_statement none;
        CHECK_FALSE(none);
        CHECK(none.query().empty());
        CHECK(none.variables().empty());
        auto [nec, nr] =
            co_await s.async_execute(none.bind(1), diag, asio::as_tuple(use_awaitable));
        CHECK(nec == cql::session_errc::bad_statement);
        CHECK(diag.message.find("without a prepared statement") != std::string::npos);

        // batch: simple and prepared mixed
        cql::batch b(cql::batch_type::logged);
        b.add(cql::statement("INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)", 3, 1, "b1"));
        b.add(ins.bind(3, 2, "b2"));
        co_await s.async_batch(b, use_awaitable);
        r = co_await s.async_execute(cql::statement("SELECT v FROM " + ks + ".kv WHERE k = ?", 3),
                                     use_awaitable);
        CHECK(r.size() == 2);
        // what cannot be sent is refused before sending, naming the statement of the batch,
        // with the codes of a single execution
        auto refused = [&](cql::batch bad) -> asio::awaitable<cql::error_code> {
            auto [e, ignored] = co_await s.async_batch(bad, diag, asio::as_tuple(use_awaitable));
            co_return e;
        };
        cql::batch short_values(cql::batch_type::logged);
        short_values.add(ins.bind(4, 1, "x"));
        short_values.add(ins.bind(4));
        const auto short_refusal = co_await refused(short_values);
        CHECK(short_refusal == cql::errc::bad_bind_value);
        CHECK(diag.message ==
              "statement 2 of the batch: the statement has 3 markers, 1 values "
              "were bound");
        cql::batch unprepared(cql::batch_type::logged);
        unprepared.add(none.bind());
        const auto unprepared_refusal = co_await refused(unprepared);
        CHECK(unprepared_refusal == cql::session_errc::bad_statement);
        CHECK(diag.message.find("statement 1 of the batch: a bound statement without") == 0);
        cql::batch named(cql::batch_type::unlogged);
        named.add(
            cql::statement("INSERT INTO " + ks + ".kv (k, c, v) VALUES (:k, 1, 'n')").bind("k", 5));
        const auto named_refusal = co_await refused(named);
        CHECK(named_refusal == cql::session_errc::bad_statement);
        CHECK(diag.message == "statement 1 of the batch: named values cannot be sent in a batch");
        r = co_await s.async_execute(
            cql::statement("SELECT v FROM " + ks + ".kv WHERE k IN (4, 5)"), use_awaitable);
        CHECK(r.size() == 0);  // nothing of them was written

        // USE: unqualified names work on every connection
        auto use = co_await s.async_execute(cql::statement("USE " + ks), use_awaitable);
        CHECK(use.type() == cql::result::kind::set_keyspace);
        CHECK(s.keyspace() == ks);
        for (int i = 0; i < 6; ++i) {
            r = co_await s.async_execute(cql::statement("SELECT v FROM kv WHERE k = ?", 3),
                                         use_awaitable);
            CHECK(r.size() == 2);
        }

        // server errors come with their details
        cql::diagnostics d2;
        auto [sec, sr] = co_await s.async_execute(cql::statement("SELECT nope FROM kv"), d2,
                                                  asio::as_tuple(use_awaitable));
        CHECK(sec == cql::server_errc::invalid);
        CHECK(d2.from_server);
        CHECK(!d2.message.empty());

        // LWT
        auto lwt = cql::statement("INSERT INTO kv (k, c, v) VALUES (9, 9, 'x') IF NOT EXISTS");
        r = co_await s.async_execute(lwt, use_awaitable);
        CHECK(cql::applied(r));
        r = co_await s.async_execute(lwt, use_awaitable);
        CHECK_FALSE(cql::applied(r));

        // tracing id and warnings are on the result
        r = co_await s.async_execute(cql::statement("SELECT v FROM kv WHERE k = 3").tracing(true),
                                     use_awaitable);
        CHECK(r.size() == 2);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("paging: a stream over pages, resumed from a saved state") {
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("paging");
        co_await create_schema(s, ks);
        auto ins = co_await s.async_prepare("INSERT INTO " + ks + ".kv (k, c, v) VALUES (?, ?, ?)",
                                            use_awaitable);
        for (int i = 0; i < 250; ++i)
            co_await s.async_execute(ins.bind(1, i, std::string("row")), use_awaitable);

        auto stmt = cql::statement("SELECT c FROM " + ks + ".kv WHERE k = 1").page_size(100);
        auto pages = s.pages(stmt);
        std::vector<std::int32_t> seen;
        p::byte_buffer saved;
        while (auto page = co_await pages.async_next(use_awaitable)) {
            for (cql::row_view row : *page)
                seen.push_back(row.get<std::int32_t>(0));
            if (pages.pages_fetched() == 1) {
                REQUIRE(pages.paging_state());
                saved.assign(pages.paging_state()->begin(), pages.paging_state()->end());
            }
        }
        CHECK(pages.done());
        CHECK(pages.pages_fetched() >= 3);
        REQUIRE(seen.size() == 250);
        for (int i = 0; i < 250; ++i)
            CHECK(seen[static_cast<std::size_t>(i)] == i);

        // Later: resume after the first page, with a prepared statement this time.
        auto sel =
            co_await s.async_prepare("SELECT c FROM " + ks + ".kv WHERE k = ?", use_awaitable);
        auto rest = s.pages(sel.bind(1).page_size(100));
        // The saved state came from the simple statement: Cassandra accepts it for the same
        // query; resume the simple statement to be exact.
        auto resumed = s.pages(stmt);
        resumed.resume_from(saved);
        std::size_t n = 0;
        std::int32_t first = -1;
        while (auto page = co_await resumed.async_next(use_awaitable))
            for (cql::row_view row : *page) {
                if (first < 0) first = row.get<std::int32_t>(0);
                ++n;
            }
        CHECK(first == 100);
        CHECK(n == 150);
        std::size_t m = 0;
        while (auto page = co_await rest.async_next(use_awaitable))
            m += page->size();
        CHECK(m == 250);
        // Rows across pages, one at a time.
        auto rows = s.pages(cql::statement(stmt).clear_paging_state());
        std::int32_t expect = 0;
        while (auto row = co_await rows.async_next_row(use_awaitable)) {
            CHECK(row->get<std::int32_t>(0) == expect);
            ++expect;
        }
        CHECK(expect == 250);
        CHECK(rows.pages_fetched() >= 3);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("completion styles: use_future, callback, deferred; own io threads") {
    test_cluster tc;
    auto cfg = tc.config();
    // One io thread: connections share the cluster's strand (the fast path, objects made on
    // the callers' threads and recycled on the io thread); two: connections on their own.
    cfg.io_threads = GENERATE(1u, 2u);
    asio::io_context io;
    auto guard = asio::make_work_guard(io);
    std::thread runner([&] { io.run(); });
    {
        cql::cluster cluster(io.get_executor(), cfg);
        cluster.async_connect(asio::use_future).get();
        auto& s = cluster.session();
        auto ks = ks_name("styles" + std::to_string(cfg.io_threads));
        s.async_execute(cql::statement("CREATE KEYSPACE " + ks +
                                       " WITH replication = {'class': 'SimpleStrategy', "
                                       "'replication_factor': 1}"),
                        asio::use_future)
            .get();
        s.async_execute(cql::statement("CREATE TABLE " + ks + ".t (k int PRIMARY KEY, v int)"),
                        asio::use_future)
            .get();
        // future
        std::future<cql::result> f = s.async_execute(
            cql::statement("INSERT INTO " + ks + ".t (k, v) VALUES (1, 10)"), asio::use_future);
        f.get();
        // callback, from several threads at once
        std::promise<int> all;
        std::atomic<int> left{40};
        std::atomic<int> ok{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < 10; ++i)
                    s.async_execute(cql::statement("INSERT INTO " + ks + ".t (k, v) VALUES (?, ?)",
                                                   100 + t * 10 + i, i),
                                    [&](cql::error_code ec, cql::result) {
                                        if (!ec) ++ok;
                                        if (--left == 0) all.set_value(ok.load());
                                    });
            });
        for (auto& t : threads)
            t.join();
        CHECK(all.get_future().get() == 40);
        // deferred: nothing happens until launched
        auto op = s.async_execute(cql::statement("SELECT v FROM " + ks + ".t WHERE k = 1"),
                                  asio::deferred);
        std::promise<std::int32_t> got;
        std::move(op)([&](cql::error_code ec, cql::result r) {
            got.set_value(!ec && r.size() == 1 ? r.front().get<std::int32_t>(0) : -1);
        });
        CHECK(got.get_future().get() == 10);
        // prepare + execute with futures
        auto sel =
            s.async_prepare("SELECT v FROM " + ks + ".t WHERE k = ?", asio::use_future).get();
        auto r = s.async_execute(sel.bind(105), asio::use_future).get();
        REQUIRE(r.size() == 1);
        CHECK(r.front().get<std::int32_t>(0) == 5);
        cluster.async_close(asio::use_future).get();
    }
    guard.reset();
    runner.join();
}

TEST_CASE("v5: METADATA_CHANGED updates the prepared statement's result metadata id") {
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        if (cluster.version() < p::protocol_version::v5) co_return;
        auto& s = cluster.session();
        auto ks = ks_name("mdchange");
        co_await create_schema(s, ks);
        co_await s.async_execute(
            cql::statement("INSERT INTO " + ks + ".kv (k, c, v) VALUES (1, 1, 'a')"),
            use_awaitable);
        auto sel =
            co_await s.async_prepare("SELECT * FROM " + ks + ".kv WHERE k = ?", use_awaitable);
        auto id_before = sel.info()->result_metadata_id();
        auto r = co_await s.async_execute(sel.bind(1), use_awaitable);
        CHECK(r.column_count() == 3);
        co_await s.async_execute(cql::statement("ALTER TABLE " + ks + ".kv ADD extra int"),
                                 use_awaitable);
        r = co_await s.async_execute(sel.bind(1), use_awaitable);
        CHECK(r.column_count() == 4);
        CHECK(r.metadata().new_metadata_id.has_value());
        CHECK(sel.info()->result_metadata_id() != id_before);
        r = co_await s.async_execute(sel.bind(1), use_awaitable);
        CHECK(r.column_count() == 4);
        CHECK_FALSE(r.metadata().new_metadata_id.has_value());
        // (rows without metadata now, read with the new columns)
        CHECK(r.front().get<std::optional<std::int32_t>>("extra") == std::nullopt);
        CHECK(r.front().get<std::string>("v") == "a");
        CHECK(cluster.metadata()->table(ks, "kv")->column("extra") != nullptr);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("prepared SELECTs: the answers leave out the columns the driver knows") {
    test_cluster tc;
    auto version = GENERATE(p::protocol_version::v4, p::protocol_version::v5);
    INFO("v" << static_cast<int>(version));
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto cfg = tc.config();
        cfg.version = version;
        cql::cluster cluster(io.get_executor(), cfg);
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("skipmd");
        co_await create_schema(s, ks);
        co_await s.async_execute(
            cql::statement("INSERT INTO " + ks + ".kv (k, c, v) VALUES (1, 2, 'a')"),
            use_awaitable);
        co_await s.async_execute(
            cql::statement("INSERT INTO " + ks + ".kv (k, c, v) VALUES (1, 3, 'b')"),
            use_awaitable);
        // Whether the rows came without metadata: the No_metadata bit of the Rows flags
        // (<kind: int><flags: int>...).
        auto without_metadata = [](const cql::result& r) {
            auto m = r.raw().message();
            return m.size() >= 8 && (m[7] & 0x04) != 0;
        };
        auto named = co_await s.async_prepare("SELECT k, c, v FROM " + ks + ".kv WHERE k = ?",
                                              use_awaitable);
        auto r = co_await s.async_execute(named.bind(1), use_awaitable);
        CHECK(without_metadata(r));
        REQUIRE(r.size() == 2);
        CHECK(r.front().get<std::string>("v") == "a");
        CHECK(r.front().get<std::int32_t>("c") == 2);
        REQUIRE(r.metadata().columns.size() == 3);
        CHECK(r.metadata().columns[2].name == "v");
        CHECK(r.metadata().columns[2].type.id == p::type_id::varchar);
        // Pages: the paging state is the answer's, the columns the statement's.
        r = co_await s.async_execute(named.bind(1).page_size(1), use_awaitable);
        CHECK(without_metadata(r));
        REQUIRE(r.has_more_pages());
        CHECK(r.front().get<std::string>("v") == "a");
        auto next = named.bind(1).page_size(1).paging_state(*r.paging_state());
        auto r2 = co_await s.async_execute(next, use_awaitable);
        CHECK(without_metadata(r2));
        REQUIRE(r2.size() == 1);
        CHECK(r2.front().get<std::string>("v") == "b");
        // `SELECT *`: v4 cannot tell when its columns change, so there it asks for them.
        auto star =
            co_await s.async_prepare("SELECT * FROM " + ks + ".kv WHERE k = ?", use_awaitable);
        r = co_await s.async_execute(star.bind(1), use_awaitable);
        CHECK(without_metadata(r) == (version >= p::protocol_version::v5));
        CHECK(r.front().get<std::string>("v") == "a");
        co_await cluster.async_close(use_awaitable);
    });
}
