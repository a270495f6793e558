#include "cql/protocol/murmur3.hpp"
#include "sim_fixture.hpp"

using namespace simtest;

TEST_CASE("clustering order ASC and DESC, slices, ORDER BY", "[engine][storage]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE asc_t (p int, c int, v text, PRIMARY KEY (p, c))");
    f.ok(
        "CREATE TABLE desc_t (p int, c int, v text, PRIMARY KEY (p, c)) WITH CLUSTERING ORDER BY "
        "(c DESC)");
    for (int c : {3, 1, 2, 5, 4}) {
        f.ok("INSERT INTO asc_t (p, c, v) VALUES (1, " + std::to_string(c) + ", 'x')");
        f.ok("INSERT INTO desc_t (p, c, v) VALUES (1, " + std::to_string(c) + ", 'x')");
    }
    CHECK(f.select("SELECT c FROM asc_t WHERE p = 1") == table{{"1"}, {"2"}, {"3"}, {"4"}, {"5"}});
    CHECK(f.select("SELECT c FROM desc_t WHERE p = 1") == table{{"5"}, {"4"}, {"3"}, {"2"}, {"1"}});
    CHECK(f.select("SELECT c FROM asc_t WHERE p = 1 ORDER BY c DESC") ==
          table{{"5"}, {"4"}, {"3"}, {"2"}, {"1"}});
    CHECK(f.select("SELECT c FROM desc_t WHERE p = 1 ORDER BY c ASC") ==
          table{{"1"}, {"2"}, {"3"}, {"4"}, {"5"}});
    CHECK(f.select("SELECT c FROM desc_t WHERE p = 1 AND c >= 2 AND c < 4") == table{{"3"}, {"2"}});
    CHECK(f.select("SELECT c FROM asc_t WHERE p = 1 AND c > 3") == table{{"4"}, {"5"}});
    CHECK(f.select("SELECT c FROM asc_t WHERE p = 1 AND c IN (5, 1)") == table{{"1"}, {"5"}});
    CHECK(f.select("SELECT c FROM asc_t WHERE p = 1 LIMIT 2") == table{{"1"}, {"2"}});
    // range delete
    f.ok("DELETE FROM asc_t WHERE p = 1 AND c >= 2 AND c <= 3");
    CHECK(f.select("SELECT c FROM asc_t WHERE p = 1") == table{{"1"}, {"4"}, {"5"}});
    auto e = f.err("SELECT c FROM asc_t ORDER BY c DESC");
    CHECK(e.message ==
          "ORDER BY is only supported when the partition key is restricted by an EQ or an IN.");
}

TEST_CASE("multi-column clustering and slices", "[engine][storage]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE t (p int, a int, b text, v int, PRIMARY KEY (p, a, b))");
    f.ok("INSERT INTO t (p, a, b, v) VALUES (1, 1, 'x', 1)");
    f.ok("INSERT INTO t (p, a, b, v) VALUES (1, 1, 'y', 2)");
    f.ok("INSERT INTO t (p, a, b, v) VALUES (1, 2, 'x', 3)");
    CHECK(f.select("SELECT v FROM t WHERE p = 1 AND a = 1") == table{{"1"}, {"2"}});
    CHECK(f.select("SELECT v FROM t WHERE p = 1 AND a = 1 AND b > 'x'") == table{{"2"}});
    CHECK(f.select("SELECT v FROM t WHERE p = 1 AND (a, b) > (1, 'x')") == table{{"2"}, {"3"}});
    CHECK(f.err("SELECT v FROM t WHERE p = 1 AND b = 'x'").message ==
          "PRIMARY KEY column \"b\" cannot be restricted as preceding column \"a\" is not "
          "restricted");
    CHECK(f.select("SELECT v FROM t WHERE p = 1 AND b = 'x' ALLOW FILTERING") ==
          table{{"1"}, {"3"}});
    CHECK(f.select("SELECT v FROM t WHERE v > 1 ALLOW FILTERING") == table{{"2"}, {"3"}});
}

