// Replaced global operator new/delete for cqlbench: every allocation of the process (all
// threads: the tool's, the driver's io threads) is counted while counting is on, and the
// live heap bytes are tracked (malloc_usable_size) all the time, for the idle-connection
// measurement. cqlsim runs in another process and is not counted.
#include "alloc_counter.hpp"

#include <malloc.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace cqlbench {
namespace {
std::atomic<bool> g_counting{false};
std::atomic<std::uint64_t> g_allocs{0};
std::atomic<std::uint64_t> g_alloc_bytes{0};
std::atomic<std::int64_t> g_live_bytes{0};

void* allocate(std::size_t n, std::size_t align = 0) noexcept {
    if (n == 0) n = 1;
    void* p = nullptr;
    if (align > alignof(std::max_align_t)) {
        if (posix_memalign(&p, align, n) != 0) p = nullptr;
    } else {
        p = std::malloc(n);
    }
    if (!p) return nullptr;
    g_live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p)),
                           std::memory_order_relaxed);
    if (g_counting.load(std::memory_order_relaxed)) {
        g_allocs.fetch_add(1, std::memory_order_relaxed);
        g_alloc_bytes.fetch_add(n, std::memory_order_relaxed);
    }
    return p;
}
void* allocate_or_throw(std::size_t n, std::size_t align = 0) {
    void* p = allocate(n, align);
    if (!p) throw std::bad_alloc();
    return p;
}
void release(void* p) noexcept {
    if (!p) return;
    g_live_bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)),
                           std::memory_order_relaxed);
    std::free(p);
}
}  // namespace

void start_counting() noexcept {
    g_allocs.store(0);
    g_alloc_bytes.store(0);
    g_counting.store(true);
}
void stop_counting() noexcept {
    g_counting.store(false);
}
std::uint64_t allocations() noexcept {
    return g_allocs.load();
}
std::uint64_t allocated_bytes() noexcept {
    return g_alloc_bytes.load();
}
std::int64_t live_heap_bytes() noexcept {
    return g_live_bytes.load();
}

}  // namespace cqlbench

void* operator new(std::size_t n) {
    return cqlbench::allocate_or_throw(n);
}
void* operator new[](std::size_t n) {
    return cqlbench::allocate_or_throw(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    return cqlbench::allocate(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return cqlbench::allocate(n);
}
void* operator new(std::size_t n, std::align_val_t a) {
    return cqlbench::allocate_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return cqlbench::allocate_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return cqlbench::allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return cqlbench::allocate(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept {
    cqlbench::release(p);
}
void operator delete[](void* p) noexcept {
    cqlbench::release(p);
}
void operator delete(void* p, std::size_t) noexcept {
    cqlbench::release(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    cqlbench::release(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    cqlbench::release(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    cqlbench::release(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    cqlbench::release(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    cqlbench::release(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    cqlbench::release(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    cqlbench::release(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    cqlbench::release(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    cqlbench::release(p);
}
