// The LWT / counter-update detector (src/detail/statement_kind.hpp): what makes a statement
// never idempotent, whatever it is marked.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "../support/counting_new.hpp"
#include "detail/statement_kind.hpp"

// Allocations are counted (the global operator new is replaced in this program).
using counting_new::allocations;

using cql::detail::classify_prepared;
using cql::detail::classify_simple;
using cql::detail::scan_statement;

namespace {

// Simple-statement verdict without schema.
cql::detail::statement_kind simple(std::string_view q,
                                   std::shared_ptr<const cql::schema_metadata> schema = nullptr,
                                   std::string ks = "ks") {
    return classify_simple(
        q, [&] { return schema; }, [&] { return ks; });
}
bool lwt(std::string_view q) {
    return simple(q).lwt;
}
bool counter(std::string_view q, std::shared_ptr<const cql::schema_metadata> schema = nullptr) {
    return simple(q, std::move(schema)).counter;
}

cql::prepared_column marker(std::string name, cql::protocol::type_id t) {
    return {"ks", "t", std::move(name), cql::protocol::data_type(t)};
}

// ks.counts (k int, n counter, m counter), ks.lists (k int, l list<int>, s set<int>, v int),
// ks."Mixed" (k int, "N" counter).
std::shared_ptr<const cql::schema_metadata> schema() {
    auto s = std::make_shared<cql::schema_metadata>();
    auto& ks = s->keyspaces["ks"];
    ks.name = "ks";
    using kind = cql::column_metadata::kind;
    auto table = [&](std::string name,
                     std::vector<std::pair<std::string, std::string>> cols) -> void {
        auto& t = ks.tables[name];
        t.name = name;
        t.keyspace = "ks";
        bool first = true;
        for (auto& [n, ty] : cols) {
            cql::column_metadata c;
            c.name = n;
            c.type = ty;
            c.role = first ? kind::partition_key : kind::regular;
            t.columns.push_back(c);
            if (first) t.partition_key.push_back(n);
            first = false;
        }
    };
    table("counts", {{"k", "int"}, {"n", "counter"}, {"m", "counter"}});
    table("lists", {{"k", "int"}, {"l", "list<int>"}, {"s", "set<int>"}, {"v", "int"}});
    table("Mixed", {{"k", "int"}, {"N", "counter"}});
    return s;
}

}  // namespace

TEST_CASE("conditional INSERT / UPDATE / DELETE are LWTs", "[statement_kind]") {
    CHECK(lwt("INSERT INTO ks.t (k, v) VALUES (1, 'a') IF NOT EXISTS"));
    CHECK(lwt("insert into t (k, v) values (?, ?) if not exists"));
    CHECK(lwt("INSERT INTO t (k, v) VALUES (1, 2) IF NOT EXISTS USING TTL 10"));
    CHECK(lwt("INSERT INTO t JSON '{\"k\": 1}' IF NOT EXISTS"));
    CHECK(lwt("UPDATE t SET v = 1 WHERE k = 1 IF EXISTS"));
    CHECK(lwt("UPDATE t SET v = 1 WHERE k = 1 IF v = 2"));
    CHECK(lwt("Update t Set v = ? Where k = ? iF v IN (1, 2) AND w > 3"));
    CHECK(lwt("UPDATE ks.t USING TTL 5 SET v = 1 WHERE k = 1 IF v != null"));
    CHECK(lwt("DELETE FROM t WHERE k = 1 IF EXISTS"));
    CHECK(lwt("DELETE v FROM t USING TIMESTAMP 5 WHERE k = 1 IF v = 'x'"));
    CHECK(lwt("  \n\t-- leading comment\nINSERT INTO t (k) VALUES (1)\nIF\nNOT\nEXISTS;"));
    CHECK(lwt("INSERT INTO t (k) VALUES (1) /* c */ IF /* c */ NOT EXISTS"));
    CHECK(lwt("UPDATE t SET m['if'] = 'IF' WHERE k = 1 IF m['x'] = 'y'"));
}

