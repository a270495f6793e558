// Binding checked against the prepared statement's markers, and read errors that name the
// column, end to end: a value that does not fit never reaches the server, one that fits is
// sent as the marker's type, and every signed integer type reads back.
#include <cstdint>
#include <string>

#include <boost/asio/as_tuple.hpp>

#include "e2e_fixture.hpp"

using namespace e2e;
namespace p = cql::protocol;

namespace {
std::string error_message(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const cql::error_with_diagnostics& x) {
        return x.what();
    } catch (const std::exception& x) {
        return std::string("not an error_with_diagnostics: ") + x.what();
    }
}
}  // namespace

TEST_CASE("bind-time checks against the prepared markers, and readable read errors") {
    test_cluster tc;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        cql::cluster cluster(io.get_executor(), tc.config());
        co_await cluster.async_connect(use_awaitable);
        auto& s = cluster.session();
        const auto ks = ks_name("bindcheck");
        co_await create_keyspace(s, ks);
        co_await s.async_execute(cql::statement("CREATE TABLE " + ks +
                                                ".people (id bigint PRIMARY KEY, name text, "
                                                "age tinyint)"),
                                 use_awaitable);
        auto ins = co_await s.async_prepare(
            "INSERT INTO " + ks + ".people (id, name, age) VALUES (?, ?, ?)", use_awaitable);

        // 43 is an int: sent as the bigint the marker wants (the server would refuse 4 bytes).
        co_await s.async_execute(ins.bind(43, "ada", 36), use_awaitable);

        // A string for the bigint marker: refused here, with the marker named; nothing sent.
        const auto executes = [&] {
            return tc.is_sim() ? tc.count_requests(p::opcode::execute, ".people") : 0;
        };
        const auto sent_before = executes();
        std::exception_ptr failure;
        try {
            co_await s.async_execute(ins.bind("43", "ada", 36), use_awaitable);
        } catch (...) {
            failure = std::current_exception();
        }
        REQUIRE(failure);
        const auto what = error_message(failure);
        INFO(what);
        CHECK(what.find("value cannot be bound [cql.client:12]: bind marker 1 (\"id\", bigint): "
                        "a string cannot be bound to it") == 0);
        CHECK(executes() == sent_before);
        cql::diagnostics d;
        auto [ec, r] =
            co_await s.async_execute(ins.bind(1, "x", 1000), d, asio::as_tuple(use_awaitable));
        CHECK(ec == cql::errc::bad_bind_value);
        CHECK(d.message == "bind marker 3 (\"age\", tinyint): 1000 is out of its range");

        // Reading back: every signed integer type of the column's width; errors that say why.
        auto rows = co_await s.async_execute(
            cql::statement("SELECT id, name, age FROM " + ks + ".people WHERE id = ?",
                           std::int64_t{43}),
            use_awaitable);
        REQUIRE(rows.size() == 1);
        auto [id, name, age] = rows.front().as<long long, std::string, signed char>();
        CHECK(id == 43);
        CHECK(name == "ada");
        CHECK(age == 36);
        CHECK(rows.front().get<p::value>("name") == p::value(std::string("ada")));
        std::string read_error;
        try {
            (void)rows.front().get<int>("id");
        } catch (const cql::error_with_diagnostics& e) {
            read_error = e.diagnostics().message;
        }
        CHECK(read_error == "column 0 \"id\" is bigint: it cannot be read as a std::int32_t");
        auto none = co_await s.async_execute(
            cql::statement("SELECT id FROM " + ks + ".people WHERE id = 7"), use_awaitable);
        read_error.clear();
        try {
            (void)none.front().get<long long>(0);
        } catch (const cql::error_with_diagnostics& e) {
            read_error = e.diagnostics().message;
        }
        CHECK(read_error == "the result has no rows (front() of an empty result)");
        co_await cluster.async_close(use_awaitable);
    });
}