TEST_CASE("composite partition keys", "[engine][storage]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE t (a int, b text, v int, PRIMARY KEY ((a, b)))");
    f.ok("INSERT INTO t (a, b, v) VALUES (1, 'x', 10)");
    f.ok("INSERT INTO t (a, b, v) VALUES (1, 'y', 20)");
    CHECK(f.select("SELECT v FROM t WHERE a = 1 AND b = 'y'") == table{{"20"}});
    CHECK(f.err("SELECT v FROM t WHERE a = 1").message.find("ALLOW FILTERING") !=
          std::string::npos);
    CHECK(f.select("SELECT v FROM t WHERE a = 1 AND b IN ('x', 'y')").size() == 2);
    // token of a composite key is computed over the composite encoding
    auto r = f.rows("SELECT token(a, b) FROM t WHERE a = 1 AND b = 'x'");
    CHECK(fixture::names(r) == std::vector<std::string>{"system.token(a, b)"});
    byte_buffer key{0, 4, 0, 0, 0, 1, 0, 0, 1, 'x', 0};
    CHECK(*r.rows[0][0] == bigint_bytes(cql::protocol::murmur3_token(key)));
}

TEST_CASE("static columns", "[engine][storage]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE t (p int, c int, s text STATIC, v int, PRIMARY KEY (p, c))");
    f.ok("INSERT INTO t (p, c, s, v) VALUES (1, 1, 'shared', 10)");
    f.ok("INSERT INTO t (p, c, v) VALUES (1, 2, 20)");
    CHECK(f.select("SELECT c, s, v FROM t WHERE p = 1") ==
          table{{"1", "'shared'", "10"}, {"2", "'shared'", "20"}});
    f.ok("UPDATE t SET s = 'changed' WHERE p = 1");
    CHECK(f.select("SELECT s FROM t WHERE p = 1 AND c = 2") == table{{"'changed'"}});
    // a partition with only static data gives one row with null clustering
    f.ok("UPDATE t SET s = 'alone' WHERE p = 2");
    CHECK(f.select("SELECT p, c, s, v FROM t WHERE p = 2") ==
          table{{"2", "null", "'alone'", "null"}});
    CHECK(f.select("SELECT * FROM t WHERE p = 2 AND c = 1").empty());
    CHECK(f.err("CREATE TABLE bad (k int PRIMARY KEY, s int STATIC)").message ==
          "Static columns are only useful (and thus allowed) if the table has at least one "
          "clustering column");
}

TEST_CASE("TTL expiry follows the injected clock", "[engine][storage]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE t (p int, c int, v text, w text, PRIMARY KEY (p, c))");
    f.ok("INSERT INTO t (p, c, v) VALUES (8, 1, 'x') USING TTL 1000");
    auto r = f.rows("SELECT ttl(v) FROM t WHERE p = 8 AND c = 1");
    CHECK(fixture::names(r) == std::vector<std::string>{"ttl(v)"});
    CHECK(fixture::render(r) == table{{"1000"}});
    f.now += 400 * 1000000LL;
    CHECK(f.select("SELECT ttl(v) FROM t WHERE p = 8 AND c = 1") == table{{"600"}});
    f.ok("UPDATE t USING TTL 10000 SET w = 'long' WHERE p = 8 AND c = 1");
    f.now += 601 * 1000000LL;
    // the row marker and v expired; w keeps the row alive
    CHECK(f.select("SELECT v, w FROM t WHERE p = 8 AND c = 1") == table{{"null", "'long'"}});
    f.now += 10000 * 1000000LL;
    CHECK(f.select("SELECT * FROM t WHERE p = 8").empty());
    // default_time_to_live
    f.ok("CREATE TABLE d (k int PRIMARY KEY, v int) WITH default_time_to_live = 5");
    f.ok("INSERT INTO d (k, v) VALUES (1, 1)");
    CHECK(f.select("SELECT ttl(v) FROM d WHERE k = 1") == table{{"5"}});
    f.now += 5 * 1000000LL;
    CHECK(f.select("SELECT * FROM d").empty());
    CHECK(f.err("INSERT INTO d (k, v) VALUES (1, 1) USING TTL -1").message ==
          "A TTL must be greater or equal to 0, but was -1");
}

