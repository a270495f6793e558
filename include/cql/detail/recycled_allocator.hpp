#pragma once
// Per-thread recycling of the blocks of per-request objects (request specs' control blocks,
// posted completion handlers): no heap allocation in steady state.

#include <cstddef>
#include <memory>
#include <new>
#include <vector>

/// \cond internal
namespace cql::detail {

// An allocator of single objects whose blocks are recycled per thread (a bounded free list
// per size and alignment); arrays and excess blocks go to the heap.
template <std::size_t Size, std::size_t Align>
struct block_free_list {
    static constexpr std::size_t max_blocks = 1024;
    std::vector<void*> blocks;
    block_free_list() { blocks.reserve(max_blocks); }
    ~block_free_list() {
        gone() = true;
        for (auto* b : blocks)
            ::operator delete(b, Size, std::align_val_t(Align));
    }
    static bool& gone() noexcept {
        thread_local bool g = false;
        return g;
    }
    static block_free_list* get() noexcept {
        if (gone()) return nullptr;
        thread_local block_free_list l;
        return &l;
    }
};

template <class T>
struct recycled_allocator {
    using value_type = T;
    recycled_allocator() = default;
    template <class U>
    recycled_allocator(const recycled_allocator<U>&) noexcept {}
    T* allocate(std::size_t n) {
        using list = block_free_list<sizeof(T), alignof(T)>;
        if (n == 1) {
            auto* l = list::get();
            if (l && !l->blocks.empty()) {
                void* p = l->blocks.back();
                l->blocks.pop_back();
                return static_cast<T*>(p);
            }
            return static_cast<T*>(::operator new(sizeof(T), std::align_val_t(alignof(T))));
        }
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept {
        using list = block_free_list<sizeof(T), alignof(T)>;
        if (n == 1) {
            auto* l = list::get();
            if (l && l->blocks.size() < list::max_blocks)
                l->blocks.push_back(p);  // (capacity reserved: no allocation)
            else
                ::operator delete(p, sizeof(T), std::align_val_t(alignof(T)));
            return;
        }
        std::allocator<T>().deallocate(p, n);
    }
    template <class U>
    bool operator==(const recycled_allocator<U>&) const noexcept {
        return true;
    }
};

// Blocks of up to 512 bytes by size class (64-byte steps), recycled per thread: for
// objects of varying sizes allocated and freed once per request (completion wrappers).
struct size_class_blocks {
    static constexpr std::size_t step = 64;
    static constexpr std::size_t classes = 8;
    static constexpr std::size_t max_blocks = 1024;  // per class
    std::vector<void*> lists[classes];
    size_class_blocks() {
        for (auto& l : lists)
            l.reserve(max_blocks);
    }
    ~size_class_blocks() {
        gone() = true;
        for (std::size_t c = 0; c < classes; ++c)
            for (auto* b : lists[c])
                ::operator delete(b, (c + 1) * step);
    }
    static bool& gone() noexcept {
        thread_local bool g = false;
        return g;
    }
    static size_class_blocks* get() noexcept {
        if (gone()) return nullptr;
        thread_local size_class_blocks b;
        return &b;
    }
    static void* allocate(std::size_t n) {
        if (n == 0 || n > classes * step) return ::operator new(n);
        const auto c = (n - 1) / step;
        if (auto* b = get(); b && !b->lists[c].empty()) {
            void* p = b->lists[c].back();
            b->lists[c].pop_back();
            return p;
        }
        return ::operator new((c + 1) * step);
    }
    static void deallocate(void* p, std::size_t n) noexcept {
        if (n == 0 || n > classes * step) {
            ::operator delete(p, n);
            return;
        }
        const auto c = (n - 1) / step;
        auto* b = get();
        if (b && b->lists[c].size() < max_blocks)
            b->lists[c].push_back(p);  // (capacity reserved: no allocation)
        else
            ::operator delete(p, (c + 1) * step);
    }
};

}  // namespace cql::detail
/// \endcond
