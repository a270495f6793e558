#pragma once
/// \file
/// Every row of a query as `T`, across pages, with read-ahead: while the rows of one page
/// are read, the next page is already being fetched (as async-cassandra's execute_stream
/// does), so a reader that keeps up never waits for the server after the first page.
///
/// \code
///   auto rows = animals.select().where(cql::col(&animal::genus) == "Quercus")
///                   .page_size(100).stream();
///   while (auto a = co_await rows.async_next(use_awaitable)) use(*a);
///   // or a page at a time: while (auto page = co_await rows.async_next_page(...)) ...
/// \endcode
///
/// Memory is bounded: at most `pages_ahead` pages (default 1) are fetched or held beyond
/// the one being read; the next fetch starts when the reader moves on to a held page.
/// The first page is fetched by the first async_next / async_next_page.
///
/// Operations: one at a time (a second one while one is pending completes with
/// boost::asio::error::in_progress). Each supports per-operation cancellation: the
/// operation completes with operation_aborted, the fetch in flight goes on and its page is
/// kept for the next call. cancel() or destroying the stream cancels that fetch too and
/// completes a pending operation with operation_aborted. A failed fetch is reported once;
/// calling again retries the same page. A row that cannot be read as `T` fails its
/// operation with the mapping_errc and the message in error_message(); the stream then
/// continues with the next row. The stream must not outlive the cluster.

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>

#include "cql/detail/op_completion.hpp"
#include "cql/mapping/execute.hpp"
#include "cql/mapping/query.hpp"
#include "cql/mapping/row.hpp"

namespace cql {

namespace detail {

template <mapped_struct T>
class stream_state : public std::enable_shared_from_this<stream_state<T>> {
  public:
    using row_ptr = op_ptr<error_code, std::optional<T>>;
    using page_ptr = op_ptr<error_code, std::optional<std::vector<T>>>;

    stream_state(query_spec spec, std::size_t ahead)
        : spec_(std::move(spec)), ahead_(ahead == 0 ? 1 : ahead) {}

    boost::asio::any_io_executor executor() const { return spec_.core->sess().get_executor(); }

    void next_row(row_ptr op, boost::asio::cancellation_slot slot) {
        start_waiting(row_, std::move(op), slot);
    }
    void next_page(page_ptr op, boost::asio::cancellation_slot slot) {
        start_waiting(page_, std::move(op), slot);
    }

    void cancel() {
        {
            std::lock_guard lk(m_);
            cancelled_ = true;
            if (fetching_) fetch_signal_.emit(boost::asio::cancellation_type::terminal);
        }
        abort_waiter();
    }

    std::size_t pages_fetched() const {
        std::lock_guard lk(m_);
        return fetched_;
    }
    std::size_t pages_held() const {
        std::lock_guard lk(m_);
        return ready_.size();
    }
    bool fetch_in_flight() const {
        std::lock_guard lk(m_);
        return fetching_;
    }
    std::string error_message() const {
        std::lock_guard lk(m_);
        return why_;
    }

  private:
    template <class Op>
    void start_waiting(Op& waiter, Op op, boost::asio::cancellation_slot slot) {
        std::unique_lock lk(m_);
        if (row_ || page_ || cancelled_) {
            const error_code ec = cancelled_ ? boost::asio::error::operation_aborted
                                             : boost::asio::error::in_progress;
            lk.unlock();
            complete(std::move(op), ec, std::nullopt);
            return;
        }
        waiter = std::move(op);
        if (slot.is_connected())  // cleared right before the handler runs (op_completion.hpp)
            slot.assign([w = this->weak_from_this()](boost::asio::cancellation_type) {
                if (auto self = w.lock()) self->abort_waiter();
            });
        serve(lk);
    }

    void abort_waiter() {
        std::unique_lock lk(m_);
        auto row = std::move(row_);
        auto page = std::move(page_);
        lk.unlock();
        if (row) complete(std::move(row), boost::asio::error::operation_aborted, std::nullopt);
        if (page) complete(std::move(page), boost::asio::error::operation_aborted, std::nullopt);
    }

