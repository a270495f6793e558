#pragma once
/// \file
/// A cluster of nodes: contact points, discovery, a control connection (topology, status and
/// schema events), a pool of connections per host, and the session that runs statements.
///
/// \code
///   cql::cluster_config cfg;
///   cfg.contact_points = {"127.0.0.1"};
///   cfg.local_datacenter = "dc1";
///   cql::cluster cluster(io.get_executor(), cfg);
///   co_await cluster.async_connect(asio::use_awaitable);
///   cql::session& s = cluster.session();
///   ...
///   co_await cluster.async_close(asio::use_awaitable);
/// \endcode
///
/// The cluster runs on the executor given, or (io_threads > 0) on its own io_contexts, one
/// thread each, each with its own connections to every host. Completion handlers without an
/// associated executor run on the executor given to the constructor.

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
#include "cql/with_diagnostics.hpp"

namespace cql {

/// Severity of the driver's log messages (cluster_config::log_level, cluster_config::logger).
enum class log_level : std::uint8_t { trace, debug, info, warning, error, off };
/// "trace", "debug", "info", "warning", "error", "off".
std::string_view to_string(log_level l) noexcept;
/// The default cluster_config::logger: writes "cql-asio warning: <message>" (the level's
/// name) and a newline to stderr, each message in one write, safe from any thread.
void stderr_logger(cql::log_level level, std::string_view message);

/// Connection pool sizes and back-pressure, per host (cluster_config::pool).
struct pool_options {
    /// Per host at distance local, and per io thread (cluster_config::io_threads) if any.
    std::size_t local_connections = 1;
    std::size_t remote_connections = 1;  ///< per host at distance remote (and per io thread)
    /// A connection with this many requests in flight is busy; when every connection of a
    /// host is busy a request waits (at most max_wait_queue of them per host, FIFO) for one
    /// to finish; beyond that the host is skipped (session_errc::busy when all are).
    std::size_t max_requests_per_connection = 1024;
    std::size_t max_wait_queue = 4096;  ///< requests waiting per host; see above
};

/// Everything a cluster needs; plain data, copied by the cluster's constructor. Only
/// contact_points is required; the rest defaults to what a local single-DC cluster needs.
struct cluster_config {
    /// "host" or "host:port" ("[::1]:9042"): names or addresses. At least one.
    std::vector<std::string> contact_points;
    std::uint16_t port = 9042;  ///< for contact points and discovered hosts without a port
    /// Datacenter whose hosts the default load balancing prefers (empty: that of the first
    /// contact point that answers).
    std::string local_datacenter;

    /// Unset: v5, falling back to v4; every connection then uses what the first one got.
    std::optional<protocol::protocol_version> version;
    /// lz4: compress frames when the server offers LZ4 (else uncompressed).
    cql::compression compression = cql::compression::none;
    /// Credentials for servers that require authentication (e.g. plain_text_auth()).
    std::shared_ptr<auth_provider> auth;
    tls_options tls;  ///< TLS for every connection (tls.enabled)

    /// Per connection: resolve + TCP connect + TLS + protocol handshake.
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds request_timeout{12000};  ///< default profile's, when profiles unset
    /// Idle time after which a connection sends an OPTIONS probe (zero: none).
    std::chrono::milliseconds heartbeat_interval{30000};
    /// Largest frame body accepted from a server, in bytes: a larger one is a protocol error
    /// (protocol::codec_errc::body_too_large) and closes the connection. Memory follows the
    /// bytes that really arrive, not a frame's announced length. Requests larger than it
    /// fail with errc::request_too_large.
    std::uint32_t max_frame_size = 256u * 1024u * 1024u;

    pool_options pool;  ///< connections per host and request queueing
    /// Unset: one default profile (local_datacenter, request_timeout, default policies).
    std::optional<execution_profiles> profiles;
    /// Unset: exponential, 500 ms .. 30 s.
    std::shared_ptr<reconnection_policy> reconnection;

    /// The keyspace of unqualified names ("" : none): each connection is moved to it
    /// (USE) before its first request, so a keyspace that does not exist fails requests,
    /// not async_connect.
    std::string keyspace;
    bool client_timestamps = true;  ///< monotonic microsecond timestamps on every write
    /// Topology and schema events within this window cause one refresh.
    std::chrono::milliseconds event_debounce{100};
    /// After a schema change (DDL) the request completes once every up node reports the
    /// same schema version, or after this long (result::schema_in_agreement() then false).
    /// Zero: no wait.
    std::chrono::milliseconds max_schema_agreement_wait{10000};
    /// > 0: the cluster owns this many io_contexts with one thread each, each with its own
    /// connections to every host (pool_options counts per thread). A request started on one
    /// of these threads stays on it; requests from other threads go to one of them in runs.
    std::size_t io_threads = 0;

    /// Messages below this level are not logged (log_level::off: none).
    cql::log_level log_level = cql::log_level::warning;
    /// Receives every message at or above log_level (by default warnings and errors, e.g.
    /// "host down: ...", "control connection to ... lost", go to stderr). Replace it with
    /// your own, or silence it with `logger = nullptr` (or log_level::off). Called from the
    /// driver's threads, possibly concurrently: it must be thread-safe and must not block.
    std::function<void(cql::log_level, std::string_view)> logger = stderr_logger;
};

/// The driver's entry point: connects to a cluster of nodes, keeps its topology, schema
/// and connection pools up to date, and hands out sessions. Construct it, co_await
/// async_connect(), run statements through session(), and async_close() it.
///
/// Not copyable or movable; the sessions, hosts and snapshots it hands out reference it.
/// Every member is safe to call from any thread. All asynchronous operations complete on
/// the handler's associated executor (default: the executor given to the constructor).
class cluster {
  public:
    /// A cluster that does nothing until async_connect(). `ex` runs the cluster's work
    /// (unless cfg.io_threads > 0) and handlers without an executor of their own.
    cluster(boost::asio::any_io_executor ex, cluster_config cfg);
    /// Closes (without waiting for requests in flight) and, with io_threads, joins its threads.
    ~cluster();
    cluster(const cluster&) = delete;
    cluster& operator=(const cluster&) = delete;

