#pragma once
/// \file
/// Reconnection: how long to wait before each new attempt to reach a host that went down.
/// The cluster asks the policy for a schedule when a host goes down, then waits
/// schedule->next_delay() before each attempt, and drops the schedule when the host is back.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace cql {

/// The delays of the reconnection attempts to one host, from one down period; used by one
/// host's reconnection loop only (no locking needed).
class reconnection_schedule {
  public:
    virtual ~reconnection_schedule() = default;
    /// The wait before the next attempt (each call is one attempt further).
    virtual std::chrono::milliseconds next_delay() = 0;
};

/// Makes a reconnection_schedule each time a host goes down; set it in
/// cluster_config::reconnection. new_schedule may be called concurrently from several threads.
class reconnection_policy {
  public:
    virtual ~reconnection_policy() = default;
    /// A fresh schedule, starting from the first attempt.
    virtual std::unique_ptr<reconnection_schedule> new_schedule() const = 0;
};

/// The same delay every time.
class constant_reconnection_policy : public reconnection_policy {
  public:
    /// Every attempt waits `delay`.
    explicit constant_reconnection_policy(std::chrono::milliseconds delay) : delay_(delay) {}
    std::unique_ptr<reconnection_schedule> new_schedule() const override;
    std::chrono::milliseconds delay() const noexcept { return delay_; }  ///< the delay

  private:
    std::chrono::milliseconds delay_;
};

/// Exponential backoff with full jitter: attempt n (0, 1, ...) waits a uniformly random delay
/// in [0, min(max, base * 2^n)] milliseconds.
class exponential_reconnection_policy : public reconnection_policy {
  public:
    /// Uniform 64-bit random numbers; called from whichever thread asks for a delay.
    using random_source = std::function<std::uint64_t()>;

    /// An empty random source uses a thread-local generator seeded from std::random_device.
    exponential_reconnection_policy(std::chrono::milliseconds base = std::chrono::seconds(1),
                                    std::chrono::milliseconds max = std::chrono::minutes(10),
                                    random_source random = {});
    std::unique_ptr<reconnection_schedule> new_schedule() const override;

    std::chrono::milliseconds base() const noexcept { return base_; }  ///< the first ceiling
    std::chrono::milliseconds max() const noexcept { return max_; }    ///< the largest ceiling
    /// The upper bound of attempt n's delay.
    std::chrono::milliseconds ceiling(std::uint32_t attempt) const noexcept;

  private:
    std::chrono::milliseconds base_;
    std::chrono::milliseconds max_;
    random_source random_;
};

}  // namespace cql
