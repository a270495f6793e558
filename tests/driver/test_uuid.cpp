// UUID generators: versions, variant, ordering, embedded times, text form.
#include <catch2/catch.hpp>

#include <set>

#include "cql/uuid.hpp"

using namespace std::chrono;

namespace {
bool rfc_variant(const cql::uuid& u) {
    return (u[8] & 0xC0) == 0x80;
}
}  // namespace

TEST_CASE("uuid v4: version 4, RFC variant, distinct") {
    std::set<cql::uuid> seen;
    for (int i = 0; i < 1000; ++i) {
        auto u = cql::uuid_v4();
        CHECK(cql::uuid_version(u) == 4);
        CHECK(rfc_variant(u));
        seen.insert(u);
    }
    CHECK(seen.size() == 1000);
}

TEST_CASE("timeuuid (v1): version 1, strictly increasing time, time round trip") {
    auto before = system_clock::now();
    cql::uuid prev = cql::timeuuid_now();
    auto prev_t = cql::uuid_time(prev);
    CHECK(cql::uuid_version(prev) == 1);
    CHECK(rfc_variant(prev));
    CHECK(prev_t >= before - microseconds(1));
    for (int i = 0; i < 1000; ++i) {
        auto u = cql::timeuuid_now();
        CHECK(cql::uuid_version(u) == 1);
        CHECK(cql::uuid_time(u) > prev_t);  // 100 ns ticks, a tick more when the clock stood
        prev_t = cql::uuid_time(u);
    }
    auto t = sys_days{2024y / 3 / 15} + 12h + 34min + 56s + 789ms + 100us;
    auto at = cql::timeuuid_at(t);
    CHECK(cql::uuid_time(at) == t);
    auto old = sys_days{1900y / 1 / 1};
    CHECK(cql::uuid_time(cql::timeuuid_at(old)) == old);
}

TEST_CASE("uuid v7: version 7, Unix ms prefix, sortable") {
    auto before = time_point_cast<milliseconds>(system_clock::now());
    cql::uuid prev = cql::uuid_v7();
    for (int i = 0; i < 5000; ++i) {
        auto u = cql::uuid_v7();
        CHECK(cql::uuid_version(u) == 7);
        CHECK(rfc_variant(u));
        CHECK(prev < u);  // byte order is time order
        prev = u;
    }
    CHECK(cql::uuid_time(prev) >= before);
    CHECK(cql::uuid_time(prev) <= system_clock::now() + seconds(5));
}

TEST_CASE("uuid text form") {
    cql::uuid u{};
    REQUIRE(cql::parse_uuid("123e4567-E89B-12d3-a456-426614174000", u));
    CHECK(cql::to_string(u) == "123e4567-e89b-12d3-a456-426614174000");
    CHECK(cql::uuid_version(u) == 1);
    CHECK_FALSE(cql::parse_uuid("123e4567e89b-12d3-a456-426614174000-", u));
    CHECK_FALSE(cql::parse_uuid("123e4567-e89b-12d3-a456-42661417400g", u));
    CHECK_FALSE(cql::parse_uuid("", u));
}
