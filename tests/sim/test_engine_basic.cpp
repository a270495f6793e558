#include <thread>

#include "sim_fixture.hpp"

using namespace simtest;

TEST_CASE("keyspace and table DDL", "[engine]") {
    fixture f;
    auto r =
        f.q("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
            "'replication_factor': 1}");
    REQUIRE(std::holds_alternative<schema_change_result>(r));
    auto& sc = std::get<schema_change_result>(r);
    CHECK(sc.change == change_type::created);
    CHECK(sc.target == change_target::keyspace);
    CHECK(sc.keyspace == "ks");

    auto e = f.err(
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': "
        "1}");
    CHECK(e.code == error_code::already_exists);
    CHECK(e.keyspace == "ks");
    CHECK(e.table.empty());
    CHECK(e.message == "Cannot add existing keyspace \"ks\"");
    CHECK(std::holds_alternative<void_result>(
        f.q("CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', "
            "'replication_factor': 1}")));

    r = f.q("USE ks");
    REQUIRE(std::holds_alternative<set_keyspace_result>(r));
    CHECK(std::get<set_keyspace_result>(r).keyspace == "ks");
    CHECK(f.s.keyspace == "ks");

    r = f.q("CREATE TABLE t (k int PRIMARY KEY, v text)");
    REQUIRE(std::holds_alternative<schema_change_result>(r));
    CHECK(std::get<schema_change_result>(r).target == change_target::table);
    CHECK(std::get<schema_change_result>(r).name == "t");
    e = f.err("CREATE TABLE ks.t (k int PRIMARY KEY)");
    CHECK(e.code == error_code::already_exists);
    CHECK(e.keyspace == "ks");
    CHECK(e.table == "t");
    CHECK(e.message == "Cannot add already existing table \"t\" to keyspace \"ks\"");

    CHECK(f.err("USE nope").message == "Keyspace nope does not exist");
    CHECK(f.err("CREATE KEYSPACE x WITH replication = {'replication_factor': 1}").code ==
          error_code::config_error);
    f.ok("DROP TABLE t");
    CHECK(f.err("SELECT * FROM t").message == "table t does not exist");
    f.ok("DROP KEYSPACE ks");
    // Cassandra 4.0.13 words it so (tests/fixtures/differential).
    CHECK(f.err("SELECT * FROM ks.t").message == "keyspace ks does not exist");
    CHECK(std::holds_alternative<void_result>(f.q("DROP KEYSPACE IF EXISTS ks")));
}

TEST_CASE("insert and select", "[engine]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE t (k int PRIMARY KEY, v text, b bigint, a ascii)");
    f.ok("INSERT INTO t (k, v, b) VALUES (1, 'one', 100)");
    f.ok("INSERT INTO t (k, v) VALUES (2, 'two')");
    auto r = f.rows("SELECT * FROM t WHERE k = 1");
    CHECK(fixture::names(r) == std::vector<std::string>{"k", "a", "b", "v"});
    CHECK(r.columns[0].keyspace == "ks");
    CHECK(r.columns[0].table == "t");
    CHECK(fixture::render(r) == table{{"1", "null", "100", "'one'"}});
    CHECK(f.select("SELECT v AS value, k FROM t WHERE k = 2") == table{{"'two'", "2"}});
    CHECK(fixture::names(f.rows("SELECT v AS value FROM t WHERE k = 2")) ==
          std::vector<std::string>{"value"});
    CHECK(f.select("SELECT v FROM t WHERE k = 3").empty());
    CHECK(f.select("SELECT k FROM t WHERE k IN (2, 1, 7)").size() == 2);
    CHECK(f.select("SELECT COUNT(*) FROM t") == table{{"2"}});
    CHECK(fixture::names(f.rows("SELECT COUNT(*) FROM t")) == std::vector<std::string>{"count"});

    // upsert
    f.ok("INSERT INTO t (k, v) VALUES (1, 'uno')");
    CHECK(f.select("SELECT v, b FROM t WHERE k = 1") == table{{"'uno'", "100"}});
    // update creates
    f.ok("UPDATE t SET v = 'three' WHERE k = 3");
    CHECK(f.select("SELECT v FROM t WHERE k = 3") == table{{"'three'"}});
    // delete a column, then the row
    f.ok("DELETE v FROM t WHERE k = 1");
    CHECK(f.select("SELECT v, b FROM t WHERE k = 1") == table{{"null", "100"}});
    f.ok("DELETE FROM t WHERE k = 1");
    CHECK(f.select("SELECT * FROM t WHERE k = 1").empty());
    // a row created by UPDATE disappears when its only cell is deleted; INSERT's row stays
    f.ok("UPDATE t SET v = null WHERE k = 3");
    CHECK(f.select("SELECT * FROM t WHERE k = 3").empty());
    f.ok("INSERT INTO t (k) VALUES (4)");
    CHECK(f.select("SELECT * FROM t WHERE k = 4") == table{{"4", "null", "null", "null"}});
}