TEST_CASE("IF that is no condition is not an LWT", "[statement_kind]") {
    // In string literals, $$ literals, quoted identifiers, comments, names.
    CHECK_FALSE(lwt("INSERT INTO t (k, v) VALUES (1, 'IF NOT EXISTS')"));
    CHECK_FALSE(lwt("INSERT INTO t (k, v) VALUES (1, 'it''s IF NOT EXISTS')"));
    CHECK_FALSE(lwt("INSERT INTO t (k, v) VALUES (1, $$ IF NOT EXISTS $$)"));
    CHECK_FALSE(lwt("INSERT INTO t (k, \"if\") VALUES (1, 2)"));
    CHECK_FALSE(lwt("UPDATE t SET \"IF\" = 1 WHERE k = 1"));
    CHECK_FALSE(lwt("UPDATE t SET \"a\"\"IF\" = 1 WHERE k = 1"));
    CHECK_FALSE(lwt("INSERT INTO t (k) VALUES (1) -- IF NOT EXISTS"));
    CHECK_FALSE(lwt("INSERT INTO t (k) VALUES (1) // IF NOT EXISTS"));
    CHECK_FALSE(lwt("INSERT INTO t (k) VALUES (1) /* IF NOT\nEXISTS */"));
    CHECK_FALSE(lwt("UPDATE t SET ifx = 1, xif = 2, exists = 3 WHERE k = 1"));
    CHECK_FALSE(lwt("INSERT INTO t (k, v) VALUES (1, 'a')"));
    CHECK_FALSE(lwt("UPDATE t SET v = 1 WHERE k = 1"));
    CHECK_FALSE(lwt("DELETE FROM t WHERE k = 1"));
    // Not DML.
    CHECK_FALSE(lwt("CREATE TABLE IF NOT EXISTS ks.t (k int PRIMARY KEY)"));
    CHECK_FALSE(lwt("create keyspace if not exists ks WITH replication = {'class': 'x'}"));
    CHECK_FALSE(lwt("DROP TABLE IF EXISTS ks.t"));
    CHECK_FALSE(lwt("CREATE INDEX IF NOT EXISTS ON t (v)"));
    CHECK_FALSE(lwt("ALTER TABLE t ADD IF NOT EXISTS v int"));
    CHECK_FALSE(lwt("SELECT * FROM t WHERE k = 1"));
    CHECK_FALSE(
        lwt("CREATE FUNCTION IF NOT EXISTS f(x int) RETURNS NULL ON NULL INPUT "
            "RETURNS int LANGUAGE java AS $$ if (x > 0) return x; UPDATE $$"));
    CHECK_FALSE(lwt(""));
    CHECK_FALSE(lwt("   -- only a comment"));
}

TEST_CASE("batches: any conditional statement makes an LWT", "[statement_kind]") {
    CHECK(
        lwt("BEGIN BATCH INSERT INTO t (k) VALUES (1); UPDATE t SET v = 1 WHERE k = 1 "
            "IF v = 0; APPLY BATCH"));
    CHECK(
        lwt("begin unlogged batch using timestamp 5 insert into t (k) values (1) "
            "delete from t where k = 2 if exists apply batch"));
    CHECK_FALSE(
        lwt("BEGIN BATCH INSERT INTO t (k, v) VALUES (1, 'if'); "
            "UPDATE t SET \"if\" = 1 WHERE k = 1; APPLY BATCH;"));
    auto s = scan_statement("BEGIN COUNTER BATCH UPDATE c SET n = n + ? WHERE k = 1 APPLY BATCH");
    CHECK(s.counter_batch);
    CHECK(s.dml);
    CHECK_FALSE(s.lwt);
    CHECK(counter("BEGIN COUNTER BATCH APPLY BATCH"));
    CHECK_FALSE(counter("BEGIN LOGGED BATCH INSERT INTO t (k) VALUES (1) APPLY BATCH"));
    // A statement after a conditional one in an unterminated text still counts as seen.
    CHECK(lwt("UPDATE t SET v = 1 WHERE k = 1 IF v = 0; SELECT * FROM t"));
}

