#include <catch2/catch.hpp>

#include <chrono>
#include <memory>

#include "cql/execution_profile.hpp"

using namespace cql;
using namespace std::chrono_literals;
using protocol::consistency;

TEST_CASE("the default profile", "[profile]") {
    execution_profiles profiles;
    const auto& d = profiles.default_profile();
    CHECK(d.consistency == consistency::local_one);
    CHECK(d.serial_consistency == consistency::serial);
    CHECK(d.request_timeout == 12s);
    CHECK(d.page_size == 5000);
    CHECK_FALSE(d.default_idempotence);
    REQUIRE(d.load_balancing);
    CHECK(dynamic_cast<token_aware_policy*>(d.load_balancing.get()) != nullptr);
    CHECK(dynamic_cast<default_retry_policy*>(d.retry.get()) != nullptr);
    CHECK(dynamic_cast<no_speculative_execution_policy*>(d.speculative_execution.get()) != nullptr);
    CHECK(profiles.find("") == &d);
    CHECK(profiles.find("default") == &d);
    CHECK(profiles.find("other") == nullptr);
    CHECK(&profiles.get("other") == &d);
    CHECK(profiles.names() == std::vector<std::string>{"default"});
    CHECK(profiles.load_balancing_policies().size() == 1);
}

TEST_CASE("named profiles inherit missing policies from the default", "[profile]") {
    execution_profiles profiles;
    execution_profile analytics;
    analytics.consistency = consistency::one;
    analytics.request_timeout = 60s;
    analytics.page_size = 100;
    analytics.default_idempotence = true;
    analytics.speculative_execution =
        std::make_shared<constant_speculative_execution_policy>(50ms, 2);
    profiles.add("analytics", analytics);

    execution_profile batch = profiles.default_profile();
    batch.retry = std::make_shared<fallthrough_retry_policy>();
    batch.load_balancing = make_default_load_balancing({.dc = {.local_dc = "dc2"}});
    profiles.add("batch", batch);

    const execution_profile* a = profiles.find("analytics");
    REQUIRE(a != nullptr);
    CHECK(a->consistency == consistency::one);
    CHECK(a->request_timeout == 60s);
    CHECK(a->page_size == 100);
    CHECK(a->default_idempotence);
    CHECK(a->load_balancing == profiles.default_profile().load_balancing);
    CHECK(a->retry == profiles.default_profile().retry);
    CHECK(dynamic_cast<constant_speculative_execution_policy*>(a->speculative_execution.get()) !=
          nullptr);

    const execution_profile& b = profiles.get("batch");
    CHECK(dynamic_cast<fallthrough_retry_policy*>(b.retry.get()) != nullptr);
    CHECK(b.load_balancing != profiles.default_profile().load_balancing);

    CHECK(profiles.names() == std::vector<std::string>{"default", "analytics", "batch"});
    CHECK(profiles.load_balancing_policies().size() == 2);

    // Replacing a profile.
    execution_profile a2;
    a2.consistency = consistency::all;
    profiles.add("analytics", a2);
    CHECK(profiles.get("analytics").consistency == consistency::all);
    CHECK(profiles.names().size() == 3);
}

TEST_CASE("replacing the default profile", "[profile]") {
    execution_profile d;
    d.consistency = consistency::local_quorum;
    execution_profiles profiles(d);
    CHECK(profiles.default_profile().consistency == consistency::local_quorum);
    CHECK(profiles.default_profile().retry != nullptr);
    CHECK(profiles.default_profile().load_balancing != nullptr);
    CHECK(profiles.default_profile().speculative_execution != nullptr);
    execution_profile d2;
    d2.page_size = 10;
    profiles.add("default", d2);
    CHECK(profiles.default_profile().page_size == 10);
    CHECK(profiles.default_profile().retry != nullptr);
}
