// Type options (native_protocol_v5.spec section 4.2.5.2), marshal class names and CQL
// type syntax.
#include <catch2/catch.hpp>

#include "cql/protocol/types.hpp"

using namespace cql::protocol;

namespace {
byte_buffer bytes_of(std::initializer_list<int> v) {
    byte_buffer out;
    for (int b : v)
        out.push_back(static_cast<std::uint8_t>(b));
    return out;
}
void append_string(byte_buffer& b, std::string_view s) {
    b.push_back(static_cast<std::uint8_t>(s.size() >> 8));
    b.push_back(static_cast<std::uint8_t>(s.size()));
    b.insert(b.end(), s.begin(), s.end());
}
data_type read_all(const byte_buffer& in, std::error_code& ec) {
    byte_reader r(in);
    data_type t;
    read_type_option(r, t);
    ec = r.finish();
    return t;
}
byte_buffer write(const data_type& t) {
    byte_buffer out;
    byte_writer w(out);
    write_type_option(w, t);
    return out;
}
data_type ty(std::string_view s) {
    data_type t;
    auto ec = parse_cql_type(s, t);
    INFO(s);
    REQUIRE(ec == std::error_code{});
    return t;
}
constexpr std::string_view M = "org.apache.cassandra.db.marshal.";
std::string m(std::string_view s) {
    return std::string(M) + std::string(s);
}
}  // namespace

TEST_CASE("native type options are a bare [short] id") {
    const std::pair<int, type_id> ids[] = {
        {0x0001, type_id::ascii},     {0x0002, type_id::bigint},   {0x0003, type_id::blob},
        {0x0004, type_id::boolean},   {0x0005, type_id::counter},  {0x0006, type_id::decimal},
        {0x0007, type_id::double_},   {0x0008, type_id::float_},   {0x0009, type_id::int_},
        {0x000B, type_id::timestamp}, {0x000C, type_id::uuid},     {0x000D, type_id::varchar},
        {0x000E, type_id::varint},    {0x000F, type_id::timeuuid}, {0x0010, type_id::inet},
        {0x0011, type_id::date},      {0x0012, type_id::time},     {0x0013, type_id::smallint},
        {0x0014, type_id::tinyint},   {0x0015, type_id::duration},
    };
    for (auto [id, t] : ids) {
        auto in = bytes_of({id >> 8, id & 0xFF});
        std::error_code ec;
        auto got = read_all(in, ec);
        CHECK(ec == std::error_code{});
        CHECK(got == data_type(t));
        CHECK(write(got) == in);
    }
}

TEST_CASE("unknown type option ids are rejected") {
    for (int id : {0x000A, 0x0016, 0x0023, 0x0032, 0xFFFF}) {
        std::error_code ec;
        read_all(bytes_of({id >> 8, id & 0xFF}), ec);
        CHECK(ec == codec_errc::unknown_type);
    }
}

TEST_CASE("list, set and map options carry their element options") {
    std::error_code ec;
    // map<text, list<int>>
    auto in = bytes_of({0x00, 0x21, 0x00, 0x0D, 0x00, 0x20, 0x00, 0x09});
    auto t = read_all(in, ec);
    REQUIRE(ec == std::error_code{});
    CHECK(t == map_of(data_type(type_id::varchar), list_of(data_type(type_id::int_))));
    CHECK(write(t) == in);

    auto set_in = bytes_of({0x00, 0x22, 0x00, 0x03});
    CHECK(read_all(set_in, ec) == set_of(data_type(type_id::blob)));
    CHECK(write(set_of(data_type(type_id::blob))) == set_in);

    // Truncated: map with only a key type.
    read_all(bytes_of({0x00, 0x21, 0x00, 0x0D}), ec);
    CHECK(ec == codec_errc::truncated);
}

TEST_CASE("UDT option: keyspace, name, n fields of (name, option)") {
    byte_buffer in = bytes_of({0x00, 0x30});
    append_string(in, "ks");
    append_string(in, "addr");
    in.push_back(0x00);
    in.push_back(0x02);
    append_string(in, "street");
    in.push_back(0x00);
    in.push_back(0x0D);
    append_string(in, "zip");
    in.push_back(0x00);
    in.push_back(0x09);
    std::error_code ec;
    auto t = read_all(in, ec);
    REQUIRE(ec == std::error_code{});
    CHECK(t.id == type_id::udt);
    CHECK(t.keyspace == "ks");
    CHECK(t.name == "addr");
    CHECK(t.field_names == std::vector<std::string>{"street", "zip"});
    CHECK(t.params ==
          std::vector<data_type>{data_type(type_id::varchar), data_type(type_id::int_)});
    CHECK(write(t) == in);

    // A field count far beyond the input fails without allocating for it.
    byte_buffer bad = bytes_of({0x00, 0x30, 0x00, 0x01, 'k', 0x00, 0x01, 'n', 0xFF, 0xFF});
    read_all(bad, ec);
    CHECK(ec == codec_errc::truncated);
}