TEST_CASE("every literal type round-trips", "[engine]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TYPE addr (street text, zip int)");
    f.ok(
        "CREATE TABLE all_types (k int PRIMARY KEY, a ascii, b bigint, bl blob, bo boolean, d "
        "date, de decimal, "
        "db double, du duration, f float, i inet, si smallint, t text, tm time, ts timestamp, tu "
        "timeuuid, ti tinyint, "
        "u uuid, vi varint, l list<int>, st set<text>, m map<text,int>, tp tuple<int,text>, ad "
        "frozen<addr>)");
    f.ok(
        "INSERT INTO all_types (k, a, b, bl, bo, d, de, db, du, f, i, si, t, tm, ts, tu, ti, u, "
        "vi, l, st, m, tp, ad) "
        "VALUES (1, 'ascii', -9000000000, 0xcafe, true, '2021-03-04', 12.345, 1.5, 1h30m, 2.5, "
        "'10.0.0.1', -300, "
        "'text', '05:06:07.123', '2021-03-04 05:06:07.000Z', 50554d6e-29bb-11e5-b345-feff819cdc9f, "
        "7, "
        "01234567-89ab-cdef-0123-456789abcdef, 123456789012345678901234567890, [3, 1, 2], {'b', "
        "'a', 'b'}, "
        "{'y': 2, 'x': 1}, (7, 'seven'), {street: 'Main', zip: 12345})");
    auto r = f.rows("SELECT * FROM all_types WHERE k = 1");
    auto row = fixture::render(r).at(0);
    auto col = [&](const std::string& n) {
        for (std::size_t i = 0; i < r.columns.size(); ++i)
            if (r.columns[i].name == n) return row[i];
        return std::string("<missing>");
    };
    CHECK(col("a") == "'ascii'");
    CHECK(col("b") == "-9000000000");
    CHECK(col("bl") == "0xcafe");
    CHECK(col("bo") == "true");
    CHECK(col("si") == "-300");
    CHECK(col("ti") == "7");
    CHECK(col("t") == "'text'");
    CHECK(col("u") == "01234567-89ab-cdef-0123-456789abcdef");
    CHECK(col("vi") == "123456789012345678901234567890");
    CHECK(col("l") == "[3, 1, 2]");
    CHECK(col("st") == "{'a', 'b'}");
    CHECK(col("m") == "{'x': 1, 'y': 2}");
    CHECK(col("ad").find("Main") != std::string::npos);
    // SELECT * order: key, then the other columns by name (Cassandra 4.0)
    CHECK(fixture::names(r) == std::vector<std::string>{"k",  "a",  "ad", "b",  "bl", "bo",
                                                        "d",  "db", "de", "du", "f",  "i",
                                                        "l",  "m",  "si", "st", "t",  "ti",
                                                        "tm", "tp", "ts", "tu", "u",  "vi"});
    // the raw bytes of a few cells, from the protocol spec's encodings
    CHECK(*r.rows[0][1] == byte_buffer{'a', 's', 'c', 'i', 'i'});
    CHECK(*r.rows[0][14] == byte_buffer{0xFE, 0xD4});  // smallint -300
    // date '2021-03-04' = 2^31 + 18690 days
    std::size_t d_idx = 6;
    CHECK(*r.rows[0][d_idx] == byte_buffer{0x80, 0x00, 0x49, 0x02});
}

