#pragma once
// A move-only, type-erased callable: holds completion handlers (which are often move-only,
// e.g. a coroutine's) where std::function needs copyable targets.

#include <memory>
#include <utility>

namespace cql::detail {

template <class Signature>
class unique_function;

template <class R, class... Args>
class unique_function<R(Args...)> {
  public:
    unique_function() = default;
    unique_function(std::nullptr_t) noexcept {}
    template <class F>
    unique_function(F f) : p_(std::make_unique<impl<F>>(std::move(f))) {}

    R operator()(Args... args) { return p_->call(std::forward<Args>(args)...); }
    explicit operator bool() const noexcept { return p_ != nullptr; }

  private:
    struct base {
        virtual ~base() = default;
        virtual R call(Args... args) = 0;
    };
    template <class F>
    struct impl final : base {
        explicit impl(F fn) : f(std::move(fn)) {}
        R call(Args... args) override { return f(std::forward<Args>(args)...); }
        F f;
    };
    std::unique_ptr<base> p_;
};

}  // namespace cql::detail
