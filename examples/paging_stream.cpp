// Paging through a large result as an asynchronous stream, and resuming from a saved paging
// state (what a web service hands its client as a "next page" cursor).
//
//   paging_stream [HOST[:PORT][,HOST[:PORT]...]] [ROWS]
//
// Contact points: the argument, else $CQL_CONTACT_POINTS, else 127.0.0.1:9042.
// ROWS (default 3000) rows are written to one partition, then read back 500 per page.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
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

constexpr std::int32_t page_size = 500;

// Writes rows [first, total) stepping by `step`: several of these run side by side, so
// several inserts are in flight at once without an unbounded number of them.
asio::awaitable<void> writer(cql::session& s, cql::prepared_statement insert, int first, int total,
                             int step) {
    for (int seq = first; seq < total; seq += step)
        co_await s.async_execute(insert.bind(1, seq, "event " + std::to_string(seq)),
                                 use_awaitable);
}

asio::awaitable<void> paging(cql::cluster_config cfg, int rows) {
    auto ex = co_await asio::this_coro::executor;
    cql::cluster cluster(ex, std::move(cfg));
    co_await cluster.async_connect(use_awaitable);
    cql::session& s = cluster.session();

    co_await s.async_execute(cql::statement("CREATE KEYSPACE IF NOT EXISTS paging WITH "
                                            "replication = {'class': 'SimpleStrategy', "
                                            "'replication_factor': 1}"),
                             use_awaitable);
    co_await s.async_execute(cql::statement("CREATE TABLE IF NOT EXISTS paging.events "
                                            "(day int, seq int, payload text, "
                                            "PRIMARY KEY (day, seq))"),
                             use_awaitable);
    co_await s.async_execute(cql::statement("TRUNCATE paging.events"), use_awaitable);

    auto insert = co_await s.async_prepare(
        "INSERT INTO paging.events (day, seq, payload) VALUES (?, ?, ?)", use_awaitable);
    constexpr int writers = 16;
    int running = writers;
    std::exception_ptr write_error;
    asio::steady_timer all_written(ex, asio::steady_timer::time_point::max());
    for (int w = 0; w < writers; ++w)
        asio::co_spawn(ex, writer(s, insert, w, rows, writers), [&](std::exception_ptr e) {
            if (e && !write_error) write_error = e;
            if (--running == 0) all_written.cancel();
        });
    co_await all_written.async_wait(asio::as_tuple(use_awaitable));  // cancelled: all done
    if (write_error) std::rethrow_exception(write_error);
    std::printf("wrote %d rows\n", rows);

    // The stream fetches the next page only when asked, so memory holds one page at a time.
    const cql::statement query =
        cql::statement("SELECT seq, payload FROM paging.events WHERE day = 1").page_size(page_size);
    auto pages = s.pages(query);
    std::size_t total = 0;
    while (auto page = co_await pages.async_next(use_awaitable)) {
        std::int32_t first = -1, last = -1;
        for (cql::row_view row : *page) {
            last = row.get<std::int32_t>(0);
            if (first < 0) first = last;
        }
        total += page->size();
        if (page->empty())  // the previous page ended exactly at the end: nothing more
            std::printf("page %zu: empty\n", pages.pages_fetched());
        else
            std::printf("page %zu: %zu rows, seq %d..%d\n", pages.pages_fetched(), page->size(),
                        first, last);
    }
    std::printf("streamed %zu rows in %zu pages\n", total, pages.pages_fetched());

    // Read two pages, keep only the paging state (a few bytes, valid for this query), and
    // stop. Later (another request, another process) a new stream resumes from it.
    std::vector<std::uint8_t> cursor;
    {
        auto first = s.pages(query);
        for (int i = 0; i < 2; ++i)
            co_await first.async_next(use_awaitable);
        if (auto state = first.paging_state()) cursor.assign(state->begin(), state->end());
    }
    std::printf("saved a paging state of %zu bytes after 2 pages\n", cursor.size());

    cql::statement resumed = query;
    resumed.paging_state(cursor);
    auto rest = s.pages(std::move(resumed));
    // Row by row across page boundaries; each row is valid until the next call.
    std::size_t rest_rows = 0;
    std::int32_t first_seq = -1;
    while (auto row = co_await rest.async_next_row(use_awaitable)) {
        if (rest_rows++ == 0) first_seq = row->get<std::int32_t>(0);
    }
    std::printf("resumed at seq %d: %zu more rows in %zu pages\n", first_seq, rest_rows,
                rest.pages_fetched());

    co_await cluster.async_close(use_awaitable);
}

}  // namespace

int main(int argc, char** argv) {
    cql::cluster_config cfg;
    cfg.contact_points = contact_points(argc, argv);
    const int rows = argc > 2 ? std::atoi(argv[2]) : 3000;

    asio::io_context io;
    int status = 0;
    asio::co_spawn(io, paging(std::move(cfg), rows > 0 ? rows : 3000), [&](std::exception_ptr e) {
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
