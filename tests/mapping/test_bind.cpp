// Structs bound to prepared statements by marker name, user types written in the order of
// the server's fields, and the errors of a binding that cannot work.
#include <catch2/catch.hpp>

#include <boost/describe/class.hpp>

#include "cql/mapping.hpp"
#include "people.hpp"
#include "result_builder.hpp"

namespace p = cql::protocol;
using mapping_test::udt;

namespace {
cql::prepared_statement prepared(std::vector<std::pair<std::string, p::data_type>> markers) {
    auto info = std::make_shared<cql::prepared_info>();
    info->query = "test";
    for (auto& [n, t] : markers)
        info->variables.push_back({"ks", "t", n, t});
    return cql::prepared_statement(info);
}

p::byte_buffer cell_of(const cql::bound_statement& b, std::size_t i) {
    auto v = b.settings().values().at(i);
    return p::byte_buffer(v.data.begin(), v.data.end());
}

template <class T>
p::byte_buffer encoded(const T& v) {
    p::byte_buffer out;
    p::byte_writer w(out);
    REQUIRE_FALSE(cql::values::encode(w, v));
    return out;
}
}  // namespace

TEST_CASE("bind(struct) fills markers by name, in the statement's order") {
    // The server's user type lists zip before street (fields added in another order).
    auto addr = udt("address", {{"zip", p::data_type(p::type_id::int_)},
                                {"street", p::data_type(p::type_id::varchar)}});
    auto ps = prepared({{"name", p::data_type(p::type_id::varchar)},
                        {"home", addr},
                        {"id", p::data_type(p::type_id::int_)}});
    app::person ada{7, "ada", std::nullopt, {}, app::address{"Main St", 1000}};
    auto b = ps.bind(ada);
    REQUIRE_FALSE(b.settings().bind_error());
    REQUIRE(b.settings().value_count() == 3);
    CHECK(cell_of(b, 0) == encoded(std::string("ada")));
    CHECK(cell_of(b, 1) == encoded(std::tuple<std::int32_t, std::string>{1000, "Main St"}));
    CHECK(cell_of(b, 2) == encoded(std::int32_t{7}));

    app::person nobody{8, "bob", std::nullopt, {}, std::nullopt};
    auto nb = ps.bind(nobody);
    REQUIRE(nb.settings().value_count() == 3);
    CHECK(nb.settings().values()[1].state == p::value_view::kind::null);
}

TEST_CASE("a key alone: markers of a WHERE clause") {
    auto ps = prepared({{"id", p::data_type(p::type_id::int_)}});
    app::person ada{7, "ada", std::nullopt, {}, std::nullopt};
    auto b = ps.bind(ada);
    REQUIRE(b.settings().value_count() == 1);
    CHECK(cell_of(b, 0) == encoded(std::int32_t{7}));
}

TEST_CASE("bind errors name the marker and the member") {
    app::person ada{7, "ada", std::nullopt, {}, std::nullopt};
    cql::bound_statement b;
    std::string why;
    SECTION("a marker without a member") {
        auto ps = prepared(
            {{"id", p::data_type(p::type_id::int_)}, {"age", p::data_type(p::type_id::int_)}});
        CHECK(cql::try_bind(ps, ada, b, &why) == cql::mapping_errc::unmatched_marker);
        CHECK(why ==
              "cql mapping: bind marker 'age' (CQL int) of the statement has no member in "
              "app::person");
        // bind() leaves the marker unbound: executing fails with bad_bind_value, unsent.
        CHECK(ps.bind(ada).settings().value_count() == 1);
    }
    SECTION("a marker of another type") {
        auto ps = prepared({{"id", p::data_type(p::type_id::bigint)}});
        CHECK(cql::try_bind(ps, ada, b, &why) == cql::mapping_errc::type_mismatch);
        CHECK(why ==
              "cql mapping: member 'id' of app::person (C++ int) cannot hold bind marker "
              "'id' (CQL bigint)");
    }
}

TEST_CASE("statement::bind(struct) writes a user type in member order") {
    cql::statement s("INSERT INTO ks.t (a) VALUES (?)", app::address{"Main St", std::nullopt});
    REQUIRE_FALSE(s.bind_error());
    p::byte_buffer expected =
        encoded(std::tuple<std::string, std::optional<std::int32_t>>{"Main St", std::nullopt});
    auto v = s.values().at(0);
    CHECK(p::byte_buffer(v.data.begin(), v.data.end()) == expected);
}
