// detail::thread_cache: per-thread stacks of reusable items balanced through a depot, so
// that items dropped on one thread are reused by another.
#include <catch2/catch.hpp>

#include <set>
#include <thread>
#include <vector>

#include "cql/detail/thread_cache.hpp"

namespace {

int disposed = 0;  // (each test's items are ints from a range of its own)

struct int_traits {
    using item = int;
    static void dispose(int&&) noexcept { ++disposed; }
};
using cache = cql::detail::thread_cache<int_traits, 8>;  // batches of 8, depot of 16 batches

}  // namespace

TEST_CASE("items dropped on one thread are reused by another, through the depot") {
    disposed = 0;
    // A producer thread keeps 8 items and hands each full stack of 8 to the depot.
    std::thread([] {
        for (int i = 0; i < 16; ++i)
            REQUIRE(cache::push(1000 + i));
    }).join();
    // The producer's own 8 items were disposed of when it ended; 8 went to the depot.
    CHECK(disposed == 8);

    std::set<int> got;
    int x = 0;
    while (cache::pop(x))
        got.insert(x);
    CHECK(got.size() == 8);
    for (int v : got) {
        CHECK(v >= 1000);
        CHECK(v < 1016);
    }
    CHECK_FALSE(cache::pop(x));  // nothing left anywhere
}

TEST_CASE("a full depot refuses what it cannot keep; nothing is lost or kept twice") {
    disposed = 0;
    constexpr int n = 8 + 16 * 8 + 40;  // the thread's stack, the depot, and 40 more
    int refused = 0;
    std::thread([&] {
        for (int i = 0; i < n; ++i)
            if (!cache::push(2000 + i)) ++refused;  // (the caller disposes of those)
    }).join();
    CHECK(refused == 40);
    std::set<int> got;
    int x = 0;
    while (cache::pop(x))
        REQUIRE(got.insert(x).second);  // never the same item twice
    CHECK(got.size() == 16 * 8);
    // Every item is reused, refused, or disposed of (the thread's 8 at its end).
    CHECK(static_cast<int>(got.size()) + disposed + refused == n);
}

TEST_CASE("on one thread, the newest items come back first") {
    disposed = 0;
    REQUIRE(cache::push(3001));
    REQUIRE(cache::push(3002));
    int x = 0;
    REQUIRE(cache::pop(x));
    CHECK(x == 3002);
    REQUIRE(cache::pop(x));
    CHECK(x == 3001);
    CHECK(disposed == 0);
}
