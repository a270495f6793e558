// The shard's deadline heap against a plain model: random schedules, reschedules and
// cancellations, then expiry in time order, and entries that reschedule or cancel others
// while they expire.
#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include "detail/timer_queue.hpp"

namespace {

using cql::detail::clock;
using cql::detail::timer_entry;
using cql::detail::timer_queue;

clock::time_point at(std::int64_t ms) {
    return clock::time_point(std::chrono::milliseconds(ms));
}

struct entry final : timer_entry {
    int id = 0;
    std::vector<int>* fired = nullptr;
    std::function<void()> also;  // run when it fires
    void on_timer(clock::time_point) override {
        fired->push_back(id);
        if (also) also();
    }
};

}  // namespace

TEST_CASE("timer_queue: expires in time order whatever was scheduled, moved and cancelled") {
    std::mt19937 rng(7);
    for (int round = 0; round < 50; ++round) {
        std::vector<int> fired;
        std::vector<entry> entries(200);
        timer_queue q;
        std::map<int, std::int64_t> model;  // id -> due time, for the scheduled ones
        for (int i = 0; i < 200; ++i) {
            entries[i].id = i;
            entries[i].fired = &fired;
        }
        for (int step = 0; step < 600; ++step) {
            const int i = static_cast<int>(rng() % entries.size());
            // Distinct times (ms * 1000 + id): the expiry order is then exactly defined.
            const std::int64_t due = static_cast<std::int64_t>(rng() % 1000) * 1000 + i;
            if (rng() % 4 == 0) {
                q.cancel(entries[i]);
                model.erase(i);
            } else {
                q.schedule(entries[i], at(due));
                model[i] = due;
            }
            REQUIRE(q.size() == model.size());
            REQUIRE(entries[i].scheduled() == model.count(i) > 0);
        }
        std::multimap<std::int64_t, int> by_time;
        for (const auto& [id, due] : model)
            by_time.emplace(due, id);
        if (!by_time.empty()) {
            REQUIRE(q.earliest() == at(by_time.begin()->first));
        }
        // Half of them are due at the middle of the range; then the rest.
        const std::int64_t middle = 500 * 1000;
        q.expire(at(middle));
        std::vector<int> expected;
        for (const auto& [due, id] : by_time)
            if (due <= middle) expected.push_back(id);
        REQUIRE(fired == expected);
        q.expire(at(2000 * 1000));
        expected.clear();
        for (const auto& [due, id] : by_time)
            expected.push_back(id);
        REQUIRE(fired == expected);
        REQUIRE(q.empty());
        REQUIRE(q.earliest() == clock::time_point::max());
        for (const auto& e : entries)
            REQUIRE_FALSE(e.scheduled());
    }
}

TEST_CASE("timer_queue: an expiring entry may cancel, move or schedule entries, itself too") {
    std::vector<int> fired;
    entry a, b, c, d;
    for (auto* e : {&a, &b, &c, &d})
        e->fired = &fired;
    a.id = 1;
    b.id = 2;
    c.id = 3;
    d.id = 4;
    timer_queue q;
    q.schedule(a, at(10));
    q.schedule(b, at(20));
    q.schedule(c, at(30));
    a.also = [&] {
        q.cancel(b);             // not fired
        q.schedule(c, at(15));   // moved earlier, still due
        q.schedule(a, at(100));  // itself again, later
        q.schedule(d, at(5));    // a new one, already due
    };
    q.expire(at(40));
    CHECK(fired == std::vector<int>{1, 4, 3});
    CHECK(q.size() == 1);
    CHECK(q.earliest() == at(100));
    CHECK(a.scheduled());
}
