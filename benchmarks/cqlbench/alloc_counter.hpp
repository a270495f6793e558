#pragma once
// Heap accounting of the cqlbench process (see alloc_counter.cpp).

#include <cstdint>

namespace cqlbench {

// Counting of operator new calls (all threads) between start and stop.
void start_counting() noexcept;
void stop_counting() noexcept;
std::uint64_t allocations() noexcept;
std::uint64_t allocated_bytes() noexcept;
// Bytes currently allocated through operator new (usable sizes), always tracked.
std::int64_t live_heap_bytes() noexcept;

}  // namespace cqlbench
