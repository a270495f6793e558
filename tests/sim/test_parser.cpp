#include <catch2/catch.hpp>

#include "cqlsim/parser.hpp"

using namespace cqlsim;

namespace {
ast::parsed_statement ok(std::string_view cql) {
    auto r = parse(cql);
    if (auto* e = std::get_if<syntax_error>(&r))
        FAIL("unexpected syntax error: " << e->message << " in " << cql);
    return std::get<ast::parsed_statement>(std::move(r));
}
std::string bad(std::string_view cql) {
    auto r = parse(cql);
    REQUIRE(std::holds_alternative<syntax_error>(r));
    return std::get<syntax_error>(r).message;
}
}  // namespace

TEST_CASE("parse SELECT", "[parser]") {
    auto p =
        ok("select K, \"Quoted\" AS q, writetime(v), ttl(v), token(k) FROM Ks.T WHERE k = ? AND c "
           ">= :lo "
           "AND c < 10 ORDER BY c DESC PER PARTITION LIMIT 2 LIMIT 5 ALLOW FILTERING;");
    auto& s = std::get<ast::select_statement>(p.stmt);
    CHECK(s.table.keyspace == "ks");
    CHECK(s.table.name == "t");
    REQUIRE(s.selectors.size() == 5);
    CHECK(s.selectors[0].name == "k");
    CHECK(s.selectors[1].name == "Quoted");
    CHECK(s.selectors[1].alias == "q");
    CHECK(s.selectors[2].k == ast::selector::kind::writetime);
    CHECK(s.selectors[3].k == ast::selector::kind::ttl);
    CHECK(s.selectors[4].k == ast::selector::kind::token);
    REQUIRE(s.where.size() == 3);
    CHECK(s.where[0].rhs.k == ast::term::kind::bind);
    CHECK(s.where[1].oper == ast::op::gte);
    CHECK(s.where[1].rhs.bind_name == "lo");
    CHECK(s.where[2].rhs.k == ast::term::kind::integer);
    REQUIRE(p.markers.size() == 2);
    CHECK(p.markers[1].name == "lo");
    CHECK(s.order_by.size() == 1);
    CHECK(s.order_by[0].second);
    CHECK(s.allow_filtering);
    CHECK(s.limit);
    CHECK(s.per_partition_limit);
}

TEST_CASE("parse SELECT forms", "[parser]") {
    auto s = std::get<ast::select_statement>(ok("SELECT COUNT(*) FROM t").stmt);
    CHECK(s.selectors[0].k == ast::selector::kind::count_star);
    s = std::get<ast::select_statement>(ok("SELECT * FROM t WHERE k IN (1, 2, 3)").stmt);
    CHECK(s.star);
    CHECK(s.where[0].oper == ast::op::in);
    CHECK(s.where[0].in_values.size() == 3);
    s = std::get<ast::select_statement>(ok("SELECT * FROM t WHERE k IN ?").stmt);
    CHECK(s.where[0].in_marker);
    s = std::get<ast::select_statement>(
        ok("SELECT * FROM t WHERE token(a, b) > -9223372036854775808").stmt);
    CHECK(s.where[0].token);
    CHECK(s.where[0].columns.size() == 2);
    CHECK(s.where[0].rhs.text == "-9223372036854775808");
    s = std::get<ast::select_statement>(
        ok("SELECT * FROM t WHERE k = 1 AND (c1, c2) > (1, 2)").stmt);
    CHECK(s.where[1].multi);
    CHECK(s.where[1].rhs.k == ast::term::kind::tuple);
    s = std::get<ast::select_statement>(ok("SELECT DISTINCT k FROM t").stmt);
    CHECK(s.distinct);
    s = std::get<ast::select_statement>(
        ok("SELECT schema_version FROM system.local WHERE key='local'").stmt);
    CHECK(s.where[0].rhs.text == "local");
}

