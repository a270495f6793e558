// Rows read into structs: by name (BOOST_DESCRIBE_STRUCT) and by position (plain
// aggregates), nested user types, optionals, and the errors that name the member, the
// column and both types.
#include <catch2/catch.hpp>

#include <boost/describe/class.hpp>

#include "cql/mapping.hpp"
#include "people.hpp"
#include "result_builder.hpp"

namespace p = cql::protocol;
using mapping_test::rows_builder;
using mapping_test::udt;

namespace app {

struct renamed {
    std::int32_t id;
    std::string display_name;
};
BOOST_DESCRIBE_STRUCT(renamed, (), (id, display_name))
inline void cql_model(cql::model<renamed>& m) {
    m.column(&renamed::display_name, "name");
}

struct point {  // no description: by position
    std::int32_t x;
    std::int32_t y;
};
}  // namespace app

namespace {
p::data_type address_type() {
    return udt("address", {{"street", p::data_type(p::type_id::varchar)},
                           {"zip", p::data_type(p::type_id::int_)}});
}

cql::result people() {
    rows_builder b;
    b.column("id", p::data_type(p::type_id::int_))
        .column("name", p::data_type(p::type_id::varchar))
        .column("score", p::data_type(p::type_id::double_))
        .column("addresses", p::list_of(address_type()))
        .column("home", address_type());
    b.cell(std::int32_t{1})
        .cell(std::string("ada"))
        .cell(2.5)
        .cell(std::vector<app::address>{{"Main St", 1000}, {"Side St", std::nullopt}})
        .cell(app::address{"Home St", 42});
    b.cell(std::int32_t{2}).cell(std::string("bob")).null().null().null();
    return b.build();
}
}  // namespace

TEST_CASE("rows_of: described structs by name, nested user types, optionals") {
    auto r = people();
    auto rows = cql::rows_of<app::person>(r);
    REQUIRE_FALSE(rows.error());
    auto v = rows.to_vector();
    REQUIRE(v.size() == 2);
    CHECK(v[0].id == 1);
    CHECK(v[0].name == "ada");
    CHECK(v[0].score == 2.5);
    REQUIRE(v[0].addresses.size() == 2);
    CHECK(v[0].addresses[0].street == "Main St");
    CHECK(v[0].addresses[0].zip == 1000);
    CHECK(v[0].addresses[1].zip == std::nullopt);
    REQUIRE(v[0].home);
    CHECK(v[0].home->zip == 42);
    CHECK(v[1].name == "bob");
    CHECK_FALSE(v[1].score);
    CHECK(v[1].addresses.empty());  // a null list reads as an empty one
    CHECK_FALSE(v[1].home);

    app::person one = r.front().as<app::person>();
    CHECK(one.name == "ada");
}

TEST_CASE("columns in another order, renames, positional aggregates") {
    rows_builder b;
    b.column("name", p::data_type(p::type_id::varchar))
        .column("id", p::data_type(p::type_id::int_));
    b.cell(std::string("x")).cell(std::int32_t{7});
    auto r = b.build();
    auto one = r.front().as<app::renamed>();
    CHECK(one.id == 7);
    CHECK(one.display_name == "x");

    rows_builder pb;
    pb.column("a", p::data_type(p::type_id::int_)).column("b", p::data_type(p::type_id::int_));
    pb.cell(std::int32_t{3}).cell(std::int32_t{4});
    auto pr = pb.build();
    auto pt = pr.front().as<app::point>();
    CHECK(pt.x == 3);
    CHECK(pt.y == 4);
}

TEST_CASE("mapping errors name the member, the column and both types") {
    SECTION("a type mismatch") {
        rows_builder b;
        b.column("id", p::data_type(p::type_id::bigint))
            .column("name", p::data_type(p::type_id::varchar));
        b.cell(std::int64_t{1}).cell(std::string("x"));
        auto r = b.build();
        auto rows = cql::rows_of<app::renamed>(r);
        CHECK(rows.error() == cql::mapping_errc::type_mismatch);
        CHECK(rows.error_message() ==
              "cql mapping: member 'id' of app::renamed (C++ int) cannot hold column 'id' (CQL "
              "bigint)");
        CHECK_THROWS_WITH(r.front().as<app::renamed>(), Catch::Contains("cannot hold column 'id'"));
    }
    SECTION("a missing column") {
        rows_builder b;
        b.column("id", p::data_type(p::type_id::int_));
        b.cell(std::int32_t{1});
        auto r = b.build();
        app::renamed out;
        std::string why;
        CHECK(cql::try_read(r.front(), out, &why) == cql::mapping_errc::missing_column);
        CHECK(why ==
              "cql mapping: member 'display_name' of app::renamed has no column 'name' in the "
              "result (columns: id)");
    }
    SECTION("an extra column") {
        rows_builder b;
        b.column("id", p::data_type(p::type_id::int_))
            .column("name", p::data_type(p::type_id::varchar))
            .column("extra", p::data_type(p::type_id::boolean));
        b.cell(std::int32_t{1}).cell(std::string("x")).cell(true);
        auto r = b.build();
        auto rows = cql::rows_of<app::renamed>(r);
        CHECK(rows.error() == cql::mapping_errc::extra_column);
        CHECK(rows.error_message() ==
              "cql mapping: column 'extra' (CQL boolean) of the result has no member in "
              "app::renamed");
    }
    SECTION("a null into a member that is not optional") {
        rows_builder b;
        b.column("id", p::data_type(p::type_id::int_))
            .column("name", p::data_type(p::type_id::varchar));
        b.cell(std::int32_t{1}).null();
        auto r = b.build();
        app::renamed out;
        std::string why;
        CHECK(cql::try_read(r.front(), out, &why) == cql::mapping_errc::null_value);
        CHECK(why ==
              "cql mapping: column 'name' is null but member 'display_name' of app::renamed "
              "(std::string) is not optional");
    }
    SECTION("a UDT field without a member") {
        rows_builder b;
        auto t = udt("address", {{"street", p::data_type(p::type_id::varchar)},
                                 {"zip", p::data_type(p::type_id::int_)},
                                 {"country", p::data_type(p::type_id::varchar)}});
        b.column("id", p::data_type(p::type_id::int_))
            .column("name", p::data_type(p::type_id::varchar))
            .column("score", p::data_type(p::type_id::double_))
            .column("addresses", p::list_of(t))
            .column("home", t);
        b.cell(std::int32_t{1}).cell(std::string("x")).null().null().null();
        auto r = b.build();
        auto rows = cql::rows_of<app::person>(r);
        CHECK(rows.error() == cql::mapping_errc::type_mismatch);
        CHECK(rows.error_message() ==
              "cql mapping: member 'addresses' of app::person (C++ std::vector<app::address>) "
              "cannot hold column 'addresses' (CQL list<frozen<address>>): field 'country' of "
              "user type address has no member in struct app::address");
    }
}

TEST_CASE("a user type value written before a field was added reads the field as null") {
    // address had only "street" when this value was written; "zip" was added later.
    p::byte_buffer cell;
    p::byte_writer w(cell);
    REQUIRE_FALSE(cql::values::encode(w, std::tuple<std::string>{"Old St"}));
    app::address a;
    REQUIRE_FALSE(cql::values::decode(&*std::make_unique<p::data_type>(address_type()),
                                      p::bytes_view(cell), a));
    CHECK(a.street == "Old St");
    CHECK_FALSE(a.zip);
}
