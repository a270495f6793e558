#pragma once
/// \file
/// Speculative execution: start the same (idempotent) request on the next host of the plan
/// when the previous execution has not answered after some delay; the first answer wins.
/// The policy only says when; the session owns the timers:
/// \code
///   cql::speculative_schedule s(profile.speculative_execution.get(), idempotent, keyspace);
///   start execution 1; while (auto d = s.next()) { wait *d (or until done); start another }
/// \endcode
/// Requests that are not idempotent never get a speculative execution.

#include <chrono>
#include <optional>
#include <string_view>

namespace cql {

/// When to start one more execution of an idempotent request; set it in
/// execution_profile::speculative_execution. Called from any thread, concurrently:
/// implementations must be stateless or synchronized.
class speculative_execution_policy {
  public:
    virtual ~speculative_execution_policy() = default;
    /// Delay between the start of execution number `started` (1 = the initial one) and the
    /// start of the next one; nullopt: no more executions.
    virtual std::optional<std::chrono::milliseconds> next_delay(std::string_view keyspace,
                                                                int started) const = 0;
};

/// The default: never a speculative execution.
class no_speculative_execution_policy : public speculative_execution_policy {
  public:
    std::optional<std::chrono::milliseconds> next_delay(std::string_view, int) const override {
        return std::nullopt;
    }
};

/// A new execution every `delay`, up to `max_executions` in all (the initial one included, so
/// max_executions - 1 speculative ones; below 2: none).
class constant_speculative_execution_policy : public speculative_execution_policy {
  public:
    /// Negative delays count as zero.
    constant_speculative_execution_policy(std::chrono::milliseconds delay, int max_executions)
        : delay_(delay < std::chrono::milliseconds::zero() ? std::chrono::milliseconds::zero()
                                                           : delay),
          max_executions_(max_executions) {}

    std::optional<std::chrono::milliseconds> next_delay(std::string_view,
                                                        int started) const override {
        if (started >= max_executions_) return std::nullopt;
        return delay_;
    }

    std::chrono::milliseconds delay() const noexcept { return delay_; }  ///< between executions
    int max_executions() const noexcept { return max_executions_; }  ///< the initial one included

  private:
    std::chrono::milliseconds delay_;
    int max_executions_;
};

/// The executions of one request. Cheap (no allocation); keeps a pointer to the policy and a
/// view of the keyspace, which must outlive it.
class speculative_schedule {
  public:
    speculative_schedule() = default;  ///< no speculative executions
    /// The schedule of a request; `policy` null or `idempotent` false: no speculative
    /// executions.
    speculative_schedule(const speculative_execution_policy* policy, bool idempotent,
                         std::string_view keyspace = {}) noexcept
        : policy_(idempotent ? policy : nullptr), keyspace_(keyspace) {}

    /// The delay before starting one more execution (counted as started), or nullopt.
    std::optional<std::chrono::milliseconds> next() {
        if (!policy_) return std::nullopt;
        auto d = policy_->next_delay(keyspace_, started_);
        if (!d) {
            policy_ = nullptr;
            return std::nullopt;
        }
        ++started_;
        return d;
    }
    /// Executions started or scheduled so far (the initial one included).
    int executions() const noexcept { return started_; }

  private:
    const speculative_execution_policy* policy_ = nullptr;
    std::string_view keyspace_;
    int started_ = 1;
};

}  // namespace cql
