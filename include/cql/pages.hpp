#pragma once
/// \file
/// An asynchronous stream over the pages of a statement: the next page is fetched only
/// when asked.
///
/// \code
///   auto pages = s.pages(cql::statement("SELECT * FROM ks.t").page_size(1000));
///   while (auto page = co_await pages.async_next(asio::use_awaitable)) {
///       for (cql::row_view row : *page) { ... }
///   }
/// \endcode
///
/// async_next completes with (error, std::optional<result>): nullopt once every page was
/// read. paging_state() is where the stream stands (empty before the first page and after
/// the last one): save it, and resume later with statement::paging_state(saved) (or
/// resume_from). The stream must outlive its async_next operation; one at a time.
///
/// Rows across pages: async_next_row completes with (error, std::optional<row_view>), nullopt
/// after the last row; the row stays valid until the next call (it views the current page,
/// which the stream keeps). Use either async_next or async_next_row on one stream.
///
/// \code
///   while (auto row = co_await pages.async_next_row(asio::use_awaitable)) { ... }
/// \endcode

#include <memory>
#include <optional>
#include <utility>
#include <variant>

#include <boost/asio/async_result.hpp>

#include "cql/detail/op_completion.hpp"
#include "cql/error.hpp"
#include "cql/prepared.hpp"
#include "cql/result.hpp"
#include "cql/statement.hpp"
#include "cql/with_diagnostics.hpp"

namespace cql {

class session;

namespace detail {
using page_completion = op_ptr<error_code, std::optional<result>>;
using row_completion = op_ptr<error_code, std::optional<row_view>>;
}  // namespace detail

/// The pages of one statement, fetched one at a time when asked; made by session::pages().
/// It holds a copy of the statement (whose paging state it advances) and a pointer to the
/// session, so it must not outlive the cluster. Movable as long as no operation is pending;
/// not synchronized: one operation at a time. A failed fetch (e.g. errc::timed_out) leaves
/// the position unchanged, so calling async_next again retries the same page.
class page_stream {
  public:
    /// A stream over the pages of `st` run through `s` (session::pages() is the usual way).
    page_stream(const session& s, std::variant<statement, bound_statement> st);

    /// Fetches the next page. Completes with
    /// `void(cql::error_code, std::optional<cql::result>)`: a page (possibly empty), or
    /// nullopt once every page was read. Errors, cancellation and diagnostics as
    /// session::async_execute (use_awaitable and use_future throw
    /// cql::error_with_diagnostics with the server's message).
    /// \param tok an Asio completion token, or a handler
    /// `void(cql::error_code, std::optional<cql::result>)`.
    template <class Token>
    auto async_next(Token&& tok) {
        return initiate<result>(nullptr, std::forward<Token>(tok), &page_stream::start_next);
    }
    /// \copybrief async_next(Token&&)
    /// As the overload without `diag`, which see.
    /// \param diag on failure, gets the server's message and error fields (alive until
    /// completion).
    /// \param tok an Asio completion token.
    template <class Token>
    auto async_next(diagnostics& diag, Token&& tok) {
        return initiate<result>(&diag, std::forward<Token>(tok), &page_stream::start_next);
    }

    /// The next row across pages, fetching a page when the current one is exhausted (empty
    /// pages are skipped). Completes with `void(cql::error_code, std::optional<cql::row_view>)`:
    /// nullopt after the last row. The row is valid until the next call on this stream.
    /// Diagnostics as async_next.
    /// \param tok an Asio completion token, or a handler
    /// `void(cql::error_code, std::optional<cql::row_view>)`.
    template <class Token>
    auto async_next_row(Token&& tok) {
        return initiate<row_view>(nullptr, std::forward<Token>(tok), &page_stream::start_next_row);
    }
    /// \copybrief async_next_row(Token&&)
    /// As the overload without `diag`, which see.
    /// \param diag on failure, gets the server's message and error fields (alive until
    /// completion).
    /// \param tok an Asio completion token.
    template <class Token>
    auto async_next_row(diagnostics& diag, Token&& tok) {
        return initiate<row_view>(&diag, std::forward<Token>(tok), &page_stream::start_next_row);
    }

    /// The paging state of the next page to fetch (nullopt: first page, or done()).
    std::optional<protocol::bytes_view> paging_state() const noexcept;
    /// Continue from a saved paging state.
    page_stream& resume_from(protocol::bytes_view state);
    /// True once the last page was fetched (async_next then completes with nullopt).
    bool done() const noexcept { return done_; }
    /// Pages fetched successfully so far.
    std::size_t pages_fetched() const noexcept { return pages_; }

  private:
    // async_next and async_next_row: T is what they complete with (inside an optional),
    // `start` the member that runs the operation.
    template <class T, class Token>
    auto initiate(diagnostics* diag, Token&& tok,
                  void (page_stream::*start)(detail::op_ptr<error_code, std::optional<T>>,
                                             boost::asio::cancellation_slot, diagnostics*)) {
        return detail::initiate_with_diagnostics<std::optional<T>>(
            std::forward<Token>(tok), diag, [](diagnostics* d) { return d; },
            [this, start](auto handler, diagnostics* d) {
                auto slot = boost::asio::get_associated_cancellation_slot(handler);
                (this->*start)(detail::make_op_completion<error_code, std::optional<T>>(
                                   std::move(handler), this->executor()),
                               slot, d);
            });
    }
    boost::asio::any_io_executor executor() const;
    void start_next(detail::page_completion op, boost::asio::cancellation_slot slot = {},
                    diagnostics* diag = nullptr);
    void on_page(error_code ec, const result& r);
    void start_next_row(detail::row_completion op, boost::asio::cancellation_slot slot = {},
                        diagnostics* diag = nullptr);

    const session* session_;
    std::variant<statement, bound_statement> st_;
    bool done_ = false;
    std::size_t pages_ = 0;
    std::optional<result> current_;  // the page async_next_row reads
    result::iterator row_;
};

}  // namespace cql
