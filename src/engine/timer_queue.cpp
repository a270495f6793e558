#include "detail/timer_queue.hpp"

namespace cql::detail {

void timer_queue::up(std::size_t i) noexcept {
    auto* e = heap_[i];
    while (i > 0) {
        const auto parent = (i - 1) / 2;
        if (!(e->when_ < heap_[parent]->when_)) break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, e);
}

void timer_queue::down(std::size_t i) noexcept {
    auto* e = heap_[i];
    const auto n = heap_.size();
    for (;;) {
        auto child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && heap_[child + 1]->when_ < heap_[child]->when_) ++child;
        if (!(heap_[child]->when_ < e->when_)) break;
        place(i, heap_[child]);
        i = child;
    }
    place(i, e);
}

void timer_queue::remove_at(std::size_t i) noexcept {
    auto* e = heap_[i];
    e->index_ = timer_entry::npos;
    auto* last = heap_.back();
    heap_.pop_back();
    if (last == e) return;
    place(i, last);
    if (i > 0 && last->when_ < heap_[(i - 1) / 2]->when_)
        up(i);
    else
        down(i);
}

void timer_queue::schedule(timer_entry& e, clock::time_point when) {
    if (e.scheduled()) remove_at(e.index_);
    e.when_ = when;
    heap_.push_back(&e);
    e.index_ = heap_.size() - 1;
    up(e.index_);
}

void timer_queue::cancel(timer_entry& e) noexcept {
    if (e.scheduled()) remove_at(e.index_);
}

void timer_queue::expire(clock::time_point now) {
    while (!heap_.empty() && !(now < heap_.front()->when_)) {
        auto* e = heap_.front();
        remove_at(0);
        e->on_timer(now);
    }
}

}  // namespace cql::detail
