#pragma once
// Counts heap allocations: replaces the global operator new/delete of the test program that
// includes this header (include it in exactly one source file of a program). Tests read
// `counting_new::allocations` before and after the code that must not allocate, and
// `counting_new::bytes` (the sum of the sizes asked for) around code whose memory must stay
// bounded.
#include <atomic>
#include <cstdlib>
#include <new>

namespace counting_new {
inline std::atomic<long> allocations{0};
inline std::atomic<unsigned long long> bytes{0};

[[gnu::noinline]] inline void* counted_alloc(std::size_t n) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    bytes.fetch_add(n, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
[[gnu::noinline]] inline void counted_free(void* p) noexcept {
    std::free(p);
}
}  // namespace counting_new

// Every replaceable (non-aligned) form, so that sanitizers see matching pairs.
void* operator new(std::size_t n) {
    if (void* p = counting_new::counted_alloc(n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    if (void* p = counting_new::counted_alloc(n)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    return counting_new::counted_alloc(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return counting_new::counted_alloc(n);
}
void operator delete(void* p) noexcept {
    counting_new::counted_free(p);
}
void operator delete[](void* p) noexcept {
    counting_new::counted_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    counting_new::counted_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    counting_new::counted_free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    counting_new::counted_free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    counting_new::counted_free(p);
}
