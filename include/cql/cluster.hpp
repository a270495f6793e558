#pragma once
// A cluster of nodes: contact points, discovery, a control connection (topology, status and
// schema events), a pool of connections per host, and the session that runs statements.
//
//   cql::cluster_config cfg;
//   cfg.contact_points = {"127.0.0.1"};
//   cfg.local_datacenter = "dc1";
//   cql::cluster cluster(io.get_executor(), cfg);
//   co_await cluster.async_connect(asio::use_awaitable);
//   cql::session& s = cluster.session();
//   ...
//   co_await cluster.async_close(asio::use_awaitable);
//
// The cluster runs on the executor given, or (io_threads > 0) on its own io_contexts, one
// thread each, with connections spread over them. Completion handlers without an associated
// executor run on the executor given to the constructor.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include "cql/auth.hpp"
#include "cql/cluster_errc.hpp"
#include "cql/config.hpp"
#include "cql/detail/op_completion.hpp"
#include "cql/error.hpp"
#include "cql/execution_profile.hpp"
#include "cql/host.hpp"
#include "cql/metadata.hpp"
#include "cql/policies/reconnection.hpp"
#include "cql/session.hpp"
#include "cql/token_map.hpp"

namespace cql {

enum class log_level : std::uint8_t { trace, debug, info, warning, error, off };
std::string_view to_string(log_level l) noexcept;

struct pool_options {
    std::size_t local_connections = 1;   // per host at distance local
    std::size_t remote_connections = 1;  // per host at distance remote
    // A connection with this many requests in flight is busy; when every connection of a
    // host is busy a request waits (at most max_wait_queue of them per host, FIFO) for one
    // to finish; beyond that the host is skipped (session_errc::busy when all are).
    std::size_t max_requests_per_connection = 1024;
    std::size_t max_wait_queue = 4096;
};

struct cluster_config {
    // "host" or "host:port" ("[::1]:9042"): names or addresses. At least one.
    std::vector<std::string> contact_points;
    std::uint16_t port = 9042;
    // Datacenter whose hosts the default load balancing prefers (empty: that of the first
    // contact point that answers).
    std::string local_datacenter;

    // Unset: v5, falling back to v4; every connection then uses what the first one got.
    std::optional<protocol::protocol_version> version;
    cql::compression compression = cql::compression::none;
    std::shared_ptr<auth_provider> auth;
    tls_options tls;

    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds request_timeout{12000};  // default profile's, when profiles unset
    std::chrono::milliseconds heartbeat_interval{30000};

    pool_options pool;
    // Unset: one default profile (local_datacenter, request_timeout, default policies).
    std::optional<execution_profiles> profiles;
    // Unset: exponential, 500 ms .. 30 s.
    std::shared_ptr<reconnection_policy> reconnection;

    std::string keyspace;           // USE at connect ("" : none)
    bool client_timestamps = true;  // monotonic microsecond timestamps on every write
    // Topology and schema events within this window cause one refresh.
    std::chrono::milliseconds event_debounce{100};
    // > 0: the cluster owns this many io_contexts with one thread each.
    std::size_t io_threads = 0;

    // Logging: silent unless a callback is set (called from the driver's threads).
    cql::log_level log_level = cql::log_level::warning;
    std::function<void(cql::log_level, std::string_view)> logger;
};

class cluster {
  public:
    cluster(boost::asio::any_io_executor ex, cluster_config cfg);
    // Closes (without waiting for requests in flight) and, with io_threads, joins its threads.
    ~cluster();
    cluster(const cluster&) = delete;
    cluster& operator=(const cluster&) = delete;

    boost::asio::any_io_executor get_executor() const noexcept;

    // Connects the control connection to a contact point (each in turn), discovers the
    // hosts and the schema, opens the pools. Completes with the error of the contact
    // points (see last_error() for the message naming each).
    template <class Token>
    auto async_connect(Token&& tok) {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [this](auto handler) {
                start_connect(
                    detail::make_op_completion<error_code>(std::move(handler), get_executor()));
            },
            tok);
    }

    // Fails new requests, completes (with errors) every request in flight, closes every
    // connection and stops the cluster's own threads.
    template <class Token>
    auto async_close(Token&& tok) {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [this](auto handler) {
                start_close(
                    detail::make_op_completion<error_code>(std::move(handler), get_executor()));
            },
            tok);
    }

    cql::session& session() noexcept { return session_; }

    // Snapshots, safe from any thread.
    std::vector<host_ptr> hosts() const;
    std::shared_ptr<const schema_metadata> metadata() const;
    std::shared_ptr<const cql::token_map> token_map() const;
    protocol::protocol_version version() const noexcept;
    // The endpoint of the control connection's host ("" before connect).
    std::string control_host() const;
    // Details of the last failed async_connect.
    diagnostics last_error() const;
    // Waits (asynchronously) until the schema metadata was re-read from the cluster.
    template <class Token>
    auto async_refresh_schema(Token&& tok) {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [this](auto handler) {
                start_refresh(
                    detail::make_op_completion<error_code>(std::move(handler), get_executor()));
            },
            tok);
    }

  private:
    void start_connect(std::unique_ptr<detail::op_completion<error_code>> op);
    void start_close(std::unique_ptr<detail::op_completion<error_code>> op);
    void start_refresh(std::unique_ptr<detail::op_completion<error_code>> op);

    std::shared_ptr<detail::cluster_impl> impl_;
    cql::session session_;
};

}  // namespace cql