TEST_CASE("tuple option: n then n options") {
    auto in = bytes_of({0x00, 0x31, 0x00, 0x02, 0x00, 0x09, 0x00, 0x0D});
    std::error_code ec;
    auto t = read_all(in, ec);
    REQUIRE(ec == std::error_code{});
    CHECK(t == tuple_of({data_type(type_id::int_), data_type(type_id::varchar)}));
    CHECK(write(t) == in);
    read_all(bytes_of({0x00, 0x31, 0x7F, 0xFF, 0x00, 0x09}), ec);
    CHECK(ec == codec_errc::truncated);
}

TEST_CASE("custom option keeps the class; VectorType becomes a vector") {
    std::error_code ec;
    byte_buffer in = bytes_of({0x00, 0x00});
    append_string(in, m("DurationType"));
    auto t = read_all(in, ec);
    REQUIRE(ec == std::error_code{});
    CHECK(t.id == type_id::custom);
    CHECK(t.custom_class == m("DurationType"));
    CHECK(write(t) == in);

    std::string cls = m("VectorType(") + m("FloatType , 3)");
    byte_buffer vin = bytes_of({0x00, 0x00});
    append_string(vin, cls);
    auto v = read_all(vin, ec);
    REQUIRE(ec == std::error_code{});
    CHECK(v.id == type_id::vector);
    CHECK(v.dimension == 3);
    REQUIRE(v.params.size() == 1);
    CHECK(v.params[0] == data_type(type_id::float_));
    CHECK(v.custom_class == cls);
    CHECK(write(v) == vin);
    CHECK(v == vector_of(data_type(type_id::float_), 3));

    // An unusual spelling is kept byte for byte.
    std::string odd = "VectorType(UTF8Type,2)";
    byte_buffer oin = bytes_of({0x00, 0x00});
    append_string(oin, odd);
    auto o = read_all(oin, ec);
    REQUIRE(ec == std::error_code{});
    CHECK(o.id == type_id::vector);
    CHECK(o.params[0] == data_type(type_id::varchar));
    CHECK(o.dimension == 2);
    CHECK(write(o) == oin);
}

TEST_CASE("type options nested too deeply are rejected") {
    byte_buffer in;
    for (int i = 0; i < 100; ++i) {
        in.push_back(0x00);
        in.push_back(0x20);
    }
    in.push_back(0x00);
    in.push_back(0x09);
    std::error_code ec;
    read_all(in, ec);
    CHECK(ec == codec_errc::type_nesting_too_deep);

    // Exactly at the limit is fine.
    byte_buffer ok;
    for (int i = 0; i < max_type_depth - 1; ++i) {
        ok.push_back(0x00);
        ok.push_back(0x20);
    }
    ok.push_back(0x00);
    ok.push_back(0x09);
    read_all(ok, ec);
    CHECK(ec == std::error_code{});
}

TEST_CASE("marshal class names of native types") {
    const std::pair<std::string_view, type_id> names[] = {
        {"AsciiType", type_id::ascii},
        {"LongType", type_id::bigint},
        {"BytesType", type_id::blob},
        {"BooleanType", type_id::boolean},
        {"CounterColumnType", type_id::counter},
        {"DecimalType", type_id::decimal},
        {"DoubleType", type_id::double_},
        {"FloatType", type_id::float_},
        {"Int32Type", type_id::int_},
        {"TimestampType", type_id::timestamp},
        {"UUIDType", type_id::uuid},
        {"UTF8Type", type_id::varchar},
        {"IntegerType", type_id::varint},
        {"TimeUUIDType", type_id::timeuuid},
        {"InetAddressType", type_id::inet},
        {"SimpleDateType", type_id::date},
        {"TimeType", type_id::time},
        {"ShortType", type_id::smallint},
        {"ByteType", type_id::tinyint},
        {"DurationType", type_id::duration},
    };
    for (auto [name, id] : names) {
        data_type t;
        CHECK(parse_marshal_class(m(name), t) == std::error_code{});
        CHECK(t == data_type(id));
        CHECK(to_marshal_class(data_type(id)) == m(name));
        // Short names are accepted as well.
        CHECK(parse_marshal_class(name, t) == std::error_code{});
        CHECK(t == data_type(id));
    }
}