    // Answers the waiter if it can, then fetches ahead if there is room. Releases `lk`.
    void serve(std::unique_lock<std::mutex>& lk) {
        row_ptr row_done;
        page_ptr page_done;
        error_code ec;
        std::optional<T> row;
        std::optional<std::vector<T>> page;
        bool reported_failure = false;
        if (row_ || page_) {
            bool answered = false;
            while (!answered) {
                if (current_ && pos_ != current_->end()) {
                    std::string why;
                    if (row_) {
                        T v{};
                        const auto rec = read_current(v, why);
                        ++pos_;
                        if (rec)
                            ec = rec;
                        else
                            row = std::move(v);
                    } else {
                        std::vector<T> all;
                        for (; pos_ != current_->end() && !ec; ++pos_) {
                            T v{};
                            if (auto rec = read_current(v, why))
                                ec = rec;
                            else
                                all.push_back(std::move(v));
                        }
                        if (!ec) page = std::move(all);
                    }
                    if (ec) why_ = std::move(why);
                    answered = true;
                } else if (!ready_.empty()) {
                    current_ = std::move(ready_.front());
                    ready_.pop_front();
                    pos_ = current_->begin();
                    plan_ec_ = row_plan<T>::make(&current_->metadata(), plan_, &plan_why_, true);
                } else if (error_) {
                    ec = error_;
                    why_ = std::move(error_why_);
                    error_ = {};
                    answered = true;
                    reported_failure = true;
                } else if (done_) {
                    answered = true;  // nullopt: every row was read
                } else {
                    break;  // wait for the page in flight
                }
            }
            if (answered) {
                row_done = std::move(row_);
                page_done = std::move(page_);
            }
        }
        // After a failed fetch is reported, the page is fetched again when the reader asks.
        const bool fetch = !fetching_ && !done_ && !cancelled_ && !error_ && !reported_failure &&
                           ready_.size() < ahead_;
        if (fetch) fetching_ = true;
        lk.unlock();
        if (row_done) complete(std::move(row_done), ec, std::move(row));
        if (page_done) complete(std::move(page_done), ec, std::move(page));
        if (fetch) start_fetch();
    }

    std::error_code read_current(T& out, std::string& why) {
        if (plan_ec_) {
            why = plan_why_;
            return plan_ec_;
        }
        return plan_.read(*pos_, out, &why);
    }

    void start_fetch() {
        if (!prepared_) {
            if (spec_.ec) return fetched(spec_.ec, spec_.error, std::nullopt);
            if (auto p = spec_.core->find(spec_.cql)) return prepared(*p);
            return spec_.core->sess().async_prepare(
                spec_.cql, [self = this->shared_from_this()](error_code ec, prepared_statement p) {
                    if (ec)
                        return self->fetched(
                            ec, "cql mapping: preparing \"" + self->spec_.cql + "\" failed",
                            std::nullopt);
                    self->spec_.core->store(self->spec_.cql, p);
                    self->prepared(p);
                });
        }
        execute();
    }
    void prepared(const prepared_statement& p) {
        std::string why;
        if (auto ec = bind_spec(spec_, p, stmt_, why)) return fetched(ec, why, std::nullopt);
        prepared_ = true;
        execute();
    }
    void execute() {
        std::lock_guard lk(m_);
        if (cancelled_) {
            fetching_ = false;
            return;
        }
        spec_.core->sess().async_execute(
            stmt_, diag_,
            boost::asio::bind_cancellation_slot(
                fetch_signal_.slot(), [self = this->shared_from_this()](error_code ec, result r) {
                    self->fetched(ec, ec ? self->diag_.message : std::string(), std::move(r));
                }));
    }
    void fetched(error_code ec, std::string why, std::optional<result> r) {
        std::unique_lock lk(m_);
        fetching_ = false;
        if (cancelled_) return;
        if (ec) {
            error_ = ec;
            error_why_ = std::move(why);
        } else {
            ++fetched_;
            if (r->has_more_pages())
                stmt_.paging_state(*r->paging_state());
            else
                done_ = true;
            ready_.push_back(std::move(*r));
        }
        serve(lk);
    }

