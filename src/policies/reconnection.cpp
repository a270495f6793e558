#include "cql/policies/reconnection.hpp"

#include <algorithm>
#include <random>

namespace cql {

namespace {

class constant_schedule final : public reconnection_schedule {
  public:
    explicit constant_schedule(std::chrono::milliseconds d) : delay_(d) {}
    std::chrono::milliseconds next_delay() override { return delay_; }

  private:
    std::chrono::milliseconds delay_;
};

class exponential_schedule final : public reconnection_schedule {
  public:
    exponential_schedule(const exponential_reconnection_policy& p,
                         exponential_reconnection_policy::random_source r)
        : policy_(p.base(), p.max(), {}), random_(std::move(r)) {}

    std::chrono::milliseconds next_delay() override {
        const auto cap = policy_.ceiling(attempt_);
        if (attempt_ < 64) ++attempt_;
        const auto span = static_cast<std::uint64_t>(cap.count()) + 1;
        return std::chrono::milliseconds(static_cast<std::int64_t>(random_() % span));
    }

  private:
    exponential_reconnection_policy policy_;  // a copy without a random source
    exponential_reconnection_policy::random_source random_;
    std::uint32_t attempt_ = 0;
};

std::uint64_t default_random() {
    thread_local std::mt19937_64 gen{[] {
        std::random_device rd;
        return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    }()};
    return gen();
}

}  // namespace

std::unique_ptr<reconnection_schedule> constant_reconnection_policy::new_schedule() const {
    return std::make_unique<constant_schedule>(delay_);
}

exponential_reconnection_policy::exponential_reconnection_policy(std::chrono::milliseconds base,
                                                                 std::chrono::milliseconds max,
                                                                 random_source random)
    : base_(std::max(base, std::chrono::milliseconds(0))),
      max_(std::max(max, base_)),
      random_(random ? std::move(random) : random_source(&default_random)) {}

std::chrono::milliseconds exponential_reconnection_policy::ceiling(
    std::uint32_t attempt) const noexcept {
    std::int64_t c = base_.count();
    if (c == 0) return std::chrono::milliseconds(0);
    for (std::uint32_t i = 0; i < attempt && c < max_.count(); ++i)
        c = c > max_.count() / 2 ? max_.count() : c * 2;
    return std::chrono::milliseconds(std::min(c, max_.count()));
}

std::unique_ptr<reconnection_schedule> exponential_reconnection_policy::new_schedule() const {
    return std::make_unique<exponential_schedule>(*this, random_);
}

}  // namespace cql
