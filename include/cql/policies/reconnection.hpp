#pragma once
// Reconnection: how long to wait before each new attempt to reach a host that went down.
// The cluster asks the policy for a schedule when a host goes down, then waits
// schedule->next_delay() before each attempt, and drops the schedule when the host is back.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace cql {

class reconnection_schedule {
  public:
    virtual ~reconnection_schedule() = default;
    virtual std::chrono::milliseconds next_delay() = 0;
};

class reconnection_policy {
  public:
    virtual ~reconnection_policy() = default;
    virtual std::unique_ptr<reconnection_schedule> new_schedule() const = 0;
};

// The same delay every time.
class constant_reconnection_policy : public reconnection_policy {
  public:
    explicit constant_reconnection_policy(std::chrono::milliseconds delay) : delay_(delay) {}
    std::unique_ptr<reconnection_schedule> new_schedule() const override;
    std::chrono::milliseconds delay() const noexcept { return delay_; }

  private:
    std::chrono::milliseconds delay_;
};

// Exponential backoff with full jitter: attempt n (0, 1, ...) waits a uniformly random delay
// in [0, min(max, base * 2^n)] milliseconds.
class exponential_reconnection_policy : public reconnection_policy {
  public:
    // Uniform 64-bit random numbers; called from whichever thread asks for a delay.
    using random_source = std::function<std::uint64_t()>;

    // An empty random source uses a thread-local generator seeded from std::random_device.
    exponential_reconnection_policy(std::chrono::milliseconds base = std::chrono::seconds(1),
                                    std::chrono::milliseconds max = std::chrono::minutes(10),
                                    random_source random = {});
    std::unique_ptr<reconnection_schedule> new_schedule() const override;

    std::chrono::milliseconds base() const noexcept { return base_; }
    std::chrono::milliseconds max() const noexcept { return max_; }
    // The upper bound of attempt n's delay.
    std::chrono::milliseconds ceiling(std::uint32_t attempt) const noexcept;

  private:
    std::chrono::milliseconds base_;
    std::chrono::milliseconds max_;
    random_source random_;
};

}  // namespace cql
