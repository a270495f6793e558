#pragma once
/// \file
/// The session: runs statements on the cluster. Obtained from cql::cluster::session(); it
/// lives as long as the cluster. Every method is safe to call from any thread, and every
/// operation is an Asio asynchronous operation (use_awaitable, use_future, deferred,
/// callbacks, ...) completing with void(cql::error_code, T).
///
/// \code
///   cql::result r = co_await s.async_execute(cql::statement("SELECT ..."), asio::use_awaitable);
///   auto p = co_await s.async_prepare("INSERT INTO ks.t (k, v) VALUES (?, ?)", use_awaitable);
///   co_await s.async_execute(p.bind(1, "x"), asio::use_awaitable);
/// \endcode
///
/// Details of a failure (the server's message, consistency, received/required, which hosts
/// were tried) go to the optional cql::diagnostics given to the overloads taking one; it must
/// stay alive until the operation completes.
///
/// The statement (or batch) is encoded when the operation is initiated: it need not outlive
/// the call, also with asio::deferred.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include "cql/batch.hpp"
#include "cql/cluster_errc.hpp"
#include "cql/detail/op_completion.hpp"
#include "cql/error.hpp"
#include "cql/prepared.hpp"
#include "cql/result.hpp"
#include "cql/statement.hpp"
#include "cql/with_diagnostics.hpp"

namespace cql {

namespace detail {
class cluster_impl;
// A request encoded at initiation (opaque here): recycled when dropped unstarted.
class request;
struct request_deleter {
    void operator()(request* r) const noexcept;
};
using request_handle = std::unique_ptr<request, request_deleter>;
using result_completion = op_ptr<error_code, result>;
using prepare_completion = op_ptr<error_code, prepared_statement>;
}  // namespace detail

class page_stream;

/// True when a lightweight transaction (INSERT ... IF NOT EXISTS, UPDATE ... IF ...) was
/// applied: the "[applied]" column of its result (true for a result without that column).
bool applied(const result& r);

/// Runs statements, prepared statements and batches on the cluster: picks hosts with the
/// load balancing policy, retries with the retry policy, starts speculative executions, and
/// re-prepares transparently when a node answers UNPREPARED.
///
/// Get it from cluster::session() (the default session) or cluster::session("ks") (bound to
/// a keyspace); the cluster owns it, so the reference stays valid as long as the cluster.
/// Not copyable. Every member is safe to call from any thread, concurrently.
///
/// Every asynchronous operation:
///  - takes an Asio completion token (asio::use_awaitable, asio::use_future,
///    asio::deferred, a callback, ...) and completes with `void(cql::error_code, T)`; the
///    handler runs on its associated executor (default: get_executor()), never inside the
///    initiating call;
///  - encodes the statement when initiated, so the statement need not outlive the call;
///  - supports per-operation cancellation (asio::bind_cancellation_slot, awaitable
///    operators): terminal, partial and total cancellation complete it at once with
///    asio::error::operation_aborted; an attempt already sent may still be applied;
///  - fails with: session_errc::not_connected (before cluster::async_connect completed),
///    session_errc::closed (cluster closed), session_errc::no_host_available (every host of
///    the plan failed or was down: the message lists them), session_errc::busy,
///    session_errc::bad_statement, errc::bad_bind_value, errc::timed_out (the profile's or
///    statement's request timeout, retries included), any cql::server_errc the retry policy
///    rethrows (syntax_error, invalid, unavailable, read_timeout, ...).
///    The optional cql::diagnostics argument receives the details; it must stay alive until
///    the operation completes.
class session {
  public:
    /// \cond internal
    explicit session(std::shared_ptr<detail::cluster_impl> impl) : impl_(std::move(impl)) {}
    /// Bound to a keyspace (cluster::session("ks")).
    session(std::shared_ptr<detail::cluster_impl> impl, std::string keyspace)
        : impl_(std::move(impl)), bound_keyspace_(std::move(keyspace)) {}
    /// \endcond
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    /// The executor handlers run on when they have none of their own: the cluster's.
    boost::asio::any_io_executor get_executor() const noexcept;

