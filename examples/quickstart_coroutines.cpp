// Quickstart with C++20 coroutines: connect, create a keyspace and a table, insert rows with
// a prepared statement, read them back.
//
//   quickstart_coroutines [HOST[:PORT][,HOST[:PORT]...]]
//
// Contact points: the argument, else $CQL_CONTACT_POINTS, else 127.0.0.1:9042.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "cql/cluster.hpp"

namespace asio = boost::asio;
using asio::use_awaitable;

namespace {

std::vector<std::string> contact_points(int argc, char** argv) {
    std::string list = argc > 1 ? argv[1] : "";
    if (const char* env = std::getenv("CQL_CONTACT_POINTS"); list.empty() && env) list = env;
    if (list.empty()) list = "127.0.0.1:9042";
    std::vector<std::string> out;
    std::stringstream ss(list);
    for (std::string cp; std::getline(ss, cp, ',');)
        if (!cp.empty()) out.push_back(cp);
    return out;
}

struct user {
    std::int32_t id;
    const char* name;
    const char* email;
};

asio::awaitable<void> quickstart(cql::cluster_config cfg) {
    // The driver runs on the coroutine's executor: no threads of its own.
    cql::cluster cluster(co_await asio::this_coro::executor, std::move(cfg));
    // as_tuple hands back the error instead of throwing it, so we can print why each contact
    // point failed (refused, timed out, bad credentials, ...).
    auto [ec] = co_await cluster.async_connect(asio::as_tuple(use_awaitable));
    if (ec) {
        std::fprintf(stderr, "cannot connect: %s\n", cluster.last_error().message.c_str());
        throw boost::system::system_error(ec);
    }
    std::printf("connected: %zu host(s), protocol v%d\n", cluster.hosts().size(),
                static_cast<int>(cluster.version()));

    cql::session& s = cluster.session();
    co_await s.async_execute(cql::statement("CREATE KEYSPACE IF NOT EXISTS quickstart WITH "
                                            "replication = {'class': 'SimpleStrategy', "
                                            "'replication_factor': 1}"),
                             use_awaitable);
    co_await s.async_execute(cql::statement("CREATE TABLE IF NOT EXISTS quickstart.users "
                                            "(id int PRIMARY KEY, name text, email text)"),
                             use_awaitable);

    // Prepared once, executed many times: the server parses the query once, and the driver
    // knows the partition key's position, so each insert goes straight to a replica.
    cql::prepared_statement insert = co_await s.async_prepare(
        "INSERT INTO quickstart.users (id, name, email) VALUES (?, ?, ?)", use_awaitable);
    const user users[] = {{1, "Ada Lovelace", "ada@example.com"},
                          {2, "Alan Turing", "alan@example.com"},
                          {3, "Grace Hopper", "grace@example.com"}};
    for (const user& u : users)
        co_await s.async_execute(insert.bind(u.id, u.name, u.email), use_awaitable);
    std::printf("inserted %zu users\n", std::size(users));

    cql::prepared_statement select = co_await s.async_prepare(
        "SELECT id, name, email FROM quickstart.users WHERE id = ?", use_awaitable);
    for (const user& u : users) {
        cql::result r = co_await s.async_execute(select.bind(u.id), use_awaitable);
        // Rows are views into the response: string_view costs no copy while `r` lives.
        for (cql::row_view row : r) {
            auto [id, name, email] = row.as<std::int32_t, std::string_view, std::string_view>();
            std::printf("user %d: %.*s <%.*s>\n", id, static_cast<int>(name.size()), name.data(),
                        static_cast<int>(email.size()), email.data());
        }
    }

    co_await cluster.async_close(use_awaitable);
    std::printf("closed\n");
}

}  // namespace

int main(int argc, char** argv) {
    cql::cluster_config cfg;
    cfg.contact_points = contact_points(argc, argv);

    asio::io_context io;
    int status = 0;
    // use_awaitable reports failures as exceptions; they end up here.
    asio::co_spawn(io, quickstart(std::move(cfg)), [&](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            std::fprintf(stderr, "error: %s\n", ex.what());
            status = 1;
        }
    });
    io.run();
    return status;
}
