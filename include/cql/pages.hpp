#pragma once
// An asynchronous stream over the pages of a statement: the next page is fetched only
// when asked.
//
//   auto pages = s.pages(cql::statement("SELECT * FROM ks.t").page_size(1000));
//   while (auto page = co_await pages.async_next(asio::use_awaitable)) {
//       for (cql::row_view row : *page) { ... }
//   }
//
// async_next completes with (error, std::optional<result>): nullopt once every page was
// read. paging_state() is where the stream stands (empty before the first page and after
// the last one): save it, and resume later with statement::paging_state(saved) (or
// resume_from). The stream must outlive its async_next operation; one at a time.
//
// Rows across pages: async_next_row completes with (error, std::optional<row_view>), nullopt
// after the last row; the row stays valid until the next call (it views the current page,
// which the stream keeps). Use either async_next or async_next_row on one stream.
//
//   while (auto row = co_await pages.async_next_row(asio::use_awaitable)) { ... }

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

namespace cql {

class session;

namespace detail {
using page_completion = op_completion<error_code, std::optional<result>>;
using row_completion = op_completion<error_code, std::optional<row_view>>;
}  // namespace detail

class page_stream {
  public:
    page_stream(const session& s, std::variant<statement, bound_statement> st)
        : session_(&s), st_(std::move(st)) {}

    template <class Token>
    auto async_next(Token&& tok) {
        return boost::asio::async_initiate<Token, void(error_code, std::optional<result>)>(
            [this](auto handler) {
                start_next(detail::make_op_completion<error_code, std::optional<result>>(
                    std::move(handler), executor()));
            },
            tok);
    }

    template <class Token>
    auto async_next_row(Token&& tok) {
        return boost::asio::async_initiate<Token, void(error_code, std::optional<row_view>)>(
            [this](auto handler) {
                start_next_row(detail::make_op_completion<error_code, std::optional<row_view>>(
                    std::move(handler), executor()));
            },
            tok);
    }

    // The paging state of the next page to fetch (nullopt: first page, or done()).
    std::optional<protocol::bytes_view> paging_state() const noexcept;
    // Continue from a saved paging state.
    page_stream& resume_from(protocol::bytes_view state);
    bool done() const noexcept { return done_; }
    std::size_t pages_fetched() const noexcept { return pages_; }

  private:
    boost::asio::any_io_executor executor() const;
    void start_next(std::unique_ptr<detail::page_completion> op);
    void on_page(error_code ec, const result& r);
    void start_next_row(std::unique_ptr<detail::row_completion> op);

    const session* session_;
    std::variant<statement, bound_statement> st_;
    bool done_ = false;
    std::size_t pages_ = 0;
    std::optional<result> current_;  // the page async_next_row reads
    result::iterator row_;
};

}  // namespace cql
