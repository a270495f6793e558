#pragma once
// Per-thread stacks of reusable items of one kind, balanced between threads through a
// shared depot. Per-request objects are often made on one thread and dropped on another (a
// request started on the user's thread, finished on an io thread): plain per-thread free
// lists then fill up on one side and stay empty on the other, and every request goes to
// the heap. Here a thread whose stack is full hands half of it to the depot, and a thread
// whose stack is empty takes such a batch back: one mutex lock per batch of items.

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

/// \cond internal
namespace cql::detail {

// Traits: `using item = ...;` (cheap to move) and `static void dispose(item&&) noexcept`
// (frees an item nobody will reuse).
template <class Traits, std::size_t Max = 1024>
class thread_cache {
  public:
    using item = typename Traits::item;
    static constexpr std::size_t batch = Max / 2;
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
        if (l->items.size() >= Max) l->spill();
        l->items.push_back(std::move(x));  // (capacity reserved: no allocation)
        return true;
    }

  private:
    struct depot {
        std::mutex mutex;
        std::vector<std::vector<item>> batches;
        depot() { batches.reserve(max_batches); }
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
        bool refill() noexcept {
            std::vector<item> b;
            {
                auto& d = depot::get();
                std::lock_guard lk(d.mutex);
                if (d.batches.empty()) return false;
                b = std::move(d.batches.back());
                d.batches.pop_back();
            }
            for (auto& x : b)
                items.push_back(std::move(x));
            return true;
        }
        // Moves the newest half of the items to the depot (or disposes of them when it is
        // full or a batch cannot be allocated).
        void spill() noexcept {
            const auto keep = static_cast<std::ptrdiff_t>(items.size() - batch);
            std::vector<item> b;
            try {
                b.reserve(batch);
            } catch (...) {
            }
            if (b.capacity() < batch) {
                for (auto it = items.begin() + keep; it != items.end(); ++it)
                    Traits::dispose(std::move(*it));
                items.erase(items.begin() + keep, items.end());
                return;
            }
            for (auto it = items.begin() + keep; it != items.end(); ++it)
                b.push_back(std::move(*it));
            items.erase(items.begin() + keep, items.end());
            {
                auto& d = depot::get();
                std::lock_guard lk(d.mutex);
                if (d.batches.size() < max_batches) {
                    d.batches.push_back(std::move(b));  // (capacity reserved: no allocation)
                    return;
                }
            }
            dispose_all(b);
        }
    };

    static void dispose_all(std::vector<item>& v) noexcept {
        for (auto& x : v)
            Traits::dispose(std::move(x));
        v.clear();
    }
};

}  // namespace cql::detail
/// \endcond