TEST_CASE("errors carry Cassandra's codes and messages", "[engine]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE t (k int, c int, v text, s smallint, PRIMARY KEY (k, c))");
    auto e = f.err("SELEC * FROM t");
    CHECK(e.code == error_code::syntax_error);
    CHECK(e.message == "line 1:0 no viable alternative at input 'SELEC' ([SELEC]...)");
    e = f.err("SELECT * FROM no_such_table");
    CHECK(e.code == error_code::invalid);
    CHECK(e.message == "table no_such_table does not exist");
    e = f.err("INSERT INTO t (k, c, s) VALUES (2, 1, 'text')");
    CHECK(e.code == error_code::invalid);
    CHECK(e.message == "Invalid STRING constant (text) for \"s\" of type smallint");
    CHECK(f.err("INSERT INTO t (k, c, v) VALUES (1, 2, 3)").message ==
          "Invalid INTEGER constant (3) for \"v\" of type text");
    CHECK(f.err("INSERT INTO t (k, v) VALUES (1, 'x')").message ==
          "Some clustering keys are missing: c");
    CHECK(f.err("INSERT INTO t (c, v) VALUES (1, 'x')").message ==
          "Some partition key parts are missing: k");
    CHECK(f.err("UPDATE t SET v = 'x' WHERE c = 1").message ==
          "Some partition key parts are missing: k");
    CHECK(f.err("SELECT x FROM t").message == "Undefined column name x in table ks.t");
    CHECK(f.err("INSERT INTO t (k, c, x) VALUES (1, 1, 1)").message ==
          "Undefined column name x in table ks.t");
    CHECK(f.err("SELECT * FROM t WHERE v = 'a'").message.find("ALLOW FILTERING") !=
          std::string::npos);
    CHECK(f.err("INSERT INTO t (k, c) VALUES (null, 1)").message ==
          "Invalid null value in condition for column k");
    CHECK(f.err("UPDATE t SET k = 1 WHERE k = 1 AND c = 1").message ==
          "PRIMARY KEY part k found in SET part");
    CHECK(f.err("SELECT * FROM t WHERE k = ?").message ==
          "Invalid amount of bind variables: expected 1, got 0");
    CHECK(f.err("INSERT INTO t (k, c, s) VALUES (1, 1, 40000)").code == error_code::invalid);
    CHECK(f.err("SELECT * FROM t WHERE k = 1 ORDER BY v").code == error_code::invalid);
    f.ok("USE system");
    CHECK(f.err("INSERT INTO local (key) VALUES ('x')").code == error_code::unauthorized);
    fixture g;
    CHECK(
        g.err("SELECT * FROM t").message ==
        "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename");
}

TEST_CASE("schema change callback and schema version", "[engine]") {
    fixture f;
    std::vector<schema_change_result> seen;
    f.e.on_schema_change([&](const schema_change_result& c) { seen.push_back(c); });
    auto v0 = f.e.schema_version();
    f.setup_ks();
    f.ok("CREATE TABLE t (k int PRIMARY KEY)");
    f.ok("ALTER TABLE t ADD v text");
    f.ok("CREATE TYPE u (a int)");
    f.ok("DROP TABLE t");
    REQUIRE(seen.size() == 5);
    CHECK(seen[0].target == change_target::keyspace);
    CHECK(seen[2].change == change_type::updated);
    CHECK(seen[3].target == change_target::type);
    CHECK(seen[4].change == change_type::dropped);
    CHECK(f.e.schema_version() != v0);
}

TEST_CASE("the engine is safe to use from several threads", "[engine]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE t (k int, c int, PRIMARY KEY (k, c))");
    std::vector<std::thread> threads;
    for (int th = 0; th < 4; ++th) {
        threads.emplace_back([&f, th] {
            session_state s;
            s.keyspace = "ks";
            for (int i = 0; i < 200; ++i) {
                auto k = int_bytes(th);
                auto c = int_bytes(i);
                query_options o;
                o.values = {value_view::of(k), value_view::of(c)};
                f.e.query(s, "INSERT INTO t (k, c) VALUES (?, ?)", o);
                f.e.query(s, "SELECT * FROM t WHERE k = ?", {});
            }
        });
    }
    for (auto& t : threads)
        t.join();
    CHECK(f.select("SELECT COUNT(*) FROM t") == table{{"800"}});
}
