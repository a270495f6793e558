// The query builder without a server: the CQL it writes, and the queries it refuses
// before anything is sent (with the reason).
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/describe/class.hpp>

#include "cql/cluster.hpp"
#include "cql/mapping.hpp"

namespace app {
struct reading {
    std::string sensor;
    std::int32_t day;
    std::int32_t seq;
    std::int64_t at;
    double value;
    std::optional<std::string> unit;
    std::vector<std::string> tags;
};
BOOST_DESCRIBE_STRUCT(reading, (), (sensor, day, seq, at, value, unit, tags))
inline void cql_model(cql::model<reading>& m) {
    m.table("metrics", "readings")
        .partition_key(&reading::sensor)
        .partition_key(&reading::day)
        .clustering_key(&reading::seq)
        .clustering_key(&reading::at, cql::clustering_order::desc)
        .static_column(&reading::unit);
}

struct hits {
    std::string page;
    std::int64_t views;
};
BOOST_DESCRIBE_STRUCT(hits, (), (page, views))
inline void cql_model(cql::model<hits>& m) {
    m.table("counters").partition_key(&hits::page).counter(&hits::views);
}
}  // namespace app

namespace {
using app::reading;
using cql::col;

struct fixture {
    boost::asio::io_context io;
    cql::cluster cluster{io.get_executor(), [] {
                             cql::cluster_config c;
                             c.contact_points = {"127.0.0.1"};
                             return c;
                         }()};
    cql::mapper<reading> readings{cluster.session()};
    cql::mapper<app::hits> hits{cluster.session(), "web"};
};

template <class Q>
std::string refused(const Q& q) {
    CHECK(q.error() == cql::mapping_errc::invalid_query);
    CHECK(q.cql().empty());
    return q.error_message();
}
}  // namespace

TEST_CASE_METHOD(fixture, "select text") {
    CHECK(readings.keyspace() == "metrics");
    CHECK(readings.select().cql() ==
          "SELECT sensor, day, seq, at, value, unit, tags FROM metrics.readings");
    auto q = readings.select()
                 .where(col(&reading::sensor) == "s1")
                 .where(col(&reading::day).in({1, 2}))
                 .where(col(&reading::seq) == 3)
                 .where(col(&reading::at) >= 100)
                 .where(col(&reading::at) < 200)
                 .order_by(&reading::seq, cql::clustering_order::desc)
                 .order_by(&reading::at, cql::clustering_order::asc)
                 .per_partition_limit(2)
                 .limit(10);
    CHECK(q.cql() ==
          "SELECT sensor, day, seq, at, value, unit, tags FROM metrics.readings WHERE sensor = ? "
          "AND day IN (?, ?) AND seq = ? AND at >= ? AND at < ? ORDER BY seq DESC, at ASC PER "
          "PARTITION LIMIT ? LIMIT ?");
    CHECK(q.spec().values.size() == 8);
    auto f = readings.select().where(col(&reading::value) > 1.5).allow_filtering();
    CHECK(f.cql() ==
          "SELECT sensor, day, seq, at, value, unit, tags FROM metrics.readings WHERE value > ? "
          "ALLOW FILTERING");
}

TEST_CASE_METHOD(fixture, "writes text") {
    reading r{"s1", 1, 2, 3, 4.5, std::nullopt, {}};
    CHECK(readings.insert(r).cql() ==
          "INSERT INTO metrics.readings (sensor, day, seq, at, value, unit, tags) VALUES (?, ?, "
          "?, ?, ?, ?, ?)");
    CHECK(readings.insert(r).if_not_exists().ttl(std::chrono::seconds(60)).timestamp(5).cql() ==
          "INSERT INTO metrics.readings (sensor, day, seq, at, value, unit, tags) VALUES (?, ?, "
          "?, ?, ?, ?, ?) IF NOT EXISTS USING TTL ? AND TIMESTAMP ?");
    CHECK(readings.update(r).cql() ==
          "UPDATE metrics.readings SET value = ?, unit = ?, tags = ? WHERE sensor = ? AND day = "
          "? AND seq = ? AND at = ?");
    CHECK(readings.update()
              .add(&reading::tags, std::vector<std::string>{"x"})
              .where(col(&reading::sensor) == "s1")
              .where(col(&reading::day) == 1)
              .where(col(&reading::seq) == 2)
              .where(col(&reading::at) == 3)
              .if_(col(&reading::value) != 0.0)
              .ttl(std::chrono::seconds(5))
              .cql() ==
          "UPDATE metrics.readings USING TTL ? SET tags = tags + ? WHERE sensor = ? AND day = ? "
          "AND seq = ? AND at = ? IF value != ?");
    CHECK(readings.remove(r).if_exists().cql() ==
          "DELETE FROM metrics.readings WHERE sensor = ? AND day = ? AND seq = ? AND at = ? IF "
          "EXISTS");
    CHECK(readings.remove()
              .where(col(&reading::sensor) == "s1")
              .where(col(&reading::day) == 1)
              .where(col(&reading::seq) > 5)
              .timestamp(9)
              .cql() ==
          "DELETE FROM metrics.readings USING TIMESTAMP ? WHERE sensor = ? AND day = ? AND seq > "
          "?");
    CHECK(hits.update().add(&app::hits::views, 1).where(col(&app::hits::page) == "/").cql() ==
          "UPDATE web.counters SET views = views + ? WHERE page = ?");
}

