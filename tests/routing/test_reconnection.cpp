#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

#include "cql/policies/reconnection.hpp"

using namespace cql;
using namespace std::chrono_literals;

TEST_CASE("constant reconnection", "[reconnection]") {
    constant_reconnection_policy p(2s);
    auto s = p.new_schedule();
    for (int i = 0; i < 5; ++i)
        CHECK(s->next_delay() == 2000ms);
}

TEST_CASE("exponential ceilings double up to the maximum", "[reconnection]") {
    exponential_reconnection_policy p(100ms, 1s, [] { return std::uint64_t{0}; });
    CHECK(p.ceiling(0) == 100ms);
    CHECK(p.ceiling(1) == 200ms);
    CHECK(p.ceiling(2) == 400ms);
    CHECK(p.ceiling(3) == 800ms);
    CHECK(p.ceiling(4) == 1000ms);
    CHECK(p.ceiling(1000) == 1000ms);
    exponential_reconnection_policy huge(1ms, std::chrono::milliseconds::max(),
                                         [] { return std::uint64_t{0}; });
    CHECK(huge.ceiling(62) == std::chrono::milliseconds(std::int64_t{1} << 62));
    CHECK(huge.ceiling(70) == std::chrono::milliseconds::max());
    // max below base: base.
    exponential_reconnection_policy odd(500ms, 100ms);
    CHECK(odd.max() == 500ms);
    CHECK(odd.ceiling(3) == 500ms);
}

TEST_CASE("exponential with full jitter uses the random source", "[reconnection]") {
    // Delay n = random % (ceiling_n + 1).
    std::vector<std::uint64_t> values{0, 150, 1000, 12345,
                                      std::numeric_limits<std::uint64_t>::max()};
    std::size_t i = 0;
    exponential_reconnection_policy p(100ms, 1s, [&] { return values[i++ % values.size()]; });
    auto s = p.new_schedule();
    CHECK(s->next_delay() == 0ms);    // 0 % 101
    CHECK(s->next_delay() == 150ms);  // 150 % 201
    CHECK(s->next_delay() == 198ms);  // 1000 % 401
    CHECK(s->next_delay() == 330ms);  // 12345 % 801
    CHECK(s->next_delay() == std::chrono::milliseconds(std::numeric_limits<std::uint64_t>::max() %
                                                       1001));  // ceiling 1000
    // A new schedule starts over.
    i = 1;
    auto s2 = p.new_schedule();
    CHECK(s2->next_delay() == 49ms);  // 150 % 101
}

TEST_CASE("exponential with the default random source stays in bounds", "[reconnection]") {
    exponential_reconnection_policy p(10ms, 200ms);
    auto s = p.new_schedule();
    for (std::uint32_t n = 0; n < 50; ++n) {
        auto d = s->next_delay();
        CHECK(d >= 0ms);
        CHECK(d <= p.ceiling(n));
    }
}
