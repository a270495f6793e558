#pragma once
// A completion the driver consumes itself: done() does the work at once, on the thread that
// completes (a page stream's bookkeeping, a blocking close); it is never posted.

#include <utility>

#include "cql/detail/op_completion.hpp"

namespace cql::detail {

template <class... Args>
class direct_completion : public op_completion<Args...> {
  public:
    void complete(Args... args) final {
        done(std::move(args)...);
        delete this;
    }
    void invoke() final {}
    void discard() noexcept final { delete this; }

  protected:
    virtual void done(Args... args) = 0;
};

}  // namespace cql::detail
