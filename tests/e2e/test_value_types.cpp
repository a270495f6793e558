// The value types in cql:: through a server and back: varint and decimal beyond 64 bits,
// inet as Asio addresses, timestamp/date/time with std::chrono, duration; bound to prepared
// markers and to a simple statement.
#include <chrono>
#include <string>

#include "e2e_fixture.hpp"

using namespace e2e;

TEST_CASE("varint, decimal, inet, timestamp, date, time and duration round trips") {
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        namespace chr = std::chrono;
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        const auto ks = ks_name("valuetypes");
        co_await create_keyspace(s, ks);
        co_await s.async_execute(
            cql::statement("CREATE TABLE " + ks +
                           ".v (k int PRIMARY KEY, vi varint, de decimal, ip inet, "
                           "ts timestamp, da date, ti time, du duration)"),
            use_awaitable);

        const auto big = *cql::varint::from_string("-123456789012345678901234567890");
        const auto price = *cql::decimal::from_string("12345678901234567890.0500");
        const auto ip = boost::asio::ip::make_address("2001:db8::7");
        const chr::sys_time<chr::milliseconds> at{chr::milliseconds{-86400001}};  // 1969
        const chr::year_month_day day{chr::year{1900}, chr::month{2}, chr::day{28}};
        const chr::hh_mm_ss<chr::nanoseconds> noon{chr::hours{12} + chr::nanoseconds{1}};
        const auto span = cql::duration{1, 2, 3000000000};

        auto ins = co_await s.async_prepare(
            "INSERT INTO " + ks +
                ".v (k, vi, de, ip, ts, da, ti, du) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            use_awaitable);
        co_await s.async_execute(ins.bind(1, big, price, ip, at, day, noon, span), use_awaitable);
        co_await s.async_execute(
            cql::statement("INSERT INTO " + ks +
                               ".v (k, vi, de, ip, ts, da, ti, du) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           2, big, price, ip, at, day, noon, span),
            use_awaitable);
        // Integers bound to varint and decimal markers.
        co_await s.async_execute(ins.bind(3, 7, 8, ip, at, day, noon, span), use_awaitable);

        for (int k : {1, 2}) {
            auto r = co_await s.async_execute(
                cql::statement("SELECT vi, de, ip, ts, da, ti, du FROM " + ks + ".v WHERE k = ?",
                               k),
                use_awaitable);
            REQUIRE(r.size() == 1);
            auto row = r.front();
            CHECK(row.get<cql::varint>("vi") == big);
            CHECK(row.get<cql::decimal>("de").to_string() == "12345678901234567890.0500");
            CHECK(row.get<boost::asio::ip::address>("ip") == ip);
            CHECK(cql::to_string(row.get<cql::inet_address>("ip")) == "2001:db8::7");
            CHECK(row.get<chr::system_clock::time_point>("ts") == at);
            CHECK(row.get<chr::year_month_day>("da") == day);
            CHECK(row.get<chr::hh_mm_ss<chr::nanoseconds>>("ti").to_duration() ==
                  noon.to_duration());
            CHECK(row.get<cql::duration>("du") == span);
        }
        auto r3 = co_await s.async_execute(
            cql::statement("SELECT vi, de FROM " + ks + ".v WHERE k = 3"), use_awaitable);
        REQUIRE(r3.size() == 1);
        CHECK(r3.front().get<cql::varint>(0).to<int>() == 7);
        CHECK(r3.front().get<cql::decimal>(1).to<int>() == 8);
        co_await cluster.async_close(use_awaitable);
    });
}
