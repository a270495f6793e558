// Values bound to a prepared statement are checked against the types of its markers (as the
// server described them in PREPARED): what does not fit fails at bind time with a message
// naming the marker, its CQL type and the C++ type; integers and floats that fit are sent
// as the marker's type.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cql/prepared.hpp"

using namespace cql;
namespace p = cql::protocol;
using p::data_type;
using p::type_id;

namespace {

prepared_statement make_prepared(std::vector<std::pair<std::string, data_type>> markers) {
    auto info = std::make_shared<prepared_info>();
    info->query = "INSERT ...";
    for (auto& [name, type] : markers)
        info->variables.push_back({"ks", "t", name, type});
    return prepared_statement(info);
}

// The bytes of the value bound for marker i.
p::byte_buffer cell(const bound_statement& b, std::size_t i) {
    auto v = b.settings().values().at(i);
    return {v.data.begin(), v.data.end()};
}

const prepared_statement users = make_prepared({
    {"id", data_type(type_id::bigint)},
    {"name", data_type(type_id::varchar)},
    {"age", data_type(type_id::tinyint)},
    {"tags", p::list_of(data_type(type_id::varchar))},
    {"score", data_type(type_id::float_)},
    {"code", data_type(type_id::ascii)},
});

}  // namespace

TEST_CASE("values that fit their markers bind, integers widened or narrowed to the marker") {
    auto b = users.bind(43, "ada", 36, std::vector<std::string>{"x"}, 1.5, "A1");
    REQUIRE_FALSE(b.settings().bind_error());
    CHECK(b.settings().bind_error_message().empty());
    CHECK(cell(b, 0) == p::byte_buffer{0, 0, 0, 0, 0, 0, 0, 43});  // an int sent as bigint
    CHECK(cell(b, 2) == p::byte_buffer{36});                       // as tinyint
    CHECK(cell(b, 4) == p::byte_buffer{0x3F, 0xC0, 0, 0});         // 1.5 as float
    // long long, short, std::optional and null bind too.
    auto c = users.bind(42LL, std::optional<std::string>{}, short{7}, null, 2.0f, unset);
    CHECK_FALSE(c.settings().bind_error());
    CHECK(cell(c, 0) == p::byte_buffer{0, 0, 0, 0, 0, 0, 0, 42});
    CHECK(c.settings().values()[1].is_null());
    CHECK(cell(c, 2) == p::byte_buffer{7});
}

TEST_CASE("a value of the wrong type names the marker, its CQL type and the C++ type") {
    auto b = users.bind("43", "ada", 36, std::vector<std::string>{}, 1.5f, "A");
    CHECK(b.settings().bind_error() == errc::bad_bind_value);
    CHECK(b.settings().bind_error_message() ==
          "bind marker 1 (\"id\", bigint): a string cannot be bound to it");

    auto s = users.bind(1, std::string("ada"), 36, std::vector<int>{1}, 1.5f, "A");
    CHECK(
        s.settings().bind_error_message() ==
        "bind marker 4 (\"tags\", list<text>): a std::vector<std::int32_t> cannot be bound to it");

    auto r = users.bind(1, "ada", 300, std::vector<std::string>{}, 1.5f, "A");
    CHECK(r.settings().bind_error_message() ==
          "bind marker 3 (\"age\", tinyint): 300 is out of its range");

    auto f = users.bind(1, "ada", 3, std::vector<std::string>{}, 0.1, "A");
    CHECK(f.settings().bind_error_message() ==
          "bind marker 5 (\"score\", float): 0.1 is not exactly a float: bind a float");

    auto a = users.bind(1, "ada", 3, std::vector<std::string>{}, 1.0f, "caf\xc3\xa9");
    CHECK(a.settings().bind_error_message() ==
          "bind marker 6 (\"code\", ascii): the string is not ASCII (7-bit characters only)");

    // The first failure is kept; the values after it keep their positions.
    auto two = users.bind(std::string("x"), 1, 36);
    CHECK(two.settings().bind_error_message().starts_with("bind marker 1 "));
    CHECK(two.settings().value_count() == 3);
}

TEST_CASE("named values are checked against the marker of that name") {
    auto b = bound_statement(users.info());
    b.bind("age", 1000);
    CHECK(b.settings().bind_error_message() ==
          "bind marker 3 (\"age\", tinyint): 1000 is out of its range");
    auto ok = bound_statement(users.info());
    ok.bind("id", 5).bind("name", std::string("x")).bind("nobody", 1);  // unknown: the server's
    CHECK_FALSE(ok.settings().bind_error());
    CHECK(ok.settings().names() == std::vector<std::string_view>{"id", "name", "nobody"});
}

TEST_CASE("collections, tuples and maps are checked element by element") {
    const auto m = make_prepared({
        {"m", p::map_of(data_type(type_id::varchar), data_type(type_id::int_))},
        {"t", p::tuple_of({data_type(type_id::int_), data_type(type_id::varchar)})},
    });
    auto ok = m.bind(std::map<std::string, std::int32_t>{{"a", 1}},
                     std::tuple<std::int32_t, std::string>{1, "x"});
    CHECK_FALSE(ok.settings().bind_error());
    auto bad = m.bind(std::map<std::string, std::int64_t>{{"a", 1}},
                      std::tuple<std::int32_t, std::string>{1, "x"});
    CHECK(bad.settings().bind_error_message() ==
          "bind marker 1 (\"m\", map<text, int>): a std::map<std::string, std::int64_t> cannot "
          "be bound to it");
    auto tuple = m.bind(std::map<std::string, std::int32_t>{}, std::tuple<std::int32_t>{1});
    CHECK(tuple.settings().bind_error_message().starts_with("bind marker 2 (\"t\", "));
}

TEST_CASE("simple statements: a value the codec refuses names its position") {
    statement s("INSERT ...", 1, p::cql_time{-1});
    CHECK(s.bind_error() == errc::bad_bind_value);
    CHECK(s.bind_error_message() ==
          "value 2: this cql::time_of_day cannot be encoded (outside what its CQL type can hold)");
    statement n("UPDATE ...");
    n.bind("v", 1).bind(2);
    CHECK(n.bind_error_message() == "a positional value after named ones");
    n.clear_values();
    CHECK(n.bind_error_message().empty());
}
