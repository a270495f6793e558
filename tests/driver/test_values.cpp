// cql::values: composite codecs (collections, tuples/UDTs, vectors) checked against column
// types, without a server.
#include <catch2/catch.hpp>

#include "cql/statement.hpp"
#include "cql/values.hpp"

namespace p = cql::protocol;
namespace v = cql::values;

namespace {
template <class T>
p::byte_buffer enc(const T& x) {
    p::byte_buffer out;
    p::byte_writer w(out);
    REQUIRE_FALSE(v::encode(w, x));
    return out;
}
}  // namespace

TEST_CASE("list, set, map: wire form and typed decoding") {
    auto b = enc(std::vector<std::int32_t>{1, 2});
    CHECK(b == p::byte_buffer{0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2});
    auto lt = p::list_of(p::data_type(p::type_id::int_));
    std::vector<std::int32_t> l;
    REQUIRE_FALSE(v::decode(&lt, b, l));
    CHECK(l == std::vector<std::int32_t>{1, 2});
    std::set<std::int32_t> s;  // a list column reads into a set too
    REQUIRE_FALSE(v::decode(&lt, b, s));
    std::vector<std::int64_t> wide;
    CHECK(v::decode(&lt, b, wide) == p::codec_errc::value_type_mismatch);
    auto mt = p::map_of(p::data_type(p::type_id::varchar), p::data_type(p::type_id::int_));
    std::map<std::string, std::int32_t> m;
    CHECK(v::decode(&lt, b, m) == p::codec_errc::value_type_mismatch);
    auto mb = enc(std::map<std::string, std::int32_t>{{"a", 1}});
    REQUIRE_FALSE(v::decode(&mt, mb, m));
    CHECK(m.at("a") == 1);
    // std::vector<std::uint8_t> stays a blob
    CHECK(enc(p::byte_buffer{1, 2}) == p::byte_buffer{1, 2});
    // a null element (length -1) does not fit a plain element type
    p::byte_buffer with_null = {0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF};
    CHECK(v::decode(&lt, with_null, l) == p::codec_errc::value_type_mismatch);
    // trailing bytes are an error
    auto extra = b;
    extra.push_back(0);
    CHECK(v::decode(&lt, extra, l) == p::codec_errc::value_type_mismatch);
}

TEST_CASE("tuples and UDTs: null fields, fields added later") {
    std::tuple<std::int32_t, std::optional<std::string>> t{5, std::nullopt};
    auto b = enc(t);
    CHECK(b == p::byte_buffer{0, 0, 0, 4, 0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF});
    auto tt = p::tuple_of({p::data_type(p::type_id::int_), p::data_type(p::type_id::varchar)});
    std::tuple<std::int32_t, std::optional<std::string>> back{0, "x"};
    REQUIRE_FALSE(v::decode(&tt, b, back));
    CHECK(back == t);
    // a UDT with a third field the stored value predates: read as null
    p::data_type udt(p::type_id::udt);
    udt.params = {p::data_type(p::type_id::int_), p::data_type(p::type_id::varchar),
                  p::data_type(p::type_id::int_)};
    udt.field_names = {"a", "b", "c"};
    std::tuple<std::int32_t, std::optional<std::string>, std::optional<std::int32_t>> u3{0, "", 9};
    REQUIRE_FALSE(v::decode(&udt, b, u3));
    CHECK_FALSE(std::get<2>(u3));
    std::tuple<std::int32_t, std::optional<std::string>, std::int32_t> plain3{};
    CHECK(v::decode(&udt, b, plain3) == p::codec_errc::value_type_mismatch);
    // arity must match the type
    std::tuple<std::int32_t> one{};
    CHECK(v::decode(&tt, b, one) == p::codec_errc::value_type_mismatch);
}

TEST_CASE("vectors: fixed-size elements packed, variable-size ones with vint lengths") {
    auto b = enc(std::array<float, 2>{1.0f, -2.0f});
    CHECK(b == p::byte_buffer{0x3F, 0x80, 0, 0, 0xC0, 0, 0, 0});
    auto vt = p::vector_of(p::data_type(p::type_id::float_), 2);
    std::array<float, 2> f{};
    REQUIRE_FALSE(v::decode(&vt, b, f));
    CHECK(f == std::array<float, 2>{1.0f, -2.0f});
    std::array<float, 3> f3{};
    CHECK(v::decode(&vt, b, f3) == p::codec_errc::value_type_mismatch);
    auto s = enc(std::array<std::string, 2>{"ab", ""});
    CHECK(s == p::byte_buffer{2, 'a', 'b', 0});
    auto st = p::vector_of(p::data_type(p::type_id::varchar), 2);
    std::array<std::string, 2> back;
    REQUIRE_FALSE(v::decode(&st, s, back));
    CHECK(back[0] == "ab");
    CHECK(back[1].empty());
}

TEST_CASE("statements bind composites; a value the codec refuses is a bind error") {
    cql::statement st("INSERT INTO t (k, l, m) VALUES (?, ?, ?)", 1, std::vector<std::int32_t>{1},
                      std::map<std::string, std::vector<std::string>>{{"k", {"v"}}});
    CHECK_FALSE(st.bind_error());
    CHECK(st.value_count() == 3);
    auto vals = st.values();
    CHECK(vals[1].data.size() == 12);
}
