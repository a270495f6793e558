// Rows as structs: a model for each table, tables made from the structs (sync_table), the
// typed query builder, a lightweight transaction that shows the row that won, a batch, a
// counter, and a stream of every order read a page ahead. docs/mapping.md explains each part.
//
//   object_mapping [HOST[:PORT][,HOST[:PORT]...]]
//
// Contact points: the argument, else $CQL_CONTACT_POINTS, else 127.0.0.1:9042.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe/class.hpp>

#include "cql/cluster.hpp"
#include "cql/mapping.hpp"

namespace asio = boost::asio;
using asio::use_awaitable;
using cql::col;

namespace shop {

// [model]
// A user-defined type: a struct used as a member of another.
struct address {
    std::string street;
    std::string city;
    std::optional<std::string> zip;
};
BOOST_DESCRIBE_STRUCT(address, (), (street, city, zip))

// A row of mapped_shop.customers.
struct customer {
    std::string email;
    std::string name;
    std::vector<address> addresses;
    std::set<std::string> tags;
};
BOOST_DESCRIBE_STRUCT(customer, (), (email, name, addresses, tags))

// Found by argument-dependent lookup: the table, its keys, renames, CQL types.
inline void cql_model(cql::model<customer>& m) {
    m.table("mapped_shop", "customers")
        .partition_key(&customer::email)
        .column(&customer::name, "full_name");
}

// The orders of a customer, newest first.
struct order {
    std::string email;
    std::int32_t number = 0;
    std::string item;
    std::int32_t quantity = 0;
    std::string status;
};
BOOST_DESCRIBE_STRUCT(order, (), (email, number, item, quantity, status))
inline void cql_model(cql::model<order>& m) {
    m.table("mapped_shop", "orders")
        .partition_key(&order::email)
        .clustering_key(&order::number, cql::clustering_order::desc);
}

// A counter table: every column outside the key is a counter.
struct sales {
    std::string item;
    std::int64_t sold = 0;
};
BOOST_DESCRIBE_STRUCT(sales, (), (item, sold))
inline void cql_model(cql::model<sales>& m) {
    m.table("mapped_shop", "sales").partition_key(&sales::item).counter(&sales::sold);
}
// [model]

}  // namespace shop

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

asio::awaitable<void> run(cql::cluster_config cfg) {
    cql::cluster cluster(co_await asio::this_coro::executor, std::move(cfg));
    co_await cluster.async_connect(use_awaitable);
    cql::session& s = cluster.session();
    co_await s.async_execute(
        cql::statement("CREATE KEYSPACE IF NOT EXISTS mapped_shop WITH replication = "
                       "{'class': 'SimpleStrategy', 'replication_factor': 1}"),
        use_awaitable);

    // [sync]
    cql::mapper<shop::customer> customers(s);
    cql::mapper<shop::order> orders(s);
    cql::mapper<shop::sales> sales(s);
    cql::sync_report report = co_await customers.async_sync_table(use_awaitable);
    std::printf("schema: customers ready, %zu statement(s) run\n", report.statements.size());
    for (const auto& conflict : report.conflicts)
        std::printf("  cannot change: %s\n", conflict.c_str());
    co_await orders.async_sync_table(use_awaitable);
    co_await sales.async_sync_table(use_awaitable);
    // [sync]
    for (const std::string& t : {customers.definition().table, orders.definition().table,
                                 sales.definition().table})  // a second run starts afresh
        co_await s.async_execute(cql::statement("TRUNCATE mapped_shop." + t), use_awaitable);

    // [lwt]
    const shop::customer ada{"ada@example.com",
                             "Ada Lovelace",
                             {{"12 St James's Square", "London", std::nullopt}},
                             {"vip"}};
    const shop::customer byron{"ada@example.com", "Ada Byron", {}, {}};
    for (const shop::customer* c_ptr : {&ada, &byron}) {
        const auto& c = *c_ptr;
        cql::write_result w =
            co_await customers.insert(c).if_not_exists().async_execute(use_awaitable);
        if (w.applied)
            std::printf("customer %s registered as %s\n", c.email.c_str(), c.name.c_str());
        else  // the row that is there, read into the struct
            std::printf("customer %s not registered as %s: already taken by %s (%s)\n",
                        c.email.c_str(), c.name.c_str(), w.current->name.c_str(),
                        w.current->addresses.at(0).city.c_str());
    }
    // [lwt]

    // [batch]
    cql::mapped_batch placed(cql::batch_type::logged);
    const std::vector<shop::order> new_orders = {{"ada@example.com", 1, "notebook", 3, "new"},
                                                 {"ada@example.com", 2, "fountain pen", 1, "new"},
                                                 {"ada@example.com", 3, "ink", 2, "new"}};
    for (const auto& o : new_orders)
        placed.add(orders.insert(o));
    co_await placed.async_execute(use_awaitable);

    cql::mapped_batch counted(cql::batch_type::counter);  // counters go in a counter batch
    for (const auto& o : new_orders)
        counted.add(sales.update()
                        .add(&shop::sales::sold, o.quantity)
                        .where(col(&shop::sales::item) == o.item));
    co_await counted.async_execute(use_awaitable);
    std::printf("%zu orders placed in one logged batch, sales counted in a counter batch\n",
                placed.size());
    // [batch]

    // [select]
    std::vector<shop::order> recent = co_await orders.select()
                                          .where(col(&shop::order::email) == "ada@example.com")
                                          .where(col(&shop::order::number) >= 2)
                                          .limit(10)
                                          .async_all(use_awaitable);
    for (const auto& o : recent)
        std::printf("  order %d: %d x %s (%s)\n", o.number, o.quantity, o.item.c_str(),
                    o.status.c_str());
    // [select]

    // [update]
    for (const std::string from : {"new", "new"}) {
        auto w = co_await orders.update()
                     .set(&shop::order::status, "paid")
                     .where(col(&shop::order::email) == "ada@example.com")
                     .where(col(&shop::order::number) == 3)
                     .if_(col(&shop::order::status) == from)
                     .async_execute(use_awaitable);
        std::printf("order 3 %s -> paid: %s\n", from.c_str(),
                    w.applied ? "applied" : ("not applied, it is " + w.current->status).c_str());
    }
    // [update]

    const shop::sales ink_key{"ink", 0};
    std::optional<shop::sales> ink = co_await sales.get(ink_key).async_one(use_awaitable);
    std::printf("ink sold: %lld\n", static_cast<long long>(ink ? ink->sold : 0));

    // [stream]
    auto all =
        orders.select().where(col(&shop::order::email) == "ada@example.com").page_size(2).stream();
    int streamed = 0;
    while (auto o = co_await all.async_next(use_awaitable))
        ++streamed;
    std::printf("streamed %d orders in %zu pages\n", streamed, all.pages_fetched());
    // [stream]

    // [refused]
    cql::diagnostics diag;
    auto [ec, rows] = co_await orders.select()
                          .where(col(&shop::order::quantity) > 1)
                          .async_all(diag, asio::as_tuple(use_awaitable));
    std::printf("refused (%s): %s\n", ec.message().c_str(), diag.message.c_str());
    // [refused]

    co_await cluster.async_close(use_awaitable);
}

}  // namespace

int main(int argc, char** argv) {
    cql::cluster_config cfg;
    cfg.contact_points = contact_points(argc, argv);

    asio::io_context io;
    int status = 0;
    asio::co_spawn(io, run(std::move(cfg)), [&](std::exception_ptr e) {
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
