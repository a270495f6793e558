#pragma once
// The session: runs statements on the cluster. Obtained from cql::cluster::session(); it
// lives as long as the cluster. Every method is safe to call from any thread, and every
// operation is an Asio asynchronous operation (use_awaitable, use_future, deferred,
// callbacks, ...) completing with void(cql::error_code, T).
//
//   cql::result r = co_await s.async_execute(cql::statement("SELECT ..."), asio::use_awaitable);
//   auto p = co_await s.async_prepare("INSERT INTO ks.t (k, v) VALUES (?, ?)", use_awaitable);
//   co_await s.async_execute(p.bind(1, "x"), asio::use_awaitable);
//
// Details of a failure (the server's message, consistency, received/required, which hosts
// were tried) go to the optional cql::diagnostics given to the overloads taking one; it must
// stay alive until the operation completes.
//
// The statement (or batch) is encoded when the operation is initiated: it need not outlive
// the call, also with asio::deferred.

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

namespace cql {

namespace detail {
class cluster_impl;
struct request_spec;
using result_completion = op_completion<error_code, result>;
using prepare_completion = op_completion<error_code, prepared_statement>;
}  // namespace detail

class page_stream;

// True when a lightweight transaction (INSERT ... IF NOT EXISTS, UPDATE ... IF ...) was
// applied: the "[applied]" column of its result (true for a result without that column).
bool applied(const result& r);

class session {
  public:
    explicit session(std::shared_ptr<detail::cluster_impl> impl) : impl_(std::move(impl)) {}
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    boost::asio::any_io_executor get_executor() const noexcept;

    template <class Token>
    auto async_execute(const statement& s, Token&& tok) {
        return launch(make_spec(s, nullptr), std::forward<Token>(tok));
    }
    template <class Token>
    auto async_execute(const statement& s, diagnostics& diag, Token&& tok) {
        return launch(make_spec(s, &diag), std::forward<Token>(tok));
    }
    template <class Token>
    auto async_execute(const bound_statement& s, Token&& tok) {
        return launch(make_spec(s, nullptr), std::forward<Token>(tok));
    }
    template <class Token>
    auto async_execute(const bound_statement& s, diagnostics& diag, Token&& tok) {
        return launch(make_spec(s, &diag), std::forward<Token>(tok));
    }
    template <class Token>
    auto async_batch(const batch& b, Token&& tok) {
        return launch(make_spec(b, nullptr), std::forward<Token>(tok));
    }
    template <class Token>
    auto async_batch(const batch& b, diagnostics& diag, Token&& tok) {
        return launch(make_spec(b, &diag), std::forward<Token>(tok));
    }

    // Prepares on one node, then on every other up node; cached by query and keyspace.
    template <class Token>
    auto async_prepare(std::string query, Token&& tok) {
        return boost::asio::async_initiate<Token, void(error_code, prepared_statement)>(
            [this](auto handler, std::string q) {
                start_prepare(std::move(q),
                              detail::make_op_completion<error_code, prepared_statement>(
                                  std::move(handler), get_executor()));
            },
            tok, std::move(query));
    }

    // All pages of a statement, fetched one by one when asked (see pages.hpp).
    page_stream pages(statement s);
    page_stream pages(bound_statement s);

    // The keyspace of the session (USE ks changes it; "" : none).
    std::string keyspace() const;

    // Internal: builds the request of a statement (encoded now).
    std::shared_ptr<detail::request_spec> make_spec(const statement& s, diagnostics* d) const;
    std::shared_ptr<detail::request_spec> make_spec(const bound_statement& s, diagnostics* d) const;
    std::shared_ptr<detail::request_spec> make_spec(const batch& b, diagnostics* d) const;
    void start(std::shared_ptr<detail::request_spec> spec,
               std::unique_ptr<detail::result_completion> op) const;

  private:
    template <class Token>
    auto launch(std::shared_ptr<detail::request_spec> spec, Token&& tok) {
        return boost::asio::async_initiate<Token, void(error_code, result)>(
            [this](auto handler, std::shared_ptr<detail::request_spec> sp) {
                start(std::move(sp), detail::make_op_completion<error_code, result>(
                                         std::move(handler), get_executor()));
            },
            tok, std::move(spec));
    }
    void start_prepare(std::string query, std::unique_ptr<detail::prepare_completion> op) const;

    std::shared_ptr<detail::cluster_impl> impl_;
};

}  // namespace cql

#include "cql/pages.hpp"