    /// The executor given to the constructor.
    boost::asio::any_io_executor get_executor() const noexcept;

    /// Connects the control connection to a contact point (each in turn), discovers the
    /// hosts and the schema, opens the pools. Completes with the error of the contact
    /// points (the message naming each: the diagnostics overload below, or last_error()).
    ///
    /// Completes with `void(cql::error_code)`: success (also when already connected);
    /// session_errc::no_contact_points, session_errc::closed, or the error of the last
    /// contact point tried (errc::host_unreachable, errc::timed_out,
    /// errc::authentication_failed, errc::tls_handshake_failed, ...). Hosts whose pools fail
    /// to open are marked down and retried later; they do not fail the connect.
    /// \param tok an Asio completion token, or a handler `void(cql::error_code)`.
    template <class Token>
    auto async_connect(Token&& tok) {
        return connect(nullptr, std::forward<Token>(tok));
    }
    /// \copybrief async_connect(Token&&)
    /// On failure `diag.message` names each contact point tried and its error (cleared on
    /// success); `diag` must live until the completion. Calls made while a connect is under
    /// way complete with its outcome (nothing is connected twice).
    /// \param diag receives the details of a failure
    /// \param tok an Asio completion token, or a handler `void(cql::error_code)`.
    template <class Token>
    auto async_connect(diagnostics& diag, Token&& tok) {
        return connect(&diag, std::forward<Token>(tok));
    }

    /// Fails new requests, completes (with errors) every request in flight, closes every
    /// connection and stops the cluster's own threads. Completes with `void(cql::error_code)`
    /// (always success). Afterwards every operation fails with session_errc::closed; a
    /// closed cluster cannot be reconnected.
    /// \param tok an Asio completion token, or a handler `void(cql::error_code)`.
    template <class Token>
    auto async_close(Token&& tok) {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [this](auto handler) {
                start_close(
                    detail::make_op_completion<error_code>(std::move(handler), get_executor()));
            },
            tok);
    }

    /// The default session: statements without a keyspace run in the keyspace of
    /// cluster_config::keyspace or of the last USE run through it.
    cql::session& session() noexcept { return session_; }
    /// A session bound to a keyspace: its statements run in `keyspace` whatever USE the
    /// default session (or another bound session) ran. One per keyspace, living as long as
    /// the cluster (the same object for the same name). USE through it changes only the
    /// connection it ran on: the session stays bound to `keyspace`.
    cql::session& session(std::string_view keyspace);

    /// Every known host, up or down (a snapshot). This and the accessors below are safe
    /// from any thread and return snapshots that stay valid while held.
    std::vector<host_ptr> hosts() const;
    /// The schema (keyspaces, tables, columns, user types) as last read; null before it was
    /// first read. Replaced, never modified, when the schema changes.
    std::shared_ptr<const schema_metadata> metadata() const;
    /// The token ring and replicas as last built (null before connect).
    std::shared_ptr<const cql::token_map> token_map() const;
    /// The protocol version negotiated by the first connection.
    protocol::protocol_version version() const noexcept;
    /// The endpoint of the control connection's host ("" before connect).
    std::string control_host() const;
    /// Details of the last failed async_connect (shared by every caller: prefer the
    /// async_connect overload taking a cql::diagnostics).
    diagnostics last_error() const;
    /// Waits (asynchronously) until the schema metadata was re-read from the cluster.
    /// Completes with `void(cql::error_code)`: the error of the schema queries on the control
    /// connection, if any.
    /// \param tok an Asio completion token, or a handler `void(cql::error_code)`.
    template <class Token>
    auto async_refresh_schema(Token&& tok) {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [this](auto handler) {
                start_refresh(
                    detail::make_op_completion<error_code>(std::move(handler), get_executor()));
            },
            tok);
    }

    /// Whether every up node reports the same schema version now (system.local and
    /// system.peers on the control connection): completes with (error, agreed).
    /// Completion signature `void(cql::error_code, bool)`.
    /// \param tok an Asio completion token, or a handler `void(cql::error_code, bool)`.
    template <class Token>
    auto async_check_schema_agreement(Token&& tok) {
        return boost::asio::async_initiate<Token, void(error_code, bool)>(
            [this](auto handler) {
                start_check_agreement(detail::make_op_completion<error_code, bool>(
                    std::move(handler), get_executor()));
            },
            tok);
    }

  private:
    template <class Token>
    auto connect(diagnostics* diag, Token&& tok) {
        return detail::initiate_with_diagnostics<>(
            std::forward<Token>(tok), diag, [](diagnostics* d) { return d; },
            [this](auto handler, diagnostics* d) {
                start_connect(
                    detail::make_op_completion<error_code>(std::move(handler), get_executor()), d);
            });
    }
    void start_check_agreement(detail::op_ptr<error_code, bool> op);
    void start_connect(detail::op_ptr<error_code> op, diagnostics* diag);
    void start_close(detail::op_ptr<error_code> op);
    void start_refresh(detail::op_ptr<error_code> op);

    std::shared_ptr<detail::cluster_impl> impl_;
    cql::session session_;
};

}  // namespace cql