TEST_CASE("parse literals", "[parser]") {
    auto p =
        ok("INSERT INTO t (a,b,c,d,e,f,g,h,i,j,k,l,m,n,o) VALUES ('it''s', -42, 1.5e3, "
           "01234567-89ab-cdef-0123-456789abcdef, 0xCAFE, true, null, 1h30m, [1,2], {1,2}, {'a': "
           "1}, (1, 'x'), "
           "{street: 'x', zip: 1}, now(), $$dollar 'quoted'$$) USING TTL 10 AND TIMESTAMP 123");
    auto& s = std::get<ast::insert_statement>(p.stmt);
    using K = ast::term::kind;
    REQUIRE(s.values.size() == 15);
    CHECK(s.values[0].k == K::string);
    CHECK(s.values[0].text == "it's");
    CHECK(s.values[1].k == K::integer);
    CHECK(s.values[1].text == "-42");
    CHECK(s.values[2].k == K::floating);
    CHECK(s.values[3].k == K::uuid);
    CHECK(s.values[4].k == K::blob);
    CHECK(s.values[4].text == "CAFE");
    CHECK(s.values[5].k == K::boolean);
    CHECK(s.values[6].k == K::null);
    CHECK(s.values[7].k == K::duration);
    CHECK(s.values[7].text == "1h30m");
    CHECK(s.values[8].k == K::list);
    CHECK(s.values[9].k == K::set);
    CHECK(s.values[10].k == K::map);
    CHECK(s.values[10].items.size() == 2);
    CHECK(s.values[11].k == K::tuple);
    CHECK(s.values[12].k == K::udt);
    CHECK(s.values[12].field_names == std::vector<std::string>{"street", "zip"});
    CHECK(s.values[13].k == K::function);
    CHECK(s.values[14].text == "dollar 'quoted'");
    CHECK(s.using_.ttl);
    CHECK(s.using_.timestamp);
}

TEST_CASE("parse UPDATE and DELETE", "[parser]") {
    auto u =
        std::get<ast::update_statement>(ok("UPDATE ks.t USING TTL 5 SET n = n + 2, l = l + [1], l "
                                           "= [0] + l, m['k'] = 3, s = s - {'x'}, v = 'y' "
                                           "WHERE k = 1 IF v = 'first' AND n > 1")
                                            .stmt);
    using A = ast::assignment::kind;
    REQUIRE(u.assignments.size() == 6);
    CHECK(u.assignments[0].k == A::add);
    CHECK(u.assignments[1].k == A::add);
    CHECK(u.assignments[2].k == A::prepend);
    CHECK(u.assignments[3].k == A::set_element);
    CHECK(u.assignments[4].k == A::subtract);
    CHECK(u.assignments[5].k == A::set);
    CHECK(u.conditions.size() == 2);
    u = std::get<ast::update_statement>(ok("UPDATE t SET v = 1 WHERE k = 1 IF EXISTS").stmt);
    CHECK(u.if_exists);
    auto d = std::get<ast::delete_statement>(
        ok("DELETE v, m['k'] FROM t USING TIMESTAMP 5 WHERE k = 1 AND c > 3").stmt);
    CHECK(d.columns.size() == 2);
    CHECK(d.columns[1].element);
    CHECK(d.where.size() == 2);
    d = std::get<ast::delete_statement>(ok("DELETE FROM t WHERE k = 1 IF EXISTS").stmt);
    CHECK(d.columns.empty());
    CHECK(d.if_exists);
}

TEST_CASE("parse BATCH", "[parser]") {
    auto b = std::get<ast::batch_statement>(
        ok("BEGIN UNLOGGED BATCH USING TIMESTAMP 7 INSERT INTO t (k) VALUES (?); "
           "UPDATE t SET v = ? WHERE k = ?; DELETE FROM t WHERE k = 3; APPLY BATCH")
            .stmt);
    CHECK(b.type == ast::batch_type::unlogged);
    CHECK(b.statements.size() == 3);
    CHECK(b.using_.timestamp);
    auto c = std::get<ast::batch_statement>(
        ok("begin counter batch update c set n = n + 1 where k = 1 apply batch").stmt);
    CHECK(c.type == ast::batch_type::counter);
}