TEST_CASE("timestamps and last-write-wins", "[engine][storage]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE t (k int PRIMARY KEY, v text)");
    f.ok("INSERT INTO t (k, v) VALUES (1, 'new') USING TIMESTAMP 2000");
    f.ok("INSERT INTO t (k, v) VALUES (1, 'old') USING TIMESTAMP 1000");
    CHECK(f.select("SELECT v, writetime(v) FROM t WHERE k = 1") == table{{"'new'", "2000"}});
    // a delete older than the write does not remove it; a newer one does
    f.ok("DELETE FROM t USING TIMESTAMP 1500 WHERE k = 1");
    CHECK(f.select("SELECT v FROM t WHERE k = 1") == table{{"'new'"}});
    f.ok("DELETE FROM t USING TIMESTAMP 2500 WHERE k = 1");
    CHECK(f.select("SELECT v FROM t WHERE k = 1").empty());
    // a write older than the deletion stays shadowed
    f.ok("INSERT INTO t (k, v) VALUES (1, 'late') USING TIMESTAMP 2400");
    CHECK(f.select("SELECT v FROM t WHERE k = 1").empty());
    // server timestamps come from the clock, strictly increasing
    f.ok("INSERT INTO t (k, v) VALUES (2, 'a')");
    f.ok("INSERT INTO t (k, v) VALUES (2, 'b')");
    auto r = f.select("SELECT v, writetime(v) FROM t WHERE k = 2");
    CHECK(r[0][0] == "'b'");
    CHECK(r[0][1] == std::to_string(f.now + 1));
    // default timestamp from the query options
    query_options o;
    o.timestamp = 42;
    f.e.query(f.s, "INSERT INTO t (k, v) VALUES (3, 'x')", o);
    CHECK(f.select("SELECT writetime(v) FROM t WHERE k = 3") == table{{"42"}});
}

TEST_CASE("collection operations", "[engine][storage]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE t (k int PRIMARY KEY, l list<int>, s set<text>, m map<text, int>)");
    f.ok("INSERT INTO t (k, l, s, m) VALUES (1, [1, 2], {'a'}, {'x': 1})");
    f.ok("UPDATE t SET l = l + [3], s = s + {'c', 'b'}, m = m + {'y': 2} WHERE k = 1");
    CHECK(f.select("SELECT l, s, m FROM t WHERE k = 1") ==
          table{{"[1, 2, 3]", "{'a', 'b', 'c'}", "{'x': 1, 'y': 2}"}});
    f.ok("UPDATE t SET l = [0] + l, s = s - {'a'}, m['z'] = 3 WHERE k = 1");
    CHECK(f.select("SELECT l, s, m FROM t WHERE k = 1") ==
          table{{"[0, 1, 2, 3]", "{'b', 'c'}", "{'x': 1, 'y': 2, 'z': 3}"}});
    f.ok("UPDATE t SET l = l - [2], m = m - {'x'}, l[0] = 9 WHERE k = 1");
    CHECK(f.select("SELECT l, m FROM t WHERE k = 1") == table{{"[9, 1, 3]", "{'y': 2, 'z': 3}"}});
    f.ok("DELETE m['y'], l[1] FROM t WHERE k = 1");
    CHECK(f.select("SELECT l, m FROM t WHERE k = 1") == table{{"[9, 3]", "{'z': 3}"}});
    CHECK(f.err("UPDATE t SET l[7] = 1 WHERE k = 1").message ==
          "List index 7 out of bound, list has size 2");
    // emptied collections read as null
    f.ok("UPDATE t SET s = s - {'b', 'c'} WHERE k = 1");
    CHECK(f.select("SELECT s FROM t WHERE k = 1") == table{{"null"}});
    CHECK(f.select("SELECT k FROM t WHERE m CONTAINS KEY 'z' ALLOW FILTERING") == table{{"1"}});
    CHECK(f.select("SELECT k FROM t WHERE l CONTAINS 9 ALLOW FILTERING") == table{{"1"}});
}

TEST_CASE("counters", "[engine][storage]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE cnt (k int PRIMARY KEY, n counter)");
    for (int i = 0; i < 3; ++i)
        f.ok("UPDATE cnt SET n = n + 2 WHERE k = 1");
    f.ok("UPDATE cnt SET n = n - 1 WHERE k = 1");
    auto r = f.rows("SELECT n FROM cnt WHERE k = 1");
    CHECK(r.columns[0].type.id == cql::protocol::type_id::counter);
    CHECK(fixture::render(r) == table{{"5"}});
    CHECK(f.err("INSERT INTO cnt (k, n) VALUES (1, 1)").message ==
          "INSERT statements are not allowed on counter tables, use UPDATE instead");
    CHECK(f.err("UPDATE cnt SET n = 3 WHERE k = 1").message ==
          "Cannot set the value of counter column n (counters can only be incremented/decremented, "
          "not set)");
    CHECK(f.err("CREATE TABLE mixed (k int PRIMARY KEY, n counter, v int)").message ==
          "Cannot mix counter and non counter columns in the same table");
}

