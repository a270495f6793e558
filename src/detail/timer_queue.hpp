#pragma once
// The deadlines of the requests of one shard: a binary min-heap of entries, each knowing
// its position (removal in O(log n), no allocation once the heap's vector has grown). The
// heap holds each entry's time beside its pointer, so that sifting compares without reading
// the entries (requests scattered in memory: a cache miss each). The shard arms one Asio
// timer at earliest() and calls expire() when it fires; tests drive it with a clock of its
// own.

#include <chrono>
#include <cstddef>
#include <vector>

namespace cql::detail {

using clock = std::chrono::steady_clock;

class timer_entry {
  public:
    // Called by timer_queue::expire once `when` has passed (the entry is out of the queue).
    virtual void on_timer(clock::time_point now) = 0;

    clock::time_point when() const noexcept { return when_; }
    bool scheduled() const noexcept { return index_ != npos; }

  protected:
    virtual ~timer_entry() = default;

  private:
    friend class timer_queue;
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    clock::time_point when_{};
    std::size_t index_ = npos;
};

class timer_queue {
  public:
    // Schedules `e` at `when` (rescheduling it if it was scheduled).
    void schedule(timer_entry& e, clock::time_point when);
    void cancel(timer_entry& e) noexcept;
    bool empty() const noexcept { return heap_.empty(); }
    std::size_t size() const noexcept { return heap_.size(); }
    // The earliest time (time_point::max() when empty).
    clock::time_point earliest() const noexcept {
        return heap_.empty() ? clock::time_point::max() : heap_.front().when;
    }
    // Calls on_timer for every entry due at `now`, earliest first; entries may schedule or
    // cancel entries (also themselves) meanwhile.
    void expire(clock::time_point now);

  private:
    struct slot {
        clock::time_point when;
        timer_entry* entry;
    };
    void place(std::size_t i, slot s) noexcept {
        heap_[i] = s;
        s.entry->index_ = i;
    }
    void up(std::size_t i) noexcept;
    void down(std::size_t i) noexcept;
    void remove_at(std::size_t i) noexcept;

    std::vector<slot> heap_;
};

}  // namespace cql::detail