TEST_CASE("parse DDL", "[parser]") {
    auto k =
        std::get<ast::create_keyspace>(ok("CREATE KEYSPACE IF NOT EXISTS ks WITH replication = "
                                          "{'class':'SimpleStrategy','replication_factor':1} "
                                          "AND durable_writes = false")
                                           .stmt);
    CHECK(k.if_not_exists);
    CHECK(k.replication.size() == 2);
    CHECK(k.replication[1].second == "1");
    CHECK(k.durable_writes == false);
    auto t = std::get<ast::create_table>(
        ok("CREATE TABLE ks.t (p1 int, p2 text, c1 int, c2 timeuuid, s int static, v "
           "frozen<map<text, list<int>>>, "
           "PRIMARY KEY ((p1, p2), c1, c2)) WITH CLUSTERING ORDER BY (c1 DESC, c2 ASC) AND comment "
           "= 'x' AND "
           "compaction = {'class': 'SizeTieredCompactionStrategy'} AND gc_grace_seconds = 10")
            .stmt);
    CHECK(t.partition_key == std::vector<std::string>{"p1", "p2"});
    CHECK(t.clustering == std::vector<std::string>{"c1", "c2"});
    CHECK(t.columns[4].is_static);
    CHECK(t.columns[5].type == "frozen<map<text, list<int>>>");
    CHECK(t.clustering_order.size() == 2);
    CHECK(t.clustering_order[0].second);
    CHECK(t.options.size() == 3);
    auto t2 = std::get<ast::create_table>(ok("create table t (k int primary key, v text)").stmt);
    CHECK(t2.partition_key == std::vector<std::string>{"k"});
    auto a = std::get<ast::alter_table>(ok("ALTER TABLE t ADD w int").stmt);
    CHECK(a.k == ast::alter_table::kind::add);
    a = std::get<ast::alter_table>(ok("ALTER TABLE t DROP w").stmt);
    CHECK(a.k == ast::alter_table::kind::drop);
    a = std::get<ast::alter_table>(ok("ALTER TABLE t WITH comment = 'y'").stmt);
    CHECK(a.k == ast::alter_table::kind::with);
    auto ty = std::get<ast::create_type>(ok("CREATE TYPE ks.addr (street text, zip int)").stmt);
    CHECK(ty.fields.size() == 2);
    CHECK(std::holds_alternative<ast::drop_keyspace>(ok("DROP KEYSPACE IF EXISTS ks").stmt));
    CHECK(std::holds_alternative<ast::drop_table>(ok("DROP TABLE ks.t").stmt));
    CHECK(std::holds_alternative<ast::use_statement>(ok("USE \"MyKs\"").stmt));
    CHECK(std::get<ast::use_statement>(ok("USE \"MyKs\"").stmt).keyspace == "MyKs");
    CHECK(std::holds_alternative<ast::truncate_table>(ok("TRUNCATE t").stmt));
}

TEST_CASE("comments and case", "[parser]") {
    auto p = ok("-- leading comment\nSeLeCt /* inline */ v // trailing\n FROM t");
    CHECK(std::get<ast::select_statement>(p.stmt).selectors[0].name == "v");
}

TEST_CASE("syntax errors", "[parser]") {
    CHECK(bad("SELEC * FROM t") == "line 1:0 no viable alternative at input 'SELEC' ([SELEC]...)");
    CHECK(bad("SELECT * FROM") == "line 1:13 mismatched input '<EOF>' expecting IDENT");
    CHECK(bad("SELECT * FROM t WHERE").find("line 1:21") == 0);
    CHECK(bad("INSERT INTO t (k) VALUES ('unterminated)").find("token recognition error") !=
          std::string::npos);
    CHECK(bad("SELECT * FROM t extra").find("mismatched input 'extra'") != std::string::npos);
    CHECK(bad("CREATE TABLE t (k int PRIMARY KEY").find("expecting ')'") != std::string::npos);
    CHECK(bad("UPDATE t SET v = 1").find("K_WHERE") != std::string::npos);
    CHECK(bad("SELECT * FROM select").find("no viable alternative") != std::string::npos);
}

TEST_CASE("every prefix of valid statements parses or fails cleanly", "[parser]") {
    const char* statements[] = {
        "CREATE TABLE ks.t (p1 int, c1 int, s int static, v frozen<map<text, list<int>>>, PRIMARY "
        "KEY ((p1), c1)) "
        "WITH CLUSTERING ORDER BY (c1 DESC) AND comment = 'x'",
        "UPDATE t USING TTL 5 SET m['k'] = 3, l = [0] + l WHERE k IN (1, 2) AND (a, b) > (1, 'x') "
        "IF v = 'y'",
        "BEGIN BATCH INSERT INTO t (k, v) VALUES (?, :v) IF NOT EXISTS; DELETE m[1] FROM t WHERE k "
        "= 0x0a; APPLY "
        "BATCH",
        "SELECT token(k), writetime(v) AS w FROM t WHERE token(k) > -1 AND v CONTAINS KEY {'a': "
        "(1, 2.5e3)} LIMIT ?"};
    for (std::string_view s : statements) {
        for (std::size_t n = 0; n <= s.size(); ++n) {
            auto r = parse(s.substr(0, n));
            if (n == s.size()) CHECK(std::holds_alternative<ast::parsed_statement>(r));
            if (auto* e = std::get_if<syntax_error>(&r)) CHECK(e->message.rfind("line 1:", 0) == 0);
        }
    }
}