TEST_CASE("increments by an integer literal are counter updates", "[statement_kind]") {
    CHECK(counter("UPDATE ks.counts SET n = n + 1 WHERE k = 1"));
    CHECK(counter("update counts set n = n - 5 where k = 1"));
    CHECK(counter("UPDATE counts SET n = 3 + n WHERE k = 1"));
    CHECK(counter("UPDATE counts SET n = n + -1 WHERE k = 1"));
    CHECK(counter("UPDATE counts SET N = n + 1 WHERE k = 1"));  // unquoted: case-insensitive
    CHECK(counter("UPDATE counts SET n += 1 WHERE k = 1"));
    CHECK(counter("UPDATE counts SET n -= 2 WHERE k = 1"));
    CHECK(counter("UPDATE \"Mixed\" SET \"N\" = \"N\" + 1 WHERE k = 1"));
    CHECK(counter("UPDATE counts USING TIMESTAMP 5 SET m = m + 1, n = n + 2 WHERE k = 1"));
    CHECK(counter("UPDATE t SET v = 'x', n = n + 1 WHERE k = 1"));
    CHECK(
        counter("BEGIN BATCH INSERT INTO t (k) VALUES (1) UPDATE counts SET n = n + 1 WHERE "
                "k = 1 APPLY BATCH"));
    // Not increments.
    CHECK_FALSE(counter("UPDATE t SET n = m + 1 WHERE k = 1"));
    CHECK_FALSE(counter("UPDATE t SET \"N\" = n + 1 WHERE k = 1"));  // quoted: another column
    CHECK_FALSE(counter("UPDATE t SET v = 1 WHERE k = 1"));
    CHECK_FALSE(counter("UPDATE t SET v = 'n = n + 1' WHERE k = 1"));
    CHECK_FALSE(counter("UPDATE t SET v = 1 WHERE k = 1 -- SET n = n + 1"));
    CHECK_FALSE(counter("UPDATE t SET l = l + [1] WHERE k = 1"));  // list append
    CHECK_FALSE(counter("UPDATE t SET l = [1, 2] + l WHERE k = 1"));
    CHECK_FALSE(counter("UPDATE t SET s = s - {1} WHERE k = 1"));
    CHECK_FALSE(counter("UPDATE t SET m = m + {'a': 1} WHERE k = 1"));
    CHECK_FALSE(counter("UPDATE t SET m['n'] = 1 WHERE k = 1"));
    CHECK_FALSE(counter("INSERT INTO t (k, n) VALUES (1, n + 1)"));
    CHECK_FALSE(counter("SELECT n + 1 FROM t WHERE k = 1"));
    CHECK_FALSE(counter("DELETE FROM counts WHERE k = 1"));
}