TEST_CASE("lightweight transactions", "[engine][lwt]") {
    fixture f;
    f.setup_ks();
    f.ok(
        "CREATE TABLE wide (p int, c int, v text, PRIMARY KEY (p, c)) WITH CLUSTERING ORDER BY (c "
        "DESC)");
    auto r = f.rows("INSERT INTO wide (p, c, v) VALUES (9, 1, 'first') IF NOT EXISTS");
    CHECK(fixture::names(r) == std::vector<std::string>{"[applied]"});
    CHECK(fixture::render(r) == table{{"true"}});
    r = f.rows("INSERT INTO wide (p, c, v) VALUES (9, 1, 'second') IF NOT EXISTS");
    CHECK(fixture::names(r) == std::vector<std::string>{"[applied]", "p", "c", "v"});
    CHECK(fixture::render(r) == table{{"false", "9", "1", "'first'"}});
    r = f.rows("UPDATE wide SET v = 'third' WHERE p = 9 AND c = 1 IF v = 'first'");
    CHECK(fixture::render(r) == table{{"true"}});
    r = f.rows("UPDATE wide SET v = 'fourth' WHERE p = 9 AND c = 1 IF v = 'first'");
    CHECK(fixture::names(r) == std::vector<std::string>{"[applied]", "v"});
    CHECK(fixture::render(r) == table{{"false", "'third'"}});
    CHECK(f.select("SELECT v FROM wide WHERE p = 9 AND c = 1") == table{{"'third'"}});
    CHECK(f.select("UPDATE wide SET v = 'x' WHERE p = 9 AND c = 2 IF EXISTS") == table{{"false"}});
    CHECK(f.select("SELECT v FROM wide WHERE p = 9 AND c = 2").empty());
    CHECK(f.select("DELETE FROM wide WHERE p = 9 AND c = 1 IF EXISTS") == table{{"true"}});
    CHECK(f.select("SELECT v FROM wide WHERE p = 9").empty());
    CHECK(f.select("UPDATE wide SET v = 'y' WHERE p = 9 AND c = 3 IF v = null") == table{{"true"}});
}