TEST_CASE_METHOD(fixture, "queries refused before anything is sent") {
    CHECK(refused(readings.select().where(col(&reading::value) > 1.0)) ==
          "cql mapping: where: column 'value' is not part of the primary key (add "
          "allow_filtering() to filter on it)");
    CHECK(refused(readings.select().where(col(&reading::sensor) == "s")) ==
          "cql mapping: where: partition key column 'day' is not restricted (add "
          "allow_filtering() to scan)");
    CHECK(
        refused(
            readings.select().where(col(&reading::sensor) > "s").where(col(&reading::day) == 1)) ==
        "cql mapping: where: partition key column 'sensor' can only be restricted with == or "
        "in()");
    CHECK(refused(readings.select()
                      .where(col(&reading::sensor) == "s")
                      .where(col(&reading::day) == 1)
                      .where(col(&reading::at) == 1)) ==
          "cql mapping: where: clustering column 'at' is restricted but one before it is not "
          "(add allow_filtering())");
    CHECK(refused(readings.select().where(col(&reading::seq) == 1)) ==
          "cql mapping: where: clustering columns are restricted without the whole partition "
          "key (add allow_filtering() to scan)");
    CHECK(refused(readings.select().order_by(&reading::seq)) ==
          "cql mapping: order_by: the partition key must be restricted with == or in()");
    CHECK(refused(readings.select()
                      .where(col(&reading::sensor) == "s")
                      .where(col(&reading::day) == 1)
                      .order_by(&reading::seq, cql::clustering_order::asc)
                      .order_by(&reading::at, cql::clustering_order::asc)) ==
          "cql mapping: order_by: the clustering order can only be kept or reversed as a whole");
    CHECK(refused(readings.select().limit(0)) == "cql mapping: limit: must be positive");
    reading r{"s1", 1, 2, 3, 4.5, std::nullopt, {}};
    CHECK(
        refused(readings.update().set(&reading::value, 1.0).where(col(&reading::sensor) == "s")) ==
        "cql mapping: update: partition key column 'day' is not restricted");
    CHECK(refused(readings.update(r).set(&reading::seq, 9)) ==
          "cql mapping: update: 'seq' is part of the primary key");
    CHECK(refused(readings.remove().where(col(&reading::value) == 1.0)) ==
          "cql mapping: remove: column 'value' is not part of the primary key");
    CHECK(refused(hits.insert(app::hits{"/", 1})) ==
          "cql mapping: insert: app::hits has counter columns, which only update().add() can "
          "change");
    CHECK(refused(hits.update().set(&app::hits::views, 1).where(col(&app::hits::page) == "/")) ==
          "cql mapping: update: counter column 'views' can only be changed with add() or "
          "remove()");
}

namespace app {
struct stray {
    std::int32_t k;
    std::int32_t v;
    std::int32_t hidden;
};
BOOST_DESCRIBE_STRUCT(stray, (), (k, v))
inline void cql_model(cql::model<stray>& m) {
    m.table("ks", "stray").partition_key(&stray::k);
}
}  // namespace app

TEST_CASE_METHOD(fixture, "a table without a keyspace is refused") {
    cql::mapper<app::hits> nowhere(cluster.session(), "");  // no model keyspace, no USE
    CHECK(nowhere.select().error() == cql::mapping_errc::invalid_model);
    CHECK(nowhere.select().error_message() ==
          "cql mapping: table counters has no keyspace: give its model or the mapper one, or "
          "use a session bound to a keyspace");
}

TEST_CASE_METHOD(fixture, "an unknown member is refused") {
    cql::mapper<app::stray> strays(cluster.session());
    CHECK(refused(strays.select().where(col(&app::stray::hidden) == 1)) ==
          "cql mapping: a member given to where() or if_() is not listed in "
          "BOOST_DESCRIBE_STRUCT(app::stray, ...)");
}
