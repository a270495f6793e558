// Every CQL type bound from C++ and read back, through cqlsim or a real server, with prepared
// statements and with simple statements; mismatches and lossy reads are errors. The vector
// column only where the server has the type (Cassandra 5.0, cqlsim).
#include <array>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include <boost/asio/as_tuple.hpp>

#include "cql/uuid.hpp"
#include "e2e_fixture.hpp"

using namespace e2e;
namespace p = cql::protocol;
using namespace std::chrono;

namespace {

using addr = std::tuple<std::string, std::optional<std::int32_t>>;  // UDT {street, num}

struct row_values {
    std::int8_t ti = -8;
    std::int16_t si = -1600;
    std::int32_t i = 2000000000;
    std::int64_t bi = -9000000000000000000LL;
    float f = 1.5f;
    double d = -2.25;
    bool b = true;
    std::string t = "h\xC3\xA9llo";
    std::string a = "ascii";
    p::byte_buffer bl = {0, 1, 0xFF};
    cql::uuid u = cql::uuid_v4();
    cql::uuid tu = cql::timeuuid_now();
    cql::uuid u7 = cql::uuid_v7();
    p::inet_address ip4{{127, 0, 0, 9}, 4, 0};
    p::inet_address ip6{{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 16, 0};
    p::cql_date dt = p::cql_date::from(sys_days{2024y / 2 / 29});
    p::cql_time tm{(13h + 14min + 15s + 16ns).count()};
    p::cql_timestamp ts =
        p::cql_timestamp::from(sys_days{2001y / 9 / 9} + 1h + 46min + 40s + 123ms);
    p::cql_duration du{1, 2, 3000000000LL};
    p::byte_buffer dec_unscaled = {0x30, 0x39};                // 12345
    p::byte_buffer vi_bytes = {0x80, 0, 0, 0, 0, 0, 0, 0, 0};  // -2^71
    std::vector<std::int32_t> l = {3, 1, 2};
    std::set<std::string> st = {"b", "a"};
    std::map<std::string, std::int32_t> m = {{"x", 1}, {"y", -1}};
    std::tuple<std::int32_t, std::string> tp = {7, "seven"};
    addr ud = {"Main St", 42};
    std::array<float, 3> vec = {0.5f, -1.0f, 2.0f};
    std::map<std::int32_t, std::vector<std::string>> nested = {{1, {"a", "b"}}, {2, {}}};
};

// The columns, with the vector column only when the server has the type.
std::string columns(bool vec) {
    return std::string(
               "k, ti, si, i, bi, f, d, b, t, a, bl, u, tu, u7, ip4, ip6, dt, tm, ts, du, "
               "dec, vi, l, st, m, tp, ud, ") +
           (vec ? "vec, " : "") + "nested, n";
}
std::string markers(bool vec) {
    std::string m = "?";
    for (int i = 1; i < (vec ? 30 : 29); ++i)
        m += ", ?";
    return m;
}

template <class B>
void bind_all(B& st, int k, const row_values& v, bool vec) {
    st.bind(k)
        .bind(v.ti)
        .bind(v.si)
        .bind(v.i)
        .bind(v.bi)
        .bind(v.f)
        .bind(v.d)
        .bind(v.b)
        .bind(v.t)
        .bind(v.a)
        .bind(v.bl)
        .bind(v.u)
        .bind(v.tu)
        .bind(v.u7)
        .bind(v.ip4)
        .bind(v.ip6)
        .bind(v.dt)
        .bind(v.tm)
        .bind(v.ts)
        .bind(v.du)
        .bind(p::decimal_view{2, v.dec_unscaled})
        .bind(p::varint_view{v.vi_bytes})
        .bind(v.l)
        .bind(v.st)
        .bind(v.m)
        .bind(v.tp)
        .bind(v.ud);
    if (vec) st.bind(v.vec);
    st.bind(v.nested).bind(std::optional<std::int32_t>{});
}

void check_row(cql::row_view row, const row_values& v, bool vec) {
    CHECK(row.get<std::int8_t>("ti") == v.ti);
    CHECK(row.get<std::int16_t>("si") == v.si);
    CHECK(row.get<std::int32_t>("i") == v.i);
    CHECK(row.get<std::int64_t>("bi") == v.bi);
    CHECK(row.get<float>("f") == v.f);
    CHECK(row.get<double>("d") == v.d);
    CHECK(row.get<bool>("b") == v.b);
    CHECK(row.get<std::string>("t") == v.t);
    CHECK(row.get<std::string>("a") == v.a);
    CHECK(row.get<p::byte_buffer>("bl") == v.bl);
    CHECK(row.get<cql::uuid>("u") == v.u);
    CHECK(row.get<cql::uuid>("tu") == v.tu);
    CHECK(row.get<cql::uuid>("u7") == v.u7);
    CHECK(row.get<p::inet_address>("ip4") == v.ip4);
    CHECK(row.get<p::inet_address>("ip6") == v.ip6);
    CHECK(row.get<p::cql_date>("dt") == v.dt);
    CHECK(row.get<p::cql_date>("dt").to_sys_days() == sys_days{2024y / 2 / 29});
    CHECK(row.get<p::cql_time>("tm") == v.tm);
    CHECK(row.get<p::cql_timestamp>("ts") == v.ts);
    CHECK(row.get<p::cql_duration>("du") == v.du);
    auto dec = row.get<p::decimal_view>("dec");
    CHECK(dec.scale == 2);
    CHECK(p::byte_buffer(dec.unscaled.begin(), dec.unscaled.end()) == v.dec_unscaled);
    auto vi = row.get<p::varint_view>("vi");
    CHECK(p::byte_buffer(vi.bytes.begin(), vi.bytes.end()) == v.vi_bytes);
    CHECK(row.get<std::vector<std::int32_t>>("l") == v.l);
    CHECK(row.get<std::set<std::string>>("st") == v.st);
    CHECK(row.get<std::map<std::string, std::int32_t>>("m") == v.m);
    CHECK((row.get<std::tuple<std::int32_t, std::string>>("tp") == v.tp));
    CHECK(row.get<addr>("ud") == v.ud);
    if (vec) CHECK(row.get<std::array<float, 3>>("vec") == v.vec);
    CHECK(row.get<std::map<std::int32_t, std::vector<std::string>>>("nested") == v.nested);
    CHECK_FALSE(row.get<std::optional<std::int32_t>>("n"));
}

// Whether the server has the vector type (Cassandra 5.0; 4.0 answers a syntax error), found
// by creating a table with one; when it has not, says so with the server's answer.
asio::awaitable<bool> has_vector_type(cql::session& s, const std::string& ks) {
    cql::diagnostics diag;
    auto [ec, r] = co_await s.async_execute(
        cql::statement("CREATE TABLE " + ks +
                       ".vector_probe (k int PRIMARY KEY, v vector<float, 3>)"),
        diag, asio::as_tuple(use_awaitable));
    if (!ec) co_return true;
    REQUIRE((ec == cql::server_errc::syntax_error || ec == cql::server_errc::invalid));
    auto version = co_await s.async_execute(
        cql::statement("SELECT release_version FROM system.local"), use_awaitable);
    WARN("skipped the vector<float, 3> column: the server (release_version "
         << version.front().get<std::string>(0) << ") has no vector type: CREATE TABLE answered '"
         << diag.message << "'");
    co_return false;
}

}  // namespace

TEST_CASE("values: every CQL type round-trips, prepared and simple; mismatches are errors") {
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        auto ks = ks_name("values");
        co_await s.async_execute(cql::statement("CREATE KEYSPACE " + ks +
                                                " WITH replication = {'class': 'SimpleStrategy', "
                                                "'replication_factor': 1}"),
                                 use_awaitable);
        co_await s.async_execute(
            cql::statement("CREATE TYPE " + ks + ".addr (street text, num int)"), use_awaitable);
        const bool vec = co_await has_vector_type(s, ks);
        co_await s.async_execute(
            cql::statement(
                "CREATE TABLE " + ks +
                ".all_types (k int PRIMARY KEY, ti tinyint, si smallint, i int, bi bigint, "
                "f float, d double, b boolean, t text, a ascii, bl blob, u uuid, tu timeuuid, "
                "u7 uuid, ip4 inet, ip6 inet, dt date, tm time, ts timestamp, du duration, "
                "dec decimal, vi varint, l list<int>, st set<text>, m map<text, int>, "
                "tp frozen<tuple<int, text>>, ud frozen<addr>, " +
                std::string(vec ? "vec vector<float, 3>, " : "") +
                "nested map<int, frozen<list<text>>>, n int)"),
            use_awaitable);
        row_values v;
        const std::string insert =
            "INSERT INTO " + ks + ".all_types (" + columns(vec) + ") VALUES (" + markers(vec) + ")";
        // simple statement
        cql::statement simple(insert);
        bind_all(simple, 1, v, vec);
        REQUIRE_FALSE(simple.bind_error());
        co_await s.async_execute(simple, use_awaitable);
        // prepared statement
        auto ins = co_await s.async_prepare(insert, use_awaitable);
        auto bound = ins.bind();
        bind_all(bound, 2, v, vec);
        co_await s.async_execute(bound, use_awaitable);

        const std::string select =
            "SELECT " + columns(vec) + " FROM " + ks + ".all_types WHERE k = ?";
        auto sel = co_await s.async_prepare(select, use_awaitable);
        for (int k : {1, 2}) {
            INFO("k = " << k);
            auto r = co_await s.async_execute(sel.bind(k), use_awaitable);
            REQUIRE(r.size() == 1);
            check_row(r.front(), v, vec);
            auto r2 = co_await s.async_execute(cql::statement(select, k), use_awaitable);
            REQUIRE(r2.size() == 1);
            check_row(r2.front(), v, vec);
        }

        // Reading into the wrong type: an error code, the value untouched elsewhere.
        auto r = co_await s.async_execute(sel.bind(1), use_awaitable);
        auto row = r.front();
        std::int64_t wide = 0;
        CHECK(row.try_get("i", wide) == p::codec_errc::value_type_mismatch);  // int != bigint
        std::int32_t narrow = 0;
        CHECK(row.try_get("bi", narrow) == p::codec_errc::value_type_mismatch);
        float fl = 0;
        CHECK(row.try_get("d", fl) == p::codec_errc::value_type_mismatch);  // lossy
        std::vector<std::string> wrong_elems;
        CHECK(row.try_get("l", wrong_elems) == p::codec_errc::value_type_mismatch);
        std::array<float, 4> wrong_dim{};
        if (vec) CHECK(row.try_get("vec", wrong_dim) == p::codec_errc::value_type_mismatch);
        std::tuple<std::int32_t> short_tuple;
        CHECK(row.try_get("tp", short_tuple) == p::codec_errc::value_type_mismatch);
        std::string text;
        CHECK(row.try_get("m", text) == p::codec_errc::value_type_mismatch);
        std::int32_t null_into_plain = 0;
        CHECK(row.try_get("n", null_into_plain) == p::codec_errc::value_type_mismatch);
        std::error_code ec;
        (void)row.get<std::string>(1, ec);
        CHECK(ec == p::codec_errc::value_type_mismatch);

        // Binding the wrong C++ type: the server refuses it with a clear error (simple), or
        // the driver's count check fails first (prepared).
        cql::diagnostics diag;
        auto [bec, br] = co_await s.async_execute(
            cql::statement("INSERT INTO " + ks + ".all_types (k, i) VALUES (?, ?)", 3,
                           std::int64_t{5}),
            diag, asio::as_tuple(use_awaitable));
        CHECK(bec == cql::server_errc::invalid);
        CHECK_FALSE(diag.message.empty());
        auto [pec, pr] = co_await s.async_execute(sel.bind(std::string("not an int")), diag,
                                                  asio::as_tuple(use_awaitable));
        CHECK(pec);
        // unset leaves a column as it was
        auto upd = co_await s.async_prepare(
            "UPDATE " + ks + ".all_types SET i = ?, t = ? WHERE k = ?", use_awaitable);
        co_await s.async_execute(upd.bind(cql::unset, std::string("changed"), 2), use_awaitable);
        r = co_await s.async_execute(sel.bind(2), use_awaitable);
        CHECK(r.front().get<std::int32_t>("i") == v.i);
        CHECK(r.front().get<std::string>("t") == "changed");
        co_await cluster.async_close(use_awaitable);
    });
}
