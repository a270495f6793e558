// Prepared statements, a logged batch that writes an order and its lines atomically, and
// lightweight transactions (INSERT ... IF NOT EXISTS, UPDATE ... IF) checked with applied().
//
//   prepared_and_batch [HOST[:PORT][,HOST[:PORT]...]]
//
// Contact points: the argument, else $CQL_CONTACT_POINTS, else 127.0.0.1:9042.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

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

struct line {
    const char* product;
    std::int32_t quantity;
    std::int32_t price_cents;
};

asio::awaitable<void> shop(cql::cluster_config cfg) {
    cql::cluster cluster(co_await asio::this_coro::executor, std::move(cfg));
    co_await cluster.async_connect(use_awaitable);
    cql::session& s = cluster.session();

    for (const char* ddl :
         {"CREATE KEYSPACE IF NOT EXISTS shop WITH replication = {'class': 'SimpleStrategy', "
          "'replication_factor': 1}",
          "CREATE TABLE IF NOT EXISTS shop.customers (email text PRIMARY KEY, name text)",
          "CREATE TABLE IF NOT EXISTS shop.orders (order_id int PRIMARY KEY, email text, "
          "total_cents int, status text)",
          "CREATE TABLE IF NOT EXISTS shop.order_lines (order_id int, line int, product text, "
          "quantity int, PRIMARY KEY (order_id, line))",
          "TRUNCATE shop.customers", "TRUNCATE shop.orders", "TRUNCATE shop.order_lines"})
        co_await s.async_execute(cql::statement(ddl), use_awaitable);

    // An LWT runs Paxos among the replicas: the insert happens only if no row has this key,
    // and the answer says whether it did (and, if not, shows the row that won).
    auto add_customer = co_await s.async_prepare(
        "INSERT INTO shop.customers (email, name) VALUES (?, ?) IF NOT EXISTS", use_awaitable);
    for (const char* name : {"Ada Lovelace", "Ada Byron"}) {
        cql::result r =
            co_await s.async_execute(add_customer.bind("ada@example.com", name), use_awaitable);
        if (cql::applied(r)) {
            std::printf("customer ada@example.com registered as %s\n", name);
        } else {
            auto existing = r.front().get<std::string>("name");
            std::printf("customer ada@example.com not registered as %s: already taken by %s\n",
                        name, existing.c_str());
        }
    }

    // A logged batch: the order and all its lines are written, or (if the coordinator dies
    // midway) replayed from the batch log until they are, never half of them.
    auto insert_order = co_await s.async_prepare(
        "INSERT INTO shop.orders (order_id, email, total_cents, status) VALUES (?, ?, ?, ?)",
        use_awaitable);
    auto insert_line = co_await s.async_prepare(
        "INSERT INTO shop.order_lines (order_id, line, product, quantity) VALUES (?, ?, ?, ?)",
        use_awaitable);
    const line lines[] = {{"notebook", 3, 450}, {"fountain pen", 1, 2900}, {"ink", 2, 800}};
    std::int32_t total = 0;
    cql::batch order(cql::batch_type::logged);
    std::int32_t n = 0;
    for (const line& l : lines) {
        order.add(insert_line.bind(1001, ++n, l.product, l.quantity));
        total += l.quantity * l.price_cents;
    }
    order.add(insert_order.bind(1001, "ada@example.com", total, "new"));
    co_await s.async_batch(order, use_awaitable);
    std::printf("order 1001 written in one logged batch of %zu statements\n", order.size());

    auto select_lines = co_await s.async_prepare(
        "SELECT line, product, quantity FROM shop.order_lines WHERE order_id = ?", use_awaitable);
    cql::result r = co_await s.async_execute(select_lines.bind(1001), use_awaitable);
    for (cql::row_view row : r) {
        auto [no, product, quantity] = row.as<std::int32_t, std::string_view, std::int32_t>();
        std::printf("  line %d: %d x %.*s\n", no, quantity, static_cast<int>(product.size()),
                    product.data());
    }

    // A conditional update: only one of two concurrent clients can move the order on.
    auto set_status = co_await s.async_prepare(
        "UPDATE shop.orders SET status = ? WHERE order_id = ? IF status = ?", use_awaitable);
    for (const char* from : {"new", "new"}) {
        cql::result u =
            co_await s.async_execute(set_status.bind("paid", 1001, from), use_awaitable);
        std::printf("order 1001 %s -> paid: %s\n", from,
                    cql::applied(u) ? "applied" : "not applied (status changed meanwhile)");
    }

    cql::result o = co_await s.async_execute(
        cql::statement("SELECT total_cents, status FROM shop.orders WHERE order_id = ?", 1001),
        use_awaitable);
    auto [cents, status] = o.front().as<std::int32_t, std::string>();
    std::printf("order 1001: total %d.%02d, status %s\n", cents / 100, cents % 100, status.c_str());

    co_await cluster.async_close(use_awaitable);
}

}  // namespace

int main(int argc, char** argv) {
    cql::cluster_config cfg;
    cfg.contact_points = contact_points(argc, argv);

    asio::io_context io;
    int status = 0;
    asio::co_spawn(io, shop(std::move(cfg)), [&](std::exception_ptr e) {
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
