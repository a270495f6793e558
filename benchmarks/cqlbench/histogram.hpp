#pragma once
// A fixed-memory, HDR-style latency histogram: log-linear buckets. Values below 128 have
// a bucket each; above, every power of two [2^k, 2^(k+1)) is split into 64 equal buckets,
// so a recorded value is known to within 1/64 (better than 2 significant digits). Values
// are nanoseconds (any unsigned 64-bit quantity works). 57 * 64 + 128 counters, no
// allocation after construction.

#include <array>
#include <bit>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace cqlbench {

class histogram {
  public:
    static constexpr int sub_bits = 6;  // 64 buckets per power of two
    static constexpr std::uint64_t sub_count = std::uint64_t{1} << sub_bits;
    static constexpr std::size_t bucket_count = (64 - sub_bits) * sub_count + 2 * sub_count;

    void record(std::uint64_t v) noexcept {
        ++counts_[index_of(v)];
        ++total_;
        if (v > max_) max_ = v;
        if (v < min_) min_ = v;
        sum_ += v;
    }
    void merge(const histogram& o) noexcept {
        for (std::size_t i = 0; i < bucket_count; ++i)
            counts_[i] += o.counts_[i];
        total_ += o.total_;
        sum_ += o.sum_;
        if (o.max_ > max_) max_ = o.max_;
        if (o.min_ < min_) min_ = o.min_;
    }
    void reset() noexcept { *this = histogram{}; }

    std::uint64_t count() const noexcept { return total_; }
    std::uint64_t max() const noexcept { return max_; }
    std::uint64_t min() const noexcept { return total_ ? min_ : 0; }
    double mean() const noexcept {
        return total_ ? static_cast<double>(sum_) / static_cast<double>(total_) : 0.0;
    }

    // The value at quantile q in [0, 1]: the upper bound of the bucket holding the
    // ceil(q * count)-th smallest value (clamped to the maximum seen).
    std::uint64_t percentile(double q) const noexcept {
        if (total_ == 0) return 0;
        auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_) + 0.999999);
        if (rank < 1) rank = 1;
        if (rank > total_) rank = total_;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < bucket_count; ++i) {
            seen += counts_[i];
            if (seen >= rank) {
                auto hi = upper_bound_of(i);
                return hi < max_ ? hi : max_;
            }
        }
        return max_;
    }

    static std::size_t index_of(std::uint64_t v) noexcept {
        if (v < 2 * sub_count) return static_cast<std::size_t>(v);
        const int msb = 63 - std::countl_zero(v);  // >= sub_bits + 1
        const int shift = msb - sub_bits;          // >= 1
        return static_cast<std::size_t>(shift) * sub_count + static_cast<std::size_t>(v >> shift);
    }
    // Largest value that falls in bucket i.
    static std::uint64_t upper_bound_of(std::size_t i) noexcept {
        if (i < 2 * sub_count) return i;
        const auto shift = static_cast<int>(i / sub_count) - 1;
        const std::uint64_t top = (i % sub_count) + sub_count;  // in [64, 128)
        return ((top + 1) << shift) - 1;
    }

  private:
    std::array<std::uint64_t, bucket_count> counts_{};
    std::uint64_t total_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t min_ = ~std::uint64_t{0};
};

// One histogram per thread that records: one per worker (31 KB each) spread 256 workers'
// fields over 8 MB and cost the tool a cache miss or two per request (~8% of the client
// CPU it measured with io threads, 2026-12-05).
class thread_histograms {
  public:
    // The calling thread's histogram (made at its first call).
    histogram& mine() {
        thread_local const thread_histograms* owner = nullptr;
        thread_local histogram* own = nullptr;
        if (owner != this) {
            std::lock_guard lk(mutex_);
            all_.push_back(std::make_unique<histogram>());
            own = all_.back().get();
            owner = this;
        }
        return *own;
    }
    // Between phases (no thread records meanwhile).
    void reset() {
        std::lock_guard lk(mutex_);
        for (auto& h : all_)
            h->reset();
    }
    void merge_into(histogram& out) {
        std::lock_guard lk(mutex_);
        for (const auto& h : all_)
            out.merge(*h);
    }

  private:
    std::mutex mutex_;
    std::vector<std::unique_ptr<histogram>> all_;
};

}  // namespace cqlbench
