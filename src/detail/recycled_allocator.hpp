#pragma once
// Recycling of the blocks of per-request objects (request specs' control blocks, posted
// completion handlers, completions): no heap allocation in steady state, also when they
// are made on one thread and freed on another (see thread_cache.hpp).

#include <cstddef>
#include <memory>
#include <new>
#include <utility>

#include "detail/thread_cache.hpp"

namespace cql::detail {

// Blocks of one size and alignment.
template <std::size_t Size, std::size_t Align>
struct block_traits {
    using item = void*;
    static void* allocate() { return ::operator new(Size, std::align_val_t(Align)); }
    static void dispose(void*&& p) noexcept { ::operator delete(p, Size, std::align_val_t(Align)); }
};

template <class Traits>
void* take_block() {
    void* p = nullptr;
    if (thread_cache<Traits>::pop(p)) return p;
    return Traits::allocate();
}
template <class Traits>
void give_block(void* p) noexcept {
    if (!thread_cache<Traits>::push(std::move(p))) Traits::dispose(std::move(p));
}

// An allocator of single objects whose blocks are recycled; arrays go to the heap.
template <class T>
struct recycled_allocator {
    using value_type = T;
    recycled_allocator() = default;
    template <class U>
    recycled_allocator(const recycled_allocator<U>&) noexcept {}
    T* allocate(std::size_t n) {
        using traits = block_traits<sizeof(T), alignof(T)>;
        if (n == 1) return static_cast<T*>(take_block<traits>());
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept {
        using traits = block_traits<sizeof(T), alignof(T)>;
        if (n == 1)
            give_block<traits>(p);
        else
            std::allocator<T>().deallocate(p, n);
    }
    template <class U>
    bool operator==(const recycled_allocator<U>&) const noexcept {
        return true;
    }
};

// Blocks of up to 512 bytes by size class (64-byte steps), recycled: for objects of varying
// sizes allocated and freed once per request (completion wrappers).
struct size_class_blocks {
    static constexpr std::size_t step = 64;
    static constexpr std::size_t classes = 8;
    template <std::size_t Class>
    using traits = block_traits<(Class + 1) * step, __STDCPP_DEFAULT_NEW_ALIGNMENT__>;

    static void* allocate(std::size_t n) {
        if (n == 0 || n > classes * step) return ::operator new(n);
        return by_class(n, []<class Traits>(Traits*) { return take_block<Traits>(); });
    }
    static void deallocate(void* p, std::size_t n) noexcept {
        if (n == 0 || n > classes * step) {
            ::operator delete(p, n);
            return;
        }
        by_class(n, [p]<class Traits>(Traits*) noexcept {
            give_block<Traits>(p);
            return nullptr;
        });
    }

  private:
    // f(static_cast<traits<C>*>(nullptr)) for the class C of size n.
    template <class F>
    static void* by_class(std::size_t n, F f) {
        const auto c = (n - 1) / step;
        return [&]<std::size_t... C>(std::index_sequence<C...>) {
            void* r = nullptr;
            (void)((c == C ? (r = f(static_cast<traits<C>*>(nullptr)), true) : false) || ...);
            return r;
        }
        (std::make_index_sequence<classes>{});
    }
};

}  // namespace cql::detail