TEST_CASE("increments by a marker: the type decides", "[statement_kind]") {
    auto sc = schema();
    // Simple statements: the schema.
    CHECK(counter("UPDATE ks.counts SET n = n + ? WHERE k = ?", sc));
    CHECK(counter("UPDATE counts SET n = :delta + n WHERE k = :k", sc));  // default keyspace
    CHECK(counter("UPDATE ks.\"Mixed\" SET \"N\" = \"N\" + ? WHERE k = 1", sc));
    CHECK_FALSE(counter("UPDATE ks.lists SET l = l + ? WHERE k = ?", sc));
    CHECK_FALSE(counter("UPDATE lists SET s = s - ? WHERE k = 1", sc));
    // Unknown table or column, or no schema: a counter (the safe side).
    CHECK(counter("UPDATE ks.nosuch SET l = l + ? WHERE k = 1", sc));
    CHECK(counter("UPDATE other.lists SET l = l + ? WHERE k = 1", sc));
    CHECK(counter("UPDATE ks.lists SET x = x + ? WHERE k = 1", sc));
    CHECK(counter("UPDATE ks.lists SET l = l + ? WHERE k = 1"));
    // A function operand: the schema too.
    CHECK(counter("UPDATE ks.counts SET n = n + blobAsBigint(0x01) WHERE k = 1", sc));
    CHECK_FALSE(counter("UPDATE ks.lists SET l = l + fn(1) WHERE k = 1", sc));

    auto s = scan_statement("UPDATE \"KS\".\"T\" SET \"a\"\"b\" = \"a\"\"b\" + ? WHERE k = 1");
    CHECK(s.increment_marker);
    CHECK(cql::detail::identifier_name(s.keyspace) == "KS");
    CHECK(cql::detail::identifier_name(s.table) == "T");
    CHECK(cql::detail::identifier_name(s.column) == "a\"b");
    CHECK(cql::detail::identifier_name("MiXed") == "mixed");

    // Prepared statements: the markers' types, no schema needed.
    using cql::protocol::type_id;
    std::vector<cql::prepared_column> counter_markers{marker("n", type_id::counter),
                                                      marker("k", type_id::int_)};
    std::vector<cql::prepared_column> list_markers{{"ks", "lists", "l",
                                                    [] {
                                                        cql::protocol::data_type t(type_id::list);
                                                        t.params.emplace_back(type_id::int_);
                                                        return t;
                                                    }()},
                                                   marker("k", type_id::int_)};
    const std::string q1 = "UPDATE t SET n = n + ? WHERE k = ?";
    const std::string q2 = "UPDATE lists SET l = l + ? WHERE k = ?";
    CHECK(classify_prepared(q1, counter_markers, nullptr, "ks").counter);
    CHECK_FALSE(classify_prepared(q2, list_markers, nullptr, "ks").counter);
    CHECK_FALSE(classify_prepared(q2, list_markers, nullptr, "ks").lwt);
    // A marker of type counter in an UPDATE, whatever the form.
    CHECK(classify_prepared("UPDATE t SET n = (counter)? + n WHERE k = ?", counter_markers, nullptr,
                            "ks")
              .counter);
    // A counter-typed marker of a SELECT is no update.
    CHECK_FALSE(classify_prepared("SELECT * FROM t WHERE n = ? AND k = ? ALLOW FILTERING",
                                  counter_markers, nullptr, "ks")
                    .counter);
    auto p =
        classify_prepared("UPDATE t SET v = ? WHERE k = ? IF v = ?", list_markers, nullptr, "ks");
    CHECK(p.lwt);
    CHECK_FALSE(p.counter);
    CHECK(p.never_idempotent());
}

TEST_CASE("the schema is consulted only for increments the text cannot settle",
          "[statement_kind]") {
    int schema_calls = 0;
    auto get = [&] {
        ++schema_calls;
        return std::shared_ptr<const cql::schema_metadata>(schema());
    };
    auto ks = [] { return std::string("ks"); };
    for (const char* q :
         {"INSERT INTO t (k, v) VALUES (?, ?)", "SELECT * FROM t", "UPDATE t SET v = ? WHERE k = ?",
          "UPDATE t SET n = n + 1 WHERE k = 1", "UPDATE t SET l = l + [1] WHERE k = ?",
          "INSERT INTO t (k) VALUES (1) IF NOT EXISTS"})
        (void)classify_simple(q, get, ks);
    CHECK(schema_calls == 0);
    CHECK(classify_simple("UPDATE counts SET n = n + ? WHERE k = 1", get, ks).counter);
    CHECK(schema_calls == 1);
}

TEST_CASE("SELECTs that name their columns, and those that do not", "[statement_kind]") {
    using cql::detail::selects_named_columns;
    CHECK(selects_named_columns("SELECT k, v FROM ks.t WHERE k = ?"));
    CHECK(selects_named_columns("  select \"V\" from t"));
    CHECK(selects_named_columns("SELECT JSON k, v FROM t"));
    CHECK(selects_named_columns("SELECT DISTINCT k FROM t"));
    CHECK(selects_named_columns("/* all */ SELECT count(*) FROM t"));
    CHECK_FALSE(selects_named_columns("SELECT * FROM ks.t WHERE k = ?"));
    CHECK_FALSE(selects_named_columns("select\n  *  from t"));
    CHECK_FALSE(selects_named_columns("SELECT JSON * FROM t"));
    CHECK_FALSE(selects_named_columns("SELECT DISTINCT * FROM t"));
    CHECK_FALSE(selects_named_columns("INSERT INTO t (k) VALUES (1)"));
    CHECK_FALSE(selects_named_columns("SELECT"));
    CHECK_FALSE(selects_named_columns(""));
}

