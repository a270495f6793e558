#include <catch2/catch.hpp>

#include <chrono>

#include "cql/policies/speculative_execution.hpp"

using namespace cql;
using namespace std::chrono_literals;

TEST_CASE("no speculative execution", "[speculative]") {
    no_speculative_execution_policy none;
    CHECK_FALSE(none.next_delay("ks", 1).has_value());
    speculative_schedule s(&none, true);
    CHECK_FALSE(s.next().has_value());
    CHECK(s.executions() == 1);
    speculative_schedule empty;
    CHECK_FALSE(empty.next().has_value());
}

TEST_CASE("constant delay up to max executions", "[speculative]") {
    constant_speculative_execution_policy p(100ms, 3);
    CHECK(p.next_delay("ks", 1) == 100ms);
    CHECK(p.next_delay("ks", 2) == 100ms);
    CHECK_FALSE(p.next_delay("ks", 3).has_value());

    speculative_schedule s(&p, true, "ks");
    CHECK(s.executions() == 1);
    CHECK(s.next() == 100ms);
    CHECK(s.executions() == 2);
    CHECK(s.next() == 100ms);
    CHECK(s.executions() == 3);
    CHECK_FALSE(s.next().has_value());
    CHECK_FALSE(s.next().has_value());
    CHECK(s.executions() == 3);

    // max 1 (or less): only the initial execution.
    constant_speculative_execution_policy one(10ms, 1);
    speculative_schedule s1(&one, true);
    CHECK_FALSE(s1.next().has_value());
    constant_speculative_execution_policy neg(-5ms, 2);
    CHECK(neg.delay() == 0ms);
}

TEST_CASE("no speculative execution for non-idempotent requests", "[speculative]") {
    constant_speculative_execution_policy p(100ms, 5);
    speculative_schedule s(&p, false, "ks");
    CHECK_FALSE(s.next().has_value());
    CHECK(s.executions() == 1);
    speculative_schedule n(nullptr, true);
    CHECK_FALSE(n.next().has_value());
}
