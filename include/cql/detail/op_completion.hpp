#pragma once
/// \file
/// \cond internal
// A type-erased completion handler for the session and cluster operations: the initiating
// function wraps the handler; the driver completes it once, from any thread. The handler
// then runs on its associated executor (never inside the initiating function), after its
// cancellation slot was cleared (so the handler may reuse the slot).
//
// Only what an initiating function needs is here; posting, and the memory of completions,
// are the library's (src/completion.cpp), so that including the driver's headers does not
// bring in Asio's I/O machinery.

#include <cstddef>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>

#include "cql/detail/asio_config.hpp"
#include "cql/error.hpp"

namespace cql::detail {

// What the library posts and runs.
class posted_completion {
  public:
    // On the handler's executor: runs the handler, frees the completion.
    virtual void invoke() = 0;
    // Frees the completion without running it (its executor went away).
    virtual void discard() noexcept = 0;

  protected:
    ~posted_completion() = default;
};

// Runs c->invoke() on `ex` (posted, never inline; as a continuation when `ex` is an
// io_context run by the calling thread, so that Asio does not wake another thread).
void post_completion(const boost::asio::any_io_executor& ex, posted_completion* c);
// Memory of completions: recycled per thread, balanced between threads.
void* allocate_completion(std::size_t n);
void deallocate_completion(void* p, std::size_t n) noexcept;

// What the handler gets: an error of the std system or generic category (the driver works
// with std::error_code inside) as Boost's own, so that it prints "system:104" and compares
// equal to asio::error::connection_reset; every other argument unchanged.
template <class T>
T&& handler_arg(T&& v) noexcept {
    return std::forward<T>(v);
}
inline error_code handler_arg(error_code&& ec) noexcept {
    return to_error_code(ec);
}

template <class... Args>
class op_completion : public posted_completion {
  public:
    virtual ~op_completion() = default;
    // Completes the operation with these arguments, once, and consumes the object (the
    // handler is posted with it): call it through complete(op_ptr&&, ...).
    virtual void complete(Args... args) = 0;

    static void* operator new(std::size_t n) { return allocate_completion(n); }
    static void operator delete(void* p, std::size_t n) noexcept { deallocate_completion(p, n); }
};

// Owns a completion until it is completed; dropped uncompleted, its handler is dropped
// unrun.
template <class... Args>
struct op_discard {
    void operator()(op_completion<Args...>* p) const noexcept { p->discard(); }
};
template <class... Args>
using op_ptr = std::unique_ptr<op_completion<Args...>, op_discard<Args...>>;

// Completes `op` (which is consumed) with `args`.
template <class... Args, class... A>
void complete(op_ptr<Args...> op, A&&... args) {
    op.release()->complete(std::forward<A>(args)...);
}

template <class Handler, class... Args>
class op_completion_impl final : public op_completion<Args...> {
  public:
    op_completion_impl(Handler&& h, const boost::asio::any_io_executor& ex)
        : handler_(std::move(h)),
          slot_(boost::asio::get_associated_cancellation_slot(handler_)),
          work_(boost::asio::prefer(boost::asio::get_associated_executor(handler_, ex),
                                    boost::asio::execution::outstanding_work.tracked)) {}

    void complete(Args... args) override {
        args_.emplace(std::move(args)...);
        // (the executor keeps the work counted until the handler ran)
        post_completion(boost::asio::any_io_executor(std::move(work_)), this);
    }
    void invoke() override {
        auto h = std::move(handler_);
        auto a = std::move(*args_);
        auto slot = slot_;
        delete this;
        if (slot.is_connected()) slot.clear();
        std::apply([&](auto&&... x) { std::move(h)(handler_arg(std::move(x))...); }, std::move(a));
    }
    void discard() noexcept override { delete this; }

  private:
    using work_executor = std::decay_t<decltype(boost::asio::prefer(
        std::declval<boost::asio::associated_executor_t<Handler, boost::asio::any_io_executor>>(),
        boost::asio::execution::outstanding_work.tracked))>;
    Handler handler_;
    boost::asio::cancellation_slot slot_;
    work_executor work_;
    std::optional<std::tuple<Args...>> args_;
};

template <class... Args, class Handler>
op_ptr<Args...> make_op_completion(Handler&& h, const boost::asio::any_io_executor& ex) {
    return op_ptr<Args...>(
        new op_completion_impl<std::decay_t<Handler>, Args...>(std::forward<Handler>(h), ex));
}

}  // namespace cql::detail
/// \endcond
