// Table definitions and the DDL generated from a struct's model.
#include <catch2/catch.hpp>

#include <boost/describe/class.hpp>

#include "cql/mapping.hpp"

namespace app {
struct geo {
    double lat;
    double lon;
};
BOOST_DESCRIBE_STRUCT(geo, (), (lat, lon))

struct address {
    std::string street;
    std::optional<std::int32_t> zip;
    std::vector<std::string> lines;
    geo where;
};
BOOST_DESCRIBE_STRUCT(address, (), (street, zip, lines, where))
inline void cql_model(cql::model<address>& m) {
    m.type_name("postal_address");
}

struct reading {
    std::string sensor;
    std::int32_t day;
    cql::protocol::cql_timestamp at;
    double value;
    std::optional<std::string> unit;
    std::map<std::string, std::vector<address>> places;
    std::set<std::int32_t> tags;
    std::tuple<std::int32_t, std::string> pair;
    std::array<float, 3> embedding;
    std::string note;
};
BOOST_DESCRIBE_STRUCT(reading, (),
                      (sensor, day, at, value, unit, places, tags, pair, embedding, note))
inline void cql_model(cql::model<reading>& m) {
    m.table("metrics", "readings")
        .partition_key(&reading::sensor)
        .partition_key(&reading::day)
        .clustering_key(&reading::at, cql::clustering_order::desc)
        .static_column(&reading::unit)
        .column(&reading::value, "order")  // a keyword: quoted
        .cql_type(&reading::note, "ascii");
}

struct page_views {
    std::string page;
    std::int64_t hits;
    std::string title;
};
BOOST_DESCRIBE_STRUCT(page_views, (), (page, hits, title))
inline void cql_model(cql::model<page_views>& m) {
    m.partition_key(&page_views::page).counter(&page_views::hits);
}

struct not_described {
    int a;
};
struct with_stray {
    std::int32_t k;
    std::int32_t stray;
};
BOOST_DESCRIBE_STRUCT(with_stray, (), (k))
inline void cql_model(cql::model<with_stray>& m) {
    m.partition_key(&with_stray::k).column(&with_stray::stray, "s");
}
}  // namespace app

TEST_CASE("CREATE TABLE and CREATE TYPE from a model") {
    auto def = cql::table_definition_of<app::reading>();
    REQUIRE(def.errors.empty());
    CHECK(def.create_table_cql() ==
          "CREATE TABLE IF NOT EXISTS metrics.readings (sensor text, day int, at timestamp, "
          "\"order\" double, unit text static, places map<text, "
          "frozen<list<frozen<postal_address>>>>, "
          "tags set<int>, pair frozen<tuple<int, text>>, embedding vector<float, 3>, note ascii, "
          "PRIMARY KEY ((sensor, day), at)) WITH CLUSTERING ORDER BY (at DESC)");
    auto types = def.create_types_cql();
    REQUIRE(types.size() == 2);  // nested first
    CHECK(types[0] == "CREATE TYPE IF NOT EXISTS metrics.geo (lat double, lon double)");
    CHECK(types[1] ==
          "CREATE TYPE IF NOT EXISTS metrics.postal_address (street text, zip int, lines "
          "frozen<list<text>>, \"where\" frozen<geo>)");
}

TEST_CASE("counter tables and default names") {
    auto def = cql::table_definition_of<app::page_views>();
    CHECK(def.errors ==
          std::vector<std::string>{"struct app::page_views mixes counter and other columns outside "
                                   "the primary key"});
    CHECK(def.table == "page_views");
}

TEST_CASE("mistakes in a model are reported, not sent") {
    auto def = cql::table_definition_of<app::with_stray>();
    REQUIRE_FALSE(def.errors.empty());
    CHECK(def.errors[0] ==
          "model of app::with_stray: the member given to column() is not listed in "
          "BOOST_DESCRIBE_STRUCT");
}

TEST_CASE("identifiers") {
    CHECK(cql::cql_identifier("name") == "name");
    CHECK(cql::cql_identifier("Name") == "\"Name\"");
    CHECK(cql::cql_identifier("select") == "\"select\"");
    CHECK(cql::cql_identifier("a\"b") == "\"a\"\"b\"");
}