TEST_CASE("malformed text gives a verdict, never a crash", "[statement_kind]") {
    for (const char* q : {"UPDATE",
                          "UPDATE t SET",
                          "UPDATE t SET n =",
                          "UPDATE t SET n = n +",
                          "UPDATE t SET = +",
                          "INSERT INTO t (k VALUES ((((",
                          "UPDATE t SET n = n + 'unterminated",
                          "UPDATE t SET \"unterminated = n + 1",
                          "UPDATE t SET n = n + $$",
                          "/* unterminated",
                          "UPDATE t SET n = n + 1 ))))] IF",
                          "BEGIN",
                          "BEGIN BATCH",
                          ":",
                          "?",
                          "\"\"",
                          "''",
                          "UPDATE . SET a.b = a.b + 1",
                          "UPDATE t SET n = n + 12345678-1234-1234-1234-123456789012",
                          "UPDATE t SET n = n + 1e-5, m = m + 0xff WHERE k = 1"}) {
        INFO(q);
        auto s = scan_statement(q);
        (void)s;
        (void)simple(q, schema());
    }
    CHECK(lwt("UPDATE t SET n = n + 1 ))))] IF"));
    // A long right-hand side is no increment by a literal.
    auto s = scan_statement("UPDATE t SET n = n + 1 + 1 + 1 + 1 + 1 + 1 + 1 WHERE k = 1");
    CHECK_FALSE(s.increment_int);
    CHECK(s.increment_other);
}

TEST_CASE("classifying a simple statement allocates nothing", "[statement_kind]") {
    const std::string texts[] = {
        "INSERT INTO ks.t (k, v) VALUES (?, ?) IF NOT EXISTS",
        "UPDATE ks.counts SET n = n + 1, m = m - 2 WHERE k = ? -- comment",
        "BEGIN UNLOGGED BATCH INSERT INTO t (k, v) VALUES (1, 'it''s') UPDATE t SET "
        "l = l + [1, 2] WHERE k = 1 APPLY BATCH",
        "SELECT \"a\"\"b\", v FROM t WHERE k IN ($$x$$, 'y') /* block */"};
    int lwts = 0, counters = 0;
    const long before = allocations.load();
    for (const auto& q : texts) {
        const auto k = classify_simple(
            q, [] { return std::shared_ptr<const cql::schema_metadata>(); },
            [] { return std::string(); });
        lwts += k.lwt;
        counters += k.counter;
    }
    const long after = allocations.load();
    CHECK(after == before);
    CHECK(lwts == 1);
    CHECK(counters == 1);
}

TEST_CASE("random text: the scanner always ends", "[statement_kind]") {
    // Fragments that open and close every lexical form, shuffled into 20,000 texts.
    const char* parts[] = {
        "UPDATE ", "INSERT ", "DELETE ", "BEGIN ", "COUNTER ", "BATCH ", "APPLY ", "SET ",
        "WHERE ",  "IF ",     "n",       " = ",    "+",        "-",      "?",      ":x",
        "1",       "0x1f",    "1e-3",    "'",      "''",       "\"",     "$$",     "--",
        "//",      "/*",      "*/",      "\n",     "(",        ")",      "[",      "]",
        "{",       "}",       ",",       ";",      ".",        " "};
    std::mt19937 rng(20261123);
    std::uniform_int_distribution<std::size_t> pick(0, std::size(parts) - 1), len(0, 40);
    std::string q;
    int lwts = 0;
    for (int i = 0; i < 20000; ++i) {
        q.clear();
        for (auto n = len(rng); n > 0; --n)
            q += parts[pick(rng)];
        lwts += scan_statement(q).lwt;
        (void)simple(q, schema());
    }
    CHECK(lwts > 0);
}
