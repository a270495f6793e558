#include "sim_fixture.hpp"

using namespace simtest;
using cql::protocol::type_id;

TEST_CASE("prepare: bind metadata, pk indexes, result metadata", "[engine][prepared]") {
    fixture f;
    f.setup_ks();
    f.ok(
        "CREATE TABLE t (a int, b text, c int, v text, m map<text, int>, PRIMARY KEY ((a, b), c))");
    auto r = f.e.prepare(f.s, "INSERT INTO t (v, b, c, a) VALUES (?, ?, ?, ?) USING TTL ?");
    REQUIRE(std::holds_alternative<prepared_result>(r));
    auto p = std::get<prepared_result>(r);
    CHECK(p.id.size() == 16);
    CHECK(p.id == prepared_id("ks", "INSERT INTO t (v, b, c, a) VALUES (?, ?, ?, ?) USING TTL ?"));
    REQUIRE(p.bind_variables.size() == 5);
    CHECK(p.bind_variables[0].name == "v");
    CHECK(p.bind_variables[0].keyspace == "ks");
    CHECK(p.bind_variables[0].table == "t");
    CHECK(p.bind_variables[3].name == "a");
    CHECK(p.bind_variables[3].type.id == type_id::int_);
    CHECK(p.bind_variables[4].name == "[ttl]");
    CHECK(p.pk_indexes == std::vector<std::uint16_t>{3, 1});
    CHECK(p.result_columns.empty());

    r = f.e.prepare(f.s, "SELECT v, c FROM t WHERE b = :bee AND a = :a AND c IN ? LIMIT ?");
    p = std::get<prepared_result>(r);
    REQUIRE(p.bind_variables.size() == 4);
    CHECK(p.bind_variables[0].name == "bee");
    CHECK(p.bind_variables[0].type.id == type_id::varchar);
    CHECK(p.bind_variables[2].name == "in(c)");
    CHECK(p.bind_variables[2].type.id == type_id::list);
    CHECK(p.bind_variables[3].name == "[limit]");
    CHECK(p.pk_indexes == std::vector<std::uint16_t>{1, 0});
    REQUIRE(p.result_columns.size() == 2);
    CHECK(p.result_columns[0].name == "v");
    CHECK(p.result_columns[1].type.id == type_id::int_);

    r = f.e.prepare(f.s, "UPDATE t SET m[?] = ? WHERE a = 1 AND b = ? AND c = ?");
    p = std::get<prepared_result>(r);
    CHECK(p.bind_variables[0].name == "key(m)");
    CHECK(p.bind_variables[1].name == "value(m)");
    CHECK(p.pk_indexes.empty());  // a is a literal

    auto bad = f.e.prepare(f.s, "SELECT nope FROM t");
    REQUIRE(std::holds_alternative<error>(bad));
    CHECK(std::get<error>(bad).code == error_code::invalid);
}

TEST_CASE("execute prepared statements, named values, unprepared ids", "[engine][prepared]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE t (k int PRIMARY KEY, v text)");
    auto ins = std::get<prepared_result>(f.e.prepare(f.s, "INSERT INTO t (k, v) VALUES (:k, :v)"));
    auto k = int_bytes(1);
    auto v = text_bytes("hello");
    query_options o;
    o.names = {"v", "k"};
    o.values = {value_view::of(v), value_view::of(k)};
    CHECK(std::holds_alternative<void_result>(f.e.execute(f.s, ins.id, o)));
    CHECK(f.select("SELECT v FROM t WHERE k = 1") == table{{"'hello'"}});

    // unset values leave the column alone (v4+)
    query_options u;
    u.values = {value_view::of(k), value_view::unset()};
    CHECK(std::holds_alternative<void_result>(f.e.execute(f.s, ins.id, u)));
    CHECK(f.select("SELECT v FROM t WHERE k = 1") == table{{"'hello'"}});

    // a value of the wrong size is rejected
    byte_buffer three{1, 2, 3};
    query_options w;
    w.values = {value_view::of(three), value_view::of(v)};
    auto e = f.e.execute(f.s, ins.id, w);
    REQUIRE(std::holds_alternative<error>(e));
    CHECK(std::get<error>(e).message == "Expected 4 or 0 byte int (3)");

    byte_buffer unknown(16, 0xAB);
    e = f.e.execute(f.s, unknown, {});
    REQUIRE(std::holds_alternative<error>(e));
    CHECK(std::get<error>(e).code == error_code::unprepared);
    CHECK(std::get<error>(e).unprepared_id == unknown);
}

TEST_CASE("result metadata id changes after ALTER TABLE", "[engine][prepared]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE t (k int PRIMARY KEY, v text)");
    f.ok("INSERT INTO t (k, v) VALUES (1, 'a')");
    auto sel = std::get<prepared_result>(f.e.prepare(f.s, "SELECT * FROM t WHERE k = 1"));
    auto before = std::get<rows_result>(f.e.execute(f.s, sel.id, {}));
    CHECK(before.metadata_id == sel.result_metadata_id);
    CHECK(before.columns.size() == 2);
    f.ok("ALTER TABLE t ADD w int");
    auto after = std::get<rows_result>(f.e.execute(f.s, sel.id, {}));
    CHECK(after.columns.size() == 3);
    CHECK(after.metadata_id != sel.result_metadata_id);
    auto again = std::get<prepared_result>(f.e.prepare(f.s, "SELECT * FROM t WHERE k = 1"));
    CHECK(again.id == sel.id);
    CHECK(again.result_metadata_id == after.metadata_id);
}