TEST_CASE("marshal class names of composite types") {
    data_type t;
    REQUIRE(parse_marshal_class(m("MapType(") + m("UTF8Type,") + m("ListType(") + m("Int32Type))"),
                                t) == std::error_code{});
    CHECK(t == map_of(data_type(type_id::varchar), list_of(data_type(type_id::int_))));

    REQUIRE(parse_marshal_class(m("FrozenType(") + m("SetType(") + m("UUIDType))"), t) ==
            std::error_code{});
    auto frozen_set = set_of(data_type(type_id::uuid));
    frozen_set.frozen = true;
    CHECK(t == frozen_set);
    CHECK(to_marshal_class(frozen_set) == m("FrozenType(") + m("SetType(") + m("UUIDType))"));

    REQUIRE(parse_marshal_class(m("ReversedType(") + m("TimestampType)"), t) == std::error_code{});
    CHECK(t == data_type(type_id::timestamp));

    REQUIRE(parse_marshal_class(m("TupleType(") + m("Int32Type,") + m("UTF8Type)"), t) ==
            std::error_code{});
    CHECK(t == tuple_of({data_type(type_id::int_), data_type(type_id::varchar)}));
    CHECK(to_marshal_class(t) == m("TupleType(") + m("Int32Type,") + m("UTF8Type)"));

    // UserType(keyspace, hex(name), hex(field):type, ...): "addr", "street", "zip".
    std::string udt =
        m("UserType(ks,61646472,737472656574:") + m("UTF8Type,7a6970:") + m("Int32Type)");
    REQUIRE(parse_marshal_class(udt, t) == std::error_code{});
    CHECK(t.id == type_id::udt);
    CHECK(t.keyspace == "ks");
    CHECK(t.name == "addr");
    CHECK(t.field_names == std::vector<std::string>{"street", "zip"});
    CHECK(t.params ==
          std::vector<data_type>{data_type(type_id::varchar), data_type(type_id::int_)});
    CHECK(to_marshal_class(t) == udt);

    std::string vec = m("VectorType(") + m("FloatType , 3)");
    REQUIRE(parse_marshal_class(vec, t) == std::error_code{});
    CHECK(t == vector_of(data_type(type_id::float_), 3));
    CHECK(to_marshal_class(t) == vec);

    // Nested collections are frozen; the marker is written once, outermost.
    CHECK(to_marshal_class(list_of(list_of(data_type(type_id::int_)))) ==
          m("ListType(") + m("FrozenType(") + m("ListType(") + m("Int32Type)))"));
    auto frozen_nested = list_of(list_of(data_type(type_id::int_)));
    frozen_nested.frozen = true;
    CHECK(to_marshal_class(frozen_nested) ==
          m("FrozenType(") + m("ListType(") + m("ListType(") + m("Int32Type)))"));
    CHECK(to_marshal_class(vector_of(list_of(data_type(type_id::int_)), 2)) ==
          m("VectorType(") + m("FrozenType(") + m("ListType(") + m("Int32Type)) , 2)"));
    // Tuples are never wrapped and their components never carry the marker.
    CHECK(to_marshal_class(tuple_of({list_of(data_type(type_id::int_))})) ==
          m("TupleType(") + m("ListType(") + m("Int32Type))"));
    REQUIRE(parse_marshal_class(to_marshal_class(frozen_nested), t) == std::error_code{});
    CHECK(to_marshal_class(t) == to_marshal_class(frozen_nested));

    // A class we do not know stays custom with its parameters.
    std::string comp = m("CompositeType(") + m("Int32Type,") + m("UTF8Type)");
    REQUIRE(parse_marshal_class(comp, t) == std::error_code{});
    CHECK(t.id == type_id::custom);
    CHECK(t.custom_class == comp);
    REQUIRE(parse_marshal_class("com.example.MyType", t) == std::error_code{});
    CHECK(t.id == type_id::custom);
    CHECK(to_marshal_class(t) == "com.example.MyType");
}

TEST_CASE("malformed marshal class names") {
    data_type t;
    for (std::string_view bad :
         {"", "ListType(", "ListType(Int32Type", "MapType(Int32Type)", "VectorType(FloatType,0)",
          "VectorType(FloatType,x)", "UserType(ks,zz)", "UserType(ks,61,62Int32Type)", "Int32Type)",
          "CompositeType(Int32Type"}) {
        INFO(bad);
        CHECK(parse_marshal_class(bad, t) != std::error_code{});
    }
    std::string deep;
    for (int i = 0; i < 50; ++i)
        deep += "ListType(";
    deep += "Int32Type";
    deep += std::string(50, ')');
    CHECK(parse_marshal_class(deep, t) == codec_errc::type_nesting_too_deep);
}

