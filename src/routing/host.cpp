#include "cql/host.hpp"

#include <arpa/inet.h>

#include <cmath>

namespace cql {

std::string host_endpoint::to_string() const {
    std::string out;
    const bool v6 = address.find(':') != std::string::npos;
    if (v6) out += '[';
    out += address;
    if (v6) out += ']';
    out += ':';
    out += std::to_string(port);
    return out;
}

host_endpoint host_endpoint::from_inet(const protocol::inet_address& a, std::uint16_t port) {
    host_endpoint ep;
    ep.port = port;
    char text[INET6_ADDRSTRLEN] = {};
    if (a.size == 4) {
        if (::inet_ntop(AF_INET, a.bytes.data(), text, sizeof text)) ep.address = text;
    } else if (a.size == 16) {
        if (::inet_ntop(AF_INET6, a.bytes.data(), text, sizeof text)) ep.address = text;
    }
    return ep;
}

void latency_tracker::record(std::chrono::nanoseconds latency, clock::time_point now) noexcept {
    const std::int64_t sample = latency.count() < 0 ? 0 : latency.count();
    const std::int64_t now_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    const std::uint64_t n = samples_.load(std::memory_order_relaxed);
    if (n == 0) {
        average_ns_.store(sample, std::memory_order_relaxed);
    } else {
        const std::int64_t last = last_ns_.load(std::memory_order_relaxed);
        const std::int64_t prev = average_ns_.load(std::memory_order_relaxed);
        const double delay = now_ns > last ? static_cast<double>(now_ns - last) : 0.0;
        const double w = std::exp(-delay / static_cast<double>(scale_ns_));
        const double avg = w * static_cast<double>(prev) + (1.0 - w) * static_cast<double>(sample);
        average_ns_.store(static_cast<std::int64_t>(avg), std::memory_order_relaxed);
    }
    last_ns_.store(now_ns, std::memory_order_relaxed);
    samples_.fetch_add(1, std::memory_order_release);
}

latency_tracker::snapshot latency_tracker::get() const noexcept {
    snapshot s;
    s.samples = samples_.load(std::memory_order_acquire);
    s.average = std::chrono::nanoseconds(average_ns_.load(std::memory_order_relaxed));
    s.last_update = clock::time_point(std::chrono::duration_cast<clock::duration>(
        std::chrono::nanoseconds(last_ns_.load(std::memory_order_relaxed))));
    return s;
}

void latency_tracker::reset() noexcept {
    samples_.store(0, std::memory_order_relaxed);
    average_ns_.store(0, std::memory_order_relaxed);
    last_ns_.store(0, std::memory_order_relaxed);
}

}  // namespace cql
