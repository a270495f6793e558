#include "detail/timer_queue.hpp"

namespace cql::detail {

void timer_queue::up(std::size_t i) noexcept {
    const auto s = heap_[i];
    while (i > 0) {
        const auto parent = (i - 1) / 2;
        if (!(s.when < heap_[parent].when)) break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, s);
}

void timer_queue::down(std::size_t i) noexcept {
    const auto s = heap_[i];
    const auto n = heap_.size();
    for (;;) {
        auto child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && heap_[child + 1].when < heap_[child].when) ++child;
        if (!(heap_[child].when < s.when)) break;
        place(i, heap_[child]);
        i = child;
    }
    place(i, s);
}

void timer_queue::remove_at(std::size_t i) noexcept {
    heap_[i].entry->index_ = timer_entry::npos;
    const auto last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;  // it was the last
    place(i, last);
    if (i > 0 && last.when < heap_[(i - 1) / 2].when)
        up(i);
    else
        down(i);
}

void timer_queue::schedule(timer_entry& e, clock::time_point when) {
    if (e.scheduled()) remove_at(e.index_);
    e.when_ = when;
    heap_.push_back({when, &e});
    e.index_ = heap_.size() - 1;
    up(e.index_);
}

void timer_queue::cancel(timer_entry& e) noexcept {
    if (e.scheduled()) remove_at(e.index_);
}

void timer_queue::expire(clock::time_point now) {
    while (!heap_.empty() && !(now < heap_.front().when)) {
        auto* e = heap_.front().entry;
        remove_at(0);
        e->on_timer(now);
    }
}

}  // namespace cql::detail