TEST_CASE("CQL type syntax as written in system_schema") {
    for (std::string_view s : {"ascii",
                               "bigint",
                               "blob",
                               "boolean",
                               "counter",
                               "date",
                               "decimal",
                               "double",
                               "duration",
                               "float",
                               "inet",
                               "int",
                               "smallint",
                               "text",
                               "time",
                               "timestamp",
                               "timeuuid",
                               "tinyint",
                               "uuid",
                               "varint",
                               "list<int>",
                               "set<text>",
                               "map<text, int>",
                               "frozen<list<text>>",
                               "frozen<map<text, blob>>",
                               "frozen<tuple<int, text>>",
                               "frozen<addr>",
                               "map<uuid, frozen<set<text>>>",
                               "vector<float, 3>",
                               "list<vector<int, 2>>",
                               "vector<frozen<list<int>>, 2>",
                               "frozen<list<frozen<list<int>>>>",
                               "\"MyType\"",
                               "'com.example.MyType'"}) {
        INFO(s);
        CHECK(to_cql_string(ty(s)) == s);
    }
    CHECK(ty("map<text, int>") == map_of(data_type(type_id::varchar), data_type(type_id::int_)));
    CHECK(ty("varchar") == data_type(type_id::varchar));
    CHECK(to_cql_string(ty(" MAP < TEXT , INT > ")) == "map<text, int>");
    // Written the way Cassandra writes system_schema: tuples are always frozen, nested
    // collections are always frozen, vectors never print frozen<>.
    CHECK(to_cql_string(ty("tuple<int,text>")) == "frozen<tuple<int, text>>");
    CHECK(to_cql_string(ty("frozen<list<list<int>>>")) == "frozen<list<frozen<list<int>>>>");
    CHECK(to_cql_string(ty("list<frozen<vector<int, 2>>>")) == "list<vector<int, 2>>");
    CHECK(to_cql_string(list_of(set_of(data_type(type_id::int_)))) == "list<frozen<set<int>>>");
    auto addr = ty("frozen<addr>");
    CHECK(addr.id == type_id::udt);
    CHECK(addr.name == "addr");
    CHECK(addr.frozen);
    auto q = ty("ks.\"My\"\"T\"");
    CHECK(q.keyspace == "ks");
    CHECK(q.name == "My\"T");
    auto v = ty("vector<float, 3>");
    CHECK(v == vector_of(data_type(type_id::float_), 3));
    CHECK(ty("'org.apache.cassandra.db.marshal.Int32Type'") == data_type(type_id::int_));

    data_type t;
    for (std::string_view bad :
         {"", "list<", "list<int", "map<int>", "list<int, int>", "vector<float>",
          "vector<float, 0>", "frozen<int", "int int", "1abc"}) {
        INFO(bad);
        CHECK(parse_cql_type(bad, t) != std::error_code{});
    }
}

TEST_CASE("custom types naming a known class resolve to it") {
    data_type d(type_id::custom);
    d.custom_class = m("DurationType");
    CHECK(resolve_custom(d) == data_type(type_id::duration));
    data_type v(type_id::custom);
    v.custom_class = m("VectorType(") + m("FloatType , 3)");
    CHECK(resolve_custom(v) == vector_of(data_type(type_id::float_), 3));
    data_type other(type_id::custom);
    other.custom_class = "com.example.X";
    CHECK(resolve_custom(other) == other);
    CHECK(resolve_custom(data_type(type_id::int_)) == data_type(type_id::int_));
}

TEST_CASE("fixed value sizes and collections") {
    CHECK(fixed_value_size(data_type(type_id::int_)) == 4);
    CHECK(fixed_value_size(data_type(type_id::bigint)) == 8);
    CHECK(fixed_value_size(data_type(type_id::uuid)) == 16);
    CHECK(fixed_value_size(data_type(type_id::boolean)) == 1);
    CHECK(fixed_value_size(data_type(type_id::date)) == 4);
    CHECK(fixed_value_size(data_type(type_id::time)) == 8);
    CHECK(fixed_value_size(data_type(type_id::varchar)) == 0);
    CHECK(fixed_value_size(data_type(type_id::varint)) == 0);
    CHECK(fixed_value_size(data_type(type_id::duration)) == 0);
    CHECK(fixed_value_size(vector_of(data_type(type_id::float_), 3)) == 12);
    CHECK(fixed_value_size(vector_of(data_type(type_id::varchar), 3)) == 0);
    CHECK(is_collection(list_of(data_type(type_id::int_))));
    CHECK(is_collection(map_of(data_type(type_id::int_), data_type(type_id::int_))));
    CHECK_FALSE(is_collection(tuple_of({data_type(type_id::int_)})));
    CHECK_FALSE(is_collection(vector_of(data_type(type_id::float_), 2)));
}
