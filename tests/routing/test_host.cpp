#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>

#include "cql/host.hpp"

using namespace cql;
using namespace std::chrono_literals;

TEST_CASE("host endpoints", "[host]") {
    host_endpoint v4{"10.0.0.1", 9042};
    CHECK(v4.to_string() == "10.0.0.1:9042");
    host_endpoint v6{"::1", 9142};
    CHECK(v6.to_string() == "[::1]:9142");

    protocol::inet_address a;
    a.size = 4;
    a.bytes[0] = 127;
    a.bytes[1] = 0;
    a.bytes[2] = 0;
    a.bytes[3] = 2;
    CHECK(host_endpoint::from_inet(a, 9042) == host_endpoint{"127.0.0.2", 9042});
    protocol::inet_address b;
    b.size = 16;
    b.bytes[0] = 0x20;
    b.bytes[1] = 0x01;
    b.bytes[2] = 0x0d;
    b.bytes[3] = 0xb8;
    b.bytes[15] = 1;
    CHECK(host_endpoint::from_inet(b, 19042).address == "2001:db8::1");
    protocol::inet_address bad;
    bad.size = 5;
    CHECK(host_endpoint::from_inet(bad, 1).address.empty());
}

TEST_CASE("host state", "[host]") {
    host_info info;
    info.endpoint = {"10.0.0.1", 9042};
    info.datacenter = "dc1";
    info.rack = "rack1";
    info.tokens = {-5, 7};
    info.release_version = "4.0.11";
    info.host_id[0] = 0xAB;
    auto h = make_host(info);
    CHECK(h->address() == "10.0.0.1");
    CHECK(h->port() == 9042);
    CHECK(h->datacenter() == "dc1");
    CHECK(h->rack() == "rack1");
    CHECK(h->tokens() == std::vector<token>{-5, 7});
    CHECK(h->release_version() == "4.0.11");
    CHECK(h->host_id()[0] == 0xAB);
    CHECK(h->is_up());
    h->set_up(false);
    CHECK_FALSE(h->is_up());
}

TEST_CASE("latency tracker: time-decayed average", "[host]") {
    latency_tracker t(100ms);
    CHECK(t.get().samples == 0);
    auto t0 = std::chrono::steady_clock::time_point(10s);
    t.record(10ms, t0);
    CHECK(t.get().samples == 1);
    CHECK(t.get().average == 10ms);
    CHECK(t.get().last_update == t0);
    // Same instant: the previous average keeps all its weight.
    t.record(50ms, t0);
    CHECK(t.get().average == 10ms);
    // One scale later: weight exp(-1) for the old average.
    t.record(20ms, t0 + 100ms);
    auto expected = 10e6 * std::exp(-1.0) + 20e6 * (1 - std::exp(-1.0));
    CHECK(static_cast<double>(t.get().average.count()) == Approx(expected).margin(2));
    // Long after: the new sample dominates.
    t.record(1ms, t0 + 100s);
    CHECK(t.get().average.count() == Approx(1e6).margin(2));
    CHECK(t.get().samples == 4);
    t.reset();
    CHECK(t.get().samples == 0);
}
