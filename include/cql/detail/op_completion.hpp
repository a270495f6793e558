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
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/recycling_allocator.hpp>

namespace cql::detail {

template <class... Args>
class op_completion {
  public:
    virtual ~op_completion() = default;
    virtual void complete(Args... args) = 0;

    // Allocated through Asio's per-thread recycling cache (also the derived classes, whose
    // size the virtual destructor passes): created and destroyed on io threads, as in steady
    // state, a completion reuses the block of the previous one instead of the heap.
    static void* operator new(std::size_t n) {
        return boost::asio::recycling_allocator<unsigned char>().allocate(n);
    }
    static void operator delete(void* p, std::size_t n) noexcept {
        boost::asio::recycling_allocator<unsigned char>().deallocate(static_cast<unsigned char*>(p),
                                                                     n);
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
        boost::asio::post(ex, boost::asio::append(std::move(handler_), std::move(args)...));
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
