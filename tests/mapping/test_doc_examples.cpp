// The code of docs/mapping.md that is not in examples/object_mapping.cpp, compiled and run
// here (mapping.doc_snippets checks that every block of the guide is in one of the two).
#include <catch2/catch.hpp>

#include <boost/describe/class.hpp>

#include "cql/mapping.hpp"
#include "result_builder.hpp"

namespace p = cql::protocol;
using mapping_test::rows_builder;

namespace zoo {
// [struct]
struct animal {
    std::string genus;
    std::string species;
    std::optional<float> size_cm;       // a column that may be null
    std::vector<std::string> taxonomy;  // list<text>: null reads as empty
};
BOOST_DESCRIBE_STRUCT(animal, (), (genus, species, size_cm, taxonomy))

struct point {  // a plain aggregate: columns (or UDT fields) by position
    std::int32_t x;
    std::int32_t y;
};
// [struct]

// [table_model]
inline void cql_model(cql::model<animal>& m) {  // found by argument-dependent lookup
    m.table("zoo", "animals")
        .partition_key(&animal::genus)
        .clustering_key(&animal::species, cql::clustering_order::desc);
}
// [table_model]
}  // namespace zoo

namespace {
cql::result animals_page() {
    rows_builder b;
    b.column("genus", p::data_type(p::type_id::varchar))
        .column("species", p::data_type(p::type_id::varchar))
        .column("size_cm", p::data_type(p::type_id::float_))
        .column("taxonomy", p::list_of(p::data_type(p::type_id::varchar)));
    b.cell(std::string("Panthera")).cell(std::string("leo")).cell(210.5f).null();
    b.cell(std::string("Panthera"))
        .cell(std::string("onca"))
        .null()
        .cell(std::vector<std::string>{"Felidae"});
    return b.build();
}

cql::prepared_statement insert_animal() {
    auto info = std::make_shared<cql::prepared_info>();
    info->query = "INSERT INTO zoo.animals (genus, species, size_cm) VALUES (?, ?, ?)";
    for (const char* n : {"genus", "species"})
        info->variables.push_back({"zoo", "animals", n, p::data_type(p::type_id::varchar)});
    info->variables.push_back({"zoo", "animals", "size_cm", p::data_type(p::type_id::float_)});
    return cql::prepared_statement(info);
}
}  // namespace

TEST_CASE("guide: reading rows") {
    const cql::result r = animals_page();
    std::vector<std::string> seen;
    // [read]
    for (const zoo::animal& a : cql::rows_of<zoo::animal>(r))  // names matched once per page
        seen.push_back(a.species);
    zoo::animal first = r.front().as<zoo::animal>();  // one row (names matched per row)
    std::vector<zoo::animal> all = cql::rows_of<zoo::animal>(r).to_vector();
    // [read]
    CHECK(seen == std::vector<std::string>{"leo", "onca"});
    CHECK(first.size_cm == 210.5f);
    CHECK(first.taxonomy.empty());
    REQUIRE(all.size() == 2);
    CHECK(all[1].taxonomy == std::vector<std::string>{"Felidae"});

    // [try_read]
    zoo::animal a;
    std::string why;
    if (auto ec = cql::try_read(r.front(), a, &why))
        std::printf("%s: %s\n", ec.message().c_str(), why.c_str());
    // [try_read]
    CHECK(why.empty());

    rows_builder pb;
    pb.column("a", p::data_type(p::type_id::int_)).column("b", p::data_type(p::type_id::int_));
    pb.cell(std::int32_t{1}).cell(std::int32_t{2});
    const cql::result points = pb.build();
    // [positional]
    zoo::point pt = points.front().as<zoo::point>();  // column 0 -> x, column 1 -> y
    // [positional]
    CHECK(pt.y == 2);
}

TEST_CASE("guide: a row that does not fit") {
    rows_builder b;
    b.column("genus", p::data_type(p::type_id::varchar))
        .column("species", p::data_type(p::type_id::varchar))
        .column("size_cm", p::data_type(p::type_id::double_))
        .column("taxonomy", p::list_of(p::data_type(p::type_id::varchar)));
    b.cell(std::string("Panthera")).cell(std::string("leo")).cell(1.0).null();
    const cql::result r = b.build();
    std::string message;
    // [mismatch]
    try {
        auto a = r.front().as<zoo::animal>();
    } catch (const boost::system::system_error& e) {
        message = e.what();  // names the member, the column and both types
    }
    // [mismatch]
    CHECK(message ==
          "cql mapping: member 'size_cm' of zoo::animal (C++ std::optional<float>) cannot hold "
          "column 'size_cm' (CQL double): a struct member's type cannot hold its column's CQL "
          "type [std:cql.mapping:3]");
}

TEST_CASE("guide: binding a struct") {
    const cql::prepared_statement ins = insert_animal();
    const zoo::animal lion{"Panthera", "leo", 210.5f, {}};
    // [bind]
    cql::bound_statement b = ins.bind(lion);  // each marker gets the member of its name
    // [bind]
    CHECK(b.settings().value_count() == 3);
    // [try_bind]
    cql::bound_statement out;
    std::string why;
    if (auto ec = cql::try_bind(ins, lion, out, &why)) std::printf("%s\n", why.c_str());
    // [try_bind]
    CHECK(why.empty());
}

TEST_CASE("guide: DDL from a model") {
    // [ddl]
    cql::table_definition def = cql::table_definition_of<zoo::animal>();
    std::string create = def.create_table_cql();
    // [ddl]
    CHECK(def.errors.empty());
    CHECK(create ==
          "CREATE TABLE IF NOT EXISTS zoo.animals (genus text, species text, size_cm float, "
          "taxonomy list<text>, PRIMARY KEY ((genus), species)) WITH CLUSTERING ORDER BY "
          "(species DESC)");
}
