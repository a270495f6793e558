#pragma once
// A type-erased completion handler for the session and cluster operations: the initiating
// function wraps the handler; the implementation completes it once, from any thread (the
// handler runs on its associated executor, never inside the initiating function).

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution/allocator.hpp>
#include <boost/asio/execution/blocking.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/require.hpp>

#include "cql/detail/asio_config.hpp"
#include "cql/detail/recycled_allocator.hpp"
#include "cql/error.hpp"

namespace cql::detail {

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
class op_completion {
  public:
    virtual ~op_completion() = default;
    virtual void complete(Args... args) = 0;

    // Allocated from per-thread free lists by size class (also the derived classes, whose
    // size the virtual destructor passes): in steady state a completion reuses the block of
    // an earlier one instead of the heap (Asio's per-thread cache holds only two blocks,
    // too few for hundreds of requests in flight).
    static void* operator new(std::size_t n) { return size_class_blocks::allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept {
        size_class_blocks::deallocate(p, n);
    }
};

template <class Handler, class... Args>
class op_completion_impl final : public op_completion<Args...> {
  public:
    op_completion_impl(Handler&& h, const boost::asio::any_io_executor& ex)
        : handler_(std::move(h)),
          work_(boost::asio::prefer(boost::asio::get_associated_executor(handler_, ex),
                                    boost::asio::execution::outstanding_work.tracked)) {}
    void complete(Args... args) override {
        auto ex = std::move(work_);
        if constexpr (std::is_same_v<work_executor, boost::asio::any_io_executor> &&
                      std::is_same_v<boost::asio::associated_allocator_t<Handler>,
                                     std::allocator<void>>) {
            // An io_context behind the type-erased executor: the handler is submitted to it
            // directly, never run inline, its operation's memory from the per-thread free
            // lists (Asio's own per-thread cache holds two blocks only). That io_context is
            // the handler's associated executor, so the handler is invoked as is: asio::post
            // would wrap it in a work_dispatcher that dispatches it again through the
            // type-erased executor (a third of the completion's CPU).
            using tracked_io = std::decay_t<decltype(boost::asio::prefer(
                std::declval<boost::asio::io_context::executor_type>(),
                boost::asio::execution::outstanding_work.tracked))>;
            if (auto* io = ex.template target<tracked_io>()) {
                boost::asio::require(*io, boost::asio::execution::blocking.never,
                                     boost::asio::execution::allocator(recycled_allocator<void>()))
                    .execute(
                        [h = std::move(handler_), ... a = handler_arg(std::move(args))]() mutable {
                            std::move(h)(std::move(a)...);
                        });
                return;
            }
        }
        boost::asio::post(
            ex, boost::asio::append(std::move(handler_), handler_arg(std::move(args))...));
    }

  private:
    using work_executor = std::decay_t<decltype(boost::asio::prefer(
        std::declval<boost::asio::associated_executor_t<Handler, boost::asio::any_io_executor>>(),
        boost::asio::execution::outstanding_work.tracked))>;
    Handler handler_;
    work_executor work_;
};

template <class... Args, class Handler>
std::unique_ptr<op_completion<Args...>> make_op_completion(Handler&& h,
                                                           const boost::asio::any_io_executor& ex) {
    return std::make_unique<op_completion_impl<std::decay_t<Handler>, Args...>>(
        std::forward<Handler>(h), ex);
}

}  // namespace cql::detail