TEST_CASE("batches", "[engine][batch]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE t (k int, c int, v text, PRIMARY KEY (k, c))");
    f.ok("CREATE TABLE cnt (k int PRIMARY KEY, n counter)");
    f.ok(
        "BEGIN BATCH INSERT INTO t (k, c, v) VALUES (1, 1, 'a'); INSERT INTO t (k, c, v) VALUES "
        "(?, 2, ?); "
        "UPDATE t SET v = 'c' WHERE k = 2 AND c = 1; APPLY BATCH",
        {int_bytes(1), text_bytes("b")});
    CHECK(f.select("SELECT k, c, v FROM t WHERE k IN (1, 2)") ==
          table{{"1", "1", "'a'"}, {"1", "2", "'b'"}, {"2", "1", "'c'"}});
    f.ok(
        "BEGIN UNLOGGED BATCH USING TIMESTAMP 9000000000000000 DELETE FROM t WHERE k = 2 AND c = "
        "1; APPLY BATCH");
    CHECK(f.select("SELECT v FROM t WHERE k = 2").empty());
    // an older batch timestamp does not win over newer data
    f.ok(
        "BEGIN UNLOGGED BATCH USING TIMESTAMP 77 DELETE FROM t WHERE k = 1 AND c = 1; APPLY BATCH");
    CHECK(f.select("SELECT v FROM t WHERE k = 1 AND c = 1") == table{{"'a'"}});
    f.ok(
        "BEGIN COUNTER BATCH UPDATE cnt SET n = n + 1 WHERE k = 1; UPDATE cnt SET n = n + 4 WHERE "
        "k = 1; APPLY BATCH");
    CHECK(f.select("SELECT n FROM cnt WHERE k = 1") == table{{"5"}});
    CHECK(f.err("BEGIN BATCH UPDATE cnt SET n = n + 1 WHERE k = 1; APPLY BATCH").message ==
          "Cannot include a counter statement in a logged batch");
    CHECK(f.err("BEGIN COUNTER BATCH INSERT INTO t (k, c) VALUES (1, 1); APPLY BATCH").message ==
          "Cannot include non-counter statement in a counter batch");

    // programmatic batch, with a prepared statement and text
    auto prep = f.e.prepare(f.s, "INSERT INTO t (k, c, v) VALUES (?, ?, ?)");
    REQUIRE(std::holds_alternative<prepared_result>(prep));
    auto id = std::get<prepared_result>(prep).id;
    std::vector<byte_buffer> store{int_bytes(5), int_bytes(1), text_bytes("p1"), int_bytes(5)};
    std::vector<batch_entry> entries(2);
    entries[0].query_or_id = id;
    entries[0].values = {value_view::of(store[0]), value_view::of(store[1]),
                         value_view::of(store[2])};
    entries[1].query_or_id = std::string("INSERT INTO t (k, c, v) VALUES (?, 2, 'p2')");
    entries[1].values = {value_view::of(store[3])};
    auto r = f.e.batch(f.s, batch_kind::logged, entries, {});
    CHECK(std::holds_alternative<void_result>(r));
    CHECK(f.select("SELECT v FROM t WHERE k = 5") == table{{"'p1'"}, {"'p2'"}});

    // conditional batch on one partition
    auto applied = f.select(
        "BEGIN BATCH INSERT INTO t (k, c, v) VALUES (6, 1, 'x') IF NOT EXISTS; "
        "INSERT INTO t (k, c, v) VALUES (6, 2, 'y'); APPLY BATCH");
    CHECK(applied[0][0] == "true");
    auto not_applied = f.select(
        "BEGIN BATCH INSERT INTO t (k, c, v) VALUES (6, 1, 'z') IF NOT EXISTS; "
        "INSERT INTO t (k, c, v) VALUES (6, 3, 'w'); APPLY BATCH");
    CHECK(not_applied[0][0] == "false");
    CHECK(f.select("SELECT v FROM t WHERE k = 6") == table{{"'x'"}, {"'y'"}});
    CHECK(f.err("BEGIN BATCH INSERT INTO t (k, c) VALUES (7, 1) IF NOT EXISTS; INSERT INTO t (k, "
                "c) VALUES (8, 1); "
                "APPLY BATCH")
              .message == "Batch with conditions cannot span multiple partitions");
}

TEST_CASE("token ranges, PER PARTITION LIMIT, DISTINCT", "[engine]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE t (p int, c int, PRIMARY KEY (p, c))");
    for (int p = 0; p < 20; ++p)
        for (int c = 0; c < 3; ++c)
            f.ok("INSERT INTO t (p, c) VALUES (" + std::to_string(p) + ", " + std::to_string(c) +
                 ")");
    auto all = f.rows("SELECT token(p), p FROM t");
    REQUIRE(all.rows.size() == 60);
    // rows come in token order
    std::vector<std::int64_t> tokens;
    for (const auto& row : all.rows) {
        cql::protocol::byte_reader r(*row[0]);
        tokens.push_back(r.i64());
    }
    CHECK(std::is_sorted(tokens.begin(), tokens.end()));
    auto mid = tokens[30];
    auto upper = f.rows("SELECT p FROM t WHERE token(p) > ?", {bigint_bytes(mid)});
    auto lower = f.rows("SELECT p FROM t WHERE token(p) <= ?", {bigint_bytes(mid)});
    CHECK(upper.rows.size() + lower.rows.size() == 60);
    CHECK(lower.rows.size() == 33);
    CHECK(f.select("SELECT p, c FROM t PER PARTITION LIMIT 1").size() == 20);
    CHECK(f.select("SELECT p, c FROM t PER PARTITION LIMIT 2 LIMIT 5").size() == 5);
    CHECK(f.select("SELECT DISTINCT p FROM t").size() == 20);
    CHECK(f.select("SELECT COUNT(*) FROM t WHERE p = 3") == table{{"3"}});
}