    /// Executes a simple statement (a QUERY). Completes with
    /// `void(cql::error_code, cql::result)`: the rows of a SELECT (first page; see pages()
    /// for the rest), an empty result for other statements. See the class description for
    /// errors and cancellation.
    /// \param s the statement; copied/encoded now.
    /// \param tok an Asio completion token: asio::use_awaitable, asio::use_future,
    /// asio::deferred, or a handler `void(cql::error_code, cql::result)`.
    template <class Token>
    auto async_execute(const statement& s, Token&& tok) {
        return launch(s, nullptr, std::forward<Token>(tok));
    }
    /// \copybrief async_execute(const statement&, Token&&)
    ///
    /// As the overload without `diag`, which see.
    /// \param s the statement; copied/encoded now.
    /// \param diag on failure, gets the server's message and error fields (or the driver's
    /// explanation); must stay alive until completion; left alone on success.
    /// \param tok an Asio completion token, or a handler `void(cql::error_code, cql::result)`.
    template <class Token>
    auto async_execute(const statement& s, diagnostics& diag, Token&& tok) {
        return launch(s, &diag, std::forward<Token>(tok));
    }
    /// Executes a prepared statement with its bound values (an EXECUTE), token-aware when
    /// the partition key is bound. Completes with `void(cql::error_code, cql::result)`.
    /// When a node no longer knows the statement, it is re-prepared and re-executed.
    /// \param s the statement and its values; copied/encoded now.
    /// \param tok an Asio completion token, or a handler `void(cql::error_code, cql::result)`.
    template <class Token>
    auto async_execute(const bound_statement& s, Token&& tok) {
        return launch(s, nullptr, std::forward<Token>(tok));
    }
    /// \copybrief async_execute(const bound_statement&, Token&&)
    ///
    /// As the overload without `diag`, which see.
    /// \param s the statement and its values; copied/encoded now.
    /// \param diag failure details (alive until completion).
    /// \param tok an Asio completion token, or a handler `void(cql::error_code, cql::result)`.
    template <class Token>
    auto async_execute(const bound_statement& s, diagnostics& diag, Token&& tok) {
        return launch(s, &diag, std::forward<Token>(tok));
    }
    /// Executes a batch (a BATCH message). Completes with
    /// `void(cql::error_code, cql::result)`: empty, or for a conditional batch the
    /// "[applied]" row (see applied()).
    /// Fails with session_errc::bad_statement when the batch cannot be sent (e.g. named
    /// values, or a bound statement whose values could not be bound).
    /// \param b the batch; copied/encoded now.
    /// \param tok an Asio completion token, or a handler `void(cql::error_code, cql::result)`.
    template <class Token>
    auto async_batch(const batch& b, Token&& tok) {
        return launch(b, nullptr, std::forward<Token>(tok));
    }
    /// \copybrief async_batch(const batch&, Token&&)
    ///
    /// As the overload without `diag`, which see.
    /// \param b the batch; copied/encoded now.
    /// \param diag failure details (alive until completion).
    /// \param tok an Asio completion token, or a handler `void(cql::error_code, cql::result)`.
    template <class Token>
    auto async_batch(const batch& b, diagnostics& diag, Token&& tok) {
        return launch(b, &diag, std::forward<Token>(tok));
    }

    /// Prepares on one node, then on every other up node; cached by query and keyspace.
    /// Completes with `void(cql::error_code, cql::prepared_statement)`; the statement is
    /// valid for the cluster's lifetime and may be bound from any thread. Fails like
    /// async_execute (e.g. server_errc::syntax_error, server_errc::invalid).
    /// \param query the CQL text, with `?` or `:name` markers.
    /// \param tok an Asio completion token, or a handler
    /// `void(cql::error_code, cql::prepared_statement)`.
    template <class Token>
    auto async_prepare(std::string query, Token&& tok) {
        return prepare(std::move(query), nullptr, std::forward<Token>(tok));
    }
    /// \copybrief async_prepare(std::string, Token&&)
    ///
    /// As the overload without `diag`, which see.
    /// \param query the CQL text, with `?` or `:name` markers.
    /// \param diag on failure, gets the server's message (e.g. of a syntax error) or the
    /// driver's explanation; must stay alive until completion; left alone on success.
    /// \param tok an Asio completion token, or a handler
    /// `void(cql::error_code, cql::prepared_statement)`.
    template <class Token>
    auto async_prepare(std::string query, diagnostics& diag, Token&& tok) {
        return prepare(std::move(query), &diag, std::forward<Token>(tok));
    }

    /// All pages of a statement, fetched one by one when asked (see pages.hpp).
    page_stream pages(statement s);
    /// \copydoc pages(statement)
    page_stream pages(bound_statement s);

    /// The keyspace of the session: the bound one, else the cluster's current one (USE ks
    /// through the default session changes it; "" : none).
    std::string keyspace() const;
    /// True for a session from cluster::session("ks").
    bool bound() const noexcept { return !bound_keyspace_.empty(); }

    /// \cond internal
    /// Internal: builds the request of a statement (encoded now).
    detail::request_handle make_request(const statement& s, diagnostics* d) const;
    detail::request_handle make_request(const bound_statement& s, diagnostics* d) const;
    detail::request_handle make_request(const batch& b, diagnostics* d) const;
    void start(detail::request_handle r, detail::result_completion op,
               boost::asio::cancellation_slot slot = {}) const;
    /// \endcond

  private:
    // The request is encoded now, also for a token that defers the initiation.
    template <class Request, class Token>
    auto launch(const Request& req, diagnostics* diag, Token&& tok) {
        return detail::initiate_with_diagnostics<result>(
            std::forward<Token>(tok), diag, [&](diagnostics* d) { return make_request(req, d); },
            [this](auto handler, detail::request_handle r) {
                this->run(std::move(r), std::move(handler));
            });
    }
    template <class Handler>
    void run(detail::request_handle r, Handler&& handler) {
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        start(std::move(r),
              detail::make_op_completion<error_code, result>(std::forward<Handler>(handler),
                                                             get_executor()),
              slot);
    }
    template <class Token>
    auto prepare(std::string query, diagnostics* diag, Token&& tok) {
        return detail::initiate_with_diagnostics<prepared_statement>(
            std::forward<Token>(tok), diag,
            [&](diagnostics* d) { return std::pair(std::move(query), d); },
            [this](auto handler, std::pair<std::string, diagnostics*> q) {
                auto slot = boost::asio::get_associated_cancellation_slot(handler);
                this->start_prepare(std::move(q.first),
                                    detail::make_op_completion<error_code, prepared_statement>(
                                        std::move(handler), get_executor()),
                                    slot, q.second);
            });
    }
    void start_prepare(std::string query, detail::prepare_completion op,
                       boost::asio::cancellation_slot slot, diagnostics* diag) const;

    std::shared_ptr<detail::cluster_impl> impl_;
    std::string bound_keyspace_;  // "" : the cluster's current keyspace
};

}  // namespace cql

#include "cql/pages.hpp"