    mutable std::mutex m_;
    query_spec spec_;
    const std::size_t ahead_;
    bool prepared_ = false;
    bound_statement stmt_;
    diagnostics diag_;
    boost::asio::cancellation_signal fetch_signal_;
    bool fetching_ = false, done_ = false, cancelled_ = false;
    std::size_t fetched_ = 0;
    std::deque<result> ready_;
    std::optional<result> current_;
    result::iterator pos_;
    row_plan<T> plan_;
    std::error_code plan_ec_;
    std::string plan_why_;
    error_code error_;
    std::string error_why_, why_;
    row_ptr row_;
    page_ptr page_;
};

}  // namespace detail

/// The rows of a query as `T` with read-ahead (see the file description); made by
/// select_query::stream(). Move-only; destroying it cancels what it has in flight.
template <mapped_struct T>
class mapped_stream {
  public:
    /// \cond internal
    mapped_stream(detail::query_spec spec, std::size_t pages_ahead)
        : s_(std::make_shared<detail::stream_state<T>>(std::move(spec), pages_ahead)) {}
    /// \endcond
    mapped_stream(mapped_stream&&) noexcept = default;  ///< moves the stream
    /// Cancels this stream's fetch, then takes `other`'s.
    mapped_stream& operator=(mapped_stream&& other) noexcept {
        if (this != &other) {
            cancel();
            s_ = std::move(other.s_);
        }
        return *this;
    }
    ~mapped_stream() { cancel(); }  ///< cancels the fetch in flight

    /// The next row. Completes with `void(cql::error_code, std::optional<T>)`: nullopt
    /// after the last row.
    /// \param tok an Asio completion token.
    template <class Token>
    auto async_next(Token&& tok) {
        return boost::asio::async_initiate<Token, void(error_code, std::optional<T>)>(
            [s = s_](auto handler) {
                auto slot = boost::asio::get_associated_cancellation_slot(handler);
                s->next_row(detail::make_op_completion<error_code, std::optional<T>>(
                                std::move(handler), s->executor()),
                            slot);
            },
            tok);
    }
    /// The rest of the current page, or the next page, as values. Completes with
    /// `void(cql::error_code, std::optional<std::vector<T>>)`: nullopt after the last page
    /// (a page may be empty).
    /// \param tok an Asio completion token.
    template <class Token>
    auto async_next_page(Token&& tok) {
        return boost::asio::async_initiate<Token, void(error_code, std::optional<std::vector<T>>)>(
            [s = s_](auto handler) {
                auto slot = boost::asio::get_associated_cancellation_slot(handler);
                s->next_page(detail::make_op_completion<error_code, std::optional<std::vector<T>>>(
                                 std::move(handler), s->executor()),
                             slot);
            },
            tok);
    }

    /// Stops: cancels the fetch in flight; a pending operation completes with
    /// operation_aborted, and so does every later one.
    void cancel() {
        if (s_) s_->cancel();
    }
    /// Pages received so far.
    std::size_t pages_fetched() const { return s_->pages_fetched(); }
    /// Pages received and not yet read (at most pages_ahead).
    std::size_t pages_held() const { return s_->pages_held(); }
    /// True while a page is being fetched.
    bool fetch_in_flight() const { return s_->fetch_in_flight(); }
    /// The explanation of the last failure (a mapping error, a failed fetch).
    std::string error_message() const { return s_->error_message(); }

  private:
    std::shared_ptr<detail::stream_state<T>> s_;
};

template <mapped_struct T>
mapped_stream<T> select_query<T>::stream(std::size_t pages_ahead) const {
    return mapped_stream<T>(this->spec(), pages_ahead);
}

}  // namespace cql
