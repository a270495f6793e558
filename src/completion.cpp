// Posting the completions of the session's and cluster's operations (op_completion.hpp), and
// their memory.
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/execution/allocator.hpp>
#include <boost/asio/execution/blocking.hpp>
#include <boost/asio/execution/relationship.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/require.hpp>

#include "cql/detail/op_completion.hpp"
#include "detail/recycled_allocator.hpp"

namespace cql::detail {

namespace asio = boost::asio;

namespace {
// The posted function: runs the completion, or discards it if it is destroyed unrun (its
// executor's context went away).
class run_completion {
  public:
    explicit run_completion(posted_completion* c) noexcept : c_(c) {}
    run_completion(run_completion&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    run_completion(const run_completion&) = delete;
    run_completion& operator=(const run_completion&) = delete;
    ~run_completion() {
        if (c_) c_->discard();
    }
    void operator()() { std::exchange(c_, nullptr)->invoke(); }

  private:
    posted_completion* c_;
};
}  // namespace

void post_completion(const asio::any_io_executor& ex, posted_completion* c) {
    using tracked_io =
        std::decay_t<decltype(asio::prefer(std::declval<asio::io_context::executor_type>(),
                                           asio::execution::outstanding_work.tracked))>;
    if (auto* io = ex.target<tracked_io>()) {
        // An io_context behind the type-erased executor: the completion is submitted to it
        // directly (asio::post would wrap it in a work_dispatcher that dispatches it again
        // through the type-erased executor), never run inline, its memory from the recycled
        // blocks, and as a continuation of the work on this thread: called from a thread
        // that runs that io_context, Asio queues it here instead of waking another thread.
        asio::prefer(asio::require(*io, asio::execution::blocking.never,
                                   asio::execution::allocator(recycled_allocator<void>())),
                     asio::execution::relationship.continuation)
            .execute(run_completion(c));
        return;
    }
    asio::post(ex, asio::bind_allocator(recycled_allocator<void>(), run_completion(c)));
}

void* allocate_completion(std::size_t n) {
    return size_class_blocks::allocate(n);
}

void deallocate_completion(void* p, std::size_t n) noexcept {
    size_class_blocks::deallocate(p, n);
}

}  // namespace cql::detail
