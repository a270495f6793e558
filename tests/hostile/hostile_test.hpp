#pragma once
// What every hostile-server test does: a cluster on this thread's io_context pointed at a
// hostile::server, short timeouts, statements run without throwing, and waits bounded by
// generous limits (never by how fast the machine is).

#include <chrono>
#include <functional>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cql/cluster.hpp"
#include "hostile_server.hpp"

namespace cql::hostile {

using namespace std::chrono_literals;

// co_await op(no_throw): the error comes back in a tuple instead of being thrown.
inline constexpr auto no_throw = boost::asio::as_tuple(boost::asio::use_awaitable);

// A statement the server answers with one row (system.local): the "next request".
inline constexpr const char* probe_query = "SELECT release_version FROM system.local";

// dc1, request timeout 200 ms, heartbeat 300 ms, connect timeout 2 s, a constant 100 ms
// reconnection delay, one connection per host; no contact point.
cql::cluster_config base_config();
// base_config() with the server as its contact point.
cql::cluster_config config_for(const server& s);

struct outcome {
    cql::error_code ec;
    cql::result res;
    cql::diagnostics diag;
};

// Runs body(cluster) on a fresh io_context on this thread; connects first unless
// `connect` is false; closes the cluster afterwards. Rethrows what the body throws (Catch2
// REQUIRE failures). The whole run is bounded by `limit`: past it the test fails.
void run(const cql::cluster_config& cfg,
         std::function<boost::asio::awaitable<void>(cql::cluster&)> body, bool connect = true,
         std::chrono::seconds limit = 60s);

struct connect_outcome {
    std::error_code ec;
    cql::diagnostics diag;
    std::chrono::milliseconds took{0};
};

// async_connect, timed.
boost::asio::awaitable<connect_outcome> connect(cql::cluster& cluster);
// A cluster made from cfg, connected once (and closed): how that went.
connect_outcome connect_once(const cql::cluster_config& cfg);

boost::asio::awaitable<outcome> execute(cql::session& s, cql::statement st);
// Starts `st` without waiting for it; done(outcome) is called when it completes.
void start(cql::session& s, const cql::statement& st, std::function<void(outcome)> done);
boost::asio::awaitable<outcome> probe(cql::session& s);
// Probes until one succeeds or `limit` passed (a broken connection is replaced in the
// background; the first request after it may find none): the last outcome.
boost::asio::awaitable<outcome> probe_until_success(cql::session& s,
                                                    std::chrono::milliseconds limit = 10s);
boost::asio::awaitable<void> sleep(std::chrono::milliseconds d);
// Polls pred every 5 ms until it holds (true) or `limit` passed (false).
boost::asio::awaitable<bool> until(std::function<bool()> pred,
                                   std::chrono::milliseconds limit = 10s);

// The first column of the first row as text ("" when there is none).
std::string first_text(const cql::result& r);

inline bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

}  // namespace cql::hostile
