#pragma once
// Per-thread stacks of reusable items of one kind, balanced between threads through a
// shared depot. Per-request objects are often made on one thread and dropped on another (a
// request started on the user's thread, finished on an io thread): plain per-thread free
// lists then fill up on one side and stay empty on the other, and every request goes to
// the heap. Here a thread whose stack is full hands it to the depot whole, and a thread
// whose stack is empty takes such a batch back: one mutex lock per batch of items. The
// batches' vectors travel too (a thread that takes a batch leaves its empty vector in the
// depot for the next one that hands one in), so steady state allocates nothing.

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace cql::detail {

// Traits: `using item = ...;` (cheap to move) and `static void dispose(item&&) noexcept`
// (frees an item nobody will reuse).
template <class Traits, std::size_t Max = 256>
class thread_cache {
  public:
    using item = typename Traits::item;
    static constexpr std::size_t max_batches = 16;  // in the depot

    // A cached item into `out` (true), or false when there is none: make a new one.
    static bool pop(item& out) noexcept {
        auto* l = local::get();
        if (!l || (l->items.empty() && !l->refill())) return false;
        out = std::move(l->items.back());
        l->items.pop_back();
        return true;
    }
    // Keeps `x` for reuse (true), or false when it cannot: dispose of it yourself.
    static bool push(item&& x) noexcept {
        auto* l = local::get();
        if (!l) return false;
        if (l->items.size() >= Max && !l->spill()) return false;
        l->items.push_back(std::move(x));  // (capacity reserved: no allocation)
        return true;
    }

  private:
    struct depot {
        std::mutex mutex;
        std::vector<std::vector<item>> batches;  // full
        std::vector<std::vector<item>> spares;   // empty, with capacity Max
        depot() {
            batches.reserve(max_batches);
            spares.reserve(max_batches + 1);
        }
        ~depot() {
            for (auto& b : batches)
                dispose_all(b);
        }
        static depot& get() noexcept {
            static depot d;
            return d;
        }
    };

    struct local {
        std::vector<item> items;
        local() { items.reserve(Max); }
        ~local() {
            gone() = true;
            dispose_all(items);
        }
        static bool& gone() noexcept {
            thread_local bool g = false;
            return g;
        }
        static local* get() noexcept {
            if (gone()) return nullptr;  // (at thread exit)
            thread_local local l;
            return &l;
        }
        // Swaps the empty stack for a full batch of the depot (the empty vector stays there
        // as a spare).
        bool refill() noexcept {
            auto& d = depot::get();
            std::lock_guard lk(d.mutex);
            if (d.batches.empty()) return false;
            if (d.spares.size() < d.spares.capacity())
                d.spares.push_back(std::move(items));  // (capacity reserved: no allocation)
            items = std::move(d.batches.back());
            d.batches.pop_back();
            return true;
        }
        // Hands the full stack to the depot and takes a spare empty vector; false when the
        // depot is full or has no spare and none can be allocated (the caller disposes of
        // the item then).
        bool spill() noexcept {
            std::vector<item> fresh;
            {
                auto& d = depot::get();
                std::lock_guard lk(d.mutex);
                if (d.batches.size() < max_batches) {
                    if (!d.spares.empty()) {
                        fresh = std::move(d.spares.back());
                        d.spares.pop_back();
                    }
                    d.batches.push_back(std::move(items));  // (capacity reserved)
                    items = std::move(fresh);
                    if (items.capacity() >= Max) return true;
                } else {
                    return false;
                }
            }
            try {
                items.reserve(Max);  // (no spare yet: the first batches only)
            } catch (...) {
                return false;
            }
            return true;
        }
    };

    static void dispose_all(std::vector<item>& v) noexcept {
        for (auto& x : v)
            Traits::dispose(std::move(x));
        v.clear();
    }
};

}  // namespace cql::detail
